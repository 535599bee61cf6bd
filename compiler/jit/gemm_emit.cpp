// The GEMM kernels' functions emitted into a module (the one part of the GEMM that needs LLVM).
#include "compiler/jit/gemm.h"

#include <string>

namespace nnc::jit {

void emitGemmKernels(llvm::Module& module, const codegen::TargetIsa& isa) {
  codegen::GemmTile tile = codegen::gemmTile(isa);
  codegen::emitGemmKernel(module, "gemm", isa);
  for (unsigned r = 1; r < tile.mr; ++r)
    codegen::emitGemmKernel(module, "gemm.r" + std::to_string(r), isa, nullptr, r);
  for (unsigned v = 1; v < tile.nr / isa.vectorWidth; ++v)
    codegen::emitGemmKernel(module, "gemm.v" + std::to_string(v), isa, nullptr, 0, v);
}

} // namespace nnc::jit
