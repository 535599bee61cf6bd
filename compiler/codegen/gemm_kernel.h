// The GEMM micro-kernel: an MR x NR tile of C = A·B accumulated in vector registers.
#pragma once

#include "compiler/codegen/fused_kernel.h"
#include "compiler/codegen/target.h"

#include <llvm/IR/Module.h>

namespace nnc::codegen {

/// The register tile for an ISA: MR rows by NR columns, NR a whole number of vectors, sized so
/// that the MR·NR/width accumulators, one row of B and a broadcast of A fit the registers
/// (AVX-512: 6 x 64 in 24 of 32 registers; AVX2: 6 x 16 in 12 of 16; SSE: 6 x 8 in 12 of 16).
struct GemmTile {
  unsigned mr = 6;
  unsigned nr = 8;
};
GemmTile gemmTile(const TargetIsa& isa);

/// Where each leaf of an epilogue computed in registers comes from, for tile element (r, j).
enum class TileLeaf {
  Accumulator,  ///< the tile itself (after the biases)
  RowScalar,    ///< leaves[k][r]: a value per row (a conv2d's channel)
  ColumnVector, ///< leaves[k][j]: a value per column (a dense layer's unit)
  Scalar,       ///< leaves[k][0]
  Matrix,       ///< leaves[k][r·ldc + j]: a tensor laid out like c (a residual)
};

/// An elementwise expression applied to the accumulators before the store.
struct GemmEpilogue {
  FusedExpression expression;
  std::vector<TileLeaf> leaves; ///< per leaf of the expression
  /// The tile's rows: 0 for the ISA's MR, fewer for the last tile of a layer whose rows (a
  /// conv2d's output channels) are not a multiple of it.
  unsigned rows = 0;

  bool operator==(const GemmEpilogue&) const = default;

  /// One activation of the accumulators (attrs resolved, as FusedStep's).
  static GemmEpilogue activation(ir::OpKind op, std::vector<ir::AttrValue> attrs);
};

/// Emits `void name(const float* const* a, int64_t aStride, const float* const* b,
/// const int64_t* offsets, float* c, int64_t ldc, int64_t k, const float* colBias,
/// const float* rowBias, const float* const* leaves, int64_t panels, int64_t panelStep)`:
///   c[r·ldc + v·W + l] = Σ_{p<k} a[r][p·aStride]·b[v][offsets[p] + l] + colBias[v·W + l]
///                        + rowBias[r]
/// for the MR rows r and the W lanes l of each of the NR / W column vectors v, with each bias
/// left out when its pointer is null; then the same for the next `panels` - 1 tiles below, the
/// q-th with rows a[r] + q·panelStep of A, c, rowBias and the RowScalar and Matrix leaves q·MR
/// rows further (a column of tiles in one call: a short product's tile costs about as much
/// as a call). `panels` >= 1; kernels of fewer rows or vectors (edges) compute one tile and
/// ignore it. Both operands are read where they lie: row r of A from
/// a[r] with a stride (MR for panels packed k-major, 1 for a row-major matrix such as a dense
/// layer's input, which then needs no packing), and vector v of B's row p at b[v] + offsets[p],
/// so that one kernel reads panels packed k-major (b[v] = panel + v·W, offsets[p] = p·NR) and a
/// convolution's input in place (b[v] at an output position's first tap, offsets[p] the
/// distance to tap p). The products accumulate in order of p with multiply-adds (fused on
/// AVX-512 and AVX2), the column bias is added before the row bias, then `epilogue` (when given)
/// on each vector, with `leaves` pointing at its leaves' tile origins; c is written once. With
/// `rows` below MR, only the first `rows` rows are computed and stored (a has that many
/// entries); with `vectors` below NR / W, only the first `vectors` vectors of columns (b has
/// that many entries). A kernel of one row may also be wider than the tile (`vectors` above
/// NR / W, several panels of B side by side): one row alone has too few accumulators to hide
/// the multiply-adds' latency.
llvm::Function* emitGemmKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                               const GemmEpilogue* epilogue = nullptr, unsigned rows = 0,
                               unsigned vectors = 0);

} // namespace nnc::codegen
