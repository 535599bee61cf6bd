#include "compiler/ir/graph.h"

#include "compiler/ir/internal_error.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace nnc::ir {

const AttrValue& Node::attr(std::string_view name) const {
  int index = info().attrIndex(name);
  if (index < 0 || static_cast<size_t>(index) >= attrs.size())
    throw InternalError(fmt::format("{} has no attribute '{}'", info().name, name));
  return attrs[index];
}

ValueId Graph::addValue(Value value) {
  auto id = static_cast<ValueId>(values_.size());
  valueByName_[value.name] = id;
  values_.push_back(std::move(value));
  return id;
}

ValueId Graph::addInput(std::string name, TensorType type, SourceRange loc) {
  ValueId id = addValue(Value{uniqueName(name), std::move(type), kNoNode, loc});
  inputs_.push_back(id);
  return id;
}

ValueId Graph::addNode(Node node, std::string resultName, TensorType resultType) {
  auto nodeId = static_cast<NodeId>(nodes_.size());
  ValueId id = addValue(Value{uniqueName(resultName), std::move(resultType), nodeId, node.loc});
  node.result = id;
  nodes_.push_back(std::move(node));
  return id;
}

void Graph::addOutput(std::string name, ValueId value) {
  outputs_.push_back(Output{std::move(name), value});
}

void Graph::renameValue(ValueId id, const std::string& name) {
  if (values_[id].name == name)
    return;
  std::optional<ValueId> displaced;
  if (auto it = valueByName_.find(name); it != valueByName_.end())
    displaced = it->second;
  valueByName_.erase(values_[id].name);
  values_[id].name = name;
  valueByName_[name] = id;
  if (displaced) {
    values_[*displaced].name = uniqueName(name);
    valueByName_[values_[*displaced].name] = *displaced;
  }
}

std::string Graph::uniqueName(const std::string& base) const {
  auto taken = [&](const std::string& name) { return valueByName_.count(name) != 0; };
  if (!taken(base))
    return base;
  int& suffix = nextSuffix_.try_emplace(base, 2).first->second;
  for (;; ++suffix)
    if (std::string candidate = fmt::format("{}.{}", base, suffix); !taken(candidate))
      return candidate;
}

void Graph::replaceAllUses(ValueId from, ValueId to) {
  for (Node& node : nodes_)
    for (ValueId& operand : node.operands)
      if (operand == from)
        operand = to;
  for (Output& output : outputs_)
    if (output.value == from)
      output.value = to;
}

std::vector<int> Graph::useCounts() const {
  std::vector<int> counts(values_.size(), 0);
  for (const Node& node : nodes_)
    for (ValueId operand : node.operands)
      ++counts[operand];
  for (const Output& output : outputs_)
    ++counts[output.value];
  return counts;
}

void Graph::eraseNodes(const std::vector<bool>& erase) {
  if (erase.size() != nodes_.size())
    throw InternalError("eraseNodes needs one flag per node");
  std::vector<bool> dropValue(values_.size(), false);
  for (NodeId id = 0; id < nodes_.size(); ++id)
    if (erase[id])
      dropValue[nodes_[id].result] = true;
  std::vector<int> uses = useCounts();
  for (NodeId id = 0; id < nodes_.size(); ++id)
    if (erase[id])
      for (ValueId operand : nodes_[id].operands)
        --uses[operand];
  for (ValueId id = 0; id < values_.size(); ++id)
    if (dropValue[id] && uses[id] != 0)
      throw InternalError(fmt::format("erasing '{}', which is still used", values_[id].name));

  constexpr uint32_t kGone = UINT32_MAX;
  std::vector<ValueId> newValue(values_.size(), kGone);
  std::vector<NodeId> newNode(nodes_.size(), kGone);
  std::vector<Value> values;
  for (ValueId id = 0; id < values_.size(); ++id)
    if (!dropValue[id]) {
      newValue[id] = static_cast<ValueId>(values.size());
      values.push_back(std::move(values_[id]));
    }
  std::vector<Node> nodes;
  for (NodeId id = 0; id < nodes_.size(); ++id)
    if (!erase[id]) {
      newNode[id] = static_cast<NodeId>(nodes.size());
      nodes.push_back(std::move(nodes_[id]));
    }
  for (Node& node : nodes) {
    for (ValueId& operand : node.operands)
      operand = newValue[operand];
    node.result = newValue[node.result];
  }
  for (Value& value : values)
    if (value.producer != kNoNode)
      value.producer = newNode[value.producer];
  for (ValueId& input : inputs_)
    input = newValue[input];
  for (Output& output : outputs_)
    output.value = newValue[output.value];
  std::vector<FusedKernel> kernels;
  for (FusedKernel& kernel : kernels_) {
    FusedKernel kept{{}, kernel.epilogue};
    for (NodeId id : kernel.nodes)
      if (newNode[id] != kGone)
        kept.nodes.push_back(newNode[id]);
    if (kept.nodes.size() == kernel.nodes.size())
      kernels.push_back(std::move(kept));
  }
  kernels_ = std::move(kernels);
  values_ = std::move(values);
  nodes_ = std::move(nodes);
  valueByName_.clear();
  for (ValueId id = 0; id < values_.size(); ++id)
    valueByName_[values_[id].name] = id;
}

std::vector<std::string> Graph::inputSymbols() const {
  std::vector<std::string> symbols;
  for (ValueId id : inputs_)
    for (const Dim& dim : value(id).type.shape)
      if (dim.isSymbol() &&
          std::find(symbols.begin(), symbols.end(), dim.symbolName()) == symbols.end())
        symbols.push_back(dim.symbolName());
  return symbols;
}

const Graph* Module::find(std::string_view name) const {
  for (const Graph& graph : models)
    if (graph.name() == name)
      return &graph;
  return nullptr;
}

} // namespace nnc::ir
