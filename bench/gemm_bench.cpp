// nnc's JIT GEMM beside oneDNN, in one run and on the same threads (issue 6): the machine's FMA
// peak measured first, then the GEMM shapes of the example networks against dnnl_sgemm, the
// same shapes as dense layers with a fused relu against oneDNN's inner product, and every conv
// layer of the MobileNet-style and residual examples that runs on the GEMM against oneDNN's
// convolution with the same post-op, and the whole example networks against the same networks
// in oneDNN primitives. Prints markdown tables: time, GFLOP/s, % of the peak and oneDNN's time
// over nnc's.
// Run: ./dev.sh bench-gemm [--threads T] [--reps R] [--batch B]
#include "bench/fma_peak.h"
#include "bench/measure.h"
#include "bench/onednn_layers.h"
#include "bench/onednn_networks.h"
#include "compiler/codegen/depthwise_kernel.h"
#include "compiler/codegen/dot_kernel.h"
#include "compiler/codegen/gemm_kernel.h"
#include "compiler/codegen/target.h"
#include "compiler/frontend/frontend.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/dense_dot.h"
#include "compiler/jit/depthwise.h"
#include "compiler/jit/gemm_layers.h"
#include "compiler/jit/graph_runner.h"
#include "compiler/jit/jit.h"
#include "compiler/jit/model_weights.h"
#include "runtime/layers.h"
#include "runtime/tensor.h"
#include "runtime/thread_pool.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#ifndef NNC_SOURCE_DIR
#error "NNC_SOURCE_DIR (the source tree, for the example models) must be defined"
#endif

namespace {

using nnc::bench::ConvLayout;
using nnc::bench::EltwisePostOp;
using nnc::bench::kMinSampleSeconds;
using nnc::bench::kWarmUpSeconds;
using nnc::bench::maxRelativeDifference;
using nnc::bench::microsecondsPerCall;
using nnc::bench::randomFloats;
using nnc::bench::Rates;

/// Wall time the FMA peak loop runs per thread.
constexpr double kPeakSeconds = 0.2;
/// nnc and oneDNN outputs whose largest difference, relative to the largest magnitude of
/// oneDNN's output, exceeds this are flagged.
constexpr double kTolerance = 1e-4;
constexpr uint64_t kWeightSeed = 42;
constexpr unsigned kInputSeed = 1234;

struct Options {
  int threads = 1;
  int reps = 30;
  int64_t batch = 16;
  std::string only; ///< run only the rows whose label contains this

  bool runs(std::string_view label) const { return label.find(only) != std::string_view::npos; }
};

void printUsage() {
  fmt::print(
      "usage: nnc_gemm_bench [--threads T] [--reps R] [--batch B] [--only TEXT]\n"
      "  Measures the FMA peak, then times nnc's JIT GEMM and oneDNN side by side on the GEMM\n"
      "  shapes of the example networks (dnnl_sgemm; inner product with relu) and on the conv\n"
      "  layers of the MobileNet-style and residual examples at batch B (convolution with the\n"
      "  same post-op), then the whole example networks at batch 1 and B. Defaults: --threads 1\n"
      "  (0: one per core) --reps 30 --batch 16. --only runs the rows whose label (layer or\n"
      "  network) contains TEXT.\n");
}

/// `text` as an integer in [lo, hi], or nothing.
std::optional<int64_t> parseInt(std::string_view text, int64_t lo, int64_t hi) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < lo || value > hi)
    return std::nullopt;
  return value;
}

/// The options, or nothing after printing why not (or the usage, for --help: `exitCode` 0).
std::optional<Options> parseOptions(int argc, char** argv, int& exitCode) {
  Options options;
  exitCode = 2;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      printUsage();
      exitCode = 0;
      return std::nullopt;
    }
    if (arg != "--threads" && arg != "--reps" && arg != "--batch" && arg != "--only") {
      fmt::print(stderr, "nnc_gemm_bench: unknown argument '{}'\n", arg);
      printUsage();
      return std::nullopt;
    }
    if (i + 1 == argc) {
      fmt::print(stderr, "nnc_gemm_bench: {} needs a value\n", arg);
      return std::nullopt;
    }
    std::string_view text = argv[++i];
    if (arg == "--only") {
      options.only = text;
      continue;
    }
    int64_t lo = arg == "--threads" ? 0 : 1;
    int64_t hi = arg == "--threads" ? 1024 : arg == "--reps" ? 100000 : 4096;
    std::optional<int64_t> value = parseInt(text, lo, hi);
    if (!value) {
      fmt::print(stderr, "nnc_gemm_bench: {} takes an integer in [{}, {}], got '{}'\n", arg, lo, hi,
                 text);
      return std::nullopt;
    }
    if (arg == "--threads")
      options.threads = static_cast<int>(*value);
    else if (arg == "--reps")
      options.reps = static_cast<int>(*value);
    else
      options.batch = *value;
  }
  if (options.threads == 0)
    options.threads = nnc::runtime::defaultThreadCount();
  return options;
}

// ---------------------------------------------------------------------------------------------
// Activations fused after a layer: nnc's JIT activation kernel as the GEMM's epilogue, oneDNN's
// eltwise post-ops.

