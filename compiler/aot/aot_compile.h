// Ahead-of-time compilation: a model's kernels, its source and (optionally) its weights in one
// object file, with a plain C function per model that a program links with libnnc_rt and no LLVM.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/ir/graph.h"

#include <optional>
#include <string>

namespace nnc::aot {

struct AotOptions {
  std::string name;     ///< the C function is NAME_run; also the prefix of every other symbol
  std::string source;   ///< the .nn file's text, compiled again by the runtime
  std::string fileName; ///< the file's name, for diagnostics
  codegen::TargetIsa isa;
  std::string passes = "default";
  bool fusion = true;
  /// The bytes of a safetensors file to embed; without them, each call passes the weights.
  std::optional<std::string> weights;
  std::string objectName; ///< the object file's name, for the header's comment
};

struct AotOutput {
  std::string object; ///< an ELF relocatable object, position-independent
  std::string header; ///< the C header that declares NAME_run
};

/// Compiles `graph` (a model of options.source). Throws runtime::UserError when the options do
/// not fit the model (a weight file without its tensors, a name that is not a C identifier).
AotOutput compileAheadOfTime(const ir::Graph& graph, const AotOptions& options);

} // namespace nnc::aot
