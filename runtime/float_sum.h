// The sum of a run of floats in double precision (a global average pool's plane), on the widest
// vectors this CPU has.
#pragma once

#include "runtime/vector_level.h"

#include <cstdint>

namespace nnc::runtime {

/// Σ v[i] for i < n, in 16 interleaved double partial sums (partial j adds v[j], v[j + 16], ...
/// in order), then the partials in order, then the last n mod 16 elements one by one. Every
/// implementation follows that order, so the result is the same to the bit on every CPU.
double sumInDouble(const float* v, int64_t n);

/// The same with `level`'s implementation, for tests; false (and `sum` untouched) when this CPU
/// cannot run it.
bool sumInDoubleAt(VectorLevel level, const float* v, int64_t n, double& sum);

} // namespace nnc::runtime
