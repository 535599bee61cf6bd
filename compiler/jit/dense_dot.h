// A dense layer of a few units on its generated dot-product kernel (codegen/dot_kernel.h):
// the GEMM's register tile would compute a whole vector of units to keep a few.
#pragma once

#include "compiler/codegen/target.h"
#include "runtime/layers.h"
#include "runtime/thread_pool.h"

#include <cstdint>

namespace nnc::jit {

/// `void kernel(const float* x, int64_t rows, int64_t k, const float* w, const float* bias,
/// float* y)`: see codegen/dot_kernel.h.
using DotFn = void (*)(const float*, int64_t, int64_t, const float*, const float*, float*);

/// Units up to which a dense layer runs on the dot-product kernel (one vector of AVX-512).
inline constexpr int64_t kMaxDotUnits = 16;

/// Whether a dense layer of `units` runs on the dot-product kernel on `isa` (which needs masked
/// loads: not SSE).
inline bool runsAsDot(int64_t units, codegen::IsaKind isa) {
  return units <= kMaxDotUnits && isa != codegen::IsaKind::Sse;
}

/// runtime::dense on `kernel` (compiled for `units`): the weight read where it lies, [units, in];
/// `epilogue` on each block of rows. Parallel over blocks of rows.
void denseDot(DotFn kernel, const float* x, int64_t rows, int64_t in, const float* weight,
              const float* bias, int64_t units, float* y, runtime::Epilogue epilogue,
              runtime::ThreadPool& pool);

} // namespace nnc::jit
