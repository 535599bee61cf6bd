// Elementwise loops y[i] = f(x0[i], x1[i], ..., s0, s1, ...) over explicit vectors of the
// target's width.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <functional>

namespace nnc::codegen {

/// Emits f on one vector of floats (the lanes are independent).
using VectorMath = std::function<llvm::Value*(llvm::IRBuilder<>&, llvm::Value*)>;

/// Emits f on one vector of each input stream and the splat scalar arguments.
using ElementwiseMath = std::function<llvm::Value*(
    llvm::IRBuilder<>&, llvm::ArrayRef<llvm::Value*> inputs, llvm::ArrayRef<llvm::Value*> scalars)>;

/// The shape of an elementwise function: `void (const float* x0, ..., float* y, int64_t n,
/// float s0, ...)`.
struct ElementwiseSignature {
  unsigned inputs = 1;
  unsigned scalars = 0;
};

/// Sets the attributes every generated vector function carries: the ISA's CPU, no unwinding,
/// and vector-width hints that keep LLVM from splitting the explicit vectors into narrower ones.
void setVectorAttributes(llvm::Function& function, const TargetIsa& isa);

/// A generated kernel's function: `void name(params...)`, with setVectorAttributes.
llvm::Function*
declareKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
              llvm::ArrayRef<llvm::Type*> params,
              llvm::GlobalValue::LinkageTypes linkage = llvm::GlobalValue::ExternalLinkage);

/// Emits `void name(const float* x, float* y, int64_t n)` computing y[i] = f(x[i]) for i < n:
/// a loop of single vectors and one vector tail that touches no element past n (masked
/// load/store on AVX-512 and AVX2, a padded buffer on SSE). x and y may be the same buffer;
/// they may not otherwise overlap. n <= 0 does nothing. For `memoryBound` math (a few
/// instructions per vector) an unrolled main loop comes first, and from kStreamingFloats
/// elements on it writes with aligned non-temporal stores (after a masked head that aligns y),
/// so that a result larger than the cache costs no read-for-ownership.
llvm::Function* emitUnaryLoop(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                              const VectorMath& math, bool memoryBound);

/// The same loop over several input streams and scalar arguments (the inputs may alias y).
llvm::Function* emitElementwiseLoop(llvm::Module& module, llvm::StringRef name,
                                    const TargetIsa& isa, ElementwiseSignature signature,
                                    const ElementwiseMath& math, bool memoryBound,
                                    llvm::GlobalValue::LinkageTypes linkage);

/// Vectors per iteration of the main loop.
inline constexpr unsigned kUnroll = 4;

/// Outputs of at least this many floats (8 MiB, beyond a core's share of the last-level cache)
/// are streamed.
inline constexpr int64_t kStreamingFloats = int64_t(2) << 20;

} // namespace nnc::codegen
