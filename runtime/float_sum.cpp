#include "runtime/float_sum.h"

#include <immintrin.h>

namespace nnc::runtime {

namespace {

constexpr int kPartials = 16;

using Sum = double (*)(const float*, int64_t);

/// The partials in order, then the elements from `i` on.
double finish(const double* partial, const float* v, int64_t i, int64_t n) {
  double sum = 0;
  for (int j = 0; j < kPartials; ++j)
    sum += partial[j];
  for (; i < n; ++i)
    sum += v[i];
  return sum;
}

double sumScalar(const float* v, int64_t n) {
  double partial[kPartials] = {};
  int64_t i = 0;
  for (; i + kPartials <= n; i += kPartials)
    for (int j = 0; j < kPartials; ++j)
      partial[j] += v[i + j];
  return finish(partial, v, i, n);
}

__attribute__((target("avx512f"))) double sumAvx512(const float* v, int64_t n) {
  // Partials 0-7 and 8-15: each add is one step of eight of the scalar loop's chains.
  __m512d low = _mm512_setzero_pd(), high = _mm512_setzero_pd();
  int64_t i = 0;
  for (; i + kPartials <= n; i += kPartials) {
    low = _mm512_add_pd(low, _mm512_cvtps_pd(_mm256_loadu_ps(v + i)));
    high = _mm512_add_pd(high, _mm512_cvtps_pd(_mm256_loadu_ps(v + i + 8)));
  }
  alignas(64) double partial[kPartials];
  _mm512_store_pd(partial, low);
  _mm512_store_pd(partial + 8, high);
  return finish(partial, v, i, n);
}

__attribute__((target("avx2"))) double sumAvx2(const float* v, int64_t n) {
  __m256d parts[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(),
                      _mm256_setzero_pd()};
  int64_t i = 0;
  for (; i + kPartials <= n; i += kPartials)
    for (int q = 0; q < 4; ++q)
      parts[q] = _mm256_add_pd(parts[q], _mm256_cvtps_pd(_mm_loadu_ps(v + i + 4 * q)));
  alignas(32) double partial[kPartials];
  for (int q = 0; q < 4; ++q)
    _mm256_store_pd(partial + 4 * q, parts[q]);
  return finish(partial, v, i, n);
}

constexpr ByLevel<Sum> kSum{&sumScalar, &sumAvx2, &sumAvx512};

} // namespace

double sumInDouble(const float* v, int64_t n) {
  static const Sum chosen = kSum.widest();
  return chosen(v, n);
}

bool sumInDoubleAt(VectorLevel level, const float* v, int64_t n, double& sum) {
  Sum implementationHere = kSum.at(level);
  if (!implementationHere)
    return false;
  sum = implementationHere(v, n);
  return true;
}

} // namespace nnc::runtime
