// What the fusion passes buy: every example network and every fusion pattern of bench/models
// compiled three ways in one process (no passes; the default pipeline without the fusion passes;
// the default pipeline), timed in interleaved runs so that machine noise hits all three alike,
// with the tensor traffic each way and a check that the three agree. Prints a markdown table.
// Run: ./dev.sh bench-fusion [--batch B] [--runs R] [--threads T] [FILE.nn...]
#include "compiler/codegen/target.h"
#include "compiler/frontend/frontend.h"
#include "compiler/ir/internal_error.h"
#include "compiler/jit/graph_runner.h"
#include "compiler/jit/model_weights.h"
#include "compiler/passes/pipeline.h"
#include "runtime/tensor.h"
#include "runtime/thread_pool.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#ifndef NNC_SOURCE_DIR
#error "NNC_SOURCE_DIR (the source tree, for the default model files) must be defined"
#endif

namespace {

using nnc::runtime::Tensor;
using Tensors = std::map<std::string, Tensor>;

/// Outputs whose largest difference, relative to the largest magnitude of the output, exceeds
/// this are reported as disagreeing.
constexpr double kTolerance = 1e-4;
constexpr uint64_t kWeightSeed = 42;
constexpr unsigned kInputSeed = 1234;

struct Options {
  int64_t batch = 8;
  int runs = 20;
  int threads = 1;
  std::vector<std::string> files;
};

/// The three ways each model is compiled, in the order of the table's columns.
struct Variant {
  const char* label;
  const char* spec;
  bool fusion;
};
constexpr Variant kVariants[] = {
    {"none", "none", true}, {"no-fusion", "default", false}, {"default", "default", true}};
constexpr size_t kVariantCount = std::size(kVariants);

void printUsage() {
  fmt::print(
      "usage: nnc_fusion_bench [--batch B] [--runs R] [--threads T] [FILE.nn...]\n"
      "  Times each model with no passes, with the default passes but no fusion, and with the\n"
      "  default passes, in interleaved runs; reports median latencies, speed-ups and tensor\n"
      "  traffic. Defaults: --batch 8 --runs 20 --threads 1 (0: one per core), and every\n"
      "  examples/*.nn and bench/models/*.nn of the source tree.\n");
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
    if (arg == "--batch" || arg == "--runs" || arg == "--threads") {
      if (i + 1 == argc) {
        fmt::print(stderr, "nnc_fusion_bench: {} needs a value\n", arg);
        return std::nullopt;
      }
      std::string_view text = argv[++i];
      int64_t lo = arg == "--threads" ? 0 : 1;
      int64_t hi = arg == "--batch" ? 1 << 20 : arg == "--runs" ? 100000 : 1024;
      std::optional<int64_t> value = parseInt(text, lo, hi);
      if (!value) {
        fmt::print(stderr, "nnc_fusion_bench: {} takes an integer in [{}, {}], got '{}'\n", arg, lo,
                   hi, text);
        return std::nullopt;
      }
      if (arg == "--batch")
        options.batch = *value;
      else if (arg == "--runs")
        options.runs = static_cast<int>(*value);
      else
        options.threads = static_cast<int>(*value);
      continue;
    }
    if (arg.starts_with("-")) {
      fmt::print(stderr, "nnc_fusion_bench: unknown option '{}'\n", arg);
      printUsage();
      return std::nullopt;
    }
    options.files.emplace_back(arg);
  }
  return options;
}

/// Every examples/*.nn, then every bench/models/*.nn of the source tree, each set sorted.
std::vector<std::string> defaultFiles() {
  std::vector<std::string> files;
  for (const char* dir : {"examples", "bench/models"}) {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(NNC_SOURCE_DIR) / dir, ec))
      if (entry.path().extension() == ".nn")
        found.push_back(entry.path().string());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

/// The models of `path`, or nothing after printing why not (diagnostics go to stderr).
std::optional<nnc::ir::Module> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "nnc_fusion_bench: cannot open '{}'\n", path);
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

