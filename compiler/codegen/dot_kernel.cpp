#include "compiler/codegen/dot_kernel.h"

#include "compiler/codegen/elementwise_loop.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>
#include <vector>

namespace nnc::codegen {

unsigned dotRowsPerStep(const TargetIsa& isa, unsigned units) {
  // Registers left for accumulators beside a vector of x per row and one of w.
  unsigned budget = isa.kind == IsaKind::Avx512 ? 24 : 10;
  return std::clamp(budget / std::max(units, 1u), 1u, 4u);
}

namespace {

/// One block of `rows` rows: the loop along k, then the sums.
class DotEmitter {
public:
  DotEmitter(llvm::IRBuilder<>& b, llvm::Function& f, const TargetIsa& isa, unsigned units)
      : b_(b), f_(f), units_(units), width_(isa.vectorWidth), f32_(b.getFloatTy()),
        vector_(llvm::FixedVectorType::get(f32_, width_)) {
    auto args = f.arg_begin();
    x_ = &*args++;
    rows_ = &*args++;
    k_ = &*args++;
    w_ = &*args++;
    bias_ = &*args++;
    y_ = &*args;
    // Without a bias, each output adds a zero from a constant of the module instead: the sum
    // starts at +0, so it is never -0 and adding +0 changes nothing. A branch per output on the
    // bias made the kernel of a 10-unit layer a fifth of an MLP's compile time.
    auto* zerosType = llvm::ArrayType::get(f32_, units);
    auto* zeros = new llvm::GlobalVariable(
        *f.getParent(), zerosType, /*isConstant=*/true, llvm::GlobalValue::PrivateLinkage,
        llvm::Constant::getNullValue(zerosType), f.getName() + ".no.bias");
    biasSource_ = b_.CreateSelect(b_.CreateIsNotNull(bias_), bias_, zeros, "bias.source");
  }

  /// Emits the loop over blocks of `step` rows from row `first` while `step` more remain, and
  /// returns the row it stops at.
  llvm::Value* emitBlocks(llvm::Value* first, unsigned step, const char* label) {
    llvm::LLVMContext& context = f_.getContext();
    llvm::BasicBlock* before = b_.GetInsertBlock();
    auto* check = llvm::BasicBlock::Create(context, std::string(label) + ".check", &f_);
    auto* body = llvm::BasicBlock::Create(context, std::string(label) + ".rows", &f_);
    auto* after = llvm::BasicBlock::Create(context, std::string(label) + ".done", &f_);
    b_.CreateBr(check);
    b_.SetInsertPoint(check);
    llvm::PHINode* row = b_.CreatePHI(b_.getInt64Ty(), 2, "row");
    row->addIncoming(first, before);
    b_.CreateCondBr(b_.CreateICmpSLE(b_.CreateAdd(row, b_.getInt64(step)), rows_), body, after);
    b_.SetInsertPoint(body);
    emitBlock(row, step);
    row->addIncoming(b_.CreateAdd(row, b_.getInt64(step)), b_.GetInsertBlock());
    b_.CreateBr(check);
    b_.SetInsertPoint(after);
    return row;
  }

private:
  void emitBlock(llvm::Value* row, unsigned rows) {
    llvm::LLVMContext& context = f_.getContext();
    llvm::Type* i64 = b_.getInt64Ty();
    std::vector<llvm::Value*> xRow;
    for (unsigned r = 0; r < rows; ++r)
      xRow.push_back(b_.CreateGEP(f32_, x_, b_.CreateMul(b_.CreateAdd(row, b_.getInt64(r)), k_)));
    std::vector<llvm::Value*> wRow;
    for (unsigned n = 0; n < units_; ++n)
      wRow.push_back(b_.CreateGEP(f32_, w_, b_.CreateMul(b_.getInt64(n), k_)));
    llvm::Value* zero = llvm::Constant::getNullValue(vector_);
    unsigned count = rows * units_;

    // Whole vectors along k.
    llvm::BasicBlock* before = b_.GetInsertBlock();
    auto* loop = llvm::BasicBlock::Create(context, "k.loop", &f_);
    auto* tail = llvm::BasicBlock::Create(context, "k.tail", &f_);
    llvm::Value* whole = b_.CreateAnd(k_, b_.getInt64(~uint64_t(width_ - 1)));
    b_.CreateCondBr(b_.CreateICmpSGT(whole, b_.getInt64(0)), loop, tail);
    b_.SetInsertPoint(loop);
    llvm::PHINode* p = b_.CreatePHI(i64, 2, "p");
    p->addIncoming(b_.getInt64(0), before);
    std::vector<llvm::PHINode*> acc;
    for (unsigned i = 0; i < count; ++i) {
      acc.push_back(b_.CreatePHI(vector_, 2, "acc"));
      acc.back()->addIncoming(zero, before);
    }
    std::vector<llvm::Value*> next =
        products(xRow, wRow, p, {acc.begin(), acc.end()}, [&](llvm::Value* at) {
          return b_.CreateAlignedLoad(vector_, at, llvm::Align(4));
        });
    llvm::Value* pNext = b_.CreateAdd(p, b_.getInt64(width_));
    p->addIncoming(pNext, b_.GetInsertBlock());
    for (unsigned i = 0; i < count; ++i)
      acc[i]->addIncoming(next[i], b_.GetInsertBlock());
    b_.CreateCondBr(b_.CreateICmpSLT(pNext, whole), loop, tail);

    // The last, partial vector (masked: nothing past row ends is read), then the sums.
    b_.SetInsertPoint(tail);
    std::vector<llvm::Value*> sums;
    for (unsigned i = 0; i < count; ++i) {
      llvm::PHINode* sum = b_.CreatePHI(vector_, 2, "sum");
      sum->addIncoming(zero, before);
      sum->addIncoming(next[i], loop);
      sums.push_back(sum);
    }
    llvm::Value* left = b_.CreateSub(k_, whole);
    llvm::Value* lanes = b_.CreateVectorSplat(width_, b_.CreateTrunc(left, b_.getInt32Ty()));
    std::vector<llvm::Constant*> indices;
    for (unsigned lane = 0; lane < width_; ++lane)
      indices.push_back(b_.getInt32(lane));
    llvm::Value* mask = b_.CreateICmpULT(llvm::ConstantVector::get(indices), lanes);
    sums = products(xRow, wRow, whole, sums, [&](llvm::Value* at) {
      return b_.CreateMaskedLoad(vector_, at, llvm::Align(4), mask, zero);
    });
    for (unsigned r = 0; r < rows; ++r)
      for (unsigned n = 0; n < units_; ++n) {
        llvm::Value* total =
            b_.CreateFAddReduce(llvm::ConstantFP::get(f32_, 0.0), sums[r * units_ + n]);
        llvm::cast<llvm::Instruction>(total)->setHasAllowReassoc(true); // a tree across lanes
        biasAndStore(total, b_.CreateAdd(row, b_.getInt64(r)), n);
      }
  }

