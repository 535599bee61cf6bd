#include "runtime/tensor.h"

#include <limits>

namespace nnc::runtime {

int64_t Tensor::elementCount() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

std::optional<int64_t> checkedElementCount(const std::vector<int64_t>& shape) {
  constexpr int64_t kMaxFloats = std::numeric_limits<int64_t>::max() / sizeof(float);
  int64_t count = 1;
  for (int64_t size : shape)
    if (size < 0 || __builtin_mul_overflow(count, size, &count) || count > kMaxFloats)
      return std::nullopt;
  return count;
}

std::string formatShape(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

} // namespace nnc::runtime
