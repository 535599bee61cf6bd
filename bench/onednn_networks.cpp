#include "bench/onednn_networks.h"

#include <cmath>
#include <utility>

namespace nnc::bench {

namespace {

using Dims = dnnl::memory::dims;
using Tag = dnnl::memory::format_tag;
using Desc = dnnl::memory::desc;
constexpr auto kF32 = dnnl::memory::data_type::f32;
constexpr unsigned kSeed = 42;
/// Biases are drawn as weights of this fan-in: small, within ±0.08.
constexpr int64_t kBiasFanIn = 1000;

Desc anyLayout(const Dims& dims) {
  return Desc(dims, kF32, Tag::any);
}

std::vector<EltwisePostOp> relu(float alpha = 0) {
  return {{dnnl::algorithm::eltwise_relu, alpha, 0}};
}

std::vector<EltwisePostOp> hardSwish() {
  return {{dnnl::algorithm::eltwise_hardswish, 0, 0}};
}

/// clamp(x/6 + 1/2, 0, 1): oneDNN 2.6 has no hardsigmoid.
std::vector<EltwisePostOp> hardSigmoid() {
  return {{dnnl::algorithm::eltwise_linear, 1.0f / 6.0f, 0.5f},
          {dnnl::algorithm::eltwise_clip, 0, 1}};
}

/// Squeeze-and-excitation of examples/mobilenet.nn: x times a gate from its channel means.
OneDnnNet::Tensor squeezeExcite(OneDnnNet& net, OneDnnNet::Tensor x, int64_t channels,
                                int64_t squeezed) {
  OneDnnNet::Tensor s = net.globalAvgPool(x);
  s = net.conv(s, squeezed, 1, 1, 0, 1, relu());
  OneDnnNet::Tensor gate = net.conv(s, channels, 1, 1, 0, 1, hardSigmoid());
  return net.mul(x, gate);
}

/// The inverted residual block of examples/mobilenet.nn (batchnorm folded into the biases),
/// with `residual` added to its result when given.
OneDnnNet::Tensor inverted(OneDnnNet& net, OneDnnNet::Tensor x, int64_t expanded, int64_t out,
                           int64_t stride, std::optional<OneDnnNet::Tensor> residual = {}) {
  OneDnnNet::Tensor e = net.conv(x, expanded, 1, 1, 0, 1, hardSwish());
  OneDnnNet::Tensor d = net.conv(e, expanded, 3, stride, 1, expanded, hardSwish());
  OneDnnNet::Tensor g = squeezeExcite(net, d, expanded, 8);
  return net.conv(g, out, 1, 1, 0, 1, {}, residual);
}

OneDnnNet mobilenet(int64_t batch) {
  OneDnnNet net;
  OneDnnNet::Tensor image = net.input({batch, 3, 64, 64});
  OneDnnNet::Tensor stem = net.conv(image, 16, 3, 2, 1, 1, hardSwish());
  OneDnnNet::Tensor r1 = inverted(net, stem, 32, 16, 1, stem);
  OneDnnNet::Tensor b2 = inverted(net, r1, 64, 24, 2);
  OneDnnNet::Tensor r3 = inverted(net, b2, 96, 24, 1, b2);
  OneDnnNet::Tensor head = net.conv(r3, 128, 1, 1, 0, 1, hardSwish());
  net.dense(net.globalAvgPool(head), 10, {}); // dropout is the identity at inference
  return net;
}

/// The two residual blocks of examples/resnet.nn: two 3x3 convolutions, the second with the
/// shortcut added and the relu fused.
OneDnnNet::Tensor basic(OneDnnNet& net, OneDnnNet::Tensor x, int64_t channels) {
  OneDnnNet::Tensor a = net.conv(x, channels, 3, 1, 1, 1, relu());
  return net.conv(a, channels, 3, 1, 1, 1, relu(), x);
}

OneDnnNet::Tensor down(OneDnnNet& net, OneDnnNet::Tensor x, int64_t channels) {
  OneDnnNet::Tensor a = net.conv(x, channels, 3, 2, 1, 1, relu());
  OneDnnNet::Tensor skip = net.conv(x, channels, 1, 2, 0, 1, {});
  return net.conv(a, channels, 3, 1, 1, 1, relu(), skip);
}

OneDnnNet resnet(int64_t batch) {
  OneDnnNet net;
  OneDnnNet::Tensor image = net.input({batch, 3, 32, 32});
  OneDnnNet::Tensor stem = net.conv(image, 16, 3, 1, 1, 1, relu());
  OneDnnNet::Tensor s2 = basic(net, basic(net, stem, 16), 16);
  OneDnnNet::Tensor s4 = basic(net, down(net, s2, 32), 32);
  net.dense(net.globalAvgPool(s4), 10, {});
  return net;
}

OneDnnNet mlp(int64_t batch) {
  OneDnnNet net;
  OneDnnNet::Tensor x = net.input({batch, 784});
  OneDnnNet::Tensor h1 = net.dense(x, 512, relu());
  OneDnnNet::Tensor h2 = net.dense(h1, 512, relu(0.1f)); // leaky_relu(0.1)
  net.softmax(net.dense(h2, 10, {}));
  return net;
}

} // namespace

OneDnnNet::OneDnnNet() : stream_(cpuEngine()), random_(kSeed) {}

OneDnnNet::Tensor OneDnnNet::add(dnnl::memory memory) {
  tensors_.push_back(std::move(memory));
  return tensors_.size() - 1;
}

OneDnnNet::Tensor OneDnnNet::input(const Dims& dims) {
  dnnl::memory memory(Desc(dims, kF32, dims.size() == 4 ? Tag::nchw : Tag::nc), cpuEngine());
  std::uniform_real_distribution<float> uniform(-1, 1);
  auto* data = static_cast<float*>(memory.get_data_handle());
  for (size_t i = 0; i < memory.get_desc().get_size() / sizeof(float); ++i)
    data[i] = uniform(random_);
  return add(std::move(memory));
}

OneDnnNet::Tensor OneDnnNet::inLayout(Tensor x, const Desc& desc) {
  if (tensors_[x].get_desc() == desc)
    return x;
  dnnl::memory converted(desc, cpuEngine());
  steps_.push_back({dnnl::reorder(tensors_[x], converted),
                    {{DNNL_ARG_FROM, tensors_[x]}, {DNNL_ARG_TO, converted}}});
  return add(std::move(converted));
}

dnnl::memory OneDnnNet::randomWeights(const Desc& desc, Tag tag, int64_t fanIn) {
  // Uniform with He-normal's variance, 2 / fanIn.
  float limit = std::sqrt(6.0f / static_cast<float>(fanIn));
  std::uniform_real_distribution<float> uniform(-limit, limit);
  std::vector<float> values(desc.get_size() / sizeof(float));
  for (float& v : values)
    v = uniform(random_);
  return reordered(desc, tag, values.data());
}

OneDnnNet::Tensor OneDnnNet::conv(Tensor x, int64_t out, int64_t kernel, int64_t stride,
                                  int64_t pad, int64_t groups,
                                  const std::vector<EltwisePostOp>& postOps,
                                  std::optional<Tensor> residual) {
  Dims in = tensors_[x].get_desc().dims();
  int64_t inH = in.at(2), inW = in.at(3);
  int64_t outH = (inH + 2 * pad - kernel) / stride + 1;
  int64_t outW = (inW + 2 * pad - kernel) / stride + 1;
  int64_t padBottom = (outH - 1) * stride + kernel - in[2] - pad;
  int64_t padRight = (outW - 1) * stride + kernel - in[3] - pad;
  Dims weightDims = groups == 1 ? Dims{out, in[1], kernel, kernel}
                                : Dims{groups, out / groups, in[1] / groups, kernel, kernel};
  Dims outDims = {in[0], out, outH, outW};
  dnnl::convolution_forward::desc op(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, anyLayout(in),
      anyLayout(weightDims), Desc({out}, kF32, Tag::x), anyLayout(outDims), {stride, stride},
      {pad, pad}, {padBottom, padRight});
  auto makeDesc = [&](const Desc* residualDesc) {
    dnnl::post_ops ops;
    if (residualDesc)
      ops.append_binary(dnnl::algorithm::binary_add, *residualDesc);
    for (const EltwisePostOp& p : postOps)
      ops.append_eltwise(1.0f, p.algorithm, p.alpha, p.beta);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    return dnnl::convolution_forward::primitive_desc(op, attr, cpuEngine());
  };
  dnnl::convolution_forward::primitive_desc desc = makeDesc(nullptr);
  if (residual) {
    // The shortcut is read in the layout the result has.
    Desc resultLayout = desc.dst_desc();
    desc = makeDesc(&resultLayout);
    residual = inLayout(*residual, resultLayout);
  }
  Tensor src = inLayout(x, desc.src_desc());
  Step step{
      dnnl::convolution_forward(desc),
      {{DNNL_ARG_SRC, tensors_[src]},
       {DNNL_ARG_WEIGHTS, randomWeights(desc.weights_desc(), groups == 1 ? Tag::oihw : Tag::goihw,
                                        in[1] / groups * kernel * kernel)},
       {DNNL_ARG_BIAS, randomWeights(desc.bias_desc(), Tag::x, kBiasFanIn)}}};
  if (residual)
    step.args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, tensors_[*residual]);
  Tensor y = add(dnnl::memory(desc.dst_desc(), cpuEngine()));
  step.args.emplace(DNNL_ARG_DST, tensors_[y]);
  steps_.push_back(std::move(step));
  flops_ +=
      2.0 * static_cast<double>(in[0] * out * outH * outW * (in[1] / groups) * kernel * kernel);
  return y;
}

