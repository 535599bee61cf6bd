// The JIT GEMM and depthwise kernels on every ISA: dense, maxout and conv2d against
// double-precision loops or the runtime routines, over odd shapes (every edge of the register
// tile, strides, dilations, channel multipliers), with both biases and an epilogue.
#include "compiler/codegen/depthwise_kernel.h"
#include "compiler/codegen/dot_kernel.h"
#include "compiler/codegen/gemm_kernel.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/conv_input.h"
#include "compiler/jit/dense_dot.h"
#include "compiler/jit/depthwise.h"
#include "compiler/jit/gemm_layers.h"
#include "compiler/jit/jit.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cmath>
#include <random>
#include <set>

namespace nnc {
namespace {

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> v(n);
  for (float& x : v)
    x = uniform(random);
  return v;
}

/// |got - want| within float accumulation error of a k-term dot product of values in [-1, 1].
void expectClose(const std::vector<float>& got, const std::vector<double>& want, int64_t k,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  double tolerance = 4e-7 * static_cast<double>(std::max<int64_t>(k, 1)) + 1e-6;
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], want[i], tolerance) << what << " at " << i;
}

/// The ISA named by the test parameter, and a JIT for it (the test is skipped on a CPU that
/// lacks the ISA).
class IsaTest : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    std::optional<codegen::TargetIsa> isa = codegen::isaByName(GetParam());
    ASSERT_TRUE(isa);
    if (std::string missing = codegen::missingHostFeatures(*isa); !missing.empty())
      GTEST_SKIP() << "this CPU lacks " << missing;
    auto created = jit::Jit::create(*isa);
    ASSERT_TRUE(static_cast<bool>(created));
    jit_ = std::move(*created);
    isa_ = *isa;
  }

  codegen::TargetIsa isa_;
  std::unique_ptr<jit::Jit> jit_;
  runtime::ThreadPool pool_{2};
};

class GemmTest : public IsaTest {
protected:
  void SetUp() override {
    IsaTest::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    auto compiled = jit::compileModule(
        *jit_, "gemm", [&](llvm::Module& m) { jit::emitGemmKernels(m, isa_); },
        jit::gemmKernelNames(isa_));
    ASSERT_TRUE(std::holds_alternative<std::vector<void*>>(compiled))
        << std::get<std::string>(compiled);
    kernel_ = jit::gemmKernelAt(isa_, std::get<std::vector<void*>>(compiled).data());
  }

  jit::GemmKernel kernel_;
};

TEST_P(GemmTest, DenseOverOddShapes) {
  for (int64_t rows : {1, 2, 5, 6, 7, 13, 64})
    for (int64_t in : {1, 3, 17, 256, 311})
      for (int64_t units : {1, 7, 8, 16, 63, 64, 65, 131, 259}) {
        std::vector<float> x = randomFloats(static_cast<size_t>(rows * in), 1);
        std::vector<float> w = randomFloats(static_cast<size_t>(units * in), 2);
        std::vector<float> bias = randomFloats(static_cast<size_t>(units), 3);
        std::vector<double> want(static_cast<size_t>(rows * units));
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t u = 0; u < units; ++u) {
            double sum = bias[static_cast<size_t>(u)];
            for (int64_t p = 0; p < in; ++p)
              sum +=
                  double(x[static_cast<size_t>(r * in + p)]) * w[static_cast<size_t>(u * in + p)];
            want[static_cast<size_t>(r * units + u)] = sum;
          }
        jit::PackedWeights packed = jit::packDenseWeights(kernel_, w.data(), units, in);
        std::vector<float> y(want.size(), NAN);
        jit::denseGemm(kernel_, packed, x.data(), rows, in, bias.data(), y.data(), {}, pool_);
        expectClose(y, want, in,
                    "dense " + std::to_string(rows) + "x" + std::to_string(in) + "x" +
                        std::to_string(units));
        if (HasFatalFailure())
          return;
      }
}

