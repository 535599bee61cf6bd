#include "grammar/parser.h"

#include "grammar/grammar_def.h"

#include <fmt/format.h>

namespace nnc {

namespace x3 = boost::spirit::x3;

namespace {

/// Skips white space and comments from `offset`, as the skipper would.
uint32_t skipBlanks(const std::string& text, uint32_t offset) {
  while (offset < text.size()) {
    char c = text[offset];
    if (c == '#') {
      while (offset < text.size() && text[offset] != '\n')
        ++offset;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      ++offset;
    } else {
      break;
    }
  }
  return offset;
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

bool isKeyword(std::string_view word) {
  for (const char* keyword :
       {"model", "block", "input", "output", "return", "true", "false", "f32"})
    if (word == keyword)
      return true;
  return false;
}

/// The innermost bracket left open before `offset`, if it is the one `closer` closes.
std::optional<uint32_t> unclosedOpener(const std::string& text, uint32_t offset, char closer) {
  std::vector<uint32_t> open;
  bool inString = false;
  for (uint32_t i = 0; i < offset && i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      inString = c != '"' && c != '\n';
    } else if (c == '"') {
      inString = true;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '(' || c == '[' || c == '{') {
      open.push_back(i);
    } else if ((c == ')' || c == ']' || c == '}') && !open.empty()) {
      open.pop_back();
    }
  }
  if (open.empty())
    return std::nullopt;
  char opener = text[open.back()];
  bool matches = (opener == '(' && closer == ')') || (opener == '[' && closer == ']') ||
                 (opener == '{' && closer == '}');
  return matches ? std::optional<uint32_t>(open.back()) : std::nullopt;
}

/// Rejects nesting deeper than kMaxNesting before the recursive-descent parser sees it.
bool checkNesting(const SourceFile& file, DiagnosticEngine& diagnostics) {
  const std::string& text = file.text();
  int depth = 0;
  bool inString = false;
  for (uint32_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      inString = c != '"' && c != '\n';
    } else if (c == '"') {
      inString = true;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n')
        ++i;
    } else if (c == '(' || c == '[') {
      if (++depth > kMaxNesting) {
        diagnostics.error({i, 1}, fmt::format("nesting deeper than {} levels", kMaxNesting));
        return false;
      }
    } else if ((c == ')' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

} // namespace

std::optional<ast::File> parseFile(const SourceFile& file, DiagnosticEngine& diagnostics) {
  if (!checkNesting(file, diagnostics))
    return std::nullopt;
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
    auto where = static_cast<uint32_t>(failure.where() - begin);
    if (failure.which() == "'\"'") {
      // An unterminated string: the parser stopped at the end of its line.
      diagnostics.error({where, 0}, "missing '\"' at the end of the string; a string ends on the "
                                    "line it starts");
      return std::nullopt;
    }
    uint32_t offset = skipBlanks(text, where);
    SourceRange token = tokenAt(text, offset);
    if (std::optional<uint32_t> byte = nonAsciiAt(text, offset)) {
      diagnostics.error({*byte, 1}, fmt::format("unexpected non-ASCII character (byte 0x{:02x}); "
                                                "names use ASCII letters, digits and '_'",
                                                static_cast<unsigned char>(text[*byte])));
      return std::nullopt;
    }
    std::string found = describeToken(file, token);
    std::string message = fmt::format("expected {}, found {}", failure.which(), found);
    if (failure.which() == "identifier" && isKeyword(file.slice(token)))
      message =
          fmt::format("expected identifier, found keyword {}; keywords cannot be names", found);
    Diagnostic& d =
        diagnostics.error(token.length ? token : SourceRange{offset, 1}, std::move(message));
    // Like clang's "to match this '('": point at the bracket a missing closer would close.
    std::string which = failure.which();
    for (char closer : {')', ']', '}'})
      if (which.find(std::string{'\'', closer, '\''}) != std::string::npos)
        if (std::optional<uint32_t> opener = unclosedOpener(text, offset, closer))
          addNote(d, {*opener, 1}, fmt::format("to match this '{}'", text[*opener]));
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
