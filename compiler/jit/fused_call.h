// Calling a fused elementwise kernel: the tensors its leaves read, bound to one run's shapes, and
// the split of the output into the runs one call covers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nnc::jit {

/// `void kernel(float* y, const float* const* leaves, int64_t n)`: see codegen/fused_kernel.h.
using FusedFn = void (*)(float* y, const float* const* leaves, int64_t n);

/// A leaf of a fused kernel as one run sees it: its data and its shape, which broadcasts to the
/// result's (aligned on the right).
struct LeafView {
  const float* data = nullptr;
  std::vector<int64_t> shape;
};

/// One fused kernel bound to the shapes and buffers of one run. The result's axes from `split` on
/// form the run that one kernel call covers: every leaf is either whole over them (a stream) or
/// constant over them (a scalar), as the kernel was compiled for (`scalar`).
class FusedCall {
public:
  FusedCall(FusedFn fn, const std::vector<int64_t>& resultShape, size_t split,
            const std::vector<LeafView>& leaves, const std::vector<bool>& scalar);

  /// y[offset, offset + count) of the result, one kernel call per run it touches.
  void apply(float* y, int64_t offset, int64_t count) const;
  /// apply() in the form runtime::Epilogue takes.
  static void applyTo(const void* self, float* y, int64_t offset, int64_t count);

private:
  struct Leaf {
    const float* data;
    std::vector<int64_t> outerStrides; ///< per outer axis; 0 where the leaf is broadcast
    bool scalar;
  };
  FusedFn fn_;
  std::vector<int64_t> outerDims_;
  int64_t inner_ = 1; ///< elements per run
  std::vector<Leaf> leaves_;
};

} // namespace nnc::jit
