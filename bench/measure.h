// Timing and checking for the GEMM benchmark's tables: median times per call, rates against the
// measured peak, and how far two outputs differ.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace nnc::bench {

/// A timed sample is at least this long: short calls are repeated within a sample, so that the
/// clock's cost and jitter do not count.
inline constexpr double kMinSampleSeconds = 100e-6;
/// Each side runs untimed for at least this long first (caches, page faults, clocks).
inline constexpr double kWarmUpSeconds = 0.02;

/// `n` floats uniform in [-scale, scale] from `seed`.
inline std::vector<float> randomFloats(size_t n, unsigned seed, float scale = 1) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v)
    x = uniform(random);
  return v;
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/// Microseconds per call of `run`: the median of `reps` samples, each the mean over enough calls
/// to last kMinSampleSeconds, after kWarmUpSeconds of untimed calls. Time one side whole before
/// the other: interleaving them would let oneDNN's spinning OpenMP threads take nnc's cores.
template <class Run> double microsecondsPerCall(const Run& run, int reps) {
  using Clock = std::chrono::steady_clock;
  auto secondsSince = [](Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
  };
  auto start = Clock::now();
  int64_t warmUpCalls = 0;
  while (warmUpCalls < 2 || secondsSince(start) < kWarmUpSeconds) {
    run();
    ++warmUpCalls;
  }
  double perCall = secondsSince(start) / static_cast<double>(warmUpCalls);
  int64_t calls =
      std::clamp<int64_t>(static_cast<int64_t>(std::ceil(kMinSampleSeconds / perCall)), 1, 100000);
  std::vector<double> samples;
  for (int r = 0; r < reps; ++r) {
    auto sampleStart = Clock::now();
    for (int64_t c = 0; c < calls; ++c)
      run();
    samples.push_back(secondsSince(sampleStart) / static_cast<double>(calls));
  }
  return median(samples) * 1e6;
}

/// The largest |got - want| over the largest |want| (absolute when want is all zeros); infinity
/// for a NaN or a size mismatch.
inline double maxRelativeDifference(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size())
    return INFINITY;
  double scale = 0, diff = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double d = std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (std::isnan(d))
      return INFINITY;
    diff = std::max(diff, d);
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

/// Times as rates: GFLOP/s, and percent of the measured peak.
struct Rates {
  double peakGflops;
  double gflops(double flops, double microseconds) const { return flops / microseconds * 1e-3; }
  double percent(double flops, double microseconds) const {
    return 100 * gflops(flops, microseconds) / peakGflops;
  }
};

} // namespace nnc::bench
