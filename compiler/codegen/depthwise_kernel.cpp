#include "compiler/codegen/depthwise_kernel.h"

#include "compiler/codegen/elementwise_loop.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>
#include <vector>

namespace nnc::codegen {

llvm::Function* emitDepthwiseKernel(llvm::Module& module, llvm::StringRef name,
                                    const TargetIsa& isa, const DepthwiseShape& shape) {
  unsigned width = isa.vectorWidth;
  llvm::LLVMContext& context = module.getContext();
  auto* ptr = llvm::PointerType::get(context, 0);
  auto* f32 = llvm::Type::getFloatTy(context);
  auto* i64 = llvm::Type::getInt64Ty(context);
  auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptr, ptr, ptr, f32}, false);
  llvm::Function* kernel =
      llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, module);
  setVectorAttributes(*kernel, isa);
  auto args = kernel->arg_begin();
  llvm::Value* padded = &*args++;
  llvm::Value* taps = &*args++;
  llvm::Value* y = &*args++;
  llvm::Value* bias = &*args;

  auto* entry = llvm::BasicBlock::Create(context, "entry", kernel);
  auto* loop = llvm::BasicBlock::Create(context, "row", kernel);
  auto* exit = llvm::BasicBlock::Create(context, "exit", kernel);
  llvm::IRBuilder<> b(entry);
  auto* vector = llvm::FixedVectorType::get(f32, width);
  std::vector<llvm::Value*> tap;
  for (int64_t t = 0; t < shape.kernelH * shape.kernelW; ++t)
    tap.push_back(b.CreateVectorSplat(
        width, b.CreateAlignedLoad(f32, b.CreateConstGEP1_64(f32, taps, t), llvm::Align(4))));
  llvm::Value* start = b.CreateVectorSplat(width, bias);
  b.CreateBr(loop);

  b.SetInsertPoint(loop);
  llvm::PHINode* oh = b.CreatePHI(i64, 2, "oh");
  oh->addIncoming(b.getInt64(0), entry);
  llvm::Value* inRow =
      b.CreateGEP(f32, padded, b.CreateMul(oh, b.getInt64(shape.strideH * shape.paddedW)));
  llvm::Value* outRow = b.CreateGEP(f32, y, b.CreateMul(oh, b.getInt64(shape.outW)));
  std::vector<int> lanes;
  for (unsigned lane = 0; lane < width; ++lane)
    lanes.push_back(static_cast<int>(lane * shape.strideW));
  auto* wide = llvm::FixedVectorType::get(f32, width * static_cast<unsigned>(shape.strideW));
  // Direct: per kernel row kh, whether input row oh·strideH - padTop + kh·dilationH is inside
  // the plane, and a pointer to it (any row when it is not: its loads are fully masked).
  std::vector<llvm::Value*> rowInside, rowAt;
  if (shape.direct)
    for (int64_t kh = 0; kh < shape.kernelH; ++kh) {
      llvm::Value* ih = b.CreateAdd(b.CreateMul(oh, b.getInt64(shape.strideH)),
                                    b.getInt64(kh * shape.dilationH - shape.padTop));
      llvm::Value* inside = b.CreateAnd(b.CreateICmpSGE(ih, b.getInt64(0)),
                                        b.CreateICmpSLT(ih, b.getInt64(shape.inH)));
      rowInside.push_back(inside);
      llvm::Value* safe = b.CreateSelect(inside, ih, b.getInt64(0));
      rowAt.push_back(b.CreateGEP(f32, padded, b.CreateMul(safe, b.getInt64(shape.inW))));
    }
  // Direct: the lanes of chunk c, tap column kw, that read a column inside the row (for a
  // strided load, the lanes of the wide vector that the shuffle keeps and that are inside).
  auto loadDirect = [&](int64_t c, int64_t kh, int64_t kw) -> llvm::Value* {
    int64_t first = c * width * shape.strideW - shape.padLeft + kw * shape.dilationW;
    unsigned loaded = width * static_cast<unsigned>(shape.strideW);
    std::vector<llvm::Constant*> inside;
    for (unsigned lane = 0; lane < loaded; ++lane) {
      int64_t column = first + lane;
      bool used = lane % shape.strideW == 0;
      inside.push_back(b.getInt1(used && column >= 0 && column < shape.inW));
    }
    llvm::Value* mask = b.CreateAnd(llvm::ConstantVector::get(inside),
                                    b.CreateVectorSplat(loaded, rowInside[size_t(kh)]));
    llvm::Value* at = b.CreateGEP(f32, rowAt[size_t(kh)], b.getInt64(first));
    auto* loadType = llvm::FixedVectorType::get(f32, loaded);
    llvm::Value* values = b.CreateMaskedLoad(loadType, at, llvm::Align(4), mask,
                                             llvm::Constant::getNullValue(loadType));
    return shape.strideW == 1 ? values : b.CreateShuffleVector(values, lanes);
  };
  for (int64_t c = 0; c < shape.chunks(width); ++c) {
    llvm::Value* acc = start;
    for (int64_t kh = 0; kh < shape.kernelH; ++kh)
      for (int64_t kw = 0; kw < shape.kernelW; ++kw) {
        int64_t offset =
            kh * shape.dilationH * shape.paddedW + c * width * shape.strideW + kw * shape.dilationW;
        llvm::Value* input;
        if (shape.direct) {
          input = loadDirect(c, kh, kw);
        } else {
          llvm::Value* at = b.CreateConstGEP1_64(f32, inRow, static_cast<uint64_t>(offset));
          if (shape.strideW == 1) {
            input = b.CreateAlignedLoad(vector, at, llvm::Align(4));
          } else {
            input = b.CreateShuffleVector(b.CreateAlignedLoad(wide, at, llvm::Align(4)), lanes);
          }
        }
        acc = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vector},
                                {input, tap[static_cast<size_t>(kh * shape.kernelW + kw)], acc});
      }
    int64_t valid = std::min<int64_t>(width, shape.outW - c * width);
    llvm::Value* target =
        b.CreateConstGEP1_64(f32, outRow, static_cast<uint64_t>(c * int64_t{width}));
    if (valid == width) {
      b.CreateAlignedStore(acc, target, llvm::Align(4));
    } else if (isa.kind != IsaKind::Sse) {
      std::vector<llvm::Constant*> mask;
      for (unsigned lane = 0; lane < width; ++lane)
        mask.push_back(b.getInt1(lane < valid));
      b.CreateMaskedStore(acc, target, llvm::Align(4), llvm::ConstantVector::get(mask));
    } else {
      for (int64_t lane = 0; lane < valid; ++lane)
        b.CreateAlignedStore(b.CreateExtractElement(acc, static_cast<uint64_t>(lane)),
                             b.CreateConstGEP1_64(f32, target, static_cast<uint64_t>(lane)),
                             llvm::Align(4));
    }
  }
  llvm::Value* next = b.CreateAdd(oh, b.getInt64(1));
  oh->addIncoming(next, b.GetInsertBlock());
  b.CreateCondBr(b.CreateICmpSLT(next, b.getInt64(shape.outH)), loop, exit);
  b.SetInsertPoint(exit);
  b.CreateRetVoid();
  return kernel;
}

} // namespace nnc::codegen
