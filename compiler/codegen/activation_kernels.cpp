#include "compiler/codegen/activation_kernels.h"

#include "compiler/codegen/unary_loop.h"
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
  Attrs(const ir::OpInfo& op, const std::vector<ir::AttrValue>& values) : op_(op), values_(values) {}
  double real(std::string_view name) const { return std::get<double>(values_.at(index(name))); }

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
template <typename F>
llvm::Value* inDouble(Builder& b, llvm::Value* x, F f) {
  auto* vector = llvm::cast<llvm::FixedVectorType>(x->getType());
  auto* wide = llvm::FixedVectorType::get(b.getDoubleTy(), vector->getNumElements());
  return b.CreateFPTrunc(f(b.CreateFPExt(x, wide)), vector);
}

// Each emitter computes one activation on a vector; NaN maps to NaN and +-inf to the limit.
using Emitter = llvm::Value* (*)(Builder&, llvm::Value*, const Attrs&);

llvm::Value* identity(Builder&, llvm::Value* x, const Attrs&) { return x; }

llvm::Value* relu(Builder& b, llvm::Value* x, const Attrs&) {
  return b.CreateSelect(b.CreateFCmpOLT(x, constant(x, 0)), constant(x, 0), x);
}

llvm::Value* relu6(Builder& b, llvm::Value* x, const Attrs&) { return clamp(b, x, 0, 6); }

llvm::Value* clampAttrs(Builder& b, llvm::Value* x, const Attrs& a) {
  // Bounds round to float; a float between a bound and its rounding can only be the rounding.
  return clamp(b, x, static_cast<float>(a.real("min")), static_cast<float>(a.real("max")));
}

llvm::Value* leakyRelu(Builder& b, llvm::Value* x, const Attrs& a) {
  double alpha = a.real("alpha");
  llvm::Value* scaled = inDouble(b, x, [&](llvm::Value* d) {
    return b.CreateFMul(d, constant(d, alpha));
  });
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
    llvm::Value* infinite = b.CreateFCmpOEQ(magnitude, constant(d, std::numeric_limits<double>::infinity()));
    return b.CreateSelect(infinite, sign, ratio);
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
    return t;
  }();
  return table;
}

} // namespace

bool hasActivationKernel(ir::OpKind op) { return emitters()[static_cast<size_t>(op)] != nullptr; }

llvm::Function* emitActivationKernel(llvm::Module& module, llvm::StringRef name,
                                     const TargetIsa& isa, ir::OpKind op,
                                     const std::vector<ir::AttrValue>& attrs) {
  Emitter emitter = emitters()[static_cast<size_t>(op)];
  if (!emitter)
    throw InternalError("no kernel for " + std::string(ir::opInfo(op).name));
  Attrs named(ir::opInfo(op), attrs);
  return emitUnaryLoop(module, name, isa, [&](Builder& b, llvm::Value* x) {
    return emitter(b, x, named);
  });
}

} // namespace nnc::codegen
