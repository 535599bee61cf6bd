// The front end: a `.nn` source file in, the verified IR of its models (or diagnostics) out.
#pragma once

#include "compiler/ir/graph.h"
#include "grammar/diagnostics.h"

#include <optional>

namespace nnc {

/// Parses, resolves names, lowers and verifies every model of `file`. Returns nothing when an
/// error was reported; warnings alone do not stop it. Throws InternalError only on a bug in
/// nnc (IR that fails the verifier).
std::optional<ir::Module> compileToIR(const SourceFile& file, DiagnosticEngine& diagnostics);

} // namespace nnc