/// A model whose every N is a multiple of NR compiles no narrow kernels; an edge of few columns
/// (which such a model should not have) is then still right, through a buffer.
TEST_P(GemmTest, EdgesWithoutNarrowKernels) {
  auto other = jit::Jit::create(isa_); // the fixture's JIT holds kernels of the same names
  ASSERT_TRUE(static_cast<bool>(other));
  auto compiled = jit::compileModule(
      **other, "wide",
      [&](llvm::Module& m) {
        for (const jit::GemmEmitter& emit : jit::gemmKernelEmitters(isa_, false))
          emit(m);
      },
      jit::gemmKernelNames(isa_, false));
  ASSERT_TRUE(std::holds_alternative<std::vector<void*>>(compiled))
      << std::get<std::string>(compiled);
  jit::GemmKernel wide =
      jit::gemmKernelAt(isa_, std::get<std::vector<void*>>(compiled).data(), false);
  ASSERT_TRUE(wide.narrow.empty());
  const int64_t rows = 7, in = 19;
  for (int64_t units : {1, 3, 7, 17, 63, 65}) {
    std::vector<float> x = randomFloats(static_cast<size_t>(rows * in), 18);
    std::vector<float> w = randomFloats(static_cast<size_t>(units * in), 19);
    std::vector<float> want(static_cast<size_t>(rows * units)), got(want.size(), NAN);
    jit::PackedWeights packed = jit::packDenseWeights(kernel_, w.data(), units, in);
    jit::denseGemm(kernel_, packed, x.data(), rows, in, nullptr, want.data(), {}, pool_);
    jit::denseGemm(wide, packed, x.data(), rows, in, nullptr, got.data(), {}, pool_);
    ASSERT_EQ(got, want) << units << " units";
  }
}

/// Adds 1 to every element it is given, so that a test sees each element pass exactly once.
void addOne(const void*, float* y, int64_t offset, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    y[offset + i] += 1.0f;
}

TEST_P(GemmTest, EpilogueSeesEveryOutputOnce) {
  // 13 rows: whole tiles and a row kernel; 1 row of 300 units: the wide one-row kernel.
  // (denseGemm applies this epilogue itself, after the GEMM.)
  for (auto [rows, in, units] : {std::array<int64_t, 3>{13, 29, 70}, {1, 29, 300}}) {
    std::vector<float> x = randomFloats(static_cast<size_t>(rows * in), 4);
    std::vector<float> w = randomFloats(static_cast<size_t>(units * in), 5);
    jit::PackedWeights packed = jit::packDenseWeights(kernel_, w.data(), units, in);
    std::vector<float> plain(static_cast<size_t>(rows * units)), shifted(plain.size());
    jit::denseGemm(kernel_, packed, x.data(), rows, in, nullptr, plain.data(), {}, pool_);
    jit::denseGemm(kernel_, packed, x.data(), rows, in, nullptr, shifted.data(),
                   runtime::Epilogue{addOne, nullptr}, pool_);
    for (size_t i = 0; i < plain.size(); ++i)
      ASSERT_EQ(shifted[i], plain[i] + 1.0f) << rows << " rows, element " << i;
  }
}

TEST_P(GemmTest, OneRowEpilogueSeesEveryOutputOnce) {
  // A row of 300 columns: the one-row kernel across four panels, then whole tiles and an edge;
  // gemm() applies the epilogue after each call (as for a dense layer at batch 1 whose
  // epilogue is compiled for whole tiles only).
  const int64_t in = 29, units = 300;
  std::vector<float> x = randomFloats(static_cast<size_t>(in), 9);
  std::vector<float> w = randomFloats(static_cast<size_t>(units * in), 10);
  jit::PackedWeights packed = jit::packDenseWeights(kernel_, w.data(), units, in);
  jit::GemmA a = jit::GemmA::rowMajor(x.data(), 1, in, in);
  jit::GemmB b = jit::GemmB::packed(packed.front(), true);
  std::vector<float> plain(static_cast<size_t>(units)), shifted(plain.size());
  jit::gemm(kernel_, a, b, plain.data(), units, nullptr, nullptr, nullptr, {}, plain.data(), pool_);
  jit::gemm(kernel_, a, b, shifted.data(), units, nullptr, nullptr, nullptr,
            runtime::Epilogue{addOne, nullptr}, shifted.data(), pool_);
  for (size_t i = 0; i < plain.size(); ++i)
    ASSERT_EQ(shifted[i], plain[i] + 1.0f) << "element " << i;
}

