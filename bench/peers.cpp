#include "bench/peers.h"

#include <omp.h>

#include <cmath>
#include <stdexcept>

namespace nnc::bench {

namespace {

std::optional<OneDnnForm> onednnForm(dnnl::algorithm algorithm, float alpha, float beta) {
  return OneDnnForm{algorithm, alpha, beta};
}

std::optional<XnnpackForm> xnnpackForm(XnnpackForm::Create create, XnnpackForm::Setup setup) {
  return XnnpackForm{create, setup};
}

/// The CPU engine every primitive shares.
const dnnl::engine& cpuEngine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

/// A plain vector of `n` floats.
dnnl::memory::desc vectorDesc(size_t n) {
  return dnnl::memory::desc({static_cast<dnnl::memory::dim>(n)}, dnnl::memory::data_type::f32,
                            dnnl::memory::format_tag::a);
}

dnnl::eltwise_forward eltwisePrimitive(const OneDnnForm& form, size_t n) {
  dnnl::eltwise_forward::desc op(dnnl::prop_kind::forward_inference, form.algorithm, vectorDesc(n),
                                 form.alpha, form.beta);
  return dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(op, cpuEngine()));
}

} // namespace

std::vector<PeerActivation> peerActivations() {
  using A = dnnl::algorithm;
  using ir::OpKind;
  return {
      {"relu",
       OpKind::Relu,
       {},
       onednnForm(A::eltwise_relu, 0, 0),
       xnnpackForm(
           [](xnn_operator_t* op) { return xnn_create_clamp_nc_f32(1, 1, 1, 0, INFINITY, 0, op); },
           xnn_setup_clamp_nc_f32)},
      {"relu6",
       OpKind::Relu6,
       {},
       onednnForm(A::eltwise_clip, 0, 6),
       xnnpackForm([](xnn_operator_t* op) { return xnn_create_clamp_nc_f32(1, 1, 1, 0, 6, 0, op); },
                   xnn_setup_clamp_nc_f32)},
      {"leaky_relu",
       OpKind::LeakyRelu,
       {},
       onednnForm(A::eltwise_relu, 0.01f, 0),
       xnnpackForm(
           [](xnn_operator_t* op) { return xnn_create_leaky_relu_nc_f32(1, 1, 1, 0.01f, 0, op); },
           xnn_setup_leaky_relu_nc_f32)},
      {"elu",
       OpKind::Elu,
       {},
       onednnForm(A::eltwise_elu, 1, 0),
       xnnpackForm([](xnn_operator_t* op) { return xnn_create_elu_nc_f32(1, 1, 1, 1.0f, 0, op); },
                   xnn_setup_elu_nc_f32)},
      {"selu", OpKind::Selu, {}, std::nullopt, std::nullopt},
      {"celu", OpKind::Celu, {}, std::nullopt, std::nullopt},
      {"sigmoid",
       OpKind::Sigmoid,
       {},
       onednnForm(A::eltwise_logistic, 0, 0),
       xnnpackForm([](xnn_operator_t* op) { return xnn_create_sigmoid_nc_f32(1, 1, 1, 0, op); },
                   xnn_setup_sigmoid_nc_f32)},
      {"tanh", OpKind::Tanh, {}, onednnForm(A::eltwise_tanh, 0, 0), std::nullopt},
      {"softplus", OpKind::Softplus, {}, onednnForm(A::eltwise_soft_relu, 0, 0), std::nullopt},
      {"softsign", OpKind::Softsign, {}, std::nullopt, std::nullopt},
      {"gelu(none)", OpKind::Gelu, {}, onednnForm(A::eltwise_gelu_erf, 0, 0), std::nullopt},
      {"gelu(tanh)",
       OpKind::Gelu,
       {{"approximate", std::string("tanh")}},
       onednnForm(A::eltwise_gelu_tanh, 0, 0),
       std::nullopt},
      {"silu", OpKind::Silu, {}, onednnForm(A::eltwise_swish, 1, 0), std::nullopt},
      {"mish", OpKind::Mish, {}, onednnForm(A::eltwise_mish, 0, 0), std::nullopt},
      {"hard_sigmoid", OpKind::HardSigmoid, {}, std::nullopt, std::nullopt},
      {"hard_swish",
       OpKind::HardSwish,
       {},
       onednnForm(A::eltwise_hardswish, 0, 0),
       xnnpackForm([](xnn_operator_t* op) { return xnn_create_hardswish_nc_f32(1, 1, 1, 0, op); },
                   xnn_setup_hardswish_nc_f32)},
      {"hard_tanh",
       OpKind::HardTanh,
       {},
       onednnForm(A::eltwise_clip, -1, 1),
       xnnpackForm(
           [](xnn_operator_t* op) { return xnn_create_clamp_nc_f32(1, 1, 1, -1, 1, 0, op); },
           xnn_setup_clamp_nc_f32)},
      {"thresholded_relu", OpKind::ThresholdedRelu, {}, std::nullopt, std::nullopt},
      {"identity", OpKind::Identity, {}, onednnForm(A::eltwise_linear, 1, 0), std::nullopt},
  };
}

void usePeersOnOneThread() {
  // oneDNN runs on OpenMP. OMP_NUM_THREADS is read when libgomp loads, before main, so set the
  // count through the API; it holds for the calling thread's parallel regions.
  omp_set_num_threads(1);
}

bool initializeXnnpack() {
  static const bool initialized = xnn_initialize(nullptr) == xnn_status_success;
  return initialized;
}

OneDnnEltwise::OneDnnEltwise(const OneDnnForm& form, size_t n)
    : stream_(cpuEngine()), primitive_(eltwisePrimitive(form, n)),
      src_(vectorDesc(n), cpuEngine(), DNNL_MEMORY_NONE),
      dst_(vectorDesc(n), cpuEngine(), DNNL_MEMORY_NONE) {}

void OneDnnEltwise::run(const float* x, float* y) {
  // Callers reuse their buffers: rewrap them only when they change, out of the timed path.
  if (x != x_) {
    src_.set_data_handle(const_cast<float*>(x)); // the source is only read
    x_ = x;
  }
  if (y != y_) {
    dst_.set_data_handle(y);
    y_ = y;
  }
  primitive_.execute(stream_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DST, dst_}});
  stream_.wait();
}

XnnpackUnary::XnnpackUnary(const XnnpackForm& form, size_t n) : setup_(form.setup), n_(n) {
  if (!initializeXnnpack())
    throw std::runtime_error("XNNPACK cannot run on this CPU");
  if (form.create(&op_) != xnn_status_success)
    throw std::runtime_error("XNNPACK operator creation failed");
}

XnnpackUnary::~XnnpackUnary() {
  xnn_delete_operator(op_);
}

void XnnpackUnary::run(const float* x, float* y) {
  if (setup_(op_, n_, x, y, nullptr) != xnn_status_success)
    throw std::runtime_error("XNNPACK operator setup failed");
  xnn_run_operator(op_, nullptr);
}

} // namespace nnc::bench
