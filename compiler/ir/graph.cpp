#include "compiler/ir/graph.h"

#include "compiler/ir/internal_error.h"

#include <fmt/format.h>

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

const Graph* Module::find(std::string_view name) const {
  for (const Graph& graph : models)
    if (graph.name() == name)
      return &graph;
  return nullptr;
}

} // namespace nnc::ir