TEST_P(GemmTest, ARowsResultDoesNotDependOnTheBatch) {
  // Every kernel sums an output's products in order of p: a row alone (the wide one-row
  // kernel) gives the same bits as that row in a batch of 7 (a whole tile and a row kernel).
  const int64_t rows = 7, in = 37, units = 300;
  std::vector<float> x = randomFloats(static_cast<size_t>(rows * in), 6);
  std::vector<float> w = randomFloats(static_cast<size_t>(units * in), 7);
  std::vector<float> bias = randomFloats(static_cast<size_t>(units), 8);
  jit::PackedWeights packed = jit::packDenseWeights(kernel_, w.data(), units, in);
  std::vector<float> batch(static_cast<size_t>(rows * units));
  jit::denseGemm(kernel_, packed, x.data(), rows, in, bias.data(), batch.data(), {}, pool_);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> alone(static_cast<size_t>(units), NAN);
    jit::denseGemm(kernel_, packed, x.data() + r * in, 1, in, bias.data(), alone.data(), {}, pool_);
    ASSERT_EQ(alone, std::vector<float>(batch.begin() + r * units, batch.begin() + (r + 1) * units))
        << "row " << r;
  }
}

TEST_P(GemmTest, MaxoutMatchesTheRuntime) {
  int64_t rows = 70, in = 37, units = 11, pieces = 3;
  std::vector<float> x = randomFloats(static_cast<size_t>(rows * in), 6);
  std::vector<float> w = randomFloats(static_cast<size_t>(units * pieces * in), 7);
  std::vector<float> bias = randomFloats(static_cast<size_t>(units * pieces), 8);
  std::vector<float> want(static_cast<size_t>(rows * units)), got(want.size());
  runtime::maxout(x.data(), rows, in, w.data(), bias.data(), units, pieces, want.data(), pool_);
  jit::PackedWeights packed = jit::packDenseWeights(kernel_, w.data(), units * pieces, in);
  jit::maxoutGemm(kernel_, packed, x.data(), rows, in, bias.data(), units, pieces, got.data(), {},
                  pool_);
  std::vector<double> wanted(want.begin(), want.end());
  expectClose(got, wanted, in, "maxout");
}

