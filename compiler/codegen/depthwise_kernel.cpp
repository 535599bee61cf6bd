#include "compiler/codegen/depthwise_kernel.h"

#include "compiler/codegen/elementwise_loop.h"

#include <llvm/Analysis/VectorUtils.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

namespace nnc::codegen {

namespace {

/// Emits the kernel's rows. Output rows are computed a few at a time: their multiply-add chains
/// are independent (one chain of kernelH·kernelW taps per output vector would otherwise bound
/// the loop by the FMA's latency), and rows that read the same input row share its loads.
class DepthwiseEmitter {
public:
  DepthwiseEmitter(llvm::IRBuilder<>& b, const TargetIsa& isa, const DepthwiseShape& shape,
                   llvm::Value* input, llvm::Value* y, std::vector<llvm::Value*> taps,
                   llvm::Value* start)
      : b_(b), isa_(isa), shape_(shape), width_(isa.vectorWidth), input_(input), y_(y),
        taps_(std::move(taps)), start_(start), f32_(b.getFloatTy()),
        vector_(llvm::FixedVectorType::get(f32_, width_)) {}

  /// Output rows oh .. oh + rows - 1: every product, then every store.
  void emitRows(llvm::Value* oh, int64_t rows) {
    rows_.clear();
    loads_.clear();
    int64_t chunks = shape_.chunks(width_);
    std::vector<llvm::Value*> sums;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < chunks; ++c) {
        llvm::Value* acc = start_;
        for (int64_t kh = 0; kh < shape_.kernelH; ++kh)
          for (int64_t kw = 0; kw < shape_.kernelW; ++kw)
            acc =
                b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vector_},
                                   {tapInput(oh, r * shape_.strideH + kh * shape_.dilationH, c, kw),
                                    taps_[static_cast<size_t>(kh * shape_.kernelW + kw)], acc});
        sums.push_back(acc);
      }
    if (shape_.direct)
      prefetchAhead(oh, rows);
    for (int64_t r = 0; r < rows; ++r) {
      llvm::Value* outRow = b_.CreateGEP(
          f32_, y_, b_.CreateMul(b_.CreateAdd(oh, b_.getInt64(r)), b_.getInt64(shape_.outW)));
      for (int64_t c = 0; c < chunks; ++c)
        store(sums[static_cast<size_t>(r * chunks + c)], outRow, c);
    }
  }

