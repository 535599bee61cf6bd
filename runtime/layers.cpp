#include "runtime/layers.h"

#include "runtime/float_sum.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace nnc::runtime {

namespace {

// GEMM blocking: a task is a block of kBlockRows x kBlockUnits outputs over all of k, taken
// kBlockDepth at a time so that two rows of A and the block of B stay in L1 and L2.
constexpr int64_t kBlockRows = 64;
constexpr int64_t kBlockUnits = 64;
constexpr int64_t kBlockDepth = 256;
/// Multiply-adds (or element visits) below which a chunk is not worth a thread's wake-up.
constexpr int64_t kMinParallelWork = int64_t{1} << 17;

int64_t ceilDiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

/// Items per parallelFor chunk so that a chunk does at least kMinParallelWork.
int64_t grainFor(int64_t workPerItem) {
  return std::max<int64_t>(1, kMinParallelWork / std::max<int64_t>(workPerItem, 1));
}

/// A max that keeps the first NaN it meets, as PyTorch's max pooling and max reductions do.
inline float maxPropagatingNan(float m, float v) {
  return (v > m || std::isnan(v)) ? v : m;
}

/// C[i * rowStride + j * colStride] = bias[j] + sum_k A[i * lda + k] * B[j * ldb + k] for
/// i < m, j < n: both operands are contiguous along k, the output has any strides.
struct Gemm {
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  const float* bias; ///< [n] or nullptr
  float* c;
  int64_t rowStride;
  int64_t colStride;
  int64_t m, n, k;
  Epilogue epilogue = {};
  float* output = nullptr; ///< the whole output the epilogue's offsets index (c lies inside it)
};

/// Applies the epilogue to the finished outputs of rows [i0, i1) by units [j0, j1): runs along
/// the units when they are contiguous (dense), else along the rows (conv2d's positions).
void finishBlock(const Gemm& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  if (!g.epilogue)
    return;
  int64_t start = g.c - g.output;
  if (g.colStride == 1) {
    for (int64_t i = i0; i < i1; ++i)
      g.epilogue.apply(g.epilogue.context, g.output, start + i * g.rowStride + j0, j1 - j0);
  } else {
    for (int64_t j = j0; j < j1; ++j)
      g.epilogue.apply(g.epilogue.context, g.output, start + j * g.colStride + i0, i1 - i0);
  }
}

/// The MR x NR outputs at (i, j) over k in [k0, k0 + kc): the first depth block stores
/// bias + sum, later ones add to it. Each dot product keeps kLanes partial sums that the
/// compiler maps to one SIMD register, so the k loop vectorizes without reassociating.
template <int MR, int NR>
void gemmTile(const Gemm& g, int64_t i, int64_t j, int64_t k0, int64_t kc) {
  constexpr int kLanes = 4;
  const float* a[MR];
  const float* b[NR];
  for (int r = 0; r < MR; ++r)
    a[r] = g.a + (i + r) * g.lda + k0;
  for (int u = 0; u < NR; ++u)
    b[u] = g.b + (j + u) * g.ldb + k0;
  float acc[MR][NR][kLanes] = {};
  int64_t k = 0;
  for (; k + kLanes <= kc; k += kLanes)
    for (int r = 0; r < MR; ++r)
      for (int u = 0; u < NR; ++u)
        for (int l = 0; l < kLanes; ++l)
          acc[r][u][l] += a[r][k + l] * b[u][k + l];
  for (int r = 0; r < MR; ++r)
    for (int u = 0; u < NR; ++u) {
      float sum = (acc[r][u][0] + acc[r][u][1]) + (acc[r][u][2] + acc[r][u][3]);
      for (int64_t t = k; t < kc; ++t)
        sum += a[r][t] * b[u][t];
      float* out = g.c + (i + r) * g.rowStride + (j + u) * g.colStride;
      if (k0 != 0)
        *out += sum;
      else
        *out = g.bias ? g.bias[j + u] + sum : sum;
    }
}

/// Rows [i0, i1) by units [j0, j1), depth block by depth block, in tiles of 2 x 4.
void gemmBlock(const Gemm& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  for (int64_t k0 = 0; k0 < g.k; k0 += kBlockDepth) {
    int64_t kc = std::min(kBlockDepth, g.k - k0);
    int64_t i = i0;
    for (; i + 2 <= i1; i += 2) {
      int64_t j = j0;
      for (; j + 4 <= j1; j += 4)
        gemmTile<2, 4>(g, i, j, k0, kc);
      for (; j < j1; ++j)
        gemmTile<2, 1>(g, i, j, k0, kc);
    }
    if (i < i1) {
      int64_t j = j0;
      for (; j + 4 <= j1; j += 4)
        gemmTile<1, 4>(g, i, j, k0, kc);
      for (; j < j1; ++j)
        gemmTile<1, 1>(g, i, j, k0, kc);
    }
  }
}

/// The whole product, its blocks shared among the pool's threads. The blocks (and so the
/// result) do not depend on the number of threads.
void gemm(const Gemm& g, ThreadPool& pool) {
  if (g.m <= 0 || g.n <= 0)
    return;
  if (g.k <= 0) {
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j)
        g.c[i * g.rowStride + j * g.colStride] = g.bias ? g.bias[j] : 0.0f;
    finishBlock(g, 0, g.m, 0, g.n);
    return;
  }
  int64_t rowBlocks = ceilDiv(g.m, kBlockRows);
  int64_t unitBlocks = ceilDiv(g.n, kBlockUnits);
  int64_t blockWork = std::min(g.m, kBlockRows) * std::min(g.n, kBlockUnits) * g.k;
  pool.parallelFor(
      rowBlocks * unitBlocks,
      [&](int64_t begin, int64_t end) {
        for (int64_t block = begin; block < end; ++block) {
          int64_t i0 = block / unitBlocks * kBlockRows;
          int64_t j0 = block % unitBlocks * kBlockUnits;
          int64_t i1 = std::min(i0 + kBlockRows, g.m), j1 = std::min(j0 + kBlockUnits, g.n);
          gemmBlock(g, i0, i1, j0, j1);
          finishBlock(g, i0, i1, j0, j1);
        }
      },
      grainFor(blockWork));
}

