// The PReLU kernel: x >= 0 ? x : w·x with a learned slope, one or one per channel.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

namespace nnc::codegen {

/// Emits `void name(const float* x, float* y, const float* slope, int64_t outer,
/// int64_t channels, int64_t inner)` for x laid out as [outer, channels, inner]: element
/// (o, c, i) uses slope[c] (channels = 1: one shared slope). x and y may be the same buffer.
/// Every run of `inner` elements goes through the vectorized elementwise loop with the slope as
/// a scalar argument; inner = 1 (channels last, as after a dense layer) loads the slopes as a
/// second input stream instead. The result is exact: w·x is rounded once.
/// x >= 0 ? x : slope·x on one vector, the slope rounded once.
llvm::Value* emitPrelu(llvm::IRBuilder<>& builder, llvm::Value* x, llvm::Value* slope);

llvm::Function* emitPreluKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa);

} // namespace nnc::codegen
