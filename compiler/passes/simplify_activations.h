// Algebraic simplification of activations: chains that collapse, canonical spellings, identities,
// known PReLU slopes, and the gated products that imported models spell out.
#pragma once

#include "compiler/passes/pass.h"

#include <vector>

namespace nnc::passes {

/// The attributes of a fresh `op` node, in OpInfo::attrSpecs() order: each argument's default,
/// and for a required one (clamp's bounds) a placeholder of its kind that the caller sets.
std::vector<ir::AttrValue> defaultAttrs(ir::OpKind op);

/// Rewrites activations to simpler equivalents until nothing changes:
///   f(f(x)) → f(x) for an idempotent f; clamp-like chains (relu, relu6, hard_tanh, clamp) → one
///   clamp over the intersection of their ranges; canonical forms (leaky_relu(0), elu(0),
///   thresholded_relu(0) → relu; celu(1) → elu(1); hard_tanh → clamp, relu6 or relu); identities
///   (leaky_relu(1), a clamp to [-inf, inf]) → their operand; prelu with one known slope →
///   leaky_relu; mul(x, sigmoid(x)) → silu, mul(x, hard_sigmoid(x)) → hard_swish,
///   mul(x, tanh(softplus(x))) → mish.
/// Each rule in simplify_activations.cpp says why it is legal. Ends with removeDeadNodes.
class SimplifyActivations : public Pass {
public:
  std::string_view name() const override { return "simplify-activations"; }
  std::string_view summary() const override {
    return "collapse activation chains, canonicalize activations and fuse gated products";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

} // namespace nnc::passes
