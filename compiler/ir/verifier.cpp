#include "compiler/ir/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace nnc::ir {

namespace {

class Verifier {
public:
  explicit Verifier(const Graph& graph) : graph_(graph) {}

  std::vector<std::string> run() {
    if (graph_.inputs().empty())
      report("model has no input");
    if (graph_.outputs().empty())
      report("model has no output");
    checkNames();
    std::vector<bool> defined(graph_.values().size(), false);
    for (ValueId input : graph_.inputs()) {
      if (!validValue(input) || graph_.value(input).producer != kNoNode)
        report(fmt::format("input {} is not an input value", input));
      else
        defined[input] = true;
    }
    for (NodeId id = 0; id < graph_.nodes().size(); ++id)
      checkNode(id, defined);
    std::set<std::string> outputNames;
    for (const Output& output : graph_.outputs()) {
      if (!validValue(output.value) || !defined[output.value])
        report(fmt::format("output '{}' refers to an undefined value", output.name));
      if (!outputNames.insert(output.name).second)
        report(fmt::format("output '{}' is listed twice", output.name));
    }
    return std::move(errors_);
  }

private:
  void report(std::string message) {
    errors_.push_back(fmt::format("model '{}': {}", graph_.name(), message));
  }

  bool validValue(ValueId id) const { return id < graph_.values().size(); }

  void checkNames() {
    std::set<std::string> names;
    for (const Value& value : graph_.values())
      if (value.name.empty() || !names.insert(value.name).second)
        report(fmt::format("value name '{}' is empty or not unique", value.name));
  }

  void checkNode(NodeId id, std::vector<bool>& defined) {
    const Node& node = graph_.node(id);
    const OpInfo& op = node.info();
    std::string where = fmt::format("node {} ({})", id, op.name);
    std::vector<TensorType> operandTypes;
    for (ValueId operand : node.operands) {
      if (!validValue(operand) || !defined[operand]) {
        report(fmt::format("{} uses value {} before it is defined", where, operand));
        return;
      }
      operandTypes.push_back(graph_.value(operand).type);
    }
    bool arityOk = checkArity(node, where);
    std::vector<const ArgSpec*> specs = op.attrSpecs();
    if (node.attrs.size() != specs.size()) {
      report(fmt::format("{} has {} attributes, its op has {}", where, node.attrs.size(),
                         specs.size()));
      return;
    }
    bool attrsOk = true;
    for (size_t i = 0; i < specs.size(); ++i) {
      const auto* text = std::get_if<std::string>(&node.attrs[i]);
      bool allowed = attrMatchesKind(node.attrs[i], specs[i]->kind) &&
                     (!text || std::find(specs[i]->choices.begin(), specs[i]->choices.end(),
                                         *text) != specs[i]->choices.end());
      if (!allowed)
        report(fmt::format("{} attribute '{}' is not {}", where, specs[i]->name,
                           describeKind(specs[i]->kind)));
      attrsOk &= allowed;
    }
    if (!attrsOk || !arityOk)
      return; // shape inference assumes a well-formed node
    if (!validValue(node.result) || graph_.value(node.result).producer != id) {
      report(fmt::format("{} result does not point back at it", where));
      return;
    }
    defined[node.result] = true;
    InferOutcome outcome = op.infer(InferContext(op, operandTypes, node.attrs));
    if (auto* error = std::get_if<InferError>(&outcome)) {
      report(fmt::format("{} fails shape inference: {}", where, error->message));
      return;
    }
    const Inferred& inferred = std::get<Inferred>(outcome);
    if (inferred.type != graph_.value(node.result).type)
      report(fmt::format("{} result type {} disagrees with inference {}", where,
                         graph_.value(node.result).type.str(), inferred.type.str()));
    checkParams(node, inferred, where);
  }

  bool checkArity(const Node& node, const std::string& where) {
    size_t fixed = 0;
    bool variadic = false;
    for (const ArgSpec& arg : node.info().args) {
      fixed += arg.kind == ArgKind::Tensor;
      variadic |= arg.kind == ArgKind::Tensors;
    }
    bool ok = variadic ? node.operands.size() >= std::max<size_t>(fixed, 1)
                       : node.operands.size() == fixed;
    if (!ok)
      report(fmt::format("{} has {} operands", where, node.operands.size()));
    return ok;
  }

  void checkParams(const Node& node, const Inferred& inferred, const std::string& where) {
    if (node.params.size() != inferred.params.size()) {
      report(fmt::format("{} has {} weights, inference gives {}", where, node.params.size(),
                         inferred.params.size()));
      return;
    }
    for (size_t i = 0; i < node.params.size(); ++i) {
      const Param& param = node.params[i];
      if (param.role != inferred.params[i].first || param.shape != inferred.params[i].second)
        report(fmt::format("{} weight '{}' disagrees with inference", where, param.name));
      if (!weightNames_.insert(param.name).second)
        report(fmt::format("weight name '{}' is used twice", param.name));
    }
  }

  const Graph& graph_;
  std::vector<std::string> errors_;
  std::set<std::string> weightNames_;
};

} // namespace

std::vector<std::string> verify(const Graph& graph) {
  return Verifier(graph).run();
}

} // namespace nnc::ir