/// The first index o in [0, size) with 0 <= o * stride + offset < limit, and one past the last.
std::pair<int64_t, int64_t> validRange(int64_t size, int64_t stride, int64_t offset,
                                       int64_t limit) {
  int64_t begin = offset >= 0 ? 0 : ceilDiv(-offset, stride);
  int64_t end = offset >= limit ? 0 : (limit - 1 - offset) / stride + 1;
  begin = std::min(begin, size);
  end = std::clamp(end, begin, size);
  return {begin, end};
}

/// One output plane of a convolution with one input channel per group: a sum of shifted,
/// strided input rows scaled by one tap each, accumulated row by row so that the inner loop runs
/// along the output row. (The graph runner uses a generated kernel instead wherever the image
/// size is known when the model compiles.)
void depthwisePlane(const float* __restrict xPlane, const float* __restrict w,
                    float* __restrict yPlane, float start, Conv2dGeometry g) {
  const int64_t outH = g.outH, outW = g.outW, inH = g.inH, inW = g.inW;
  const int64_t strideW = g.strideW;
  for (int64_t oh = 0; oh < outH; ++oh) {
    float* __restrict yRow = yPlane + oh * outW;
    for (int64_t ow = 0; ow < outW; ++ow)
      yRow[ow] = start;
    for (int64_t kh = 0; kh < g.kernelH; ++kh) {
      int64_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
      if (ih < 0 || ih >= inH)
        continue;
      const float* __restrict xRow = xPlane + ih * inW;
      for (int64_t kw = 0; kw < g.kernelW; ++kw) {
        const float tap = w[kh * g.kernelW + kw];
        const int64_t offset = kw * g.dilationW - g.padLeft;
        auto [owBegin, owEnd] = validRange(outW, strideW, offset, inW);
        if (strideW == 1) {
          for (int64_t ow = owBegin; ow < owEnd; ++ow)
            yRow[ow] += tap * xRow[ow + offset];
        } else {
          for (int64_t ow = owBegin; ow < owEnd; ++ow)
            yRow[ow] += tap * xRow[ow * strideW + offset];
        }
      }
    }
  }
}

