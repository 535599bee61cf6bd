// Test helpers for the runtime's vectorized routines: a buffer that ends at an inaccessible
// page, and the vector levels to run each routine at.
#pragma once

#include "runtime/vector_level.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <ostream>
#include <string>

namespace nnc::runtime {

/// Floats that end exactly at a PROT_NONE page.
class GuardedFloats {
public:
  explicit GuardedFloats(size_t count) : count_(count) {
    size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    size_t bytes = (count * sizeof(float) + page - 1) / page * page;
    size_ = bytes + page;
    void* mapped =
        ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(mapped, MAP_FAILED);
    base_ = static_cast<char*>(mapped);
    EXPECT_EQ(::mprotect(base_ + bytes, page, PROT_NONE), 0);
    data_ = reinterpret_cast<float*>(base_ + bytes) - count;
  }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  ~GuardedFloats() { ::munmap(base_, size_); }
  float* data() { return data_; }

private:
  size_t count_, size_ = 0;
  char* base_ = nullptr;
  float* data_ = nullptr;
};

struct Level {
  VectorLevel level;
  const char* name;
};

inline constexpr Level kLevels[] = {
    {VectorLevel::Scalar, "scalar"}, {VectorLevel::Avx2, "avx2"}, {VectorLevel::Avx512, "avx512"}};

inline void PrintTo(const Level& level, std::ostream* out) {
  *out << level.name;
}

inline std::string levelName(const testing::TestParamInfo<Level>& param) {
  return param.param.name;
}

} // namespace nnc::runtime
