// User-facing diagnostics (errors, warnings, notes) and their clang-style rendering.
#pragma once

#include "grammar/source.h"
#include "nnc/diagnostic.h"

#include <string>
#include <string_view>
#include <vector>

namespace nnc {

/// One message about a place in a source file; notes attached to it explain it further.
struct SourceDiagnostic {
  Severity severity = Severity::Error;
  SourceRange range;
  std::string message;
  std::vector<SourceDiagnostic> notes;
};

/// Collects the diagnostics of one source file, in the order they were reported.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceFile& file) : file_(&file) {}

  SourceDiagnostic& error(SourceRange range, std::string message);
  SourceDiagnostic& warning(SourceRange range, std::string message);

  const SourceFile& file() const { return *file_; }
  const std::vector<SourceDiagnostic>& diagnostics() const { return diagnostics_; }
  size_t errorCount() const;
  bool hasErrors() const { return errorCount() != 0; }

  /// Renders every diagnostic, in source order, as `FILE:LINE:COL: error: MESSAGE`, the source
  /// line and a caret line, followed by a summary line when there were errors or warnings.
  std::string render() const;

private:
  const SourceFile* file_;
  std::vector<SourceDiagnostic> diagnostics_;
};

/// Renders one diagnostic (and its notes) against `file`.
std::string renderDiagnostic(const SourceFile& file, const SourceDiagnostic& diagnostic);

/// Adds a note to a diagnostic and returns the diagnostic, for chaining.
SourceDiagnostic& addNote(SourceDiagnostic& diagnostic, SourceRange range, std::string message);

/// The candidate closest to `name` (one differing only in case first, then by edit distance),
/// or "" when none is close enough to be a plausible typo.
std::string nearestName(std::string_view name, const std::vector<std::string>& candidates);

/// "; did you mean 'X'?" for the nearest candidate, or "" when there is none.
std::string didYouMean(std::string_view name, const std::vector<std::string>& candidates);

} // namespace nnc
