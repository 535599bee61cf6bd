// Activation functions as vector math, and their elementwise loops.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/ir/op_table.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace nnc::codegen {

/// Whether this version of nnc generates a kernel for the activation (all but prelu).
bool hasActivationKernel(ir::OpKind op);

/// Emits `void name(const float* x, float* y, int64_t n)` applying activation `op` with its
/// resolved attributes (in the order of OpInfo::attrSpecs()). Requires hasActivationKernel.
llvm::Function* emitActivationKernel(llvm::Module& module, llvm::StringRef name,
                                     const TargetIsa& isa, ir::OpKind op,
                                     const std::vector<ir::AttrValue>& attrs);

/// Emits activation `op` (hasActivationKernel) with its resolved attributes on one vector `x`.
llvm::Value* emitActivation(llvm::IRBuilder<>& builder, const TargetIsa& isa, ir::OpKind op,
                            const std::vector<ir::AttrValue>& attrs, llvm::Value* x);

/// Whether the activation takes a few instructions per vector, so that a loop of it is bound by
/// memory rather than by arithmetic.
bool isMemoryBoundActivation(ir::OpKind op);

} // namespace nnc::codegen
