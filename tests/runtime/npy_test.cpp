// .npy reading and writing: round trips, every header form numpy writes, and corrupt files.
#include "runtime/npy.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace nnc::runtime {
namespace {

namespace fs = std::filesystem;

class NpyTest : public testing::Test {
protected:
  std::string path(const std::string& name) {
    return (fs::temp_directory_path() /
            (std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
             name))
        .string();
  }
  /// Writes a .npy file by hand: magic, version, header length, header, data.
  std::string writeRaw(const std::string& name, const std::string& header, size_t dataBytes,
                       int major = 1) {
    std::string file = path(name);
    std::ofstream out(file, std::ios::binary);
    out.write("\x93NUMPY", 6);
    out.put(static_cast<char>(major));
    out.put(0);
    uint32_t length = static_cast<uint32_t>(header.size());
    out.put(static_cast<char>(length & 0xff));
    out.put(static_cast<char>(length >> 8 & 0xff));
    if (major >= 2) {
      out.put(static_cast<char>(length >> 16 & 0xff));
      out.put(static_cast<char>(length >> 24));
    }
    out << header;
    for (size_t i = 0; i < dataBytes; ++i)
      out.put(0);
    return file;
  }
  std::string errorOf(const std::string& file) {
    try {
      readNpy(file);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(NpyTest, RoundTripsEveryRank) {
  for (std::vector<int64_t> shape :
       std::vector<std::vector<int64_t>>{{}, {5}, {2, 3}, {1, 2, 3, 4}, {0, 3}}) {
    Tensor tensor{shape, {}};
    tensor.data.resize(static_cast<size_t>(tensor.elementCount()));
    for (size_t i = 0; i < tensor.data.size(); ++i)
      tensor.data[i] = static_cast<float>(i) * 0.5f - 1;
    std::string file = path("round.npy");
    writeNpy(file, tensor);
    Tensor back = readNpy(file);
    EXPECT_EQ(back.shape, shape);
    EXPECT_EQ(back.data, tensor.data);
    // numpy requires the data to start on a 64-byte boundary.
    EXPECT_EQ((fs::file_size(file) - tensor.data.size() * 4) % 64, 0u);
  }
}

TEST_F(NpyTest, ReadsVersion2AndNumpysSpellings) {
  std::string file =
      writeRaw("v2.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", 8, 2);
  EXPECT_EQ(readNpy(file).shape, (std::vector<int64_t>{2}));
  file = writeRaw("long.npy", "{'descr':'<f4','fortran_order':False,'shape':(3L, 1L)}\n", 12);
  EXPECT_EQ(readNpy(file).shape, (std::vector<int64_t>{3, 1}));
}

TEST_F(NpyTest, RejectsWhatItCannotRead) {
  EXPECT_NE(errorOf(path("missing.npy")).find("cannot open"), std::string::npos);
  std::string notNpy = path("text.npy");
  std::ofstream(notNpy) << "hello, world";
  EXPECT_NE(errorOf(notNpy).find("not a .npy file"), std::string::npos);
  EXPECT_NE(
      errorOf(writeRaw("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16))
          .find("has dtype '<f8'; nnc needs float32"),
      std::string::npos);
  EXPECT_NE(
      errorOf(writeRaw("i4.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8))
          .find("has dtype '<i4'"),
      std::string::npos);
  EXPECT_NE(
      errorOf(writeRaw("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8))
          .find("has dtype '>f4'"),
      std::string::npos);
  EXPECT_NE(
      errorOf(writeRaw("f.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16))
          .find("Fortran order"),
      std::string::npos);
  EXPECT_NE(errorOf(writeRaw("short.npy",
                             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20))
                .find("truncated: shape [2, 3] needs 24 bytes of data, the file has 20"),
            std::string::npos);
  EXPECT_NE(
      errorOf(writeRaw("long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12))
          .find("4 bytes after the data"),
      std::string::npos);
  EXPECT_NE(errorOf(writeRaw("noshape.npy", "{'descr': '<f4', 'fortran_order': False, }", 0))
                .find("no 'shape' entry"),
            std::string::npos);
  EXPECT_NE(errorOf(writeRaw("badshape.npy",
                             "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", 0))
                .find("bad dimension"),
            std::string::npos);
  EXPECT_NE(errorOf(writeRaw("v9.npy", "{}", 0, 9)).find("version 9"), std::string::npos);
  // A header length that runs past the end of the file.
  std::string cut = path("cut.npy");
  std::ofstream(cut, std::ios::binary).write("\x93NUMPY\x01\x00\xff\x00{'descr'", 19);
  EXPECT_NE(errorOf(cut).find("truncated .npy header"), std::string::npos);
}

} // namespace
} // namespace nnc::runtime
