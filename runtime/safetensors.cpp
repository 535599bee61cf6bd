#include "runtime/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nnc::runtime {

namespace {

using Json = nlohmann::json;

/// The reference implementation's limit on the header length.
constexpr uint64_t kMaxHeaderLength = 100'000'000;
/// At most 2^60 elements: their byte size (at most 8 bytes each) fits in 63 bits.
constexpr uint64_t kMaxElements = uint64_t{1} << 60;
constexpr std::string_view kMetadata = "__metadata__";

/// Throws the one-line UserError "'path': problem"; control characters (from a tensor name, say)
/// are written as \xNN so that the message stays on one line.
[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  std::string message = "'" + path + "': " + problem;
  std::string line;
  line.reserve(message.size());
  for (char c : message) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      line += "\\x";
      line += "0123456789abcdef"[byte >> 4];
      line += "0123456789abcdef"[byte & 0xf];
    } else {
      line += c;
    }
  }
  throw UserError(line);
}

std::string errnoText() {
  return std::strerror(errno);
}

/// A JSON value as compact text, cut to about 60 bytes (at a UTF-8 character boundary).
std::string brief(const Json& value) {
  std::string text = value.dump();
  constexpr size_t kLimit = 60;
  if (text.size() <= kLimit)
    return text;
  size_t cut = kLimit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
    --cut;
  return text.substr(0, cut) + "...";
}

/// Elements of `shape`; nullopt when a dimension is negative or the dimensions other than 0
/// multiply to more than kMaxElements (so that no partial product of the shape overflows).
std::optional<uint64_t> elementsOf(const std::vector<int64_t>& shape) {
  uint64_t product = 1;
  bool empty = false;
  for (int64_t dim : shape) {
    if (dim < 0)
      return std::nullopt;
    if (dim == 0) {
      empty = true;
      continue;
    }
    auto size = static_cast<uint64_t>(dim);
    if (product > kMaxElements / size)
      return std::nullopt;
    product *= size;
  }
  return empty ? uint64_t{0} : product;
}

