// Elementary functions on vectors of floats, emitted as LLVM IR (no libm calls): the fast
// paths of the exp- and log-based activations.
//
// Every function keeps NaN as NaN. The building block is exp split into a power of two and a
// mantissa, so that callers can scale a finished result by 2^k once, at the end, and keep full
// accuracy where the result is a normal float although exp(z) alone would be subnormal. The
// errors of the activations built from these are measured in docs/accuracy.md.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/IR/IRBuilder.h>

namespace nnc::codegen {

/// exp(z) = 2^k · (1 + p), p = expm1(r) for the reduced argument |r| <= ln2/2. Callers form
/// v·(1 + p) as mulAdd(v, p, v), one rounding.
struct ExpSplit {
  llvm::Value* k; ///< float vector of integers
  llvm::Value* p; ///< expm1(r), in [-0.30, 0.42]
};

/// Splits exp(z) for z in [-170, 131] (callers clamp). Cody–Waite reduction with a 16-bit ln2
/// head, so it is exact without fused multiply-add, and a degree-7 polynomial for expm1(r).
ExpSplit emitExpSplitF(llvm::IRBuilder<>& b, llvm::Value* z);

/// The same with a degree-6 polynomial and p = r·g(r) rounded once: fewer operations, p good to
/// about a quarter of an ULP of 1 + p, which is what exp(z) needs. With zLo, the split of
/// exp(z + zLo) for a small zLo (below an ULP of z), at no cost in accuracy.
ExpSplit emitExpSplitFastF(llvm::IRBuilder<>& b, llvm::Value* z, llvm::Value* zLo = nullptr);

/// The same split for a vector of doubles z in [-170, 131], reduced in double and rounded to
/// float vectors (r as a pair): for arguments that are themselves computed (gelu's), whose float
/// rounding would cost |z| ULP in exp(z).
ExpSplit emitExpSplitFromDouble(llvm::IRBuilder<>& b, llvm::Value* z);

/// v · 2^k for integer-valued k in [-252, 254], rounded once (so a subnormal result is exact
/// to a rounding): vscalefps on AVX-512, two exponent-field multiplies elsewhere.
llvm::Value* emitLdexpF(llvm::IRBuilder<>& b, const TargetIsa& isa, llvm::Value* v, llvm::Value* k);

/// 2^k for integer-valued k in [-252, 128]: 0 below 2^-126 (for uses where a subnormal
/// does not matter, such as 1 + exp(z)), +inf at 128.
llvm::Value* emitPow2F(llvm::IRBuilder<>& b, const TargetIsa& isa, llvm::Value* k);

/// 1 + exp(z) as a float rounded once, scaled by 2^-m so that it stays finite: the addend
/// 1 + 2^k of the last fused multiply-add is exact or corrected, so that nothing else rounds
/// (within 0.54 ULP, p's error included). Needs fused multiply-add.
struct ScaledOnePlusExp {
  llvm::Value* value;   ///< (1 + exp(z))·2^-m
  llvm::Value* unscale; ///< 2^-m
  llvm::Value* lo;      ///< value's rounding error, to a rounding of its own (ScaledPair only)
};

enum class OnePlusExp {
  /// z in [-87, 88.37] (callers clamp), m = 0, no lo: for a quotient 1/value.
  Rounded,
  /// z in [-87, 131], m = 64 where exp(z) exceeds 2^64, else 0, and lo: for x/(value + lo).
  ScaledPair,
};

/// From the split of exp(z). 2^(k-m) and 2^(m-k) stay normal floats (but 2^-127, at k = 127
/// with Rounded, which is 0 and drops a term far below an ULP).
ScaledOnePlusExp emitOnePlusExpF(llvm::IRBuilder<>& b, const ExpSplit& split, OnePlusExp form);

/// exp(z) for any float z: 0 below -87.3 (where exp is subnormal; use the split to keep
/// those), +inf above 88.7.
llvm::Value* emitExpF(llvm::IRBuilder<>& b, const TargetIsa& isa, llvm::Value* z);

/// expm1(z) for z <= 0 (larger z is treated as 0): 2^k·p + (2^k - 1), which does not cancel.
llvm::Value* emitExpm1NegF(llvm::IRBuilder<>& b, llvm::Value* z);

/// erfc(z)·exp(z²)/2 for z = zScale·v in [0, 9.5] (larger z gives a finite, slightly wrong
/// value), from t = 1/(1 + 0.7z) and a degree-11 polynomial in t. Passing v and zScale rather
/// than z saves z's rounding.
llvm::Value* emitHalfErfcxF(llvm::IRBuilder<>& b, const TargetIsa& isa, llvm::Value* v,
                            double zScale);

/// An unevaluated sum hi + lo of two floats (lo below half an ULP of hi): a value carried with
/// twice a float's precision to the one division that rounds it.
struct FloatPair {
  llvm::Value* hi;
  llvm::Value* lo;
};

/// c + 2^k·(1 + p) as a pair, exact but for p's own error; c is 0 or |c| >= scale = 2^k.
FloatPair emitOffsetExp(llvm::IRBuilder<>& b, double c, llvm::Value* scale, llvm::Value* p);

/// n / d for d in [1, 2] and finite n, rounded about once (within ~0.5 ULP plus the pairs' own
/// errors): with fused multiply-add, a float quotient corrected by its exact remainder; without
/// it (SSE), in double.
llvm::Value* emitDividePair(llvm::IRBuilder<>& b, const TargetIsa& isa, const FloatPair& n,
                            const FloatPair& d);

/// log1p(u.hi + u.lo) for u in [0, 1], from s = u / (2 + u) and a degree-4 polynomial in s².
llvm::Value* emitLog1pUnitF(llvm::IRBuilder<>& b, const FloatPair& u);

/// c · v with c a double constant: one multiply when c is a float, else c's head and tail
/// (c·v to about half a float ULP).
llvm::Value* emitMulConstF(llvm::IRBuilder<>& b, llvm::Value* v, double c);

} // namespace nnc::codegen
