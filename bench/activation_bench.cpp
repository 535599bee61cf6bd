// Activation loops: nnc's JIT kernels on every ISA beside oneDNN's eltwise primitive, XNNPACK's
// unary operators, a plain -O3 -march=native C++ loop and a plain copy, one thread, at 4 Ki,
// 256 Ki and 16 Mi floats. Prints Google Benchmark's table, then a summary with the ratio of
// nnc to the best peer per row. Run: ./dev.sh bench (or build/release/bench/nnc_activation_bench).
#include "bench/peers.h"
#include "compiler/codegen/activation_kernels.h"
#include "compiler/jit/compiled_activation.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using nnc::bench::PeerActivation;
using Loop = std::function<void(const float*, float*, size_t)>;

/// 64-byte aligned float buffers of random inputs in [-5, 5] and outputs.
struct Buffers {
  explicit Buffers(size_t count) : n(count) {
    x = static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
    y = static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
    std::mt19937 random(42);
    std::uniform_real_distribution<float> values(-5, 5);
    for (size_t i = 0; i < n; ++i) {
      x[i] = values(random);
      y[i] = 0;
    }
  }
  ~Buffers() {
    std::free(x);
    std::free(y);
  }
  size_t n;
  float* x;
  float* y;
};

/// A plain loop whose body the compiler sees and inlines, as a user's own loop would be.
template <typename F> Loop plainLoop(F f) {
  return [f](const float* x, float* y, size_t n) {
    for (size_t i = 0; i < n; ++i)
      y[i] = f(x[i]);
  };
}

/// The plain -O3 -march=native C++ loop of every activation of peerActivations(), by label: they
/// stay here to be compiled with this target's flags.
std::map<std::string, Loop, std::less<>> plainLoops() {
  auto sigmoid = [](float v) { return 1 / (1 + std::exp(-v)); };
  return {
      {"relu", plainLoop([](float v) { return v < 0 ? 0 : v; })},
      {"relu6", plainLoop([](float v) { return std::min(std::max(v, 0.0f), 6.0f); })},
      {"leaky_relu", plainLoop([](float v) { return v >= 0 ? v : 0.01f * v; })},
      {"elu", plainLoop([](float v) { return v > 0 ? v : std::expm1(v); })},
      {"selu", plainLoop([](float v) {
         return 1.0507009873554805f * (v > 0 ? v : 1.6732632423543772f * std::expm1(v));
       })},
      {"celu",
       plainLoop([](float v) { return std::max(0.0f, v) + std::min(0.0f, std::expm1(v)); })},
      {"sigmoid", plainLoop(sigmoid)},
      {"tanh", plainLoop([](float v) { return std::tanh(v); })},
      {"softplus", plainLoop([](float v) { return v > 20 ? v : std::log1p(std::exp(v)); })},
      {"softsign", plainLoop([](float v) { return v / (1 + std::fabs(v)); })},
      {"gelu(none)", plainLoop([](float v) { return 0.5f * v * std::erfc(-v * 0.70710678f); })},
      {"gelu(tanh)", plainLoop([](float v) {
         return 0.5f * v * (1 + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
       })},
      {"silu", plainLoop([sigmoid](float v) { return v * sigmoid(v); })},
      {"mish", plainLoop([](float v) { return v * std::tanh(std::log1p(std::exp(v))); })},
      {"hard_sigmoid",
       plainLoop([](float v) { return std::min(std::max(v / 6 + 0.5f, 0.0f), 1.0f); })},
      {"hard_swish",
       plainLoop([](float v) { return v * std::min(std::max(v / 6 + 0.5f, 0.0f), 1.0f); })},
      {"hard_tanh", plainLoop([](float v) { return std::min(std::max(v, -1.0f), 1.0f); })},
      {"thresholded_relu", plainLoop([](float v) { return v > 1 ? v : 0; })},
      {"identity", plainLoop([](float v) { return v; })},
  };
}

struct Result {
  double elementsPerNs = 0;
};
std::map<std::string, Result> results; ///< by benchmark name

void measure(benchmark::State& state, size_t n, const Loop& loop) {
  Buffers buffers(n);
  for (auto _ : state) {
    loop(buffers.x, buffers.y, n);
    benchmark::DoNotOptimize(buffers.y);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n) * 8);
}

