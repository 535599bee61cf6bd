#include "runtime/strided_copy.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

namespace nnc::runtime {

namespace {

using Split = void (*)(RowBlock, RowTarget, RowTarget);

/// Where row r of plane p of a block, or of a target, starts.
inline const float* sourceRow(const RowBlock& block, int64_t p, int64_t r) {
  return block.source + p * block.planePitch + r * block.rowPitch;
}
inline float* targetRow(const RowTarget& target, int64_t p, int64_t r) {
  return target.out + p * target.planePitch + r * target.rowPitch;
}

/// Row r of plane p of a block and of its two phases.
struct Row {
  const float* source;
  float* even;
  float* odd;
};
inline Row rowAt(const RowBlock& block, const RowTarget& even, const RowTarget& odd, int64_t p,
                 int64_t r) {
  return {sourceRow(block, p, r), targetRow(even, p, r), targetRow(odd, p, r)};
}

/// The vectors of `width` outputs at the start of a row that both phases fill whole (or the even
/// one, when the odd one has no outputs): their loads need no mask worked out.
inline int64_t wholeVectors(const RowTarget& even, const RowTarget& odd, int64_t width) {
  return (odd.count == 0 ? even.count : std::min(even.count, odd.count)) / width;
}

/// The rest of a row from output j on, one element at a time.
inline void splitScalarFrom(int64_t j, const float* source, float* even, int64_t evenCount,
                            float* odd, int64_t oddCount) {
  for (int64_t i = j; i < evenCount; ++i)
    even[i] = source[2 * i];
  for (int64_t i = j; i < oddCount; ++i)
    odd[i] = source[2 * i + 1];
}

void splitScalar(const RowBlock block, const RowTarget even, const RowTarget odd) {
  for (int64_t p = 0; p < block.planes; ++p)
    for (int64_t r = 0; r < block.rows; ++r) {
      Row row = rowAt(block, even, odd, p, r);
      splitScalarFrom(0, row.source, row.even, even.count, row.odd, odd.count);
    }
}

/// The first n lanes (none for n <= 0).
inline __mmask16 lanes(int64_t n) {
  return static_cast<__mmask16>(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1);
}

// The vector implementations take their arguments by value: a vector store may alias anything
// (the intrinsics' types are may_alias), so fields read through references would be read again
// after every store.

__attribute__((target("avx512f"))) void splitAvx512(const RowBlock block, const RowTarget even,
                                                    const RowTarget odd) {
  const __m512i evens =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const int64_t longer = std::max(even.count, odd.count);
  // A whole vector of outputs reads 32 floats, or 31 when there are no odd outputs.
  const int64_t whole = wholeVectors(even, odd, 16);
  const __mmask16 wholeHigh = odd.count == 0 ? 0x7fff : 0xffff;
  for (int64_t p = 0; p < block.planes; ++p)
    for (int64_t r = 0; r < block.rows; ++r) {
      auto [source, evenRow, oddRow] = rowAt(block, even, odd, p, r);
      int64_t j = 0;
      for (; j < 16 * whole; j += 16) {
        __m512 low = _mm512_loadu_ps(source + 2 * j);
        __m512 high = _mm512_maskz_loadu_ps(wholeHigh, source + 2 * j + 16);
        _mm512_storeu_ps(evenRow + j, _mm512_permutex2var_ps(low, evens, high));
        if (odd.count)
          _mm512_storeu_ps(oddRow + j, _mm512_permutex2var_ps(low, odds, high));
      }
      // The rest: each phase's lanes, and the floats they read.
      for (; j < longer; j += 16) {
        int64_t evenLanes = std::clamp<int64_t>(even.count - j, 0, 16);
        int64_t oddLanes = std::clamp<int64_t>(odd.count - j, 0, 16);
        int64_t read = std::max(evenLanes > 0 ? 2 * evenLanes - 1 : 0, 2 * oddLanes);
        __m512 low = _mm512_maskz_loadu_ps(lanes(read), source + 2 * j);
        __m512 high = _mm512_maskz_loadu_ps(lanes(read - 16), source + 2 * j + 16);
        if (evenLanes > 0)
          _mm512_mask_storeu_ps(evenRow + j, lanes(evenLanes),
                                _mm512_permutex2var_ps(low, evens, high));
        if (oddLanes > 0)
          _mm512_mask_storeu_ps(oddRow + j, lanes(oddLanes),
                                _mm512_permutex2var_ps(low, odds, high));
      }
    }
}

__attribute__((target("avx2"))) void splitAvx2(const RowBlock block, const RowTarget even,
                                               const RowTarget odd) {
  // 8 outputs of each phase read 16 floats, or 15 when there are no odd outputs.
  const __m256i firstSeven = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, -1, 0);
  const __m256i all = _mm256_set1_epi32(-1);
  const int64_t whole = wholeVectors(even, odd, 8);
  const __m256i wholeHigh = odd.count == 0 ? firstSeven : all;
  for (int64_t p = 0; p < block.planes; ++p)
    for (int64_t r = 0; r < block.rows; ++r) {
      auto [source, evenRow, oddRow] = rowAt(block, even, odd, p, r);
      int64_t j = 0;
      for (; j < 8 * whole; j += 8) {
        __m256 low = _mm256_loadu_ps(source + 2 * j);
        __m256 high = _mm256_maskload_ps(source + 2 * j + 8, wholeHigh);
        // [l0 l2 h0 h2 | l4 l6 h4 h6], then the middle quarters swapped; the same for the odds.
        __m256d evens = _mm256_castps_pd(_mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0)));
        _mm256_storeu_ps(evenRow + j,
                         _mm256_castpd_ps(_mm256_permute4x64_pd(evens, _MM_SHUFFLE(3, 1, 2, 0))));
        if (odd.count) {
          __m256d odds = _mm256_castps_pd(_mm256_shuffle_ps(low, high, _MM_SHUFFLE(3, 1, 3, 1)));
          _mm256_storeu_ps(oddRow + j,
                           _mm256_castpd_ps(_mm256_permute4x64_pd(odds, _MM_SHUFFLE(3, 1, 2, 0))));
        }
      }
      splitScalarFrom(j, source, evenRow, even.count, oddRow, odd.count);
    }
}

