// copyStridedRows and each implementation of splitEvenOddRows: every pair of phase lengths
// across the vector widths, several planes and rows with their own pitches, and no read past
// the last element copied (the source ends at an inaccessible page) nor write past a phase's
// last element.
#include "runtime/strided_copy.h"
#include "tests/runtime/guarded_floats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace nnc::runtime {
namespace {

class SplitEvenOddTest : public testing::TestWithParam<Level> {};

TEST_P(SplitEvenOddTest, SplitsEveryPlaneAndRowAndReadsNothingPastTheLast) {
  if (!cpuRuns(GetParam().level))
    GTEST_SKIP() << "this CPU cannot run " << GetParam().name;
  const int64_t planes = 2, rows = 3;
  for (int64_t evenCount = 0; evenCount <= 40; ++evenCount)
    for (int64_t oddCount = 0; oddCount <= 40; ++oddCount) {
      if (evenCount == 0 && oddCount == 0)
        continue;
      int64_t read = std::max(evenCount > 0 ? 2 * evenCount - 1 : 0, 2 * oddCount);
      int64_t rowPitch = read + 3, planePitch = rows * rowPitch + 5;
      // The last row of the last plane ends right before the guard page.
      size_t floats = static_cast<size_t>((planes - 1) * planePitch + (rows - 1) * rowPitch + read);
      GuardedFloats source(floats);
      for (size_t i = 0; i < floats; ++i)
        source.data()[i] = static_cast<float>(i) + 0.5f;
      // Each phase with pitches of its own, one float past its rows untouched.
      int64_t evenRow = evenCount + 1, evenPlane = rows * evenRow + 2;
      int64_t oddRow = oddCount + 3, oddPlane = rows * oddRow + 1;
      std::vector<float> even(static_cast<size_t>(planes * evenPlane), -1.0f);
      std::vector<float> odd(static_cast<size_t>(planes * oddPlane), -2.0f);
      RowBlock block{source.data(), planePitch, rowPitch, planes, rows};
      ASSERT_TRUE(splitEvenOddRowsAt(GetParam().level, block,
                                     {even.data(), evenPlane, evenRow, evenCount},
                                     {odd.data(), oddPlane, oddRow, oddCount}));
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t r = 0; r < rows; ++r) {
          const float* row = source.data() + p * planePitch + r * rowPitch;
          for (int64_t j = 0; j < evenRow; ++j)
            ASSERT_EQ(even[static_cast<size_t>(p * evenPlane + r * evenRow + j)],
                      j < evenCount ? row[2 * j] : -1.0f)
                << "even " << j << " of " << evenCount << " (odd " << oddCount << "), plane " << p
                << ", row " << r;
          for (int64_t j = 0; j < oddRow; ++j)
            ASSERT_EQ(odd[static_cast<size_t>(p * oddPlane + r * oddRow + j)],
                      j < oddCount ? row[2 * j + 1] : -2.0f)
                << "odd " << j << " of " << oddCount << " (even " << evenCount << "), plane " << p
                << ", row " << r;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Levels, SplitEvenOddTest, testing::ValuesIn(kLevels), levelName);

TEST(CopyStridedRows, EveryStride) {
  std::vector<float> source(400);
  for (size_t i = 0; i < source.size(); ++i)
    source[i] = static_cast<float>(i);
  for (int64_t stride : {1, 2, 3, 4}) {
    // Two planes 200 floats apart, three rows 50 apart; out planes 31 floats apart.
    std::vector<float> out(2 * 31, -1.0f);
    copyStridedRows({source.data(), 200, 50, 2, 3}, stride, {out.data(), 31, 10, 9});
    for (int64_t p = 0; p < 2; ++p)
      for (int64_t r = 0; r < 3; ++r)
        for (int64_t j = 0; j < 10; ++j)
          EXPECT_EQ(out[static_cast<size_t>(p * 31 + r * 10 + j)],
                    j < 9 ? source[static_cast<size_t>(p * 200 + r * 50 + j * stride)] : -1.0f)
              << "stride " << stride << ", plane " << p << ", row " << r;
    EXPECT_EQ(out[30], -1.0f) << "stride " << stride;
  }
}

} // namespace
} // namespace nnc::runtime
