// The layer routines against direct formulas in double, and the thread pool that runs them.
#include "runtime/layers.h"
#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace nnc::runtime {
namespace {

constexpr double kRelative = 1e-5;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

int64_t elements(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

std::vector<float> randomValues(int64_t count, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> values(static_cast<size_t>(count));
  for (float& value : values)
    value = dist(rng);
  return values;
}

/// Every got[i] within kRelative of want[i], relative to max(|want[i]|, minScale): an absolute
/// kRelative * minScale near zero. A NaN or an infinity in want must be the same in got. Reports
/// the first few mismatches.
void expectClose(const std::vector<float>& got, const std::vector<double>& want,
                 double minScale = 1.0) {
  ASSERT_EQ(got.size(), want.size());
  int failures = 0;
  for (size_t i = 0; i < got.size() && failures < 8; ++i) {
    double g = got[i], w = want[i];
    bool ok = std::isnan(w)   ? std::isnan(g)
              : std::isinf(w) ? g == w
                              : std::abs(g - w) <= kRelative * std::max(std::abs(w), minScale);
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "element " << i << ": got " << g << ", expected " << w;
    }
  }
}

// ---- dense and maxout ----

std::vector<double> denseReference(const std::vector<float>& x, int64_t rows, int64_t in,
                                   const std::vector<float>& weight, const float* bias,
                                   int64_t units) {
  std::vector<double> y(static_cast<size_t>(rows * units));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t u = 0; u < units; ++u) {
      double sum = bias ? bias[u] : 0.0;
      for (int64_t k = 0; k < in; ++k)
        sum += static_cast<double>(x[r * in + k]) * weight[u * in + k];
      y[r * units + u] = sum;
    }
  return y;
}

TEST(Dense, MatchesTheFormula) {
  ThreadPool pool(3);
  struct Case {
    int64_t rows, in, units;
    bool bias;
  };
  // Sizes around the 2 x 4 tiles, the 4 partial sums, and the 64 x 64 x 256 blocks.
  const Case cases[] = {{1, 1, 1, true},     {3, 7, 5, false},     {5, 37, 70, true},
                        {67, 300, 9, true},  {2, 259, 131, false}, {1, 520, 3, true},
                        {130, 4, 66, false}, {4, 0, 3, true}};
  uint32_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE("rows " + std::to_string(c.rows) + ", in " + std::to_string(c.in) + ", units " +
                 std::to_string(c.units) + (c.bias ? ", bias" : ""));
    std::vector<float> x = randomValues(c.rows * c.in, seed++);
    std::vector<float> weight = randomValues(c.units * c.in, seed++);
    std::vector<float> bias = randomValues(c.units, seed++);
    const float* b = c.bias ? bias.data() : nullptr;
    std::vector<float> y(static_cast<size_t>(c.rows * c.units), kNan);
    dense(x.data(), c.rows, c.in, weight.data(), b, c.units, y.data(), pool);
    expectClose(y, denseReference(x, c.rows, c.in, weight, b, c.units));
  }
}

std::vector<double> maxoutReference(const std::vector<float>& x, int64_t rows, int64_t in,
                                    const std::vector<float>& weight,
                                    const std::vector<float>& bias, int64_t units, int64_t pieces) {
  std::vector<double> z = denseReference(x, rows, in, weight, bias.data(), units * pieces);
  std::vector<double> y(static_cast<size_t>(rows * units));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < units; ++j) {
      double m = -kInf;
      for (int64_t k = 0; k < pieces; ++k) {
        double v = z[(r * units + j) * pieces + k];
        m = std::isnan(v) || std::isnan(m) ? kNan : std::max(m, v);
      }
      y[r * units + j] = m;
    }
  return y;
}

