// .safetensors reading and writing: round trips, F16/BF16/F64 conversion, and every corrupt file.
#include "runtime/safetensors.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace nnc::runtime {
namespace {

namespace fs = std::filesystem;

constexpr float kInf = std::numeric_limits<float>::infinity();

/// The low `size` bytes of `value`, little-endian.
std::string littleEndian(uint64_t value, int size) {
  std::string bytes;
  for (int i = 0; i < size; ++i)
    bytes += static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

std::string f32Bytes(std::initializer_list<float> values) {
  std::string bytes;
  for (float value : values)
    bytes += littleEndian(std::bit_cast<uint32_t>(value), 4);
  return bytes;
}

/// F16 or BF16 data, from the bit patterns.
std::string u16Bytes(std::initializer_list<uint16_t> values) {
  std::string bytes;
  for (uint16_t value : values)
    bytes += littleEndian(value, 2);
  return bytes;
}

std::string f64Bytes(std::initializer_list<double> values) {
  std::string bytes;
  for (double value : values)
    bytes += littleEndian(std::bit_cast<uint64_t>(value), 8);
  return bytes;
}

/// A header holding the one tensor "w" with `fields`.
std::string oneTensor(const std::string& fields) {
  return R"({"w":{)" + fields + "}}";
}

std::string contentsOf(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

/// Checks that `message` is one line that starts with the quoted file name and has every word.
testing::AssertionResult isErrorWith(const std::string& message, const std::string& file,
                                     const std::vector<std::string>& words) {
  if (message.rfind("'" + file + "': ", 0) != 0)
    return testing::AssertionFailure() << "does not start with the file name: " << message;
  if (message.find('\n') != std::string::npos)
    return testing::AssertionFailure() << "is not one line: " << message;
  for (const std::string& word : words)
    if (message.find(word) == std::string::npos)
      return testing::AssertionFailure() << "has no \"" << word << "\": " << message;
  return testing::AssertionSuccess() << message;
}

class SafetensorsTest : public testing::Test {
protected:
  std::string path(const std::string& name) {
    return (fs::path(testing::TempDir()) /
            (std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
             name))
        .string();
  }
  std::string writeBytes(const std::string& name, const std::string& bytes) {
    std::string file = path(name);
    std::ofstream(file, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
  }
  /// Writes a .safetensors file by hand: the header length, the header, the data.
  std::string writeFile(const std::string& name, const std::string& header,
                        const std::string& data) {
    return writeBytes(name, littleEndian(header.size(), 8) + header + data);
  }
  std::string readError(const std::string& file) {
    try {
      readSafetensors(file);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  }
  std::string writeError(const std::string& file, const std::map<std::string, Tensor>& tensors) {
    try {
      writeSafetensors(file, tensors);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  }
  testing::AssertionResult failsToRead(const std::string& file,
                                       const std::vector<std::string>& words) {
    return isErrorWith(readError(file), file, words);
  }
  /// The one tensor of `file`.
  Tensor readOne(const std::string& file) {
    std::map<std::string, Tensor> tensors = readSafetensors(file);
    if (tensors.size() != 1) {
      ADD_FAILURE() << file << " holds " << tensors.size() << " tensors, not 1";
      return {};
    }
    return tensors.begin()->second;
  }
};

TEST_F(SafetensorsTest, RoundTripsSeveralTensors) {
  std::map<std::string, Tensor> tensors{
      {"weight", Tensor{{2, 3}, {1.0f, -2.0f, 3.5f, 0.0f, -0.0f, 1e-40f}}},
      {"bias", Tensor{{3}, {0.25f, kInf, -kInf}}},
      {"scalar", Tensor{{}, {42.5f}}},
      {"empty", Tensor{{0, 4}, {}}},
      {"layer.0.w", Tensor{{1, 1, 2}, {7.0f, 8.0f}}},
  };
  std::string file = path("round.safetensors");
  writeSafetensors(file, tensors);
  std::map<std::string, Tensor> back = readSafetensors(file);
  ASSERT_EQ(back.size(), tensors.size());
  for (const auto& [name, tensor] : tensors) {
    ASSERT_EQ(back.count(name), 1u) << name;
    EXPECT_EQ(back[name].shape, tensor.shape) << name;
    EXPECT_EQ(back[name].data, tensor.data) << name;
  }
  EXPECT_TRUE(std::signbit(back["weight"].data[4]));

  // The layout: 8-byte length, a header padded with spaces to a multiple of 8, then the data
  // in name order.
  std::string bytes = contentsOf(file);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t headerLength = 0;
  for (int i = 7; i >= 0; --i)
    headerLength = (headerLength << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ(headerLength % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + headerLength + (6 + 3 + 1 + 0 + 2) * 4);
  std::string header = bytes.substr(8, headerLength);
  EXPECT_EQ(header.front(), '{');
  size_t closing = header.rfind('}');
  ASSERT_NE(closing, std::string::npos);
  EXPECT_EQ(header.find_first_not_of(' ', closing + 1), std::string::npos);
  EXPECT_LE(header.size() - (closing + 1), 7u); // at most 7 spaces
  EXPECT_NE(header.find(R"("dtype":"F32")"), std::string::npos);
  EXPECT_LT(header.find(R"("bias")"), header.find(R"("empty")"));
  EXPECT_LT(header.find(R"("empty")"), header.find(R"("layer.0.w")"));
  EXPECT_LT(header.find(R"("layer.0.w")"), header.find(R"("scalar")"));
  EXPECT_LT(header.find(R"("scalar")"), header.find(R"("weight")"));
  EXPECT_EQ(bytes.substr(8 + headerLength, 12), f32Bytes({0.25f, kInf, -kInf}));
}

TEST_F(SafetensorsTest, RoundTripsNoTensors) {
  std::string file = path("none.safetensors");
  writeSafetensors(file, {});
  EXPECT_EQ(contentsOf(file), littleEndian(8, 8) + "{}      ");
  EXPECT_TRUE(readSafetensors(file).empty());
}

TEST_F(SafetensorsTest, WritesOverAnOldFile) {
  std::string file = path("over.safetensors");
  writeSafetensors(file, {{"big", Tensor{{4}, {1.0f, 2.0f, 3.0f, 4.0f}}}});
  writeSafetensors(file, {{"small", Tensor{{}, {5.0f}}}});
  std::map<std::string, Tensor> back = readSafetensors(file);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back["small"].data, (std::vector<float>{5.0f}));
}

TEST_F(SafetensorsTest, ReadsF16Exactly) {
  std::string file = writeFile("f16.safetensors",
                               oneTensor(R"("dtype":"F16","shape":[2,7],"data_offsets":[0,28])"),
                               u16Bytes({0x0000, 0x8000, 0x3c00, 0xc000, 0x3555, 0x7bff, 0x0400,
                                         0x0001, 0x03ff, 0x8001, 0x7c00, 0xfc00, 0x7e00, 0x7c01}));
  Tensor tensor = readOne(file);
  EXPECT_EQ(tensor.shape, (std::vector<int64_t>{2, 7}));
  ASSERT_EQ(tensor.data.size(), 14u);
  std::vector<float> expected{0.0f,
                              -0.0f,
                              1.0f,
                              -2.0f,
                              0.333251953125f,
                              65504.0f,
                              std::ldexp(1.0f, -14),    // the smallest normal
                              std::ldexp(1.0f, -24),    // the smallest subnormal
                              std::ldexp(1023.0f, -24), // the largest subnormal
                              -std::ldexp(1.0f, -24),
                              kInf,
                              -kInf};
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(tensor.data[i], expected[i]) << "element " << i;
  EXPECT_FALSE(std::signbit(tensor.data[0]));
  EXPECT_TRUE(std::signbit(tensor.data[1]));
  EXPECT_TRUE(std::isnan(tensor.data[12]));
  EXPECT_EQ(std::bit_cast<uint32_t>(tensor.data[12]), 0x7fc00000u);
  EXPECT_TRUE(std::isnan(tensor.data[13]));
}

TEST_F(SafetensorsTest, ReadsBF16Exactly) {
  std::string file = writeFile("bf16.safetensors",
                               oneTensor(R"("dtype":"BF16","shape":[12],"data_offsets":[0,24])"),
                               u16Bytes({0x3f80, 0xc000, 0x4049, 0x0080, 0x0001, 0x807f, 0x7f7f,
                                         0x7f80, 0xff80, 0x8000, 0x7fc0, 0xffc1}));
  Tensor tensor = readOne(file);
  EXPECT_EQ(tensor.shape, (std::vector<int64_t>{12}));
  ASSERT_EQ(tensor.data.size(), 12u);
  std::vector<float> expected{1.0f,
                              -2.0f,
                              3.140625f,
                              std::ldexp(1.0f, -126),    // the smallest normal
                              std::ldexp(1.0f, -133),    // the smallest subnormal
                              -std::ldexp(127.0f, -133), // a negative subnormal
                              std::ldexp(255.0f, 120),   // the largest finite
                              kInf,
                              -kInf,
                              -0.0f};
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(tensor.data[i], expected[i]) << "element " << i;
  EXPECT_TRUE(std::signbit(tensor.data[9]));
  EXPECT_TRUE(std::isnan(tensor.data[10]));
  EXPECT_EQ(std::bit_cast<uint32_t>(tensor.data[10]), 0x7fc00000u);
  EXPECT_TRUE(std::isnan(tensor.data[11]));
  EXPECT_TRUE(std::signbit(tensor.data[11]));
}

TEST_F(SafetensorsTest, ReadsF64RoundedToNearest) {
  std::string file =
      writeFile("f64.safetensors", oneTensor(R"("dtype":"F64","shape":[10],"data_offsets":[0,80])"),
                f64Bytes({-2.5, 0.1, 1.0 + std::ldexp(1.0, -24), 1.0 + 3 * std::ldexp(1.0, -24),
                          1e300, -1e300, 0x1.fffffefffffffp+127, 0x1.ffffffp+127, 1e-50,
                          std::numeric_limits<double>::quiet_NaN()}));
  Tensor tensor = readOne(file);
  ASSERT_EQ(tensor.data.size(), 10u);
  EXPECT_EQ(tensor.data[0], -2.5f);
  EXPECT_EQ(tensor.data[1], 0.1f);
  EXPECT_EQ(tensor.data[2], 1.0f);                         // a tie, to even
  EXPECT_EQ(tensor.data[3], 1.0f + std::ldexp(1.0f, -22)); // a tie, to even
  EXPECT_EQ(tensor.data[4], kInf);                         // beyond the f32 range
  EXPECT_EQ(tensor.data[5], -kInf);
  EXPECT_EQ(tensor.data[6], std::numeric_limits<float>::max()); // just below the half-way point
  EXPECT_EQ(tensor.data[7], kInf);                              // the half-way point
  EXPECT_EQ(tensor.data[8], 0.0f);
  EXPECT_TRUE(std::isnan(tensor.data[9]));
}

TEST_F(SafetensorsTest, ReadsMixedDtypesAndIgnoresMetadata) {
  // Entries in any order, the header padded with spaces, an empty tensor at the end.
  std::string header = R"({"b":{"dtype":"F16","shape":[],"data_offsets":[16,18]},)"
                       R"("__metadata__":{"format":"pt"},)"
                       R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                       R"("c":{"dtype":"BF16","shape":[3,0],"data_offsets":[18,18]}}   )";
  std::string file = writeFile("mixed.safetensors", header,
                               f32Bytes({1.0f, 2.0f, 3.0f, 4.0f}) + u16Bytes({0x4200}));
  std::map<std::string, Tensor> tensors = readSafetensors(file);
  ASSERT_EQ(tensors.size(), 3u);
  EXPECT_EQ(tensors.count("__metadata__"), 0u);
  EXPECT_EQ(tensors["a"].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(tensors["a"].data, (std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}));
  EXPECT_EQ(tensors["b"].shape, (std::vector<int64_t>{}));
  EXPECT_EQ(tensors["b"].data, (std::vector<float>{3.0f}));
  EXPECT_EQ(tensors["c"].shape, (std::vector<int64_t>{3, 0}));
  EXPECT_TRUE(tensors["c"].data.empty());
}

TEST_F(SafetensorsTest, RejectsTensorsThatShareBytes) {
  // The format's tensors tile the data section; y would silently read x's last value.
  std::string file = writeFile("overlap.safetensors",
                               R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                               R"("y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                               f32Bytes({1.0f, 2.0f, 3.0f}));
  EXPECT_TRUE(failsToRead(file, {"tensors 'x' and 'y' overlap", "bytes 0-8 and 4-12"}));
  std::string same = writeFile("same.safetensors",
                               R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                               f32Bytes({1.0f}));
  EXPECT_TRUE(failsToRead(same, {"tensors 'x' and 'y' overlap"}));
  // An empty tensor inside another's bytes, as the format's loader sees it.
  std::string inside = writeFile("inside.safetensors",
                                 R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})",
                                 f32Bytes({1.0f, 2.0f}));
  EXPECT_TRUE(failsToRead(inside, {"tensors 'x' and 'e' overlap"}));
}

TEST_F(SafetensorsTest, RejectsBytesThatBelongToNoTensor) {
  std::string hole = writeFile("hole.safetensors",
                               R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("y":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                               f32Bytes({1.0f, 2.0f, 3.0f}));
  EXPECT_TRUE(failsToRead(hole, {"bytes 4-8 of the data section belong to no tensor"}));
  std::string trailing =
      writeFile("trailing.safetensors",
                oneTensor(R"("dtype":"F32","shape":[1],"data_offsets":[0,4])"), f32Bytes({1, 2}));
  EXPECT_TRUE(failsToRead(trailing, {"bytes 4-8 of the data section belong to no tensor"}));
  std::string late =
      writeFile("late.safetensors", oneTensor(R"("dtype":"F32","shape":[1],"data_offsets":[4,8])"),
                f32Bytes({1, 2}));
  EXPECT_TRUE(failsToRead(late, {"bytes 0-4 of the data section belong to no tensor"}));
}

TEST_F(SafetensorsTest, RejectsAFileThatCannotBeOpened) {
  EXPECT_TRUE(failsToRead(path("missing.safetensors"), {"cannot open", "No such file"}));
  std::string directory = path("directory.safetensors");
  fs::create_directories(directory);
  EXPECT_TRUE(failsToRead(directory, {"cannot open", "not a regular file"}));
}

TEST_F(SafetensorsTest, RejectsAFileShorterThan8Bytes) {
  EXPECT_TRUE(failsToRead(writeBytes("empty.safetensors", ""), {"shorter than 8 bytes (0)"}));
  EXPECT_TRUE(failsToRead(writeBytes("short.safetensors", littleEndian(2, 5)),
                          {"shorter than 8 bytes (5)"}));
}

TEST_F(SafetensorsTest, RejectsAHeaderLengthPastTheEnd) {
  EXPECT_TRUE(failsToRead(writeBytes("past.safetensors", littleEndian(100, 8) + "{}"),
                          {"header length 100", "larger than the rest of the file (2 bytes)"}));
}

TEST_F(SafetensorsTest, RejectsAnAbsurdHeaderLength) {
  EXPECT_TRUE(failsToRead(writeBytes("max.safetensors", littleEndian(UINT64_MAX, 8) + "{}"),
                          {"header length 18446744073709551615", "absurd"}));
  EXPECT_TRUE(failsToRead(writeBytes("big.safetensors", littleEndian(100'000'001, 8) + "{}"),
                          {"header length 100000001", "absurd", "100 MB"}));
}

TEST_F(SafetensorsTest, RejectsAHeaderThatIsNotJson) {
  std::string file = writeFile("cut.safetensors", R"({"w":)", "");
  EXPECT_TRUE(failsToRead(file, {"not valid JSON", "parse error"}));
  EXPECT_EQ(readError(file).find("json.exception"), std::string::npos);
  EXPECT_TRUE(failsToRead(writeFile("garbage.safetensors", "{} x", ""), {"not valid JSON"}));
  EXPECT_TRUE(failsToRead(writeFile("blank.safetensors", "", ""), {"not valid JSON"}));
}

TEST_F(SafetensorsTest, RejectsAHeaderThatIsNotAnObject) {
  EXPECT_TRUE(failsToRead(writeFile("array.safetensors", "[1,2]", ""),
                          {"header is not a JSON object", "[1,2]"}));
}

TEST_F(SafetensorsTest, RejectsAnEntryThatIsNotAnObject) {
  EXPECT_TRUE(failsToRead(writeFile("entry.safetensors", R"({"w":5})", ""),
                          {"tensor 'w'", "not a JSON object"}));
}

TEST_F(SafetensorsTest, RejectsAnEntryWithoutDtype) {
  EXPECT_TRUE(
      failsToRead(writeFile("nodtype.safetensors", oneTensor(R"("shape":[1],"data_offsets":[0,4])"),
                            f32Bytes({1.0f})),
                  {"tensor 'w'", "no \"dtype\""}));
}

TEST_F(SafetensorsTest, RejectsAnEntryWithoutShape) {
  EXPECT_TRUE(
      failsToRead(writeFile("noshape.safetensors",
                            oneTensor(R"("dtype":"F32","data_offsets":[0,4])"), f32Bytes({1.0f})),
                  {"tensor 'w'", "no \"shape\""}));
}

TEST_F(SafetensorsTest, RejectsAnEntryWithoutDataOffsets) {
  EXPECT_TRUE(failsToRead(writeFile("nooffsets.safetensors",
                                    oneTensor(R"("dtype":"F32","shape":[1])"), f32Bytes({1.0f})),
                          {"tensor 'w'", "no \"data_offsets\""}));
}

TEST_F(SafetensorsTest, RejectsWrongJsonTypes) {
  EXPECT_TRUE(failsToRead(writeFile("dtype.safetensors",
                                    oneTensor(R"("dtype":4,"shape":[1],"data_offsets":[0,4])"),
                                    f32Bytes({1.0f})),
                          {"tensor 'w'", "\"dtype\" is not a string: 4"}));
  EXPECT_TRUE(failsToRead(writeFile("shape.safetensors",
                                    oneTensor(R"("dtype":"F32","shape":"1","data_offsets":[0,4])"),
                                    f32Bytes({1.0f})),
                          {"tensor 'w'", "\"shape\" is not an array"}));
  EXPECT_TRUE(
      failsToRead(writeFile("offsets.safetensors",
                            oneTensor(R"("dtype":"F32","shape":[1],"data_offsets":{"begin":0})"),
                            f32Bytes({1.0f})),
                  {"tensor 'w'", "data_offsets"}));
}

TEST_F(SafetensorsTest, RejectsANegativeDimension) {
  EXPECT_TRUE(
      failsToRead(writeFile("negative.safetensors",
                            oneTensor(R"("dtype":"F32","shape":[2,-3],"data_offsets":[0,0])"), ""),
                  {"tensor 'w'", "negative dimension -3"}));
}

TEST_F(SafetensorsTest, RejectsANonIntegerDimension) {
  for (std::string dim : {"2.5", "2.0", "\"2\"", "null"})
    EXPECT_TRUE(failsToRead(
        writeFile("fraction.safetensors",
                  oneTensor(R"("dtype":"F32","shape":[)" + dim + R"(],"data_offsets":[0,8])"),
                  f32Bytes({1.0f, 2.0f})),
        {"tensor 'w'", "non-integer dimension " + dim}));
}

TEST_F(SafetensorsTest, RejectsAnUnsupportedDtype) {
  EXPECT_TRUE(failsToRead(writeFile("i64.safetensors",
                                    oneTensor(R"("dtype":"I64","shape":[1],"data_offsets":[0,8])"),
                                    std::string(8, '\0')),
                          {"tensor 'w'", "unsupported dtype 'I64'", "F32, F16, BF16, F64"}));
}

TEST_F(SafetensorsTest, RejectsBadDataOffsets) {
  for (std::string offsets : {"[8,4]", "[0]", "[0,4,8]", "[-4,4]", "[0,4.0]", "\"0-4\"", "[]"})
    EXPECT_TRUE(
        failsToRead(writeFile("offsets.safetensors",
                              oneTensor(R"("dtype":"F32","shape":[1],"data_offsets":)" + offsets),
                              f32Bytes({1.0f, 2.0f})),
                    {"tensor 'w'", "\"data_offsets\" must be two integers [begin, end]", offsets}));
}

TEST_F(SafetensorsTest, RejectsTruncatedData) {
  EXPECT_TRUE(failsToRead(writeFile("truncated.safetensors",
                                    oneTensor(R"("dtype":"F32","shape":[4],"data_offsets":[0,16])"),
                                    f32Bytes({1.0f, 2.0f, 3.0f})),
                          {"tensor 'w'", "truncated", "ends at byte 16", "has 12 bytes"}));
  // The second tensor is the one cut.
  EXPECT_TRUE(failsToRead(writeFile("second.safetensors",
                                    R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                    R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                    f32Bytes({1.0f, 2.0f})),
                          {"tensor 'b'", "truncated"}));
}

TEST_F(SafetensorsTest, RejectsAByteSizeThatDoesNotMatchTheShape) {
  EXPECT_TRUE(
      failsToRead(writeFile("f32.safetensors",
                            oneTensor(R"("dtype":"F32","shape":[2,3],"data_offsets":[0,20])"),
                            std::string(24, '\0')),
                  {"tensor 'w'", "hold 20 bytes", "F32 shape [2, 3] needs 24"}));
  EXPECT_TRUE(failsToRead(writeFile("f16.safetensors",
                                    oneTensor(R"("dtype":"F16","shape":[3],"data_offsets":[0,8])"),
                                    std::string(8, '\0')),
                          {"tensor 'w'", "hold 8 bytes", "F16 shape [3] needs 6"}));
  EXPECT_TRUE(
      failsToRead(writeFile("scalar.safetensors",
                            oneTensor(R"("dtype":"F32","shape":[],"data_offsets":[0,0])"), ""),
                  {"tensor 'w'", "hold 0 bytes", "F32 shape [] needs 4"}));
}

TEST_F(SafetensorsTest, RejectsAnAbsurdShape) {
  // 2^32 * 2^32 elements of 4 bytes: 2^66 bytes, 0 modulo 2^64.
  EXPECT_TRUE(failsToRead(
      writeFile("wrap.safetensors",
                oneTensor(R"("dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0])"),
                ""),
      {"tensor 'w'", "too large"}));
  EXPECT_TRUE(failsToRead(
      writeFile("max.safetensors",
                oneTensor(R"("dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,0])"),
                ""),
      {"tensor 'w'", "too large"}));
  EXPECT_TRUE(failsToRead(
      writeFile(
          "zero.safetensors",
          oneTensor(R"("dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0])"), ""),
      {"tensor 'w'", "too large"}));
}

TEST_F(SafetensorsTest, KeepsTheMessageOnOneLine) {
  // The name "a\nb", from a JSON escape.
  EXPECT_TRUE(failsToRead(writeFile("newline.safetensors", R"({"a\nb":5})", ""),
                          {"tensor 'a\\x0ab'", "not a JSON object"}));
}

TEST_F(SafetensorsTest, WriteRejectsDataThatDoesNotMatchTheShape) {
  std::string file = path("mismatch.safetensors");
  fs::remove(file);
  EXPECT_TRUE(isErrorWith(writeError(file, {{"w", Tensor{{2, 3}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f}}}}),
                          file, {"tensor 'w'", "has 5 values", "shape [2, 3] needs 6"}));
  EXPECT_FALSE(fs::exists(file)); // checked before the file is created
  EXPECT_TRUE(isErrorWith(writeError(file, {{"w", Tensor{{-1}, {}}}}), file,
                          {"tensor 'w'", "negative dimension"}));
}

TEST_F(SafetensorsTest, WriteRejectsReservedAndInvalidNames) {
  std::string file = path("names.safetensors");
  EXPECT_TRUE(isErrorWith(writeError(file, {{"__metadata__", Tensor{{}, {1.0f}}}}), file,
                          {"tensor '__metadata__'", "reserved"}));
  EXPECT_TRUE(
      isErrorWith(writeError(file, {{"\xff", Tensor{{}, {1.0f}}}}), file, {"not valid UTF-8"}));
}

TEST_F(SafetensorsTest, WriteRejectsAFileThatCannotBeWritten) {
  std::string file = path("no_such_directory") + "/out.safetensors";
  EXPECT_TRUE(isErrorWith(writeError(file, {{"w", Tensor{{}, {1.0f}}}}), file, {"cannot write"}));
}

} // namespace
} // namespace nnc::runtime
