// The textual form of the IR (documented in docs/ir.md), one node per line.
#pragma once

#include "compiler/ir/graph.h"

#include <string>

namespace nnc::ir {

/// Prints one model:
///   model NAME {
///     input %x : f32[N, 784]
///     %h = dense(%x) {units = 512, bias = true} : f32[N, 512] weights [h.weight: [512, 784], ...]
///     output %h
///   }
std::string print(const Graph& graph);
/// Prints every model, separated by blank lines.
std::string print(const Module& module);

} // namespace nnc::ir
