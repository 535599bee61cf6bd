// The peer libraries, oneDNN's eltwise primitive and XNNPACK's unary operators, per activation
// and on one thread: what the activation benchmark times and nnc-accuracy measures beside nnc.
#pragma once

#include "compiler/ir/op_table.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <xnnpack.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nnc::bench {

/// oneDNN's form of an activation: an eltwise algorithm with its alpha and beta.
struct OneDnnForm {
  dnnl::algorithm algorithm;
  float alpha;
  float beta;
};

/// XNNPACK's form of an activation: creates the operator (one channel) and binds it to a batch
/// and its buffers (setup, needed before every run in this XNNPACK version).
struct XnnpackForm {
  using Create = xnn_status (*)(xnn_operator_t* op);
  using Setup = xnn_status (*)(xnn_operator_t op, size_t batch, const float* x, float* y,
                               pthreadpool_t threads);
  Create create;
  Setup setup;
};

/// One activation as nnc spells it (op and the attributes that differ from the defaults) and as
/// each peer spells it, where the peer has it.
struct PeerActivation {
  std::string label;
  ir::OpKind op;
  std::vector<std::pair<std::string_view, ir::AttrValue>> attrs;
  std::optional<OneDnnForm> onednn;
  std::optional<XnnpackForm> xnnpack;
};

/// The activations of the benchmark, in its order, with each peer's form.
std::vector<PeerActivation> peerActivations();

/// Makes oneDNN run on one thread, like nnc and XNNPACK here. Call it first in main, from the
/// thread that runs the primitives.
void usePeersOnOneThread();

/// Initializes XNNPACK, once per process; false if it cannot run on this CPU.
bool initializeXnnpack();

/// oneDNN's eltwise primitive over `n` contiguous floats.
class OneDnnEltwise {
public:
  OneDnnEltwise(const OneDnnForm& form, size_t n);
  /// y[i] = f(x[i]) for i < n; x and y hold n floats each.
  void run(const float* x, float* y);

private:
  dnnl::stream stream_;
  dnnl::eltwise_forward primitive_;
  dnnl::memory src_;
  dnnl::memory dst_;
  const float* x_ = nullptr; ///< the buffer src_ wraps
  float* y_ = nullptr;       ///< the buffer dst_ wraps
};

/// XNNPACK's unary operator over `n` contiguous floats, without a thread pool.
class XnnpackUnary {
public:
  /// Throws std::runtime_error if XNNPACK cannot initialize or create the operator.
  XnnpackUnary(const XnnpackForm& form, size_t n);
  ~XnnpackUnary();
  XnnpackUnary(const XnnpackUnary&) = delete;
  XnnpackUnary& operator=(const XnnpackUnary&) = delete;

  /// y[i] = f(x[i]) for i < n; x and y hold n floats each.
  void run(const float* x, float* y);

private:
  xnn_operator_t op_ = nullptr;
  XnnpackForm::Setup setup_;
  size_t n_;
};

} // namespace nnc::bench
