// Lowering from the AST to the graph IR: blocks inlined, arguments bound, shapes inferred.
#pragma once

#include "compiler/frontend/name_resolution.h"
#include "compiler/ir/graph.h"

#include <optional>

namespace nnc {

/// Lowers one model. Reports errors to `diagnostics`; returns the verified graph when the model
/// lowered without error.
std::optional<ir::Graph> lowerModel(const ast::Model& model, const Declarations& declarations,
                                    DiagnosticEngine& diagnostics);

} // namespace nnc
