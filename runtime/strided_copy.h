// Copying every stride-th float of a block of rows of several planes: how a strided
// convolution's input is split into phases for the GEMM.
#pragma once

#include "runtime/vector_level.h"

#include <cstdint>

namespace nnc::runtime {

/// Rows of several planes: row r of plane p starts at source + p·planePitch + r·rowPitch.
struct RowBlock {
  const float* source = nullptr;
  int64_t planePitch = 0, rowPitch = 0, planes = 0, rows = 0;
};

/// Where a block's copied rows go: row r of plane p at out + p·planePitch + r·rowPitch, count
/// floats each (none when count is 0).
struct RowTarget {
  float* out = nullptr;
  int64_t planePitch = 0, rowPitch = 0, count = 0;
};

/// target[j] = row[j·stride] for j < target.count, for every row of the block.
void copyStridedRows(const RowBlock& block, int64_t stride, const RowTarget& target);

/// Both column phases of stride 2 in one pass: even[j] = row[2j] for j < even.count and
/// odd[j] = row[2j + 1] for j < odd.count, for every row of the block (either count may be 0).
/// Reads nothing past the last element it copies. Runs on AVX-512 or AVX2 where the CPU has
/// them: two loads and a permute per vector of each phase, which a compiler does not find for
/// this baseline build, and one call for all the planes of an image.
void splitEvenOddRows(const RowBlock& block, const RowTarget& even, const RowTarget& odd);

/// splitEvenOddRows at one vector level, for tests: false (and nothing copied) when this CPU
/// cannot run `level`'s.
bool splitEvenOddRowsAt(VectorLevel level, const RowBlock& block, const RowTarget& even,
                        const RowTarget& odd);

} // namespace nnc::runtime
