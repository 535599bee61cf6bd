#include "compiler/codegen/activation_kernels.h"

#include "compiler/codegen/elementwise_loop.h"
#include "compiler/codegen/float_math.h"
#include "compiler/codegen/vector_math.h"
#include "compiler/codegen/vector_ops.h"
#include "compiler/ir/internal_error.h"

#include <llvm/IR/IRBuilder.h>

#include <array>
#include <cfloat>
#include <cmath>
#include <limits>

namespace nnc::codegen {

namespace {

using Builder = llvm::IRBuilder<>;

/// What an emitter knows besides its input: the activation's attributes, by name, and the ISA.
class Attrs {
public:
  Attrs(const ir::OpInfo& op, const std::vector<ir::AttrValue>& values, const TargetIsa& target)
      : isa(target), op_(op), values_(values) {}
  double real(std::string_view name) const { return std::get<double>(values_.at(index(name))); }
  const std::string& text(std::string_view name) const {
    return std::get<std::string>(values_.at(index(name)));
  }
  const TargetIsa& isa;

private:
  size_t index(std::string_view name) const {
    int i = op_.attrIndex(name);
    if (i < 0)
      throw InternalError("activation " + std::string(op_.name) + " has no attribute " +
                          std::string(name));
    return static_cast<size_t>(i);
  }
  const ir::OpInfo& op_;
  const std::vector<ir::AttrValue>& values_;
};

/// Computes `f` in double precision and rounds once to float: for these piecewise-linear and
/// rational functions that gives the correctly rounded result (0 ULP from the true value).
template <typename F> llvm::Value* inDouble(Builder& b, llvm::Value* x, F f) {
  auto* vector = llvm::cast<llvm::FixedVectorType>(x->getType());
  auto* wide = llvm::FixedVectorType::get(b.getDoubleTy(), vector->getNumElements());
  return b.CreateFPTrunc(f(b.CreateFPExt(x, wide)), vector);
}

// Each emitter computes one activation on a vector; NaN maps to NaN and +-inf to the limit.
using Emitter = llvm::Value* (*)(Builder&, llvm::Value*, const Attrs&);

llvm::Value* identity(Builder&, llvm::Value* x, const Attrs&) {
  return x;
}

llvm::Value* relu(Builder& b, llvm::Value* x, const Attrs&) {
  return b.CreateSelect(b.CreateFCmpOLT(x, splat(x, 0)), splat(x, 0), x);
}

llvm::Value* relu6(Builder& b, llvm::Value* x, const Attrs&) {
  return clampKeepNan(b, x, 0, 6);
}

llvm::Value* clampAttrs(Builder& b, llvm::Value* x, const Attrs& a) {
  // Bounds round to float; a float between a bound and its rounding can only be the rounding.
  return clampKeepNan(b, x, static_cast<float>(a.real("min")), static_cast<float>(a.real("max")));
}

llvm::Value* leakyRelu(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  // alpha = 0: -inf would give 0·-inf = NaN; its limit is 0 (-0, as for any negative x). x >= 0
  // takes the other branch, so only the low end needs raising.
  llvm::Value* negative =
      alpha == 0 ? b.CreateSelect(b.CreateFCmpOLT(x, splat(x, -FLT_MAX)), splat(x, -FLT_MAX), x)
                 : x;
  llvm::Value* scaled =
      inDouble(b, negative, [&](llvm::Value* d) { return b.CreateFMul(d, splat(d, alpha)); });
  return b.CreateSelect(b.CreateFCmpOGE(x, splat(x, 0)), x, scaled);
}

llvm::Value* thresholdedRelu(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  // x > alpha, compared exactly (alpha need not be a float); NaN fails `<=` and passes.
  return inDouble(b, x, [&](llvm::Value* d) {
    return b.CreateSelect(b.CreateFCmpOLE(d, splat(d, alpha)), splat(d, 0), d);
  });
}

llvm::Value* hardSigmoidDouble(Builder& b, llvm::Value* d, double alpha, double beta) {
  return clampKeepNan(b, b.CreateFAdd(b.CreateFMul(d, splat(d, alpha)), splat(d, beta)), 0, 1);
}

llvm::Value* hardSigmoid(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  // alpha = 0: ±inf would give 0·inf = NaN; the limit is clamp(beta, 0, 1), as for any x.
  llvm::Value* finite = alpha == 0 ? clampKeepNan(b, x, -FLT_MAX, FLT_MAX) : x;
  return inDouble(b, finite,
                  [&](llvm::Value* d) { return hardSigmoidDouble(b, d, alpha, a.real("beta")); });
}

/// hard_swish without fused multiply-add (SSE): PyTorch's formula, x·clamp(x + 3, 0, 6)/6, in
/// float (at most 1.91 ULP; bit for bit PyTorch's result below 3), except at the ends: x itself
/// from 3 up, where x·6/6 may be off by an ULP or overflow, and x = -3 wherever the gate is
/// closed, so that -inf gives -0 rather than -inf·0 = NaN.
llvm::Value* hardSwishDividing(Builder& b, llvm::Value* x) {
  llvm::Value* gate = clampKeepNan(b, b.CreateFAdd(x, splat(x, 3)), 0, 6);
  llvm::Value* closedAtMinus3 = b.CreateSelect(b.CreateFCmpOLT(x, splat(x, -3)), splat(x, -3), x);
  llvm::Value* y = b.CreateFDiv(b.CreateFMul(closedAtMinus3, gate), splat(x, 6));
  return b.CreateSelect(b.CreateFCmpOGE(x, splat(x, 3)), x, y);
}

llvm::Value* hardSwish(Builder& b, llvm::Value* x, const Attrs& a) {
  if (!a.isa.hasFma())
    return hardSwishDividing(b, x);
  // x·clamp(x/6 + 1/2, 0, 1) with 1/6 = hi + lo (hi rounded toward zero, so that lo has its
  // sign and +inf gives +inf, not inf - inf): fma(x, lo, fma(x, hi, 1/2)) rounds x/6 + 1/2
  // twice but never cancels near -3, where a rounded 1/6 alone would leave a residue of 1e-8
  // against a true value of 0. Six operations, no division (it runs in GEMM and depthwise
  // epilogues), and at most 1.5 ULP over all 2^32 inputs. x >= 3 gives x·1 = x exactly; x is
  // raised to -4 first, so that -inf gives -4·0 = -0 rather than NaN; NaN passes every step.
  const double sixth = 1.0 / 6;
  auto hi = static_cast<float>(sixth);
  if (hi > sixth)
    hi = std::nextafter(hi, 0.0f);
  auto lo = static_cast<float>(sixth - hi);
  llvm::Value* raised = b.CreateSelect(b.CreateFCmpOLT(x, splat(x, -4)), splat(x, -4), x);
  // llvm.fma, not llvm.fmuladd: the bound needs the single rounding, not just permits it.
  auto fma = [&](llvm::Value* p, llvm::Value* q, llvm::Value* r) {
    return b.CreateIntrinsic(llvm::Intrinsic::fma, {x->getType()}, {p, q, r});
  };
  llvm::Value* gate = fma(raised, splat(x, hi), splat(x, 0.5));
  gate = clampKeepNan(b, fma(raised, splat(x, lo), gate), 0, 1);
  return b.CreateFMul(raised, gate);
}

llvm::Value* softsign(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(b, x, [&](llvm::Value* d) {
    llvm::Value* magnitude = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, d);
    llvm::Value* ratio = b.CreateFDiv(d, b.CreateFAdd(magnitude, splat(d, 1)));
    // x / (1 + |x|) is inf/inf for x = +-inf; the limit is +-1.
    llvm::Value* sign = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, splat(d, 1), d);
    llvm::Value* infinite =
        b.CreateFCmpOEQ(magnitude, splat(d, std::numeric_limits<double>::infinity()));
    return b.CreateSelect(infinite, sign, ratio);
  });
}

