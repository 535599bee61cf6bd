// Fused elementwise kernels: a tree of activations, add, mul, prelu and batchnorm as one loop.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/ir/op_table.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace nnc::codegen {

/// One operation of a fused expression. Operands index earlier steps (>= 0) or leaves (-1 - leaf).
/// The operations and their operands:
///   an activation (hasActivationKernel): {x};
///   add, mul: {a, b};
///   prelu: {x, slope};
///   batchnorm: {x, scale, shift}, computed as x·scale + shift with two roundings, as the
///   runtime's batchNorm does.
struct FusedStep {
  ir::OpKind op = ir::OpKind::Identity;
  std::vector<ir::AttrValue> attrs; ///< resolved, in OpInfo::attrSpecs() order
  std::vector<int> operands;

  bool operator==(const FusedStep&) const = default;
};

/// What a fused kernel computes per element: its leaves are streams of `n` floats, or one float
/// for the whole call (a value broadcast along the run); the last step is the result.
struct FusedExpression {
  std::vector<bool> leafIsScalar;
  std::vector<FusedStep> steps;

  static int leaf(size_t index) { return -1 - static_cast<int>(index); }
  bool operator==(const FusedExpression&) const = default;
};

/// Emits the expression on one vector per leaf (leafIsScalar is not consulted: a scalar leaf is
/// given splat) and returns the result.
llvm::Value* emitExpression(llvm::IRBuilder<>& builder, const TargetIsa& isa,
                            const FusedExpression& expression, llvm::ArrayRef<llvm::Value*> leaves);

/// Emits `void name(float* y, const float* const* leaves, int64_t n)`: y[i] = the expression at
/// element i, for i < n, reading leaves[k][i] for stream leaves and leaves[k][0] for scalar ones.
/// Steps whose operands are all scalar are computed once, before the loop. y may be a stream
/// leaf. The loop is emitElementwiseLoop's (memory-bound when every step is cheap).
llvm::Function* emitFusedKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                                const FusedExpression& expression);

} // namespace nnc::codegen
