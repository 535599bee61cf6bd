// nnc::Model: the public C++ API over the front end, the pass pipeline and GraphRunner. Every
// exception of the layers below stops here and becomes an Error.
#include "nnc/model.h"

#include "compiler/codegen/target.h"
#include "compiler/frontend/frontend.h"
#include "compiler/ir/internal_error.h"
#include "compiler/jit/graph_runner.h"
#include "compiler/jit/model_weights.h"
#include "compiler/passes/pipeline.h"
#include "runtime/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <new>
#include <sstream>
#include <stdexcept>

namespace nnc {

namespace {

Error error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}};
}

/// Runs `body`, turning what the layers below throw into an Error: a user error into `code`.
template <class Body> auto guarded(ErrorCode code, Body body) -> decltype(body()) {
  try {
    return body();
  } catch (const runtime::UserError& e) {
    return error(code, e.what());
  } catch (const std::bad_alloc&) {
    return error(ErrorCode::OutOfMemory, "out of memory");
  } catch (const std::length_error&) { // a container asked for more than its max_size
    return error(ErrorCode::OutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    return error(ErrorCode::Internal, fmt::format("internal error: {}", e.what()));
  } catch (...) {
    return error(ErrorCode::Internal, "internal error: unknown exception");
  }
}

std::vector<Diagnostic> diagnosticsOf(const DiagnosticEngine& engine) {
  const SourceFile& file = engine.file();
  std::vector<Diagnostic> out;
  auto add = [&](const SourceDiagnostic& d, std::string rendered) {
    LineColumn where = file.lineColumn(d.range.offset);
    out.push_back({d.severity, file.name(), static_cast<int>(where.line),
                   static_cast<int>(where.column), d.message, std::move(rendered)});
  };
  for (const SourceDiagnostic& d : engine.diagnostics()) {
    add(d, renderDiagnostic(file, d));
    for (const SourceDiagnostic& note : d.notes)
      add(note, renderDiagnostic(file, note));
  }
  return out;
}

TensorInfo infoOf(std::string name, const ir::Shape& shape) {
  TensorInfo info{std::move(name), {}};
  for (const ir::Dim& dim : shape)
    info.shape.push_back(dim.isKnown() ? Dim{dim.size(), {}} : Dim{-1, dim.symbolName()});
  return info;
}

/// Checks a caller's tensor before anything reads it; its element count when it is good.
Result<int64_t> checkView(const TensorView& view, const char* what) {
  for (int64_t size : view.shape)
    if (size < 0)
      return error(ErrorCode::InvalidArgument,
                   fmt::format("{} '{}' has a negative size in its shape", what, view.name));
  std::optional<int64_t> count = runtime::checkedElementCount(view.shape);
  if (!count)
    return error(ErrorCode::InvalidArgument,
                 fmt::format("{} '{}' has shape {}: more floats than a memory can hold", what,
                             view.name, runtime::formatShape(view.shape)));
  if (!view.data && *count > 0)
    return error(ErrorCode::InvalidArgument, fmt::format("{} '{}' has no data", what, view.name));
  return *count;
}

} // namespace

struct Model::Impl {
  Options options;
  codegen::TargetIsa isa;
  passes::Pipeline pipeline;
  ir::Module module;
  const ir::Graph* graph = nullptr;
  std::vector<TensorInfo> inputs, outputs, weights;
  std::vector<Diagnostic> warnings;
  std::unique_ptr<jit::ObjectCache> cache;  ///< null when Options::cache is off
  std::unique_ptr<jit::GraphRunner> runner; ///< null until the model has its weights
  mutable std::mutex mutex;                 ///< one call at a time changes or runs the model

