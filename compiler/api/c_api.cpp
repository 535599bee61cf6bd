// The C API (nnc/nnc.h) over nnc::Model: handles, status codes and a per-thread last error.
#include "nnc/nnc.h"

#include "nnc/model.h"
#include "nnc/version.h"

#include <new>
#include <stdexcept>
#include <string>
#include <vector>

struct nnc_model {
  nnc::Model model;
};

namespace {

/// The calling thread's last error, kept until its next call.
struct LastError {
  std::string message;
  std::vector<nnc::Diagnostic> diagnostics;
};
thread_local LastError tLast;

nnc_status statusOf(nnc::ErrorCode code) {
  switch (code) {
  case nnc::ErrorCode::InvalidArgument:
    return NNC_INVALID_ARGUMENT;
  case nnc::ErrorCode::Compile:
    return NNC_COMPILE_ERROR;
  case nnc::ErrorCode::Io:
    return NNC_IO_ERROR;
  case nnc::ErrorCode::State:
    return NNC_STATE_ERROR;
  case nnc::ErrorCode::Unsupported:
    return NNC_UNSUPPORTED;
  case nnc::ErrorCode::OutOfMemory:
    return NNC_OUT_OF_MEMORY;
  case nnc::ErrorCode::Internal:
    break;
  }
  return NNC_INTERNAL_ERROR;
}

nnc_status fail(const nnc::Error& error) {
  tLast = {error.message, error.diagnostics};
  return statusOf(error.code);
}

nnc_status fail(nnc_status status, std::string message) {
  tLast = {std::move(message), {}};
  return status;
}

/// Starts a call: clears the thread's last error.
void begin() {
  tLast = {};
}

/// Runs `body` (which returns an nnc_status) with no exception escaping to C.
template <class Body> nnc_status guarded(Body body) {
  try {
    begin();
    return body();
  } catch (const std::bad_alloc&) {
    return fail(NNC_OUT_OF_MEMORY, "out of memory");
  } catch (const std::length_error&) { // a container asked for more than its max_size
    return fail(NNC_OUT_OF_MEMORY, "out of memory");
  } catch (...) {
    return fail(NNC_INTERNAL_ERROR, "internal error: unexpected exception");
  }
}

nnc::Options optionsOf(const nnc_options* options) {
  nnc::Options out;
  if (!options)
    return out;
  if (options->isa)
    out.isa = options->isa;
  out.threads = options->threads;
  if (options->passes)
    out.passes = options->passes;
  out.fusion = options->no_fusion == 0;
  if (options->model)
    out.model = options->model;
  out.cache = options->no_cache == 0;
  if (options->cache_directory)
    out.cacheDirectory = options->cache_directory;
  return out;
}

const std::vector<nnc::TensorInfo>* tensorsOf(const nnc_model* model, nnc_tensor_kind kind) {
  if (!model)
    return nullptr;
  switch (kind) {
  case NNC_INPUT:
    return &model->model.inputs();
  case NNC_OUTPUT:
    return &model->model.outputs();
  case NNC_WEIGHT:
    return &model->model.weights();
  }
  return nullptr;
}

const nnc::TensorInfo* tensorAt(const nnc_model* model, nnc_tensor_kind kind, size_t index) {
  const std::vector<nnc::TensorInfo>* tensors = tensorsOf(model, kind);
  return tensors && index < tensors->size() ? &(*tensors)[index] : nullptr;
}

/// The C tensors as views, or an error for a null name or shape.
bool viewsOf(const nnc_tensor* tensors, size_t count, std::vector<nnc::TensorView>& views) {
  if (count > 0 && !tensors)
    return false;
  for (size_t i = 0; i < count; ++i) {
    const nnc_tensor& t = tensors[i];
    if (!t.name || (t.rank > 0 && !t.shape))
      return false;
    views.push_back({t.name, t.data, std::vector<int64_t>(t.shape, t.shape + t.rank)});
  }
  return true;
}

nnc_status compiled(nnc::Result<nnc::Model> result, nnc_model** model) {
  if (!result.ok())
    return fail(result.error());
  *model = new nnc_model{std::move(result).value()};
  return NNC_OK;
}

} // namespace

