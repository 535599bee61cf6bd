#include "compiler/passes/cleanup.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <unordered_map>

namespace nnc::passes {

namespace {

/// An attribute as text that tells apart every two values a kernel could tell apart: reals by
/// their bits (so 0.0 and -0.0 differ, and a NaN matches only itself), strings by length too.
std::string encodeAttr(const ir::AttrValue& value) {
  struct Encoder {
    std::string operator()(int64_t v) const { return fmt::format("i{}", v); }
    std::string operator()(double v) const {
      return fmt::format("d{:x}", std::bit_cast<uint64_t>(v));
    }
    std::string operator()(bool v) const { return v ? "t" : "f"; }
    std::string operator()(const std::string& v) const {
      return fmt::format("s{}:{}", v.size(), v);
    }
    std::string operator()(const std::vector<int64_t>& v) const {
      return fmt::format("v[{}]", fmt::join(v, ","));
    }
  };
  return std::visit(Encoder{}, value);
}

/// Everything a node's result depends on, as one string: equal keys, equal results.
std::string nodeKey(const ir::Node& node) {
  std::vector<ir::ValueId> operands = node.operands;
  if (node.info().has(ir::kCommutative))
    std::sort(operands.begin(), operands.end());
  std::string key = fmt::format("{}({})", node.info().name, fmt::join(operands, ","));
  for (const ir::AttrValue& attr : node.attrs)
    key += encodeAttr(attr) + ";";
  for (const ir::Param& param : node.params)
    key += fmt::format("[{}:{}:{}]", param.role, param.name.size(), param.name);
  return key;
}

} // namespace

bool removeDeadNodes(ir::Graph& graph) {
  std::vector<int> uses = graph.useCounts();
  const std::vector<ir::Node>& nodes = graph.nodes();
  std::vector<bool> erase(nodes.size(), false);
  bool any = false;
  // Backwards: every user of a node comes after it, so its count is final when it is reached,
  // and a chain that only fed dead nodes dies in this one sweep.
  for (size_t id = nodes.size(); id-- > 0;) {
    if (uses[nodes[id].result] != 0)
      continue;
    erase[id] = true;
    any = true;
    for (ir::ValueId operand : nodes[id].operands)
      --uses[operand];
  }
  if (any)
    graph.eraseNodes(erase);
  return any;
}

bool RemoveIdentities::run(ir::Graph& graph, const PassContext&) {
  std::vector<bool> erase(graph.nodes().size(), false);
  bool changed = false;
  for (ir::NodeId id = 0; id < graph.nodes().size(); ++id) {
    const ir::Node& node = graph.node(id);
    if (!node.info().has(ir::kIdentityAtInference))
      continue;
    // The node returns operand 0 unchanged at inference, so users (and outputs, which keep their
    // own names) may read that operand. A chain of them collapses: the next one's operand has
    // already been redirected.
    graph.replaceAllUses(node.result, node.operands.at(0));
    erase[id] = true;
    changed = true;
  }
  if (changed)
    graph.eraseNodes(erase);
  return changed;
}

bool EliminateDeadCode::run(ir::Graph& graph, const PassContext&) {
  return removeDeadNodes(graph);
}

bool MergeCommonSubexpressions::run(ir::Graph& graph, const PassContext&) {
  std::unordered_map<std::string, ir::ValueId> first;
  std::vector<bool> erase(graph.nodes().size(), false);
  bool changed = false;
  // Nodes are in topological order and replaceAllUses redirects the later nodes' operands as it
  // goes, so one forward sweep also merges nodes that only became equal through a merge.
  for (ir::NodeId id = 0; id < graph.nodes().size(); ++id) {
    const ir::Node& node = graph.node(id);
    auto [it, inserted] = first.try_emplace(nodeKey(node), node.result);
    if (inserted)
      continue;
    // Same op, operands, attributes and weights: the same value (every op is pure). The earlier
    // node comes first, so it is defined wherever the later one was used.
    graph.replaceAllUses(node.result, it->second);
    erase[id] = true;
    changed = true;
  }
  if (changed)
    graph.eraseNodes(erase);
  return changed;
}

} // namespace nnc::passes
