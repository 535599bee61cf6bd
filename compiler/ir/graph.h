// The graph IR: one Graph per model, owning its values and nodes by value.
#pragma once

#include "compiler/ir/op_table.h"
#include "grammar/source.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace nnc::ir {

using ValueId = uint32_t;
using NodeId = uint32_t;
inline constexpr NodeId kNoNode = UINT32_MAX;

/// An SSA value: a model input or the result of one node.
struct Value {
  std::string name;
  TensorType type;
  NodeId producer = kNoNode; ///< kNoNode for model inputs
  SourceRange loc;
};

/// A weight of a node, with the name it has in the weight file.
struct Param {
  std::string role; ///< "weight", "bias", "running_mean", ...
  std::string name; ///< e.g. "h1.weight", "r1.c1.batchnorm.running_var"
  Shape shape;
};

/// One operator application. Attributes follow OpInfo::attrSpecs() with defaults resolved.
struct Node {
  OpKind op = OpKind::Identity;
  std::vector<ValueId> operands;
  std::vector<AttrValue> attrs;
  std::vector<Param> params;
  ValueId result = 0;
  SourceRange loc;

  const OpInfo& info() const { return opInfo(op); }
  const AttrValue& attr(std::string_view name) const;
};

/// A named model output.
struct Output {
  std::string name;
  ValueId value = 0;
};

/// A model: inputs, nodes in topological order, outputs. Copyable; ids index its vectors.
class Graph {
public:
  explicit Graph(std::string name = {}) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  const std::vector<Value>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<Output>& outputs() const { return outputs_; }
  const Value& value(ValueId id) const { return values_.at(id); }
  const Node& node(NodeId id) const { return nodes_.at(id); }

  ValueId addInput(std::string name, TensorType type, SourceRange loc);
  /// Appends `node` (its operands must exist) with a new result value and returns that value.
  ValueId addNode(Node node, std::string resultName, TensorType resultType);
  void addOutput(std::string name, ValueId value);

  /// Gives `id` the name `name`; a value that held the name before gets a fresh one.
  void renameValue(ValueId id, const std::string& name);
  /// `base` when no value has it, else `base.2`, `base.3`, ...
  std::string uniqueName(const std::string& base) const;

private:
  ValueId addValue(Value value);

  std::string name_;
  std::vector<Value> values_;
  std::vector<Node> nodes_;
  std::vector<ValueId> inputs_;
  std::vector<Output> outputs_;
  std::unordered_map<std::string, ValueId> valueByName_;    ///< keeps naming O(1) per value
  mutable std::unordered_map<std::string, int> nextSuffix_; ///< per base name, for uniqueName
};

/// All models of one file, in the order written.
struct Module {
  std::vector<Graph> models;

  const Graph* find(std::string_view name) const;
};

} // namespace nnc::ir