extern "C" {

const char* nnc_version(void) {
  return NNC_VERSION_STRING;
}

const char* nnc_last_error(void) {
  return tLast.message.c_str();
}

size_t nnc_last_diagnostic_count(void) {
  return tLast.diagnostics.size();
}

nnc_status nnc_last_diagnostic(size_t index, nnc_diagnostic* out) {
  // Reads the last error without clearing it.
  if (!out || index >= tLast.diagnostics.size())
    return NNC_INVALID_ARGUMENT;
  const nnc::Diagnostic& d = tLast.diagnostics[index];
  *out = {static_cast<nnc_severity>(d.severity),
          d.file.c_str(),
          d.line,
          d.column,
          d.message.c_str(),
          d.rendered.c_str()};
  return NNC_OK;
}

nnc_status nnc_compile_file(const char* path, const nnc_options* options, nnc_model** model) {
  return guarded([&] {
    if (!path || !model)
      return fail(NNC_INVALID_ARGUMENT, "nnc_compile_file: path and model must not be null");
    return compiled(nnc::Model::compileFile(path, optionsOf(options)), model);
  });
}

nnc_status nnc_compile_string(const char* source, const char* file_name, const nnc_options* options,
                              nnc_model** model) {
  return guarded([&] {
    if (!source || !model)
      return fail(NNC_INVALID_ARGUMENT, "nnc_compile_string: source and model must not be null");
    return compiled(
        nnc::Model::compileString(source, file_name ? file_name : "<string>", optionsOf(options)),
        model);
  });
}

void nnc_model_free(nnc_model* model) {
  delete model;
}

const char* nnc_model_name(const nnc_model* model) {
  return model ? model->model.name().c_str() : nullptr;
}

size_t nnc_model_tensor_count(const nnc_model* model, nnc_tensor_kind kind) {
  const std::vector<nnc::TensorInfo>* tensors = tensorsOf(model, kind);
  return tensors ? tensors->size() : 0;
}

const char* nnc_model_tensor_name(const nnc_model* model, nnc_tensor_kind kind, size_t index) {
  const nnc::TensorInfo* tensor = tensorAt(model, kind, index);
  return tensor ? tensor->name.c_str() : nullptr;
}

size_t nnc_model_tensor_rank(const nnc_model* model, nnc_tensor_kind kind, size_t index) {
  const nnc::TensorInfo* tensor = tensorAt(model, kind, index);
  return tensor ? tensor->shape.size() : 0;
}

int64_t nnc_model_tensor_dim(const nnc_model* model, nnc_tensor_kind kind, size_t index,
                             size_t axis) {
  const nnc::TensorInfo* tensor = tensorAt(model, kind, index);
  return tensor && axis < tensor->shape.size() ? tensor->shape[axis].size : -1;
}

const char* nnc_model_tensor_symbol(const nnc_model* model, nnc_tensor_kind kind, size_t index,
                                    size_t axis) {
  const nnc::TensorInfo* tensor = tensorAt(model, kind, index);
  return tensor && axis < tensor->shape.size() ? tensor->shape[axis].symbol.c_str() : "";
}

nnc_status nnc_model_load_weights(nnc_model* model, const char* safetensors_path) {
  return guarded([&] {
    if (!model || !safetensors_path)
      return fail(NNC_INVALID_ARGUMENT, "nnc_model_load_weights: arguments must not be null");
    nnc::Status loaded = model->model.loadWeights(safetensors_path);
    return loaded.ok() ? NNC_OK : fail(loaded.error());
  });
}

nnc_status nnc_model_set_weights(nnc_model* model, const nnc_tensor* weights, size_t count) {
  return guarded([&] {
    std::vector<nnc::TensorView> views;
    if (!model || !viewsOf(weights, count, views))
      return fail(NNC_INVALID_ARGUMENT,
                  "nnc_model_set_weights: null model, weights, name or shape");
    nnc::Status set = model->model.setWeights(views);
    return set.ok() ? NNC_OK : fail(set.error());
  });
}

int nnc_model_ready(const nnc_model* model) {
  return model && model->model.ready() ? 1 : 0;
}

nnc_status nnc_model_output_shape(const nnc_model* model, const nnc_tensor* inputs,
                                  size_t input_count, const char* output, int64_t* shape,
                                  size_t* rank) {
  return guarded([&] {
    std::vector<nnc::TensorView> views;
    if (!model || !output || !shape || !rank || !viewsOf(inputs, input_count, views))
      return fail(NNC_INVALID_ARGUMENT, "nnc_model_output_shape: a null argument");
    const std::vector<nnc::TensorInfo>& outputs = model->model.outputs();
    size_t index = 0;
    while (index < outputs.size() && outputs[index].name != output)
      ++index;
    if (index == outputs.size())
      return fail(NNC_INVALID_ARGUMENT, std::string("model has no output named '") + output + "'");
    auto shapes = model->model.outputShapes(views);
    if (!shapes.ok())
      return fail(shapes.error());
    const std::vector<int64_t>& found = shapes.value()[index];
    if (found.size() > NNC_MAX_RANK)
      return fail(NNC_INVALID_ARGUMENT, "output rank exceeds NNC_MAX_RANK");
    std::copy(found.begin(), found.end(), shape);
    *rank = found.size();
    return NNC_OK;
  });
}

nnc_status nnc_model_run(const nnc_model* model, const nnc_tensor* inputs, size_t input_count,
                         nnc_output* outputs, size_t output_count) {
  return guarded([&] {
    std::vector<nnc::TensorView> views;
    if (!model || !viewsOf(inputs, input_count, views) || (output_count > 0 && !outputs))
      return fail(NNC_INVALID_ARGUMENT, "nnc_model_run: null model, inputs, outputs or name");
    std::vector<nnc::OutputBuffer> buffers;
    for (size_t i = 0; i < output_count; ++i) {
      if (!outputs[i].name)
        return fail(NNC_INVALID_ARGUMENT, "nnc_model_run: an output without a name");
      buffers.push_back({outputs[i].name, outputs[i].data, outputs[i].capacity, {}});
    }
    // Ranks are checked before the run writes anything.
    for (const nnc::TensorInfo& info : model->model.outputs())
      if (info.shape.size() > NNC_MAX_RANK)
        return fail(NNC_INVALID_ARGUMENT, "output rank exceeds NNC_MAX_RANK");
    nnc::Status ran = model->model.run(views, buffers);
    if (!ran.ok())
      return fail(ran.error());
    for (size_t i = 0; i < output_count; ++i) {
      std::copy(buffers[i].shape.begin(), buffers[i].shape.end(), outputs[i].shape);
      outputs[i].rank = buffers[i].shape.size();
    }
    return NNC_OK;
  });
}

} // extern "C"
