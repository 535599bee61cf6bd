// Elementary functions on vectors of doubles, emitted as LLVM IR (no libm calls).
//
// The double-precision paths of the activation kernels (exact gelu, softplus with beta != 1,
// celu with alpha < 0) evaluate in double and round once to float, so these need relative
// errors far below a float ULP (~1e-12 here), not double-precision accuracy. Each function keeps
// NaN as NaN and saturates at infinities.
#pragma once

#include <llvm/IR/IRBuilder.h>

namespace nnc::codegen {

/// exp(x): Cody–Waite reduction x = n·ln2 + r, |r| <= ln2/2, a degree-12 Taylor polynomial,
/// and 2^n built in the exponent field. Arguments are clamped to [-708, 709], the range whose
/// result is a normal double, which is far wider than what any float result needs.
llvm::Value* emitExp(llvm::IRBuilder<>& b, llvm::Value* x);

/// exp(x) - 1 without cancellation near 0: a Taylor polynomial for |x| < 0.35, exp(x) - 1
/// elsewhere (where the subtraction loses at most two bits of a double).
llvm::Value* emitExpm1(llvm::IRBuilder<>& b, llvm::Value* x);

/// log(1 + u) for u >= 0 (including +inf): a series for u < 1e-4, else log(1 + u) from the
/// exponent and an atanh series of the mantissa.
llvm::Value* emitLog1p(llvm::IRBuilder<>& b, llvm::Value* u);

/// erfc(z) for z >= 0 (NaN stays NaN), relative error ~3e-11: t·exp(-z² + g(t)) with
/// t = 1/(1 + z/2) and g a Chebyshev series fitted by scripts/fit_erfc.py.
llvm::Value* emitErfc(llvm::IRBuilder<>& b, llvm::Value* z);

} // namespace nnc::codegen