enum class Act { None, Relu, HardSwish, HardSigmoid };

struct Activation {
  const char* label;
  nnc::ir::OpKind op; ///< unused for Act::None
  std::vector<EltwisePostOp> onednn;
};

/// Indexed by Act. oneDNN 2.6 has no hardsigmoid: clamp(x/6 + 1/2, 0, 1) is linear then clip.
const std::array<Activation, 4>& activations() {
  using A = dnnl::algorithm;
  using nnc::ir::OpKind;
  static const std::array<Activation, 4> table = {
      Activation{"none", OpKind::Identity, {}},
      Activation{"relu", OpKind::Relu, {{A::eltwise_relu, 0, 0}}},
      Activation{"hard_swish", OpKind::HardSwish, {{A::eltwise_hardswish, 0, 0}}},
      Activation{"hard_sigmoid",
                 OpKind::HardSigmoid,
                 {{A::eltwise_linear, 1.0f / 6.0f, 0.5f}, {A::eltwise_clip, 0, 1}}},
  };
  return table;
}

const Activation& activation(Act act) {
  return activations()[static_cast<size_t>(act)];
}

/// The JIT code nnc runs: the GEMM micro-kernel, the activation kernels, and the micro-kernel
/// with each activation applied to its accumulators, in one Jit.
struct NncKernels {
  std::unique_ptr<nnc::jit::Jit> jit;
  nnc::jit::GemmKernel gemm;
  std::array<nnc::jit::UnaryKernel, 4> activations{};  ///< by Act; null for Act::None
  std::array<nnc::jit::GemmKernelFn, 4> inRegisters{}; ///< by Act; null for Act::None
  /// The same for the last tiles of r < MR rows: edgeInRegisters[act][r] (as a network compiles
  /// one for a conv2d whose output channels are not a multiple of MR).
  std::array<std::array<nnc::jit::GemmKernelFn, 8>, 4> edgeInRegisters{};
  unsigned mr = 0;
};

/// The kernels for `isa`, or the error text.
std::variant<NncKernels, std::string> compileNnc(const nnc::codegen::TargetIsa& isa) {
  NncKernels kernels;
  auto created = nnc::jit::Jit::create(isa);
  if (!created)
    return llvm::toString(created.takeError());
  kernels.jit = std::move(*created);
  kernels.mr = nnc::codegen::gemmTile(isa).mr;
  // Per activation: the whole tile's kernel ("gemm.actA"), then one per shorter height
  // ("gemm.actA.rR").
  std::vector<std::string> names;
  for (size_t a = 1; a < activations().size(); ++a)
    for (unsigned r = 0; r < kernels.mr; ++r)
      names.push_back("gemm.act" + std::to_string(a) + (r ? ".r" + std::to_string(r) : ""));
  for (const std::string& name : nnc::jit::gemmKernelNames(isa))
    names.push_back(name);
  auto gemm = nnc::jit::compileModule(
      *kernels.jit, "gemm",
      [&](llvm::Module& m) {
        size_t next = 0;
        for (size_t a = 1; a < activations().size(); ++a) {
          nnc::ir::OpKind op = activations()[a].op;
          auto epilogue =
              nnc::codegen::GemmEpilogue::activation(op, nnc::jit::activationAttrs(op, {}));
          for (unsigned r = 0; r < kernels.mr; ++r)
            nnc::codegen::emitGemmKernel(m, names[next++], isa, &epilogue, r);
        }
        nnc::jit::emitGemmKernels(m, isa);
      },
      names);
  if (const std::string* error = std::get_if<std::string>(&gemm))
    return *error;
  const std::vector<void*>& addresses = std::get<std::vector<void*>>(gemm);
  size_t next = 0;
  for (size_t a = 1; a < activations().size(); ++a)
    for (unsigned r = 0; r < kernels.mr; ++r) {
      auto fn = reinterpret_cast<nnc::jit::GemmKernelFn>(addresses[next++]);
      (r ? kernels.edgeInRegisters[a][r] : kernels.inRegisters[a]) = fn;
    }
  kernels.gemm = nnc::jit::gemmKernelAt(isa, addresses.data() + next);
  std::vector<nnc::jit::KernelRequest> requests;
  for (size_t a = 1; a < activations().size(); ++a) {
    nnc::ir::OpKind op = activations()[a].op;
    requests.push_back({"activation" + std::to_string(a), op, nnc::jit::activationAttrs(op, {})});
  }
  auto compiled = nnc::jit::compileActivations(*kernels.jit, requests);
  if (const std::string* error = std::get_if<std::string>(&compiled))
    return *error;
  const auto& fns = std::get<std::vector<nnc::jit::UnaryKernel>>(compiled);
  std::copy(fns.begin(), fns.end(), kernels.activations.begin() + 1);
  return kernels;
}

/// runtime::Epilogue's form of a unary kernel applied in place (context: the kernel's address).
void applyInPlace(const void* context, float* y, int64_t offset, int64_t count) {
  (*static_cast<const nnc::jit::UnaryKernel*>(context))(y + offset, y + offset, count);
}

