// Attribute values of IR nodes and the kinds of arguments an operator accepts.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace nnc::ir {

/// How an operator argument is written and stored.
enum class ArgKind {
  Tensor,  ///< one tensor operand
  Tensors, ///< one or more tensor operands (takes every remaining positional argument)
  Int,     ///< integer
  Float,   ///< real number (an integer is accepted)
  Bool,    ///< true / false
  String,  ///< one of a fixed set of strings
  IntPair, ///< an integer or [h, w]; stored as {h, w}
  Padding, ///< an integer, [h, w], or "same"; stored as {h, w} or the string "same"
};

/// A resolved attribute: every default filled in, pairs expanded.
using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>>;

/// "512", "0.1", "true", "\"same\"", "[3, 3]"
std::string formatAttr(const AttrValue& value);

/// Whether a stored value has the representation `kind` requires (which strings are allowed
/// is the op table's `choices`).
bool attrMatchesKind(const AttrValue& value, ArgKind kind);

/// "an integer", "a number", ... for diagnostics.
const char* describeKind(ArgKind kind);

} // namespace nnc::ir
