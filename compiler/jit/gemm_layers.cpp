#include "compiler/jit/gemm_layers.h"

#include "compiler/jit/conv_input.h"

#include <algorithm>

namespace nnc::jit {

PackedWeights packDenseWeights(const GemmKernel& kernel, const float* weight, int64_t units,
                               int64_t in) {
  PackedWeights packed;
  packed.emplace_back(units, in, kernel.tile.nr);
  packed.back().packRows(weight, in);
  return packed;
}

PackedWeights packConvWeights(const GemmKernel& kernel, const float* weight,
                              const runtime::Conv2dGeometry& g) {
  if (isDenseConv(g))
    return packDenseWeights(kernel, weight, g.outChannels, g.inChannels * g.kernelH * g.kernelW);
  int64_t outPerGroup = g.outChannels / g.groups;
  int64_t depth = g.inChannels / g.groups * g.kernelH * g.kernelW;
  PackedWeights packed;
  for (int64_t group = 0; group < g.groups; ++group) {
    packed.emplace_back(outPerGroup, depth, kernel.tile.mr);
    packed.back().packRows(weight + group * outPerGroup * depth, depth);
  }
  return packed;
}

void denseGemm(const GemmKernel& kernel, const PackedWeights& weights, const float* x, int64_t rows,
               int64_t in, const float* bias, float* y, runtime::Epilogue epilogue,
               runtime::ThreadPool& pool, const TileEpilogue* inRegisters) {
  GemmA a = GemmA::rowMajor(x, rows, in, in); // read in place: no packing per run
  GemmB b = GemmB::packed(weights.front(), /*resident=*/true);
  if (inRegisters) {
    gemm(kernel, a, b, y, b.n, bias, nullptr, inRegisters, epilogue, y, pool);
    return;
  }
  gemm(kernel, a, b, y, b.n, bias, nullptr, nullptr, {}, y, pool);
  // The epilogue a whole row at a time: per tile (64 columns) its call would cost more than the
  // work on a layer with a short k.
  if (epilogue) {
    int64_t units = b.n;
    pool.parallelFor(
        rows,
        [&](int64_t begin, int64_t end) {
          for (int64_t r = begin; r < end; ++r)
            epilogue.apply(epilogue.context, y, r * units, units);
        },
        std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(units, 1)));
  }
}

void maxoutGemm(const GemmKernel& kernel, const PackedWeights& weights, const float* x,
                int64_t rows, int64_t in, const float* bias, int64_t units, int64_t pieces,
                float* y, runtime::Epilogue epilogue, runtime::ThreadPool& pool) {
  runtime::maxoutBlocks(rows, units, pieces, y, epilogue, [&](int64_t r0, int64_t block, float* z) {
    gemm(kernel, GemmA::rowMajor(x + r0 * in, block, in, in),
         GemmB::packed(weights.front(), /*resident=*/true), z, units * pieces, bias, nullptr,
         nullptr, {}, z, pool);
  });
}

void convGemm(const GemmKernel& kernel, const PackedWeights& weights, const float* x,
              const float* bias, float* y, const runtime::Conv2dGeometry& g,
              runtime::Epilogue epilogue, runtime::ThreadPool& pool,
              const TileEpilogue* inRegisters) {
  if (isDenseConv(g)) {
    denseGemm(kernel, weights, x, g.batch, g.inChannels * g.inH * g.inW, bias, y, epilogue, pool,
              inRegisters);
    return;
  }
  int64_t inPerGroup = g.inChannels / g.groups;
  int64_t outPerGroup = g.outChannels / g.groups;
  int64_t positions = g.outH * g.outW;
  // One (image, group) product per chunk when there are enough of them for the threads (the
  // GEMM and im2col inside then run inline); else each product is split across the threads.
  int64_t products = g.batch * g.groups;
  int64_t grain = products >= pool.threads() ? 1 : products;
  pool.parallelFor(
      products,
      [&](int64_t begin, int64_t end) {
        ConvInput input(g, kernel.tile, kernel.width);
        TileEpilogue groupEpilogue = inRegisters ? *inRegisters : TileEpilogue{};
        for (int64_t product = begin; product < end; ++product) {
          int64_t n = product / g.groups, group = product % g.groups;
          GemmB b = input.prepare(x + (n * g.inChannels + group * inPerGroup) * g.inH * g.inW);
          float* out = y + (n * g.outChannels + group * outPerGroup) * positions;
          const float* groupBias = bias ? bias + group * outPerGroup : nullptr;
          GemmA groupWeights = GemmA::packed(weights[static_cast<size_t>(group)]);
          if (inRegisters) {
            // Per-channel leaves start at the group's first channel.
            for (size_t l = 0; l < groupEpilogue.origins.size(); ++l)
              if (groupEpilogue.layouts[l] == codegen::TileLeaf::RowScalar)
                groupEpilogue.origins[l] = inRegisters->origins[l] + group * outPerGroup;
            gemm(kernel, groupWeights, b, out, positions, nullptr, groupBias, &groupEpilogue,
                 epilogue, y, pool);
            continue;
          }
          gemm(kernel, groupWeights, b, out, positions, nullptr, groupBias, nullptr, {}, y, pool);
          // The epilogue a channel plane at a time, while the group's planes are in cache.
          if (epilogue)
            for (int64_t c = 0; c < outPerGroup; ++c)
              epilogue.apply(epilogue.context, y, (out - y) + c * positions, positions);
        }
      },
      grain);
}

} // namespace nnc::jit
