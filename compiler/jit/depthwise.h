// Depthwise convolution (one input channel per group) through a generated per-layer kernel.
#pragma once

#include "compiler/codegen/depthwise_kernel.h"
#include "runtime/layers.h"
#include "runtime/thread_pool.h"

namespace nnc::jit {

/// `void kernel(const float* padded, const float* taps, float* y, float bias)`: see
/// codegen/depthwise_kernel.h.
using DepthwiseFn = void (*)(const float*, const float*, float*, float);

/// The kernel's static shape for a layer of geometry `g` (batch and channels aside) on `isa`.
codegen::DepthwiseShape depthwiseShape(const runtime::Conv2dGeometry& g,
                                       const codegen::TargetIsa& isa);

/// runtime::conv2d for one input channel per group, on `kernel` compiled for `shape`: each input
/// plane is copied into a zero-bordered plane, the kernel computes its output plane, and
/// `epilogue` runs on that plane. Parallel over planes.
void depthwiseConv(DepthwiseFn kernel, const codegen::DepthwiseShape& shape, const float* x,
                   const float* weight, const float* bias, float* y,
                   const runtime::Conv2dGeometry& g, runtime::Epilogue epilogue,
                   runtime::ThreadPool& pool);

} // namespace nnc::jit
