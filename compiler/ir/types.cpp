#include "compiler/ir/types.h"

#include <fmt/format.h>

#include <limits>

namespace nnc::ir {

std::string Dim::str() const {
  return isKnown() ? std::to_string(size_) : symbol_;
}

std::string formatShape(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + shape[i].str();
  return out + "]";
}

std::string TensorType::str() const {
  return "f32" + formatShape(shape);
}

int64_t knownElementCount(const Shape& shape) {
  int64_t count = 1;
  for (const Dim& dim : shape) {
    if (!dim.isKnown())
      return -1;
    if (dim.size() != 0 && count > std::numeric_limits<int64_t>::max() / dim.size())
      return -1;
    count *= dim.size();
  }
  return count;
}

} // namespace nnc::ir