OneDnnNet::Tensor OneDnnNet::globalAvgPool(Tensor x) {
  Desc src = tensors_[x].get_desc();
  Dims in = src.dims();
  dnnl::pooling_forward::desc op(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_avg_exclude_padding, src,
      anyLayout({in[0], in[1], 1, 1}), {1, 1}, {in[2], in[3]}, {0, 0}, {0, 0});
  dnnl::pooling_forward::primitive_desc desc(op, cpuEngine());
  Tensor y = add(dnnl::memory(desc.dst_desc(), cpuEngine()));
  steps_.push_back(
      {dnnl::pooling_forward(desc), {{DNNL_ARG_SRC, tensors_[x]}, {DNNL_ARG_DST, tensors_[y]}}});
  return y;
}

OneDnnNet::Tensor OneDnnNet::mul(Tensor x, Tensor gate) {
  Desc src = tensors_[x].get_desc();
  dnnl::binary::desc op(dnnl::algorithm::binary_mul, src, tensors_[gate].get_desc(),
                        anyLayout(src.dims()));
  dnnl::binary::primitive_desc desc(op, cpuEngine());
  Tensor y = add(dnnl::memory(desc.dst_desc(), cpuEngine()));
  steps_.push_back({dnnl::binary(desc),
                    {{DNNL_ARG_SRC_0, tensors_[x]},
                     {DNNL_ARG_SRC_1, tensors_[gate]},
                     {DNNL_ARG_DST, tensors_[y]}}});
  return y;
}

