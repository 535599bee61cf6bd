// The reserved words of the `.nn` language, shared by the grammar and its diagnostics.
#pragma once

#include <array>
#include <string_view>

namespace nnc {

/// Words that cannot be used as names.
inline constexpr std::array<std::string_view, 8> kKeywords = {"model",  "block", "input", "output",
                                                              "return", "true",  "false", "f32"};

inline bool isKeyword(std::string_view word) {
  for (std::string_view keyword : kKeywords)
    if (word == keyword)
      return true;
  return false;
}

} // namespace nnc
