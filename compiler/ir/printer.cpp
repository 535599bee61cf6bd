#include "compiler/ir/printer.h"

#include <fmt/format.h>

namespace nnc::ir {

namespace {

std::string printNode(const Graph& graph, const Node& node) {
  const OpInfo& op = node.info();
  std::vector<std::string> operands;
  for (ValueId id : node.operands)
    operands.push_back("%" + graph.value(id).name);
  std::string line = fmt::format("%{} = {}({})", graph.value(node.result).name, op.name,
                                 fmt::join(operands, ", "));
  std::vector<const ArgSpec*> specs = op.attrSpecs();
  if (!specs.empty()) {
    std::vector<std::string> attrs;
    for (size_t i = 0; i < specs.size(); ++i)
      attrs.push_back(fmt::format("{} = {}", specs[i]->name, formatAttr(node.attrs[i])));
    line += fmt::format(" {{{}}}", fmt::join(attrs, ", "));
  }
  line += " : " + graph.value(node.result).type.str();
  if (!node.params.empty()) {
    std::vector<std::string> params;
    for (const Param& param : node.params)
      params.push_back(fmt::format("{}: {}", param.name, formatShape(param.shape)));
    line += fmt::format(" weights [{}]", fmt::join(params, ", "));
  }
  return line;
}

std::string printFolded(const FoldedWeight& weight) {
  std::string head = fmt::format("folded {} : {} = ", weight.name, formatShape(weight.shape));
  switch (weight.rule) {
  case FoldedWeight::Rule::ScaledWeight:
    return head + fmt::format("{} * scale of batchnorm {} (eps = {})", weight.source,
                              weight.batchNorm, weight.eps);
  case FoldedWeight::Rule::ShiftedBias:
    return head + fmt::format("shift of batchnorm {} applied to {} (eps = {})", weight.batchNorm,
                              weight.source.empty() ? "a zero bias" : weight.source, weight.eps);
  }
  return head + "?";
}

std::string printKernelOf(const Graph& graph, size_t index, const FusedKernel& kernel) {
  std::vector<std::string_view> ops;
  for (NodeId id : kernel.nodes)
    ops.push_back(graph.node(id).info().name);
  std::string line = fmt::format("kernel k{}: {}", index, fmt::join(ops, " + "));
  if (kernel.nodes.empty())
    return line;
  line += " -> %" + graph.value(graph.node(kernel.root()).result).name;
  if (kernel.epilogue)
    line += " (epilogue of %" + graph.value(graph.node(kernel.nodes.front()).result).name + ")";
  return line;
}

} // namespace

std::string printKernel(const Graph& graph, size_t index) {
  return printKernelOf(graph, index, graph.fusedKernels().at(index));
}

std::string print(const Graph& graph) {
  std::string out = fmt::format("model {} {{\n", graph.name());
  for (ValueId id : graph.inputs())
    out += fmt::format("  input %{} : {}\n", graph.value(id).name, graph.value(id).type.str());
  for (const Node& node : graph.nodes())
    out += "  " + printNode(graph, node) + "\n";
  for (const FoldedWeight& weight : graph.foldedWeights())
    out += "  " + printFolded(weight) + "\n";
  const std::vector<FusedKernel>& kernels = graph.fusedKernels();
  for (size_t i = 0; i < kernels.size(); ++i)
    out += "  " + printKernelOf(graph, i, kernels[i]) + "\n";
  for (const Output& output : graph.outputs()) {
    const std::string& valueName = graph.value(output.value).name;
    if (valueName == output.name)
      out += fmt::format("  output %{}\n", valueName);
    else
      out += fmt::format("  output {} = %{}\n", output.name, valueName);
  }
  return out + "}\n";
}

std::string print(const Module& module) {
  std::string out;
  for (size_t i = 0; i < module.models.size(); ++i)
    out += (i ? "\n" : "") + print(module.models[i]);
  return out;
}

} // namespace nnc::ir
