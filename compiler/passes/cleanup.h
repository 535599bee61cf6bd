// Cleanup passes: dead nodes, identities at inference, and common subexpressions.
#pragma once

#include "compiler/passes/pass.h"

namespace nnc::passes {

/// Erases every node whose result is neither an operand nor a model output, and the chains that
/// only fed such nodes. Every op is pure, so an unused result is never needed. Other passes call
/// this at their end. Returns whether a node was erased.
bool removeDeadNodes(ir::Graph& graph);

/// dropout(x) and identity(x) → x: both return their input unchanged at inference
/// (kIdentityAtInference), so their users can read x directly.
class RemoveIdentities : public Pass {
public:
  std::string_view name() const override { return "remove-identity"; }
  std::string_view summary() const override {
    return "bypass and remove dropout and identity, which return their input at inference";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

/// Removes nodes whose result nobody uses (see removeDeadNodes).
class EliminateDeadCode : public Pass {
public:
  std::string_view name() const override { return "dce"; }
  std::string_view summary() const override {
    return "remove nodes whose result is neither used nor an output";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

/// Two nodes with the same op, operands (in either order for a commutative op), attributes and
/// weights compute the same value, since every op is a pure function of those: the later one's
/// users read the earlier one's result instead, and the later one is removed.
class MergeCommonSubexpressions : public Pass {
public:
  std::string_view name() const override { return "cse"; }
  std::string_view summary() const override {
    return "merge nodes that compute the same op on the same operands with the same attributes";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

} // namespace nnc::passes
