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

/// A weight that passes derive from the model's own weights once they are loaded: batchnorm
/// folded into the dense or conv2d before it (see passes/fold_batchnorm.h).
struct FoldedWeight {
  enum class Rule {
    ScaledWeight, ///< weight[o, ...] * gamma[o] / sqrt(var[o] + eps)
    ShiftedBias,  ///< (bias[o] - mean[o]) * gamma[o] / sqrt(var[o] + eps) + beta[o]
  };
  std::string name; ///< the new parameter's name
  Rule rule = Rule::ScaledWeight;
  std::string source;    ///< the layer's weight or bias; empty for a layer without bias
  std::string batchNorm; ///< the batchnorm's parameter prefix: "<prefix>.weight", ...
  double eps = 0;
  Shape shape;
};

/// Nodes that run as one kernel: a tree of elementwise ops, optionally applied as the epilogue of
/// the dense, conv2d or maxout that produces its main operand.
struct FusedKernel {
  std::vector<NodeId> nodes; ///< in topological order; the last one's value is the result
  bool epilogue = false;     ///< nodes[0] is the layer, the rest run on its output tiles
  NodeId root() const { return nodes.back(); }
};

/// A model: inputs, nodes in topological order, outputs. Copyable; ids index its vectors.
class Graph {
public:
  explicit Graph(std::string name = {}) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  const std::vector<Value>& values() const { return values_; }
  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<ValueId>& inputs() const { return inputs_; }
  /// The symbols of the inputs' shapes ("N"), in order of first appearance.
  std::vector<std::string> inputSymbols() const;
  const std::vector<Output>& outputs() const { return outputs_; }
  const Value& value(ValueId id) const { return values_.at(id); }
  const Node& node(NodeId id) const { return nodes_.at(id); }
  const std::vector<FoldedWeight>& foldedWeights() const { return folded_; }
  const std::vector<FusedKernel>& fusedKernels() const { return kernels_; }

  // Rewriting, for passes. Ids stay valid until eraseNodes.
  Node& mutableNode(NodeId id) { return nodes_.at(id); }
  void setType(ValueId id, TensorType type) { values_.at(id).type = std::move(type); }
  /// Makes every operand and output that refers to `from` refer to `to`.
  void replaceAllUses(ValueId from, ValueId to);
  /// How many operands (counting repeats) and outputs refer to each value.
  std::vector<int> useCounts() const;
  /// Removes the nodes with erase[id] and their results, renumbering the rest in order. A removed
  /// result must have no remaining use (else InternalError).
  void eraseNodes(const std::vector<bool>& erase);
  void addFoldedWeight(FoldedWeight weight) { folded_.push_back(std::move(weight)); }
  void setFusedKernels(std::vector<FusedKernel> kernels) { kernels_ = std::move(kernels); }

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
  std::vector<FoldedWeight> folded_;
  std::vector<FusedKernel> kernels_;
  std::unordered_map<std::string, ValueId> valueByName_;    ///< keeps naming O(1) per value
  mutable std::unordered_map<std::string, int> nextSuffix_; ///< per base name, for uniqueName
};

/// All models of one file, in the order written.
struct Module {
  std::vector<Graph> models;

  const Graph* find(std::string_view name) const;
};

} // namespace nnc::ir
