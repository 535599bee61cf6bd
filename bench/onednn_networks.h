// The example networks written out in oneDNN primitives, for the whole-network rows of the GEMM
// benchmark: each layer's activation (and a residual add) fused as post-ops, activations kept in
// the layouts oneDNN prefers, buffers and weights set up once.
#pragma once

#include "bench/onednn_layers.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace nnc::bench {

/// A network of oneDNN primitives run in order. Tensors are indices; every layer takes its input
/// in the layout it prefers, a reorder (run with the network) converting it when it differs.
/// Weights and inputs are uniform random numbers from a fixed seed.
class OneDnnNet {
public:
  using Tensor = size_t;

  OneDnnNet();
  /// A plain input: [N, C, H, W] (nchw) or [N, features] (nc).
  Tensor input(const dnnl::memory::dims& dims);
  /// runtime::conv2d's convolution with a bias, then `residual` added (binary post-op, same
  /// shape as the result), then the eltwise post-ops.
  Tensor conv(Tensor x, int64_t out, int64_t kernel, int64_t stride, int64_t pad, int64_t groups,
              const std::vector<EltwisePostOp>& postOps, std::optional<Tensor> residual = {});
  /// The mean over H and W: [N, C, H, W] -> [N, C, 1, 1].
  Tensor globalAvgPool(Tensor x);
  /// x · gate, the gate [N, C, 1, 1] broadcast over H and W.
  Tensor mul(Tensor x, Tensor gate);
  /// A dense layer with a bias on [N, features] or (flattened) [N, C, H, W].
  Tensor dense(Tensor x, int64_t units, const std::vector<EltwisePostOp>& postOps);
  /// Softmax over axis 1 of [N, features].
  Tensor softmax(Tensor x);

  void run();
  /// 2 x the multiply-adds of the conv and dense layers.
  double flops() const { return flops_; }
  /// Primitives per run, reorders included.
  size_t primitives() const { return steps_.size(); }

private:
  struct Step {
    dnnl::primitive primitive;
    std::unordered_map<int, dnnl::memory> args;
  };
  /// `x` in layout `desc`: x itself, or a new tensor that a reorder step fills.
  Tensor inLayout(Tensor x, const dnnl::memory::desc& desc);
  Tensor add(dnnl::memory memory);
  /// A buffer of `desc` holding random weights given in layout `tag` (reordered once).
  dnnl::memory randomWeights(const dnnl::memory::desc& desc, dnnl::memory::format_tag tag,
                             int64_t fanIn);

  dnnl::stream stream_;
  std::vector<dnnl::memory> tensors_;
  std::vector<Step> steps_;
  std::mt19937 random_;
  double flops_ = 0;
};

/// examples/<model>.nn (mlp, mobilenet, resnet) at `batch` in oneDNN, or nothing for a model
/// not written out here.
std::optional<OneDnnNet> oneDnnNetwork(std::string_view model, int64_t batch);

} // namespace nnc::bench
