// nnc's public C++ API: compile a model file, give it weights, run it on your own buffers.
//
//   nnc::Result<nnc::Model> model = nnc::Model::compileFile("mlp.nn");
//   if (!model) { for (auto& d : model.error().diagnostics) std::cerr << d.rendered; }
//   nnc::Status loaded = model->loadWeights("mlp.safetensors");
//   std::vector<nnc::OutputBuffer> outputs = {{"logits", y.data(), y.size()}};
//   nnc::Status ran = model->run({{"x", x.data(), {1, 784}}}, outputs);
//
// Thread safety: every call on a Model may be made from any thread, also concurrently with
// other calls on the same Model; a Model serializes its runs (each run uses all threads of the
// model's own pool) and its weight changes. Different Models are independent.
#pragma once

#include "nnc/result.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nnc {

struct Options {
  std::string isa = "host";       ///< "host" (what this CPU has), "avx512", "avx2" or "sse"
  int threads = 0;                ///< threads of the model's pool, at most 1024; 0: one per core
  std::string passes = "default"; ///< "default", "none", or pass names joined by commas
  bool fusion = true;             ///< false: the pipeline without its fusion passes
  std::string model;              ///< which model of the file; empty: its only one
  /// Load the native code from the compile cache when it is there, and store it there when not.
  /// The cache is keyed by the code (and the CPU, nnc and LLVM versions); a corrupt entry is
  /// ignored and replaced.
  bool cache = true;
  /// Empty: $NNC_CACHE_DIR, else $XDG_CACHE_HOME/nnc, else $HOME/.cache/nnc.
  std::string cacheDirectory;
};

/// One dimension of a tensor's shape: a size, or a symbol bound from the inputs at each run.
struct Dim {
  int64_t size = -1;  ///< -1 when symbolic
  std::string symbol; ///< the symbol's name ("N"), when symbolic
  bool isSymbolic() const { return size < 0; }
};

/// A model input, output or weight: its name and shape.
struct TensorInfo {
  std::string name;
  std::vector<Dim> shape;
};

/// A caller-owned tensor the model reads (an input, or a weight to copy): row-major floats.
struct TensorView {
  std::string name;
  const float* data = nullptr;
  std::vector<int64_t> shape;
};

/// A caller-owned buffer for one output. run() checks that `capacity` (in floats) fits the
/// output's shape for the given inputs, writes the output there and sets `shape`.
struct OutputBuffer {
  std::string name;
  float* data = nullptr;
  size_t capacity = 0;
  std::vector<int64_t> shape;
};

class Model {
public:
  /// Parses and checks a model file (the file's name is used in diagnostics); on errors, the
  /// Error has code Compile and the diagnostics. A model without weights is compiled to native
  /// code at once; one with weights when they are given.
  static Result<Model> compileFile(const std::string& path, const Options& options = {});
  /// The same for model source text; `fileName` names it in diagnostics.
  static Result<Model> compileString(std::string_view source, const std::string& fileName,
                                     const Options& options = {});

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const std::string& name() const;
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  /// The weights the model needs, by the names a safetensors file gives them.
  const std::vector<TensorInfo>& weights() const;
  /// Warnings the file compiled with.
  const std::vector<Diagnostic>& warnings() const;

  /// Reads every weight from a safetensors file and compiles the model with them.
  Status loadWeights(const std::string& safetensorsPath);
  /// Copies every weight from caller-owned buffers (all at once, each by name and shape) and
  /// compiles the model with them.
  Status setWeights(std::span<const TensorView> weights);
  /// Whether the model has its weights (or needs none) and can run.
  bool ready() const;
  /// Milliseconds the last compilation to native code took (passes, JIT, weight packing).
  double compileMilliseconds() const;
  /// Whether that native code was loaded from the compile cache.
  bool codeFromCache() const;

  /// The shape of each output (in outputs() order) for inputs of these shapes.
  Result<std::vector<std::vector<int64_t>>> outputShapes(std::span<const TensorView> inputs) const;
  /// Runs the model: reads every input where it lies and writes each output named in `outputs`
  /// straight into its buffer (outputs not named are computed and dropped). Buffers must not
  /// overlap. Nothing is copied in or out.
  Status run(std::span<const TensorView> inputs, std::span<OutputBuffer> outputs) const;
  Status run(std::initializer_list<TensorView> inputs, std::span<OutputBuffer> outputs) const {
    return run(std::span<const TensorView>(inputs.begin(), inputs.size()), outputs);
  }

private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace nnc