// The smooth activations below compute in float with float_math's functions, arranged so that
// nothing cancels (no 1 + tanh, no exp(x) - 1 near 0) and so that a result that is a normal
// float is computed as one even where exp of the argument alone would be subnormal (the result
// is scaled by 2^k last). Odd attribute values (celu's alpha < 0, softplus's beta != 1) take a
// double-precision path instead. docs/accuracy.md has the measured errors.

llvm::Value* fabs(Builder& b, llvm::Value* x) {
  return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
}

/// sigmoid without fused multiply-add (SSE): x > 0: 1/(1 + e^-x), else e^x/(1 + e^x), with the
/// denominator as a pair and the quotient in double. Below -87.3 the result is subnormal and
/// flushes.
llvm::Value* sigmoidWithoutFma(Builder& b, llvm::Value* x, const Attrs& a) {
  llvm::Value* z = b.CreateFNeg(fabs(b, x));
  z = b.CreateSelect(b.CreateFCmpOLT(z, splat(x, -104)), splat(x, -104), z);
  ExpSplit e = emitExpSplitFastF(b, z);
  llvm::Value* scale = emitPow2F(b, a.isa, e.k);
  llvm::Value* positive = b.CreateFCmpOGT(x, splat(x, 0));
  FloatPair numerator = {b.CreateSelect(positive, splat(x, 1), mulAdd(b, scale, e.p, scale)),
                         splat(x, 0)};
  return emitDividePair(b, a.isa, numerator, emitOffsetExp(b, 1, scale, e.p));
}

