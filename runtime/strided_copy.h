// Copying every stride-th float of a block of rows: how a strided convolution's input is split
// into phases for the GEMM.
#pragma once

#include "runtime/vector_level.h"

#include <cstdint>

namespace nnc::runtime {

/// out[r·outPitch + j] = source[r·sourcePitch + j·stride] for r < rows and j < count. Reads
/// nothing past the last element it copies. Stride 1 is a copy per row; stride 2 (every
/// convolution with stride 2) runs on AVX-512 or AVX2 where the CPU has them (the two loads and
/// one permute per vector of outputs that a compiler does not find for this baseline build);
/// other strides go element by element.
void copyStridedRows(const float* source, int64_t sourcePitch, int64_t stride, int64_t rows,
                     int64_t count, float* out, int64_t outPitch);

/// The stride-2 copies one by one, for tests: false (and nothing copied) when this CPU cannot run
/// `level`'s.
bool copyEveryOtherRows(VectorLevel level, const float* source, int64_t sourcePitch, int64_t rows,
                        int64_t count, float* out, int64_t outPitch);

} // namespace nnc::runtime