/// `act` applied to the accumulators, as in a network's layer, with epilogue(act) for the tiles
/// that the edges cut; null for Act::None. `rows`: the GEMM's M when known when the layer is
/// compiled (a conv2d's output channels per group; 0 for a dense layer's batch), whose last
/// tiles then apply `act` in registers too.
std::optional<nnc::jit::TileEpilogue> inRegisters(const NncKernels& kernels, Act act,
                                                  int64_t rows) {
  nnc::jit::GemmKernelFn kernel = kernels.inRegisters[static_cast<size_t>(act)];
  if (!kernel)
    return std::nullopt;
  int64_t edge = rows % kernels.mr;
  return nnc::jit::TileEpilogue{kernel,
                                {nnc::codegen::TileLeaf::Accumulator},
                                {nullptr},
                                kernels.edgeInRegisters[static_cast<size_t>(act)][edge],
                                edge};
}

nnc::runtime::Epilogue epilogue(const NncKernels& kernels, Act act) {
  const nnc::jit::UnaryKernel& kernel = kernels.activations[static_cast<size_t>(act)];
  return kernel ? nnc::runtime::Epilogue{applyInPlace, &kernel} : nnc::runtime::Epilogue{};
}

// ---------------------------------------------------------------------------------------------
// Output.

std::string diffCell(double diff) {
  return fmt::format("{:.1e}{}", diff, diff <= kTolerance ? "" : " **DIFFER**");
}

// ---------------------------------------------------------------------------------------------
// GEMM shapes: the 256x784x512 and the MLP example's dense layers.

struct GemmShape {
  std::string label;
  int64_t m, k, n; ///< rows of x, inputs, units
};

std::vector<GemmShape> gemmShapes() {
  std::vector<GemmShape> shapes = {{"issue 6", 256, 784, 512}};
  for (int64_t batch : {1, 64, 256}) {
    shapes.push_back({fmt::format("mlp h1, N={}", batch), batch, 784, 512});
    shapes.push_back({fmt::format("mlp h2, N={}", batch), batch, 512, 512});
    shapes.push_back({fmt::format("mlp y, N={}", batch), batch, 512, 10});
  }
  return shapes;
}

/// One dense layer's operands, and what nnc runs it on, as in a network: the dot-product kernel
/// for a few units (not on SSE), else the GEMM on packed weights.
struct DenseCase {
  DenseCase(const GemmShape& shape, const NncKernels& kernels)
      : s(shape), x(randomFloats(static_cast<size_t>(shape.m * shape.k), 1)),
        weight(randomFloats(static_cast<size_t>(shape.n * shape.k), 2,
                            1 / std::sqrt(static_cast<float>(shape.k)))),
        bias(randomFloats(static_cast<size_t>(shape.n), 3)),
        packed(nnc::jit::packDenseWeights(kernels.gemm, weight.data(), shape.n, shape.k)) {
    const nnc::codegen::TargetIsa& isa = kernels.jit->isa();
    if (!nnc::jit::runsAsDot(shape.n, isa.kind))
      return;
    static int compiled = 0; // one JIT holds every case's kernel: a name of its own each
    std::string name = fmt::format("dot{}.{}", shape.n, compiled++);
    auto units = static_cast<unsigned>(shape.n);
    auto module = nnc::jit::compileModule(
        *kernels.jit, name,
        [&](llvm::Module& m) { nnc::codegen::emitDotKernel(m, name, isa, units); }, {name});
    if (const std::string* error = std::get_if<std::string>(&module))
      throw std::runtime_error("cannot compile the dot-product kernel: " + *error);
    dot = reinterpret_cast<nnc::jit::DotFn>(std::get<std::vector<void*>>(module).front());
  }

  /// y = x·weightᵀ + bias, then `epilogue` (in registers on the GEMM when `inRegisters`).
  void run(const NncKernels& kernels, float* y, nnc::runtime::Epilogue epilogue,
           nnc::runtime::ThreadPool& pool,
           const nnc::jit::TileEpilogue* inRegisters = nullptr) const {
    if (dot)
      nnc::jit::denseDot(dot, x.data(), s.m, s.k, weight.data(), bias.data(), s.n, y, epilogue,
                         pool);
    else
      nnc::jit::denseGemm(kernels.gemm, packed, x.data(), s.m, s.k, bias.data(), y, epilogue, pool,
                          inRegisters);
  }

  GemmShape s;
  std::vector<float> x, weight, bias;
  nnc::jit::PackedWeights packed;
  nnc::jit::DotFn dot = nullptr;
};