llvm::Value* sigmoid(Builder& b, llvm::Value* x, const Attrs& a) {
  if (!a.isa.hasFma())
    return sigmoidWithoutFma(b, x, a);
  // 1/(1 + e^-x) for every x: the numerator is exact, the denominator is rounded once, and
  // its error shrinks in the quotient (at most 1.75 ULP over all 2^32 inputs on avx2). The
  // result is subnormal from -87.34 on (computed as one down to -88.37) and 0 below -88.37,
  // where 2^k would leave the float range; from 87 on it is 1.
  const double lowest = -88.37;
  llvm::Value* z = b.CreateFNeg(clampKeepNan(b, x, lowest, 87));
  ScaledOnePlusExp d = emitOnePlusExpF(b, emitExpSplitFastF(b, z), OnePlusExp::Rounded);
  llvm::Value* quotient = b.CreateFDiv(splat(x, 1), d.value);
  return b.CreateSelect(b.CreateFCmpOLT(x, splat(x, lowest)), splat(x, 0), quotient);
}

llvm::Value* tanh(Builder& b, llvm::Value* x, const Attrs& a) {
  // tanh|x| = -t/(2 + t), t = expm1(-2|x|) in (-1, 0], with t and 2 + t = 1 + e^(-2|x|) as
  // float pairs: no cancellation near 0 and no loss near 1. Below -20, t is -1 in tanh's terms,
  // and 2^k stays normal.
  llvm::Value* z = b.CreateFMul(fabs(b, x), splat(x, -2));
  z = b.CreateSelect(b.CreateFCmpOLT(z, splat(x, -20)), splat(x, -20), z);
  ExpSplit e = emitExpSplitF(b, z);
  llvm::Value* scale = emitPow2F(b, a.isa, e.k);
  FloatPair expm1 = emitOffsetExp(b, -1, scale, e.p);
  FloatPair numerator = {b.CreateFNeg(expm1.hi), b.CreateFNeg(expm1.lo)};
  llvm::Value* ratio = emitDividePair(b, a.isa, numerator, emitOffsetExp(b, 1, scale, e.p));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, ratio, x);
}

/// x > 0 ? scale·x : scale·alpha·expm1(x)
llvm::Value* scaledElu(Builder& b, llvm::Value* x, double alpha, double scale) {
  llvm::Value* negative = emitMulConstF(b, emitExpm1NegF(b, x), alpha * scale);
  llvm::Value* positive = emitMulConstF(b, x, scale);
  return b.CreateSelect(b.CreateFCmpOGT(x, splat(x, 0)), positive, negative);
}

llvm::Value* elu(Builder& b, llvm::Value* x, const Attrs& a) {
  return scaledElu(b, x, a.real("alpha"), 1);
}

llvm::Value* selu(Builder& b, llvm::Value* x, const Attrs&) {
  return scaledElu(b, x, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946);
}