/// Convolution with one input channel per group, plane by plane (depthwisePlane).
void convSingleInputChannel(const float* x, const float* weight, const float* bias, float* y,
                            const Conv2dGeometry& g, ThreadPool& pool, Epilogue epilogue) {
  int64_t outPerGroup = g.outChannels / g.groups;
  int64_t planeSize = g.outH * g.outW;
  int64_t taps = g.kernelH * g.kernelW;
  pool.parallelFor(
      g.batch * g.outChannels,
      [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          int64_t n = plane / g.outChannels, oc = plane % g.outChannels;
          int64_t ic = oc / outPerGroup; // the group, and its one input channel
          depthwisePlane(x + (n * g.inChannels + ic) * g.inH * g.inW, weight + oc * taps,
                         y + plane * planeSize, bias ? bias[oc] : 0.0f, g);
          if (epilogue)
            epilogue.apply(epilogue.context, y, plane * planeSize, planeSize);
        }
      },
      grainFor(planeSize * taps));
}

/// The window of one pooling output along one axis: [begin, end) of input positions inside the
/// input.
std::pair<int64_t, int64_t> window(int64_t o, int64_t stride, int64_t pad, int64_t kernel,
                                   int64_t size) {
  int64_t start = o * stride - pad;
  return {std::max<int64_t>(start, 0), std::min(start + kernel, size)};
}

template <class Op>
void binaryRun(Op op, const float* a, bool aMoves, const float* b, bool bMoves, float* y,
               int64_t n) {
  if (aMoves && bMoves) {
    for (int64_t i = 0; i < n; ++i)
      y[i] = op(a[i], b[i]);
  } else if (bMoves) {
    float av = *a;
    for (int64_t i = 0; i < n; ++i)
      y[i] = op(av, b[i]);
  } else if (aMoves) {
    float bv = *b;
    for (int64_t i = 0; i < n; ++i)
      y[i] = op(a[i], bv);
  } else {
    std::fill(y, y + n, op(*a, *b));
  }
}

/// One axis of the broadcast iteration after merging: its size and each operand's stride (0
/// where the operand repeats).
struct BroadcastAxis {
  int64_t size, aStride, bStride;
};

template <class Op>
void broadcastWith(Op op, const float* a, const std::vector<int64_t>& aShape, const float* b,
                   const std::vector<int64_t>& bShape, float* y,
                   const std::vector<int64_t>& yShape) {
  size_t rank = yShape.size();
  for (int64_t size : yShape)
    if (size == 0)
      return;
  // Each operand's stride along every axis of y (0 where it has size 1 or no axis).
  auto stridesOf = [&](const std::vector<int64_t>& shape) {
    std::vector<int64_t> strides(rank, 0);
    size_t missing = rank - shape.size();
    int64_t stride = 1;
    for (size_t axis = rank; axis-- > missing;) {
      int64_t size = shape[axis - missing];
      strides[axis] = size == 1 ? 0 : stride;
      stride *= size;
    }
    return strides;
  };
  std::vector<int64_t> aStrides = stridesOf(aShape), bStrides = stridesOf(bShape);
  // Merge axes from the innermost out: an axis joins the one inside it when both operands step
  // through the two as through one (strides 0 and 0, or contiguous). Axes of size 1 drop out.
  std::vector<BroadcastAxis> axes; // innermost first
  for (size_t axis = rank; axis-- > 0;) {
    if (yShape[axis] == 1)
      continue;
    if (!axes.empty()) {
      BroadcastAxis& inner = axes.back();
      if (aStrides[axis] == inner.aStride * inner.size &&
          bStrides[axis] == inner.bStride * inner.size) {
        inner.size *= yShape[axis];
        continue;
      }
    }
    axes.push_back({yShape[axis], aStrides[axis], bStrides[axis]});
  }
  if (axes.empty()) {
    y[0] = op(a[0], b[0]);
    return;
  }
  // The innermost axis runs contiguously (its strides are 0 or 1); the others are counted.
  const BroadcastAxis& run = axes.front();
  int64_t outer = 1;
  for (size_t i = 1; i < axes.size(); ++i)
    outer *= axes[i].size;
  std::vector<int64_t> index(axes.size(), 0);
  int64_t aOffset = 0, bOffset = 0;
  for (int64_t o = 0; o < outer; ++o) {
    binaryRun(op, a + aOffset, run.aStride != 0, b + bOffset, run.bStride != 0, y + o * run.size,
              run.size);
    for (size_t i = 1; i < axes.size(); ++i) {
      aOffset += axes[i].aStride;
      bOffset += axes[i].bStride;
      if (++index[i] < axes[i].size)
        break;
      aOffset -= axes[i].aStride * axes[i].size;
      bOffset -= axes[i].bStride * axes[i].size;
      index[i] = 0;
    }
  }
}

} // namespace