  /// Compiles the graph to native code with `given` (checked against its parameters).
  Status build(jit::Weights given, const std::string& source) {
    return guarded(ErrorCode::InvalidArgument, [&]() -> Status {
      jit::checkWeights(*graph, given, source);
      runner = std::make_unique<jit::GraphRunner>(*graph, isa, std::move(given), options.threads,
                                                  pipeline, cache.get());
      return {};
    });
  }
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Result<Model> Model::compileString(std::string_view source, const std::string& fileName,
                                   const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::optional<codegen::TargetIsa> isa = codegen::isaByName(options.isa);
  if (!isa)
    return error(ErrorCode::InvalidArgument,
                 fmt::format("unknown ISA '{}' (host, avx512, avx2 or sse)", options.isa));
  if (std::string missing = codegen::missingHostFeatures(*isa); !missing.empty())
    return error(ErrorCode::Unsupported,
                 fmt::format("this CPU cannot run {} code: it lacks {}", isa->name, missing));
  impl->isa = *isa;
  if (options.threads < 0 || options.threads > 1024) // as nnc's --threads
    return error(
        ErrorCode::InvalidArgument,
        fmt::format("threads must be from 0 (one per core) to 1024, not {}", options.threads));
  auto pipeline = passes::Pipeline::parse(options.passes, options.fusion);
  if (auto* problem = std::get_if<std::string>(&pipeline))
    return error(ErrorCode::InvalidArgument, *problem);
  impl->pipeline = std::get<passes::Pipeline>(pipeline);
  if (options.cache) {
    std::string directory = options.cacheDirectory.empty() ? jit::ObjectCache::defaultDirectory()
                                                           : options.cacheDirectory;
    if (!directory.empty())
      impl->cache = std::make_unique<jit::ObjectCache>(directory);
  }

  Result<Model> compiled = guarded(ErrorCode::InvalidArgument, [&]() -> Result<Model> {
    SourceFile file(fileName, std::string(source));
    DiagnosticEngine engine(file);
    std::optional<ir::Module> module = compileToIR(file, engine);
    std::vector<Diagnostic> diagnostics = diagnosticsOf(engine);
    if (!module) {
      size_t errors = engine.errorCount();
      return Error{ErrorCode::Compile,
                   fmt::format("'{}' has {} error{}", fileName, errors, errors == 1 ? "" : "s"),
                   std::move(diagnostics)};
    }
    impl->warnings = std::move(diagnostics);
    impl->module = std::move(*module);
    std::vector<std::string> names;
    for (const ir::Graph& graph : impl->module.models)
      names.push_back(graph.name());
    if (names.empty())
      return error(ErrorCode::InvalidArgument, fmt::format("'{}' defines no model", fileName));
    if (options.model.empty() && names.size() != 1)
      return error(ErrorCode::InvalidArgument,
                   fmt::format("'{}' has {} models ({}); choose one with Options::model", fileName,
                               names.size(), fmt::join(names, ", ")));
    impl->graph =
        options.model.empty() ? &impl->module.models.front() : impl->module.find(options.model);
    if (!impl->graph)
      return error(ErrorCode::InvalidArgument,
                   fmt::format("'{}' has no model named '{}'{}", fileName, options.model,
                               didYouMean(options.model, names)));
    const ir::Graph& graph = *impl->graph;
    for (ir::ValueId id : graph.inputs())
      impl->inputs.push_back(infoOf(graph.value(id).name, graph.value(id).type.shape));
    for (const ir::Output& output : graph.outputs())
      impl->outputs.push_back(infoOf(output.name, graph.value(output.value).type.shape));
    for (const ir::Node& node : graph.nodes())
      for (const ir::Param& param : node.params)
        impl->weights.push_back(infoOf(param.name, param.shape));
    return Model(std::move(impl));
  });
  if (compiled.ok() && compiled->weights().empty())
    if (Status built = compiled->impl_->build({}, "the model"); !built.ok())
      return built.error();
  return compiled;
}

Result<Model> Model::compileFile(const std::string& path, const Options& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return error(ErrorCode::Io, fmt::format("'{}' is a directory, not a model file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return error(ErrorCode::Io, fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return error(ErrorCode::Io, fmt::format("cannot read '{}'", path));
  return compileString(text.str(), path, options);
}

const std::string& Model::name() const {
  return impl_->graph->name();
}
const std::vector<TensorInfo>& Model::inputs() const {
  return impl_->inputs;
}
const std::vector<TensorInfo>& Model::outputs() const {
  return impl_->outputs;
}
const std::vector<TensorInfo>& Model::weights() const {
  return impl_->weights;
}
const std::vector<Diagnostic>& Model::warnings() const {
  return impl_->warnings;
}

bool Model::ready() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->runner != nullptr;
}

double Model::compileMilliseconds() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->runner ? impl_->runner->compileMilliseconds() : 0;
}

bool Model::codeFromCache() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->runner && impl_->runner->codeFromCache();
}

