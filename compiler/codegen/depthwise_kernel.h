// The depthwise convolution kernel: one output plane from one zero-padded input plane, its
// shape fixed when the kernel is generated.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/IR/Module.h>

#include <cstdint>

namespace nnc::codegen {

/// The static shape of one depthwise layer, and the padded input plane the kernel reads.
struct DepthwiseShape {
  int64_t outH = 0, outW = 0, kernelH = 0, kernelW = 0, strideH = 1, strideW = 1, dilationH = 1,
          dilationW = 1;
  /// Row length of the padded input plane: at least what the widest vector load reaches.
  int64_t paddedW = 0;
  /// 1: the kernel reads the input plane itself (inH x inW, padding padTop / padLeft) with
  /// masked loads, so that nothing is copied (AVX-512 and AVX2); 0: it reads a padded copy.
  int64_t direct = 0;
  int64_t inH = 0, inW = 0, padTop = 0, padLeft = 0;

  /// Vectors of outputs per output row (the last may be partial).
  int64_t chunks(unsigned width) const { return (outW + width - 1) / width; }
  /// The least paddedW for this shape and vector width (and at least `needed`).
  int64_t minPaddedW(unsigned width, int64_t needed) const;
  /// Rows the padded plane needs.
  int64_t paddedH() const { return (outH - 1) * strideH + (kernelH - 1) * dilationH + 1; }
};

/// Emits `void name(const float* padded, const float* taps, float* y, float bias)`:
/// y[oh·outW + ow] = bias + Σ taps[kh·kernelW + kw]·padded[(oh·strideH + kh·dilationH)·paddedW
/// + ow·strideW + kw·dilationW], products accumulated in tap order with multiply-adds. The
/// vector loads along a row read up to `paddedW` elements; the stores write exactly the outW
/// outputs of each row (masked on AVX-512 and AVX2, lane by lane on SSE). With `direct`, the
/// first argument is the input plane itself and the padding is read as zeros: taps whose input
/// row is outside the plane are left out, and loads are masked to the columns inside it (a
/// masked-off lane reads nothing, so no load touches memory outside the plane). y overlaps
/// neither the input nor the taps.
llvm::Function* emitDepthwiseKernel(llvm::Module& module, llvm::StringRef name,
                                    const TargetIsa& isa, const DepthwiseShape& shape);

} // namespace nnc::codegen
