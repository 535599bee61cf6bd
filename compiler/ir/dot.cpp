#include "compiler/ir/dot.h"

#include <fmt/format.h>

#include <string_view>
#include <vector>

namespace nnc::ir {

namespace {

/// `text` for a dot string literal: `"` and `\` escaped, newlines as `\n`.
std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

std::string quote(std::string_view text) {
  return "\"" + escape(text) + "\"";
}

/// A label of several lines, joined by dot's `\n` (a centred line break).
std::string label(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines)
    out += (out.empty() ? "" : "\\n") + escape(line);
  return "\"" + out + "\"";
}

std::string valueId(ValueId id) {
  return quote(fmt::format("v{}", id));
}

std::string nodeLine(const Graph& graph, const Node& node) {
  const Value& value = graph.value(node.result);
  return fmt::format("{} [shape=box, label={}];", valueId(node.result),
                     label({std::string(node.info().name), "%" + value.name, value.type.str()}));
}

} // namespace

std::string toDot(const Graph& graph) {
  std::string out = fmt::format("digraph {} {{\n  rankdir=TB;\n", quote(graph.name()));
  for (ValueId id : graph.inputs()) {
    const Value& value = graph.value(id);
    out += fmt::format("  {} [shape=ellipse, label={}];\n", valueId(id),
                       label({"input " + value.name, value.type.str()}));
  }

  // Each node is declared once: inside the first kernel that lists it, else at the top level.
  std::vector<bool> declared(graph.nodes().size(), false);
  const std::vector<FusedKernel>& kernels = graph.fusedKernels();
  for (size_t i = 0; i < kernels.size(); ++i) {
    const FusedKernel& kernel = kernels[i];
    std::string name = fmt::format("k{}", i);
    if (kernel.epilogue && !kernel.nodes.empty())
      name += fmt::format(": epilogue of {}", graph.node(kernel.nodes.front()).info().name);
    out += fmt::format("  subgraph {} {{\n", quote(fmt::format("cluster_k{}", i)));
    out += fmt::format("    label={};\n    style=\"filled\";\n    fillcolor=\"#eef5ff\";\n",
                       quote(name));
    for (NodeId id : kernel.nodes) {
      if (declared.at(id))
        continue;
      declared[id] = true;
      out += "    " + nodeLine(graph, graph.node(id)) + "\n";
    }
    out += "  }\n";
  }
  for (NodeId id = 0; id < graph.nodes().size(); ++id)
    if (!declared[id])
      out += "  " + nodeLine(graph, graph.node(id)) + "\n";

  for (const Node& node : graph.nodes())
    for (ValueId operand : node.operands)
      out += fmt::format("  {} -> {};\n", valueId(operand), valueId(node.result));

  const std::vector<Output>& outputs = graph.outputs();
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string id = quote(fmt::format("out{}", i));
    out += fmt::format("  {} [shape=doubleoctagon, label={}];\n", id,
                       label({"output " + outputs[i].name}));
    out += fmt::format("  {} -> {};\n", valueId(outputs[i].value), id);
  }
  return out + "}\n";
}

} // namespace nnc::ir
