// Binding call arguments to a callee's parameters, and turning literal arguments into attributes.
#pragma once

#include "compiler/ir/op_table.h"
#include "grammar/ast.h"
#include "grammar/diagnostics.h"

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace nnc {

/// Reports an error at a range and returns the diagnostic (to attach notes).
using ErrorSink = std::function<SourceDiagnostic&(SourceRange, std::string)>;

/// One parameter of an operator or block, as argument binding sees it.
struct ParamSlot {
  std::string_view name;
  bool required = true;
  bool variadic = false; ///< takes every remaining positional argument
};

/// The parameters of an operator's signature.
std::vector<ParamSlot> paramSlots(const ir::OpInfo& op);

/// Where an argument comes from: a written value, or (value == nullptr) the value piped in by
/// `->`, which is always the first positional argument.
struct ArgSource {
  const ast::Value* value = nullptr;
  SourceRange range;
};

/// The arguments of one call, per parameter slot (empty when the argument was not given).
struct BoundArgs {
  std::vector<std::vector<ArgSource>> slots;
};

/// Binds positional then keyword arguments to `params`. `piped` is the range of the callee when
/// a value is piped in. Reports arity, unknown, repeated and missing arguments.
std::optional<BoundArgs> bindArguments(const ast::Identifier& callee,
                                       const std::vector<ParamSlot>& params,
                                       const std::vector<ast::Arg>& args, bool piped,
                                       const ErrorSink& error);

/// What an argument value denotes once bare names are followed to their bindings.
struct Resolved {
  enum Kind { Literal, Tensor, Poisoned } kind = Poisoned;
  const ast::Value* literal = nullptr; ///< for Literal: the number, string, boolean or list
};
using Resolver = std::function<Resolved(const ast::Value&)>;

/// Converts a literal argument to the attribute `spec` describes, or reports why it cannot.
std::optional<ir::AttrValue> convertAttr(const ast::Value& value, const ir::ArgSpec& spec,
                                         std::string_view callee, const Resolver& resolve,
                                         const ErrorSink& error);

/// Largest magnitude of an integer attribute or dimension.
inline constexpr int64_t kMaxInteger = ir::kMaxDimSize;

/// Parses an integer literal; nullopt when the text is not an integer or does not fit.
std::optional<int64_t> parseInteger(std::string_view text);
/// Parses a number literal; nullopt when it is out of the range of double.
std::optional<double> parseReal(std::string_view text);
/// Whether a number is written as an integer (no fraction, no exponent).
bool isIntegerText(std::string_view text);

} // namespace nnc
