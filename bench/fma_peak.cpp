// Compiled with -march=native (bench/CMakeLists.txt): the widest vectors of this machine.
#include "bench/fma_peak.h"

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace nnc::bench {

namespace {

/// Independent accumulators: more than the FMA latency times the FMA ports of current cores
/// (4 cycles x 2 ports), so the chains never wait on each other.
constexpr int kChains = 12;
/// Multiply-adds per chain per call: ~0.1 ms per call, so the clock is read rarely.
constexpr long kIterations = 1 << 14;

#if defined(__AVX512F__)
constexpr int kFloats = 16;
constexpr const char* kInstructions = "_mm512_fmadd_ps";
using Vec = __m512;
inline Vec splat(float v) {
  return _mm512_set1_ps(v);
}
inline Vec multiplyAdd(Vec acc, Vec a, Vec b) {
  return _mm512_fmadd_ps(acc, a, b);
}
inline Vec add(Vec x, Vec y) {
  return _mm512_add_ps(x, y);
}
inline float lane0(Vec v) {
  return _mm512_cvtss_f32(v);
}
#elif defined(__FMA__)
constexpr int kFloats = 8;
constexpr const char* kInstructions = "_mm256_fmadd_ps";
using Vec = __m256;
inline Vec splat(float v) {
  return _mm256_set1_ps(v);
}
inline Vec multiplyAdd(Vec acc, Vec a, Vec b) {
  return _mm256_fmadd_ps(acc, a, b);
}
inline Vec add(Vec x, Vec y) {
  return _mm256_add_ps(x, y);
}
inline float lane0(Vec v) {
  return _mm256_cvtss_f32(v);
}
#else
constexpr int kFloats = 4;
constexpr const char* kInstructions = "_mm_mul_ps + _mm_add_ps (no FMA)";
using Vec = __m128;
inline Vec splat(float v) {
  return _mm_set1_ps(v);
}
inline Vec multiplyAdd(Vec acc, Vec a, Vec b) {
  return _mm_add_ps(_mm_mul_ps(acc, a), b);
}
inline Vec add(Vec x, Vec y) {
  return _mm_add_ps(x, y);
}
inline float lane0(Vec v) {
  return _mm_cvtss_f32(v);
}
#endif

/// kIterations rounds of acc = acc·a + b on each chain. With a < 1 the values converge to
/// b / (1 - a) and stay normal. Returns a value that depends on every chain.
// noipa: the result depends on a and b only, so GCC would otherwise call it once for a whole
// timing loop.
[[gnu::noipa]] float runChains(float a, float b) {
  Vec va = splat(a), vb = splat(b);
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = splat(static_cast<float>(c));
  for (long i = 0; i < kIterations; ++i) {
#pragma GCC unroll 16
    for (int c = 0; c < kChains; ++c)
      acc[c] = multiplyAdd(acc[c], va, vb);
  }
  Vec sum = acc[0];
  for (int c = 1; c < kChains; ++c)
    sum = add(sum, acc[c]);
  return lane0(sum);
}

// Read at run time so that the compiler cannot fold the chains; the results land in the sink.
volatile float gMultiplier = 0.999f;
volatile float gAddend = 0.001f;
std::atomic<float> gSink{0};

/// GFLOP/s of one thread: a warm-up (the vector units power up and the clock settles), then
/// calls of runChains for `seconds`.
double timeOneThread(double seconds) {
  using Clock = std::chrono::steady_clock;
  float a = gMultiplier, b = gAddend, sink = 0;
  auto warmUpEnd = Clock::now() + std::chrono::milliseconds(50);
  while (Clock::now() < warmUpEnd)
    sink += runChains(a, b);
  long calls = 0;
  auto start = Clock::now();
  double elapsed = 0;
  do {
    sink += runChains(a, b);
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  gSink.store(gSink.load(std::memory_order_relaxed) + sink, std::memory_order_relaxed);
  double flops =
      2.0 * kFloats * kChains * static_cast<double>(kIterations) * static_cast<double>(calls);
  return flops / elapsed * 1e-9;
}

} // namespace

FmaPeak measureFmaPeak(int threads, double seconds) {
  FmaPeak peak;
  peak.vectorFloats = kFloats;
  peak.instructions = kInstructions;
  peak.perThread.assign(static_cast<size_t>(threads < 1 ? 1 : threads), 0);
  // Every thread starts its warm-up once all exist, so that the timed parts overlap.
  std::atomic<int> waiting{static_cast<int>(peak.perThread.size())};
  auto body = [&](size_t index) {
    waiting.fetch_sub(1);
    while (waiting.load() > 0)
      std::this_thread::yield();
    peak.perThread[index] = timeOneThread(seconds);
  };
  std::vector<std::thread> others;
  for (size_t t = 1; t < peak.perThread.size(); ++t)
    others.emplace_back(body, t);
  body(0);
  for (std::thread& thread : others)
    thread.join();
  for (double g : peak.perThread)
    peak.gflops += g;
  return peak;
}

} // namespace nnc::bench
