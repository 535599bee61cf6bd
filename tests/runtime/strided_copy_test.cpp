// copyStridedRows and each of its stride-2 implementations: every count across the vector
// widths, several rows and pitches, and no read past the last element copied (the source ends
// at an inaccessible page).
#include "runtime/strided_copy.h"
#include "tests/runtime/guarded_floats.h"

#include <gtest/gtest.h>

#include <vector>

namespace nnc::runtime {
namespace {

class EveryOtherTest : public testing::TestWithParam<Level> {};

TEST_P(EveryOtherTest, CopiesEveryOtherFloatAndReadsNothingPastTheLast) {
  for (int64_t rows : {1, 2, 3})
    for (int64_t count = 1; count <= 40; ++count) {
      int64_t pitch = 2 * count + 3;
      // The last row's last element read is the last float before the guard page.
      size_t floats = static_cast<size_t>((rows - 1) * pitch + 2 * (count - 1) + 1);
      GuardedFloats source(floats);
      for (size_t i = 0; i < floats; ++i)
        source.data()[i] = static_cast<float>(i) + 0.5f;
      int64_t outPitch = count + 1;
      std::vector<float> out(static_cast<size_t>(rows * outPitch), -1.0f);
      if (!copyEveryOtherRows(GetParam().level, source.data(), pitch, rows, count, out.data(),
                              outPitch))
        GTEST_SKIP() << "this CPU cannot run " << GetParam().name;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j <= count; ++j) {
          float want = j < count ? source.data()[r * pitch + 2 * j] : -1.0f; // one past: untouched
          ASSERT_EQ(out[static_cast<size_t>(r * outPitch + j)], want)
              << "row " << r << " of " << rows << ", element " << j << " of " << count;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Levels, EveryOtherTest, testing::ValuesIn(kLevels), levelName);

TEST(CopyStridedRows, EveryStride) {
  std::vector<float> source(200);
  for (size_t i = 0; i < source.size(); ++i)
    source[i] = static_cast<float>(i);
  for (int64_t stride : {1, 2, 3, 4}) {
    std::vector<float> out(3 * 10, -1.0f);
    copyStridedRows(source.data(), 50, stride, 3, 9, out.data(), 10);
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t j = 0; j < 10; ++j)
        EXPECT_EQ(out[static_cast<size_t>(r * 10 + j)],
                  j < 9 ? source[static_cast<size_t>(r * 50 + j * stride)] : -1.0f)
            << "stride " << stride;
  }
}

} // namespace
} // namespace nnc::runtime
