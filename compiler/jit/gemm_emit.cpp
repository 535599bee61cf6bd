// The GEMM kernels' functions emitted into a module (the one part of the GEMM that needs LLVM).
#include "compiler/jit/gemm.h"

#include <string>

namespace nnc::jit {

std::vector<GemmEmitter> gemmKernelEmitters(const codegen::TargetIsa& isa, bool narrow) {
  codegen::GemmTile tile = codegen::gemmTile(isa);
  std::vector<GemmEmitter> emitters;
  emitters.push_back(
      [&isa](llvm::Module& module) { codegen::emitGemmKernel(module, "gemm", isa); });
  for (unsigned r = 1; r < tile.mr; ++r)
    emitters.push_back([&isa, r](llvm::Module& module) {
      codegen::emitGemmKernel(module, "gemm.r" + std::to_string(r), isa, nullptr, r);
    });
  emitters.push_back([&isa, tile](llvm::Module& module) {
    codegen::emitGemmKernel(module, "gemm.w", isa, nullptr, 1,
                            GemmKernel::kWideRowPanels * tile.nr / isa.vectorWidth);
  });
  for (unsigned v = 1; narrow && v < tile.nr / isa.vectorWidth; ++v)
    emitters.push_back([&isa, v](llvm::Module& module) {
      codegen::emitGemmKernel(module, "gemm.v" + std::to_string(v), isa, nullptr, 0, v);
    });
  return emitters;
}

void emitGemmKernels(llvm::Module& module, const codegen::TargetIsa& isa) {
  for (const GemmEmitter& emit : gemmKernelEmitters(isa))
    emit(module);
}

} // namespace nnc::jit
