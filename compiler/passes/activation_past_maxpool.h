// Moves monotonic activations after max pooling, so they run on a quarter of the elements.
#pragma once

#include "compiler/passes/pass.h"

namespace nnc::passes {

/// maxpool(act(x)) → act(maxpool(x)) for an elementwise activation that is monotonic
/// non-decreasing (the op table's Monotonicity, checked against the node's attributes or its
/// loaded weights): then max(f(a), f(b)) = f(max(a, b)). Runs until no activation is left
/// directly before a maxpool, so a stack of them all moves. When fusion follows, a cheap
/// activation (kCheap) straight after a dense, conv2d or maxout stays: it runs free in that
/// layer's epilogue, where after the pool it would be a loop of its own.
class MoveActivationPastMaxPool : public Pass {
public:
  std::string_view name() const override { return "activation-past-maxpool"; }
  std::string_view summary() const override {
    return "apply monotonic activations after max pooling instead of before";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

} // namespace nnc::passes
