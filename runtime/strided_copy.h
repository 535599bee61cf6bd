// Copying every stride-th float, fast for the strides convolutions use.
#pragma once

#include <cstdint>
#include <cstring>

namespace nnc::runtime {

/// out[j] = source[j·stride] for j < count. Strides 1 and 2 (every convolution with stride 2
/// splits its input so) are copies the compiler vectorizes; others go element by element.
inline void copyStrided(const float* source, int64_t stride, int64_t count, float* out) {
  if (count <= 0)
    return;
  if (stride == 1) {
    std::memcpy(out, source, static_cast<size_t>(count) * sizeof(float));
  } else if (stride == 2) {
    for (int64_t j = 0; j < count; ++j)
      out[j] = source[2 * j];
  } else {
    for (int64_t j = 0; j < count; ++j)
      out[j] = source[j * stride];
  }
}

} // namespace nnc::runtime
