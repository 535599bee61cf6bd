#include "grammar/diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace nnc {

SourceDiagnostic& DiagnosticEngine::error(SourceRange range, std::string message) {
  return diagnostics_.emplace_back(
      SourceDiagnostic{Severity::Error, range, std::move(message), {}});
}

SourceDiagnostic& DiagnosticEngine::warning(SourceRange range, std::string message) {
  return diagnostics_.emplace_back(
      SourceDiagnostic{Severity::Warning, range, std::move(message), {}});
}

size_t DiagnosticEngine::errorCount() const {
  return std::count_if(diagnostics_.begin(), diagnostics_.end(),
                       [](const SourceDiagnostic& d) { return d.severity == Severity::Error; });
}

SourceDiagnostic& addNote(SourceDiagnostic& diagnostic, SourceRange range, std::string message) {
  diagnostic.notes.push_back(SourceDiagnostic{Severity::Note, range, std::move(message), {}});
  return diagnostic;
}

static const char* severityName(Severity severity) {
  switch (severity) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

static void renderOne(const SourceFile& file, const SourceDiagnostic& d, std::string& out) {
  LineColumn where = file.lineColumn(d.range.offset);
  out += fmt::format("{}:{}:{}: {}: {}\n", file.name(), where.line, where.column,
                     severityName(d.severity), d.message);
  std::string_view line = file.lineText(where.line);
  // Tabs are kept in the caret line so the caret stays under the fault in any terminal.
  std::string caret;
  for (uint32_t i = 0; i + 1 < where.column && i < line.size(); ++i)
    caret += line[i] == '\t' ? '\t' : ' ';
  caret += '^';
  uint32_t lineEnd = static_cast<uint32_t>(line.size()) + 1;
  for (uint32_t col = where.column + 1; col < where.column + d.range.length && col < lineEnd; ++col)
    caret += '~';
  out += fmt::format("{}\n{}\n", line, caret);
}

std::string renderDiagnostic(const SourceFile& file, const SourceDiagnostic& diagnostic) {
  std::string out;
  renderOne(file, diagnostic, out);
  for (const SourceDiagnostic& note : diagnostic.notes)
    renderOne(file, note, out);
  return out;
}

std::string DiagnosticEngine::render() const {
  // In source order, as a reader goes through the file; equal positions keep report order.
  std::vector<const SourceDiagnostic*> ordered;
  for (const SourceDiagnostic& d : diagnostics_)
    ordered.push_back(&d);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const SourceDiagnostic* a, const SourceDiagnostic* b) {
                     return a->range.offset < b->range.offset;
                   });
  std::string out;
  size_t warnings = 0, errors = 0;
  for (const SourceDiagnostic* diagnostic : ordered) {
    const SourceDiagnostic& d = *diagnostic;
    out += renderDiagnostic(*file_, d);
    (d.severity == Severity::Error ? errors : warnings) += 1;
  }
  auto plural = [](size_t n, const char* word) {
    return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
  };
  if (errors && warnings)
    out +=
        fmt::format("{} and {} generated.\n", plural(warnings, "warning"), plural(errors, "error"));
  else if (errors)
    out += fmt::format("{} generated.\n", plural(errors, "error"));
  else if (warnings)
    out += fmt::format("{} generated.\n", plural(warnings, "warning"));
  return out;
}

static size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

static std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string nearestName(std::string_view name, const std::vector<std::string>& candidates) {
  // A difference of case only ("SAME", "True") is the most plausible typo of all.
  for (const std::string& candidate : candidates)
    if (candidate != name && lowered(candidate) == lowered(name))
      return candidate;
  // Like clang's typo correction: accept at most a third of the name's length in edits; and
  // none for a name of one letter ('q' is no typo of 'x').
  size_t limit = name.size() <= 1 ? 0 : (name.size() + 2) / 3;
  std::string best;
  size_t bestDistance = limit + 1;
  for (const std::string& candidate : candidates) {
    size_t distance = editDistance(name, candidate);
    if (distance < bestDistance && distance != 0) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

std::string didYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  std::string nearest = nearestName(name, candidates);
  return nearest.empty() ? std::string() : fmt::format("; did you mean '{}'?", nearest);
}

} // namespace nnc
