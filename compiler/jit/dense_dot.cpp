#include "compiler/jit/dense_dot.h"

#include <algorithm>

namespace nnc::jit {

void denseDot(DotFn kernel, const float* x, int64_t rows, int64_t in, const float* weight,
              const float* bias, int64_t units, float* y, runtime::Epilogue epilogue,
              runtime::ThreadPool& pool) {
  // A block is worth handing to another thread from about 2^16 multiply-adds on.
  int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(in * units, 1));
  pool.parallelFor(
      rows,
      [&](int64_t begin, int64_t end) {
        kernel(x + begin * in, end - begin, in, weight, bias, y + begin * units);
        if (epilogue)
          epilogue.apply(epilogue.context, y, begin * units, (end - begin) * units);
      },
      grain);
}

} // namespace nnc::jit
