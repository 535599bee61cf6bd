// nnc run, nnc bench and nnc init-weights: the commands that compile and execute a model.
#include "compiler/jit/graph_runner.h"
#include "runtime/npy.h"
#include "runtime/safetensors.h"
#include "tools/nnc/commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace nnc::driver {

namespace {

using runtime::Tensor;
using runtime::UserError;

/// NAME=PATH
std::pair<std::string, std::string> splitBinding(const std::string& text, const char* option) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw UserError(fmt::format("{} takes NAME=FILE.npy, got '{}'", option, text));
  return {text.substr(0, eq), text.substr(eq + 1)};
}

/// A model file compiled to IR, with the chosen model.
struct LoadedModel {
  ir::Module module;
  const ir::Graph* graph = nullptr;
};

std::optional<LoadedModel> load(const std::string& file, const std::string& model) {
  std::optional<SourceFile> source = readSource(file);
  if (!source)
    return std::nullopt;
  std::optional<ir::Module> module = compileFile(*source);
  if (!module)
    return std::nullopt;
  LoadedModel loaded{std::move(*module), nullptr};
  loaded.graph = &chooseModel(loaded.module, file, model);
  return loaded;
}

codegen::TargetIsa targetFor(const std::string& name) {
  std::optional<codegen::TargetIsa> isa = codegen::isaByName(name);
  if (!isa)
    throw UserError(fmt::format("unknown ISA '{}'", name));
  return *isa;
}

void printSummary(const std::string& name, const Tensor& tensor) {
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (float v : tensor.data) {
    sum += v;
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
  }
  double mean = tensor.data.empty() ? 0 : sum / static_cast<double>(tensor.data.size());
  fmt::print("{}: f32{} min {:.6g} max {:.6g} mean {:.6g}\n", name,
             runtime::formatShape(tensor.shape), lo, hi, mean);
}

/// Inputs of `graph` with every symbolic dimension `batch` and values uniform in [-1, 1] from a
/// fixed seed.
std::map<std::string, Tensor> syntheticInputs(const ir::Graph& graph, int64_t batch) {
  std::mt19937 random(1234);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::map<std::string, Tensor> inputs;
  for (ir::ValueId id : graph.inputs()) {
    const ir::Value& value = graph.value(id);
    Tensor tensor;
    for (const ir::Dim& dim : value.type.shape)
      tensor.shape.push_back(dim.isKnown() ? dim.size() : batch);
    tensor.data.resize(static_cast<size_t>(tensor.elementCount()));
    for (float& v : tensor.data)
      v = uniform(random);
    inputs[value.name] = std::move(tensor);
  }
  return inputs;
}

} // namespace

std::unique_ptr<jit::ObjectCache> cacheFor(const ModelOptions& options) {
  std::string directory = jit::ObjectCache::defaultDirectory();
  if (!options.cache || directory.empty())
    return nullptr;
  return std::make_unique<jit::ObjectCache>(directory);
}

int runModel(const RunOptions& options) {
  std::optional<LoadedModel> loaded = load(options.model.file, options.model.model);
  if (!loaded)
    return kExitError;
  const ir::Graph& graph = *loaded->graph;
  codegen::TargetIsa isa = targetFor(options.model.isa);
  std::map<std::string, Tensor> inputs;
  for (const std::string& binding : options.inputs) {
    auto [name, path] = splitBinding(binding, "--input");
    if (inputs.count(name))
      throw UserError(fmt::format("input '{}' is given twice", name));
    inputs[name] = runtime::readNpy(path);
  }
  std::vector<std::pair<std::string, std::string>> outputs;
  std::vector<std::string> outputNames;
  for (const ir::Output& output : graph.outputs())
    outputNames.push_back(output.name);
  for (const std::string& binding : options.outputs) {
    auto [name, path] = splitBinding(binding, "--output");
    if (std::find(outputNames.begin(), outputNames.end(), name) == outputNames.end())
      throw UserError(fmt::format("model '{}' has no output named '{}'{}", graph.name(), name,
                                  didYouMean(name, outputNames)));
    outputs.emplace_back(name, path);
  }
  std::unique_ptr<jit::ObjectCache> cache = cacheFor(options.model);
  jit::GraphRunner runner(graph, isa, loadWeights(graph, options.model.weights),
                          options.model.threads, pipelineFor(options.model.passes), cache.get());
  std::map<std::string, Tensor> results = runner.run(inputs);
  if (outputs.empty())
    for (const std::string& name : outputNames)
      printSummary(name, results.at(name));
  for (const auto& [name, path] : outputs)
    runtime::writeNpy(path, results.at(name));
  return kExitOk;
}

