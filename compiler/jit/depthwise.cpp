#include "compiler/jit/depthwise.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace nnc::jit {

codegen::DepthwiseShape depthwiseShape(const runtime::Conv2dGeometry& g,
                                       const codegen::TargetIsa& isa) {
  codegen::DepthwiseShape shape{g.outH,    g.outW,      g.kernelH,   g.kernelW, g.strideH,
                                g.strideW, g.dilationH, g.dilationW, 0};
  shape.paddedW = shape.minPaddedW(isa.vectorWidth, g.padLeft + g.inW);
  // With masked loads the kernel reads the input plane itself: the padded copy cost as much
  // as the kernel (it reads the input from memory without overlapping the computation).
  shape.direct = isa.kind != codegen::IsaKind::Sse;
  shape.inH = g.inH;
  shape.inW = g.inW;
  shape.padTop = g.padTop;
  shape.padLeft = g.padLeft;
  return shape;
}

void depthwiseConv(DepthwiseFn kernel, const codegen::DepthwiseShape& shape, const float* x,
                   const float* weight, const float* bias, float* y,
                   const runtime::Conv2dGeometry& g, runtime::Epilogue epilogue,
                   runtime::ThreadPool& pool) {
  int64_t outPerGroup = g.outChannels / g.groups;
  int64_t planeSize = g.outH * g.outW;
  int64_t taps = g.kernelH * g.kernelW;
  int64_t paddedH = std::max(shape.paddedH(), g.padTop + g.inH);
  // Input rows the kernel reads, and where they go in the padded plane.
  int64_t rows = std::min(g.inH, shape.paddedH() - g.padTop);
  pool.parallelFor(
      g.batch * g.outChannels,
      [&](int64_t begin, int64_t end) {
        // Zero once: the borders stay zero, the interior is overwritten per plane.
        std::vector<float> padded(shape.direct ? 0 : static_cast<size_t>(paddedH * shape.paddedW),
                                  0.0f);
        int64_t copied = -1;
        for (int64_t plane = begin; plane < end; ++plane) {
          int64_t n = plane / g.outChannels, oc = plane % g.outChannels;
          int64_t input = n * g.inChannels + oc / outPerGroup;
          const float* xPlane = x + input * g.inH * g.inW;
          if (!shape.direct && input != copied) {
            for (int64_t ih = 0; ih < rows; ++ih)
              std::memcpy(padded.data() + (g.padTop + ih) * shape.paddedW + g.padLeft,
                          xPlane + ih * g.inW, static_cast<size_t>(g.inW) * sizeof(float));
            copied = input;
          }
          kernel(shape.direct ? xPlane : padded.data(), weight + oc * taps, y + plane * planeSize,
                 bias ? bias[oc] : 0.0f);
          if (epilogue)
            epilogue.apply(epilogue.context, y, plane * planeSize, planeSize);
        }
      },
      std::max<int64_t>(1, (int64_t{1} << 17) / std::max<int64_t>(planeSize * taps, 1)));
}

} // namespace nnc::jit