/// Records items/s of every run, by name, for the summary.
class Collector : public benchmark::ConsoleReporter {
public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto items = run.counters.find("items_per_second");
      if (items != run.counters.end())
        results[run.benchmark_name()].elementsPerNs = items->second.value / 1e9;
    }
  }
};

std::string sizeLabel(size_t n) {
  return n >= (1u << 20) ? fmt::format("{}Mi", n >> 20) : fmt::format("{}Ki", n >> 10);
}

} // namespace

/// Compile times of one activation module, each with a JIT of its own that is then dropped, as
/// when a program compiles one model after another; the kernels the benchmarks run are kept
/// alive separately (and fresh memory for each costs page faults that this does not count).
std::vector<double> compileTimes(const nnc::codegen::TargetIsa& isa, nnc::ir::OpKind op,
                                 const std::vector<nnc::ir::AttrValue>& attrs) {
  std::vector<double> times;
  for (int i = 0; i < 5; ++i)
    times.push_back(nnc::jit::CompiledActivation(isa, op, attrs).compileMilliseconds());
  return times;
}

int main(int argc, char** argv) {
  nnc::bench::usePeersOnOneThread();
  benchmark::Initialize(&argc, argv);
  if (!nnc::bench::initializeXnnpack())
    return 1;
  const std::vector<size_t> sizes = {size_t{4} << 10, size_t{256} << 10, size_t{16} << 20};
  const std::vector<std::string> isas = {"avx512", "avx2", "sse"};
  std::vector<std::unique_ptr<nnc::jit::CompiledActivation>> compiled;
  // Compile times by activation and ISA (one per size); the first compile of the process also
  // pays LLVM's one-time initialization and is reported apart.
  std::map<std::string, std::map<std::string, std::vector<double>>> compileMs;
  double setupMs = 0;
  double firstCompileMs = -1;
  const std::vector<PeerActivation> all = nnc::bench::peerActivations();
  const std::map<std::string, Loop, std::less<>> plain = plainLoops();

  for (size_t n : sizes) {
    std::string size = sizeLabel(n);
    benchmark::RegisterBenchmark(("copy/" + size).c_str(), [n](benchmark::State& s) {
      measure(s, n, [](const float* x, float* y, size_t count) {
        for (size_t i = 0; i < count; ++i)
          y[i] = x[i];
      });
    });
    for (const PeerActivation& a : all) {
      std::vector<nnc::ir::AttrValue> attrs = nnc::jit::activationAttrs(a.op, a.attrs);
      for (const std::string& isaName : isas) {
        std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName(isaName);
        if (!isa || !nnc::codegen::missingHostFeatures(*isa).empty())
          continue;
        compiled.push_back(std::make_unique<nnc::jit::CompiledActivation>(*isa, a.op, attrs));
        nnc::jit::UnaryKernel kernel = compiled.back()->kernel();
        if (!kernel)
          continue;
        if (firstCompileMs < 0)
          firstCompileMs = compiled.back()->compileMilliseconds();
        setupMs = std::max(setupMs, compiled.back()->setupMilliseconds());
        if (n == sizes.front())
          compileMs[a.label][isaName] = compileTimes(*isa, a.op, attrs);
        benchmark::RegisterBenchmark(fmt::format("nnc/{}/{}/{}", a.label, isaName, size).c_str(),
                                     [n, kernel](benchmark::State& s) {
                                       measure(s, n, [kernel](const float* x, float* y, size_t c) {
                                         kernel(x, y, static_cast<int64_t>(c));
                                       });
                                     });
      }
      if (a.onednn) {
        benchmark::RegisterBenchmark(
            fmt::format("onednn/{}/{}", a.label, size).c_str(),
            [n, form = *a.onednn](benchmark::State& s) {
              nnc::bench::OneDnnEltwise eltwise(form, n);
              measure(s, n, [&](const float* x, float* y, size_t) { eltwise.run(x, y); });
            });
      }
      if (a.xnnpack) {
        benchmark::RegisterBenchmark(
            fmt::format("xnnpack/{}/{}", a.label, size).c_str(),
            [n, form = *a.xnnpack](benchmark::State& s) {
              nnc::bench::XnnpackUnary unary(form, n);
              measure(s, n, [&](const float* x, float* y, size_t) { unary.run(x, y); });
            });
      }
      benchmark::RegisterBenchmark(
          fmt::format("loop/{}/{}", a.label, size).c_str(),
          [n, loop = plain.at(a.label)](benchmark::State& s) { measure(s, n, loop); });
    }
  }
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();

  // Summary: nnc's best ISA against the best of oneDNN and XNNPACK, and against the copy loop.
  fmt::print("\n| activation | size | nnc avx512 | nnc avx2 | nnc sse | oneDNN | XNNPACK | "
             "-O3 loop | copy | nnc/best peer | nnc/copy |\n");
  fmt::print("|---|---|---|---|---|---|---|---|---|---|---|\n");
  auto get = [](const std::string& name) {
    auto it = results.find(name);
    return it == results.end() ? 0.0 : it->second.elementsPerNs;
  };
  auto cell = [](double v) { return v > 0 ? fmt::format("{:.2f}", v) : std::string("-"); };
  for (const PeerActivation& a : all) {
    for (size_t n : sizes) {
      std::string size = sizeLabel(n);
      double best = 0;
      std::vector<double> nnc;
      for (const std::string& isa : isas) {
        nnc.push_back(get(fmt::format("nnc/{}/{}/{}", a.label, isa, size)));
        best = std::max(best, nnc.back());
      }
      double onednn = get(fmt::format("onednn/{}/{}", a.label, size));
      double xnnpack = get(fmt::format("xnnpack/{}/{}", a.label, size));
      double loop = get(fmt::format("loop/{}/{}", a.label, size));
      double copy = get("copy/" + size);
      double peer = std::max(onednn, xnnpack);
      if (best == 0 && peer == 0)
        continue; // filtered out of this run
      fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", a.label, size,
                 cell(nnc[0]), cell(nnc[1]), cell(nnc[2]), cell(onednn), cell(xnnpack), cell(loop),
                 cell(copy), peer > 0 ? fmt::format("{:.2f}x", best / peer) : "-",
                 copy > 0 ? fmt::format("{:.2f}x", best / copy) : "-");
    }
  }
  fmt::print("\nFigures in elements/ns (one thread).\n\nJIT compile time of one activation "
             "module (emit + optimize + codegen), median ms, avx512 / avx2 / sse:\n\n");
  fmt::print("| activation | ms |\n|---|---|\n");
  for (auto& [label, byIsa] : compileMs) {
    std::vector<std::string> cells;
    for (const std::string& isaName : isas) {
      std::vector<double>& times = byIsa[isaName];
      if (times.empty()) {
        cells.push_back("-");
        continue;
      }
      std::sort(times.begin(), times.end());
      cells.push_back(fmt::format("{:.1f}", times[times.size() / 2]));
    }
    fmt::print("| {} | {} |\n", label, fmt::join(cells, " / "));
  }
  fmt::print("\nOnce per process: LLVM's initialization, paid by the first compile ({:.1f} ms in "
             "all); setting up a JIT, once per ISA: up to {:.1f} ms.\n",
             firstCompileMs, setupMs);
  return 0;
}