TEST(Maxout, TakesTheLargestPieceAndPropagatesNan) {
  ThreadPool pool(2);
  const int64_t rows = 3, in = 5, units = 4, pieces = 3;
  std::vector<float> x = randomValues(rows * in, 11);
  std::vector<float> weight = randomValues(units * pieces * in, 12);
  std::vector<float> bias = randomValues(units * pieces, 13);
  std::vector<float> y(rows * units);
  maxout(x.data(), rows, in, weight.data(), bias.data(), units, pieces, y.data(), pool);
  expectClose(y, maxoutReference(x, rows, in, weight, bias, units, pieces));

  // A NaN in the second piece of unit 2 makes unit 2 NaN in every row, and nothing else.
  bias[2 * pieces + 1] = std::numeric_limits<float>::quiet_NaN();
  maxout(x.data(), rows, in, weight.data(), bias.data(), units, pieces, y.data(), pool);
  std::vector<double> want = maxoutReference(x, rows, in, weight, bias, units, pieces);
  expectClose(y, want);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < units; ++j)
      EXPECT_EQ(std::isnan(y[r * units + j]), j == 2) << "row " << r << ", unit " << j;

  // One piece: plain dense.
  std::vector<float> single(rows * units);
  maxout(x.data(), rows, in, weight.data(), bias.data(), units, 1, single.data(), pool);
  std::vector<float> plain(rows * units);
  dense(x.data(), rows, in, weight.data(), bias.data(), units, plain.data(), pool);
  EXPECT_EQ(single, plain);
}

// ---- conv2d ----

struct ConvCase {
  int64_t batch, inC, inH, inW, outC, kH, kW, sH, sW, padTop, padBottom, padLeft, padRight, dH, dW,
      groups;
  bool bias;
};

Conv2dGeometry geometryOf(const ConvCase& c) {
  Conv2dGeometry g;
  g.batch = c.batch;
  g.inChannels = c.inC;
  g.inH = c.inH;
  g.inW = c.inW;
  g.outChannels = c.outC;
  g.kernelH = c.kH;
  g.kernelW = c.kW;
  g.strideH = c.sH;
  g.strideW = c.sW;
  g.padTop = c.padTop;
  g.padLeft = c.padLeft;
  g.dilationH = c.dH;
  g.dilationW = c.dW;
  g.groups = c.groups;
  g.outH = (c.inH + c.padTop + c.padBottom - c.dH * (c.kH - 1) - 1) / c.sH + 1;
  g.outW = (c.inW + c.padLeft + c.padRight - c.dW * (c.kW - 1) - 1) / c.sW + 1;
  return g;
}

std::vector<double> convReference(const std::vector<float>& x, const std::vector<float>& weight,
                                  const float* bias, const Conv2dGeometry& g) {
  int64_t inPerGroup = g.inChannels / g.groups, outPerGroup = g.outChannels / g.groups;
  std::vector<double> y(static_cast<size_t>(g.batch * g.outChannels * g.outH * g.outW));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t oc = 0; oc < g.outChannels; ++oc)
      for (int64_t oh = 0; oh < g.outH; ++oh)
        for (int64_t ow = 0; ow < g.outW; ++ow) {
          int64_t group = oc / outPerGroup;
          double sum = bias ? bias[oc] : 0.0;
          for (int64_t ci = 0; ci < inPerGroup; ++ci)
            for (int64_t kh = 0; kh < g.kernelH; ++kh)
              for (int64_t kw = 0; kw < g.kernelW; ++kw) {
                int64_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
                int64_t iw = ow * g.strideW - g.padLeft + kw * g.dilationW;
                if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW)
                  continue;
                int64_t ic = group * inPerGroup + ci;
                sum += static_cast<double>(x[((n * g.inChannels + ic) * g.inH + ih) * g.inW + iw]) *
                       weight[((oc * inPerGroup + ci) * g.kernelH + kh) * g.kernelW + kw];
              }
          y[((n * g.outChannels + oc) * g.outH + oh) * g.outW + ow] = sum;
        }
  return y;
}