void dense(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias,
           int64_t units, float* y, ThreadPool& pool, Epilogue epilogue) {
  gemm(Gemm{x, in, weight, in, bias, y, units, 1, rows, units, in, epilogue, y}, pool);
}

void im2col(const float* x, int64_t channels, const Conv2dGeometry& g, float* col,
            ThreadPool& pool) {
  int64_t depth = channels * g.kernelH * g.kernelW;
  pool.parallelFor(
      g.outH,
      [&](int64_t begin, int64_t end) {
        for (int64_t oh = begin; oh < end; ++oh)
          for (int64_t ow = 0; ow < g.outW; ++ow) {
            float* out = col + (oh * g.outW + ow) * depth;
            for (int64_t ci = 0; ci < channels; ++ci)
              for (int64_t kh = 0; kh < g.kernelH; ++kh) {
                int64_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
                if (ih < 0 || ih >= g.inH) {
                  std::fill(out, out + g.kernelW, 0.0f);
                  out += g.kernelW;
                  continue;
                }
                const float* xRow = x + (ci * g.inH + ih) * g.inW;
                for (int64_t kw = 0; kw < g.kernelW; ++kw) {
                  int64_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
                  *out++ = iw >= 0 && iw < g.inW ? xRow[iw] : 0.0f;
                }
              }
          }
      },
      grainFor(g.outW * depth));
}

void conv2d(const float* x, const float* weight, const float* bias, float* y,
            const Conv2dGeometry& g, ThreadPool& pool, Epilogue epilogue) {
  if (g.batch <= 0 || g.outChannels <= 0 || g.outH <= 0 || g.outW <= 0)
    return;
  int64_t inPerGroup = g.inChannels / g.groups;
  int64_t outPerGroup = g.outChannels / g.groups;
  if (inPerGroup == 1) {
    convSingleInputChannel(x, weight, bias, y, g, pool, epilogue);
    return;
  }
  // Per image and group: col [outH * outW, depth] times the group's weights [outPerGroup,
  // depth] transposed, written as the group's output planes (positions along rows of col).
  int64_t depth = inPerGroup * g.kernelH * g.kernelW;
  int64_t positions = g.outH * g.outW;
  std::vector<float> col(static_cast<size_t>(positions * depth));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t group = 0; group < g.groups; ++group) {
      im2col(x + (n * g.inChannels + group * inPerGroup) * g.inH * g.inW, inPerGroup, g, col.data(),
             pool);
      Gemm product{col.data(),
                   depth,
                   weight + group * outPerGroup * depth,
                   depth,
                   bias ? bias + group * outPerGroup : nullptr,
                   y + (n * g.outChannels + group * outPerGroup) * positions,
                   1,
                   positions,
                   positions,
                   outPerGroup,
                   depth,
                   epilogue,
                   y};
      gemm(product, pool);
    }
}