TEST_P(GemmTest, ConvMatchesTheRuntime) {
  struct Case {
    int64_t batch, in, h, w, out, k, stride, pad, dilation, groups;
    int64_t padLeft = -1; // -1: the same as pad
  };
  // Every way ConvInput reads the input, on every ISA (vector widths 16, 8, 4): patches for
  // output widths that are not whole vectors, bordered stride-phase planes (strides 1 to 3, a
  // 1x1 with stride 2, an even kernel, dilation, groups, asymmetric padding) and in place.
  // The last bordered ones split stride-2 columns into phases: a 5x5 kernel with padding 2, a
  // dilated kernel that reads only the even phase, and a padded 1x1 that reads only the odd
  // one. Then kernels that cover the whole image, which run as dense layers (a 1x1 image as in
  // squeeze-and-excitation, a 3x3 kernel on a 3x3 image), and near misses that do not (padded,
  // grouped).
  const Case cases[] = {
      {2, 3, 9, 7, 5, 3, 1, 1, 1, 1},     {1, 8, 8, 8, 16, 1, 1, 0, 1, 1},
      {3, 6, 10, 11, 9, 3, 2, 1, 1, 3},   {1, 4, 12, 12, 70, 5, 1, 2, 2, 2},
      {2, 16, 5, 5, 7, 1, 2, 0, 1, 1},    {2, 5, 32, 32, 7, 3, 1, 1, 1, 1},
      {2, 6, 30, 32, 9, 3, 2, 1, 1, 3},   {1, 4, 9, 16, 10, 3, 1, 2, 2, 2},
      {2, 16, 32, 32, 7, 1, 2, 0, 1, 1},  {1, 3, 8, 32, 5, 2, 2, 0, 1, 1},
      {1, 2, 10, 48, 4, 3, 3, 1, 1, 1},   {2, 8, 4, 8, 6, 1, 1, 0, 1, 1},
      {1, 3, 7, 17, 4, 2, 1, 1, 1, 1, 0}, {1, 5, 6, 16, 3, 4, 1, 2, 1, 1, 1},
      {2, 3, 32, 32, 5, 5, 2, 2, 1, 1},   {1, 4, 32, 32, 6, 3, 2, 2, 2, 1},
      {2, 5, 30, 30, 4, 1, 2, 1, 1, 1},   {16, 32, 1, 1, 8, 1, 1, 0, 1, 1},
      {5, 7, 3, 3, 9, 3, 1, 0, 1, 1},     {5, 7, 3, 3, 9, 3, 1, 1, 1, 1},
      {3, 8, 1, 1, 6, 1, 1, 0, 1, 2},
  };
  std::set<jit::ConvInput::Mode> modes;
  int dense = 0;
  for (const Case& c : cases) {
    int64_t padLeft = c.padLeft < 0 ? c.pad : c.padLeft;
    // Output sizes as for "same"-style padding: pad on the top/left, whatever fits at the end.
    int64_t oh = (c.h + 2 * c.pad - c.dilation * (c.k - 1) - 1) / c.stride + 1;
    int64_t ow = (c.w + 2 * padLeft - c.dilation * (c.k - 1) - 1) / c.stride + 1;
    if (c.padLeft >= 0)
      ow = (c.w + padLeft - c.dilation * (c.k - 1) - 1) / c.stride + 1 + (padLeft > 0 ? 1 : 0);
    runtime::Conv2dGeometry g{c.batch,    c.in,     c.h,      c.w,   c.out,   c.k,
                              c.k,        c.stride, c.stride, c.pad, padLeft, c.dilation,
                              c.dilation, c.groups, oh,       ow};
    if (jit::isDenseConv(g))
      ++dense;
    else
      modes.insert(jit::ConvInput(g, kernel_.tile, kernel_.width).mode());
    std::vector<float> x = randomFloats(static_cast<size_t>(c.batch * c.in * c.h * c.w), 9);
    std::vector<float> w =
        randomFloats(static_cast<size_t>(c.out * c.in / c.groups * c.k * c.k), 10);
    std::vector<float> bias = randomFloats(static_cast<size_t>(c.out), 11);
    std::vector<float> want(static_cast<size_t>(c.batch * c.out * oh * ow)), got(want.size());
    runtime::conv2d(x.data(), w.data(), bias.data(), want.data(), g, pool_);
    jit::PackedWeights packed = jit::packConvWeights(kernel_, w.data(), g);
    jit::convGemm(kernel_, packed, x.data(), bias.data(), got.data(), g, {}, pool_);
    std::vector<double> wanted(want.begin(), want.end());
    expectClose(got, wanted, c.in / c.groups * c.k * c.k,
                "conv " + std::to_string(c.out) + "x" + std::to_string(c.in) + " " +
                    std::to_string(oh) + "x" + std::to_string(ow));
    if (HasFatalFailure())
      return;
  }
  EXPECT_EQ(modes.size(), 3u) << "not every way of reading a convolution's input was tested";
  EXPECT_EQ(dense, 2) << "the cases that run as dense layers are not the two meant to";
}

/// The leaves of an epilogue in registers, y = acc·scale[row] + shift[column] + residual, for
/// the edge tiles that take the runtime's epilogue instead (offsets into a [rows, columns]
/// output per image).
struct LeafEpilogue {
  const float* scale;
  const float* shift;
  const float* residual;
  int64_t rows, columns;
  mutable std::atomic<int64_t> elements{0}; ///< how many it was given

