// The runtime of models compiled ahead of time (libnnc_rt): at a model's first call, its source
// is compiled again to the same graph and kernel plan as `nnc compile` made, and bound to the
// kernels in the object by name; every call then runs the graph runner on the caller's buffers.
// No LLVM: the code is already there.
#include "compiler/aot/aot_model.h"

#include "compiler/frontend/frontend.h"
#include "compiler/jit/graph_runner.h"
#include "compiler/jit/model_weights.h"
#include "compiler/passes/pipeline.h"
#include "runtime/safetensors.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace nnc::aot {

namespace {

thread_local std::string tLastError;

/// The target of an ISA compiled for; the kernels' CPU and features no longer matter, only the
/// vector width and the tile, which follow the kind. Fails when this CPU lacks the ISA.
codegen::TargetIsa targetNamed(const std::string& name) {
  codegen::TargetIsa isa;
  isa.name = name;
  bool supported = true;
  if (name == "avx512") {
    isa.kind = codegen::IsaKind::Avx512;
    isa.vectorWidth = 16;
    supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  } else if (name == "avx2") {
    isa.kind = codegen::IsaKind::Avx2;
    isa.vectorWidth = 8;
    supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  } else if (name == "sse") {
    isa.kind = codegen::IsaKind::Sse;
    isa.vectorWidth = 4;
  } else {
    throw runtime::UserError(fmt::format("the object was compiled for an unknown ISA '{}'", name));
  }
  if (!supported)
    throw runtime::UserError(fmt::format(
        "this CPU cannot run the model's {} code (compiled with nnc compile --isa)", name));
  return isa;
}

/// A model built at its first call.
struct Loaded {
  ir::Module module;
  const ir::Graph* graph = nullptr;
  std::unique_ptr<jit::GraphRunner> runner;
  std::vector<std::string> symbols; ///< of the inputs' shapes, in order of first appearance
  std::mutex running;
};

std::unique_ptr<Loaded> load(const nnc_aot_model& m, const float* const* givenWeights) {
  if (m.version != 1)
    throw runtime::UserError(fmt::format("the object's model has version {}; this libnnc_rt "
                                         "reads version 1",
                                         m.version));
  auto loaded = std::make_unique<Loaded>();
  SourceFile file(m.file_name, m.source);
  DiagnosticEngine diagnostics(file);
  std::optional<ir::Module> module = compileToIR(file, diagnostics);
  if (!module)
    throw runtime::UserError("the model's source does not compile:\n" + diagnostics.render());
  loaded->module = std::move(*module);
  loaded->graph = loaded->module.find(m.model_name);
  if (!loaded->graph)
    throw runtime::UserError(fmt::format("the object has no model '{}'", m.model_name));
  const ir::Graph& graph = *loaded->graph;
  loaded->symbols = graph.inputSymbols(); // the order NAME_run takes their sizes in

  jit::Weights weights;
  if (m.weights) {
    weights = runtime::parseSafetensors(m.weights, static_cast<size_t>(m.weights_size),
                                        "the object's weights");
  } else {
    if (!givenWeights)
      throw runtime::UserError("the model's weights were not given");
    size_t index = 0;
    for (const ir::Node& node : graph.nodes())
      for (const ir::Param& param : node.params) {
        runtime::Tensor& tensor = weights[param.name];
        for (const ir::Dim& dim : param.shape)
          tensor.shape.push_back(dim.size());
        const float* data = givenWeights[index++];
        if (!data)
          throw runtime::UserError(fmt::format("weight '{}' is null", param.name));
        tensor.data.assign(data, data + tensor.elementCount());
      }
  }
  jit::checkWeights(graph, weights, "the weights");
  auto pipeline = passes::Pipeline::parse(m.passes, m.fusion != 0);
  if (auto* problem = std::get_if<std::string>(&pipeline))
    throw runtime::UserError(*problem);
  std::map<std::string, void*> symbols;
  for (int64_t i = 0; i < m.symbol_count; ++i)
    symbols[m.symbol_names[i]] = m.symbol_addresses[i];
  jit::KernelProvider provider = [&](const jit::KernelPlan& plan) {
    std::vector<void*> addresses;
    for (const std::string& name : plan.symbols) {
      auto it = symbols.find(name);
      if (it == symbols.end())
        throw runtime::UserError(fmt::format("the object lacks kernel '{}': it was compiled by "
                                             "another version of nnc",
                                             name));
      addresses.push_back(it->second);
    }
    return addresses;
  };
  // Passes see the weights exactly when the object has them, as they did when it was compiled.
  loaded->runner = std::make_unique<jit::GraphRunner>(graph, targetNamed(m.isa), std::move(weights),
                                                      0, std::get<passes::Pipeline>(pipeline),
                                                      provider, m.weights != nullptr);
  return loaded;
}

std::mutex gLoading;

} // namespace

} // namespace nnc::aot

extern "C" int nnc_aot_run(const nnc_aot_model* m, const float* const* inputs,
                           const int64_t* symbols, float* const* outputs,
                           const float* const* weights) {
  using namespace nnc;
  try {
    aot::tLastError.clear();
    aot::Loaded* loaded = nullptr;
    {
      std::lock_guard lock(aot::gLoading);
      if (!*m->state)
        *m->state = aot::load(*m, weights).release(); // kept for the life of the program
      loaded = static_cast<aot::Loaded*>(*m->state);
    }
    const ir::Graph& graph = *loaded->graph;
    if (!symbols && !loaded->symbols.empty())
      throw runtime::UserError("the array of symbol sizes is null");
    std::map<std::string, int64_t> sizes;
    for (size_t s = 0; s < loaded->symbols.size(); ++s)
      sizes[loaded->symbols[s]] = symbols[s];
    if ((!inputs && !graph.inputs().empty()) || (!outputs && !graph.outputs().empty()))
      throw runtime::UserError(!inputs ? "the array of inputs is null"
                                       : "the array of outputs is null");
    std::map<std::string, jit::InputView> views;
    size_t index = 0;
    for (ir::ValueId id : graph.inputs()) {
      jit::InputView& view = views[graph.value(id).name];
      for (const ir::Dim& dim : graph.value(id).type.shape)
        view.shape.push_back(dim.isKnown() ? dim.size() : sizes.at(dim.symbolName()));
      view.data = inputs[index++];
    }
    std::map<std::string, float*> buffers;
    index = 0;
    for (const ir::Output& output : graph.outputs()) {
      if (!outputs[index])
        throw runtime::UserError(fmt::format("output '{}' has no buffer", output.name));
      buffers[output.name] = outputs[index++];
    }
    std::lock_guard lock(loaded->running);
    loaded->runner->run(views, buffers);
    return 0;
  } catch (const std::exception& e) {
    aot::tLastError = e.what();
  } catch (...) {
    aot::tLastError = "unknown error";
  }
  return 1;
}

extern "C" const char* nnc_aot_last_error(void) {
  return nnc::aot::tLastError.c_str();
}