/// Runs conv2d on random data and returns its output, checked against the reference.
std::vector<float> runConv(const ConvCase& c, ThreadPool& pool, uint32_t seed) {
  Conv2dGeometry g = geometryOf(c);
  std::vector<float> x = randomValues(c.batch * c.inC * c.inH * c.inW, seed);
  std::vector<float> weight = randomValues(c.outC * (c.inC / c.groups) * c.kH * c.kW, seed + 1);
  std::vector<float> bias = randomValues(c.outC, seed + 2);
  const float* b = c.bias ? bias.data() : nullptr;
  std::vector<float> y(static_cast<size_t>(c.batch * c.outC * g.outH * g.outW), kNan);
  conv2d(x.data(), weight.data(), b, y.data(), g, pool);
  expectClose(y, convReference(x, weight, b, g));
  return y;
}

TEST(Conv2d, MatchesTheFormula) {
  ThreadPool pool(3);
  // batch, inC, inH, inW, outC, kH, kW, sH, sW, padTop, padBottom, padLeft, padRight, dH, dW,
  // groups, bias
  const ConvCase cases[] = {
      // Stride 2 with padTop 1, padLeft 0; the sizes imply 2 rows of padding below, 1 column right.
      {2, 3, 7, 8, 4, 3, 3, 2, 2, 1, 2, 0, 1, 1, 1, 1, true},
      // Dilation 2 with "same" padding.
      {1, 2, 6, 6, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, true},
      // "same" for an even kernel: 0 / 1 rows and 1 / 2 columns.
      {1, 3, 5, 6, 2, 2, 4, 1, 1, 0, 1, 1, 2, 1, 1, 1, false},
      // Two groups.
      {2, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true},
      // Depthwise, stride 2.
      {2, 3, 7, 7, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, true},
      // Depthwise with 2 outputs per channel, dilation 2, uneven padding and strides.
      {1, 3, 8, 9, 6, 3, 3, 1, 2, 2, 1, 0, 3, 2, 2, 3, false},
      // 1x1.
      {2, 5, 4, 5, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, false},
      // One input channel, a 5x5 kernel.
      {2, 1, 9, 9, 4, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, true},
      // Stride larger than the kernel.
      {1, 2, 8, 8, 3, 2, 2, 3, 3, 0, 0, 0, 0, 1, 1, 1, true},
      // GEMM blocks: 144 positions by 70 filters, and a depth of 288 (> 256).
      {1, 16, 12, 12, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},
      {1, 32, 6, 6, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},
      // Groups of 3 channels with dilation and stride together.
      {2, 6, 9, 9, 4, 3, 2, 2, 1, 1, 1, 0, 1, 2, 3, 2, true},
  };
  uint32_t seed = 100;
  int index = 0;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE("case " + std::to_string(index++));
    runConv(c, pool, seed);
    seed += 3;
  }
}

// ---- pooling ----

Pool2dGeometry poolGeometry(int64_t batch, int64_t channels, int64_t inH, int64_t inW, int64_t kH,
                            int64_t kW, int64_t sH, int64_t sW, int64_t padH, int64_t padW) {
  return Pool2dGeometry{batch,
                        channels,
                        inH,
                        inW,
                        kH,
                        kW,
                        sH,
                        sW,
                        padH,
                        padW,
                        (inH + 2 * padH - kH) / sH + 1,
                        (inW + 2 * padW - kW) / sW + 1};
}

std::vector<double> poolReference(const std::vector<float>& x, const Pool2dGeometry& g, bool max) {
  std::vector<double> y(static_cast<size_t>(g.batch * g.channels * g.outH * g.outW));
  for (int64_t plane = 0; plane < g.batch * g.channels; ++plane)
    for (int64_t oh = 0; oh < g.outH; ++oh)
      for (int64_t ow = 0; ow < g.outW; ++ow) {
        double m = -kInf, sum = 0;
        bool nan = false;
        for (int64_t kh = 0; kh < g.kernelH; ++kh)
          for (int64_t kw = 0; kw < g.kernelW; ++kw) {
            int64_t ih = oh * g.strideH - g.padH + kh, iw = ow * g.strideW - g.padW + kw;
            if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW)
              continue; // -inf for max, 0 for the sum
            double v = x[(plane * g.inH + ih) * g.inW + iw];
            nan |= std::isnan(v);
            m = std::max(m, v);
            sum += v;
          }
        y[(plane * g.outH + oh) * g.outW + ow] =
            max ? (nan ? kNan : m) : sum / static_cast<double>(g.kernelH * g.kernelW);
      }
  return y;
}

