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
/// After the nodes come the weights that passes derive from the model's own (if any) and the
/// fused kernels (if any), one line each:
///     folded h.weight.folded : [512, 784] = h.weight * scale of batchnorm bn (eps = 1e-05)
///     folded h.bias.folded : [512] = shift of batchnorm bn applied to h.bias (eps = 1e-05)
///     kernel k0: conv2d + add + relu -> %s1 (epilogue of %s1.b.conv2d)
std::string print(const Graph& graph);
/// The line print() gives fused kernel `index`: "kernel k0: conv2d + add + relu -> %s1 ...".
std::string printKernel(const Graph& graph, size_t index);
/// Prints every model, separated by blank lines.
std::string print(const Module& module);

} // namespace nnc::ir