namespace {

/// A model's steps by time per run, longest first, with their share of the total.
void printProfile(const std::string& model, std::vector<jit::StepProfile> steps) {
  double total = 0;
  for (const jit::StepProfile& step : steps)
    total += step.runs ? step.milliseconds / static_cast<double>(step.runs) : 0;
  std::stable_sort(steps.begin(), steps.end(),
                   [](const auto& a, const auto& b) { return a.milliseconds > b.milliseconds; });
  fmt::print("\nProfile of {} (ms per run, {:.3f} ms in all):\n\n| step | ms | share |\n"
             "|---|---|---|\n",
             model, total);
  for (const jit::StepProfile& step : steps) {
    double ms = step.runs ? step.milliseconds / static_cast<double>(step.runs) : 0;
    fmt::print("| {} | {:.3f} | {:.1f}% |\n", step.step, ms, total > 0 ? 100 * ms / total : 0);
  }
}

} // namespace

int runBench(const BenchOptions& options) {
  codegen::TargetIsa isa = targetFor(options.model.isa);
  passes::Pipeline pipeline = pipelineFor(options.model.passes);
  std::unique_ptr<jit::ObjectCache> cache = cacheFor(options.model);
  fmt::print("| model | batch | compile ms | code | weights ms | median latency ms | checksum | "
             "peak buffers / all intermediates | tensor traffic |\n"
             "|---|---|---|---|---|---|---|---|---|\n");
  int status = kExitOk;
  std::vector<std::pair<std::string, std::vector<jit::StepProfile>>> profiles;
  for (const std::string& file : options.files) {
    auto parseStart = std::chrono::steady_clock::now();
    std::optional<LoadedModel> loaded = load(file, options.model.model);
    if (!loaded) {
      status = kExitError;
      continue;
    }
    double parseMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - parseStart)
            .count();
    const ir::Graph& graph = *loaded->graph;
    jit::GraphRunner runner(graph, isa, loadWeights(graph, options.model.weights),
                            options.model.threads, pipeline, cache.get());
    std::map<std::string, Tensor> inputs = syntheticInputs(graph, options.batch);
    std::map<std::string, Tensor> results = runner.run(inputs); // warm-up
    std::vector<double> times;
    for (int i = 0; i < options.runs; ++i) {
      auto start = std::chrono::steady_clock::now();
      results = runner.run(inputs);
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    std::sort(times.begin(), times.end());
    if (options.profile) {
      // Separate runs, so that the clock reads do not touch the latencies above.
      runner.setProfiling(true);
      for (int i = 0; i < options.runs; ++i)
        runner.run(inputs);
      profiles.emplace_back(graph.name(), runner.profile());
    }
    double checksum = 0;
    for (const auto& [name, tensor] : results)
      for (float v : tensor.data)
        checksum += v;
    const jit::MemoryUse& memory = runner.memoryUse();
    fmt::print("| {} | {} | {:.1f} | {} | {:.1f} | {:.3f} | {:.6g} | {:.1f} / {:.1f} KiB | {:.1f} "
               "KiB |\n",
               graph.name(), options.batch, parseMs + runner.compileMilliseconds(),
               runner.codeFromCache() ? "cached" : "compiled", runner.weightsMilliseconds(),
               times[times.size() / 2], checksum, static_cast<double>(memory.peakBytes) / 1024,
               static_cast<double>(memory.intermediateBytes) / 1024,
               static_cast<double>(memory.trafficBytes) / 1024);
  }
  fmt::print(
      "\nISA {}, {} thread(s), passes: {}; median of {} runs after one warm-up; inputs "
      "uniform in [-1, 1] (seed 1234). Compile ms: parse to native code; code: compiled by LLVM "
      "or loaded from the compile cache{}; weights ms: packing the weights for the kernels.\n",
      isa.name, options.model.threads > 0 ? options.model.threads : runtime::defaultThreadCount(),
      pipeline.names().empty() ? "none" : fmt::format("{}", fmt::join(pipeline.names(), ",")),
      options.runs, cache ? " (" + cache->directory() + ")" : " (off)");
  for (auto& [name, steps] : profiles)
    printProfile(name, steps);
  return status;
}

int runInitWeights(const std::string& file, const std::string& model, const std::string& output,
                   uint64_t seed) {
  std::optional<LoadedModel> loaded = load(file, model);
  if (!loaded)
    return kExitError;
  jit::Weights weights = jit::randomWeights(*loaded->graph, seed);
  runtime::writeSafetensors(output, weights);
  fmt::print("wrote {} tensors of model '{}' to {}\n", weights.size(), loaded->graph->name(),
             output);
  return kExitOk;
}

} // namespace nnc::driver