const Pool2dGeometry kPoolCases[] = {
    poolGeometry(2, 3, 7, 6, 3, 3, 2, 2, 1, 1),  // 4 x 3
    poolGeometry(1, 2, 5, 8, 2, 3, 1, 2, 1, 1),  // 6 x 4
    poolGeometry(1, 1, 6, 6, 2, 2, 2, 2, 0, 0),  // 3 x 3
    poolGeometry(1, 2, 9, 10, 4, 4, 3, 3, 2, 2), // 4 x 4
};

TEST(Pool2d, MaxMatchesTheFormula) {
  ThreadPool pool(3);
  uint32_t seed = 200;
  for (const Pool2dGeometry& g : kPoolCases) {
    // All negative as well: the padding must act as -inf, not 0.
    for (float lo : {-1.0f, -3.0f}) {
      std::vector<float> x =
          randomValues(g.batch * g.channels * g.inH * g.inW, seed++, lo, lo < -1.0f ? -1.0f : 1.0f);
      std::vector<float> y(static_cast<size_t>(g.batch * g.channels * g.outH * g.outW), kNan);
      maxPool2d(x.data(), y.data(), g, pool);
      expectClose(y, poolReference(x, g, true));
    }
  }
}

TEST(Pool2d, MaxPropagatesNan) {
  ThreadPool pool(2);
  Pool2dGeometry g = kPoolCases[0];
  std::vector<float> x = randomValues(g.batch * g.channels * g.inH * g.inW, 210);
  x[(1 * g.inH + 3) * g.inW + 2] = std::numeric_limits<float>::quiet_NaN(); // plane 1, (3, 2)
  std::vector<float> y(static_cast<size_t>(g.batch * g.channels * g.outH * g.outW));
  maxPool2d(x.data(), y.data(), g, pool);
  std::vector<double> want = poolReference(x, g, true);
  expectClose(y, want);
  auto nans = std::count_if(y.begin(), y.end(), [](float v) { return std::isnan(v); });
  EXPECT_GT(nans, 0);
  EXPECT_LT(nans, static_cast<std::ptrdiff_t>(g.outH * g.outW));
}

TEST(Pool2d, AverageCountsThePadding) {
  ThreadPool pool(3);
  uint32_t seed = 220;
  for (const Pool2dGeometry& g : kPoolCases) {
    std::vector<float> x = randomValues(g.batch * g.channels * g.inH * g.inW, seed++);
    std::vector<float> y(static_cast<size_t>(g.batch * g.channels * g.outH * g.outW), kNan);
    avgPool2d(x.data(), y.data(), g, pool);
    expectClose(y, poolReference(x, g, false));
  }
  // A corner window of a constant input with padding 1: 1 of 4 inputs is real.
  Pool2dGeometry g = poolGeometry(1, 1, 2, 2, 2, 2, 2, 2, 1, 1);
  std::vector<float> ones(4, 1.0f), y(4);
  avgPool2d(ones.data(), y.data(), g, pool);
  EXPECT_EQ(y, (std::vector<float>{0.25f, 0.25f, 0.25f, 0.25f}));
}

TEST(GlobalAvgPool, IsTheMeanOfEachPlane) {
  // Planes shorter and longer than the 16 partial sums, with and without a remainder, on one
  // and on two threads.
  for (int64_t spatial : {1, 15, 49, 256, 1031}) {
    const int64_t batch = 2, channels = 3;
    std::vector<float> x = randomValues(batch * channels * spatial, 230);
    std::vector<double> want(batch * channels);
    for (int64_t plane = 0; plane < batch * channels; ++plane) {
      double sum = 0;
      for (int64_t i = 0; i < spatial; ++i)
        sum += x[plane * spatial + i];
      want[plane] = sum / spatial;
    }
    for (int threads : {1, 2}) {
      ThreadPool used(threads);
      std::vector<float> y(batch * channels, kNan);
      globalAvgPool(x.data(), batch, channels, spatial, y.data(), used);
      SCOPED_TRACE(std::to_string(spatial) + " positions, " + std::to_string(threads) +
                   " thread(s)");
      expectClose(y, want);
    }
  }
}

