#include "runtime/npy.h"

#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace nnc::runtime {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw UserError("'" + path + "': " + problem);
}

/// The text after `'key':` in a header dict, with leading spaces skipped.
std::string_view valueOf(std::string_view header, std::string_view key, const std::string& path) {
  std::string quoted = "'" + std::string(key) + "'";
  size_t at = header.find(quoted);
  if (at == std::string_view::npos)
    fail(path, "corrupt .npy header: no '" + std::string(key) + "' entry");
  size_t colon = header.find(':', at + quoted.size());
  if (colon == std::string_view::npos)
    fail(path, "corrupt .npy header near '" + std::string(key) + "'");
  std::string_view rest = header.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  return rest;
}

std::vector<int64_t> parseShape(std::string_view text, const std::string& path) {
  if (text.empty() || text.front() != '(')
    fail(path, "corrupt .npy header: the shape is not a tuple");
  size_t close = text.find(')');
  if (close == std::string_view::npos)
    fail(path, "corrupt .npy header: unterminated shape");
  std::vector<int64_t> shape;
  std::string inside(text.substr(1, close - 1));
  std::stringstream items(inside);
  std::string item;
  while (std::getline(items, item, ',')) {
    size_t first = item.find_first_not_of(" L");
    if (first == std::string::npos)
      continue; // the trailing comma of a 1-tuple
    size_t last = item.find_last_not_of(" L");
    std::string digits = item.substr(first, last - first + 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
        digits.size() > 12)
      fail(path, "corrupt .npy header: bad dimension '" + digits + "' in the shape");
    shape.push_back(std::stoll(digits));
  }
  return shape;
}

} // namespace

Tensor readNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  std::string bytes = contents.str();
  if (bytes.size() < kMagicSize + 4 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0)
    fail(path, "not a .npy file (no \\x93NUMPY magic)");
  auto major = static_cast<unsigned char>(bytes[6]);
  size_t headerLength = 0, headerStart = 0;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      fail(path, "truncated .npy header");
    for (int i = 3; i >= 0; --i)
      headerLength = headerLength << 8 | static_cast<unsigned char>(bytes[8 + i]);
    headerStart = 12;
  } else {
    fail(path, "unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < headerStart + headerLength)
    fail(path, "truncated .npy header");
  std::string_view header(bytes.data() + headerStart, headerLength);
  std::string_view descr = valueOf(header, "descr", path);
  if (descr.substr(0, 5) != "'<f4'" && descr.substr(0, 5) != "'=f4'") {
    std::string dtype(descr.substr(0, descr.find_first_of(",}")));
    fail(path, "has dtype " + dtype +
                   "; nnc needs float32 ('<f4'): convert with "
                   "array.astype(numpy.float32)");
  }
  if (valueOf(header, "fortran_order", path).substr(0, 4) != "Fals")
    fail(path, "is in Fortran order; nnc needs C order: save numpy.ascontiguousarray(array)");
  Tensor tensor;
  tensor.shape = parseShape(valueOf(header, "shape", path), path);
  int64_t count = 1;
  for (int64_t dim : tensor.shape) {
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / 4 / dim)
      fail(path, "shape " + formatShape(tensor.shape) + " is too large");
    count *= dim;
  }
  size_t dataStart = headerStart + headerLength;
  size_t expected = static_cast<size_t>(count) * sizeof(float);
  size_t available = bytes.size() - dataStart;
  if (available < expected)
    fail(path, "truncated: shape " + formatShape(tensor.shape) + " needs " +
                   std::to_string(expected) + " bytes of data, the file has " +
                   std::to_string(available));
  if (available > expected)
    fail(path, "has " + std::to_string(available - expected) + " bytes after the data of shape " +
                   formatShape(tensor.shape));
  tensor.data.resize(static_cast<size_t>(count));
  if (expected != 0) // an empty array has no data (and data() may be null)
    std::memcpy(tensor.data.data(), bytes.data() + dataStart, expected);
  return tensor;
}

void writeNpy(const std::string& path, const Tensor& tensor) {
  std::string shape = "(";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    shape += std::to_string(tensor.shape[i]) + (tensor.shape.size() == 1      ? ","
                                                : i + 1 < tensor.shape.size() ? ", "
                                                                              : "");
  shape += ")";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad with spaces so that the data starts on a 64-byte boundary; the header ends in '\n'.
  size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out)
    fail(path, std::string("cannot write: ") + std::strerror(errno));
  out.write(kMagic, kMagicSize);
  out.put(1);
  out.put(0);
  out.put(static_cast<char>(header.size() & 0xff));
  out.put(static_cast<char>(header.size() >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(tensor.data.data()),
            static_cast<std::streamsize>(tensor.data.size() * sizeof(float)));
  out.close(); // the last buffered bytes are written here, and can fail here
  if (!out)
    fail(path, "write failed");
}

} // namespace nnc::runtime
