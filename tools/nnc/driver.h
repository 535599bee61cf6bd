// Shared pieces of the nnc commands: exit codes, reading and compiling a model file, choosing a
// model, and its weights.
#pragma once

#include "compiler/frontend/frontend.h"
#include "compiler/jit/model_weights.h"

#include <optional>
#include <string>

namespace nnc::driver {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternalError = 3;

/// Reads a model file; on failure prints why and returns nothing.
std::optional<SourceFile> readSource(const std::string& path);

/// Writes `text` to stderr. A full or closed stderr loses it rather than throwing (fmt::print
/// would, and from an error handler that ends the process with abort instead of nnc's exit code).
void printToStderr(std::string_view text);

/// Compiles a file to IR, printing its diagnostics to stderr.
std::optional<ir::Module> compileFile(const SourceFile& source);

/// The model `name` of `module` (or its only model when `name` is empty); throws
/// runtime::UserError naming the choices otherwise.
const ir::Graph& chooseModel(const ir::Module& module, const std::string& file,
                             const std::string& name);

/// Where a model's weights come from: a safetensors file, or a seed.
struct WeightSource {
  std::string file;
  std::optional<uint64_t> seed;
};

/// The weights of `graph` from `source`, checked against its parameters. A model with
/// parameters and no source is an error that says how to give one.
jit::Weights loadWeights(const ir::Graph& graph, const WeightSource& source);

} // namespace nnc::driver