/// nnc's dense (bias, no epilogue) against dnnl_sgemm (no bias: the check subtracts nnc's).
void gemmTable(const NncKernels& kernels, nnc::runtime::ThreadPool& pool, const Rates& rates,
               const Options& options) {
  const int reps = options.reps;
  fmt::print("\n## GEMM: nnc dense (bias) vs dnnl_sgemm\n\n"
             "| shape | M x K x N | MFLOP | nnc µs | nnc GFLOP/s | nnc % peak | sgemm µs | "
             "sgemm GFLOP/s | sgemm % peak | speed nnc/oneDNN | max rel diff |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const GemmShape& s : gemmShapes()) {
    if (!options.runs(s.label))
      continue;
    DenseCase c(s, kernels);
    std::vector<float> y(static_cast<size_t>(s.m * s.n)), want(y.size());
    double nnc = microsecondsPerCall([&] { c.run(kernels, y.data(), {}, pool); }, reps);
    double sgemm = microsecondsPerCall(
        [&] { nnc::bench::oneDnnSgemm(s.m, s.k, s.n, c.x.data(), c.weight.data(), want.data()); },
        reps);
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t j = 0; j < s.n; ++j)
        y[static_cast<size_t>(i * s.n + j)] -= c.bias[static_cast<size_t>(j)];
    double flops = 2.0 * static_cast<double>(s.m * s.k * s.n);
    fmt::print("| {} | {}x{}x{} | {:.2f} | {:.1f} | {:.1f} | {:.0f}% | {:.1f} | {:.1f} | {:.0f}% | "
               "{:.2f}x | {} |\n",
               s.label, s.m, s.k, s.n, flops * 1e-6, nnc, rates.gflops(flops, nnc),
               rates.percent(flops, nnc), sgemm, rates.gflops(flops, sgemm),
               rates.percent(flops, sgemm), sgemm / nnc, diffCell(maxRelativeDifference(y, want)));
    std::fflush(stdout);
  }
}

/// nnc's dense with bias and a fused relu against oneDNN's inner product with bias and a relu
/// post-op.
void denseTable(const NncKernels& kernels, nnc::runtime::ThreadPool& pool, const Rates& rates,
                const Options& options) {
  const int reps = options.reps;
  fmt::print("\n## Dense + bias + relu: nnc (relu on the GEMM's accumulators) vs oneDNN inner "
             "product (relu post-op)\n\n"
             "| shape | M x K x N | nnc µs | nnc GFLOP/s | nnc % peak | oneDNN µs | oneDNN "
             "GFLOP/s | oneDNN % peak | speed nnc/oneDNN | oneDNN impl | max rel diff |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|\n");
  const Activation& relu = activation(Act::Relu);
  for (const GemmShape& s : gemmShapes()) {
    if (!options.runs(s.label))
      continue;
    DenseCase c(s, kernels);
    std::vector<float> y(static_cast<size_t>(s.m * s.n)), want(y.size());
    std::optional<nnc::jit::TileEpilogue> fused = inRegisters(kernels, Act::Relu, 0);
    nnc::runtime::Epilogue edges = epilogue(kernels, Act::Relu); // tiles cut by the edges
    double nnc = microsecondsPerCall([&] { c.run(kernels, y.data(), edges, pool, &*fused); }, reps);
    nnc::bench::OneDnnInnerProduct product(s.m, s.k, s.n, c.weight.data(), c.bias.data(),
                                           relu.onednn);
    double onednn = microsecondsPerCall([&] { product.run(c.x.data(), want.data()); }, reps);
    double flops = 2.0 * static_cast<double>(s.m * s.k * s.n);
    fmt::print("| {} | {}x{}x{} | {:.1f} | {:.1f} | {:.0f}% | {:.1f} | {:.1f} | {:.0f}% | {:.2f}x "
               "| {} | {} |\n",
               s.label, s.m, s.k, s.n, nnc, rates.gflops(flops, nnc), rates.percent(flops, nnc),
               onednn, rates.gflops(flops, onednn), rates.percent(flops, onednn), onednn / nnc,
               product.implementation(), diffCell(maxRelativeDifference(y, want)));
    std::fflush(stdout);
  }
}

// ---------------------------------------------------------------------------------------------
// Conv layers: every convolution of examples/mobilenet.nn and examples/resnet.nn that runs on
// the GEMM (the depthwise ones take runtime::conv2d's direct loop), batchnorm folded into a bias.

struct ConvLayer {
  const char* label;
  int64_t in, h, w, out, kernel, stride, pad;
  Act act;
};

