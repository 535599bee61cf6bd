// nnc-accuracy: the largest error, in ULP, of each JIT-compiled activation on each ISA against
// the long-double reference, over a sweep of float bit patterns (every k-th) or all 2^32; with
// --peers, of oneDNN and XNNPACK too.
#include "compiler/codegen/activation_kernels.h"
#include "compiler/jit/compiled_activation.h"
#include "tools/accuracy/reference.h"
#ifdef NNC_HAVE_PEERS
#include "bench/peers.h"
#endif

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace {

using nnc::ir::AttrValue;
using nnc::ir::OpKind;

/// Inputs per call of the function under test.
constexpr size_t kChunk = size_t{1} << 16;

/// The function under test: y[i] = f(x[i]) for i < n. x and y hold kChunk floats, so a function
/// made for a fixed length (a peer's primitive) may process all of them.
using Apply = std::function<void(const float* x, float* y, int64_t n)>;

struct Measurement {
  double maxUlp = 0;
  float worstInput = 0;
  uint64_t points = 0;
};

/// Which inputs to measure: bit patterns 0, stride, 2 stride, ..., without NaN and infinities
/// when finiteOnly (some peers do not propagate NaN, which would hide their numeric error).
struct Sweep {
  uint64_t stride = 4099;
  bool finiteOnly = false;
  /// The peers' cells name their worst input.
  bool peerInputs = false;
  /// Only inputs in [low, high] (both ends included; NaN is outside every range but the
  /// default, the whole line).
  std::optional<std::pair<float, float>> range;

  bool takes(float x) const {
    if (finiteOnly && !std::isfinite(x))
      return false;
    return !range || (x >= range->first && x <= range->second);
  }
};

/// Runs `apply` over the sweep's inputs in chunks of kChunk.
Measurement measure(const Apply& apply, OpKind op, const std::vector<AttrValue>& attrs,
                    const Sweep& sweep) {
  const uint64_t stride = sweep.stride;
  Measurement m;
  std::vector<float> in(kChunk), out(kChunk);
  uint64_t bits = 0;
  while (bits <= 0xffffffffu) {
    size_t n = 0;
    for (; n < kChunk && bits <= 0xffffffffu; bits += stride) {
      float x = std::bit_cast<float>(static_cast<uint32_t>(bits));
      if (sweep.takes(x))
        in[n++] = x;
    }
    apply(in.data(), out.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) {
      double error = nnc::accuracy::ulpError(out[i], nnc::accuracy::reference(op, attrs, in[i]));
      if (error > m.maxUlp || std::isnan(error)) {
        m.maxUlp = error;
        m.worstInput = in[i];
      }
    }
    m.points += n;
  }
  return m;
}

/// A table cell: the max error in ULP ("inf" where a result is NaN or infinite and should not
/// be), and the input where it occurs when `where`.
std::string ulpCell(const Measurement& m, bool where = false) {
  if (where && m.maxUlp > 0)
    return fmt::format("{:.3g} at {:g}", m.maxUlp, m.worstInput);
  return fmt::format("{:.3g}", m.maxUlp);
}

#ifdef NNC_HAVE_PEERS
/// The peers' activation that is the same function as `op` with `attrs`: the same op with the
/// same resolved attributes (a peer's clamp to other bounds is another function); or null.
const nnc::bench::PeerActivation* samePeer(const std::vector<nnc::bench::PeerActivation>& peers,
                                           OpKind op, const std::vector<AttrValue>& attrs) {
  for (const nnc::bench::PeerActivation& peer : peers)
    if (peer.op == op && nnc::jit::activationAttrs(peer.op, peer.attrs) == attrs)
      return &peer;
  return nullptr;
}

/// One peer's cell: its max error in ULP over the same sweep as nnc's, "-" where the peer lacks
/// the function, the error where it refuses it. The peer is made for kChunk floats and runs on
/// whole chunks: its length is fixed at creation.
template <typename Peer, typename Form>
std::string peerCell(const std::optional<Form>& form, OpKind op,
                     const std::vector<AttrValue>& attrs, const Sweep& sweep) {
  if (!form)
    return "-";
  try {
    Peer peer(*form, kChunk);
    return ulpCell(
        measure([&](const float* x, float* y, int64_t) { peer.run(x, y); }, op, attrs, sweep),
        sweep.peerInputs);
  } catch (const std::exception& e) {
    return fmt::format("error: {}", e.what());
  }
}

/// The oneDNN and XNNPACK cells of one row.
std::string peerCells(const nnc::bench::PeerActivation* peer, OpKind op,
                      const std::vector<AttrValue>& attrs, const Sweep& sweep) {
  if (!peer)
    return " - | - |";
  return fmt::format(" {} | {} |",
                     peerCell<nnc::bench::OneDnnEltwise>(peer->onednn, op, attrs, sweep),
                     peerCell<nnc::bench::XnnpackUnary>(peer->xnnpack, op, attrs, sweep));
}
#endif

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measure the accuracy of nnc's activation kernels in ULP"};
  std::vector<std::string> isas = {"avx512", "avx2", "sse"};
  std::vector<std::string> ops;
  Sweep sweep;
  bool exhaustive = false;
  bool peers = false;
  app.add_option("--isa", isas, "ISAs to measure (default: avx512 avx2 sse)");
  app.add_option("--op", ops, "activations to measure (default: all)");
  app.add_option("--stride", sweep.stride, "test every k-th float bit pattern (default 4099)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--exhaustive", exhaustive, "test all 2^32 inputs (slow)");
  app.add_flag("--finite", sweep.finiteOnly, "leave out NaN and infinite inputs");
  app.add_flag("--peers", peers,
               "add columns for oneDNN and XNNPACK (needs a build with NNC_BUILD_BENCH=ON)");
  std::vector<float> range;
  app.add_option("--range", range, "only inputs x with LO <= x <= HI")
      ->expected(2)
      ->type_name("LO HI");
  app.add_flag("--peer-inputs", sweep.peerInputs, "name each peer's worst input in its cell");
  CLI11_PARSE(app, argc, argv);
  if (!range.empty()) {
    if (!(range[0] <= range[1])) {
      fmt::print(stderr, "nnc-accuracy: --range needs LO <= HI\n");
      return 2;
    }
    sweep.range = std::pair{range[0], range[1]};
  }
  if (exhaustive)
    sweep.stride = 1;
#ifdef NNC_HAVE_PEERS
  std::vector<nnc::bench::PeerActivation> peerTable;
  if (peers) {
    nnc::bench::usePeersOnOneThread();
    peerTable = nnc::bench::peerActivations();
  }
#else
  if (peers) {
    fmt::print(stderr,
               "nnc-accuracy: built without the peers; configure with NNC_BUILD_BENCH=ON\n");
    return 2;
  }
#endif

  struct Variant {
    nnc::ir::OpKind op;
    std::vector<std::pair<std::string_view, nnc::ir::AttrValue>> attrs;
    std::string label;
  };
  std::vector<Variant> variants;
  for (const nnc::ir::OpInfo& op : nnc::ir::allOps()) {
    if (!op.has(nnc::ir::kActivation) || op.kind == nnc::ir::OpKind::Prelu)
      continue;
    if (!ops.empty() && std::find(ops.begin(), ops.end(), op.name) == ops.end())
      continue;
    if (op.kind == nnc::ir::OpKind::Clamp)
      variants.push_back({op.kind, {{"min", -1.0}, {"max", 1.0}}, "clamp(-1, 1)"});
    else if (op.kind == nnc::ir::OpKind::Gelu) {
      variants.push_back({op.kind, {}, "gelu(none)"});
      variants.push_back({op.kind, {{"approximate", std::string("tanh")}}, "gelu(tanh)"});
    } else if (op.kind == nnc::ir::OpKind::LeakyRelu) {
      // The default (PyTorch's) and the slopes other frameworks and models use.
      variants.push_back({op.kind, {}, "leaky_relu"});
      for (double alpha : {0.1, 0.2, 0.3})
        variants.push_back({op.kind, {{"alpha", alpha}}, fmt::format("leaky_relu({})", alpha)});
    } else
      variants.push_back({op.kind, {}, std::string(op.name)});
  }

  const char* which = sweep.finiteOnly ? "finite " : "";
  std::string within =
      sweep.range ? fmt::format(" in [{:g}, {:g}]", sweep.range->first, sweep.range->second) : "";
  if (sweep.stride == 1)
    fmt::print("Max error in ULP over all {}float inputs{}.\n\n", which, within);
  else
    fmt::print("Max error in ULP over every {}-th float bit pattern (from 0 to 0xffffffff), {}{}."
               "\n\n",
               sweep.stride, sweep.finiteOnly ? "finite inputs only" : "all inputs", within);
  fmt::print("| activation |");
  for (const std::string& isa : isas)
    fmt::print(" {} |", isa);
  // The worst input is nnc's; the peers' columns come after it.
  fmt::print(" worst input |{}\n|---|", peers ? " oneDNN | XNNPACK |" : "");
  for (size_t i = 0; i < isas.size(); ++i)
    fmt::print("---|");
  fmt::print("---|{}\n", peers ? "---|---|" : "");
  int status = 0;
  for (const Variant& variant : variants) {
    std::vector<nnc::ir::AttrValue> attrs = nnc::jit::activationAttrs(variant.op, variant.attrs);
    fmt::print("| {} |", variant.label);
    float worst = 0;
    double worstUlp = -1;
    for (const std::string& name : isas) {
      std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName(name);
      if (!isa || !nnc::codegen::missingHostFeatures(*isa).empty()) {
        fmt::print(" n/a |");
        continue;
      }
      nnc::jit::CompiledActivation compiled(*isa, variant.op, attrs);
      if (!compiled.kernel()) {
        fmt::print(" error: {} |", compiled.error());
        status = 1;
        continue;
      }
      Measurement m = measure(compiled.kernel(), variant.op, attrs, sweep);
      fmt::print(" {} |", ulpCell(m));
      if (m.maxUlp > worstUlp) {
        worstUlp = m.maxUlp;
        worst = m.worstInput;
      }
    }
    fmt::print(" {} |", worstUlp > 0 ? fmt::format("{:g}", worst) : "-");
#ifdef NNC_HAVE_PEERS
    if (peers)
      fmt::print("{}", peerCells(samePeer(peerTable, variant.op, attrs), variant.op, attrs, sweep));
#endif
    fmt::print("\n");
    std::fflush(stdout);
  }
  return status;
}
