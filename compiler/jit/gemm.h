// The JIT GEMM: operands packed into the micro-kernel's panels, and the loops around it.
#pragma once

#include "compiler/codegen/gemm_kernel.h"

#include "runtime/layers.h"
#include "runtime/thread_pool.h"
#include <llvm/IR/Module.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace nnc::jit {

/// `void kernel(a, aStride, b, offsets, c, ldc, k, colBias, rowBias, leaves, panels,
/// panelStep)`: see codegen/gemm_kernel.h.
using GemmKernelFn = void (*)(const float* const*, int64_t, const float* const*, const int64_t*,
                              float*, int64_t, int64_t, const float*, const float*,
                              const float* const*, int64_t, int64_t);

/// The compiled micro-kernels of one tile shape: the whole tile; row variants rows[r - 1]
/// computing and storing only the first r rows, for the last tile of an M that is not a multiple
/// of MR (a batch of one, a layer of 16 channels); and narrow variants narrow[v - 1] computing
/// only v vectors of columns, for edge tiles of few columns (a layer of 10 units). Each would
/// otherwise compute the whole tile into a buffer to keep a part of it.
struct GemmKernel {
  /// Panels of B side by side in `wideRow`.
  static constexpr unsigned kWideRowPanels = 4;

  GemmKernelFn fn = nullptr;
  std::vector<GemmKernelFn> rows;
  /// One row across kWideRowPanels panels of B (a dense layer at batch 1): with a tile's
  /// columns alone, its few chains of dependent multiply-adds, not memory, set the pace.
  GemmKernelFn wideRow = nullptr;
  std::vector<GemmKernelFn> narrow;
  codegen::GemmTile tile;
  unsigned width = 1; ///< floats per vector
};

/// The names of the GemmKernel's functions for `isa`, in the order gemmKernelAt expects; the
/// narrow variants only with `narrow` (without them, edge tiles of few columns go through a
/// buffer, and a model whose every N is a multiple of NR compiles three kernels fewer).
std::vector<std::string> gemmKernelNames(const codegen::TargetIsa& isa, bool narrow = true);
/// Emits every function of gemmKernelNames into `module`.
void emitGemmKernels(llvm::Module& module, const codegen::TargetIsa& isa);
/// The same, one emitter per function, in that order; they refer to `isa`, which must outlive
/// them.
using GemmEmitter = std::function<void(llvm::Module&)>;
std::vector<GemmEmitter> gemmKernelEmitters(const codegen::TargetIsa& isa, bool narrow = true);
/// The GemmKernel from the compiled addresses of gemmKernelNames(isa, narrow), in that order.
GemmKernel gemmKernelAt(const codegen::TargetIsa& isa, const void* const* addresses,
                        bool narrow = true);

/// An epilogue computed in registers by a kernel compiled with it (codegen::GemmEpilogue), and
/// the origin of each of its leaves for the tile at row 0, column 0 (null for the accumulator):
/// RowScalar leaves advance with the tile's first row, ColumnVector leaves with its first column,
/// Matrix leaves with its place in the output (they are laid out like `output`). `edgeKernel`,
/// when set, is the same epilogue compiled for tiles of `edgeRows` rows: the last row of tiles
/// of an M that is not a multiple of MR applies it in registers too.
struct TileEpilogue {
  GemmKernelFn kernel = nullptr;
  std::vector<codegen::TileLeaf> layouts;
  std::vector<const float*> origins;
  GemmKernelFn edgeKernel = nullptr;
  int64_t edgeRows = 0;
};

/// A matrix of `rows` x `k` packed into panels of `width` rows, k-major: element (q·width + r, p)
/// is at data[(q·k + p)·width + r], and rows past the last are zero. 64-byte aligned.
class PackedMatrix {
public:
  PackedMatrix() = default;
  PackedMatrix(int64_t rows, int64_t k, unsigned width);