// ---- batch norm ----

TEST(BatchNorm, MatchesTheFormula) {
  const int64_t channels = 3;
  std::vector<float> weight = randomValues(channels, 240), bias = randomValues(channels, 241),
                     mean = randomValues(channels, 242),
                     var = randomValues(channels, 243, 0.1f, 2.0f);
  const double eps = 1e-5;
  using Sizes = std::pair<int64_t, int64_t>; // batch, inner
  for (auto [batch, inner] : {Sizes{2, 20}, Sizes{3, 1}}) {
    std::vector<float> x = randomValues(batch * channels * inner, 244, -3.0f, 3.0f);
    std::vector<double> want(x.size());
    for (int64_t n = 0; n < batch; ++n)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t at = (n * channels + c) * inner + i;
          want[at] = (x[at] - static_cast<double>(mean[c])) / std::sqrt(var[c] + eps) * weight[c] +
                     bias[c];
        }
    std::vector<float> y(x.size(), kNan);
    batchNorm(x.data(), batch, channels, inner, weight.data(), bias.data(), mean.data(), var.data(),
              eps, y.data());
    expectClose(y, want);
    // In place.
    batchNorm(x.data(), batch, channels, inner, weight.data(), bias.data(), mean.data(), var.data(),
              eps, x.data());
    EXPECT_EQ(x, y);
  }
}

// ---- broadcasting ----

std::vector<int64_t> broadcastShape(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// The flat index into an operand of `shape` for the output element at `index` (of y's rank).
int64_t operandIndex(const std::vector<int64_t>& shape, const std::vector<int64_t>& index) {
  size_t missing = index.size() - shape.size();
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + (shape[d] == 1 ? 0 : index[d + missing]);
  return flat;
}

std::vector<double> broadcastReference(BinaryOp op, const std::vector<float>& a,
                                       const std::vector<int64_t>& aShape,
                                       const std::vector<float>& b,
                                       const std::vector<int64_t>& bShape,
                                       const std::vector<int64_t>& yShape) {
  std::vector<double> y(static_cast<size_t>(elements(yShape)));
  std::vector<int64_t> index(yShape.size());
  for (int64_t flat = 0; flat < elements(yShape); ++flat) {
    int64_t rest = flat;
    for (size_t d = yShape.size(); d-- > 0;) {
      index[d] = rest % yShape[d];
      rest /= yShape[d];
    }
    double p = a[operandIndex(aShape, index)], q = b[operandIndex(bShape, index)];
    y[flat] = op == BinaryOp::Add ? p + q : p * q;
  }
  return y;
}

TEST(BroadcastBinary, FollowsNumpy) {
  using Shape = std::vector<int64_t>;
  const std::pair<Shape, Shape> cases[] = {
      {{2, 3, 1, 1}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {2, 3, 1, 1}},
      {{5}, {2, 3, 4, 5}},
      {{2, 3, 4, 5}, {5}},
      {{2, 1, 4}, {3, 1}},
      {{3, 1}, {2, 1, 4}},
      {{2, 3}, {2, 3}},
      {{}, {2, 3}},
      {{2, 3}, {1}},
      {{3, 1, 5}, {1, 4, 1}},
      {{1, 1}, {1, 1}},
      {{4, 1, 3}, {4, 2, 3}},
      {{2, 3, 4, 5}, {1, 3, 1, 5}},
      {{2, 0, 3}, {3}},
  };
  uint32_t seed = 300;
  for (const auto& [aShape, bShape] : cases) {
    Shape yShape = broadcastShape(aShape, bShape);
    std::vector<float> a = randomValues(elements(aShape), seed++, -2.0f, 2.0f);
    std::vector<float> b = randomValues(elements(bShape), seed++, -2.0f, 2.0f);
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Mul}) {
      SCOPED_TRACE(std::string(op == BinaryOp::Add ? "add " : "mul ") + std::to_string(seed));
      std::vector<float> y(static_cast<size_t>(elements(yShape)), kNan);
      broadcastBinary(op, a.data(), aShape, b.data(), bShape, y.data(), yShape);
      // Each result is one rounding of the exact value.
      expectClose(y, broadcastReference(op, a, aShape, b, bShape, yShape), 1e-30);
    }
  }
}