/// Inputs of `graph` with every symbolic dimension `batch` and values uniform in [-1, 1] from a
/// fixed seed (as `nnc bench` makes them).
Tensors syntheticInputs(const nnc::ir::Graph& graph, int64_t batch) {
  std::mt19937 random(kInputSeed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  Tensors inputs;
  for (nnc::ir::ValueId id : graph.inputs()) {
    const nnc::ir::Value& value = graph.value(id);
    Tensor tensor;
    for (const nnc::ir::Dim& dim : value.type.shape)
      tensor.shape.push_back(dim.isKnown() ? dim.size() : batch);
    tensor.data.resize(static_cast<size_t>(tensor.elementCount()));
    for (float& v : tensor.data)
      v = uniform(random);
    inputs[value.name] = std::move(tensor);
  }
  return inputs;
}

/// The largest difference between `a` and `b` over all outputs, each relative to the largest
/// magnitude of that output in `a` (absolute when the output is all zeros); infinity when the
/// outputs differ in names or shapes or a difference is NaN.
double maxRelativeDifference(const Tensors& a, const Tensors& b) {
  if (a.size() != b.size())
    return INFINITY;
  double worst = 0;
  for (const auto& [name, x] : a) {
    auto it = b.find(name);
    if (it == b.end() || it->second.shape != x.shape || it->second.data.size() != x.data.size())
      return INFINITY;
    const std::vector<float>& y = it->second.data;
    double scale = 0, diff = 0;
    for (size_t i = 0; i < x.data.size(); ++i) {
      scale = std::max(scale, std::fabs(static_cast<double>(x.data[i])));
      double d = std::fabs(static_cast<double>(x.data[i]) - static_cast<double>(y[i]));
      if (std::isnan(d))
        return INFINITY;
      diff = std::max(diff, d);
    }
    worst = std::max(worst, scale > 0 ? diff / scale : diff);
  }
  return worst;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double mebibytes(int64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

/// Compiles `graph` the three ways, times them and prints its row. Returns whether the three
/// agree.
bool benchModel(const nnc::ir::Graph& graph, const nnc::codegen::TargetIsa& isa,
                const Options& options) {
  const nnc::jit::Weights weights = nnc::jit::randomWeights(graph, kWeightSeed);
  std::vector<std::unique_ptr<nnc::jit::GraphRunner>> runners;
  for (const Variant& variant : kVariants) {
    auto parsed = nnc::passes::Pipeline::parse(variant.spec, variant.fusion);
    if (const std::string* error = std::get_if<std::string>(&parsed))
      throw nnc::InternalError(*error);
    runners.push_back(std::make_unique<nnc::jit::GraphRunner>(
        graph, isa, weights, options.threads, std::get<nnc::passes::Pipeline>(parsed)));
  }
  const Tensors inputs = syntheticInputs(graph, options.batch);

  // Warm up each once; these outputs are the ones compared.
  std::vector<Tensors> outputs;
  for (const std::unique_ptr<nnc::jit::GraphRunner>& runner : runners)
    outputs.push_back(runner->run(inputs));
  std::vector<std::vector<double>> times(kVariantCount);
  for (int r = 0; r < options.runs; ++r)
    for (size_t v = 0; v < kVariantCount; ++v) {
      auto start = std::chrono::steady_clock::now();
      Tensors result = runners[v]->run(inputs);
      times[v].push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }

  double diff = 0;
  for (size_t v = 1; v < kVariantCount; ++v)
    diff = std::max(diff, maxRelativeDifference(outputs[0], outputs[v]));
  bool agree = diff <= kTolerance;
  double none = median(times[0]), noFusion = median(times[1]), fused = median(times[2]);
  int64_t trafficNone = runners[0]->memoryUse().trafficBytes;
  int64_t trafficFused = runners[2]->memoryUse().trafficBytes;
  fmt::print(
      "| {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.2f}x | {:.2f}x | {:.2f} | {:.2f} | {:.2f} | "
      "{:.1e} | {} |\n",
      graph.name(), options.batch, none, noFusion, fused, none / fused, noFusion / fused,
      mebibytes(trafficNone), mebibytes(trafficFused), mebibytes(trafficNone - trafficFused), diff,
      agree ? "ok" : "**DIFFER**");
  std::fflush(stdout);
  return agree;
}

} // namespace

int main(int argc, char** argv) {
  int exitCode = 0;
  std::optional<Options> options = parseOptions(argc, argv, exitCode);
  if (!options)
    return exitCode;
  if (options->files.empty())
    options->files = defaultFiles();
  if (options->files.empty()) {
    fmt::print(stderr, "nnc_fusion_bench: no model files under {}\n", NNC_SOURCE_DIR);
    return 1;
  }
  std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName("host");
  if (!isa) {
    fmt::print(stderr, "nnc_fusion_bench: no ISA for this host\n");
    return 1;
  }

  fmt::print("| model | batch | none ms | no-fusion ms | default ms | speed-up none/default | "
             "speed-up no-fusion/default | traffic none MiB | traffic default MiB | traffic "
             "saved MiB | max rel diff | outputs |\n"
             "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  int status = 0;
  for (const std::string& file : options->files) {
    std::optional<nnc::ir::Module> module = load(file);
    if (!module) {
      status = 1;
      continue;
    }
    for (const nnc::ir::Graph& graph : module->models) {
      try {
        if (!benchModel(graph, *isa, *options))
          status = 1;
      } catch (const std::exception& error) { // a UserError, or a bug in nnc
        fmt::print(stderr, "nnc_fusion_bench: {}: model '{}': {}\n", file, graph.name(),
                   error.what());
        status = 1;
      }
    }
  }
  fmt::print("\nISA {}, {} thread(s); median of {} runs per column, interleaved (none, no-fusion, "
             "default, none, ...) after one warm-up each. none: no passes; no-fusion: the "
             "default pipeline without fuse-elementwise and fuse-epilogue; default: every pass. "
             "Random weights (seed {}; batchnorm is the identity), inputs uniform in [-1, 1] "
             "(seed {}). Traffic: bytes of the tensors every step reads and writes, weights not "
             "counted. Max rel diff: largest |difference| of no-fusion or default from none, "
             "over the largest |value| of the output (ok up to {:.0e}).\n",
             isa->name,
             options->threads > 0 ? options->threads : nnc::runtime::defaultThreadCount(),
             options->runs, kWeightSeed, kInputSeed, kTolerance);
  return status;
}
