// Which build of nnc's code generator is running: the compile cache keys objects by it, so that
// a changed emitter never loads code an earlier build compiled.
#pragma once

#include <string>

namespace nnc::jit {

/// The GNU build ID (in hex) of the executable or shared library that holds nnc's code
/// generator, or "" when it has none (linked without --build-id).
const std::string& codeGeneratorBuildId();

} // namespace nnc::jit