llvm::Value* celu(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  // max(0, x) + min(0, alpha·expm1(x/alpha)), both NaN-preserving.
  if (alpha > 0) {
    // expm1 of a positive argument is treated as 0, which is what min(0, .) makes of it.
    llvm::Value* ratio = b.CreateFDiv(x, splat(x, static_cast<float>(alpha)));
    llvm::Value* curve = emitMulConstF(b, emitExpm1NegF(b, ratio), alpha);
    llvm::Value* positive = b.CreateSelect(b.CreateFCmpOLT(x, splat(x, 0)), splat(x, 0), x);
    return b.CreateFAdd(positive, curve);
  }
  return inDouble(b, x, [&](llvm::Value* d) {
    llvm::Value* positive = b.CreateSelect(b.CreateFCmpOLT(d, splat(d, 0)), splat(d, 0), d);
    llvm::Value* curve =
        b.CreateFMul(emitExpm1(b, b.CreateFDiv(d, splat(d, alpha))), splat(d, alpha));
    llvm::Value* negative = b.CreateSelect(b.CreateFCmpOGT(curve, splat(d, 0)), splat(d, 0), curve);
    return b.CreateFAdd(positive, negative);
  });
}

llvm::Value* softplus(Builder& b, llvm::Value* x, const Attrs& a) {
  double beta = a.real("beta"), threshold = a.real("threshold");
  // beta·x > threshold is compared in float, as PyTorch does.
  llvm::Value* above =
      b.CreateFCmpOGT(emitMulConstF(b, x, beta), splat(x, static_cast<float>(threshold)));
  if (beta == 1) {
    // log1p(e^x) = max(x, 0) + log1p(e^-|x|); the second term is in [0, ln2].
    ExpSplit e = emitExpSplitFastF(b, clampKeepNan(b, b.CreateFNeg(fabs(b, x)), -104, 0));
    llvm::Value* tail = emitLog1pUnitF(b, emitOffsetExp(b, 0, emitPow2F(b, a.isa, e.k), e.p));
    llvm::Value* curve =
        b.CreateSelect(b.CreateFCmpOGT(x, splat(x, 0)), b.CreateFAdd(x, tail), tail);
    return b.CreateSelect(above, x, curve);
  }
  // Any other beta: a rounded beta·x would cost |beta·x| ULP in exp, so compute in double.
  llvm::Value* curve = inDouble(b, x, [&](llvm::Value* d) {
    llvm::Value* scaled = b.CreateFMul(d, splat(d, beta));
    return b.CreateFDiv(emitLog1p(b, emitExp(b, scaled)), splat(d, beta));
  });
  return b.CreateSelect(above, x, curve);
}

/// Below this, x·e^x (silu) and x·Phi(x) are 0 in float; -170 keeps 2^k within emitLdexpF's
/// range.
constexpr double kExpFloor = -170;

/// x·sigmoid(v) without fused multiply-add (SSE), for a v with the sign of x, from the split of
/// exp(z), z = -|v|: x/(1 + e^z) for x > 0, else x·e^z/(1 + e^z) = 2^k·(x'·(1 + p)/(1 + e^z))
/// with x' = x, clamped like z; the pairs' quotient is taken in double.
llvm::Value* timesSigmoidWithoutFma(Builder& b, const TargetIsa& isa, llvm::Value* x,
                                    llvm::Value* clampedX, const ExpSplit& split) {
  llvm::Value* scale = emitPow2F(b, isa, split.k);
  llvm::Value* positive = b.CreateFCmpOGT(x, splat(x, 0));
  // x'·(1 + p) as a pair: x' and its product are within a factor of two.
  llvm::Value* productHi = mulAdd(b, clampedX, split.p, clampedX);
  llvm::Value* productLo = mulAdd(b, clampedX, split.p, b.CreateFSub(clampedX, productHi));
  FloatPair numerator = {b.CreateSelect(positive, x, productHi),
                         b.CreateSelect(positive, splat(x, 0), productLo)};
  llvm::Value* k = b.CreateSelect(positive, splat(x, 0), split.k);
  llvm::Value* ratio = emitDividePair(b, isa, numerator, emitOffsetExp(b, 1, scale, split.p));
  // x = +inf: the remainder of inf/d is NaN; the answer is x.
  llvm::Value* infinite = b.CreateFCmpOEQ(x, splat(x, INFINITY));
  // The result has x's sign: -0 stays -0.
  llvm::Value* scaled =
      b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, emitLdexpF(b, isa, ratio, k), x);
  return b.CreateSelect(infinite, x, scaled);
}