  /// acc[r·units + n] + x[r][p..] · w[n][p..] for every row and unit, loading with `load`.
  template <typename Load>
  std::vector<llvm::Value*> products(const std::vector<llvm::Value*>& xRow,
                                     const std::vector<llvm::Value*>& wRow, llvm::Value* p,
                                     const std::vector<llvm::Value*>& acc, Load load) {
    std::vector<llvm::Value*> xs;
    for (llvm::Value* base : xRow)
      xs.push_back(load(b_.CreateGEP(f32_, base, p)));
    std::vector<llvm::Value*> next(acc.size());
    for (unsigned n = 0; n < units_; ++n) {
      llvm::Value* ws = load(b_.CreateGEP(f32_, wRow[n], p));
      for (size_t r = 0; r < xs.size(); ++r)
        next[r * units_ + n] = b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vector_},
                                                  {xs[r], ws, acc[r * units_ + n]});
    }
    return next;
  }

  void biasAndStore(llvm::Value* total, llvm::Value* row, unsigned n) {
    llvm::Value* bias =
        b_.CreateAlignedLoad(f32_, b_.CreateConstGEP1_64(f32_, biasSource_, n), llvm::Align(4));
    llvm::Value* value = b_.CreateFAdd(total, bias);
    llvm::Value* at = b_.CreateGEP(
        f32_, y_, b_.CreateAdd(b_.CreateMul(row, b_.getInt64(units_)), b_.getInt64(n)));
    b_.CreateAlignedStore(value, at, llvm::Align(4));
  }

  llvm::IRBuilder<>& b_;
  llvm::Function& f_;
  unsigned units_, width_;
  llvm::Type* f32_;
  llvm::FixedVectorType* vector_;
  llvm::Value *x_, *rows_, *k_, *w_, *bias_, *y_;
  llvm::Value* biasSource_; ///< bias, or zeros when it is null
};

} // namespace

llvm::Function* emitDotKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                              unsigned units) {
  llvm::LLVMContext& context = module.getContext();
  auto* ptr = llvm::PointerType::get(context, 0);
  auto* i64 = llvm::Type::getInt64Ty(context);
  llvm::Function* kernel = declareKernel(module, name, isa, {ptr, i64, i64, ptr, ptr, ptr});
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", kernel));
  DotEmitter emitter(b, *kernel, isa, units);
  llvm::Value* row = emitter.emitBlocks(b.getInt64(0), dotRowsPerStep(isa, units), "block");
  emitter.emitBlocks(row, 1, "single");
  b.CreateRetVoid();
  return kernel;
}

} // namespace nnc::codegen
