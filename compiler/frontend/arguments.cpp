#include "compiler/frontend/arguments.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace nnc {

std::vector<ParamSlot> paramSlots(const ir::OpInfo& op) {
  std::vector<ParamSlot> slots;
  for (const ir::ArgSpec& arg : op.args)
    slots.push_back(ParamSlot{arg.name, arg.isRequired(), arg.kind == ir::ArgKind::Tensors});
  return slots;
}

static std::string slotList(const std::vector<ParamSlot>& params) {
  std::string out;
  for (const ParamSlot& p : params)
    out += (out.empty() ? "" : ", ") + std::string(p.name) + (p.variadic ? "..." : "");
  return out;
}

std::optional<BoundArgs> bindArguments(const ast::Identifier& callee,
                                       const std::vector<ParamSlot>& params,
                                       const std::vector<ast::Arg>& args, bool piped,
                                       const ErrorSink& error) {
  BoundArgs bound;
  bound.slots.resize(params.size());
  bool ok = true;
  size_t next = 0; // next positional slot
  auto placePositional = [&](ArgSource source) {
    while (next < params.size() && !params[next].variadic && !bound.slots[next].empty())
      ++next;
    if (next >= params.size()) {
      size_t given = piped;
      for (const ast::Arg& arg : args)
        given += !arg.key;
      error(source.range, fmt::format("too many arguments: '{}' takes {} ({}), got {}{}",
                                      callee.name, params.size(), slotList(params), given,
                                      piped ? " counting the value piped in by '->'" : ""));
      ok = false;
      return;
    }
    bound.slots[next].push_back(source);
    if (!params[next].variadic)
      ++next;
  };
  if (piped)
    placePositional(ArgSource{nullptr, callee.range});
  const ast::Arg* firstKeyword = nullptr;
  for (const ast::Arg& arg : args) {
    if (!ok)
      break;
    SourceRange range = arg.range;
    if (!arg.key) {
      if (firstKeyword) {
        SourceDiagnostic& d = error(range, "positional argument after a keyword argument");
        addNote(d, firstKeyword->range, "first keyword argument is here");
        ok = false;
        break;
      }
      placePositional(ArgSource{&arg.value, ast::rangeOf(arg.value)});
      continue;
    }
    if (!firstKeyword)
      firstKeyword = &arg;
    const std::string& key = arg.key->name;
    auto slot = std::find_if(params.begin(), params.end(),
                             [&](const ParamSlot& p) { return p.name == key; });
    if (slot == params.end()) {
      // Suggest among the arguments not given yet: those are the ones the user can mean.
      std::vector<std::string> names;
      for (size_t i = 0; i < params.size(); ++i)
        if (bound.slots[i].empty())
          names.emplace_back(params[i].name);
      error(arg.key->range, fmt::format("'{}' has no argument named '{}'{}", callee.name, key,
                                        didYouMean(key, names)));
      ok = false;
      continue;
    }
    auto index = static_cast<size_t>(slot - params.begin());
    if (!bound.slots[index].empty()) {
      SourceDiagnostic& d = error(arg.key->range, fmt::format("argument '{}' is given twice", key));
      addNote(d, bound.slots[index].front().range, "first given here");
      ok = false;
      continue;
    }
    bound.slots[index].push_back(ArgSource{&arg.value, ast::rangeOf(arg.value)});
  }
  if (!ok)
    return std::nullopt;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].required && bound.slots[i].empty()) {
      error(callee.range, fmt::format("'{}' is missing its argument '{}'; it takes ({})",
                                      callee.name, params[i].name, slotList(params)));
      ok = false;
    }
  }
  if (!ok)
    return std::nullopt;
  return bound;
}

bool isIntegerText(std::string_view text) {
  return text.find_first_of(".eE") == std::string_view::npos;
}

