#include "compiler/codegen/vector_math.h"

#include <llvm/IR/Intrinsics.h>

#include <cmath>

namespace nnc::codegen {

using Builder = llvm::IRBuilder<>;

llvm::Value* splat(llvm::Value* like, double value) {
  return llvm::ConstantFP::get(like->getType(), value);
}

namespace {

/// c[0] + x·(c[1] + x·(c[2] + ...)) by Horner's rule with fused multiply-adds.
llvm::Value* polynomial(Builder& b, llvm::Value* x, const std::vector<double>& c) {
  llvm::Value* sum = splat(x, c.back());
  for (size_t i = c.size() - 1; i-- > 0;)
    sum = b.CreateIntrinsic(llvm::Intrinsic::fma, {x->getType()}, {sum, x, splat(x, c[i])});
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
  // n = round(x / ln2); r = x - n·ln2 with ln2 split so that n·ln2hi is exact (|n| < 2^11).
  llvm::Value* n = b.CreateUnaryIntrinsic(llvm::Intrinsic::roundeven,
                                          b.CreateFMul(clamped, splat(x, 1.4426950408889634)));
  const double ln2hi = 6.93147180369123816490e-01; // 33 significant bits
  const double ln2lo = 1.90821492927058770002e-10;
  llvm::Value* r = b.CreateIntrinsic(llvm::Intrinsic::fma, {x->getType()},
                                     {n, splat(x, -ln2hi), clamped});
  r = b.CreateIntrinsic(llvm::Intrinsic::fma, {x->getType()}, {n, splat(x, -ln2lo), r});
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
  llvm::Value* small = b.CreateFCmpOLT(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x),
                                       splat(x, 0.35));
  return b.CreateSelect(small, series, viaExp);
}

llvm::Value* emitLog1p(Builder& b, llvm::Value* u) {
  // Tiny u: u - u²/2 + u³/3 - u⁴/4, relative remainder below u⁴/5 < 2e-17.
  llvm::Value* series =
      b.CreateFMul(u, polynomial(b, u, {1.0, -1.0 / 2, 1.0 / 3, -1.0 / 4}));
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
  llvm::Value* log = b.CreateIntrinsic(llvm::Intrinsic::fma, {u->getType()},
                                       {e, splat(u, 0.6931471805599453), logM});
  // +inf and NaN have no meaningful exponent and mantissa: they are their own results.
  llvm::Value* special = b.CreateFCmpUEQ(u, splat(u, INFINITY));
  llvm::Value* general = b.CreateSelect(special, u, log);
  llvm::Value* tiny = b.CreateFCmpOLT(u, splat(u, 1e-4));
  return b.CreateSelect(tiny, series, general); // NaN fails `<` and takes the general path
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
