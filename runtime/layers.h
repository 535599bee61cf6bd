// The layers other than activations, run on host f32 buffers with PyTorch's inference semantics.
#pragma once

#include "runtime/thread_pool.h"

#include <cstdint>
#include <functional>
#include <vector>

namespace nnc::runtime {

// Every buffer is f32 in row-major order, owned by the caller; inputs and outputs do not alias
// unless a function says they may. Sizes are element counts.

/// Work applied to a layer's output as soon as a block of it is final, while the block is still
/// in cache: apply(context, y, offset, count) rewrites y[offset, offset + count), a run inside one
/// row of a dense or maxout output, or inside one channel plane of a conv2d output. Offsets
/// index the whole output y. Called from the pool's threads, on disjoint runs, once per element.
struct Epilogue {
  void (*apply)(const void* context, float* y, int64_t offset, int64_t count) = nullptr;
  const void* context = nullptr;

  explicit operator bool() const { return apply != nullptr; }
};

/// y = x·Wᵀ + b. x is [rows, in], weight [units, in], bias [units] or nullptr, y [rows, units].
/// Each output is a float dot product accumulated in 4 interleaved partial sums over blocks of
/// 256 inputs, plus the bias. Parallel over blocks of rows and units.
void dense(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias,
           int64_t units, float* y, ThreadPool& pool, Epilogue epilogue = {});

/// The sizes of a 2-D convolution. padBottom and padRight are implied by outH and outW: input
/// positions outside [0, inH) x [0, inW) count as zero.
struct Conv2dGeometry {
  int64_t batch = 0, inChannels = 0, inH = 0, inW = 0, outChannels = 0, kernelH = 0, kernelW = 0,
          strideH = 0, strideW = 0, padTop = 0, padLeft = 0, dilationH = 0, dilationW = 0,
          groups = 0, outH = 0, outW = 0;
};

/// PyTorch's Conv2d. x is NCHW [batch, inChannels, inH, inW], weight
/// [outChannels, inChannels / groups, kernelH, kernelW], bias [outChannels] or nullptr, y NCHW
/// [batch, outChannels, outH, outW]. Output (oh, ow) reads input (oh * strideH - padTop +
/// kh * dilationH, ow * strideW - padLeft + kw * dilationW). With one input channel per group
/// (depthwise, or a single-channel input) a direct loop accumulates bias then taps in float;
/// otherwise every (image, group) is an im2col into a scratch buffer the function allocates,
/// then the GEMM of dense. Parallel over planes, or inside the im2col and GEMM.
void conv2d(const float* x, const float* weight, const float* bias, float* y,
            const Conv2dGeometry& g, ThreadPool& pool, Epilogue epilogue = {});

/// im2col of one group of one image (x is its first input channel): col[(oh * outW + ow) * depth
/// + (ci * kernelH + kh) * kernelW + kw] = x[ci, ih, iw], or 0 outside the input; depth =
/// channels * kernelH * kernelW, the layout of a weight row. Parallel over output rows.
void im2col(const float* x, int64_t channels, const Conv2dGeometry& g, float* col,
            ThreadPool& pool);

/// The sizes of a 2-D pooling (ceil_mode=false: every window starts inside the padded input).
struct Pool2dGeometry {
  int64_t batch = 0, channels = 0, inH = 0, inW = 0, kernelH = 0, kernelW = 0, strideH = 0,
          strideW = 0, padH = 0, padW = 0, outH = 0, outW = 0;
};

/// PyTorch's MaxPool2d: x NCHW [batch, channels, inH, inW], y [batch, channels, outH, outW];
/// the padding is -inf and a NaN in a window gives NaN. Parallel over planes.
void maxPool2d(const float* x, float* y, const Pool2dGeometry& g, ThreadPool& pool);

/// PyTorch's AvgPool2d with count_include_pad=true: the float sum of the window's inputs
/// (padding adds zero) divided by kernelH * kernelW. Layouts as maxPool2d. Parallel over planes.
void avgPool2d(const float* x, float* y, const Pool2dGeometry& g, ThreadPool& pool);

/// The mean of each [spatial] run: x [batch, channels, spatial], y [batch, channels]. Sums (as
/// sumInDouble: 16 interleaved partial sums, vectorized where the CPU allows) and divides in
/// double, then rounds to float. Parallel over planes.
void globalAvgPool(const float* x, int64_t batch, int64_t channels, int64_t spatial, float* y,
                   ThreadPool& pool);

/// Inference batch norm over axis 1 of x [batch, channels, inner], as PyTorch's CPU kernel: per
/// channel, in float, scale = weight / sqrt(var + eps) (as (1 / sqrt(var + eps)) * weight) and
/// shift = bias - mean * scale, then y = x * scale + shift. weight and bias may be nullptr (1 and
/// 0). y may be x.
void batchNorm(const float* x, int64_t batch, int64_t channels, int64_t inner, const float* weight,
               const float* bias, const float* mean, const float* var, double eps, float* y);

/// Maxout: z = x·Wᵀ + b with weight [units * pieces, in] and bias [units * pieces] (or nullptr)
/// as in dense, then y[r, j] = max over k < pieces of z[r, j * pieces + k]; a NaN among them gives
/// NaN. x is [rows, in], y [rows, units]. z is computed for 64 rows at a time into a scratch
/// buffer the function allocates, and reduced while it is in cache.
void maxout(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias,
            int64_t units, int64_t pieces, float* y, ThreadPool& pool, Epilogue epilogue = {});

/// maxout's reduction around any product: `product(r0, block, z)` fills z [block, units *
/// pieces] with rows [r0, r0 + block) of x·Wᵀ + b, at most 64 rows at a time so that z stays in
/// cache; the max over each group of pieces (a NaN gives NaN) goes to y [rows, units], then
/// `epilogue` runs on each finished row.
void maxoutBlocks(int64_t rows, int64_t units, int64_t pieces, float* y, Epilogue epilogue,
                  const std::function<void(int64_t r0, int64_t block, float* z)>& product);

enum class BinaryOp { Add, Mul };

/// y = a op b with NumPy broadcasting: shapes align on the right, a missing axis counts as 1, and
/// an axis of size 1 repeats to yShape's size. yShape is the broadcast of aShape and bShape
/// (the caller checked it). y may be a or b when that operand has yShape's element count.
void broadcastBinary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape,
                     const float* b, const std::vector<int64_t>& bShape, float* y,
                     const std::vector<int64_t>& yShape);

/// Joins `inputs` (of `shapes`, equal but along `axis`, which is non-negative) along `axis`
/// into y.
void concat(const std::vector<const float*>& inputs,
            const std::vector<std::vector<int64_t>>& shapes, int64_t axis, float* y);

/// Softmax (log = false) or log_softmax (log = true) along the middle axis of x
/// [outer, axisSize, inner] into y of the same shape. Stable: with m the max along the axis,
/// e = exp(x - m) in float and s = the double sum of the e, softmax is e / s and log_softmax is
/// (x - m) - log(s), both rounded to float. A NaN gives a row of NaN, as does a row of -inf or
/// one holding +inf.
void softmax(const float* x, int64_t outer, int64_t axisSize, int64_t inner, float* y, bool log);

} // namespace nnc::runtime