std::vector<ConvLayer> convLayers() {
  return {
      // mobilenet: image [N, 3, 64, 64]
      {"mobilenet stem", 3, 64, 64, 16, 3, 2, 1, Act::HardSwish},
      {"mobilenet b1 expand", 16, 32, 32, 32, 1, 1, 0, Act::HardSwish},
      {"mobilenet b1 se squeeze", 32, 1, 1, 8, 1, 1, 0, Act::Relu},
      {"mobilenet b1 se gate", 8, 1, 1, 32, 1, 1, 0, Act::HardSigmoid},
      {"mobilenet b1 project", 32, 32, 32, 16, 1, 1, 0, Act::None},
      {"mobilenet b2 expand", 16, 32, 32, 64, 1, 1, 0, Act::HardSwish},
      {"mobilenet b2 se squeeze", 64, 1, 1, 8, 1, 1, 0, Act::Relu},
      {"mobilenet b2 se gate", 8, 1, 1, 64, 1, 1, 0, Act::HardSigmoid},
      {"mobilenet b2 project", 64, 16, 16, 24, 1, 1, 0, Act::None},
      {"mobilenet b3 expand", 24, 16, 16, 96, 1, 1, 0, Act::HardSwish},
      {"mobilenet b3 se squeeze", 96, 1, 1, 8, 1, 1, 0, Act::Relu},
      {"mobilenet b3 se gate", 8, 1, 1, 96, 1, 1, 0, Act::HardSigmoid},
      {"mobilenet b3 project", 96, 16, 16, 24, 1, 1, 0, Act::None},
      {"mobilenet head", 24, 16, 16, 128, 1, 1, 0, Act::HardSwish},
      // resnet: image [N, 3, 32, 32]
      {"resnet stem", 3, 32, 32, 16, 3, 1, 1, Act::Relu},
      {"resnet s1.a, s2.a", 16, 32, 32, 16, 3, 1, 1, Act::Relu},
      {"resnet s1.b, s2.b", 16, 32, 32, 16, 3, 1, 1, Act::None},
      {"resnet s3.a", 16, 32, 32, 32, 3, 2, 1, Act::Relu},
      {"resnet s3.skip", 16, 32, 32, 32, 1, 2, 0, Act::None},
      {"resnet s3.b, s4.b", 32, 16, 16, 32, 3, 1, 1, Act::None},
      {"resnet s4.a", 32, 16, 16, 32, 3, 1, 1, Act::Relu},
  };
}

nnc::runtime::Conv2dGeometry geometry(const ConvLayer& l, int64_t batch) {
  int64_t outH = (l.h + 2 * l.pad - l.kernel) / l.stride + 1;
  int64_t outW = (l.w + 2 * l.pad - l.kernel) / l.stride + 1;
  return {batch,    l.in,  l.h,   l.w, l.out, l.kernel, l.kernel, l.stride,
          l.stride, l.pad, l.pad, 1,   1,     1,        outH,     outW};
}

/// oneDNN's convolution of geometry `g` with `postOps`, timed on NCHW activations and on the
/// layout oneDNN prefers, and how far its outputs are from nnc's `y`.
struct OneDnnConvTimes {
  double nchw = 0, blocked = 0; ///< µs per call
  std::string implementations;  ///< "nchw impl / blocked impl (layouts)"
  double diff = 0;
};
OneDnnConvTimes timeOneDnnConv(const nnc::runtime::Conv2dGeometry& g, const std::vector<float>& x,
                               const std::vector<float>& weight, const std::vector<float>& bias,
                               const std::vector<EltwisePostOp>& postOps,
                               const std::vector<float>& y, int reps) {
  OneDnnConvTimes times;
  nnc::bench::OneDnnConv nchw(g, weight.data(), bias.data(), postOps, ConvLayout::Nchw);
  nchw.setInput(x.data());
  times.nchw = microsecondsPerCall([&] { nchw.run(); }, reps);
  nnc::bench::OneDnnConv blocked(g, weight.data(), bias.data(), postOps, ConvLayout::Preferred);
  blocked.setInput(x.data());
  times.blocked = microsecondsPerCall([&] { blocked.run(); }, reps);
  times.implementations = fmt::format("{} / {} ({})", nchw.implementation(),
                                      blocked.implementation(), blocked.layouts());
  times.diff =
      std::max(maxRelativeDifference(y, nchw.output()), maxRelativeDifference(y, blocked.output()));
  return times;
}

/// nnc's convGemm with the activation applied to the accumulators, as in a network, against
/// oneDNN's convolution with the same post-ops, on NCHW activations and on the layout oneDNN
/// prefers.
void convTable(const NncKernels& kernels, nnc::runtime::ThreadPool& pool, const Rates& rates,
               const Options& options) {
  const int reps = options.reps;
  const int64_t batch = options.batch;
  fmt::print("\n## Conv layers at batch {}: nnc (activation on the GEMM's accumulators) vs oneDNN "
             "convolution (same post-op)\n\n"
             "| layer | Cin->Cout, HxW->OHxOW, k/s | post-op | MFLOP | nnc µs | nnc GFLOP/s | "
             "nnc % peak | oneDNN nchw µs | speed nnc/oneDNN nchw | oneDNN blocked µs | oneDNN "
             "GFLOP/s | oneDNN % peak | speed nnc/oneDNN blocked | oneDNN impl nchw / blocked | "
             "max rel diff |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
             batch);
  for (const ConvLayer& l : convLayers()) {
    if (!options.runs(l.label))
      continue;
    nnc::runtime::Conv2dGeometry g = geometry(l, batch);
    int64_t depth = g.inChannels / g.groups * g.kernelH * g.kernelW;
    std::vector<float> x =
        randomFloats(static_cast<size_t>(g.batch * g.inChannels * g.inH * g.inW), 4);
    std::vector<float> weight = randomFloats(static_cast<size_t>(g.outChannels * depth), 5,
                                             1 / std::sqrt(static_cast<float>(depth)));
    std::vector<float> bias = randomFloats(static_cast<size_t>(g.outChannels), 6);
    std::vector<float> y(static_cast<size_t>(g.batch * g.outChannels * g.outH * g.outW));

    nnc::jit::PackedWeights packed = nnc::jit::packConvWeights(kernels.gemm, weight.data(), g);
    std::optional<nnc::jit::TileEpilogue> fused =
        inRegisters(kernels, l.act, g.outChannels / g.groups);
    double nnc = microsecondsPerCall(
        [&] {
          nnc::jit::convGemm(kernels.gemm, packed, x.data(), bias.data(), y.data(), g,
                             epilogue(kernels, l.act), pool, fused ? &*fused : nullptr);
        },
        reps);

    OneDnnConvTimes onednn = timeOneDnnConv(g, x, weight, bias, activation(l.act).onednn, y, reps);
    double flops = 2.0 * static_cast<double>(g.batch * g.outChannels * g.outH * g.outW * depth);
    fmt::print("| {} | {}->{}, {}x{}->{}x{}, {}/{} | {} | {:.2f} | {:.1f} | {:.1f} | {:.0f}% | "
               "{:.1f} | {:.2f}x | {:.1f} | {:.1f} | {:.0f}% | {:.2f}x | {} | {} |\n",
               l.label, g.inChannels, g.outChannels, g.inH, g.inW, g.outH, g.outW, l.kernel,
               l.stride, activation(l.act).label, flops * 1e-6, nnc, rates.gflops(flops, nnc),
               rates.percent(flops, nnc), onednn.nchw, onednn.nchw / nnc, onednn.blocked,
               rates.gflops(flops, onednn.blocked), rates.percent(flops, onednn.blocked),
               onednn.blocked / nnc, onednn.implementations, diffCell(onednn.diff));
    std::fflush(stdout);
  }
}