TEST(BroadcastBinary, MayWriteOverAFullSizeOperand) {
  std::vector<int64_t> full{2, 3, 4}, channel{3, 1};
  std::vector<float> a = randomValues(24, 320), b = randomValues(3, 321);
  std::vector<double> want = broadcastReference(BinaryOp::Mul, a, full, b, channel, full);
  broadcastBinary(BinaryOp::Mul, a.data(), full, b.data(), channel, a.data(), full);
  expectClose(a, want, 1e-30);
  std::vector<float> c = randomValues(24, 322);
  want = broadcastReference(BinaryOp::Add, b, channel, c, full, full);
  broadcastBinary(BinaryOp::Add, b.data(), channel, c.data(), full, c.data(), full);
  expectClose(c, want, 1e-30);
}

// ---- concat ----

TEST(Concat, JoinsAlongAnyAxis) {
  using Shape = std::vector<int64_t>;
  struct Case {
    std::vector<Shape> shapes;
    int64_t axis;
  };
  const Case cases[] = {
      {{{2, 3, 4}, {1, 3, 4}}, 0},
      {{{2, 3, 4}, {2, 1, 4}, {2, 2, 4}}, 1},
      {{{2, 3, 4}, {2, 3, 1}}, 2},
      {{{5}, {2}, {0}}, 0},
  };
  uint32_t seed = 400;
  for (const Case& c : cases) {
    SCOPED_TRACE("axis " + std::to_string(c.axis));
    std::vector<std::vector<float>> parts;
    std::vector<const float*> pointers;
    for (const Shape& shape : c.shapes) {
      parts.push_back(randomValues(elements(shape), seed++));
      pointers.push_back(parts.back().data());
    }
    auto axis = static_cast<size_t>(c.axis);
    Shape yShape = c.shapes[0];
    yShape[axis] = 0;
    for (const Shape& shape : c.shapes)
      yShape[axis] += shape[axis];
    // The reference: each output element found by walking its index along the axis.
    std::vector<float> want(static_cast<size_t>(elements(yShape)));
    std::vector<int64_t> index(yShape.size());
    for (int64_t flat = 0; flat < elements(yShape); ++flat) {
      int64_t rest = flat;
      for (size_t d = yShape.size(); d-- > 0;) {
        index[d] = rest % yShape[d];
        rest /= yShape[d];
      }
      size_t part = 0;
      while (index[axis] >= c.shapes[part][axis])
        index[axis] -= c.shapes[part++][axis];
      int64_t source = 0;
      for (size_t d = 0; d < yShape.size(); ++d)
        source = source * c.shapes[part][d] + index[d];
      want[flat] = parts[part][source];
    }
    std::vector<float> y(want.size(), kNan);
    concat(pointers, c.shapes, c.axis, y.data());
    EXPECT_EQ(y, want);
  }
}

// ---- softmax ----

std::vector<double> softmaxReference(const std::vector<float>& x, int64_t outer, int64_t size,
                                     int64_t inner, bool log) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return (o * size + j) * inner + i; };
      double m = -kInf;
      bool nan = false;
      for (int64_t j = 0; j < size; ++j) {
        nan |= std::isnan(x[at(j)]);
        m = std::max(m, static_cast<double>(x[at(j)]));
      }
      double sum = 0;
      for (int64_t j = 0; j < size; ++j)
        sum += std::exp(x[at(j)] - m);
      for (int64_t j = 0; j < size; ++j)
        y[at(j)] = nan ? kNan : log ? x[at(j)] - m - std::log(sum) : std::exp(x[at(j)] - m) / sum;
    }
  return y;
}