private:
  /// Prefetches the input rows that the step after next reads (reading the plane in place, the
  /// planes of a layer lie one after another, so this runs on into the next plane; a prefetch
  /// past the last one is harmless). Measured on MobileNet's stride-2 layer, whose input comes
  /// from L3: 0.94x oneDNN against 0.87x without (medians of five alternating runs).
  void prefetchAhead(llvm::Value* oh, int64_t rows) {
    int64_t floats = rows * shape_.strideH * shape_.inW; // what a step advances through
    llvm::Value* start =
        b_.CreateGEP(f32_, input_, b_.CreateMul(oh, b_.getInt64(shape_.strideH * shape_.inW)));
    for (int64_t f = 0; f < floats; f += 64 / sizeof(float))
      b_.CreateIntrinsic(llvm::Intrinsic::prefetch, {b_.getPtrTy()},
                         {b_.CreateConstGEP1_64(f32_, start, static_cast<uint64_t>(2 * floats + f)),
                          b_.getInt32(0), b_.getInt32(3), b_.getInt32(1)}); // read, keep, data
  }

  /// Input row oh·strideH + offset (offset counts kernel rows and rows of the step): where it
  /// starts and, reading the plane directly, whether it is inside the plane (its loads are fully
  /// masked when not, and it starts anywhere).
  struct InputRow {
    llvm::Value* at = nullptr;
    llvm::Value* inside = nullptr;
  };
  const InputRow& inputRow(llvm::Value* oh, int64_t offset) {
    auto found = rows_.find(offset);
    if (found != rows_.end())
      return found->second;
    InputRow row;
    llvm::Value* base = b_.CreateMul(oh, b_.getInt64(shape_.strideH));
    if (shape_.direct) {
      llvm::Value* ih = b_.CreateAdd(base, b_.getInt64(offset - shape_.padTop));
      row.inside = b_.CreateAnd(b_.CreateICmpSGE(ih, b_.getInt64(0)),
                                b_.CreateICmpSLT(ih, b_.getInt64(shape_.inH)));
      llvm::Value* safe = b_.CreateSelect(row.inside, ih, b_.getInt64(0));
      row.at = b_.CreateGEP(f32_, input_, b_.CreateMul(safe, b_.getInt64(shape_.inW)));
    } else {
      row.at = b_.CreateGEP(
          f32_, input_,
          b_.CreateMul(b_.CreateAdd(base, b_.getInt64(offset)), b_.getInt64(shape_.paddedW)));
    }
    return rows_.emplace(offset, row).first->second;
  }

  /// `lanes` floats of an input row from column `first` (of the padded plane, or of the plane
  /// itself, where columns outside it read as zeros).
  llvm::Value* loadRow(const InputRow& row, int64_t first, unsigned lanes) {
    auto* type = llvm::FixedVectorType::get(f32_, lanes);
    llvm::Value* at = b_.CreateGEP(f32_, row.at, b_.getInt64(first));
    if (!shape_.direct)
      return b_.CreateAlignedLoad(type, at, llvm::Align(4));
    // One masked load per vector, and none where every column is outside the plane. A masked
    // load wider than a vector, left for LLVM 19's X86 back end to split, lost its mask: on
    // AVX2 the half of a strided row's load past the plane's right edge became a plain load of
    // the next row (a wrong output; found by a conv2d sweep against PyTorch).
    auto* piece = llvm::FixedVectorType::get(f32_, width_);
    llvm::Value* zero = llvm::Constant::getNullValue(piece);
    std::vector<llvm::Value*> pieces;
    for (int64_t start = 0; start < int64_t{lanes}; start += width_) {
      std::vector<llvm::Constant*> inside;
      bool any = false;
      for (int64_t lane = 0; lane < int64_t{width_}; ++lane) {
        int64_t column = first + start + lane;
        bool in = start + lane < int64_t{lanes} && column >= 0 && column < shape_.inW;
        inside.push_back(b_.getInt1(in));
        any |= in;
      }
      if (!any) {
        pieces.push_back(zero);
        continue;
      }
      llvm::Value* mask =
          b_.CreateAnd(llvm::ConstantVector::get(inside), b_.CreateVectorSplat(width_, row.inside));
      pieces.push_back(b_.CreateMaskedLoad(piece, b_.CreateConstGEP1_64(f32_, at, start),
                                           llvm::Align(4), mask, zero));
    }
    llvm::Value* joined =
        pieces.size() == 1 ? pieces.front() : llvm::concatenateVectors(b_, pieces);
    std::vector<int> kept; // the first `lanes` of the vectors' lanes
    for (unsigned lane = 0; lane < lanes; ++lane)
      kept.push_back(static_cast<int>(lane));
    return b_.CreateShuffleVector(joined, kept);
  }

  /// The inputs of tap column kw for chunk c of an output row, input row `offset`. With a
  /// stride, one load covers every tap column of the chunk, and each takes its lanes from it.
  llvm::Value* tapInput(llvm::Value* oh, int64_t offset, int64_t c, int64_t kw) {
    const InputRow& row = inputRow(oh, offset);
    int64_t origin = c * int64_t{width_} * shape_.strideW - (shape_.direct ? shape_.padLeft : 0);
    if (shape_.strideW == 1) {
      llvm::Value*& loaded = loads_[{offset, c, kw}];
      if (!loaded)
        loaded = loadRow(row, origin + kw * shape_.dilationW, width_);
      return loaded;
    }
    llvm::Value*& wide = loads_[{offset, c, -1}];
    if (!wide)
      wide = loadRow(row, origin,
                     static_cast<unsigned>(int64_t{width_} * shape_.strideW +
                                           (shape_.kernelW - 1) * shape_.dilationW));
    // Tap column kw reads phase (kw·dilationW) mod strideW of the row, from element
    // (kw·dilationW) / strideW of that phase on: each phase is gathered from the load once
    // (frozen, so that LLVM does not fold it back into a wider shuffle per tap), and a tap
    // further along shifts it by whole lanes with the next elements of the phase (valignd).
    int64_t s = shape_.strideW, at = kw * shape_.dilationW, phase = at % s, shift = at / s;
    llvm::Value*& stream = loads_[{offset, c, -2 - phase}];
    if (!stream) {
      std::vector<int> lanes;
      for (int64_t j = 0; j < int64_t{width_}; ++j)
        lanes.push_back(static_cast<int>(phase + j * s));
      stream = b_.CreateFreeze(b_.CreateShuffleVector(wide, lanes));
    }
    if (shift == 0)
      return stream;
    if (shift >= int64_t{width_}) {
      // Past the phase's next vector (a dilation wider than the stride): gathered directly.
      std::vector<int> lanes;
      for (int64_t j = 0; j < int64_t{width_}; ++j)
        lanes.push_back(static_cast<int>(at + j * s));
      return b_.CreateShuffleVector(wide, lanes);
    }
    std::vector<int> next, shifted;
    for (int64_t j = 0; j < int64_t{width_}; ++j) {
      next.push_back(j < shift ? static_cast<int>(phase + (width_ + j) * s) : llvm::PoisonMaskElem);
      shifted.push_back(static_cast<int>(shift + j));
    }
    return b_.CreateShuffleVector(stream, b_.CreateShuffleVector(wide, next), shifted);
  }

  /// Chunk c of an output row: exactly its outW outputs.
  void store(llvm::Value* value, llvm::Value* outRow, int64_t c) {
    int64_t valid = std::min<int64_t>(width_, shape_.outW - c * int64_t{width_});
    llvm::Value* target =
        b_.CreateConstGEP1_64(f32_, outRow, static_cast<uint64_t>(c * int64_t{width_}));
    if (valid == width_) {
      b_.CreateAlignedStore(value, target, llvm::Align(4));
    } else if (isa_.kind != IsaKind::Sse) {
      std::vector<llvm::Constant*> mask;
      for (unsigned lane = 0; lane < width_; ++lane)
        mask.push_back(b_.getInt1(lane < valid));
      b_.CreateMaskedStore(value, target, llvm::Align(4), llvm::ConstantVector::get(mask));
    } else {
      for (int64_t lane = 0; lane < valid; ++lane)
        b_.CreateAlignedStore(b_.CreateExtractElement(value, static_cast<uint64_t>(lane)),
                              b_.CreateConstGEP1_64(f32_, target, static_cast<uint64_t>(lane)),
                              llvm::Align(4));
    }
  }

  llvm::IRBuilder<>& b_;
  const TargetIsa& isa_;
  const DepthwiseShape& shape_;
  unsigned width_;
  llvm::Value* input_;
  llvm::Value* y_;
  std::vector<llvm::Value*> taps_;
  llvm::Value* start_;
  llvm::Type* f32_;
  llvm::FixedVectorType* vector_;
  std::map<int64_t, InputRow> rows_;
  std::map<std::tuple<int64_t, int64_t, int64_t>, llvm::Value*> loads_;
};

