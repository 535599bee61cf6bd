#include "compiler/codegen/vector_math.h"

#include <llvm/IR/Intrinsics.h>

#include <cmath>

namespace nnc::codegen {

using Builder = llvm::IRBuilder<>;

llvm::Value* splat(llvm::Value* like, double value) {
  return llvm::ConstantFP::get(like->getType(), value);
}

namespace {

/// c[0] + x·(c[1] + x·(c[2] + ...)) by Horner's rule. llvm.fmuladd fuses where the ISA has FMA
/// and is a multiply and an add on SSE (llvm.fma would become a libm call there); in double
/// precision either is far more accurate than the float result needs.
llvm::Value* polynomial(Builder& b, llvm::Value* x, const std::vector<double>& c) {
  llvm::Value* sum = splat(x, c.back());
  for (size_t i = c.size() - 1; i-- > 0;)
    sum = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {x->getType()}, {sum, x, splat(x, c[i])});
  return sum;
}

/// NaN-preserving clamp (a NaN fails both comparisons).
llvm::Value* clampKeepNan(Builder& b, llvm::Value* x, double lo, double hi) {
  llvm::Value* low = b.CreateSelect(b.CreateFCmpOLT(x, splat(x, lo)), splat(x, lo), x);
  return b.CreateSelect(b.CreateFCmpOGT(low, splat(x, hi)), splat(x, hi), low);
}

llvm::Type* integerVector(llvm::Value* like) {
  auto* vector = llvm::cast<llvm::FixedVectorType>(like->getType());
  return llvm::FixedVectorType::get(llvm::Type::getInt64Ty(like->getContext()),
                                    vector->getNumElements());
}

/// 1/k! for k = 0..count-1.
std::vector<double> taylorExp(int count) {
  std::vector<double> c(count);
  double factorial = 1;
  for (int k = 0; k < count; ++k) {
    if (k > 0)
      factorial *= k;
    c[k] = 1 / factorial;
  }
  return c;
}

} // namespace

llvm::Value* emitExp(Builder& b, llvm::Value* x) {
  llvm::Value* clamped = clampKeepNan(b, x, -708.0, 709.0);
  // n = round(x / ln2); r = x - n·ln2 with ln2 split so that n·ln2hi is exact (|n| < 2^11),
  // so the reduction needs no fused multiply-add.
  llvm::Value* n = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven,
                                          b.CreateFMul(clamped, splat(x, 1.4426950408889634)));
  const double ln2hi = 6.93147180369123816490e-01; // 33 significant bits
  const double ln2lo = 1.90821492927058770002e-10;
  llvm::Value* r =
      b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {x->getType()}, {n, splat(x, -ln2hi), clamped});
  r = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {x->getType()}, {n, splat(x, -ln2lo), r});
  // |r| <= 0.347: the degree-12 Taylor remainder is below 0.347^13/13! ~ 1e-16.
  llvm::Value* er = polynomial(b, r, taylorExp(13));
  // 2^n: n + 1023 in the exponent field (n is in [-1021, 1023] after the clamp). A NaN n
  // converts to garbage, but er is NaN then and so is the product.
  llvm::Type* ints = integerVector(x);
  llvm::Value* bits = b.CreateShl(
      b.CreateAdd(b.CreateFPToSI(b.CreateSelect(b.CreateFCmpUNO(n, n), splat(n, 0), n), ints),
                  llvm::ConstantInt::get(ints, 1023)),
      llvm::ConstantInt::get(ints, 52));
  return b.CreateFMul(er, b.CreateBitCast(bits, x->getType()));
}

llvm::Value* emitExpm1(Builder& b, llvm::Value* x) {
  // Near 0: x + x²/2! + ... + x^13/13!; the remainder is below 0.35^14/14! relative to x.
  std::vector<double> c = taylorExp(14);
  c.erase(c.begin()); // drop the constant 1: the series of exp(x) - 1 divided by x
  llvm::Value* series = b.CreateFMul(x, polynomial(b, x, c));
  llvm::Value* viaExp = b.CreateFSub(emitExp(b, x), splat(x, 1));
  llvm::Value* small =
      b.CreateFCmpOLT(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x), splat(x, 0.35));
  return b.CreateSelect(small, series, viaExp);
}

