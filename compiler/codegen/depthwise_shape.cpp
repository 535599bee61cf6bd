// DepthwiseShape's arithmetic, without LLVM: the engine that runs compiled code needs it.
#include "compiler/codegen/depthwise_kernel.h"

#include <algorithm>

namespace nnc::codegen {

int64_t DepthwiseShape::minPaddedW(unsigned width, int64_t needed) const {
  // The last chunk's load starts at (chunks - 1)·width·strideW + (kernelW - 1)·dilationW and
  // spans width·strideW elements.
  int64_t reach =
      (chunks(width) - 1) * width * strideW + (kernelW - 1) * dilationW + int64_t{width} * strideW;
  return std::max(reach, needed);
}

} // namespace nnc::codegen
