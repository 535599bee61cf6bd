// The instruction sets the runtime's hand-vectorized routines are built for (the runtime itself
// is compiled for baseline x86-64), and whether this CPU runs one.
#pragma once

#include <initializer_list>

namespace nnc::runtime {

enum class VectorLevel { Scalar, Avx2, Avx512 };

/// Whether this CPU runs `level`'s routines (AVX-512 means AVX-512F).
bool cpuRuns(VectorLevel level);

/// A routine's implementations, one per level.
template <typename Fn> struct ByLevel {
  Fn scalar, avx2, avx512;

  /// `level`'s, or null when this CPU cannot run it.
  Fn at(VectorLevel level) const {
    if (!cpuRuns(level))
      return nullptr;
    switch (level) {
    case VectorLevel::Avx512:
      return avx512;
    case VectorLevel::Avx2:
      return avx2;
    case VectorLevel::Scalar:
      break;
    }
    return scalar;
  }
  /// The widest this CPU runs.
  Fn widest() const {
    for (VectorLevel level : {VectorLevel::Avx512, VectorLevel::Avx2})
      if (Fn fn = at(level))
        return fn;
    return scalar;
  }
};

} // namespace nnc::runtime