  /// Packs src[i·ld + p] (row-major rows x k).
  void packRows(const float* src, int64_t ld);
  /// Packs the patches of a convolution: row i is output position i (oh·outW + ow), column p is
  /// input channel ci, tap (kh, kw) of `channels` channels from x (0 outside the input), in the
  /// order of a weight row. rows() must be outH·outW and k() channels·kernelH·kernelW.
  void packPatches(const float* x, int64_t channels, const runtime::Conv2dGeometry& g);

  int64_t rows() const { return rows_; }
  int64_t k() const { return k_; }
  unsigned width() const { return width_; }
  int64_t panels() const { return (rows_ + width_ - 1) / width_; }
  const float* panel(int64_t q) const { return data_.get() + q * k_ * width_; }
  /// p·width for p < k: where row p of a panel starts, as the kernel reads B.
  const int64_t* offsets() const { return offsets_.data(); }

private:
  struct FreeAligned {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  int64_t rows_ = 0, k_ = 0;
  unsigned width_ = 1;
  std::unique_ptr<float[], FreeAligned> data_;
  std::vector<int64_t> offsets_;
};

/// The A operand (m x k) as the kernel reads it: row i from row(i), element p of it p·stride
/// further. Panels packed k-major are one case (stride MR); a row-major matrix read in place,
/// such as a dense layer's input, another (stride 1).
struct GemmA {
  const float* origin = nullptr;
  int64_t m = 0, k = 0;
  int64_t panelRows = 0; ///< packed: rows per panel; 0: row-major
  int64_t rowPitch = 0;  ///< row-major: between rows

  static GemmA packed(const PackedMatrix& a) { return {a.panel(0), a.rows(), a.k(), a.width(), 0}; }
  static GemmA rowMajor(const float* x, int64_t m, int64_t k, int64_t ld) {
    return {x, m, k, 0, ld};
  }
  /// Between the elements of a row.
  int64_t stride() const { return panelRows ? panelRows : 1; }
  const float* row(int64_t i) const {
    return panelRows ? origin + (i / panelRows) * k * panelRows + i % panelRows
                     : origin + i * rowPitch;
  }
};

/// The B operand (k x n) as the kernel reads it: element (p, j) at
/// origin[offsets[p] + (j / rowLength)·rowPitch + j % rowLength]. Panels packed k-major are one
/// case (rowLength = NR, rowPitch = k·NR); a convolution's input read in place is another (j an
/// output position, rowLength the output width, offsets[p] the distance to input channel and
/// tap p). rowLength is a multiple of the vector width, so that no vector straddles two rows,
/// and every element of a vector that starts before n must be readable.
struct GemmB {
  const float* origin = nullptr;
  const int64_t* offsets = nullptr;
  int64_t n = 0, k = 0, rowLength = 1, rowPitch = 0;
  /// Weights packed once: a thread takes the same columns on every run and keeps them in its
  /// cache, so even a small product (a dense layer at batch 1) is worth splitting.
  bool resident = false;

  static GemmB packed(const PackedMatrix& b, bool resident = false) {
    return {b.panel(0), b.offsets(), b.rows(), b.k(), b.width(), b.k() * b.width(), resident};
  }
  const float* column(int64_t j) const {
    return origin + (j / rowLength) * rowPitch + j % rowLength;
  }
};

/// C = A·B for A (M x K) and B (K x N) as GemmA and GemmB describe them:
/// c[i·ldc + j] = Σ_p A(i, p)·B(j, p) + colBias[j] + rowBias[i] (either bias may be null) for
/// i < M, j < N. With `inRegisters`, whole tiles (and the last rows' tiles of full width when it
/// has an edgeKernel for their height) apply its epilogue before the store, and the other edge
/// tiles pass their rows to `epilogue` instead; without, every tile's rows go to `epilogue`
/// when it is set. Offsets are from `output`, which c lies in. Parallel
/// over column tiles of B, so each thread keeps its part of B in cache.
void gemm(const GemmKernel& kernel, const GemmA& a, const GemmB& b, float* c, int64_t ldc,
          const float* colBias, const float* rowBias, const TileEpilogue* inRegisters,
          runtime::Epilogue epilogue, float* output, runtime::ThreadPool& pool);

} // namespace nnc::jit
