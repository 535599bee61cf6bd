#include "compiler/codegen/activation_kernels.h"

#include "compiler/codegen/unary_loop.h"
#include "compiler/codegen/vector_math.h"
#include "compiler/ir/internal_error.h"

#include <llvm/IR/IRBuilder.h>

#include <array>
#include <limits>

namespace nnc::codegen {

namespace {

using Builder = llvm::IRBuilder<>;

/// The attributes of one activation, by name.
class Attrs {
public:
  Attrs(const ir::OpInfo& op, const std::vector<ir::AttrValue>& values)
      : op_(op), values_(values) {}
  double real(std::string_view name) const { return std::get<double>(values_.at(index(name))); }
  const std::string& text(std::string_view name) const {
    return std::get<std::string>(values_.at(index(name)));
  }

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

llvm::Value* constant(llvm::Value* like, double value) {
  return llvm::ConstantFP::get(like->getType(), value);
}

/// NaN-preserving clamp: a NaN fails both comparisons and passes through.
llvm::Value* clamp(Builder& b, llvm::Value* x, double lo, double hi) {
  llvm::Value* low = b.CreateSelect(b.CreateFCmpOLT(x, constant(x, lo)), constant(x, lo), x);
  return b.CreateSelect(b.CreateFCmpOGT(low, constant(x, hi)), constant(x, hi), low);
}

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
  return b.CreateSelect(b.CreateFCmpOLT(x, constant(x, 0)), constant(x, 0), x);
}

llvm::Value* relu6(Builder& b, llvm::Value* x, const Attrs&) {
  return clamp(b, x, 0, 6);
}

llvm::Value* clampAttrs(Builder& b, llvm::Value* x, const Attrs& a) {
  // Bounds round to float; a float between a bound and its rounding can only be the rounding.
  return clamp(b, x, static_cast<float>(a.real("min")), static_cast<float>(a.real("max")));
}

llvm::Value* leakyRelu(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  llvm::Value* scaled =
      inDouble(b, x, [&](llvm::Value* d) { return b.CreateFMul(d, constant(d, alpha)); });
  return b.CreateSelect(b.CreateFCmpOGE(x, constant(x, 0)), x, scaled);
}

llvm::Value* thresholdedRelu(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  // x > alpha, compared exactly (alpha need not be a float); NaN fails `<=` and passes.
  return inDouble(b, x, [&](llvm::Value* d) {
    return b.CreateSelect(b.CreateFCmpOLE(d, constant(d, alpha)), constant(d, 0), d);
  });
}

llvm::Value* hardSigmoidDouble(Builder& b, llvm::Value* d, double alpha, double beta) {
  return clamp(b, b.CreateFAdd(b.CreateFMul(d, constant(d, alpha)), constant(d, beta)), 0, 1);
}

llvm::Value* hardSigmoid(Builder& b, llvm::Value* x, const Attrs& a) {
  return inDouble(b, x, [&](llvm::Value* d) {
    return hardSigmoidDouble(b, d, a.real("alpha"), a.real("beta"));
  });
}

llvm::Value* hardSwish(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(b, x, [&](llvm::Value* d) {
    llvm::Value* gate = hardSigmoidDouble(b, d, 1.0 / 6.0, 0.5);
    // A closed gate gives 0 even for x = -inf (where x * 0 would be NaN).
    return b.CreateSelect(b.CreateFCmpOEQ(gate, constant(d, 0)), constant(d, 0),
                          b.CreateFMul(d, gate));
  });
}

llvm::Value* softsign(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(b, x, [&](llvm::Value* d) {
    llvm::Value* magnitude = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, d);
    llvm::Value* ratio = b.CreateFDiv(d, b.CreateFAdd(magnitude, constant(d, 1)));
    // x / (1 + |x|) is inf/inf for x = +-inf; the limit is +-1.
    llvm::Value* sign = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, constant(d, 1), d);
    llvm::Value* infinite =
        b.CreateFCmpOEQ(magnitude, constant(d, std::numeric_limits<double>::infinity()));
    return b.CreateSelect(infinite, sign, ratio);
  });
}

