#include "bench/onednn_layers.h"

#include <omp.h>
#include <oneapi/dnnl/dnnl_debug.h>

#include <cstring>
#include <stdexcept>
#include <utility>

namespace nnc::bench {

namespace {

using Dims = dnnl::memory::dims;
using Tag = dnnl::memory::format_tag;
constexpr auto kF32 = dnnl::memory::data_type::f32;

dnnl::primitive_attr withPostOps(const std::vector<EltwisePostOp>& postOps) {
  dnnl::post_ops ops;
  for (const EltwisePostOp& op : postOps)
    ops.append_eltwise(1.0f, op.algorithm, op.alpha, op.beta);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  return attr;
}

/// A copy of `n` floats in a buffer oneDNN owns (vector layout).
dnnl::memory ownedVector(const float* data, int64_t n) {
  dnnl::memory out({{n}, kF32, Tag::x}, cpuEngine());
  std::memcpy(out.get_data_handle(), data, static_cast<size_t>(n) * sizeof(float));
  return out;
}

dnnl::convolution_forward::primitive_desc convDesc(const runtime::Conv2dGeometry& g,
                                                   const std::vector<EltwisePostOp>& postOps,
                                                   ConvLayout layout) {
  Tag activations = layout == ConvLayout::Nchw ? Tag::nchw : Tag::any;
  dnnl::memory::desc src({g.batch, g.inChannels, g.inH, g.inW}, kF32, activations);
  dnnl::memory::desc dst({g.batch, g.outChannels, g.outH, g.outW}, kF32, activations);
  Dims weightDims = g.groups == 1 ? Dims{g.outChannels, g.inChannels, g.kernelH, g.kernelW}
                                  : Dims{g.groups, g.outChannels / g.groups,
                                         g.inChannels / g.groups, g.kernelH, g.kernelW};
  dnnl::memory::desc weights(weightDims, kF32, Tag::any);
  dnnl::memory::desc bias({g.outChannels}, kF32, Tag::x);
  // The bottom and right padding that make outH x outW (oneDNN counts dilation from 0).
  int64_t padBottom =
      (g.outH - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1 - g.inH - g.padTop;
  int64_t padRight =
      (g.outW - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1 - g.inW - g.padLeft;
  dnnl::convolution_forward::desc op(dnnl::prop_kind::forward_inference,
                                     dnnl::algorithm::convolution_direct, src, weights, bias, dst,
                                     {g.strideH, g.strideW}, {g.dilationH - 1, g.dilationW - 1},
                                     {g.padTop, g.padLeft}, {padBottom, padRight});
  return {op, withPostOps(postOps), cpuEngine()};
}

/// The name of an activation layout, among those oneDNN picks for f32 convolutions.
std::string layoutName(const dnnl::memory::desc& desc) {
  for (auto [tag, name] : {std::pair{Tag::nchw, "nchw"}, std::pair{Tag::nhwc, "nhwc"},
                           std::pair{Tag::nChw16c, "nChw16c"}, std::pair{Tag::nChw8c, "nChw8c"},
                           std::pair{Tag::nChw4c, "nChw4c"}})
    if (desc == dnnl::memory::desc(desc.dims(), kF32, tag))
      return name;
  return "other";
}

} // namespace

const dnnl::engine& cpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::memory reordered(const dnnl::memory::desc& desc, Tag userTag, const float* data) {
  dnnl::stream stream(cpuEngine());
  dnnl::memory user({desc.dims(), kF32, userTag}, cpuEngine(), const_cast<float*>(data));
  dnnl::memory out(desc, cpuEngine());
  dnnl::reorder(user, out).execute(stream, user, out);
  stream.wait();
  return out;
}

void useOneDnnThreads(int threads) {
  // oneDNN runs on OpenMP. OMP_NUM_THREADS is read when libgomp loads, before main, so set the
  // count through the API; it holds for the calling thread's parallel regions.
  omp_set_num_threads(threads);
}

std::string oneDnnDescription() {
  const dnnl::version_t* v = dnnl::version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
         std::to_string(v->patch) + " (" +
         dnnl_cpu_isa2str(static_cast<dnnl_cpu_isa_t>(dnnl::get_effective_cpu_isa())) + ")";
}

void oneDnnSgemm(int64_t m, int64_t k, int64_t n, const float* a, const float* b, float* c) {
  dnnl_status_t status = dnnl_sgemm('N', 'T', m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
  if (status != dnnl_success)
    throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(status));
}

OneDnnInnerProduct::OneDnnInnerProduct(int64_t rows, int64_t in, int64_t units, const float* weight,
                                       const float* bias, const std::vector<EltwisePostOp>& postOps)
    : stream_(cpuEngine()) {
  dnnl::inner_product_forward::desc op(dnnl::prop_kind::forward_inference,
                                       {{rows, in}, kF32, Tag::nc}, {{units, in}, kF32, Tag::any},
                                       {{units}, kF32, Tag::x}, {{rows, units}, kF32, Tag::nc});
  desc_ = dnnl::inner_product_forward::primitive_desc(op, withPostOps(postOps), cpuEngine());
  primitive_ = dnnl::inner_product_forward(desc_);
  weights_ = reordered(desc_.weights_desc(), Tag::oi, weight);
  bias_ = ownedVector(bias, units);
  src_ = dnnl::memory(desc_.src_desc(), cpuEngine(), DNNL_MEMORY_NONE);
  dst_ = dnnl::memory(desc_.dst_desc(), cpuEngine(), DNNL_MEMORY_NONE);
}

void OneDnnInnerProduct::run(const float* x, float* y) {
  // Callers reuse their buffers: rewrap them only when they change, out of the timed path.
  if (x != x_) {
    src_.set_data_handle(const_cast<float*>(x)); // the source is only read
    x_ = x;
  }
  if (y != y_) {
    dst_.set_data_handle(y);
    y_ = y;
  }
  primitive_.execute(stream_, {{DNNL_ARG_SRC, src_},
                               {DNNL_ARG_WEIGHTS, weights_},
                               {DNNL_ARG_BIAS, bias_},
                               {DNNL_ARG_DST, dst_}});
  stream_.wait();
}

std::string OneDnnInnerProduct::implementation() const {
  return desc_.impl_info_str();
}

OneDnnConv::OneDnnConv(const runtime::Conv2dGeometry& g, const float* weight, const float* bias,
                       const std::vector<EltwisePostOp>& postOps, ConvLayout layout)
    : stream_(cpuEngine()), g_(g), desc_(convDesc(g, postOps, layout)), primitive_(desc_) {
  weights_ = reordered(desc_.weights_desc(), g.groups == 1 ? Tag::oihw : Tag::goihw, weight);
  bias_ = ownedVector(bias, g.outChannels);
  src_ = dnnl::memory(desc_.src_desc(), cpuEngine());
  dst_ = dnnl::memory(desc_.dst_desc(), cpuEngine());
}

void OneDnnConv::setInput(const float* x) {
  dnnl::memory user({{g_.batch, g_.inChannels, g_.inH, g_.inW}, kF32, Tag::nchw}, cpuEngine(),
                    const_cast<float*>(x)); // the source is only read
  dnnl::reorder(user, src_).execute(stream_, user, src_);
  stream_.wait();
}

void OneDnnConv::run() {
  primitive_.execute(stream_, {{DNNL_ARG_SRC, src_},
                               {DNNL_ARG_WEIGHTS, weights_},
                               {DNNL_ARG_BIAS, bias_},
                               {DNNL_ARG_DST, dst_}});
  stream_.wait();
}

std::vector<float> OneDnnConv::output() {
  std::vector<float> y(static_cast<size_t>(g_.batch * g_.outChannels * g_.outH * g_.outW));
  dnnl::memory user({{g_.batch, g_.outChannels, g_.outH, g_.outW}, kF32, Tag::nchw}, cpuEngine(),
                    y.data());
  dnnl::reorder(dst_, user).execute(stream_, dst_, user);
  stream_.wait();
  return y;
}

std::string OneDnnConv::implementation() const {
  return desc_.impl_info_str();
}

std::string OneDnnConv::layouts() const {
  return layoutName(desc_.src_desc()) + " -> " + layoutName(desc_.dst_desc());
}

} // namespace nnc::bench
