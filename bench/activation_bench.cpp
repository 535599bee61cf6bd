// Activation loops: nnc's JIT kernels on every ISA beside oneDNN's eltwise primitive, XNNPACK's
// unary operators, a plain -O3 -march=native C++ loop and a plain copy, one thread, at 4 Ki,
// 256 Ki and 16 Mi floats. Prints Google Benchmark's table, then a summary with the ratio of
// nnc to the best peer per row. Run: ./dev.sh bench (or build/release/bench/nnc_activation_bench).
#include "compiler/codegen/activation_kernels.h"
#include "compiler/jit/compiled_activation.h"

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <xnnpack.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>

namespace {

using nnc::ir::OpKind;
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

struct Activation {
  std::string label;
  OpKind op;
  std::vector<std::pair<std::string_view, nnc::ir::AttrValue>> attrs;
  std::optional<std::pair<dnnl::algorithm, std::pair<float, float>>> onednn;
  std::function<xnn_operator_t()> xnnpack; ///< creates the operator, or empty
  Loop plain;                              ///< the plain -O3 -march=native C++ loop
};

/// A plain loop whose body the compiler sees and inlines, as a user's own loop would be.
template <typename F> Loop plainLoop(F f) {
  return [f](const float* x, float* y, size_t n) {
    for (size_t i = 0; i < n; ++i)
      y[i] = f(x[i]);
  };
}

std::vector<Activation> activations() {
  auto sigmoid = [](float v) { return 1 / (1 + std::exp(-v)); };
  using A = dnnl::algorithm;
  auto xnn = [](auto create) {
    return std::function<xnn_operator_t()>([create] {
      xnn_operator_t op = nullptr;
      if (create(&op) != xnn_status_success)
        throw std::runtime_error("XNNPACK operator creation failed");
      return op;
    });
  };
  return {
      {"relu",
       OpKind::Relu,
       {},
       {{A::eltwise_relu, {0, 0}}},
       xnn([](xnn_operator_t* op) { return xnn_create_clamp_nc_f32(1, 1, 1, 0, INFINITY, 0, op); }),
       plainLoop([](float v) { return v < 0 ? 0 : v; })},
      {"relu6",
       OpKind::Relu6,
       {},
       {{A::eltwise_clip, {0, 6}}},
       xnn([](xnn_operator_t* op) { return xnn_create_clamp_nc_f32(1, 1, 1, 0, 6, 0, op); }),
       plainLoop([](float v) { return std::min(std::max(v, 0.0f), 6.0f); })},
      {"leaky_relu",
       OpKind::LeakyRelu,
       {},
       {{A::eltwise_relu, {0.01f, 0}}},
       xnn([](xnn_operator_t* op) { return xnn_create_leaky_relu_nc_f32(1, 1, 1, 0.01f, 0, op); }),
       plainLoop([](float v) { return v >= 0 ? v : 0.01f * v; })},
      {"elu",
       OpKind::Elu,
       {},
       {{A::eltwise_elu, {1, 0}}},
       xnn([](xnn_operator_t* op) { return xnn_create_elu_nc_f32(1, 1, 1, 1.0f, 0, op); }),
       plainLoop([](float v) { return v > 0 ? v : std::expm1(v); })},
      {"selu", OpKind::Selu, {}, {}, {}, plainLoop([](float v) {
         return 1.0507009873554805f * (v > 0 ? v : 1.6732632423543772f * std::expm1(v));
       })},
      {"celu", OpKind::Celu, {}, {}, {}, plainLoop([](float v) {
         return std::max(0.0f, v) + std::min(0.0f, std::expm1(v));
       })},
      {"sigmoid",
       OpKind::Sigmoid,
       {},
       {{A::eltwise_logistic, {0, 0}}},
       xnn([](xnn_operator_t* op) { return xnn_create_sigmoid_nc_f32(1, 1, 1, 0, op); }),
       plainLoop(sigmoid)},
      {"tanh", OpKind::Tanh, {}, {{A::eltwise_tanh, {0, 0}}}, {}, plainLoop([](float v) {
         return std::tanh(v);
       })},
      {"softplus",
       OpKind::Softplus,
       {},
       {{A::eltwise_soft_relu, {0, 0}}},
       {},
       plainLoop([](float v) { return v > 20 ? v : std::log1p(std::exp(v)); })},
      {"softsign", OpKind::Softsign, {}, {}, {}, plainLoop([](float v) {
         return v / (1 + std::fabs(v));
       })},
      {"gelu(none)", OpKind::Gelu, {}, {{A::eltwise_gelu_erf, {0, 0}}}, {}, plainLoop([](float v) {
         return 0.5f * v * std::erfc(-v * 0.70710678f);
       })},
      {"gelu(tanh)",
       OpKind::Gelu,
       {{"approximate", std::string("tanh")}},
       {{A::eltwise_gelu_tanh, {0, 0}}},
       {},
       plainLoop([](float v) {
         return 0.5f * v * (1 + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
       })},
      {"silu", OpKind::Silu, {}, {{A::eltwise_swish, {1, 0}}}, {}, plainLoop([sigmoid](float v) {
         return v * sigmoid(v);
       })},
      {"mish", OpKind::Mish, {}, {{A::eltwise_mish, {0, 0}}}, {}, plainLoop([](float v) {
         return v * std::tanh(std::log1p(std::exp(v)));
       })},
      {"hard_sigmoid", OpKind::HardSigmoid, {}, {}, {}, plainLoop([](float v) {
         return std::min(std::max(v / 6 + 0.5f, 0.0f), 1.0f);
       })},
      {"hard_swish",
       OpKind::HardSwish,
       {},
       {{A::eltwise_hardswish, {0, 0}}},
       xnn([](xnn_operator_t* op) { return xnn_create_hardswish_nc_f32(1, 1, 1, 0, op); }),
       plainLoop([](float v) { return v * std::min(std::max(v / 6 + 0.5f, 0.0f), 1.0f); })},
      {"hard_tanh",
       OpKind::HardTanh,
       {},
       {{A::eltwise_clip, {-1, 1}}},
       xnn([](xnn_operator_t* op) { return xnn_create_clamp_nc_f32(1, 1, 1, -1, 1, 0, op); }),
       plainLoop([](float v) { return std::min(std::max(v, -1.0f), 1.0f); })},
      {"thresholded_relu", OpKind::ThresholdedRelu, {}, {}, {}, plainLoop([](float v) {
         return v > 1 ? v : 0;
       })},
      {"identity", OpKind::Identity, {}, {{A::eltwise_linear, {1, 0}}}, {}, plainLoop([](float v) {
         return v;
       })},
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

int main(int argc, char** argv) {
  // oneDNN (OpenMP) on one thread, like the others; OMP_NUM_THREADS is read when libgomp loads,
  // before main, so set the count through the API.
  omp_set_num_threads(1);
  benchmark::Initialize(&argc, argv);
  if (xnn_initialize(nullptr) != xnn_status_success)
    return 1;
  const std::vector<size_t> sizes = {size_t{4} << 10, size_t{256} << 10, size_t{16} << 20};
  const std::vector<std::string> isas = {"avx512", "avx2", "sse"};
  std::vector<std::unique_ptr<nnc::jit::CompiledActivation>> compiled;
  std::map<std::string, double> compileMs;
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(engine);
  std::vector<Activation> all = activations();

  for (size_t n : sizes) {
    std::string size = sizeLabel(n);
    benchmark::RegisterBenchmark(("copy/" + size).c_str(), [n](benchmark::State& s) {
      measure(s, n, [](const float* x, float* y, size_t count) {
        for (size_t i = 0; i < count; ++i)
          y[i] = x[i];
      });
    });
    for (const Activation& a : all) {
      std::vector<nnc::ir::AttrValue> attrs = nnc::jit::activationAttrs(a.op, a.attrs);
      for (const std::string& isaName : isas) {
        std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName(isaName);
        if (!isa || !nnc::codegen::missingHostFeatures(*isa).empty())
          continue;
        compiled.push_back(std::make_unique<nnc::jit::CompiledActivation>(*isa, a.op, attrs));
        nnc::jit::UnaryKernel kernel = compiled.back()->kernel();
        if (!kernel)
          continue;
        compileMs[a.label] = compiled.back()->compileMilliseconds();
        benchmark::RegisterBenchmark(fmt::format("nnc/{}/{}/{}", a.label, isaName, size).c_str(),
                                     [n, kernel](benchmark::State& s) {
                                       measure(s, n, [kernel](const float* x, float* y, size_t c) {
                                         kernel(x, y, static_cast<int64_t>(c));
                                       });
                                     });
      }
      if (a.onednn) {
        auto [algorithm, params] = *a.onednn;
        benchmark::RegisterBenchmark(
            fmt::format("onednn/{}/{}", a.label, size).c_str(),
            [n, algorithm = algorithm, params = params, &engine, &stream](benchmark::State& s) {
              dnnl::memory::desc md({static_cast<dnnl::memory::dim>(n)},
                                    dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
              dnnl::eltwise_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, md,
                                               params.first, params.second);
              dnnl::eltwise_forward primitive(dnnl::eltwise_forward::primitive_desc(desc, engine));
              std::optional<dnnl::memory> src, dst;
              measure(s, n, [&](const float* x, float* y, size_t) {
                if (!src) { // the buffers stay the same across iterations: wrap them once
                  src.emplace(md, engine, const_cast<float*>(x));
                  dst.emplace(md, engine, y);
                }
                primitive.execute(stream, {{DNNL_ARG_SRC, *src}, {DNNL_ARG_DST, *dst}});
                stream.wait();
              });
            });
      }
      if (a.xnnpack) {
        benchmark::RegisterBenchmark(fmt::format("xnnpack/{}/{}", a.label, size).c_str(),
                                     [n, create = a.xnnpack, label = a.label](benchmark::State& s) {
                                       xnn_operator_t op = create();
                                       measure(s, n, [&](const float* x, float* y, size_t c) {
                                         // setup is per call in this XNNPACK version
                                         auto setup =
                                             label == "sigmoid"      ? xnn_setup_sigmoid_nc_f32
                                             : label == "elu"        ? xnn_setup_elu_nc_f32
                                             : label == "hard_swish" ? xnn_setup_hardswish_nc_f32
                                             : label == "leaky_relu" ? xnn_setup_leaky_relu_nc_f32
                                                                     : xnn_setup_clamp_nc_f32;
                                         setup(op, c, x, y, nullptr);
                                         xnn_run_operator(op, nullptr);
                                       });
                                       xnn_delete_operator(op);
                                     });
      }
      benchmark::RegisterBenchmark(
          fmt::format("loop/{}/{}", a.label, size).c_str(),
          [n, loop = a.plain](benchmark::State& s) { measure(s, n, loop); });
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
  for (const Activation& a : all) {
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
  fmt::print("\nFigures in elements/ns (one thread). JIT compile time of one activation module "
             "(emit + optimize + codegen), ms:");
  for (const auto& [label, ms] : compileMs)
    fmt::print(" {} {:.1f};", label, ms);
  fmt::print("\n");
  xnn_deinitialize();
  return 0;
}