/// A whole file mapped read-only; unmapped on destruction. An empty file is not mapped.
class MappedFile {
public:
  explicit MappedFile(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      fail(path, "cannot open: " + errnoText());
    // The mapping outlives the descriptor: close it on every way out of the constructor.
    struct Closer {
      int descriptor;
      ~Closer() { ::close(descriptor); }
    } closer{fd};
    struct stat info {};
    if (::fstat(fd, &info) != 0)
      fail(path, "cannot open: " + errnoText());
    if (!S_ISREG(info.st_mode))
      fail(path, "cannot open: not a regular file");
    auto length = static_cast<size_t>(info.st_size);
    if (length == 0)
      return;
    void* address = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (address == MAP_FAILED)
      fail(path, "cannot map into memory: " + errnoText());
    data_ = static_cast<const unsigned char*>(address);
    size_ = length;
  }
  ~MappedFile() {
    if (data_ != nullptr)
      ::munmap(const_cast<unsigned char*>(data_), size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }

private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

// Little-endian loads from unaligned bytes.
uint16_t load16(const unsigned char* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
uint32_t load32(const unsigned char* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint64_t load64(const unsigned char* p) {
  return load32(p) | (uint64_t{load32(p + 4)} << 32);
}

float fromF32(const unsigned char* p) {
  return std::bit_cast<float>(load32(p));
}

/// IEEE binary16 to binary32, exactly: every f16 value is an f32 value.
float fromF16(const unsigned char* p) {
  uint32_t half = load16(p);
  uint32_t sign = (half >> 15) << 31;
  uint32_t exponent = (half >> 10) & 0x1f;
  uint32_t mantissa = half & 0x3ff;
  if (exponent == 0) { // zero or subnormal: mantissa * 2^-24, a normal f32 (or zero)
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign != 0 ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) // infinity, or NaN with its payload kept
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

/// bfloat16 is the upper half of an f32.
float fromBF16(const unsigned char* p) {
  return std::bit_cast<float>(uint32_t{load16(p)} << 16);
}

/// f64 rounded to the nearest f32; beyond the f32 range, +-infinity.
float fromF64(const unsigned char* p) {
  double value = std::bit_cast<double>(load64(p));
  // Half-way between FLT_MAX and 2^128: from here on, round-to-nearest-even gives infinity
  // (and the conversion of a finite double out of the float range would be undefined).
  if (std::fabs(value) >= 0x1.ffffffp+127)
    return value > 0 ? std::numeric_limits<float>::infinity()
                     : -std::numeric_limits<float>::infinity();
  return static_cast<float>(value);
}

template <float (*From)(const unsigned char*), size_t Size>
void convertEach(const unsigned char* from, float* to, size_t count) {
  for (size_t i = 0; i < count; ++i)
    to[i] = From(from + i * Size);
}

void copyF32(const unsigned char* from, float* to, size_t count) {
  if (std::endian::native == std::endian::little)
    std::memcpy(to, from, count * sizeof(float));
  else
    convertEach<fromF32, 4>(from, to, count);
}

struct DType {
  std::string_view name;
  size_t size;
  void (*toF32)(const unsigned char* from, float* to, size_t count);
};

constexpr DType kDTypes[] = {
    {"F32", 4, copyF32},
    {"F16", 2, convertEach<fromF16, 2>},
    {"BF16", 2, convertEach<fromBF16, 2>},
    {"F64", 8, convertEach<fromF64, 8>},
};

std::string supportedDTypes() {
  std::string names;
  for (const DType& dtype : kDTypes)
    names += (names.empty() ? "" : ", ") + std::string(dtype.name);
  return names;
}

/// A JSON integer >= 0, or nullopt. (nlohmann stores non-negative integers as unsigned.)
std::optional<uint64_t> nonNegative(const Json& value) {
  if (value.is_number_unsigned())
    return value.get<uint64_t>();
  if (value.is_number_integer() && value.get<int64_t>() >= 0)
    return static_cast<uint64_t>(value.get<int64_t>());
  return std::nullopt;
}

/// Where a tensor's bytes lie in the data section.
struct Extent {
  uint64_t begin = 0, end = 0;
  std::string name;
};

/// Reads one tensor entry of the header; `where` is "tensor 'name': ". Sets `extent`'s bytes.
Tensor readTensor(const std::string& path, const std::string& where, const Json& entry,
                  const unsigned char* data, uint64_t dataSize, Extent& extent) {
  if (!entry.is_object())
    fail(path, where + "the entry is not a JSON object: " + brief(entry));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(key))
      fail(path, where + "the entry has no \"" + key + "\"");
  const Json& dtypeJson = entry.at("dtype");
  const Json& shapeJson = entry.at("shape");
  const Json& offsetsJson = entry.at("data_offsets");

  if (!dtypeJson.is_string())
    fail(path, where + "\"dtype\" is not a string: " + brief(dtypeJson));
  const std::string& dtypeName = dtypeJson.get_ref<const std::string&>();
  const DType* dtype = nullptr;
  for (const DType& candidate : kDTypes)
    if (candidate.name == dtypeName)
      dtype = &candidate;
  if (dtype == nullptr)
    fail(path,
         where + "unsupported dtype '" + dtypeName + "' (nnc reads " + supportedDTypes() + ")");

  if (!shapeJson.is_array())
    fail(path, where + "\"shape\" is not an array: " + brief(shapeJson));
  Tensor tensor;
  for (const Json& dim : shapeJson) {
    std::optional<uint64_t> size = nonNegative(dim);
    if (!size)
      fail(path, where + "shape " + brief(shapeJson) + " has a " +
                     (dim.is_number_integer() ? "negative" : "non-integer") + " dimension " +
                     brief(dim));
    if (*size > kMaxElements)
      fail(path, where + "shape " + brief(shapeJson) + " is too large");
    tensor.shape.push_back(static_cast<int64_t>(*size));
  }
  std::optional<uint64_t> count = elementsOf(tensor.shape);
  if (!count)
    fail(path, where + "shape " + formatShape(tensor.shape) + " is too large");

  std::optional<uint64_t> begin, end;
  if (offsetsJson.is_array() && offsetsJson.size() == 2) {
    begin = nonNegative(offsetsJson[size_t{0}]);
    end = nonNegative(offsetsJson[size_t{1}]);
  }
  if (!begin || !end || *begin > *end)
    fail(path, where + "\"data_offsets\" must be two integers [begin, end] with 0 <= begin <= " +
                   "end, not " + brief(offsetsJson));
  if (*end > dataSize)
    fail(path, where + "truncated: its data ends at byte " + std::to_string(*end) +
                   " of the data section, which has " + std::to_string(dataSize) + " bytes");
  extent.begin = *begin;
  extent.end = *end;
  uint64_t bytes = *end - *begin;
  uint64_t needed = *count * dtype->size; // at most 2^63: no overflow
  if (bytes != needed)
    fail(path, where + "data_offsets " + brief(offsetsJson) + " hold " + std::to_string(bytes) +
                   " bytes, but " + std::string(dtype->name) + " shape " +
                   formatShape(tensor.shape) + " needs " + std::to_string(needed));

  tensor.data.resize(static_cast<size_t>(*count));
  if (*count != 0) // an empty tensor has no data (and data() may be null)
    dtype->toF32(data + *begin, tensor.data.data(), static_cast<size_t>(*count));
  return tensor;
}

/// The format requires the tensors' bytes to tile the data section: no two share a byte (one
/// would silently read the other's values) and no byte is left over.
/// An empty tensor counts too: it must sit where one tensor ends and the next begins.
void checkTiling(const std::string& path, std::vector<Extent> extents, uint64_t dataSize) {
  std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  uint64_t covered = 0;
  const Extent* previous = nullptr;
  for (const Extent& extent : extents) {
    if (previous && extent.begin < covered)
      fail(path, "tensors '" + previous->name + "' and '" + extent.name +
                     "' overlap in the data section (bytes " + std::to_string(previous->begin) +
                     "-" + std::to_string(previous->end) + " and " + std::to_string(extent.begin) +
                     "-" + std::to_string(extent.end) + ")");
    if (extent.begin > covered)
      fail(path, "bytes " + std::to_string(covered) + "-" + std::to_string(extent.begin) +
                     " of the data section belong to no tensor");
    covered = extent.end;
    previous = &extent;
  }
  if (covered != dataSize)
    fail(path, "bytes " + std::to_string(covered) + "-" + std::to_string(dataSize) +
                   " of the data section belong to no tensor");
}

void writeFloats(std::ofstream& out, const std::vector<float>& values) {
  if (values.empty())
    return;
  if constexpr (std::endian::native == std::endian::little) {
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(float)));
  } else {
    for (float value : values) {
      auto bits = std::bit_cast<uint32_t>(value);
      char bytes[4];
      for (int i = 0; i < 4; ++i)
        bytes[i] = static_cast<char>((bits >> (8 * i)) & 0xff);
      out.write(bytes, 4);
    }
  }
}

} // namespace

std::map<std::string, Tensor> readSafetensors(const std::string& path) {
  MappedFile file(path);
  return parseSafetensors(file.data(), file.size(), path);
}

std::map<std::string, Tensor> parseSafetensors(const unsigned char* bytes, size_t size,
                                               const std::string& path) {
  if (size < 8)
    fail(path, "is shorter than 8 bytes (" + std::to_string(size) + "): not a safetensors file");
  uint64_t headerLength = load64(bytes);
  if (headerLength > kMaxHeaderLength)
    fail(path, "header length " + std::to_string(headerLength) +
                   " is absurd (more than 100 MB): not a safetensors file");
  uint64_t rest = size - 8;
  if (headerLength > rest)
    fail(path, "header length " + std::to_string(headerLength) +
                   " is larger than the rest of the file (" + std::to_string(rest) +
                   " bytes): truncated, or not a safetensors file");

  const auto* headerBegin = reinterpret_cast<const char*>(bytes + 8);
  Json header;
  try {
    header = Json::parse(headerBegin, headerBegin + headerLength);
  } catch (const Json::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, ...": keep what follows "] ".
    std::string_view what = e.what();
    size_t bracket = what.find("] ");
    if (bracket != std::string_view::npos)
      what.remove_prefix(bracket + 2);
    fail(path, "the header is not valid JSON: " + std::string(what));
  }
  if (!header.is_object())
    fail(path, "the header is not a JSON object: " + brief(header));

