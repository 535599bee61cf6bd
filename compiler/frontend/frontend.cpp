#include "compiler/frontend/frontend.h"

#include "compiler/frontend/lower.h"
#include "compiler/frontend/name_resolution.h"
#include "grammar/parser.h"

namespace nnc {

std::optional<ir::Module> compileToIR(const SourceFile& file, DiagnosticEngine& diagnostics) {
  std::optional<ast::File> syntax = parseFile(file, diagnostics);
  if (!syntax)
    return std::nullopt;
  Declarations declarations = resolveNames(*syntax, diagnostics);
  ir::Module module;
  for (const ast::Model* model : declarations.models)
    if (std::optional<ir::Graph> graph = lowerModel(*model, declarations, diagnostics))
      module.models.push_back(std::move(*graph));
  if (diagnostics.hasErrors())
    return std::nullopt;
  return module;
}

} // namespace nnc
