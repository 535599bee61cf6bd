// Name resolution over the AST: every name bound once and before use, callees that exist, no
// recursive blocks, and warnings for names never used. Runs before lowering.
#pragma once

#include "grammar/ast.h"
#include "grammar/diagnostics.h"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace nnc {

/// The models and blocks of a file.
struct Declarations {
  std::map<std::string, const ast::Block*, std::less<>> blocks;
  std::vector<const ast::Model*> models;
  std::set<std::string, std::less<>> modelNames;
  /// Blocks whose bodies have name errors; calls to them are not instantiated (the errors were
  /// reported once, at the block).
  std::set<const ast::Block*> broken;
  /// Blocks whose inlining creates weights; a call to one counts as a parameterized op.
  std::set<const ast::Block*> withWeights;

  const ast::Block* findBlock(std::string_view name) const;
};

/// Checks every name of the file, reporting errors and warnings; returns the declarations.
Declarations resolveNames(const ast::File& file, DiagnosticEngine& diagnostics);

} // namespace nnc