  static void apply(const void* context, float* y, int64_t offset, int64_t count) {
    const auto& e = *static_cast<const LeafEpilogue*>(context);
    e.elements += count;
    for (int64_t i = offset; i < offset + count; ++i) {
      int64_t row = i / e.columns % e.rows, column = i % e.columns;
      y[i] = std::fma(y[i], e.scale[row], e.shift[column]) + e.residual[i];
    }
  }
};

/// Whole tiles go to the kernel a column of tiles at a time; each must read its own rows of A
/// (packed panels for a convolution, a row-major input for a dense layer) and its own row and
/// matrix leaves. A convolution's last, shorter row of tiles takes the epilogue's kernel for
/// its height, so the runtime's epilogue sees only the tiles the last column cuts.
TEST_P(GemmTest, EpilogueLeavesFollowEveryTileOfAColumn) {
  std::vector<codegen::TileLeaf> layouts = {
      codegen::TileLeaf::Accumulator, codegen::TileLeaf::RowScalar, codegen::TileLeaf::ColumnVector,
      codegen::TileLeaf::Matrix};
  codegen::FusedStep norm{ir::OpKind::BatchNorm,
                          {},
                          {codegen::FusedExpression::leaf(0), codegen::FusedExpression::leaf(1),
                           codegen::FusedExpression::leaf(2)}};
  codegen::FusedStep residual{ir::OpKind::Add, {}, {0, codegen::FusedExpression::leaf(3)}};
  codegen::GemmEpilogue expression{
      codegen::FusedExpression{std::vector<bool>(4, false), {norm, residual}}, layouts};
  // Rows: three whole panels and two more; columns: three tiles of 64 on AVX-512 (more on the
  // narrower ISAs), the last one partial for the dense layer.
  const int64_t batch = 2, in = 5, rows = 20, side = 12;
  const int64_t edgeRows = rows % kernel_.tile.mr;
  auto compiled =
      jit::compileModule(*jit_, "leaves",
                         [&](llvm::Module& m) {
                           codegen::emitGemmKernel(m, "gemm.leaves", isa_, &expression);
                           codegen::emitGemmKernel(m, "gemm.leaves.edge", isa_, &expression,
                                                   static_cast<unsigned>(edgeRows));
                         },
                         {"gemm.leaves", "gemm.leaves.edge"});
  ASSERT_TRUE(std::holds_alternative<std::vector<void*>>(compiled))
      << std::get<std::string>(compiled);
  auto fn = reinterpret_cast<jit::GemmKernelFn>(std::get<std::vector<void*>>(compiled)[0]);
  auto edgeFn = reinterpret_cast<jit::GemmKernelFn>(std::get<std::vector<void*>>(compiled)[1]);
  for (bool dense : {false, true}) {
    int64_t columns = dense ? 150 : side * side, images = dense ? 1 : batch;
    const int64_t m = rows, k = in;
    std::vector<float> x =
        randomFloats(static_cast<size_t>(images * k * (dense ? m : columns)), 12);
    std::vector<float> w = randomFloats(static_cast<size_t>((dense ? columns : rows) * k), 13);
    std::vector<float> bias = randomFloats(static_cast<size_t>(dense ? columns : rows), 14);
    std::vector<float> scale = randomFloats(static_cast<size_t>(m), 15);
    std::vector<float> shift = randomFloats(static_cast<size_t>(columns), 16);
    std::vector<float> matrix = randomFloats(static_cast<size_t>(images * m * columns), 17);
    std::vector<float> plain(matrix.size()), got(matrix.size());
    LeafEpilogue leaves{scale.data(), shift.data(), matrix.data(), m, columns};
    runtime::Epilogue edges{LeafEpilogue::apply, &leaves};
    // The dense layer's rows are its batch, which a network does not know when it compiles.
    jit::TileEpilogue inRegisters{fn,
                                  layouts,
                                  {nullptr, scale.data(), shift.data(), matrix.data()},
                                  dense ? nullptr : edgeFn,
                                  dense ? 0 : edgeRows};
    if (dense) {
      jit::PackedWeights packed = jit::packDenseWeights(kernel_, w.data(), columns, k);
      jit::denseGemm(kernel_, packed, x.data(), m, k, bias.data(), plain.data(), {}, pool_);
      jit::denseGemm(kernel_, packed, x.data(), m, k, bias.data(), got.data(), edges, pool_,
                     &inRegisters);
    } else {
      runtime::Conv2dGeometry g{batch, in, side, side, rows, 1, 1, 1, 1, 0, 0, 1, 1, 1, side, side};
      jit::PackedWeights packed = jit::packConvWeights(kernel_, w.data(), g);
      jit::convGemm(kernel_, packed, x.data(), bias.data(), plain.data(), g, {}, pool_);
      jit::convGemm(kernel_, packed, x.data(), bias.data(), got.data(), g, edges, pool_,
                    &inRegisters);
    }
    std::vector<double> want(plain.size());
    for (size_t i = 0; i < want.size(); ++i) {
      int64_t row = static_cast<int64_t>(i) / columns % m,
              column = static_cast<int64_t>(i) % columns;
      want[i] = double(plain[i]) * scale[static_cast<size_t>(row)] +
                shift[static_cast<size_t>(column)] + matrix[i];
    }
    expectClose(got, want, k, dense ? "dense" : "conv");
    if (HasFatalFailure())
      return;
    int64_t cut = columns % kernel_.tile.nr, full = columns - cut;
    int64_t runtimeRows = dense ? m % kernel_.tile.mr : 0;
    EXPECT_EQ(leaves.elements, images * (m * cut + runtimeRows * full))
        << (dense ? "dense" : "conv") << ": elements given to the runtime's epilogue";
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, GemmTest, testing::Values("avx512", "avx2", "sse"),
                         [](const testing::TestParamInfo<std::string>& param) {
                           return param.param;
                         });

} // namespace
} // namespace nnc

