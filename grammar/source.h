// Source files and byte ranges within them, mapped to 1-based lines and columns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nnc {

/// A half-open byte range [offset, offset + length) in one source file.
struct SourceRange {
  uint32_t offset = 0;
  uint32_t length = 0;

  uint32_t end() const { return offset + length; }
  bool valid() const { return length != 0 || offset != 0; }
};

/// A 1-based line and column (columns count bytes).
struct LineColumn {
  uint32_t line = 1;
  uint32_t column = 1;
};

/// The text of one model file together with its name as shown in diagnostics.
class SourceFile {
public:
  SourceFile(std::string name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }

  LineColumn lineColumn(uint32_t offset) const;
  /// The text of the 1-based line, without its newline.
  std::string_view lineText(uint32_t line) const;
  /// The text a range covers.
  std::string_view slice(SourceRange range) const;

private:
  std::string name_;
  std::string text_;
  std::vector<uint32_t> lineStarts_;
};

} // namespace nnc
