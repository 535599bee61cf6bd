#include "compiler/codegen/gemm_kernel.h"

#include "compiler/codegen/elementwise_loop.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace nnc::codegen {

GemmEpilogue GemmEpilogue::activation(ir::OpKind op, std::vector<ir::AttrValue> attrs) {
  FusedStep step{op, std::move(attrs), {FusedExpression::leaf(0)}};
  return {FusedExpression{std::vector<bool>(1, false), {std::move(step)}}, {TileLeaf::Accumulator}};
}

llvm::Function* emitGemmKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                               const GemmEpilogue* epilogue, unsigned rows,
                               unsigned columnVectors) {
  GemmTile tile = gemmTile(isa);
  // Only the whole tile walks down a column of tiles: the shorter and narrower ones are a
  // layer's edges, one tile each, and a loop they never take would cost compile time.
  bool walks = true;
  if (rows > 0 && rows < tile.mr) {
    tile.mr = rows;
    walks = false;
  }
  unsigned width = isa.vectorWidth;
  unsigned vectors = tile.nr / width;
  if (columnVectors > 0 && columnVectors != vectors) {
    if (columnVectors > vectors && tile.mr != 1)
      throw std::invalid_argument("only a one-row GEMM kernel may be wider than the tile");
    vectors = columnVectors;
    walks = false;
  }
  llvm::LLVMContext& context = module.getContext();
  auto* ptr = llvm::PointerType::get(context, 0);
  auto* i64 = llvm::Type::getInt64Ty(context);
  llvm::Function* kernel = declareKernel(
      module, name, isa, {ptr, i64, ptr, ptr, ptr, i64, i64, ptr, ptr, ptr, i64, i64});
  auto args = kernel->arg_begin();
  llvm::Value* aRows = &*args++;
  llvm::Value* aStride = &*args++;
  llvm::Value* bases = &*args++;
  llvm::Value* offsets = &*args++;
  llvm::Value* firstC = &*args++;
  llvm::Value* ldc = &*args++;
  llvm::Value* k = &*args++;
  llvm::Value* colBias = &*args++;
  llvm::Value* firstRowBias = &*args++;
  llvm::Value* leaves = &*args++;
  llvm::Value* panels = &*args++;
  llvm::Value* panelStep = &*args;

  auto* start = llvm::BasicBlock::Create(context, "start", kernel);
  auto* entry = llvm::BasicBlock::Create(context, "panel", kernel);
  auto* loop = llvm::BasicBlock::Create(context, "k.loop", kernel);
  auto* done = llvm::BasicBlock::Create(context, "k.done", kernel);
  llvm::IRBuilder<> builder(start);
  llvm::Type* f32 = builder.getFloatTy();
  auto* vector = llvm::FixedVectorType::get(f32, width);
  llvm::Value* zero = llvm::Constant::getNullValue(vector);
  // Where each row of A starts in the first panel (element p is p·aStride further), and where
  // each vector of B's columns starts (row p of it is offsets[p] further).
  std::vector<llvm::Value*> firstRows;
  for (unsigned r = 0; r < tile.mr; ++r)
    firstRows.push_back(builder.CreateAlignedLoad(ptr, builder.CreateConstGEP1_64(ptr, aRows, r),
                                                  llvm::Align(8), "a.row"));
  std::vector<llvm::Value*> columnBase;
  for (unsigned v = 0; v < vectors; ++v)
    columnBase.push_back(builder.CreateAlignedLoad(ptr, builder.CreateConstGEP1_64(ptr, bases, v),
                                                   llvm::Align(8), "b.base"));
  std::vector<llvm::Value*> firstLeaves;
  if (epilogue)
    for (size_t l = 0; l < epilogue->leaves.size(); ++l)
      firstLeaves.push_back(builder.CreateAlignedLoad(
          ptr, builder.CreateConstGEP1_64(ptr, leaves, l), llvm::Align(8)));
  builder.CreateBr(entry);

  // The panel loop: tile q covers rows q·MR.. of C, reads A's rows panelStep·q further, and
  // its epilogue's per-row and matrix leaves as many rows further.
  builder.SetInsertPoint(entry);
  llvm::PHINode* walk = walks ? builder.CreatePHI(i64, 2, "q") : nullptr;
  llvm::Value* panel = walks ? static_cast<llvm::Value*>(walk) : builder.getInt64(0);
  if (walks)
    walk->addIncoming(builder.getInt64(0), start);
  llvm::Value* firstRow = builder.CreateMul(panel, builder.getInt64(tile.mr));
  llvm::Value* rowOffset = builder.CreateMul(firstRow, ldc);
  llvm::Value* c = builder.CreateGEP(f32, firstC, rowOffset);
  llvm::Value* rowBias = builder.CreateGEP(f32, firstRowBias, firstRow);
  std::vector<llvm::Value*> rowBase;
  for (llvm::Value* first : firstRows)
    rowBase.push_back(builder.CreateGEP(f32, first, builder.CreateMul(panel, panelStep)));
  builder.CreateCondBr(builder.CreateICmpSGT(k, builder.getInt64(0)), loop, done);

  // The k loop: the accumulators are phis, one per (row, vector of columns).
  builder.SetInsertPoint(loop);
  llvm::PHINode* p = builder.CreatePHI(i64, 2, "p");
  p->addIncoming(builder.getInt64(0), entry);
  std::vector<llvm::PHINode*> accumulators;
  for (unsigned i = 0; i < tile.mr * vectors; ++i) {
    accumulators.push_back(builder.CreatePHI(vector, 2, "acc"));
    accumulators.back()->addIncoming(zero, entry);
  }
  std::vector<llvm::Value*> row;
  llvm::Value* offset =
      builder.CreateAlignedLoad(i64, builder.CreateGEP(i64, offsets, p), llvm::Align(8));
  for (unsigned v = 0; v < vectors; ++v)
    row.push_back(builder.CreateAlignedLoad(vector, builder.CreateGEP(f32, columnBase[v], offset),
                                            llvm::Align(4)));
  llvm::Value* aOffset = builder.CreateMul(p, aStride);
  std::vector<llvm::Value*> next;
  for (unsigned r = 0; r < tile.mr; ++r) {
    llvm::Value* scalar =
        builder.CreateAlignedLoad(f32, builder.CreateGEP(f32, rowBase[r], aOffset), llvm::Align(4));
    llvm::Value* broadcast = builder.CreateVectorSplat(width, scalar);
    for (unsigned v = 0; v < vectors; ++v)
      next.push_back(builder.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vector},
                                             {broadcast, row[v], accumulators[r * vectors + v]}));
  }
  llvm::Value* pNext = builder.CreateAdd(p, builder.getInt64(1));
  p->addIncoming(pNext, loop);
  for (size_t i = 0; i < accumulators.size(); ++i)
    accumulators[i]->addIncoming(next[i], loop);
  builder.CreateCondBr(builder.CreateICmpSLT(pNext, k), loop, done);

  // Biases, then one store per accumulator.
  builder.SetInsertPoint(done);
  std::vector<llvm::Value*> sums;
  for (size_t i = 0; i < accumulators.size(); ++i) {
    llvm::PHINode* sum = builder.CreatePHI(vector, 2, "sum");
    sum->addIncoming(zero, entry);
    sum->addIncoming(next[i], loop);
    sums.push_back(sum);
  }
  auto* withColumns = llvm::BasicBlock::Create(context, "col.bias", kernel);
  auto* afterColumns = llvm::BasicBlock::Create(context, "col.done", kernel);
  builder.CreateCondBr(builder.CreateIsNotNull(colBias), withColumns, afterColumns);
  builder.SetInsertPoint(withColumns);
  std::vector<llvm::Value*> biased;
  for (unsigned r = 0; r < tile.mr; ++r)
    for (unsigned v = 0; v < vectors; ++v) {
      llvm::Value* bias = builder.CreateAlignedLoad(
          vector, builder.CreateConstGEP1_64(f32, colBias, v * width), llvm::Align(4));
      biased.push_back(builder.CreateFAdd(sums[r * vectors + v], bias));
    }
  builder.CreateBr(afterColumns);
  builder.SetInsertPoint(afterColumns);
  for (size_t i = 0; i < sums.size(); ++i) {
    llvm::PHINode* merged = builder.CreatePHI(vector, 2);
    merged->addIncoming(sums[i], done);
    merged->addIncoming(biased[i], withColumns);
    sums[i] = merged;
  }
  auto* withRows = llvm::BasicBlock::Create(context, "row.bias", kernel);
  auto* store = llvm::BasicBlock::Create(context, "store", kernel);
  builder.CreateCondBr(builder.CreateIsNotNull(firstRowBias), withRows, store);
  builder.SetInsertPoint(withRows);
  biased.clear();
  for (unsigned r = 0; r < tile.mr; ++r) {
    llvm::Value* bias = builder.CreateVectorSplat(
        width, builder.CreateAlignedLoad(f32, builder.CreateConstGEP1_64(f32, rowBias, r),
                                         llvm::Align(4)));
    for (unsigned v = 0; v < vectors; ++v)
      biased.push_back(builder.CreateFAdd(sums[r * vectors + v], bias));
  }
  builder.CreateBr(store);
  builder.SetInsertPoint(store);
  std::vector<llvm::Value*> results;
  for (size_t i = 0; i < sums.size(); ++i) {
    llvm::PHINode* merged = builder.CreatePHI(vector, 2);
    merged->addIncoming(sums[i], afterColumns);
    merged->addIncoming(biased[i], withRows);
    results.push_back(merged);
  }
  // The epilogue's leaves for this panel: per row its scalars and per vector its columns.
  std::vector<llvm::Value*> leafBase;
  if (epilogue)
    for (size_t l = 0; l < epilogue->leaves.size(); ++l) {
      llvm::Value* base = firstLeaves[l];
      if (epilogue->leaves[l] == TileLeaf::RowScalar)
        base = builder.CreateGEP(f32, base, firstRow);
      else if (epilogue->leaves[l] == TileLeaf::Matrix)
        base = builder.CreateGEP(f32, base, rowOffset);
      leafBase.push_back(base);
    }
  auto leafValue = [&](size_t l, unsigned r, unsigned v, llvm::Value* accumulator) {
    switch (epilogue->leaves[l]) {
    case TileLeaf::Accumulator:
      return accumulator;
    case TileLeaf::RowScalar:
      return builder.CreateVectorSplat(
          width, builder.CreateAlignedLoad(f32, builder.CreateConstGEP1_64(f32, leafBase[l], r),
                                           llvm::Align(4)));
    case TileLeaf::ColumnVector:
      return static_cast<llvm::Value*>(builder.CreateAlignedLoad(
          vector, builder.CreateConstGEP1_64(f32, leafBase[l], v * width), llvm::Align(4)));
    case TileLeaf::Scalar:
      return builder.CreateVectorSplat(width,
                                       builder.CreateAlignedLoad(f32, leafBase[l], llvm::Align(4)));
    case TileLeaf::Matrix: {
      llvm::Value* leafRow =
          builder.CreateGEP(f32, leafBase[l], builder.CreateMul(builder.getInt64(r), ldc));
      return static_cast<llvm::Value*>(builder.CreateAlignedLoad(
          vector, builder.CreateConstGEP1_64(f32, leafRow, v * width), llvm::Align(4)));
    }
    }
    return accumulator;
  };
  for (unsigned r = 0; r < tile.mr; ++r) {
    llvm::Value* cRow = builder.CreateGEP(f32, c, builder.CreateMul(builder.getInt64(r), ldc));
    for (unsigned v = 0; v < vectors; ++v) {
      llvm::Value* value = results[r * vectors + v];
      if (epilogue) {
        std::vector<llvm::Value*> inputs;
        for (size_t l = 0; l < epilogue->leaves.size(); ++l)
          inputs.push_back(leafValue(l, r, v, value));
        value = emitExpression(builder, isa, epilogue->expression, inputs);
      }
      builder.CreateAlignedStore(value, builder.CreateConstGEP1_64(f32, cRow, v * width),
                                 llvm::Align(4));
    }
  }
  if (walks) {
    llvm::Value* nextPanel = builder.CreateAdd(walk, builder.getInt64(1));
    walk->addIncoming(nextPanel, builder.GetInsertBlock());
    auto* exit = llvm::BasicBlock::Create(context, "exit", kernel);
    builder.CreateCondBr(builder.CreateICmpSLT(nextPanel, panels), entry, exit);
    builder.SetInsertPoint(exit);
  }
  builder.CreateRetVoid();
  return kernel;
}

} // namespace nnc::codegen