/// x·sigmoid(v) = x/(1 + e^-v), from the split of e^-v, clamped to [-87, 131], and x clamped
/// from below where the result is 0 (so that it stays 0 where the split is clamped): one
/// exact numerator over a denominator rounded once, as in sigmoid. The denominator is scaled
/// by 2^-64 where e^-v would overflow, and the quotient scaled back (silu(-90) = -7.4e-38).
llvm::Value* timesSigmoid(Builder& b, llvm::Value* clampedX, const ExpSplit& split) {
  // The quotient x/(d + dLo), rounded about once: q = x·(1/d) corrected by its exact
  // remainder. (A plain x/d would round twice, the denominator and the quotient, and reach
  // 1.9 ULP.)
  ScaledOnePlusExp d = emitOnePlusExpF(b, split, OnePlusExp::ScaledPair);
  llvm::Value* inverse = b.CreateFDiv(splat(clampedX, 1), d.value);
  llvm::Value* q = b.CreateFMul(clampedX, inverse);
  // The remainder is taken negated, q·d - x, and subtracted: for x = ±0 it is +0, and
  // q - (+0)·(1/d) keeps q's sign, so that -0 gives -0 (x - q·d would add +0 to q = -0).
  llvm::Value* excess = mulAdd(b, q, d.value, b.CreateFNeg(clampedX));
  excess = mulAdd(b, q, d.lo, excess);
  llvm::Value* quotient = mulAdd(b, b.CreateFNeg(excess), inverse, q);
  // x = +inf: its remainder is NaN; the answer is x.
  llvm::Value* infinite = b.CreateFCmpOEQ(clampedX, splat(clampedX, INFINITY));
  return b.CreateFMul(b.CreateSelect(infinite, clampedX, quotient), d.unscale);
}

llvm::Value* silu(Builder& b, llvm::Value* x, const Attrs& a) {
  if (!a.isa.hasFma()) {
    llvm::Value* z = clampKeepNan(b, b.CreateFNeg(fabs(b, x)), kExpFloor, 0);
    return timesSigmoidWithoutFma(b, a.isa, x, z, emitExpSplitFastF(b, z));
  }
  // Below -110, x·e^x is below half the smallest subnormal: 0.
  llvm::Value* clamped = clampKeepNan(b, x, -110, INFINITY);
  llvm::Value* z = b.CreateFNeg(clampKeepNan(b, clamped, -110, 87));
  return timesSigmoid(b, clamped, emitExpSplitFastF(b, z));
}

llvm::Value* mish(Builder& b, llvm::Value* x, const Attrs& a) {
  // tanh(log1p(e)) = n/(n + 2) with n = e·(e + 2), e = e^x: mish = 2^k·(x·(1 + p)·(e + 2)/(n + 2)).
  // Above 20 it is x (tanh of softplus is 1 in float from 9 on).
  llvm::Value* clamped = clampKeepNan(b, x, kExpFloor, 20);
  ExpSplit split = emitExpSplitFastF(b, clamped);
  llvm::Value* scale = emitPow2F(b, a.isa, split.k);
  llvm::Value* e = mulAdd(b, scale, split.p, scale);
  llvm::Value* ePlus2 = mulAdd(b, scale, split.p, b.CreateFAdd(scale, splat(x, 2)));
  llvm::Value* n = b.CreateFMul(e, ePlus2);
  llvm::Value* ratio = b.CreateFDiv(ePlus2, b.CreateFAdd(n, splat(x, 2)));
  llvm::Value* curve =
      emitLdexpF(b, a.isa, b.CreateFMul(mulAdd(b, clamped, split.p, clamped), ratio), split.k);
  return b.CreateSelect(b.CreateFCmpOGT(x, splat(x, 20)), x, curve);
}

