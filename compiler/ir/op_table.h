// The op table: the single source of truth for operator names, signatures, traits and shape rules.
#pragma once

#include "compiler/ir/attributes.h"
#include "compiler/ir/types.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nnc::ir {

enum class OpKind : uint8_t {
#define NNC_OP(kind, name) kind,
#include "compiler/ir/ops.def"
};

inline constexpr size_t kNumOps = 0
#define NNC_OP(kind, name) +1
#include "compiler/ir/ops.def"
    ;

/// Properties that passes query instead of naming operators.
enum Trait : uint32_t {
  kElementwise = 1u << 0,         ///< output element i depends only on input element(s) i
  kActivation = 1u << 1,          ///< a unary activation function (the reference's second table)
  kIdempotent = 1u << 2,          ///< f(f(x)) == f(x)
  kHasParams = 1u << 3,           ///< has weights loaded from the weight file
  kBroadcast = 1u << 4,           ///< binary, NumPy broadcasting of its operands
  kCommutative = 1u << 5,         ///< operands may be swapped
  kIdentityAtInference = 1u << 6, ///< returns its input unchanged when running a model
  kCheap = 1u << 7,               ///< a few instructions per element: free in a fused epilogue
};

/// When an elementwise function is monotonic non-decreasing (it then commutes with max-pooling).
enum class Monotonicity {
  Never,
  Always,
  IfAlphaNonNegative,  ///< when its `alpha` attribute is >= 0
  IfBetaPositive,      ///< when its `beta` attribute is > 0
  IfWeightNonNegative, ///< when its weight (a slope) is >= 0, known once weights are loaded
};

/// One argument of an operator's signature.
struct ArgSpec {
  std::string_view name;
  ArgKind kind = ArgKind::Tensor;
  std::optional<AttrValue> defaultValue; ///< none and no `defaultFrom`: the argument is required
  std::string_view defaultFrom;          ///< default is the value of this other argument
  std::vector<std::string_view> choices; ///< for ArgKind::String: the accepted values

  bool isTensor() const { return kind == ArgKind::Tensor || kind == ArgKind::Tensors; }
  bool isRequired() const { return !defaultValue && defaultFrom.empty(); }
};

struct OpInfo;

/// What shape inference sees: operand types and resolved attributes of one node.
class InferContext {
public:
  InferContext(const OpInfo& op, std::span<const TensorType> operands,
               const std::vector<AttrValue>& attrs)
      : op_(op), operands_(operands), attrs_(attrs) {}

  const OpInfo& op() const { return op_; }
  std::span<const TensorType> operands() const { return operands_; }
  const TensorType& operand(size_t i) const { return operands_[i]; }
  const AttrValue& attr(std::string_view name) const;
  int64_t intAttr(std::string_view name) const { return std::get<int64_t>(attr(name)); }
  double floatAttr(std::string_view name) const { return std::get<double>(attr(name)); }
  bool boolAttr(std::string_view name) const { return std::get<bool>(attr(name)); }
  std::vector<int64_t> pairAttr(std::string_view name) const {
    return std::get<std::vector<int64_t>>(attr(name));
  }

private:
  const OpInfo& op_;
  std::span<const TensorType> operands_;
  const std::vector<AttrValue>& attrs_;
};

/// A shape error. It points at operand `operand` when that is set, else at argument `argName`,
/// else at the call itself.
struct InferError {
  std::string message;
  std::string_view argName;
  int operand = -1;
};

/// The result type of a node and the shapes of its weights.
struct Inferred {
  TensorType type;
  std::vector<std::pair<std::string_view, Shape>> params; ///< role ("weight") and shape
};

using InferOutcome = std::variant<Inferred, InferError>;
using InferFn = InferOutcome (*)(const InferContext&);

/// Everything the compiler knows about one operator.
struct OpInfo {
  OpKind kind;
  std::string_view name;
  std::vector<ArgSpec> args;            ///< in positional order
  std::vector<std::string_view> params; ///< weight roles, in order ("weight", "bias", ...)
  uint32_t traits = 0;
  Monotonicity monotonicity = Monotonicity::Never;
  InferFn infer = nullptr;
  std::string_view summary; ///< one line, for help and docs

  bool has(Trait trait) const { return (traits & trait) != 0; }
  /// The non-tensor arguments, which a node stores as its attributes, in order.
  std::vector<const ArgSpec*> attrSpecs() const;
  /// Index of an attribute among attrSpecs(), or -1.
  int attrIndex(std::string_view name) const;
  /// "dense(x, units, bias=true)"
  std::string signature() const;
};

const OpInfo& opInfo(OpKind kind);
/// The operator with this name, or nullptr.
const OpInfo* findOp(std::string_view name);
std::span<const OpInfo> allOps();
std::vector<std::string> opNames();

} // namespace nnc::ir
