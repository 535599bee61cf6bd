#include "grammar/parser.h"

#include "grammar/grammar_def.h"
#include "grammar/keywords.h"

#include <fmt/format.h>

namespace nnc {

namespace x3 = boost::spirit::x3;

namespace {

/// Skips white space and comments from `offset`, with the grammar's own skipper.
uint32_t skipBlanks(const std::string& text, uint32_t offset) {
  const char* it = text.data() + offset;
  const char* end = text.data() + text.size();
  x3::skip_over(it, end, x3::make_context<x3::skipper_tag>(grammar::skipper));
  return static_cast<uint32_t>(it - text.data());
}

bool isIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/// The token that starts at `offset`, for "found ..." in syntax errors.
SourceRange tokenAt(const std::string& text, uint32_t offset) {
  if (offset >= text.size())
    return {offset, 0};
  uint32_t end = offset;
  if (isIdentChar(text[end])) {
    while (end < text.size() && isIdentChar(text[end]))
      ++end;
  } else if (text.compare(offset, 2, "->") == 0) {
    end += 2;
  } else {
    ++end;
  }
  return {offset, end - offset};
}

std::string describeToken(const SourceFile& file, SourceRange token) {
  if (token.length == 0)
    return "end of file";
  std::string_view text = file.slice(token);
  unsigned char first = static_cast<unsigned char>(text[0]);
  if (first < 0x20 || first >= 0x7f)
    return fmt::format("character 0x{:02x}", first);
  return fmt::format("'{}'", text);
}

/// The offset of a non-ASCII byte at `offset` or right after the identifier there.
std::optional<uint32_t> nonAsciiAt(const std::string& text, uint32_t offset) {
  while (offset < text.size() && isIdentChar(text[offset]))
    ++offset;
  if (offset < text.size() && static_cast<unsigned char>(text[offset]) >= 0x80)
    return offset;
  return std::nullopt;
}

/// The brackets still open at `end` (innermost last), and where nesting first got deeper than
/// kMaxNesting. Strings and comments are skipped, as the grammar does.
struct BracketScan {
  std::vector<uint32_t> open;
  std::optional<uint32_t> tooDeep;
};

BracketScan scanBrackets(const std::string& text, uint32_t end) {
  BracketScan scan;
  bool inString = false;
  for (uint32_t i = 0; i < end && i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      inString = c != '"' && c != '\n';
    } else if (c == '"') {
      inString = true;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '(' || c == '[' || c == '{') {
      scan.open.push_back(i);
      if (scan.open.size() > static_cast<size_t>(kMaxNesting) && !scan.tooDeep)
        scan.tooDeep = i;
    } else if ((c == ')' || c == ']' || c == '}') && !scan.open.empty()) {
      scan.open.pop_back();
    }
  }
  return scan;
}

/// The innermost bracket left open before `offset`, if it is the one `closer` closes.
std::optional<uint32_t> unclosedOpener(const std::string& text, uint32_t offset, char closer) {
  std::vector<uint32_t> open = scanBrackets(text, offset).open;
  if (open.empty())
    return std::nullopt;
  char opener = text[open.back()];
  bool matches = (opener == '(' && closer == ')') || (opener == '[' && closer == ']') ||
                 (opener == '{' && closer == '}');
  return matches ? std::optional<uint32_t>(open.back()) : std::nullopt;
}

/// Turns X3's "expected WHICH at WHERE" into a diagnostic at the token there.
void reportExpectation(const SourceFile& file, std::string which, uint32_t where,
                       DiagnosticEngine& diagnostics) {
  const std::string& text = file.text();
  if (which == "'\"'") {
    // An unterminated string: the parser stopped at the end of its line.
    diagnostics.error({where, 0}, "missing '\"' at the end of the string; a string ends on the "
                                  "line it starts");
    return;
  }
  uint32_t offset = skipBlanks(text, where);
  SourceRange token = tokenAt(text, offset);
  if (std::optional<uint32_t> byte = nonAsciiAt(text, offset)) {
    diagnostics.error({*byte, 1}, fmt::format("unexpected non-ASCII character (byte 0x{:02x}); "
                                              "names use ASCII letters, digits and '_'",
                                              static_cast<unsigned char>(text[*byte])));
    return;
  }
  if (which == "',' or ')'" && where > 0 && text[where - 1] == '(')
    which = "an argument or ')'"; // nothing valid came after the '('
  std::string found = describeToken(file, token);
  std::string message = fmt::format("expected {}, found {}", which, found);
  if (which == "identifier" && isKeyword(file.slice(token)))
    message = fmt::format("expected identifier, found keyword {}; keywords cannot be names", found);
  SourceDiagnostic& d =
      diagnostics.error(token.length ? token : SourceRange{offset, 1}, std::move(message));
  // Like clang's "to match this '('": point at the bracket a missing closer would close.
  for (char closer : {')', ']', '}'})
    if (which.find(std::string{'\'', closer, '\''}) != std::string::npos)
      if (std::optional<uint32_t> opener = unclosedOpener(text, offset, closer))
        addNote(d, {*opener, 1}, fmt::format("to match this '{}'", text[*opener]));
}

} // namespace

std::optional<ast::File> parseFile(const SourceFile& file, DiagnosticEngine& diagnostics) {
  // The parser descends once per bracket: reject nesting that could exhaust the stack.
  if (std::optional<uint32_t> deep = scanBrackets(file.text(), UINT32_MAX).tooDeep) {
    diagnostics.error({*deep, 1}, fmt::format("nesting deeper than {} levels", kMaxNesting));
    return std::nullopt;
  }
  const std::string& text = file.text();
  const char* begin = text.data();
  const char* first = begin;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0)
    first += 3; // a UTF-8 byte order mark, as some editors write
  const char* last = begin + text.size();
  ast::File result;
  try {
    const auto parser = x3::with<grammar::source_begin_tag>(begin)[grammar::file];
    bool ok = x3::phrase_parse(first, last, parser, grammar::skipper, result.items);
    if (ok)
      return result;
    // `file` ends in an expectation, so a plain failure is not expected; report it anyway.
    diagnostics.error(tokenAt(text, skipBlanks(text, uint32_t(first - begin))), "syntax error");
  } catch (const x3::expectation_failure<const char*>& failure) {
    reportExpectation(file, failure.which(), static_cast<uint32_t>(failure.where() - begin),
                      diagnostics);
  }
  return std::nullopt;
}

SourceRange ast::rangeOf(const Value& value) {
  return boost::apply_visitor(
      [](const auto& node) -> SourceRange {
        using T = std::decay_t<decltype(node)>;
        if constexpr (std::is_same_v<T, x3::forward_ast<ast::List>> ||
                      std::is_same_v<T, x3::forward_ast<ast::Chain>>)
          return node.get().range;
        else
          return node.range;
      },
      value);
}

SourceRange ast::rangeOf(const Term& term) {
  return boost::apply_visitor([](const auto& node) { return node.range; }, term);
}

SourceRange ast::rangeOf(const Dim& dim) {
  return boost::apply_visitor([](const auto& node) { return node.range; }, dim);
}

} // namespace nnc
