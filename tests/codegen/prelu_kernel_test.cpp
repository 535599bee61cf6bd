// The PReLU kernel on every ISA: shared and per-channel slopes, every layout, tails, in place.
#include "compiler/codegen/target.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/jit.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace nnc {
namespace {

using codegen::TargetIsa;

/// x >= 0 ? x : w·x in float, which is what the kernel must give exactly (one rounding of w·x,
/// as PyTorch computes it), except that ±0·-inf is the limit ∓0, not NaN.
float expected(float x, float w) {
  if (x >= 0)
    return x;
  return w == 0 && std::isinf(x) ? -w : x * w;
}

bool sameFloat(float a, float b) {
  return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b) ||
         (std::isnan(a) && std::isnan(b));
}

std::vector<float> values(size_t n, unsigned seed) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> v = {0.0f,
                          -0.0f,
                          inf,
                          -inf,
                          std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::max(),
                          -std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::denorm_min(),
                          -1e-40f,
                          -3.5f};
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-10, 10);
  while (v.size() < n)
    v.push_back(uniform(random));
  v.resize(n);
  return v;
}

class PreluKernelTest : public testing::TestWithParam<std::string> {
protected:
  void SetUp() override {
    std::optional<TargetIsa> isa = codegen::isaByName(GetParam());
    ASSERT_TRUE(isa);
    if (std::string missing = codegen::missingHostFeatures(*isa); !missing.empty())
      GTEST_SKIP() << "this CPU lacks " << missing;
    auto created = jit::Jit::create(*isa);
    ASSERT_TRUE(static_cast<bool>(created));
    jit_ = std::move(*created);
    auto compiled = jit::compilePrelu(*jit_, "prelu");
    ASSERT_TRUE(std::holds_alternative<jit::PreluKernel>(compiled))
        << std::get<std::string>(compiled);
    kernel_ = std::get<jit::PreluKernel>(compiled);
    width_ = isa->vectorWidth;
  }

  /// Runs [outer, channels, inner] out of place (with sentinels after the end) and in place.
  void check(size_t outer, size_t channels, size_t inner) {
    size_t n = outer * channels * inner;
    std::vector<float> x = values(n, static_cast<unsigned>(n + channels));
    std::vector<float> slope = values(channels + 10, 99);
    slope.erase(slope.begin(), slope.begin() + 10); // finite slopes, some negative
    std::vector<float> y(n + 2 * width_, 777.0f);
    auto args = [&](float* out, const float* in) {
      kernel_(in, out, slope.data(), static_cast<int64_t>(outer), static_cast<int64_t>(channels),
              static_cast<int64_t>(inner));
    };
    args(y.data(), x.data());
    std::vector<float> inPlace = x;
    args(inPlace.data(), inPlace.data());
    for (size_t i = 0; i < n; ++i) {
      float want = expected(x[i], slope[(i / inner) % channels]);
      ASSERT_TRUE(sameFloat(y[i], want))
          << "at " << i << " of [" << outer << ", " << channels << ", " << inner
          << "]: x = " << x[i] << ", got " << y[i] << ", want " << want;
      ASSERT_TRUE(sameFloat(inPlace[i], want)) << "in place, at " << i;
    }
    for (size_t i = n; i < y.size(); ++i)
      ASSERT_EQ(y[i], 777.0f) << "wrote past the end of [" << outer << ", " << channels << ", "
                              << inner << "]";
  }

  std::unique_ptr<jit::Jit> jit_;
  jit::PreluKernel kernel_ = nullptr;
  size_t width_ = 0;
};

TEST_P(PreluKernelTest, SharedSlope) {
  for (size_t n : {size_t{0}, size_t{1}, width_ - 1, width_ + 1, 5 * width_ + 3, size_t{1000}})
    check(1, 1, n);
  check(3, 1, 7); // outer runs with one slope are one run
}

TEST_P(PreluKernelTest, PerChannelWithChannelsLast) {
  for (size_t channels : {size_t{2}, width_ - 1, width_, 3 * width_ + 5})
    check(4, channels, 1);
}

TEST_P(PreluKernelTest, PerChannelWithSpatialRuns) {
  for (size_t inner : {size_t{2}, width_ + 1, size_t{49}})
    check(2, 3, inner);
}

TEST_P(PreluKernelTest, ZeroSlopeGivesTheLimitAtMinusInfinity) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = {-inf, -2.0f, nan, inf, -0.0f, -inf};
  std::vector<float> slopes = {0.0f, 0.5f, -0.0f};
  std::vector<float> y(x.size());
  kernel_(x.data(), y.data(), slopes.data(), 1, 1, static_cast<int64_t>(x.size())); // shared
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_TRUE(sameFloat(y[i], expected(x[i], 0.0f))) << "shared slope 0, x = " << x[i];
  EXPECT_TRUE(sameFloat(y[0], -0.0f));
  kernel_(x.data(), y.data(), slopes.data(), 2, 3, 1); // channels last: 0, 0.5, -0, 0, ...
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_TRUE(sameFloat(y[i], expected(x[i], slopes[i % 3]))) << "per channel, at " << i;
  EXPECT_TRUE(sameFloat(y[0], -0.0f)); // slope 0
  EXPECT_EQ(y[3], inf);                // x = +inf
  EXPECT_TRUE(sameFloat(y[5], 0.0f));  // slope -0
}

INSTANTIATE_TEST_SUITE_P(Isas, PreluKernelTest, testing::Values("avx512", "avx2", "sse"));

} // namespace
} // namespace nnc
