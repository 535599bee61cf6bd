#include "compiler/codegen/float_math.h"

#include "compiler/codegen/vector_ops.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>

#include <cmath>
#include <utility>

namespace nnc::codegen {

using Builder = llvm::IRBuilder<>;

namespace {

// Coefficients from scripts/fit_float_math.py (Chebyshev interpolation, rounded to float).
// expm1(r) = r + r²·q(r) on |r| <= ln2/2: relative error 1.7e-9 (0.03 ULP) before rounding.
const std::vector<double> kExpm1Q = {0.5,
                                     0.1666666716337204,
                                     0.04166646674275398,
                                     0.00833331048488617,
                                     0.0013933641603216529,
                                     0.00019890980911441147};
// log1p(u) = 2s·(1 + w·h(w)), s = u/(2 + u), w = s² in [0, 1/9]: relative error 1e-9.
const std::vector<double> kLog1pH = {0.3333333432674408, 0.19999852776527405, 0.142961785197258,
                                     0.10853288322687149, 0.11612164229154587};

// exp(r) = 1 + r·g(r) on |r| <= ln2/2: relative error 1.1e-8 (0.18 ULP) before rounding.
const std::vector<double> kExpG = {1.0,
                                   0.5,
                                   0.16666504740715027,
                                   0.04166646674275398,
                                   0.008369148708879948,
                                   0.0013933641603216529};

// erfc(z)·exp(z²)/2 = t·H(t - kErfcxMid)/2, t = 1/(1 + kErfcxA·z), z in [0, 9.5]: relative
// error 2.6e-8 (0.43 ULP).
constexpr double kErfcxA = 0.7;
constexpr double kErfcxMid = 0.5653594732284546;
const std::vector<double> kHalfErfcxH = {
    0.3556630611419678,  0.33945906162261963, 0.03682462126016617,   -0.14280965924263,
    0.02028663642704487, 0.0825776606798172,  -0.06988897919654846,  -0.010948177427053452,
    0.07565683871507645, -0.0601046048104763, -0.031841740012168884, 0.06263040751218796};

constexpr double kLog2e = 1.44269504088896340736;
// ln2 = kLn2Hi + kLn2Lo; kLn2Hi has 16 significant bits, so k·kLn2Hi is exact for |k| < 2^8.
constexpr double kLn2Hi = 0.693145751953125;
constexpr double kLn2Lo = 1.428606765330187045e-06;

/// The split once r and k are known: p = r + r²·q(r).
ExpSplit finishSplit(Builder& b, llvm::Value* k, llvm::Value* r) {
  return {k, mulAdd(b, b.CreateFMul(r, r), polynomial(b, r, kExpm1Q), r)};
}

/// k = round(z·log2e) by the 1.5·2^23 trick (the sum's low mantissa bits hold the integer),
/// and z - k·ln2hi, which is exact.
std::pair<llvm::Value*, llvm::Value*> reduceHead(Builder& b, llvm::Value* z) {
  const double magic = 12582912.0;
  llvm::Value* t = mulAdd(b, z, splat(z, kLog2e), splat(z, magic));
  llvm::Value* k = b.CreateFSub(t, splat(z, magic));
  return {k, mulAdd(b, k, splat(z, -kLn2Hi), z)};
}

/// expm1(r) = r·g(r), with g's constant 1 as the last Horner step: one operation fewer than
/// r + r²·q(r), and as good where 1 + p is what counts. With rLo, expm1(r + rLo) for an rLo
/// below an ULP of r, as r·g(r) + rLo (its product with e^r - 1 is below 0.1 ULP of 1 + p).
llvm::Value* fastExpm1(Builder& b, llvm::Value* r, llvm::Value* rLo = nullptr) {
  static const std::vector<double> g(kExpG.begin() + 1, kExpG.end());
  llvm::Value* factor = mulAdd(b, r, polynomial(b, r, g), splat(r, 1));
  return rLo ? mulAdd(b, r, factor, rLo) : b.CreateFMul(r, factor);
}

/// 2^k for integer k in [-126, 127] through the exponent field.
llvm::Value* powerOfTwo(Builder& b, llvm::Value* kInt, llvm::Type* floats) {
  llvm::Value* biased = b.CreateAdd(kInt, llvm::ConstantInt::get(kInt->getType(), 127));
  return b.CreateBitCast(b.CreateShl(biased, llvm::ConstantInt::get(kInt->getType(), 23)), floats);
}

/// k as integers; the freeze makes a NaN lane an arbitrary integer rather than poison (the
/// lane's value is NaN through the mantissa anyway).
llvm::Value* toInt(Builder& b, llvm::Value* k) {
  return b.CreateFreeze(b.CreateFPToSI(k, integerVector(k)));
}

bool hasScalef(const TargetIsa& isa, llvm::Value* v) {
  return isa.kind == IsaKind::Avx512 &&
         llvm::cast<llvm::FixedVectorType>(v->getType())->getNumElements() == 16;
}

llvm::Value* scalef(Builder& b, llvm::Value* v, llvm::Value* k) {
  // vscalefps v, k: v·2^floor(k), with the current rounding mode (4).
  return b.CreateIntrinsic(llvm::Intrinsic::x86_avx512_mask_scalef_ps_512, {},
                           {v, k, v, b.getInt16(0xffff), b.getInt32(4)});
}

} // namespace

ExpSplit emitExpSplitF(Builder& b, llvm::Value* z) {
  auto [k, head] = reduceHead(b, z);
  return finishSplit(b, k, mulAdd(b, k, splat(z, -kLn2Lo), head));
}

ExpSplit emitExpSplitFastF(Builder& b, llvm::Value* z, llvm::Value* zLo) {
  auto [k, head] = reduceHead(b, z);
  if (!zLo)
    return {k, fastExpm1(b, mulAdd(b, k, splat(z, -kLn2Lo), head))};
  // r = (z - k·ln2hi) - (k·ln2lo - zLo): the low part costs no extra rounding.
  return {k, fastExpm1(b, b.CreateFSub(head, mulAdd(b, k, splat(z, kLn2Lo), b.CreateFNeg(zLo))))};
}

ExpSplit emitExpSplitFromDouble(Builder& b, llvm::Value* z) {
  const double magic = 6755399441055744.0; // 1.5·2^52
  llvm::Value* t = mulAdd(b, z, splat(z, kLog2e), splat(z, magic));
  llvm::Value* k = b.CreateFSub(t, splat(z, magic));
  // |k| <= 246: the error of the double ln2 is below 246·2^-54, far below a float ULP of r.
  llvm::Value* r = mulAdd(b, k, splat(z, -0.69314718055994530942), z);
  auto* lanes = llvm::cast<llvm::FixedVectorType>(z->getType());
  auto* floats = llvm::FixedVectorType::get(b.getFloatTy(), lanes->getNumElements());
  // r's rounding to float (up to about a fifth of an ULP of 1 + p) is kept as rLo.
  llvm::Value* head = b.CreateFPTrunc(r, floats);
  llvm::Value* rLo = b.CreateFPTrunc(b.CreateFSub(r, b.CreateFPExt(head, lanes)), floats);
  return {b.CreateFPTrunc(k, floats), fastExpm1(b, head, rLo)};
}

llvm::Value* emitLdexpF(Builder& b, const TargetIsa& isa, llvm::Value* v, llvm::Value* k) {
  if (hasScalef(isa, v))
    return scalef(b, v, k);
  // 2^k = 2^h · 2^(k-h), h = floor(k/2): both factors are normal for k in [-252, 254], and only
  // the second multiply can round.
  llvm::Value* kInt = toInt(b, k);
  llvm::Value* half = b.CreateAShr(kInt, llvm::ConstantInt::get(kInt->getType(), 1));
  llvm::Value* rest = b.CreateSub(kInt, half);
  llvm::Value* first = b.CreateFMul(v, powerOfTwo(b, half, v->getType()));
  return b.CreateFMul(first, powerOfTwo(b, rest, v->getType()));
}

llvm::Value* emitPow2F(Builder& b, const TargetIsa& isa, llvm::Value* k) {
  if (hasScalef(isa, k))
    return scalef(b, splat(k, 1), k);
  // k is clamped to -127, whose exponent field is 0: 2^k for k < -126 becomes 0. k = 128 gives
  // +inf.
  llvm::Value* kInt = toInt(b, k);
  llvm::Value* floor = llvm::ConstantInt::get(kInt->getType(), -127);
  kInt = b.CreateSelect(b.CreateICmpSLT(kInt, floor), floor, kInt);
  return powerOfTwo(b, kInt, k->getType());
}

llvm::Value* emitExpF(Builder& b, const TargetIsa& isa, llvm::Value* z) {
  // -104 keeps k >= -150 and exp(-inf) = 0; 89 keeps k <= 128 and overflows to +inf.
  z = clampKeepNan(b, z, -104, 89);
  auto [k, head] = reduceHead(b, z);
  llvm::Value* r = mulAdd(b, k, splat(z, -kLn2Lo), head);
  llvm::Value* m = mulAdd(b, r, polynomial(b, r, kExpG), splat(z, 1));
  if (hasScalef(isa, z))
    return scalef(b, m, k);
  return b.CreateFMul(m, emitPow2F(b, isa, k));
}

ScaledOnePlusExp emitOnePlusExpF(Builder& b, const ExpSplit& split, OnePlusExp form) {
  // 2^-m·(1 + 2^k·(1 + p)) = c + 2^j·(p + cLo·2^-j), j = k - m, c = 2^-m + 2^j rounded and
  // cLo its error by Fast2Sum. c is exact for k in [-23, 23]; from k = 24 on, a rounded c alone
  // would cost up to an ULP of the result, so cLo goes into p. Below k = -23, 2^k is below
  // half an ULP of 1 (Rounded takes 2^k as the larger term there and loses it), but not of lo
  // (ScaledPair puts the larger term first).
  bool pair = form == OnePlusExp::ScaledPair;
  llvm::Value* k = toInt(b, split.k);
  llvm::Value* one = splat(split.p, 1);
  if (pair) {
    llvm::Value* far = b.CreateICmpSGE(k, llvm::ConstantInt::get(k->getType(), 64));
    k = b.CreateSelect(far, b.CreateSub(k, llvm::ConstantInt::get(k->getType(), 64)), k);
    one = b.CreateSelect(far, splat(one, 0x1p-64), one);
  }
  llvm::Value* scale = powerOfTwo(b, k, one->getType());
  llvm::Value* inverse = powerOfTwo(b, b.CreateNeg(k), one->getType());
  llvm::Value* c = b.CreateFAdd(one, scale);
  llvm::Value* larger = scale;
  llvm::Value* smaller = one;
  if (pair) {
    // Selects on a comparison: one vmaxps and one vminps (maxnum would add NaN handling).
    llvm::Value* oneLarger = b.CreateFCmpOGT(one, scale);
    larger = b.CreateSelect(oneLarger, one, scale);
    smaller = b.CreateSelect(oneLarger, scale, one);
  }
  llvm::Value* cLo = b.CreateFAdd(b.CreateFSub(larger, c), smaller);
  llvm::Value* p = mulAdd(b, cLo, inverse, split.p);
  llvm::Value* value = mulAdd(b, scale, p, c);
  if (!pair)
    return {value, one, nullptr};
  // c and value are within a factor of two, so c - value is exact (Sterbenz).
  return {value, one, mulAdd(b, scale, p, b.CreateFSub(c, value))};
}

llvm::Value* emitExpm1NegF(Builder& b, llvm::Value* z) {
  // Below -18 expm1 rounds to -1, and k >= -26 keeps 2^k normal.
  ExpSplit e = emitExpSplitF(b, clampKeepNan(b, z, -18, 0));
  llvm::Value* scale = powerOfTwo(b, toInt(b, e.k), z->getType());
  // 2^k - 1 is exact for k in [-26, 0].
  return mulAdd(b, scale, e.p, b.CreateFSub(scale, splat(z, 1)));
}

llvm::Value* emitLog1pUnitF(Builder& b, const FloatPair& pair) {
  // log1p(u) = 2·atanh(s) = 2s + s·R, R = 2w·h(w), and 2s = u - s·u, so (as in fdlibm)
  // log1p(u) = u - (u²/2 - s·(u²/2 + R)): the rounding of s only touches the small last term.
  llvm::Value* u = pair.hi;
  llvm::Value* two = splat(u, 2);
  llvm::Value* denominator = b.CreateFAdd(u, two);
  llvm::Value* s = b.CreateFDiv(u, denominator);
  // The rounding errors of s and of u²/2 would each cost a third of an ULP near u = 1; both are
  // recovered exactly with fused multiply-adds (1/(2 + u) = (1 - s)/2).
  llvm::Value* denominatorLo = b.CreateFAdd(b.CreateFSub(two, denominator), u);
  llvm::Value* remainder = mulAdd(b, b.CreateFNeg(s), denominator, u);
  remainder = mulAdd(b, b.CreateFNeg(s), denominatorLo, remainder);
  llvm::Value* sLo = b.CreateFMul(remainder, mulAdd(b, s, splat(u, -0.5), splat(u, 0.5)));
  llvm::Value* w = b.CreateFMul(s, s);
  llvm::Value* halfU = b.CreateFMul(u, splat(u, 0.5));
  llvm::Value* halfSquare = b.CreateFMul(halfU, u);
  llvm::Value* halfSquareLo = mulAdd(b, halfU, u, b.CreateFNeg(halfSquare));
  llvm::Value* halfSquarePlusR =
      mulAdd(b, b.CreateFAdd(w, w), polynomial(b, w, kLog1pH), halfSquare);
  // log1p(u + lo) = log1p(u) + lo/(1 + u); 1 - u/2 is within 12% of 1/(1 + u) on [0, 1], which
  // is plenty for a term below half an ULP of u. The small terms are summed first and enter
  // with u²/2, so that they are rounded with it rather than one by one.
  llvm::Value* corrections = mulAdd(b, b.CreateFNeg(sLo), halfSquarePlusR, halfSquareLo);
  corrections = mulAdd(b, pair.lo, mulAdd(b, u, splat(u, 0.5), splat(u, -1)), corrections);
  llvm::Value* inner =
      mulAdd(b, b.CreateFNeg(s), halfSquarePlusR, b.CreateFAdd(halfSquare, corrections));
  return b.CreateFSub(u, inner);
}

llvm::Value* emitHalfErfcxF(Builder& b, const TargetIsa& isa, llvm::Value* v, double zScale) {
  // t = 1/(1 + 0.7z) carried as t + tLo: near z = 0 the rounding of 1 + 0.7z alone would cost
  // E two ULP (E moves with t almost one to one there).
  llvm::Value* az = b.CreateFMul(v, splat(v, kErfcxA * zScale));
  llvm::Value* one = splat(v, 1);
  llvm::Value* t = nullptr;
  llvm::Value* tLo = nullptr;
  if (isa.hasFma()) {
    // 1 + az = d + dLo by Fast2Sum; the remainder 1 - t·d is exact with a fused multiply-add.
    llvm::Value* d = b.CreateFAdd(az, one);
    llvm::Value* big = b.CreateSelect(b.CreateFCmpOGT(az, one), az, one);
    llvm::Value* small = b.CreateSelect(b.CreateFCmpOGT(az, one), one, az);
    llvm::Value* dLo = b.CreateFAdd(b.CreateFSub(big, d), small);
    t = b.CreateFDiv(one, d);
    llvm::Value* residual = mulAdd(b, b.CreateFNeg(t), d, one);
    residual = mulAdd(b, b.CreateFNeg(t), dLo, residual);
    tLo = b.CreateFMul(t, residual);
  } else {
    // Without fused multiply-add (SSE): t in double, split into two floats.
    auto* lanes = llvm::cast<llvm::FixedVectorType>(v->getType());
    auto* doubles = llvm::FixedVectorType::get(b.getDoubleTy(), lanes->getNumElements());
    llvm::Value* azWide = b.CreateFPExt(az, doubles);
    llvm::Value* wide = b.CreateFDiv(splat(azWide, 1), b.CreateFAdd(azWide, splat(azWide, 1)));
    t = b.CreateFPTrunc(wide, lanes);
    tLo = b.CreateFPTrunc(b.CreateFSub(wide, b.CreateFPExt(t, doubles)), lanes);
  }
  // t - kErfcxMid is exact (Sterbenz) where it matters, near t = 1.
  llvm::Value* u = b.CreateFAdd(b.CreateFSub(t, splat(v, kErfcxMid)), tLo);
  if (!isa.hasFma()) {
    // Without fused multiply-add the degree-11 polynomial's doubled roundings took exact gelu
    // to 4.01 ULP near x = -5.08: evaluated in double there.
    auto* doubles = llvm::FixedVectorType::get(
        b.getDoubleTy(), llvm::cast<llvm::FixedVectorType>(v->getType())->getNumElements());
    llvm::Value* h = polynomial(b, b.CreateFPExt(u, doubles), kHalfErfcxH);
    llvm::Value* whole = b.CreateFAdd(b.CreateFPExt(t, doubles), b.CreateFPExt(tLo, doubles));
    return b.CreateFPTrunc(b.CreateFMul(whole, h), v->getType());
  }
  llvm::Value* h = polynomial(b, u, kHalfErfcxH);
  return mulAdd(b, t, h, b.CreateFMul(tLo, h));
}

FloatPair emitOffsetExp(Builder& b, double c, llvm::Value* scale, llvm::Value* p) {
  if (c == 0) {
    llvm::Value* hi = mulAdd(b, scale, p, scale);
    // scale and hi are within a factor of two, so scale - hi is exact (Sterbenz).
    return {hi, mulAdd(b, scale, p, b.CreateFSub(scale, hi))};
  }
  // base = c + scale exactly as baseHi + baseLo (Fast2Sum, |c| >= scale).
  llvm::Value* baseHi = b.CreateFAdd(splat(scale, c), scale);
  llvm::Value* baseLo = b.CreateFAdd(b.CreateFSub(splat(scale, c), baseHi), scale);
  llvm::Value* hi = mulAdd(b, scale, p, baseHi);
  llvm::Value* lo = mulAdd(b, scale, p, b.CreateFSub(baseHi, hi));
  return {hi, b.CreateFAdd(lo, baseLo)};
}

llvm::Value* emitDividePair(Builder& b, const TargetIsa& isa, const FloatPair& n,
                            const FloatPair& d) {
  if (!isa.hasFma()) {
    auto* lanes = llvm::cast<llvm::FixedVectorType>(n.hi->getType());
    auto* doubles = llvm::FixedVectorType::get(b.getDoubleTy(), lanes->getNumElements());
    auto wide = [&](const FloatPair& pair) {
      return b.CreateFAdd(b.CreateFPExt(pair.hi, doubles), b.CreateFPExt(pair.lo, doubles));
    };
    return b.CreateFPTrunc(b.CreateFDiv(wide(n), wide(d)), lanes);
  }
  // q = n.hi/d.hi, corrected by the remainder n - q·d (its first part exact with a fused
  // multiply-add) divided by d, for which 1.5 - d/2 (within 12% of 1/d on [1, 2]) is plenty.
  llvm::Value* q = b.CreateFDiv(n.hi, d.hi);
  llvm::Value* remainder = mulAdd(b, b.CreateFNeg(q), d.hi, n.hi);
  remainder = mulAdd(b, b.CreateFNeg(q), d.lo, b.CreateFAdd(remainder, n.lo));
  llvm::Value* inverse = mulAdd(b, d.hi, splat(q, -0.5), splat(q, 1.5));
  return mulAdd(b, remainder, inverse, q);
}

llvm::Value* emitMulConstF(Builder& b, llvm::Value* v, double c) {
  auto head = static_cast<float>(c);
  if (head == c)
    return head == 1 ? v : b.CreateFMul(v, splat(v, head));
  // The head is rounded toward zero so that the tail has its sign: v = ±inf then gives ±inf
  // for both terms rather than inf - inf.
  if (std::fabs(head) > std::fabs(c))
    head = std::nextafter(head, 0.0f);
  auto tail = static_cast<float>(c - head);
  return mulAdd(b, v, splat(v, head), b.CreateFMul(v, splat(v, tail)));
}

} // namespace nnc::codegen