TEST(Softmax, MatchesTheFormulaOnEveryLayout) {
  struct Case {
    int64_t outer, size, inner;
    float lo, hi;
  };
  const Case cases[] = {
      {2, 5, 3, -3.0f, 3.0f},       // axis 1 of [2, 5, 3]
      {4, 7, 1, -3.0f, 3.0f},       // the last axis
      {2, 5, 3, 990.0f, 1010.0f},   // exp(1000) overflows without subtracting the max
      {4, 7, 1, 990.0f, 1010.0f},   //
      {3, 6, 1, -1010.0f, -990.0f}, // and exp(-1000) underflows
      {1, 1, 4, -1.0f, 1.0f},       // an axis of one
  };
  uint32_t seed = 500;
  for (const Case& c : cases) {
    std::vector<float> x = randomValues(c.outer * c.size * c.inner, seed++, c.lo, c.hi);
    for (bool log : {false, true}) {
      SCOPED_TRACE(std::string(log ? "log_softmax" : "softmax") + " over " +
                   std::to_string(c.size) + " with inner " + std::to_string(c.inner) + " from " +
                   std::to_string(c.lo));
      std::vector<float> y(x.size(), kNan);
      softmax(x.data(), c.outer, c.size, c.inner, y.data(), log);
      expectClose(y, softmaxReference(x, c.outer, c.size, c.inner, log), log ? 1.0 : 1e-3);
    }
  }
}

TEST(Softmax, NanAndInfinities) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t inner : {1, 2}) {
    // [3, 4, inner]: row 0 holds a NaN, row 1 a -inf among finite values, row 2 is all -inf.
    std::vector<float> x = randomValues(3 * 4 * inner, 510);
    x[(0 * 4 + 2) * inner] = nan;
    x[(1 * 4 + 1) * inner] = -inf;
    for (int64_t j = 0; j < 4; ++j)
      x[(2 * 4 + j) * inner] = -inf;
    for (bool log : {false, true}) {
      SCOPED_TRACE(std::string(log ? "log_softmax" : "softmax") + ", inner " +
                   std::to_string(inner));
      std::vector<float> y(x.size());
      softmax(x.data(), 3, 4, inner, y.data(), log);
      for (int64_t j = 0; j < 4; ++j) {
        EXPECT_TRUE(std::isnan(y[(0 * 4 + j) * inner])) << j;
        EXPECT_TRUE(std::isnan(y[(2 * 4 + j) * inner])) << j;
      }
      EXPECT_EQ(y[(1 * 4 + 1) * inner], log ? -inf : 0.0f);
      EXPECT_TRUE(std::isfinite(y[(1 * 4 + 0) * inner]));
      if (inner == 2) { // the other column is untouched by the special values
        for (int64_t r = 0; r < 3; ++r)
          for (int64_t j = 0; j < 4; ++j)
            EXPECT_TRUE(std::isfinite(y[(r * 4 + j) * inner + 1])) << r << ", " << j;
      }
    }
  }
}

// ---- the thread pool ----

TEST(ThreadPool, CoversEveryIndexOnceInContiguousChunks) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.threads(), threads);
    for (int64_t count : {0, 1, 2, 5, 100}) {
      SCOPED_TRACE(std::to_string(threads) + " threads, count " + std::to_string(count));
      std::vector<int> hits(static_cast<size_t>(count), 0);
      std::mutex mutex;
      int chunks = 0;
      bool callerRanFirst = false;
      std::thread::id caller = std::this_thread::get_id();
      pool.parallelFor(count, [&](int64_t begin, int64_t end) {
        EXPECT_LT(begin, end);
        for (int64_t i = begin; i < end; ++i)
          ++hits[static_cast<size_t>(i)];
        std::lock_guard lock(mutex);
        ++chunks;
        if (begin == 0)
          callerRanFirst = std::this_thread::get_id() == caller;
      });
      EXPECT_EQ(hits, std::vector<int>(static_cast<size_t>(count), 1));
      EXPECT_LE(chunks, threads);
      EXPECT_EQ(chunks, count == 0 ? 0 : std::min<int64_t>(threads, count));
      EXPECT_EQ(callerRanFirst, count > 0);
    }
  }
  EXPECT_EQ(ThreadPool(0).threads(), 1);
  EXPECT_GE(defaultThreadCount(), 1);
}