constexpr ByLevel<Split> kSplit{&splitScalar, &splitAvx2, &splitAvx512};

/// The widest implementation this CPU runs.
Split split() {
  static const Split chosen = kSplit.widest();
  return chosen;
}

bool noRows(const RowBlock& block) {
  return block.planes <= 0 || block.rows <= 0;
}

} // namespace

void copyStridedRows(const RowBlock& block, int64_t stride, const RowTarget& target) {
  if (noRows(block) || target.count <= 0)
    return;
  if (stride == 2)
    return split()(block, target, RowTarget{});
  for (int64_t p = 0; p < block.planes; ++p)
    for (int64_t r = 0; r < block.rows; ++r) {
      const float* source = sourceRow(block, p, r);
      float* out = targetRow(target, p, r);
      if (stride == 1) {
        std::memcpy(out, source, static_cast<size_t>(target.count) * sizeof(float));
      } else {
        for (int64_t j = 0; j < target.count; ++j)
          out[j] = source[j * stride];
      }
    }
}

namespace {

/// `fn` on the block, with the phase that has outputs as its even one: the implementations
/// need one.
void splitWith(Split fn, const RowBlock& block, const RowTarget& even, const RowTarget& odd) {
  if (noRows(block) || (even.count <= 0 && odd.count <= 0))
    return;
  if (even.count <= 0)
    return fn(
        RowBlock{block.source + 1, block.planePitch, block.rowPitch, block.planes, block.rows}, odd,
        RowTarget{});
  fn(block, even, odd.count > 0 ? odd : RowTarget{});
}

} // namespace

void splitEvenOddRows(const RowBlock& block, const RowTarget& even, const RowTarget& odd) {
  splitWith(split(), block, even, odd);
}

bool splitEvenOddRowsAt(VectorLevel level, const RowBlock& block, const RowTarget& even,
                        const RowTarget& odd) {
  Split chosen = kSplit.at(level);
  if (!chosen)
    return false;
  splitWith(chosen, block, even, odd);
  return true;
}

} // namespace nnc::runtime
