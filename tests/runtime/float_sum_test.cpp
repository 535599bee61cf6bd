// sumInDouble on every vector level: the same bits as its documented order of additions, for
// every length around the 16 partial sums, and no read past the last float.
#include "runtime/float_sum.h"
#include "tests/runtime/guarded_floats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace nnc::runtime {
namespace {

/// The order sumInDouble promises, written out.
double documentedSum(const float* v, int64_t n) {
  double partial[16] = {};
  int64_t whole = n / 16 * 16;
  for (int64_t i = 0; i < whole; ++i)
    partial[i % 16] += v[i];
  double sum = 0;
  for (double p : partial)
    sum += p;
  for (int64_t i = whole; i < n; ++i)
    sum += v[i];
  return sum;
}

class FloatSumTest : public testing::TestWithParam<Level> {};

TEST_P(FloatSumTest, AddsInTheDocumentedOrderAndReadsNothingPastTheEnd) {
  std::mt19937 random(7);
  // Magnitudes from 2^-20 to 2^40, both signs: any other order of additions rounds differently.
  std::uniform_real_distribution<float> exponent(-20, 40), unit(-1, 1);
  for (int64_t n : {0, 1, 7, 15, 16, 17, 31, 32, 33, 100, 257, 1024, 4099}) {
    GuardedFloats v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      v.data()[i] = unit(random) * std::exp2(exponent(random));
    double sum = NAN;
    if (!sumInDoubleAt(GetParam().level, v.data(), n, sum))
      GTEST_SKIP() << "this CPU cannot run " << GetParam().name;
    double want = documentedSum(v.data(), n);
    ASSERT_EQ(sum, want) << "n = " << n;
    ASSERT_EQ(sumInDouble(v.data(), n), want) << "the dispatched sum, n = " << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, FloatSumTest, testing::ValuesIn(kLevels), levelName);

} // namespace
} // namespace nnc::runtime
