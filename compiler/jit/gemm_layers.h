// dense, maxout and conv2d on the JIT GEMM: weights packed once, inputs packed per run.
#pragma once

#include "compiler/jit/gemm.h"
#include "compiler/jit/node_attrs.h"

#include <vector>

namespace nnc::jit {

/// A layer's weights in the kernel's panels: one matrix for dense and maxout (as the B operand,
/// NR-row panels of [units, in]), one per group for conv2d (as the A operand, MR-row panels of
/// [out per group, in per group · kernelH · kernelW]), or one as for dense for a conv2d that
/// isDenseConv.
using PackedWeights = std::vector<PackedMatrix>;

PackedWeights packDenseWeights(const GemmKernel& kernel, const float* weight, int64_t units,
                               int64_t in);
/// `g` needs its channels, kernel and groups, and its image sizes for isDenseConv.
PackedWeights packConvWeights(const GemmKernel& kernel, const float* weight,
                              const runtime::Conv2dGeometry& g);

/// runtime::dense on the JIT GEMM (same layouts and epilogue contract). With `inRegisters` (its
/// RowScalar origins index rows, its ColumnVector origins units), whole tiles apply it before
/// their store and `epilogue` takes only the edges; without, `epilogue` runs a row at a time
/// once the product is done.
void denseGemm(const GemmKernel& kernel, const PackedWeights& weights, const float* x, int64_t rows,
               int64_t in, const float* bias, float* y, runtime::Epilogue epilogue,
               runtime::ThreadPool& pool, const TileEpilogue* inRegisters = nullptr);

/// runtime::maxout on the JIT GEMM: z for 64 rows at a time, reduced while in cache.
void maxoutGemm(const GemmKernel& kernel, const PackedWeights& weights, const float* x,
                int64_t rows, int64_t in, const float* bias, int64_t units, int64_t pieces,
                float* y, runtime::Epilogue epilogue, runtime::ThreadPool& pool);

/// runtime::conv2d on the JIT GEMM, for more than one input channel per group (depthwise
/// convolutions take their own kernel). Per image and group, the output planes are the weights
/// times the input's patches, which the kernel reads as ConvInput arranges them: in place for a
/// 1x1 convolution, from zero-bordered stride-phase planes (implicit GEMM) where the output width
/// is a whole number of vectors, else packed (im2col) into the kernel's panels. With
/// `inRegisters` (RowScalar origins index output channels), whole tiles apply it before their
/// store; without, `epilogue` runs a channel plane at a time right after each product. A conv
/// that isDenseConv runs as denseGemm (per-channel origins are then ColumnVector ones).
void convGemm(const GemmKernel& kernel, const PackedWeights& weights, const float* x,
              const float* bias, float* y, const runtime::Conv2dGeometry& g,
              runtime::Epilogue epilogue, runtime::ThreadPool& pool,
              const TileEpilogue* inRegisters = nullptr);

} // namespace nnc::jit