OneDnnNet::Tensor OneDnnNet::dense(Tensor x, int64_t units,
                                   const std::vector<EltwisePostOp>& postOps) {
  Dims in = tensors_[x].get_desc().dims();
  Dims weightDims = in;
  weightDims[0] = units;
  int64_t fanIn = 1;
  for (size_t i = 1; i < in.size(); ++i)
    fanIn *= in[i];
  dnnl::post_ops ops;
  for (const EltwisePostOp& p : postOps)
    ops.append_eltwise(1.0f, p.algorithm, p.alpha, p.beta);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  dnnl::inner_product_forward::desc op(dnnl::prop_kind::forward_inference, anyLayout(in),
                                       anyLayout(weightDims), Desc({units}, kF32, Tag::x),
                                       anyLayout({in[0], units}));
  dnnl::inner_product_forward::primitive_desc desc(op, attr, cpuEngine());
  Tensor src = inLayout(x, desc.src_desc());
  Step step{dnnl::inner_product_forward(desc),
            {{DNNL_ARG_SRC, tensors_[src]},
             {DNNL_ARG_WEIGHTS,
              randomWeights(desc.weights_desc(), in.size() == 4 ? Tag::oihw : Tag::oi, fanIn)},
             {DNNL_ARG_BIAS, randomWeights(desc.bias_desc(), Tag::x, kBiasFanIn)}}};
  Tensor y = add(dnnl::memory(desc.dst_desc(), cpuEngine()));
  step.args.emplace(DNNL_ARG_DST, tensors_[y]);
  steps_.push_back(std::move(step));
  flops_ += 2.0 * static_cast<double>(in[0] * units * fanIn);
  return y;
}

OneDnnNet::Tensor OneDnnNet::softmax(Tensor x) {
  dnnl::softmax_forward::desc op(dnnl::prop_kind::forward_inference, tensors_[x].get_desc(), 1);
  dnnl::softmax_forward::primitive_desc desc(op, cpuEngine());
  Tensor y = add(dnnl::memory(desc.dst_desc(), cpuEngine()));
  steps_.push_back(
      {dnnl::softmax_forward(desc), {{DNNL_ARG_SRC, tensors_[x]}, {DNNL_ARG_DST, tensors_[y]}}});
  return y;
}

void OneDnnNet::run() {
  for (Step& step : steps_)
    step.primitive.execute(stream_, step.args);
  stream_.wait();
}

std::optional<OneDnnNet> oneDnnNetwork(std::string_view model, int64_t batch) {
  if (model == "mlp")
    return mlp(batch);
  if (model == "mobilenet")
    return mobilenet(batch);
  if (model == "resnet")
    return resnet(batch);
  return std::nullopt;
}

} // namespace nnc::bench
