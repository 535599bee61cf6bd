// Tensor types of the graph IR: f32 tensors whose dimensions are integers or symbols.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nnc::ir {

/// One dimension: a known size, or a symbol (such as the batch `N`) bound when the model runs.
class Dim {
public:
  Dim() = default;
  static Dim known(int64_t size) { return Dim(size, {}); }
  static Dim symbol(std::string name) { return Dim(0, std::move(name)); }

  bool isKnown() const { return symbol_.empty(); }
  bool isSymbol() const { return !symbol_.empty(); }
  /// The size; only for known dimensions.
  int64_t size() const { return size_; }
  const std::string& symbolName() const { return symbol_; }

  bool operator==(const Dim&) const = default;
  std::string str() const;

private:
  Dim(int64_t size, std::string symbol) : size_(size), symbol_(std::move(symbol)) {}
  int64_t size_ = 0;
  std::string symbol_;
};

using Shape = std::vector<Dim>;

/// Largest size of one dimension (and of any integer attribute). Keeping sizes below 2^31 keeps
/// every shape computation (a product of two sizes, a padded sum) far from int64 overflow.
inline constexpr int64_t kMaxDimSize = 2147483647;

/// "[N, 3, 32, 32]"
std::string formatShape(const Shape& shape);

/// A tensor type. The element type is always f32 in this version of the language.
struct TensorType {
  Shape shape;

  int rank() const { return static_cast<int>(shape.size()); }
  bool operator==(const TensorType&) const = default;
  /// "f32[N, 3, 32, 32]"
  std::string str() const;
};

/// Product of the known dimensions of a shape, or -1 when one is symbolic or it overflows.
int64_t knownElementCount(const Shape& shape);

} // namespace nnc::ir
