#include "compiler/jit/gemm.h"

#include "compiler/ir/internal_error.h"

#include <algorithm>
#include <cstring>

namespace nnc::jit {

namespace {

/// Column vectors and rows per tile, at most (AVX-512: 6 rows, 64 columns of 16 floats).
constexpr int64_t kMaxTileVectors = 4 * GemmKernel::kWideRowPanels;
constexpr int64_t kMaxTileRows = 8;

} // namespace

std::vector<std::string> gemmKernelNames(const codegen::TargetIsa& isa, bool narrow) {
  codegen::GemmTile tile = codegen::gemmTile(isa);
  std::vector<std::string> names = {"gemm"};
  for (unsigned r = 1; r < tile.mr; ++r)
    names.push_back("gemm.r" + std::to_string(r));
  names.push_back("gemm.w");
  for (unsigned v = 1; narrow && v < tile.nr / isa.vectorWidth; ++v)
    names.push_back("gemm.v" + std::to_string(v));
  return names;
}

GemmKernel gemmKernelAt(const codegen::TargetIsa& isa, const void* const* addresses, bool narrow) {
  GemmKernel kernel;
  kernel.tile = codegen::gemmTile(isa);
  kernel.width = isa.vectorWidth;
  auto at = [&](size_t i) {
    return reinterpret_cast<GemmKernelFn>(const_cast<void*>(addresses[i]));
  };
  size_t i = 0;
  kernel.fn = at(i++);
  for (unsigned r = 1; r < kernel.tile.mr; ++r)
    kernel.rows.push_back(at(i++));
  kernel.wideRow = at(i++);
  for (unsigned v = 1; narrow && v < kernel.tile.nr / isa.vectorWidth; ++v)
    kernel.narrow.push_back(at(i++));
  return kernel;
}

PackedMatrix::PackedMatrix(int64_t rows, int64_t k, unsigned width)
    : rows_(rows), k_(k), width_(width) {
  size_t count = static_cast<size_t>(std::max<int64_t>(panels() * k * width, 1));
  data_.reset(static_cast<float*>(::operator new[](count * sizeof(float), std::align_val_t(64))));
  std::memset(data_.get(), 0, count * sizeof(float));
  offsets_.resize(static_cast<size_t>(k));
  for (int64_t p = 0; p < k; ++p)
    offsets_[static_cast<size_t>(p)] = p * width;
}

void PackedMatrix::packRows(const float* src, int64_t ld) {
  for (int64_t q = 0; q < panels(); ++q) {
    float* out = data_.get() + q * k_ * width_;
    int64_t valid = std::min<int64_t>(width_, rows_ - q * width_);
    for (int64_t r = 0; r < valid; ++r) {
      const float* row = src + (q * width_ + r) * ld;
      for (int64_t p = 0; p < k_; ++p)
        out[p * width_ + r] = row[p];
    }
  }
}

void PackedMatrix::packPatches(const float* x, int64_t channels, const runtime::Conv2dGeometry& g) {
  for (int64_t q = 0; q < panels(); ++q) {
    float* out = data_.get() + q * k_ * width_;
    int64_t first = q * width_;
    int64_t valid = std::min<int64_t>(width_, rows_ - first);
    int64_t p = 0;
    for (int64_t ci = 0; ci < channels; ++ci)
      for (int64_t kh = 0; kh < g.kernelH; ++kh)
        for (int64_t kw = 0; kw < g.kernelW; ++kw, ++p) {
          float* column = out + p * width_;
          const float* plane = x + ci * g.inH * g.inW;
          int64_t shift = kw * g.dilationW - g.padLeft;
          // The panel's positions, a run of one output row at a time.
          for (int64_t r = 0; r < valid;) {
            int64_t oh = (first + r) / g.outW, ow = (first + r) % g.outW;
            int64_t run = std::min(valid - r, g.outW - ow);
            int64_t ih = oh * g.strideH - g.padTop + kh * g.dilationH;
            float* dst = column + r;
            if (ih < 0 || ih >= g.inH) {
              std::fill(dst, dst + run, 0.0f);
            } else {
              const float* row = plane + ih * g.inW;
              // Outputs i in [lo, hi) of the run read inside the row; the others are padding.
              int64_t lo = 0, hi = run;
              while (lo < run && (ow + lo) * g.strideW + shift < 0)
                ++lo;
              while (hi > lo && (ow + hi - 1) * g.strideW + shift >= g.inW)
                --hi;
              std::fill(dst, dst + lo, 0.0f);
              const float* src = row + (ow + lo) * g.strideW + shift;
              if (g.strideW == 1) {
                std::memcpy(dst + lo, src, static_cast<size_t>(hi - lo) * sizeof(float));
              } else {
                for (int64_t i = lo; i < hi; ++i, src += g.strideW)
                  dst[i] = *src;
              }
              std::fill(dst + hi, dst + run, 0.0f);
            }
            r += run;
          }
        }
  }
}

void gemm(const GemmKernel& kernel, const GemmA& a, const GemmB& b, float* c, int64_t ldc,
          const float* colBias, const float* rowBias, const TileEpilogue* inRegisters,
          runtime::Epilogue epilogue, float* output, runtime::ThreadPool& pool) {
  const codegen::GemmTile& tile = kernel.tile;
  const int64_t width = kernel.width;
  // The columns of the one-row kernel's call: whole panels of B side by side.
  const int64_t wideColumns = GemmKernel::kWideRowPanels * tile.nr;
  if ((a.panelRows && a.panelRows != tile.mr) || a.k != b.k || b.rowLength % width != 0)
    throw InternalError("gemm operands do not fit the kernel's tile");
  int64_t m = a.m, n = b.n;
  if (m <= 0 || n <= 0)
    return;
  int64_t mPanels = (m + tile.mr - 1) / tile.mr, nPanels = (n + tile.nr - 1) / tile.nr;
  int64_t start = c - output;
  // A chunk of tiles is worth handing to another thread from about 2^18 multiply-adds on when
  // its part of B stays in that thread's cache from run to run (weights); otherwise (a
  // convolution's input, prepared by this thread) from 2^21, measured: finer splits made ResNet
  // at batch 1 slower on two threads, and the MLP at batch 1 faster.
  int64_t tileWork = int64_t{tile.mr} * tile.nr * std::max<int64_t>(a.k, 1);
  int64_t grain = std::max<int64_t>(1, (int64_t{1} << (b.resident ? 18 : 21)) / tileWork);
  pool.parallelFor(
      mPanels * nPanels,
      [&](int64_t begin, int64_t end) {
        alignas(64) float edge[8 * 64];
        std::vector<const float*> leaves(inRegisters ? inRegisters->layouts.size() : 0);
        // A tile of a short product (a 1x1 convolution of 16 channels: 16 multiply-adds per
        // accumulator) takes about as long as finding its operands and calling the kernel, so
        // B's columns are found once per column of tiles, and the whole tiles of a column go
        // to the kernel in one call, which steps through A's panels itself.
        const float* columns[kMaxTileVectors];
        const float* aRows[kMaxTileRows];
        int64_t cols = 0, columnsOf = -1;
        const int64_t wholePanels = m / tile.mr;
        const int64_t panelStep = a.panelRows ? a.k * a.panelRows : tile.mr * a.rowPitch;
        // Task nq·mPanels + mq: the tile's column and row panels.
        int64_t nq = begin / mPanels, mq = begin % mPanels;
        for (int64_t task = begin; task < end;) {
          int64_t i0 = mq * tile.mr, j0 = nq * tile.nr;
          int64_t rows = std::min<int64_t>(tile.mr, m - i0);
          if (nq != columnsOf) {
            columnsOf = nq;
            cols = std::min<int64_t>(tile.nr, n - j0);
            // Vectors past the last column read the first again: a whole-tile kernel that
            // computes a narrow edge into a buffer (when there are no narrow kernels) reads
            // only memory that exists, and its extra columns are not copied out.
            for (int64_t v = 0; v < tile.nr / width; ++v)
              columns[v] = v * width < cols ? b.column(j0 + v * width) : columns[0];
          }
          // Rows past the last repeat it: only an edge tile computed into a buffer reads them.
          for (int64_t r = 0; r < tile.mr; ++r)
            aRows[r] = a.row(std::min(i0 + r, m - 1));
          const float* rowBiasHere = rowBias ? rowBias + i0 : nullptr;
          const float* colBiasHere = colBias ? colBias + j0 : nullptr;
          float* target = c + i0 * ldc + j0;
          bool whole = rows == tile.mr && cols == tile.nr;
          int64_t panels = whole ? std::min(end - task, wholePanels - mq) : 1;
          // The tile's epilogue in registers: a whole tile's, or the last rows' own kernel.
          GemmKernelFn fused = !inRegisters ? nullptr
                               : whole      ? inRegisters->kernel
                               : cols == tile.nr && rows == inRegisters->edgeRows
                                   ? inRegisters->edgeKernel
                                   : nullptr;
          if (fused) {
            for (size_t l = 0; l < leaves.size(); ++l) {
              const float* origin = inRegisters->origins[l];
              switch (inRegisters->layouts[l]) {
              case codegen::TileLeaf::RowScalar:
                origin += i0;
                break;
              case codegen::TileLeaf::ColumnVector:
                origin += j0;
                break;
              case codegen::TileLeaf::Matrix:
                origin += start + i0 * ldc + j0;
                break;
              default:
                break;
              }
              leaves[l] = origin;
            }
            fused(aRows, a.stride(), columns, b.offsets, target, ldc, a.k, colBiasHere, rowBiasHere,
                  leaves.data(), panels, panelStep);
          } else if (whole) {
            kernel.fn(aRows, a.stride(), columns, b.offsets, target, ldc, a.k, colBiasHere,
                      rowBiasHere, nullptr, panels, panelStep);
          } else if (m == 1 && kernel.wideRow && end - task >= GemmKernel::kWideRowPanels &&
                     n - j0 >= wideColumns) {
            // A row alone (a dense layer at batch 1), and the next panels of B whole: one call
            // across them. Each output still sums its products in order of p.
            const float* wide[kMaxTileVectors];
            for (int64_t v = 0; v < wideColumns / width; ++v)
              wide[v] = b.column(j0 + v * width);
            kernel.wideRow(aRows, a.stride(), wide, b.offsets, target, ldc, a.k, colBiasHere,
                           rowBiasHere, nullptr, 1, 0);
            if (epilogue)
              epilogue.apply(epilogue.context, output, start + j0, wideColumns);
            // (One row panel: the next task is the next column of tiles, whose B columns the
            // loop finds anew.)
            task += GemmKernel::kWideRowPanels;
            nq += GemmKernel::kWideRowPanels;
            continue;
          } else if (cols == tile.nr) {
            // The last rows (a batch of one, a layer of 16 channels): a kernel that computes
            // and stores just those.
            kernel.rows[static_cast<size_t>(rows - 1)](aRows, a.stride(), columns, b.offsets,
                                                       target, ldc, a.k, colBiasHere, rowBiasHere,
                                                       nullptr, 1, 0);
          } else {
            // An edge tile: computed whole into a buffer (biases read past the end only
            // through padded copies), then its valid part copied out.
            alignas(64) float colPad[64] = {};
            alignas(64) float rowPad[8] = {};
            if (colBiasHere) {
              std::memcpy(colPad, colBiasHere, static_cast<size_t>(cols) * sizeof(float));
              colBiasHere = colPad;
            }
            if (rowBiasHere) {
              std::memcpy(rowPad, rowBiasHere, static_cast<size_t>(rows) * sizeof(float));
              rowBiasHere = rowPad;
            }
            GemmKernelFn edgeKernel = rows == 1 ? kernel.rows.front() : kernel.fn;
            if (!kernel.narrow.empty()) {
              auto vectors = static_cast<size_t>(
                  (cols * int64_t(kernel.narrow.size() + 1) + tile.nr - 1) / tile.nr);
              if (vectors <= kernel.narrow.size())
                edgeKernel = kernel.narrow[vectors - 1];
            }
            edgeKernel(aRows, a.stride(), columns, b.offsets, edge, tile.nr, a.k, colBiasHere,
                       rowBiasHere, nullptr, 1, 0);
            for (int64_t r = 0; r < rows; ++r)
              std::memcpy(target + r * ldc, edge + r * tile.nr,
                          static_cast<size_t>(cols) * sizeof(float));
          }
          if (epilogue && !fused)
            for (int64_t r = 0; r < (panels - 1) * tile.mr + rows; ++r)
              epilogue.apply(epilogue.context, output, start + (i0 + r) * ldc + j0, cols);
          task += panels;
          mq += panels;
          if (mq == mPanels) {
            mq = 0;
            ++nq;
          }
        }
      },
      grain);
}

} // namespace nnc::jit
