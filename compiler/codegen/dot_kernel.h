// The dense layer with few units as dot products: each output is one row of the input times one
// row of the weights, both read where they lie, vectorized along k.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/IR/Module.h>

namespace nnc::codegen {

/// Rows of the input a call computes together for `units` outputs each: as many as keep their
/// rows × units accumulators in registers (at least one).
unsigned dotRowsPerStep(const TargetIsa& isa, unsigned units);

/// Emits `void name(const float* x, int64_t rows, int64_t k, const float* w, const float* bias,
/// float* y)`: y[r·units + n] = Σ_p x[r·k + p]·w[n·k + p] + bias[n] for r < rows and n < units
/// (bias left out when null), x and w row-major. Each output accumulates a vector of partial
/// sums along k (the last vector masked), summed across its lanes at the end. Needs masked
/// loads (AVX-512 or AVX2).
llvm::Function* emitDotKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                              unsigned units);

} // namespace nnc::codegen