/// The depthwise 3x3 convolutions of the mobilenet example (hard_swish after each, as there),
/// on nnc's generated per-layer kernel against oneDNN's grouped convolution.
void depthwiseTable(const NncKernels& kernels, const nnc::codegen::TargetIsa& isa,
                    nnc::runtime::ThreadPool& pool, const Rates& rates, const Options& options) {
  const int reps = options.reps;
  const int64_t batch = options.batch;
  struct Layer {
    const char* label;
    int64_t channels, size, stride;
  };
  const Layer layers[] = {{"mobilenet b1 depthwise", 32, 32, 1},
                          {"mobilenet b2 depthwise", 64, 32, 2},
                          {"mobilenet b3 depthwise", 96, 16, 1}};
  fmt::print("\n## Depthwise 3x3 conv layers at batch {}: nnc (generated kernel, hard_swish on "
             "each plane) vs oneDNN grouped convolution (hard_swish post-op)\n\n"
             "| layer | C, HxW->OHxOW, s | MFLOP | nnc µs | nnc GFLOP/s | oneDNN nchw µs | "
             "speed nnc/oneDNN nchw | oneDNN blocked µs | speed nnc/oneDNN blocked | oneDNN impl "
             "nchw / blocked | max rel diff |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|\n",
             batch);
  int index = 0;
  for (const Layer& l : layers) {
    if (!options.runs(l.label))
      continue;
    int64_t out = (l.size + 2 - 3) / l.stride + 1;
    nnc::runtime::Conv2dGeometry g{batch, l.channels, l.size,   l.size, l.channels, 3,
                                   3,     l.stride,   l.stride, 1,      1,          1,
                                   1,     l.channels, out,      out};
    std::vector<float> x =
        randomFloats(static_cast<size_t>(g.batch * g.inChannels * g.inH * g.inW), 7);
    std::vector<float> weight = randomFloats(static_cast<size_t>(g.outChannels * 9), 8, 1 / 3.0f);
    std::vector<float> bias = randomFloats(static_cast<size_t>(g.outChannels), 9);
    std::vector<float> y(static_cast<size_t>(g.batch * g.outChannels * g.outH * g.outW));

    nnc::codegen::DepthwiseShape shape = nnc::jit::depthwiseShape(g, isa);
    std::string name = fmt::format("depthwise{}", index++);
    auto compiled = nnc::jit::compileModule(
        *kernels.jit, name,
        [&](llvm::Module& m) { nnc::codegen::emitDepthwiseKernel(m, name, isa, shape); }, {name});
    if (const std::string* error = std::get_if<std::string>(&compiled))
      throw std::runtime_error("cannot compile the depthwise kernel: " + *error);
    auto kernel =
        reinterpret_cast<nnc::jit::DepthwiseFn>(std::get<std::vector<void*>>(compiled).front());
    nnc::runtime::Epilogue fused = epilogue(kernels, Act::HardSwish);
    double nnc = microsecondsPerCall(
        [&] {
          nnc::jit::depthwiseConv(kernel, shape, x.data(), weight.data(), bias.data(), y.data(), g,
                                  fused, pool);
        },
        reps);

    OneDnnConvTimes onednn =
        timeOneDnnConv(g, x, weight, bias, activation(Act::HardSwish).onednn, y, reps);
    double flops = 2.0 * static_cast<double>(g.batch * g.outChannels * g.outH * g.outW * 9);
    fmt::print("| {} | {}, {}x{}->{}x{}, {} | {:.2f} | {:.1f} | {:.1f} | {:.1f} | {:.2f}x | "
               "{:.1f} | {:.2f}x | {} | {} |\n",
               l.label, g.inChannels, g.inH, g.inW, g.outH, g.outW, l.stride, flops * 1e-6, nnc,
               rates.gflops(flops, nnc), onednn.nchw, onednn.nchw / nnc, onednn.blocked,
               onednn.blocked / nnc, onednn.implementations, diffCell(onednn.diff));
    std::fflush(stdout);
  }
}

