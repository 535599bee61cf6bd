// oneDNN's side of the GEMM benchmark: sgemm, and the inner product and 2-D convolution
// primitives with a bias and fused eltwise post-ops, created once and run many times.
#pragma once

#include "runtime/layers.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::bench {

/// The CPU engine every primitive shares.
const dnnl::engine& cpuEngine();

/// A buffer of layout `desc` holding `data` (of layout `userTag` and `desc`'s dimensions),
/// reordered once into it.
dnnl::memory reordered(const dnnl::memory::desc& desc, dnnl::memory::format_tag userTag,
                       const float* data);

/// Runs oneDNN's primitives and sgemm on `threads` OpenMP threads. Call it from the thread that
/// runs them.
void useOneDnnThreads(int threads);

/// oneDNN's version and the ISA its kernels use on this CPU, e.g. "oneDNN 2.6.3 (avx512_core)".
std::string oneDnnDescription();

/// dnnl_sgemm, row-major: c[m, n] = a[m, k]·b[n, k]ᵀ (the weight of a dense layer as it is
/// stored). Throws std::runtime_error when oneDNN refuses.
void oneDnnSgemm(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* c);

/// One post-op of a primitive: dst = algorithm(dst; alpha, beta), applied in order.
struct EltwisePostOp {
  dnnl::algorithm algorithm;
  float alpha = 0;
  float beta = 0;
};

/// y[rows, units] = x[rows, in]·weightᵀ + bias, then the post-ops; x and y plain row-major. The
/// weight [units, in] is reordered once, here, into the layout oneDNN prefers.
class OneDnnInnerProduct {
public:
  OneDnnInnerProduct(int64_t rows, int64_t in, int64_t units, const float* weight,
                     const float* bias, const std::vector<EltwisePostOp>& postOps);
  void run(const float* x, float* y);
  /// The implementation oneDNN chose, e.g. "gemm:jit".
  std::string implementation() const;

private:
  dnnl::stream stream_;
  dnnl::inner_product_forward::primitive_desc desc_;
  dnnl::inner_product_forward primitive_;
  dnnl::memory src_, weights_, bias_, dst_;
  const float* x_ = nullptr; ///< the buffer src_ wraps
  float* y_ = nullptr;       ///< the buffer dst_ wraps
};

/// The activation layout of a convolution: NCHW as nnc's, or the one oneDNN prefers (blocked,
/// such as nChw16c), which a network built on oneDNN keeps from layer to layer.
enum class ConvLayout { Nchw, Preferred };

/// runtime::conv2d's convolution (same geometry and weight layout) with a bias and the
/// post-ops. The weights are reordered once, here; the input is set (and reordered) apart from
/// the runs, which read and write buffers of the primitive's own layouts.
class OneDnnConv {
public:
  OneDnnConv(const runtime::Conv2dGeometry& g, const float* weight, const float* bias,
             const std::vector<EltwisePostOp>& postOps, ConvLayout layout);
  /// Copies x (NCHW) into the source buffer, in the primitive's layout.
  void setInput(const float* x);
  void run();
  /// The output of the last run, NCHW.
  std::vector<float> output();
  std::string implementation() const;
  /// The source and destination layouts, e.g. "nchw -> nChw16c".
  std::string layouts() const;

private:
  dnnl::stream stream_;
  runtime::Conv2dGeometry g_;
  dnnl::convolution_forward::primitive_desc desc_;
  dnnl::convolution_forward primitive_;
  dnnl::memory src_, weights_, bias_, dst_;
};

} // namespace nnc::bench
