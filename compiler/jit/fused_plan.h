// How one fused kernel of the graph runs: the expression to compile, what each leaf reads, and
// the run one kernel call covers.
#pragma once

#include "compiler/codegen/fused_kernel.h"
#include "compiler/ir/graph.h"
#include "runtime/tensor.h"

#include <functional>
#include <string_view>
#include <vector>

namespace nnc::jit {

/// A leaf of a fused kernel: a value of the graph, or a per-channel tensor the plan owns (a
/// prelu's slopes, an unfolded batchnorm's scale and shift).
struct FusedLeaf {
  static constexpr ir::ValueId kConstant = UINT32_MAX;
  ir::ValueId value = kConstant;
  std::vector<float> constant;
  std::vector<int64_t> constantShape; ///< aligned on the right against the result
};

struct FusedPlan {
  codegen::FusedExpression expression; ///< leaves in the order of `leaves`
  std::vector<FusedLeaf> leaves;
  /// The first axis of the run one call covers: for an epilogue, what the layer finishes at once
  /// (a row of a dense or maxout output, a channel plane of a conv2d output); else the longest
  /// suffix of axes over which every leaf is whole or constant.
  size_t split = 0;
};

/// The weight tensor of `node` in `role` ("weight", "running_var", ...).
using WeightOf = std::function<const runtime::Tensor&(const ir::Node& node, std::string_view role)>;

FusedPlan planFusedKernel(const ir::Graph& graph, const ir::FusedKernel& kernel,
                          const WeightOf& weight);

} // namespace nnc::jit