// The smooth activations below evaluate in double with vector_math's functions (relative error
// ~1e-12) and round once, so they are within 1 ULP of the true value; their formulas are
// arranged so that nothing cancels (no 1 + tanh, no exp(x) - 1 near 0).

/// Values below this give a float result of (signed) zero for silu, mish and gelu, whose
/// formulas would otherwise compute -inf · 0 at x = -inf.
constexpr double kNegligible = -1000;

llvm::Value* zeroBelow(Builder& b, llvm::Value* d, llvm::Value* value) {
  return b.CreateSelect(b.CreateFCmpOLT(d, constant(d, kNegligible)), constant(d, -0.0), value);
}

llvm::Value* sigmoid(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(b, x, [&](llvm::Value* d) { return emitSigmoid(b, d); });
}

llvm::Value* tanh(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(b, x, [&](llvm::Value* d) { return emitTanh(b, d); });
}

/// x > 0 ? scale·x : scale·alpha·expm1(x)
llvm::Value* scaledElu(Builder& b, llvm::Value* d, double alpha, double scale) {
  llvm::Value* negative = b.CreateFMul(emitExpm1(b, d), constant(d, alpha * scale));
  llvm::Value* positive = scale == 1 ? d : b.CreateFMul(d, constant(d, scale));
  return b.CreateSelect(b.CreateFCmpOGT(d, constant(d, 0)), positive, negative);
}

llvm::Value* elu(Builder& b, llvm::Value* x, const Attrs& a) {
  return inDouble(b, x, [&](llvm::Value* d) { return scaledElu(b, d, a.real("alpha"), 1); });
}

llvm::Value* selu(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(b, x, [&](llvm::Value* d) {
    return scaledElu(b, d, 1.6732632423543772848170429916717, 1.0507009873554804934193349852946);
  });
}

llvm::Value* celu(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  return inDouble(b, x, [&](llvm::Value* d) {
    // max(0, x) + min(0, alpha·expm1(x/alpha)), both NaN-preserving.
    llvm::Value* positive = b.CreateSelect(b.CreateFCmpOLT(d, constant(d, 0)), constant(d, 0), d);
    llvm::Value* curve =
        b.CreateFMul(emitExpm1(b, b.CreateFDiv(d, constant(d, alpha))), constant(d, alpha));
    llvm::Value* negative =
        b.CreateSelect(b.CreateFCmpOGT(curve, constant(d, 0)), constant(d, 0), curve);
    return b.CreateFAdd(positive, negative);
  });
}

/// log(1 + exp(x)), exactly (no threshold).
llvm::Value* softplusExact(Builder& b, llvm::Value* d) {
  return emitLog1p(b, emitExp(b, d));
}

llvm::Value* softplus(Builder& b, llvm::Value* x, const Attrs& a) {
  double beta = a.real("beta"), threshold = a.real("threshold");
  return inDouble(b, x, [&](llvm::Value* d) {
    llvm::Value* scaled = b.CreateFMul(d, constant(d, beta));
    llvm::Value* curve = b.CreateFDiv(softplusExact(b, scaled), constant(d, beta));
    return b.CreateSelect(b.CreateFCmpOGT(scaled, constant(d, threshold)), d, curve);
  });
}

llvm::Value* silu(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(
      b, x, [&](llvm::Value* d) { return zeroBelow(b, d, b.CreateFMul(d, emitSigmoid(b, d))); });
}

llvm::Value* mish(Builder& b, llvm::Value* x, const Attrs&) {
  return inDouble(b, x, [&](llvm::Value* d) {
    // Above 20, softplus(x) = x to within e^-20 relative and tanh of it is 1 either way.
    llvm::Value* soft = b.CreateSelect(b.CreateFCmpOGT(d, constant(d, 20)), d, softplusExact(b, d));
    return zeroBelow(b, d, b.CreateFMul(d, emitTanh(b, soft)));
  });
}