TEST(ThreadPool, ManyLoopsBackToBackFromSeveralThreads) {
  // Loops of 2, 3 and 4 chunks on a pool of 4, one after another and from two outside threads
  // at once: the workers spin between loops, and one without a chunk in a loop must not take
  // part in the next one twice or miss it.
  ThreadPool pool(4);
  auto run = [&](int seed) {
    for (int loop = 0; loop < 2000; ++loop) {
      int64_t count = 2 + (loop + seed) % 3;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
      pool.parallelFor(count, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (const std::atomic<int>& hit : hits)
        ASSERT_EQ(hit.load(), 1) << "loop " << loop;
    }
  };
  std::thread other(run, 1);
  run(0);
  other.join();
}

TEST(ThreadPool, DoesNotSplitBelowTheGrain) {
  ThreadPool pool(3);
  int calls = 0;
  pool.parallelFor(
      5,
      [&](int64_t begin, int64_t end) {
        ++calls;
        EXPECT_EQ(begin, 0);
        EXPECT_EQ(end, 5);
      },
      3);
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, RethrowsAChunksException) {
  ThreadPool pool(3);
  // From a worker's chunk, then from the caller's own.
  for (bool fromCaller : {false, true}) {
    EXPECT_THROW(pool.parallelFor(30,
                                  [&](int64_t begin, int64_t) {
                                    if ((begin == 0) == fromCaller)
                                      throw std::runtime_error("chunk failed");
                                  }),
                 std::runtime_error);
  }
  // The pool still works afterwards, and a nested loop runs inline.
  std::vector<int> hits(30, 0);
  pool.parallelFor(3, [&](int64_t begin, int64_t end) {
    for (int64_t outer = begin; outer < end; ++outer)
      pool.parallelFor(10, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          ++hits[static_cast<size_t>(outer * 10 + i)];
      });
  });
  EXPECT_EQ(hits, std::vector<int>(30, 1));
}

TEST(ThreadPool, LayersGiveTheSameBitsOnAnyNumberOfThreads) {
  // Large enough that every routine splits its work.
  const int64_t rows = 64, in = 128, units = 200;
  std::vector<float> x = randomValues(rows * in, 600), weight = randomValues(units * in, 601),
                     bias = randomValues(units, 602);
  const ConvCase conv{1, 16, 20, 20, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true};
  const ConvCase depthwise{2, 32, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 32, true};
  Pool2dGeometry pooling = poolGeometry(2, 32, 64, 64, 3, 3, 2, 2, 1, 1);
  std::vector<float> image = randomValues(2 * 32 * 64 * 64, 603);

  std::vector<std::vector<float>> first;
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(std::to_string(threads) + " threads");
    ThreadPool pool(threads);
    std::vector<std::vector<float>> results;
    std::vector<float> y(rows * units);
    dense(x.data(), rows, in, weight.data(), bias.data(), units, y.data(), pool);
    if (threads == 1)
      expectClose(y, denseReference(x, rows, in, weight, bias.data(), units));
    results.push_back(y);
    y.assign(rows * (units / 4), 0.0f);
    maxout(x.data(), rows, in, weight.data(), bias.data(), units / 4, 4, y.data(), pool);
    results.push_back(y);
    results.push_back(runConv(conv, pool, 604));
    results.push_back(runConv(depthwise, pool, 607));
    y.assign(static_cast<size_t>(2 * 32 * pooling.outH * pooling.outW), 0.0f);
    maxPool2d(image.data(), y.data(), pooling, pool);
    results.push_back(y);
    avgPool2d(image.data(), y.data(), pooling, pool);
    results.push_back(y);
    if (first.empty())
      first = results;
    else
      for (size_t i = 0; i < results.size(); ++i)
        EXPECT_EQ(results[i], first[i]) << "result " << i;
  }
}

} // namespace
} // namespace nnc::runtime
