// Fusion: trees of elementwise ops become one loop, and such a loop becomes the epilogue of the
// dense, conv2d or maxout that produces its main operand.
#pragma once

#include "compiler/passes/pass.h"

namespace nnc::passes {

/// Whether `node` can run inside a fused elementwise loop: its op is elementwise (the op table's
/// trait; activations, add, mul, prelu, batchnorm) and not one that inference drops (dropout,
/// identity: remove-identity removes those), and every operand broadcasts to its result by the
/// static shapes alone (a symbol against a known size other than 1 is decided only at run time).
bool isFusible(const ir::Graph& graph, const ir::Node& node);

/// How an operand of shape `operand` lies along the result's axes from `from` on: whole (equal to
/// the result on each), constant (size 1 or absent on each), or mixed. Axes where the result has
/// size 1 fit either; with none left, the operand is constant.
enum class RunShape { Whole, Constant, Mixed };
RunShape runShape(const ir::Shape& operand, const ir::Shape& result, size_t from);

/// The values a fused kernel reads: operands of its nodes produced outside it, in order of first
/// use. For an epilogue, the layer's result comes first and the layer's own operands are not
/// included (the layer reads them).
std::vector<ir::ValueId> kernelLeaves(const ir::Graph& graph, const ir::FusedKernel& kernel);

/// Groups elementwise nodes into loops: a node joins the loop of its consumer when its result
/// has that one use and the loop's result shape (so one loop iteration computes one element of
/// every member), and at most one member is not cheap (kCheap: a transcendental activation). Legal
/// because an elementwise member's element i depends only on element i of its operands (after
/// broadcasting), so computing the tree per element gives the same values; the values inside the
/// tree have no other reader, so nothing needs them in memory.
class FuseElementwise : public Pass {
public:
  std::string_view name() const override { return "fuse-elementwise"; }
  std::string_view summary() const override {
    return "compile each tree of elementwise ops into one loop";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

/// Makes an elementwise loop the epilogue of the dense, conv2d or maxout that produces one of its
/// operands (a lone elementwise node counts as a loop of one), applied to each block of the
/// layer's output while it is in cache: bias + activation, a residual add, batchnorm, a chain of
/// them. Legal when the layer's result has no reader outside the loop and has the loop's shape,
/// when the layer is the last producer of the loop's operands (so every other operand exists
/// when the layer runs), and, for conv2d, when every operand is either whole over H and W or
/// constant over them (the layer finishes its output in runs along H·W of one channel).
class FuseEpilogues : public Pass {
public:
  std::string_view name() const override { return "fuse-epilogue"; }
  std::string_view summary() const override {
    return "apply elementwise loops to dense/conv2d/maxout output blocks while in cache";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

} // namespace nnc::passes
