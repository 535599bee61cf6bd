// The IR verifier: structural invariants and types that agree with shape inference.
#pragma once

#include "compiler/ir/graph.h"

#include <string>
#include <vector>

namespace nnc::ir {

/// Checks a graph; returns one message per broken invariant (empty when the graph is valid).
/// A failure here is a compiler bug, not a user error.
std::vector<std::string> verify(const Graph& graph);

} // namespace nnc::ir