llvm::Value* gelu(Builder& b, llvm::Value* x, const Attrs& a) {
  if (a.text("approximate") == "none") {
    // x·Phi(x) = 0.5·x·erfc(-x/sqrt 2); erfc of a negative argument is 2 - erfc(|.|), which is
    // in [1, 2] and does not cancel.
    return inDouble(b, x, [&](llvm::Value* d) {
      llvm::Value* z = b.CreateFMul(d, constant(d, -0.70710678118654752440));
      llvm::Value* tail = emitErfc(b, b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, z));
      llvm::Value* cdf2 = b.CreateSelect(b.CreateFCmpOLT(z, constant(d, 0)),
                                         b.CreateFSub(constant(d, 2), tail), tail);
      return zeroBelow(b, d, b.CreateFMul(b.CreateFMul(d, constant(d, 0.5)), cdf2));
    });
  }
  // 0.5·x·(1 + tanh(z)) = x·sigmoid(2z), z = sqrt(2/pi)·(x + 0.044715·x³): the second form does
  // not cancel for negative x.
  return inDouble(b, x, [&](llvm::Value* d) {
    llvm::Value* cube = b.CreateFMul(b.CreateFMul(d, d), d);
    llvm::Value* inner = b.CreateFAdd(d, b.CreateFMul(cube, constant(d, 0.044715)));
    llvm::Value* twoZ = b.CreateFMul(inner, constant(d, 2 * 0.7978845608028654));
    return zeroBelow(b, d, b.CreateFMul(d, emitSigmoid(b, twoZ)));
  });
}

/// The emitters nnc has, indexed by operator; nullptr where there is none yet.
const std::array<Emitter, ir::kNumOps>& emitters() {
  static const std::array<Emitter, ir::kNumOps> table = [] {
    std::array<Emitter, ir::kNumOps> t{};
    auto set = [&](ir::OpKind op, Emitter e) { t[static_cast<size_t>(op)] = e; };
    set(ir::OpKind::Identity, identity);
    set(ir::OpKind::Relu, relu);
    set(ir::OpKind::Relu6, relu6);
    set(ir::OpKind::LeakyRelu, leakyRelu);
    set(ir::OpKind::HardTanh, clampAttrs);
    set(ir::OpKind::Clamp, clampAttrs);
    set(ir::OpKind::ThresholdedRelu, thresholdedRelu);
    set(ir::OpKind::HardSigmoid, hardSigmoid);
    set(ir::OpKind::HardSwish, hardSwish);
    set(ir::OpKind::Softsign, softsign);
    set(ir::OpKind::Sigmoid, sigmoid);
    set(ir::OpKind::Tanh, tanh);
    set(ir::OpKind::Elu, elu);
    set(ir::OpKind::Selu, selu);
    set(ir::OpKind::Celu, celu);
    set(ir::OpKind::Softplus, softplus);
    set(ir::OpKind::Silu, silu);
    set(ir::OpKind::Mish, mish);
    set(ir::OpKind::Gelu, gelu);
    return t;
  }();
  return table;
}

} // namespace

bool hasActivationKernel(ir::OpKind op) {
  return emitters()[static_cast<size_t>(op)] != nullptr;
}

llvm::Function* emitActivationKernel(llvm::Module& module, llvm::StringRef name,
                                     const TargetIsa& isa, ir::OpKind op,
                                     const std::vector<ir::AttrValue>& attrs) {
  Emitter emitter = emitters()[static_cast<size_t>(op)];
  if (!emitter)
    throw InternalError("no kernel for " + std::string(ir::opInfo(op).name));
  Attrs named(ir::opInfo(op), attrs);
  return emitUnaryLoop(module, name, isa,
                       [&](Builder& b, llvm::Value* x) { return emitter(b, x, named); });
}

} // namespace nnc::codegen