/// x²/2 = hi + lo exactly: with a fused multiply-add, or in double on SSE.
FloatPair halfSquare(Builder& b, const TargetIsa& isa, llvm::Value* x) {
  llvm::Value* half = b.CreateFMul(x, splat(x, 0.5));
  llvm::Value* hi = b.CreateFMul(half, x);
  if (isa.hasFma())
    return {hi, mulAdd(b, half, x, b.CreateFNeg(hi))};
  auto* lanes = llvm::cast<llvm::FixedVectorType>(x->getType());
  auto* doubles = llvm::FixedVectorType::get(b.getDoubleTy(), lanes->getNumElements());
  llvm::Value* exact = b.CreateFMul(b.CreateFPExt(half, doubles), b.CreateFPExt(x, doubles));
  return {hi, b.CreateFPTrunc(b.CreateFSub(exact, b.CreateFPExt(hi, doubles)), lanes)};
}

llvm::Value* geluErf(Builder& b, llvm::Value* x, const TargetIsa& isa) {
  // x·Phi(x) = x·(1 - E) for x > 0 and x·E for x <= 0, E = erfc(|x|/sqrt 2)/2, which nowhere
  // cancels. E = exp(-x²/2)·erfcx(|x|/sqrt 2)/2, with x²/2 = w + lo exactly. Beyond |x| = 18
  // the result is x or 0, and x is clamped there so that nothing overflows; 2^k is applied
  // last, so that a result that is a normal float is computed as one.
  llvm::Value* clamped = clampKeepNan(b, x, -18, 18);
  FloatPair w = halfSquare(b, isa, clamped);
  ExpSplit e = emitExpSplitFastF(b, b.CreateFNeg(w.hi), b.CreateFNeg(w.lo));
  llvm::Value* erfcx = emitHalfErfcxF(b, isa, fabs(b, clamped), 0.70710678118654752440);
  llvm::Value* positive = b.CreateFCmpOGT(x, splat(x, 0));
  // erfcx·(1 + p), times x where x <= 0, rounded once: with fused multiply-adds, or in double.
  llvm::Value* product = nullptr;
  if (isa.hasFma()) {
    llvm::Value* mantissa = mulAdd(b, e.p, erfcx, erfcx);
    llvm::Value* lo = mulAdd(b, e.p, erfcx, b.CreateFSub(erfcx, mantissa));
    llvm::Value* factor = b.CreateSelect(positive, splat(x, 1), clamped);
    product = mulAdd(b, factor, mantissa, b.CreateFMul(factor, lo));
  } else {
    auto* lanes = llvm::cast<llvm::FixedVectorType>(x->getType());
    auto* doubles = llvm::FixedVectorType::get(b.getDoubleTy(), lanes->getNumElements());
    auto wide = [&](llvm::Value* v) { return b.CreateFPExt(v, doubles); };
    llvm::Value* factor = wide(b.CreateSelect(positive, splat(x, 1), clamped));
    llvm::Value* mantissa = b.CreateFMul(wide(erfcx), b.CreateFAdd(wide(e.p), splat(factor, 1)));
    product = b.CreateFPTrunc(b.CreateFMul(factor, mantissa), lanes);
  }
  llvm::Value* scaled = emitLdexpF(b, isa, product, e.k);
  return b.CreateSelect(positive, mulAdd(b, b.CreateFNeg(clamped), scaled, x), scaled);
}

llvm::Value* gelu(Builder& b, llvm::Value* x, const Attrs& a) {
  if (a.text("approximate") == "none")
    return geluErf(b, x, a.isa);
  // 0.5·x·(1 + tanh(u)) = x·sigmoid(v), v = 2u = 2·sqrt(2/pi)·(x + 0.044715·x³). v is computed
  // and reduced in double: its float rounding would cost |v| ULP in exp(-|v|).
  const double c = 2 * 0.79788456080286535588;
  auto* lanes = llvm::cast<llvm::FixedVectorType>(x->getType());
  llvm::Value* d =
      b.CreateFPExt(x, llvm::FixedVectorType::get(b.getDoubleTy(), lanes->getNumElements()));
  llvm::Value* v =
      b.CreateFMul(d, mulAdd(b, b.CreateFMul(d, d), splat(d, c * 0.044715), splat(d, c)));
  if (!a.isa.hasFma()) {
    llvm::Value* z = clampKeepNan(b, b.CreateFNeg(fabs(b, v)), kExpFloor, 0);
    // Below -1e4 (where the result is 0) x is clamped so that x·m stays finite.
    llvm::Value* clampedX = clampKeepNan(b, x, -1e4, std::numeric_limits<float>::max());
    return timesSigmoidWithoutFma(b, a.isa, x, clampedX, emitExpSplitFromDouble(b, z));
  }
  // Below -11 the result is 0 in float, and e^-v beyond e^131 is clamped.
  llvm::Value* clampedX = clampKeepNan(b, x, -11, INFINITY);
  llvm::Value* z = clampKeepNan(b, b.CreateFNeg(v), -87, 131);
  return timesSigmoid(b, clampedX, emitExpSplitFromDouble(b, z));
}

