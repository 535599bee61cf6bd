// The native code a model needs, planned without LLVM: every function by its symbol name, with
// what it computes (for the emitter) and which node or fused kernel it serves (for binding).
#pragma once

#include "compiler/codegen/depthwise_kernel.h"
#include "compiler/codegen/dot_kernel.h"
#include "compiler/codegen/fused_kernel.h"
#include "compiler/codegen/gemm_kernel.h"
#include "compiler/jit/compiled_activation.h"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace nnc::jit {

struct KernelPlan {
  static constexpr size_t kNone = static_cast<size_t>(-1);

  /// Activations outside fused kernels, one per distinct op and attributes; per node, its
  /// request (or kNone).
  std::vector<KernelRequest> activations;
  std::vector<size_t> activationOf;
  /// Fused kernels' expressions, one function per distinct expression; per fused kernel, its
  /// function.
  std::vector<codegen::FusedExpression> fused;
  std::vector<size_t> fusedOf;
  /// Epilogues applied in the GEMM's registers, one kernel per distinct epilogue; per fused
  /// kernel, its GEMM kernel (or kNone).
  std::vector<codegen::GemmEpilogue> gemmEpilogues;
  std::vector<size_t> gemmEpilogueOf;
  /// Per fused kernel, the epilogue kernel for its layer's last, shorter row of tiles (or kNone).
  std::vector<size_t> gemmEdgeEpilogueOf;
  bool gemm = false; ///< the GEMM kernels (gemmKernelNames) are needed
  /// With their narrow variants: some GEMM's N (units, or output positions) is not a multiple
  /// of NR, or not known when the model compiles.
  bool gemmNarrow = false;
  /// Depthwise convolutions, one kernel per distinct shape; per node, its kernel (or kNone).
  std::vector<codegen::DepthwiseShape> depthwise;
  std::vector<size_t> depthwiseOf;
  /// Dense layers of a few units as dot products, one kernel per distinct unit count; per node,
  /// its kernel (or kNone).
  std::vector<unsigned> dot;
  std::vector<size_t> dotOf;
  bool prelu = false;

  /// Every function's symbol, in the order of the members above (GEMM kernels after the
  /// epilogue kernels, prelu last); addresses given to bind follow it.
  std::vector<std::string> symbols;
  size_t firstFused = 0, firstGemmEpilogue = 0, firstGemm = 0, firstDepthwise = 0, firstDot = 0;
};

/// Bytes that determine the code emitKernels gives for `plan` on a given ISA and build of nnc:
/// plans with the same identity compile to the same module. The compile cache's key.
std::string codeIdentity(const KernelPlan& plan);

/// Emits some of a plan's functions into a module.
using KernelEmitter = std::function<void(llvm::Module&)>;
/// The plan's functions as units of emission, in a fixed order: each writes one function (with
/// internal helpers of its own) that calls no other, so any grouping of them into modules
/// compiles. They refer to `plan` and `isa`, which must outlive them.
std::vector<KernelEmitter> kernelEmitters(const KernelPlan& plan, const codegen::TargetIsa& isa);
/// Emits every function of `plan` into `module`, each under its symbol.
void emitKernels(llvm::Module& module, const KernelPlan& plan, const codegen::TargetIsa& isa);

} // namespace nnc::jit
