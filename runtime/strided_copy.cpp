#include "runtime/strided_copy.h"

#include <cstring>
#include <immintrin.h>

namespace nnc::runtime {

namespace {

using EveryOther = void (*)(const float*, int64_t, int64_t, int64_t, float*, int64_t);

void everyOtherScalar(const float* source, int64_t sourcePitch, int64_t rows, int64_t count,
                      float* out, int64_t outPitch) {
  for (int64_t r = 0; r < rows; ++r, source += sourcePitch, out += outPitch)
    for (int64_t j = 0; j < count; ++j)
      out[j] = source[2 * j];
}

__attribute__((target("avx512f"))) void everyOtherAvx512(const float* source, int64_t sourcePitch,
                                                         int64_t rows, int64_t count, float* out,
                                                         int64_t outPitch) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int64_t r = 0; r < rows; ++r, source += sourcePitch, out += outPitch) {
    int64_t j = 0;
    // 16 outputs read 31 floats: the second load leaves out its last lane.
    for (; j + 16 <= count; j += 16) {
      __m512 low = _mm512_loadu_ps(source + 2 * j);
      __m512 high = _mm512_maskz_loadu_ps(0x7fff, source + 2 * j + 16);
      _mm512_storeu_ps(out + j, _mm512_permutex2var_ps(low, even, high));
    }
    if (int64_t left = count - j; left > 0) {
      int64_t read = 2 * left - 1;
      auto lowMask = static_cast<__mmask16>(read >= 16 ? 0xffff : (1u << read) - 1);
      auto highMask = static_cast<__mmask16>(read > 16 ? (1u << (read - 16)) - 1 : 0);
      __m512 low = _mm512_maskz_loadu_ps(lowMask, source + 2 * j);
      __m512 high = _mm512_maskz_loadu_ps(highMask, source + 2 * j + 16);
      _mm512_mask_storeu_ps(out + j, static_cast<__mmask16>((1u << left) - 1),
                            _mm512_permutex2var_ps(low, even, high));
    }
  }
}

__attribute__((target("avx2"))) void everyOtherAvx2(const float* source, int64_t sourcePitch,
                                                    int64_t rows, int64_t count, float* out,
                                                    int64_t outPitch) {
  // 8 outputs read 15 floats: the second load leaves out its last lane.
  const __m256i firstSeven = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);
  for (int64_t r = 0; r < rows; ++r, source += sourcePitch, out += outPitch) {
    int64_t j = 0;
    for (; j + 8 <= count; j += 8) {
      __m256 low = _mm256_loadu_ps(source + 2 * j);
      __m256 high = _mm256_maskload_ps(source + 2 * j + 8, firstSeven);
      // [l0 l2 h0 h2 | l4 l6 h4 h6], then the middle quarters swapped.
      __m256 evens = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0));
      _mm256_storeu_ps(out + j, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(evens),
                                                                       _MM_SHUFFLE(3, 1, 2, 0))));
    }
    for (; j < count; ++j)
      out[j] = source[2 * j];
  }
}

constexpr ByLevel<EveryOther> kEveryOther{&everyOtherScalar, &everyOtherAvx2, &everyOtherAvx512};

/// The widest implementation this CPU runs.
EveryOther everyOther() {
  static const EveryOther chosen = kEveryOther.widest();
  return chosen;
}

} // namespace

bool copyEveryOtherRows(VectorLevel level, const float* source, int64_t sourcePitch, int64_t rows,
                        int64_t count, float* out, int64_t outPitch) {
  EveryOther copy = kEveryOther.at(level);
  if (!copy)
    return false;
  if (rows > 0 && count > 0)
    copy(source, sourcePitch, rows, count, out, outPitch);
  return true;
}

void copyStridedRows(const float* source, int64_t sourcePitch, int64_t stride, int64_t rows,
                     int64_t count, float* out, int64_t outPitch) {
  if (rows <= 0 || count <= 0)
    return;
  if (stride == 1) {
    for (int64_t r = 0; r < rows; ++r)
      std::memcpy(out + r * outPitch, source + r * sourcePitch,
                  static_cast<size_t>(count) * sizeof(float));
  } else if (stride == 2) {
    everyOther()(source, sourcePitch, rows, count, out, outPitch);
  } else {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < count; ++j)
        out[r * outPitch + j] = source[r * sourcePitch + j * stride];
  }
}

} // namespace nnc::runtime