/// Output rows computed together: as many as keep their accumulators in registers beside the
/// taps and the loads, up to 4.
int64_t rowsPerStep(const TargetIsa& isa, const DepthwiseShape& shape) {
  int64_t budget = isa.kind == IsaKind::Avx512 ? 12 : 6;
  return std::clamp<int64_t>(budget / shape.chunks(isa.vectorWidth), 1, 4);
}

} // namespace

llvm::Function* emitDepthwiseKernel(llvm::Module& module, llvm::StringRef name,
                                    const TargetIsa& isa, const DepthwiseShape& shape) {
  llvm::LLVMContext& context = module.getContext();
  auto* ptr = llvm::PointerType::get(context, 0);
  auto* f32 = llvm::Type::getFloatTy(context);
  auto* i64 = llvm::Type::getInt64Ty(context);
  llvm::Function* kernel = declareKernel(module, name, isa, {ptr, ptr, ptr, f32});
  for (unsigned arg = 0; arg < 3; ++arg) // the output overlaps neither the input nor the taps
    kernel->addParamAttr(arg, llvm::Attribute::NoAlias);
  auto args = kernel->arg_begin();
  llvm::Value* input = &*args++;
  llvm::Value* taps = &*args++;
  llvm::Value* y = &*args++;
  llvm::Value* bias = &*args;

  auto* entry = llvm::BasicBlock::Create(context, "entry", kernel);
  llvm::IRBuilder<> b(entry);
  unsigned width = isa.vectorWidth;
  std::vector<llvm::Value*> tap;
  for (int64_t t = 0; t < shape.kernelH * shape.kernelW; ++t)
    tap.push_back(b.CreateVectorSplat(
        width, b.CreateAlignedLoad(f32, b.CreateConstGEP1_64(f32, taps, t), llvm::Align(4))));
  DepthwiseEmitter rows(b, isa, shape, input, y, tap, b.CreateVectorSplat(width, bias));

  // A loop over steps of `step` rows, then the rows left (outH is known).
  int64_t step = rowsPerStep(isa, shape);
  int64_t steps = shape.outH / step;
  if (steps > 0) {
    auto* loop = llvm::BasicBlock::Create(context, "rows", kernel);
    auto* after = llvm::BasicBlock::Create(context, "rest", kernel);
    b.CreateBr(loop);
    b.SetInsertPoint(loop);
    llvm::PHINode* oh = b.CreatePHI(i64, 2, "oh");
    oh->addIncoming(b.getInt64(0), entry);
    rows.emitRows(oh, step);
    llvm::Value* next = b.CreateAdd(oh, b.getInt64(step));
    oh->addIncoming(next, b.GetInsertBlock());
    b.CreateCondBr(b.CreateICmpSLT(next, b.getInt64(steps * step)), loop, after);
    b.SetInsertPoint(after);
  }
  if (int64_t rest = shape.outH - steps * step; rest > 0)
    rows.emitRows(b.getInt64(steps * step), rest);
  b.CreateRetVoid();
  return kernel;
}

} // namespace nnc::codegen