namespace {

/// y at every output position of every plane = the fold of `accumulate` from `init` over the
/// window's inputs clipped to the input, row by row and left to right, then `finish`. An output
/// row is built a whole input row at a time (each window column is one strided pass along the
/// row), so the inner loop runs along the output row and vectorizes.
template <class Accumulate, class Finish>
void poolPlanes(const float* x, float* y, const Pool2dGeometry& g, ThreadPool& pool, float init,
                Accumulate accumulate, Finish finish) {
  int64_t inPlane = g.inH * g.inW, outPlane = g.outH * g.outW;
  pool.parallelFor(
      g.batch * g.channels,
      [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane) {
          const float* xPlane = x + plane * inPlane;
          float* yPlane = y + plane * outPlane;
          for (int64_t oh = 0; oh < g.outH; ++oh) {
            auto [h0, h1] = window(oh, g.strideH, g.padH, g.kernelH, g.inH);
            float* yRow = yPlane + oh * g.outW;
            std::fill(yRow, yRow + g.outW, init);
            for (int64_t ih = h0; ih < h1; ++ih) {
              const float* xRow = xPlane + ih * g.inW;
              for (int64_t kw = 0; kw < g.kernelW; ++kw) {
                int64_t offset = kw - g.padW;
                auto [owBegin, owEnd] = validRange(g.outW, g.strideW, offset, g.inW);
                if (g.strideW == 1) {
                  for (int64_t ow = owBegin; ow < owEnd; ++ow)
                    yRow[ow] = accumulate(yRow[ow], xRow[ow + offset]);
                } else {
                  for (int64_t ow = owBegin; ow < owEnd; ++ow)
                    yRow[ow] = accumulate(yRow[ow], xRow[ow * g.strideW + offset]);
                }
              }
            }
            for (int64_t ow = 0; ow < g.outW; ++ow)
              yRow[ow] = finish(yRow[ow]);
          }
        }
      },
      grainFor(outPlane * g.kernelH * g.kernelW));
}

} // namespace

void maxPool2d(const float* x, float* y, const Pool2dGeometry& g, ThreadPool& pool) {
  poolPlanes(
      x, y, g, pool, -std::numeric_limits<float>::infinity(),
      [](float m, float v) { return maxPropagatingNan(m, v); }, [](float m) { return m; });
}

void avgPool2d(const float* x, float* y, const Pool2dGeometry& g, ThreadPool& pool) {
  auto divisor = static_cast<float>(g.kernelH * g.kernelW);
  poolPlanes(
      x, y, g, pool, 0.0f, [](float sum, float v) { return sum + v; },
      [divisor](float sum) { return sum / divisor; });
}

void globalAvgPool(const float* x, int64_t batch, int64_t channels, int64_t spatial, float* y,
                   ThreadPool& pool) {
  pool.parallelFor(
      batch * channels,
      [&](int64_t begin, int64_t end) {
        for (int64_t plane = begin; plane < end; ++plane)
          y[plane] = static_cast<float>(sumInDouble(x + plane * spatial, spatial) /
                                        static_cast<double>(spatial));
      },
      std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(spatial, 1)));
}

void batchNorm(const float* x, int64_t batch, int64_t channels, int64_t inner, const float* weight,
               const float* bias, const float* mean, const float* var, double eps, float* y) {
  auto epsilon = static_cast<float>(eps);
  for (int64_t c = 0; c < channels; ++c) {
    float invStd = 1.0f / std::sqrt(var[c] + epsilon);
    float scale = invStd * (weight ? weight[c] : 1.0f);
    float shift = (bias ? bias[c] : 0.0f) - mean[c] * scale;
    for (int64_t n = 0; n < batch; ++n) {
      const float* xRun = x + (n * channels + c) * inner;
      float* yRun = y + (n * channels + c) * inner;
      for (int64_t i = 0; i < inner; ++i)
        yRun[i] = xRun[i] * scale + shift;
    }
  }
}

void maxoutBlocks(int64_t rows, int64_t units, int64_t pieces, float* y, Epilogue epilogue,
                  const std::function<void(int64_t r0, int64_t block, float* z)>& product) {
  int64_t outputs = units * pieces;
  std::vector<float> z(static_cast<size_t>(std::min(rows, kBlockRows) * outputs));
  for (int64_t r0 = 0; r0 < rows; r0 += kBlockRows) {
    int64_t block = std::min(kBlockRows, rows - r0);
    product(r0, block, z.data());
    for (int64_t r = 0; r < block; ++r) {
      for (int64_t j = 0; j < units; ++j) {
        const float* candidates = z.data() + r * outputs + j * pieces;
        float m = candidates[0];
        for (int64_t k = 1; k < pieces; ++k)
          m = maxPropagatingNan(m, candidates[k]);
        y[(r0 + r) * units + j] = m;
      }
      if (epilogue)
        epilogue.apply(epilogue.context, y, (r0 + r) * units, units);
    }
  }
}

void maxout(const float* x, int64_t rows, int64_t in, const float* weight, const float* bias,
            int64_t units, int64_t pieces, float* y, ThreadPool& pool, Epilogue epilogue) {
  maxoutBlocks(rows, units, pieces, y, epilogue, [&](int64_t r0, int64_t block, float* z) {
    dense(x + r0 * in, block, in, weight, bias, units * pieces, z, pool);
  });
}

