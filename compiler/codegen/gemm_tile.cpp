// The GEMM's register tile per ISA, without LLVM: the engine that runs compiled code needs it.
#include "compiler/codegen/gemm_kernel.h"

namespace nnc::codegen {

GemmTile gemmTile(const TargetIsa& isa) {
  switch (isa.kind) {
  case IsaKind::Avx512:
    return {6, 64};
  case IsaKind::Avx2:
    return {6, 16};
  case IsaKind::Sse:
    return {6, 8};
  }
  return {};
}

} // namespace nnc::codegen