llvm::Value* emitLog1p(Builder& b, llvm::Value* u) {
  // Tiny u: u - u²/2 + u³/3 - u⁴/4, relative remainder below u⁴/5 < 2e-17.
  llvm::Value* series = b.CreateFMul(u, polynomial(b, u, {1.0, -1.0 / 2, 1.0 / 3, -1.0 / 4}));
  // Otherwise v = 1 + u (rounding costs < 1e-12 relative for u >= 1e-4) = 2^e · m with m in
  // [sqrt(1/2), sqrt(2)); log(m) = 2·atanh(s), s = (m - 1)/(m + 1), |s| <= 0.172.
  llvm::Value* v = b.CreateFAdd(u, splat(u, 1));
  llvm::Type* ints = integerVector(u);
  llvm::Value* bits = b.CreateBitCast(v, ints);
  // Shift the exponent so that the mantissa lands in [sqrt(1/2), sqrt(2)).
  llvm::Value* shifted = b.CreateSub(bits, llvm::ConstantInt::get(ints, 0x3fe6a09e667f3bcdLL));
  llvm::Value* exponent = b.CreateAShr(shifted, llvm::ConstantInt::get(ints, 52));
  llvm::Value* mantissaBits =
      b.CreateSub(bits, b.CreateShl(exponent, llvm::ConstantInt::get(ints, 52)));
  llvm::Value* m = b.CreateBitCast(mantissaBits, u->getType());
  llvm::Value* s = b.CreateFDiv(b.CreateFSub(m, splat(u, 1)), b.CreateFAdd(m, splat(u, 1)));
  llvm::Value* s2 = b.CreateFMul(s, s);
  // 2·(s + s³/3 + ... + s¹⁹/19): the remainder is below 2·0.172^21/21 ~ 1e-17.
  std::vector<double> odd;
  for (int k = 1; k <= 19; k += 2)
    odd.push_back(2.0 / k);
  llvm::Value* logM = b.CreateFMul(s, polynomial(b, s2, odd));
  llvm::Value* e = b.CreateSIToFP(exponent, u->getType());
  llvm::Value* log = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {u->getType()},
                                       {e, splat(u, 0.6931471805599453), logM});
  // +inf and NaN have no meaningful exponent and mantissa: they are their own results.
  llvm::Value* special = b.CreateFCmpUEQ(u, splat(u, INFINITY));
  llvm::Value* general = b.CreateSelect(special, u, log);
  llvm::Value* tiny = b.CreateFCmpOLT(u, splat(u, 1e-4));
  return b.CreateSelect(tiny, series, general); // NaN fails `<` and takes the general path
}

namespace {

// Chebyshev coefficients of g(t) in erfc(z) = t·exp(-z² + g(t)), t = 1/(1 + z/2), for t in
// [kErfcTMin, 1]; generated by scripts/fit_erfc.py:
// T_MIN = 0.06896551724137931, degree 34, max relative error 2.92e-11
constexpr double kErfcTMin = 0.06896551724137931;
constexpr double kErfcSeries[] = {
    -0.610740152364521,      0.6053584463393658,      0.013897604737203726,
    -0.008264970085620962,   -0.0005419707791651796,  0.00028857329497335675,
    1.5644871917709834e-05,  -1.38032768631494e-05,   -4.197729084966438e-09,
    7.160941595886681e-07,   -5.773519239836235e-08,  -3.436360845400697e-08,
    6.7618799448609934e-09,  1.2123116605826973e-09,  -5.314770464995685e-10,
    -5.315849348010358e-12,  3.423150651826745e-11,   -7.25742006173797e-12,
    1.6898101965320426e-12,  -2.265996913917791e-12,  2.5342077642725207e-12,
    -2.413999159297678e-12,  2.245232571291516e-12,   -2.085201852456261e-12,
    1.9257040406728266e-12,  -1.7624949119213592e-12, 1.5956854885043217e-12,
    -1.4253106631453452e-12, 1.2529215760131203e-12,  -1.0794064055273468e-12,
    9.017738936531064e-13,   -7.238669980884944e-13,  5.437824793627247e-13,
    -3.643062042511604e-13,  1.8213843132132623e-13,
};

} // namespace

llvm::Value* emitErfc(Builder& b, llvm::Value* z) {
  // z in [0, 27]; beyond 27 erfc is below 1e-318 and any float result built from it is 0.
  llvm::Value* w = clampKeepNan(b, z, 0, 27);
  llvm::Value* t =
      b.CreateFDiv(splat(w, 1), b.CreateFAdd(splat(w, 1), b.CreateFMul(w, splat(w, 0.5))));
  // Clenshaw's recurrence for the Chebyshev series in u = t mapped to [-1, 1].
  llvm::Value* u = b.CreateFDiv(b.CreateFSub(b.CreateFMul(t, splat(w, 2)), splat(w, kErfcTMin + 1)),
                                splat(w, 1 - kErfcTMin));
  llvm::Value* twoU = b.CreateFMul(u, splat(w, 2));
  llvm::Value* b1 = splat(w, 0);
  llvm::Value* b2 = splat(w, 0);
  constexpr size_t count = sizeof(kErfcSeries) / sizeof(kErfcSeries[0]);
  for (size_t k = count - 1; k >= 1; --k) {
    llvm::Value* next = b.CreateFAdd(
        b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {w->getType()}, {twoU, b1, b.CreateFNeg(b2)}),
        splat(w, kErfcSeries[k]));
    b2 = b1;
    b1 = next;
  }
  llvm::Value* g = b.CreateFAdd(
      b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {w->getType()}, {u, b1, b.CreateFNeg(b2)}),
      splat(w, kErfcSeries[0]));
  llvm::Value* exponent = b.CreateFSub(g, b.CreateFMul(w, w));
  return b.CreateFMul(t, emitExp(b, exponent));
}

llvm::Value* emitSigmoid(Builder& b, llvm::Value* x) {
  return b.CreateFDiv(splat(x, 1), b.CreateFAdd(splat(x, 1), emitExp(b, b.CreateFNeg(x))));
}

llvm::Value* emitTanh(Builder& b, llvm::Value* x) {
  llvm::Value* magnitude = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* t = emitExpm1(b, b.CreateFMul(magnitude, splat(x, 2)));
  llvm::Value* ratio = b.CreateFDiv(t, b.CreateFAdd(t, splat(x, 2)));
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, ratio, x);
}

} // namespace nnc::codegen
