// The instruction sets the runtime's hand-vectorized routines are built for (the runtime itself
// is compiled for baseline x86-64), and whether this CPU runs one.
#pragma once

namespace nnc::runtime {

enum class VectorLevel { Scalar, Avx2, Avx512 };

/// Whether this CPU runs `level`'s routines (AVX-512 means AVX-512F).
bool cpuRuns(VectorLevel level);

} // namespace nnc::runtime
