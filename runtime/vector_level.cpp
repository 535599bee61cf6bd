#include "runtime/vector_level.h"

namespace nnc::runtime {

bool cpuRuns(VectorLevel level) {
  __builtin_cpu_init();
  switch (level) {
  case VectorLevel::Avx512:
    return __builtin_cpu_supports("avx512f");
  case VectorLevel::Avx2:
    return __builtin_cpu_supports("avx2");
  case VectorLevel::Scalar:
    break;
  }
  return true;
}

} // namespace nnc::runtime
