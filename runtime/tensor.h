// Host tensors of the runtime: f32, row-major, with their shape; and the runtime's user errors.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace nnc::runtime {

/// A dense f32 tensor in row-major (C) order.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  /// Elements the shape describes.
  int64_t elementCount() const;
};

/// "[2, 3, 4]"
std::string formatShape(const std::vector<int64_t>& shape);

/// The floats of `shape` when no size is negative and their bytes fit a signed 64-bit size;
/// otherwise nullopt (a count that would wrap around to something small). Every product of some
/// of its axes is then safe too. Inline: the front end checks known sizes with it as well.
inline std::optional<int64_t> checkedElementCount(const std::vector<int64_t>& shape) {
  constexpr int64_t kMaxFloats = std::numeric_limits<int64_t>::max() / sizeof(float);
  int64_t count = 1;
  for (int64_t size : shape)
    if (size < 0 || __builtin_mul_overflow(count, size, &count) || count > kMaxFloats)
      return std::nullopt;
  return count;
}

/// An error in what the user gave the runtime (a file, a shape); its message is one line.
class UserError : public std::runtime_error {
public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

} // namespace nnc::runtime