Status Model::loadWeights(const std::string& safetensorsPath) {
  Result<jit::Weights> read = guarded(ErrorCode::Io, [&]() -> Result<jit::Weights> {
    return runtime::readSafetensors(safetensorsPath);
  });
  if (!read.ok())
    return read.error();
  std::lock_guard lock(impl_->mutex);
  return impl_->build(std::move(read).value(), fmt::format("'{}'", safetensorsPath));
}

Status Model::setWeights(std::span<const TensorView> weights) {
  jit::Weights copied;
  for (const TensorView& view : weights) {
    Result<int64_t> count = checkView(view, "weight");
    if (!count.ok())
      return count.error();
    if (copied.count(view.name))
      return error(ErrorCode::InvalidArgument,
                   fmt::format("weight '{}' is given twice", view.name));
    runtime::Tensor& tensor = copied[view.name];
    tensor.shape = view.shape;
    tensor.data.assign(view.data, view.data + count.value());
  }
  std::lock_guard lock(impl_->mutex);
  return impl_->build(std::move(copied), "the weights given");
}

Result<std::vector<std::vector<int64_t>>>
Model::outputShapes(std::span<const TensorView> inputs) const {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const TensorView& view : inputs) {
    if (shapes.count(view.name))
      return error(ErrorCode::InvalidArgument, fmt::format("input '{}' is given twice", view.name));
    shapes[view.name] = view.shape;
  }
  std::lock_guard lock(impl_->mutex);
  if (!impl_->runner)
    return error(
        ErrorCode::State,
        fmt::format("model '{}' has no weights yet: call loadWeights or setWeights", name()));
  return guarded(ErrorCode::InvalidArgument, [&]() -> Result<std::vector<std::vector<int64_t>>> {
    std::map<std::string, std::vector<int64_t>> byName = impl_->runner->outputShapes(shapes);
    std::vector<std::vector<int64_t>> ordered;
    for (const TensorInfo& output : impl_->outputs)
      ordered.push_back(byName.at(output.name));
    return ordered;
  });
}

Status Model::run(std::span<const TensorView> inputs, std::span<OutputBuffer> outputs) const {
  std::map<std::string, jit::InputView> views;
  for (const TensorView& view : inputs) {
    if (Result<int64_t> checked = checkView(view, "input"); !checked.ok())
      return checked.error();
    if (views.count(view.name))
      return error(ErrorCode::InvalidArgument, fmt::format("input '{}' is given twice", view.name));
    views[view.name] = {view.shape, view.data};
  }
  Result<std::vector<std::vector<int64_t>>> shapes = outputShapes(inputs);
  if (!shapes.ok())
    return shapes.error();
  std::map<std::string, float*> buffers;
  for (OutputBuffer& buffer : outputs) {
    auto it = std::find_if(impl_->outputs.begin(), impl_->outputs.end(),
                           [&](const TensorInfo& o) { return o.name == buffer.name; });
    if (it == impl_->outputs.end()) {
      std::vector<std::string> names;
      for (const TensorInfo& o : impl_->outputs)
        names.push_back(o.name);
      return error(ErrorCode::InvalidArgument,
                   fmt::format("model '{}' has no output named '{}'{}", name(), buffer.name,
                               didYouMean(buffer.name, names)));
    }
    if (buffers.count(buffer.name))
      return error(ErrorCode::InvalidArgument,
                   fmt::format("output '{}' is given twice", buffer.name));
    const std::vector<int64_t>& shape =
        shapes.value()[static_cast<size_t>(it - impl_->outputs.begin())];
    int64_t count = 1;
    for (int64_t size : shape)
      count *= size;
    if (static_cast<uint64_t>(count) > buffer.capacity || (!buffer.data && count > 0))
      return error(ErrorCode::InvalidArgument,
                   fmt::format("output '{}' has shape {} ({} floats) but its buffer holds {}",
                               buffer.name, runtime::formatShape(shape), count, buffer.capacity));
    buffers[buffer.name] = buffer.data;
    buffer.shape = shape;
  }
  std::lock_guard lock(impl_->mutex);
  return guarded(ErrorCode::InvalidArgument, [&]() -> Status {
    impl_->runner->run(views, buffers);
    return {};
  });
}

} // namespace nnc