// ---------------------------------------------------------------------------------------------
// Whole networks: every examples/*.nn through nnc's GraphRunner (default passes), beside the
// same network written out in oneDNN primitives where bench/onednn_networks.cpp has it.

/// The models of `path`, or nothing after printing why not (diagnostics go to stderr).
std::optional<nnc::ir::Module> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "nnc_gemm_bench: cannot open '{}'\n", path);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  nnc::SourceFile source(path, text.str());
  nnc::DiagnosticEngine diagnostics(source);
  std::optional<nnc::ir::Module> module = nnc::compileToIR(source, diagnostics);
  std::cerr << diagnostics.render();
  return module;
}

/// Every examples/*.nn of the source tree, sorted.
std::vector<std::string> exampleFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(NNC_SOURCE_DIR) / "examples", ec))
    if (entry.path().extension() == ".nn")
      files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

/// A shape with every symbolic dimension `batch`.
std::vector<int64_t> bind(const nnc::ir::Shape& shape, int64_t batch) {
  std::vector<int64_t> sizes;
  for (const nnc::ir::Dim& dim : shape)
    sizes.push_back(dim.isKnown() ? dim.size() : batch);
  return sizes;
}

/// Inputs of `graph` at `batch`, uniform in [-1, 1] from a fixed seed (as `nnc bench`).
std::map<std::string, nnc::runtime::Tensor> syntheticInputs(const nnc::ir::Graph& graph,
                                                            int64_t batch) {
  std::map<std::string, nnc::runtime::Tensor> inputs;
  unsigned seed = kInputSeed;
  for (nnc::ir::ValueId id : graph.inputs()) {
    const nnc::ir::Value& value = graph.value(id);
    nnc::runtime::Tensor tensor;
    tensor.shape = bind(value.type.shape, batch);
    tensor.data = randomFloats(static_cast<size_t>(tensor.elementCount()), seed++);
    inputs[value.name] = std::move(tensor);
  }
  return inputs;
}

/// 2 x the multiply-adds of the graph's dense, conv2d and maxout layers at `batch`: each output
/// (of all pieces, for maxout) takes one weight row, whose length is the weight's size over the
/// output's axis 1.
double graphFlops(const nnc::ir::Graph& graph, int64_t batch) {
  double flops = 0;
  for (const nnc::ir::Node& node : graph.nodes()) {
    if (node.op != nnc::ir::OpKind::Dense && node.op != nnc::ir::OpKind::Conv2d &&
        node.op != nnc::ir::OpKind::Maxout)
      continue;
    std::vector<int64_t> result = bind(graph.value(node.result).type.shape, batch);
    double outputs = 1, weights = 1;
    for (int64_t size : result)
      outputs *= static_cast<double>(size);
    for (const nnc::ir::Param& param : node.params)
      if (param.role == "weight")
        for (int64_t size : bind(param.shape, batch))
          weights *= static_cast<double>(size);
    flops += 2 * outputs * weights / static_cast<double>(result.at(1));
  }
  return flops;
}

void networkTable(const nnc::codegen::TargetIsa& isa, const Rates& rates, const Options& options) {
  fmt::print("\n## Whole example networks: nnc (default passes) vs the same network in oneDNN "
             "primitives\n\n"
             "| model | batch | MFLOP | nnc µs | nnc GFLOP/s | nnc % peak | oneDNN µs | oneDNN "
             "GFLOP/s | oneDNN % peak | speed nnc/oneDNN | oneDNN primitives |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::vector<int64_t> batches = {1};
  if (options.batch != 1)
    batches.push_back(options.batch);
  for (const std::string& file : exampleFiles()) {
    std::optional<nnc::ir::Module> module = load(file);
    if (!module)
      continue;
    for (const nnc::ir::Graph& graph : module->models) {
      if (!options.runs(graph.name()))
        continue;
      nnc::jit::GraphRunner runner(graph, isa, nnc::jit::randomWeights(graph, kWeightSeed),
                                   options.threads);
      for (int64_t batch : batches) {
        const auto inputs = syntheticInputs(graph, batch);
        double nnc = microsecondsPerCall([&] { runner.run(inputs); }, options.reps);
        double flops = graphFlops(graph, batch);
        std::string onednnCells = "— | — | — | — | —";
        if (std::optional<nnc::bench::OneDnnNet> net =
                nnc::bench::oneDnnNetwork(graph.name(), batch)) {
          double onednn = microsecondsPerCall([&] { net->run(); }, options.reps);
          // The oneDNN network is written by hand: its FLOPs check that it is the same network.
          std::string mismatch =
              std::fabs(net->flops() - flops) > 1e-6 * flops
                  ? fmt::format(" (**oneDNN net: {:.2f} MFLOP**)", net->flops() * 1e-6)
                  : "";
          onednnCells = fmt::format("{:.1f} | {:.1f} | {:.0f}% | {:.2f}x | {}{}", onednn,
                                    rates.gflops(flops, onednn), rates.percent(flops, onednn),
                                    onednn / nnc, net->primitives(), mismatch);
        }
        fmt::print("| {} | {} | {:.2f} | {:.1f} | {:.1f} | {:.0f}% | {} |\n", graph.name(), batch,
                   flops * 1e-6, nnc, rates.gflops(flops, nnc), rates.percent(flops, nnc),
                   onednnCells);
        std::fflush(stdout);
      }
    }
  }
}

} // namespace

