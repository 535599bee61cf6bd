// Small IR-building helpers shared by the math emitters: constants, clamps, polynomials.
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <vector>

namespace nnc::codegen {

/// A splat of `value` with the type of `like`.
llvm::Value* splat(llvm::Value* like, double value);

/// a·b + c; fused where the ISA has FMA, a multiply and an add on SSE (llvm.fma would become a
/// libm call there).
llvm::Value* mulAdd(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y, llvm::Value* z);

/// c[0] + x·(c[1] + x·(c[2] + ...)) by Horner's rule with mulAdd.
llvm::Value* polynomial(llvm::IRBuilder<>& b, llvm::Value* x, const std::vector<double>& c);

/// min(max(x, lo), hi) that keeps NaN (a NaN fails both comparisons); one max and one min
/// instruction on x86.
llvm::Value* clampKeepNan(llvm::IRBuilder<>& b, llvm::Value* x, double lo, double hi);

/// The integer vector type with the lanes and bit width of `like`'s floating-point lanes.
llvm::Type* integerVector(llvm::Value* like);

} // namespace nnc::codegen