  const unsigned char* data = bytes + 8 + headerLength;
  uint64_t dataSize = rest - headerLength;
  std::map<std::string, Tensor> tensors;
  std::vector<Extent> extents;
  for (const auto& [name, entry] : header.get_ref<const Json::object_t&>()) {
    if (name == kMetadata)
      continue;
    Extent& extent = extents.emplace_back(Extent{0, 0, name});
    tensors.emplace(name,
                    readTensor(path, "tensor '" + name + "': ", entry, data, dataSize, extent));
  }
  checkTiling(path, std::move(extents), dataSize);
  return tensors;
}

void writeSafetensors(const std::string& path, const std::map<std::string, Tensor>& tensors) {
  // Check everything before the file is created.
  Json header = Json::object();
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    std::string where = "tensor '" + name + "': ";
    if (name == kMetadata)
      fail(path, where + "the name is reserved for the file's metadata");
    std::optional<uint64_t> count = elementsOf(tensor.shape);
    if (!count)
      fail(path, where + "shape " + formatShape(tensor.shape) +
                     " has a negative dimension or is too large");
    if (*count != tensor.data.size())
      fail(path, where + "has " + std::to_string(tensor.data.size()) + " values, but shape " +
                     formatShape(tensor.shape) + " needs " + std::to_string(*count));
    uint64_t bytes = *count * sizeof(float);
    Json entry = Json::object();
    entry["dtype"] = "F32";
    entry["shape"] = tensor.shape;
    entry["data_offsets"] = Json::array({offset, offset + bytes});
    header[name] = std::move(entry);
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const Json::exception&) {
    fail(path, "a tensor name is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    fail(path, "cannot write: " + errnoText());
  char prefix[8];
  for (int i = 0; i < 8; ++i)
    prefix[i] = static_cast<char>((uint64_t{text.size()} >> (8 * i)) & 0xff);
  out.write(prefix, 8);
  out << text;
  for (const auto& named : tensors)
    writeFloats(out, named.second.data);
  out.close();
  if (!out)
    fail(path, "write failed");
}

} // namespace nnc::runtime