std::optional<int64_t> parseInteger(std::string_view text) {
  if (!isIntegerText(text))
    return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::optional<double> parseReal(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  size_t exponent = text.find_first_of("eE");
  if (ec == std::errc::result_out_of_range && exponent != std::string_view::npos &&
      text.find('-', exponent) != std::string_view::npos)
    return text.front() == '-' ? -0.0 : 0.0; // underflow: 1e-400 is 0, as in C and Python
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

namespace {

std::string describeLiteral(const ast::Value& value) {
  if (auto* number = boost::get<ast::Number>(&value))
    return number->text;
  if (auto* string = boost::get<ast::String>(&value))
    return fmt::format("\"{}\"", string->text);
  if (auto* boolean = boost::get<ast::Boolean>(&value))
    return boolean->value ? "true" : "false";
  if (const ast::List* list = ast::asList(value))
    return fmt::format("a list of {} item{}", list->items.size(),
                       list->items.size() == 1 ? "" : "s");
  return "a tensor value";
}

class AttrConverter {
public:
  AttrConverter(const ir::ArgSpec& spec, std::string_view callee, const Resolver& resolve,
                const ErrorSink& error)
      : spec_(spec), callee_(callee), resolve_(resolve), error_(error) {}

  std::optional<ir::AttrValue> convert(const ast::Value& written) {
    written_ = &written;
    const ast::Value* value = literal(written);
    if (!value)
      return std::nullopt;
    top_ = value;
    switch (spec_.kind) {
    case ir::ArgKind::Int:
      if (auto v = integer(*value))
        return ir::AttrValue(*v);
      return std::nullopt;
    case ir::ArgKind::Float:
      return real(*value);
    case ir::ArgKind::Bool:
      if (auto* boolean = boost::get<ast::Boolean>(value))
        return ir::AttrValue(boolean->value);
      return mismatch(*value);
    case ir::ArgKind::String:
      return choice(*value);
    case ir::ArgKind::IntPair:
      return pair(*value);
    case ir::ArgKind::Padding:
      if (boost::get<ast::String>(value))
        return choice(*value);
      return pair(*value);
    case ir::ArgKind::Tensor:
    case ir::ArgKind::Tensors:
      break;
    }
    return std::nullopt;
  }

private:
  /// Reports a problem with literal `at`. When the argument named a block parameter bound to
  /// that literal, the error is at the use and a note shows the literal.
  void report(const ast::Value& at, std::string message) {
    if (&at != top_ || top_ == written_) {
      error_(ast::rangeOf(at), std::move(message));
      return;
    }
    SourceDiagnostic& d = error_(ast::rangeOf(*written_), std::move(message));
    addNote(
        d, ast::rangeOf(at),
        fmt::format("'{}' is bound to {} here", diagnosticText(*written_), describeLiteral(at)));
  }

  /// The name a chain argument is written as (for notes).
  static std::string diagnosticText(const ast::Value& value) {
    const ast::Chain* chain = ast::asChain(value);
    auto* name = chain ? boost::get<ast::Identifier>(&chain->head) : nullptr;
    return name ? name->name : std::string("the argument");
  }

  /// The literal a value denotes, or nullptr after reporting a tensor where a literal belongs.
  const ast::Value* literal(const ast::Value& written) {
    Resolved resolved = resolve_(written);
    if (resolved.kind == Resolved::Literal)
      return resolved.literal;
    if (resolved.kind == Resolved::Tensor)
      error_(ast::rangeOf(written), fmt::format("argument '{}' of '{}' expects {}, not a tensor "
                                                "value",
                                                spec_.name, callee_, ir::describeKind(spec_.kind)));
    return nullptr;
  }

  std::nullopt_t mismatch(const ast::Value& value) {
    report(value, fmt::format("argument '{}' of '{}' expects {}, got {}", spec_.name, callee_,
                              ir::describeKind(spec_.kind), describeLiteral(value)));
    return std::nullopt;
  }

  std::optional<int64_t> integer(const ast::Value& value) {
    auto* number = boost::get<ast::Number>(&value);
    if (!number || !isIntegerText(number->text)) {
      report(value, fmt::format("argument '{}' of '{}' expects an integer, got {}", spec_.name,
                                callee_, describeLiteral(value)));
      return std::nullopt;
    }
    std::optional<int64_t> parsed = parseInteger(number->text);
    if (!parsed || *parsed > kMaxInteger || *parsed < -kMaxInteger) {
      report(value, fmt::format("integer {} is too large; integers are at most {} in magnitude",
                                number->text, kMaxInteger));
      return std::nullopt;
    }
    return parsed;
  }

  std::optional<ir::AttrValue> real(const ast::Value& value) {
    auto* number = boost::get<ast::Number>(&value);
    if (!number)
      return mismatch(value);
    std::optional<double> parsed = parseReal(number->text);
    if (!parsed) {
      report(value, fmt::format("number {} is out of range", number->text));
      return std::nullopt;
    }
    // The kernels compute in f32, as PyTorch does, which refuses such a scalar too. A bound
    // (clamp's and hard_tanh's min and max) is only compared with, so beyond f32 it bounds
    // nothing, which the activation algebra uses.
    auto single = static_cast<float>(*parsed);
    bool bound = spec_.name == "min" || spec_.name == "max";
    if (!bound && (std::isinf(single) || (single == 0 && *parsed != 0))) {
      report(value, fmt::format("number {} is outside the range of f32 ({} to {} in magnitude)",
                                number->text, std::numeric_limits<float>::denorm_min(),
                                std::numeric_limits<float>::max()));
      return std::nullopt;
    }
    return ir::AttrValue(*parsed);
  }

  std::optional<ir::AttrValue> choice(const ast::Value& value) {
    auto* string = boost::get<ast::String>(&value);
    if (!string)
      return mismatch(value);
    std::vector<std::string> names(spec_.choices.begin(), spec_.choices.end());
    for (const std::string& name : names)
      if (name == string->text)
        return ir::AttrValue(name);
    std::string quoted;
    for (const std::string& name : names)
      quoted += (quoted.empty() ? "\"" : ", \"") + name + "\"";
    std::string nearest = nearestName(string->text, names);
    std::string hint = nearest.empty() ? "" : fmt::format("; did you mean \"{}\"?", nearest);
    if (spec_.kind == ir::ArgKind::Padding && nearest.empty())
      hint = "; for no padding write pad=0";
    std::string expected = spec_.kind == ir::ArgKind::Padding ? ir::describeKind(spec_.kind)
                           : names.size() > 1                 ? "one of " + quoted
                                                              : quoted;
    report(value, fmt::format("argument '{}' of '{}' must be {}, got \"{}\"{}", spec_.name, callee_,
                              expected, string->text, hint));
    return std::nullopt;
  }

  std::optional<ir::AttrValue> pair(const ast::Value& value) {
    if (boost::get<ast::Number>(&value)) {
      if (auto v = integer(value))
        return ir::AttrValue(std::vector<int64_t>{*v, *v});
      return std::nullopt;
    }
    const ast::List* list = ast::asList(value);
    if (!list || list->items.size() != 2)
      return mismatch(value);
    std::vector<int64_t> out;
    for (const ast::Value& item : list->items) {
      const ast::Value* resolved = literal(item);
      if (!resolved)
        return std::nullopt;
      std::optional<int64_t> v = integer(*resolved);
      if (!v)
        return std::nullopt;
      out.push_back(*v);
    }
    return ir::AttrValue(std::move(out));
  }

  const ir::ArgSpec& spec_;
  std::string_view callee_;
  const ast::Value* written_ = nullptr; ///< the argument as written
  const ast::Value* top_ = nullptr;     ///< the literal it denotes
  const Resolver& resolve_;
  const ErrorSink& error_;
};

} // namespace

std::optional<ir::AttrValue> convertAttr(const ast::Value& value, const ir::ArgSpec& spec,
                                         std::string_view callee, const Resolver& resolve,
                                         const ErrorSink& error) {
  return AttrConverter(spec, callee, resolve, error).convert(value);
}

} // namespace nnc