/// An activation's emitter, and whether its loop is bound by memory rather than by arithmetic.
/// Streaming (non-temporal) stores pay off only for the former: measured here at 16 Mi floats,
/// they slowed elu and mish by a third and left relu as fast as the copy loop or faster.
struct Kernel {
  Emitter emit = nullptr;
  bool memoryBound = false;
};

/// The kernels nnc has, indexed by operator; no emitter where there is none.
const std::array<Kernel, ir::kNumOps>& kernels() {
  static const std::array<Kernel, ir::kNumOps> table = [] {
    std::array<Kernel, ir::kNumOps> t{};
    auto cheap = [&](ir::OpKind op, Emitter e) { t[static_cast<size_t>(op)] = {e, true}; };
    auto set = [&](ir::OpKind op, Emitter e) { t[static_cast<size_t>(op)] = {e, false}; };
    cheap(ir::OpKind::Identity, identity);
    cheap(ir::OpKind::Relu, relu);
    cheap(ir::OpKind::Relu6, relu6);
    cheap(ir::OpKind::LeakyRelu, leakyRelu);
    cheap(ir::OpKind::HardTanh, clampAttrs);
    cheap(ir::OpKind::Clamp, clampAttrs);
    cheap(ir::OpKind::ThresholdedRelu, thresholdedRelu);
    cheap(ir::OpKind::HardSigmoid, hardSigmoid);
    cheap(ir::OpKind::HardSwish, hardSwish);
    cheap(ir::OpKind::Softsign, softsign);
    set(ir::OpKind::Sigmoid, sigmoid);
    set(ir::OpKind::Tanh, tanh);
    set(ir::OpKind::Elu, elu);
    set(ir::OpKind::Selu, selu);
    set(ir::OpKind::Celu, celu);
    set(ir::OpKind::Softplus, softplus);
    set(ir::OpKind::Silu, silu);
    set(ir::OpKind::Mish, mish);
    set(ir::OpKind::Gelu, gelu);
    for (size_t op = 0; op < t.size(); ++op)
      if ((t[op].emit != nullptr) != hasActivationKernel(static_cast<ir::OpKind>(op)))
        throw InternalError("hasActivationKernel and the activation emitters disagree on " +
                            std::string(ir::opInfo(static_cast<ir::OpKind>(op)).name));
    return t;
  }();
  return table;
}

} // namespace

llvm::Value* emitActivation(Builder& builder, const TargetIsa& isa, ir::OpKind op,
                            const std::vector<ir::AttrValue>& attrs, llvm::Value* x) {
  const Kernel& kernel = kernels()[static_cast<size_t>(op)];
  if (!kernel.emit)
    throw InternalError("no kernel for " + std::string(ir::opInfo(op).name));
  return kernel.emit(builder, x, Attrs(ir::opInfo(op), attrs, isa));
}

bool isMemoryBoundActivation(ir::OpKind op) {
  return kernels()[static_cast<size_t>(op)].memoryBound;
}

llvm::Function* emitActivationKernel(llvm::Module& module, llvm::StringRef name,
                                     const TargetIsa& isa, ir::OpKind op,
                                     const std::vector<ir::AttrValue>& attrs) {
  const Kernel& kernel = kernels()[static_cast<size_t>(op)];
  if (!kernel.emit)
    throw InternalError("no kernel for " + std::string(ir::opInfo(op).name));
  Attrs named(ir::opInfo(op), attrs, isa);
  return emitUnaryLoop(
      module, name, isa, [&](Builder& b, llvm::Value* x) { return kernel.emit(b, x, named); },
      kernel.memoryBound);
}

} // namespace nnc::codegen
