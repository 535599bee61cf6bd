// The machine's single-precision FMA peak, measured: chains of vector multiply-adds that depend
// on nothing but themselves, in the widest vectors this file is compiled for (-march=native).
#pragma once

#include <vector>

namespace nnc::bench {

struct FmaPeak {
  double gflops = 0;             ///< all threads together
  std::vector<double> perThread; ///< GFLOP/s of each thread
  int vectorFloats = 0;          ///< floats per multiply-add: 16 (AVX-512), 8 (AVX2) or 4
  const char* instructions = ""; ///< what the loop runs, e.g. "_mm512_fmadd_ps"
};

/// Runs the multiply-add loop on `threads` threads at once, each for about `seconds` after a
/// warm-up of its own, and counts 2 flops per float lane of each multiply-add.
FmaPeak measureFmaPeak(int threads, double seconds);

} // namespace nnc::bench