int main(int argc, char** argv) {
  int exitCode = 0;
  std::optional<Options> options = parseOptions(argc, argv, exitCode);
  if (!options)
    return exitCode;
  std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName("host");
  if (!isa) {
    fmt::print(stderr, "nnc_gemm_bench: no ISA for this host\n");
    return 1;
  }
  nnc::bench::useOneDnnThreads(options->threads);
  nnc::runtime::ThreadPool pool(options->threads);

  // The peak first, on an otherwise idle process.
  nnc::bench::FmaPeak peak = nnc::bench::measureFmaPeak(options->threads, kPeakSeconds);
  fmt::print("## FMA peak ({} x {} floats, 12 independent chains, {:.1f} s per thread)\n\n"
             "| threads | GFLOP/s per thread | GFLOP/s total |\n|---|---|---|\n"
             "| {} | {:.1f} | {:.1f} |\n",
             peak.instructions, peak.vectorFloats, kPeakSeconds, options->threads,
             fmt::join(peak.perThread, ", "), peak.gflops);

  auto compiled = compileNnc(*isa);
  if (const std::string* error = std::get_if<std::string>(&compiled)) {
    fmt::print(stderr, "nnc_gemm_bench: cannot compile the kernels for {}: {}\n", isa->name,
               *error);
    return 1;
  }
  const NncKernels& kernels = std::get<NncKernels>(compiled);
  Rates rates{peak.gflops};
  try {
    gemmTable(kernels, pool, rates, *options);
    denseTable(kernels, pool, rates, *options);
    convTable(kernels, pool, rates, *options);
    depthwiseTable(kernels, *isa, pool, rates, *options);
    networkTable(*isa, rates, *options);
  } catch (const std::exception& error) { // dnnl::error, or a bug in nnc
    fmt::print(stderr, "nnc_gemm_bench: {}\n", error.what());
    return 1;
  }

  fmt::print(
      "\nNotes\n\n"
      "- nnc: ISA {}, register tile {}x{}, {} thread(s) in its pool. {} on {} OpenMP "
      "thread(s).\n"
      "- Times: the median of {} samples, each the mean of enough back-to-back calls to last "
      "{:.0f} µs, after {:.0f} ms of untimed calls; nnc's side of a row is timed whole before "
      "oneDNN's.\n"
      "- GFLOP/s count 2·M·K·N (dense) or 2·N·Cout·OH·OW·(Cin/groups)·k·k (conv), not the bias "
      "nor the activation; % peak is of the FMA peak above, on as many threads; speed "
      "nnc/oneDNN is oneDNN's time over nnc's (above 1: nnc is faster).\n"
      "- Weights are packed (nnc) or reordered (oneDNN) once, outside the timing; nnc packs x "
      "on every call, as it does in a model. sgemm computes x·Wᵀ without the bias (nnc's is "
      "subtracted for the check).\n"
      "- Conv: oneDNN nchw keeps nnc's NCHW layout; oneDNN blocked chooses its own activation "
      "layouts (the source reordered outside the timing, as in a network kept in that layout). "
      "The depthwise 3x3 convolutions of mobilenet are not GEMMs and are not listed; batchnorm "
      "is folded into the bias; residual adds (resnet's b convs, mobilenet's b1 and b3 "
      "projections) are not fused here.\n"
      "- Whole networks: nnc's time is GraphRunner::run (input shapes bound and output tensors "
      "allocated on every run; weights seed {}, inputs seed {}). oneDNN's network is written "
      "out in bench/onednn_networks.cpp: activations and residual adds fused as post-ops, its "
      "own layouts, buffers allocated once, weights of its own (outputs not compared; its FLOPs "
      "are checked against nnc's graph). MFLOP counts the dense, conv2d (depthwise included) "
      "and maxout layers.\n"
      "- Max rel diff: the largest |nnc - oneDNN| over the largest |oneDNN| (flagged above "
      "{:.0e}).\n",
      isa->name, kernels.gemm.tile.mr, kernels.gemm.tile.nr, pool.threads(),
      nnc::bench::oneDnnDescription(), options->threads, options->reps, kMinSampleSeconds * 1e6,
      kWarmUpSeconds * 1e3, kWeightSeed, kInputSeed, kTolerance);
  return 0;
}
