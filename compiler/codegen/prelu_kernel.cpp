#include "compiler/codegen/prelu_kernel.h"

#include "compiler/codegen/elementwise_loop.h"
#include "compiler/codegen/vector_ops.h"

#include <cmath>

namespace nnc::codegen {

namespace {

using Builder = llvm::IRBuilder<>;

/// for (i = 0; i < count; ++i) body(i), in the function being built.
void emitCountedLoop(Builder& b, llvm::Value* count, const char* name,
                     const std::function<void(llvm::Value*)>& body) {
  llvm::Function* function = b.GetInsertBlock()->getParent();
  llvm::LLVMContext& context = function->getContext();
  auto* before = b.GetInsertBlock();
  auto* header = llvm::BasicBlock::Create(context, std::string(name) + ".header", function);
  auto* loop = llvm::BasicBlock::Create(context, std::string(name) + ".body", function);
  auto* after = llvm::BasicBlock::Create(context, std::string(name) + ".end", function);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode* index = b.CreatePHI(b.getInt64Ty(), 2, std::string(name) + ".i");
  index->addIncoming(b.getInt64(0), before);
  b.CreateCondBr(b.CreateICmpSLT(index, count), loop, after);
  b.SetInsertPoint(loop);
  body(index);
  index->addIncoming(b.CreateAdd(index, b.getInt64(1)), b.GetInsertBlock());
  b.CreateBr(header);
  b.SetInsertPoint(after);
}

} // namespace

llvm::Value* emitPrelu(Builder& b, llvm::Value* x, llvm::Value* slope) {
  // NaN fails the comparison and stays NaN through the product, and -0 passes as -0. A slope
  // of ±0 times -inf is NaN, where the limit of ±0·x is ∓0, as for any negative x.
  llvm::Value* product = b.CreateFMul(x, slope);
  llvm::Value* zeroTimesInf =
      b.CreateAnd(b.CreateFCmpOEQ(x, splat(x, -INFINITY)), b.CreateFCmpOEQ(slope, splat(slope, 0)));
  product = b.CreateSelect(zeroTimesInf, b.CreateFNeg(slope), product);
  return b.CreateSelect(b.CreateFCmpOGE(x, splat(x, 0)), x, product);
}

llvm::Function* emitPreluKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa) {
  // A run of elements with one slope, and a row of elements with a slope each.
  llvm::Function* run = emitElementwiseLoop(
      module, (name + ".run").str(), isa, {1, 1},
      [](Builder& b, llvm::ArrayRef<llvm::Value*> in, llvm::ArrayRef<llvm::Value*> scalars) {
        return emitPrelu(b, in[0], scalars[0]);
      },
      true, llvm::Function::InternalLinkage);
  llvm::Function* row = emitElementwiseLoop(
      module, (name + ".row").str(), isa, {2, 0},
      [](Builder& b, llvm::ArrayRef<llvm::Value*> in, llvm::ArrayRef<llvm::Value*>) {
        return emitPrelu(b, in[0], in[1]);
      },
      true, llvm::Function::InternalLinkage);

  llvm::LLVMContext& context = module.getContext();
  auto* ptr = llvm::PointerType::get(context, 0);
  auto* i64 = llvm::Type::getInt64Ty(context);
  auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(context),
                                       {ptr, ptr, ptr, i64, i64, i64}, false);
  llvm::Function* kernel =
      llvm::Function::Create(type, llvm::Function::ExternalLinkage, name, module);
  kernel->addFnAttr(llvm::Attribute::NoUnwind);
  auto args = kernel->arg_begin();
  llvm::Value* x = &*args++;
  llvm::Value* y = &*args++;
  llvm::Value* slope = &*args++;
  llvm::Value* outer = &*args++;
  llvm::Value* channels = &*args++;
  llvm::Value* inner = &*args;

  Builder b(llvm::BasicBlock::Create(context, "entry", kernel));
  llvm::Type* f32 = b.getFloatTy();
  auto* shared = llvm::BasicBlock::Create(context, "shared", kernel);
  auto* perChannel = llvm::BasicBlock::Create(context, "per_channel", kernel);
  auto* rows = llvm::BasicBlock::Create(context, "rows", kernel);
  auto* runs = llvm::BasicBlock::Create(context, "runs", kernel);
  auto* exit = llvm::BasicBlock::Create(context, "exit", kernel);
  b.CreateCondBr(b.CreateICmpEQ(channels, b.getInt64(1)), shared, perChannel);

  // One slope: a single run over everything.
  b.SetInsertPoint(shared);
  b.CreateCall(run, {x, y, b.CreateMul(outer, inner), b.CreateLoad(f32, slope)});
  b.CreateBr(exit);

  b.SetInsertPoint(perChannel);
  b.CreateCondBr(b.CreateICmpEQ(inner, b.getInt64(1)), rows, runs);

  // Channels last: each of the outer rows against the slope vector.
  b.SetInsertPoint(rows);
  emitCountedLoop(b, outer, "row", [&](llvm::Value* o) {
    llvm::Value* start = b.CreateMul(o, channels);
    b.CreateCall(row, {b.CreateGEP(f32, x, start), slope, b.CreateGEP(f32, y, start), channels});
  });
  b.CreateBr(exit);

  // Channels with runs of `inner` elements each.
  b.SetInsertPoint(runs);
  emitCountedLoop(b, outer, "outer", [&](llvm::Value* o) {
    emitCountedLoop(b, channels, "channel", [&](llvm::Value* c) {
      llvm::Value* start = b.CreateMul(b.CreateAdd(b.CreateMul(o, channels), c), inner);
      llvm::Value* w = b.CreateLoad(f32, b.CreateGEP(f32, slope, c));
      b.CreateCall(run, {b.CreateGEP(f32, x, start), b.CreateGEP(f32, y, start), inner, w});
    });
  });
  b.CreateBr(exit);

  b.SetInsertPoint(exit);
  b.CreateRetVoid();
  return kernel;
}

} // namespace nnc::codegen