void broadcastBinary(BinaryOp op, const float* a, const std::vector<int64_t>& aShape,
                     const float* b, const std::vector<int64_t>& bShape, float* y,
                     const std::vector<int64_t>& yShape) {
  if (op == BinaryOp::Add)
    broadcastWith([](float p, float q) { return p + q; }, a, aShape, b, bShape, y, yShape);
  else
    broadcastWith([](float p, float q) { return p * q; }, a, aShape, b, bShape, y, yShape);
}

void concat(const std::vector<const float*>& inputs,
            const std::vector<std::vector<int64_t>>& shapes, int64_t axis, float* y) {
  if (inputs.empty())
    return;
  auto from = static_cast<size_t>(axis);
  int64_t outer = 1;
  for (size_t d = 0; d < from; ++d)
    outer *= shapes[0][d];
  // Each input contributes one contiguous run of its axis and inner axes per outer index.
  std::vector<int64_t> runs(inputs.size(), 1);
  for (size_t i = 0; i < inputs.size(); ++i)
    for (size_t d = from; d < shapes[i].size(); ++d)
      runs[i] *= shapes[i][d];
  float* out = y;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < inputs.size(); ++i)
      out = std::copy_n(inputs[i] + o * runs[i], runs[i], out);
}

void softmax(const float* x, int64_t outer, int64_t axisSize, int64_t inner, float* y, bool log) {
  if (outer <= 0 || axisSize <= 0 || inner <= 0)
    return;
  if (inner == 1) {
    for (int64_t o = 0; o < outer; ++o) {
      const float* xRow = x + o * axisSize;
      float* yRow = y + o * axisSize;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < axisSize; ++j)
        m = maxPropagatingNan(m, xRow[j]);
      double sum = 0;
      for (int64_t j = 0; j < axisSize; ++j) {
        float e = std::exp(xRow[j] - m);
        sum += e;
        if (!log)
          yRow[j] = e;
      }
      if (log) {
        auto logSum = static_cast<float>(std::log(sum));
        for (int64_t j = 0; j < axisSize; ++j)
          yRow[j] = (xRow[j] - m) - logSum;
      } else {
        for (int64_t j = 0; j < axisSize; ++j)
          yRow[j] = static_cast<float>(yRow[j] / sum);
      }
    }
    return;
  }
  // A strided axis: keep `inner` maxima and sums and sweep the [axisSize, inner] block row by
  // row, so that every inner loop is contiguous.
  std::vector<float> maxima(static_cast<size_t>(inner));
  std::vector<double> sums(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const float* xBlock = x + o * axisSize * inner;
    float* yBlock = y + o * axisSize * inner;
    std::fill(maxima.begin(), maxima.end(), -std::numeric_limits<float>::infinity());
    std::fill(sums.begin(), sums.end(), 0.0);
    for (int64_t j = 0; j < axisSize; ++j)
      for (int64_t i = 0; i < inner; ++i)
        maxima[static_cast<size_t>(i)] =
            maxPropagatingNan(maxima[static_cast<size_t>(i)], xBlock[j * inner + i]);
    for (int64_t j = 0; j < axisSize; ++j)
      for (int64_t i = 0; i < inner; ++i) {
        float e = std::exp(xBlock[j * inner + i] - maxima[static_cast<size_t>(i)]);
        sums[static_cast<size_t>(i)] += e;
        if (!log)
          yBlock[j * inner + i] = e;
      }
    if (log) {
      for (double& sum : sums)
        sum = static_cast<float>(std::log(sum));
      for (int64_t j = 0; j < axisSize; ++j)
        for (int64_t i = 0; i < inner; ++i)
          yBlock[j * inner + i] = (xBlock[j * inner + i] - maxima[static_cast<size_t>(i)]) -
                                  static_cast<float>(sums[static_cast<size_t>(i)]);
    } else {
      for (int64_t j = 0; j < axisSize; ++j)
        for (int64_t i = 0; i < inner; ++i)
          yBlock[j * inner + i] =
              static_cast<float>(yBlock[j * inner + i] / sums[static_cast<size_t>(i)]);
    }
  }
}

} // namespace nnc::runtime