namespace nnc {
namespace {

using DepthwiseTest = IsaTest;

TEST_P(DepthwiseTest, MatchesTheRuntime) {
  const codegen::TargetIsa* isa = &isa_;
  jit::Jit* jit = jit_.get();
  runtime::ThreadPool& pool = pool_;
  struct Case {
    int64_t batch, channels, multiplier, h, w, k, stride, pad, dilation;
  };
  int index = 0;
  for (Case c : {Case{2, 3, 1, 9, 7, 3, 1, 1, 1}, Case{1, 4, 2, 12, 33, 3, 2, 1, 1},
                 Case{2, 5, 1, 17, 17, 5, 1, 2, 1}, Case{1, 2, 3, 10, 21, 3, 1, 2, 2},
                 Case{3, 1, 6, 28, 28, 5, 1, 2, 1}, Case{1, 8, 1, 7, 40, 3, 3, 0, 1},
                 // Strided taps that shift their phase by whole lanes: dilation with a stride,
                 // and a 5x5 kernel whose taps alternate between the two phases.
                 Case{2, 3, 1, 19, 37, 3, 2, 2, 2}, Case{1, 2, 1, 23, 50, 3, 3, 1, 2},
                 Case{2, 2, 1, 21, 45, 5, 2, 2, 1},
                 // Taps shifted by 6, 8 and 16 lanes (a dilation wider than the stride): up to
                 // and past the phase's next vector on each ISA.
                 Case{1, 2, 1, 9, 40, 5, 2, 2, 3}, Case{1, 2, 1, 18, 60, 5, 2, 1, 4},
                 Case{1, 1, 1, 34, 80, 5, 2, 0, 8},
                 // A strided row whose load ends past the plane's right edge, the row below
                 // right after it in memory.
                 Case{1, 1, 1, 2, 38, 1, 2, 2, 1}, Case{2, 3, 1, 5, 38, 3, 2, 2, 1}}) {
    int64_t oh = (c.h + 2 * c.pad - c.dilation * (c.k - 1) - 1) / c.stride + 1;
    int64_t ow = (c.w + 2 * c.pad - c.dilation * (c.k - 1) - 1) / c.stride + 1;
    int64_t out = c.channels * c.multiplier;
    runtime::Conv2dGeometry g{c.batch,    c.channels, c.h,      c.w,   out,   c.k,
                              c.k,        c.stride,   c.stride, c.pad, c.pad, c.dilation,
                              c.dilation, c.channels, oh,       ow};
    codegen::DepthwiseShape shape = jit::depthwiseShape(g, *isa);
    std::string name = "dw" + std::to_string(index++);
    auto compiled = jit::compileModule(
        *jit, name, [&](llvm::Module& m) { codegen::emitDepthwiseKernel(m, name, *isa, shape); },
        {name});
    ASSERT_TRUE(std::holds_alternative<std::vector<void*>>(compiled))
        << std::get<std::string>(compiled);
    auto kernel = reinterpret_cast<jit::DepthwiseFn>(std::get<std::vector<void*>>(compiled)[0]);
    std::vector<float> x = randomFloats(static_cast<size_t>(c.batch * c.channels * c.h * c.w), 12);
    std::vector<float> w = randomFloats(static_cast<size_t>(out * c.k * c.k), 13);
    std::vector<float> bias = randomFloats(static_cast<size_t>(out), 14);
    std::vector<float> want(static_cast<size_t>(c.batch * out * oh * ow)), got(want.size(), NAN);
    runtime::conv2d(x.data(), w.data(), bias.data(), want.data(), g, pool);
    jit::depthwiseConv(kernel, shape, x.data(), w.data(), bias.data(), got.data(), g, {}, pool);
    std::vector<double> wanted(want.begin(), want.end());
    expectClose(got, wanted, c.k * c.k, "depthwise case " + std::to_string(index));
    if (HasFatalFailure())
      return;
  }
}

using DotTest = IsaTest;

TEST_P(DotTest, DenseOfAFewUnitsMatchesTheRuntime) {
  if (isa_.kind == codegen::IsaKind::Sse)
    GTEST_SKIP() << "the dot-product kernel needs masked loads; SSE dense layers take the GEMM";
  for (unsigned units : {1u, 3u, 10u, 16u}) {
    std::string name = "dot" + std::to_string(units);
    auto compiled = jit::compileModule(
        *jit_, name, [&](llvm::Module& m) { codegen::emitDotKernel(m, name, isa_, units); },
        {name});
    ASSERT_TRUE(std::holds_alternative<std::vector<void*>>(compiled))
        << std::get<std::string>(compiled);
    auto kernel = reinterpret_cast<jit::DotFn>(std::get<std::vector<void*>>(compiled)[0]);
    for (int64_t rows : {1, 2, 5, 9})
      for (int64_t in : {1, 7, 15, 16, 17, 33, 70}) {
        std::vector<float> x = randomFloats(static_cast<size_t>(rows * in), 21);
        std::vector<float> w = randomFloats(static_cast<size_t>(units * in), 22);
        std::vector<float> bias = randomFloats(units, 23);
        for (bool withBias : {true, false}) {
          std::vector<float> y(static_cast<size_t>(rows * units), NAN);
          jit::denseDot(kernel, x.data(), rows, in, w.data(), withBias ? bias.data() : nullptr,
                        units, y.data(), {}, pool_);
          std::vector<double> want(y.size());
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t n = 0; n < units; ++n) {
              double sum = withBias ? bias[static_cast<size_t>(n)] : 0.0;
              for (int64_t p = 0; p < in; ++p)
                sum +=
                    double(x[static_cast<size_t>(r * in + p)]) * w[static_cast<size_t>(n * in + p)];
              want[static_cast<size_t>(r * units + n)] = sum;
            }
          expectClose(y, want, in,
                      "dot " + std::to_string(rows) + "x" + std::to_string(in) + "x" +
                          std::to_string(units));
          if (HasFatalFailure())
            return;
        }
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, DotTest, testing::Values("avx512", "avx2", "sse"),
                         [](const testing::TestParamInfo<std::string>& param) {
                           return param.param;
                         });

INSTANTIATE_TEST_SUITE_P(Isas, DepthwiseTest, testing::Values("avx512", "avx2", "sse"),
                         [](const testing::TestParamInfo<std::string>& param) {
                           return param.param;
                         });

} // namespace
} // namespace nnc
