// nnc's public API: what the compiler reports about a model file, as data.
#pragma once

#include <string>

namespace nnc {

enum class Severity { Error, Warning, Note };

/// One message about a place in a model file. A note follows the diagnostic it explains.
struct Diagnostic {
  Severity severity = Severity::Error;
  std::string file;
  int line = 0;   ///< 1-based; 0 when the message concerns no place in the file
  int column = 0; ///< 1-based, in bytes
  std::string message;
  /// As nnc prints it: "FILE:LINE:COL: error: MESSAGE", the source line and a caret line (an
  /// error's rendering includes its notes').
  std::string rendered;
};

} // namespace nnc
