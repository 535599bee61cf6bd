// How a convolution's GEMM reads its input: in place, from a zero-bordered copy, or as patches.
#pragma once

#include "compiler/jit/gemm.h"

#include <vector>

namespace nnc::jit {

/// The B operand of a convolution's GEMM for one (image, group) at a time: row p is input
/// channel and tap p (the order of a weight row), column j output position j. Chosen once per
/// geometry, from the cheapest that fits:
///  - in place: a 1x1 convolution with stride 1 and no padding reads the input planes as they
///    are (offsets[p] = p·positions);
///  - bordered: when the output width is a whole number of vectors, the input is copied once
///    into zero-bordered planes, split into stride-phase planes (for stride s, the s·s planes of
///    every s-th row and column), so that every tap of a vector of outputs is a contiguous load
///    at a fixed offset: implicit GEMM, with a copy the size of the input instead of patches
///    kernelH·kernelW times its size;
///  - patches: any other shape packs its patches (im2col) into the kernel's panels.
/// Not thread-safe: each thread uses its own.
class ConvInput {
public:
  ConvInput(const runtime::Conv2dGeometry& g, const codegen::GemmTile& tile, unsigned vectorWidth);

  /// The B operand for the group's input channels starting at `x`; valid until the next call.
  GemmB prepare(const float* x);

  enum class Mode { InPlace, Bordered, Patches };
  Mode mode() const { return mode_; }

private:
  void fillBordered(const float* x);

  runtime::Conv2dGeometry g_;
  int64_t channels_; ///< per group
  Mode mode_;
  std::vector<int64_t> offsets_;
  // Bordered: every phase plane has phaseH rows of phaseW floats; a channel's phases are
  // channelSize floats.
  int64_t phaseH_ = 0, phaseW_ = 0, channelSize_ = 0;
  /// The phases some tap reads; per column phase, its columns [lo, hi) inside the input.
  struct PhaseColumns {
    bool used = false;
    int64_t lo = 0, hi = 0;
  };
  std::vector<bool> phaseRows_;
  std::vector<PhaseColumns> phaseColumns_;
  std::vector<float> bordered_;
  PackedMatrix patches_;
};

} // namespace nnc::jit
