// Folds an inference batchnorm into the dense or conv2d that produces its input.
#pragma once

#include "compiler/passes/pass.h"

namespace nnc::passes {

/// batchnorm(conv2d(x)) -> conv2d'(x), batchnorm(dense(x)) -> dense'(x) for a 2-D dense.
///
/// Legal because inference batchnorm is a per-channel affine map y = s·z + t with
/// s = gamma / sqrt(var + eps) and t = beta - mean·s, and the layer's output channel o is
/// z_o = W_o·x + b_o, so s_o·z_o + t_o = (s_o·W_o)·x + (s_o·(b_o - mean_o) + beta_o): a layer
/// with scaled weights and a new bias. The channel axis must agree: batchnorm normalizes axis
/// 1, which is conv2d's output channel and a 2-D dense's unit (not a 3-D dense's). The layer's
/// result must have no other user, since they would see the unnormalized value.
///
/// The rewrite is structural; the new weights are ir::FoldedWeight records, computed from the
/// model's weights once they are loaded (jit::materializeFoldedWeights).
class FoldBatchNorm : public Pass {
public:
  std::string_view name() const override { return "fold-batchnorm"; }
  std::string_view summary() const override {
    return "fold batchnorm into the weights and bias of the conv2d or dense before it";
  }
  bool run(ir::Graph& graph, const PassContext& context) override;
};

} // namespace nnc::passes
