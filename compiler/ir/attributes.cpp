#include "compiler/ir/attributes.h"

#include <fmt/format.h>

namespace nnc::ir {

std::string formatAttr(const AttrValue& value) {
  struct Formatter {
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      std::string text = fmt::format("{}", v);
      // Keep reals recognizable as reals: 1 -> 1.0 (but not inf, nan or 1e+20).
      if (text.find_first_of(".eEn") == std::string::npos)
        text += ".0";
      return text;
    }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return "\"" + v + "\""; }
    std::string operator()(const std::vector<int64_t>& v) const {
      return fmt::format("[{}]", fmt::join(v, ", "));
    }
  };
  return std::visit(Formatter{}, value);
}

bool attrMatchesKind(const AttrValue& value, ArgKind kind) {
  switch (kind) {
  case ArgKind::Int:
    return std::holds_alternative<int64_t>(value);
  case ArgKind::Float:
    return std::holds_alternative<double>(value);
  case ArgKind::Bool:
    return std::holds_alternative<bool>(value);
  case ArgKind::String:
    return std::holds_alternative<std::string>(value);
  case ArgKind::IntPair:
    return std::holds_alternative<std::vector<int64_t>>(value) &&
           std::get<std::vector<int64_t>>(value).size() == 2;
  case ArgKind::Padding:
    return std::holds_alternative<std::string>(value) || attrMatchesKind(value, ArgKind::IntPair);
  case ArgKind::Tensor:
  case ArgKind::Tensors:
    return false;
  }
  return false;
}

const char* describeKind(ArgKind kind) {
  switch (kind) {
  case ArgKind::Tensor:
    return "a tensor value";
  case ArgKind::Tensors:
    return "tensor values";
  case ArgKind::Int:
    return "an integer";
  case ArgKind::Float:
    return "a number";
  case ArgKind::Bool:
    return "true or false";
  case ArgKind::String:
    return "a string";
  case ArgKind::IntPair:
    return "an integer or a list [h, w]";
  case ArgKind::Padding:
    return "an integer, a list [h, w] or \"same\"";
  }
  return "a value";
}

} // namespace nnc::ir
