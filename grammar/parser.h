// Parsing a `.nn` file into its AST; syntax errors become diagnostics.
#pragma once

#include "grammar/ast.h"
#include "grammar/diagnostics.h"

#include <optional>

namespace nnc {

/// Parses the whole file. On a syntax error reports it to `diagnostics` and returns nothing.
std::optional<ast::File> parseFile(const SourceFile& file, DiagnosticEngine& diagnostics);

/// Deepest nesting of parentheses and brackets the parser accepts (guards the stack).
inline constexpr int kMaxNesting = 256;

} // namespace nnc
