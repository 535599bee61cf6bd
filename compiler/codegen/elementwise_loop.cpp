#include "compiler/codegen/elementwise_loop.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>

namespace nnc::codegen {

namespace {

class LoopEmitter {
public:
  LoopEmitter(llvm::Function& function, const TargetIsa& isa, ElementwiseSignature signature,
              const ElementwiseMath& math, bool memoryBound)
      : function_(function), isa_(isa), math_(math), memoryBound_(memoryBound),
        builder_(function.getContext()),
        vector_(llvm::FixedVectorType::get(builder_.getFloatTy(), isa.vectorWidth)) {
    auto args = function.arg_begin();
    for (unsigned k = 0; k < signature.inputs; ++k) {
      inputs_.push_back(&*args++);
      inputs_.back()->setName("x" + std::to_string(k));
    }
    y_ = &*args++;
    n_ = &*args++;
    y_->setName("y");
    n_->setName("n");
    for (unsigned k = 0; k < signature.scalars; ++k) {
      scalarArgs_.push_back(&*args++);
      scalarArgs_.back()->setName("s" + std::to_string(k));
    }
  }

  void emit() {
    llvm::LLVMContext& context = function_.getContext();
    auto* entry = llvm::BasicBlock::Create(context, "entry", &function_);
    auto* exit = llvm::BasicBlock::Create(context, "exit", &function_);
    builder_.SetInsertPoint(entry);
    if (isa_.kind == IsaKind::Sse) {
      for (size_t k = 0; k <= inputs_.size(); ++k) { // one per input, one for the output
        llvm::AllocaInst* buffer = builder_.CreateAlloca(vector_, nullptr, "tail.buffer");
        buffer->setAlignment(llvm::Align(16));
        tailBuffers_.push_back(buffer);
      }
    }
    for (llvm::Value* scalar : scalarArgs_)
      scalars_.push_back(builder_.CreateVectorSplat(isa_.vectorWidth, scalar));
    // Whole blocks of kUnroll vectors (memory-bound math only), then single vectors, then the
    // tail.
    llvm::Value* blockEnd =
        builder_.CreateAnd(n_, builder_.getInt64(~uint64_t(isa_.vectorWidth * kUnroll - 1)));
    // Single vectors while a whole one fits: index < n - (width - 1). (The streaming loop may
    // leave the index at any offset.)
    llvm::Value* vectorEnd = builder_.CreateSub(n_, builder_.getInt64(isa_.vectorWidth - 1));
    // n < 0 behaves as 0: every bound is then <= 0 and no loop runs.
    llvm::Value* positive = builder_.CreateICmpSGT(n_, builder_.getInt64(0));
    auto* loops = llvm::BasicBlock::Create(context, "loops", &function_, exit);
    builder_.CreateCondBr(positive, loops, exit);
    builder_.SetInsertPoint(loops);
    // Compute-bound math needs no unrolling (out-of-order execution overlaps the iterations of
    // the single-vector loop), and one copy of it compiles in a third of the time.
    llvm::Value* i = memoryBound_ ? emitCachedOrStreamed(blockEnd, exit) : builder_.getInt64(0);
    llvm::Value* next = emitLoop("vector", i, vectorEnd, isa_.vectorWidth, [&](llvm::Value* index) {
      store(math_(builder_, load(index), scalars_), index, false);
    });
    llvm::Value* remaining = builder_.CreateSub(n_, next, "remaining");
    auto* tail = llvm::BasicBlock::Create(context, "tail", &function_, exit);
    builder_.CreateCondBr(builder_.CreateICmpSGT(remaining, builder_.getInt64(0)), tail, exit);
    builder_.SetInsertPoint(tail);
    emitTail(next, remaining);
    builder_.CreateBr(exit);
    builder_.SetInsertPoint(exit);
    builder_.CreateRetVoid();
  }

private:
  /// The main loop, with non-temporal stores from kStreamingFloats elements on; returns the
  /// index it ends at.
  llvm::Value* emitCachedOrStreamed(llvm::Value* blockEnd, llvm::BasicBlock* exit) {
    llvm::LLVMContext& context = function_.getContext();
    auto* cached = llvm::BasicBlock::Create(context, "cached", &function_, exit);
    auto* streamed = llvm::BasicBlock::Create(context, "streamed", &function_, exit);
    auto* join = llvm::BasicBlock::Create(context, "join", &function_, exit);
    builder_.CreateCondBr(builder_.CreateICmpSGE(n_, builder_.getInt64(kStreamingFloats)), streamed,
                          cached);

    builder_.SetInsertPoint(cached);
    llvm::Value* cachedEnd = emitBlocks("block", builder_.getInt64(0), blockEnd, false);
    auto* cachedExit = builder_.GetInsertBlock();
    builder_.CreateBr(join);

    // Streaming: a masked head up to y's next vector boundary, then aligned non-temporal
    // stores, then a fence so that they are ordered before the function returns.
    builder_.SetInsertPoint(streamed);
    llvm::Value* vectorBytes = builder_.getInt64(isa_.vectorWidth * sizeof(float));
    llvm::Value* address = builder_.CreatePtrToInt(y_, builder_.getInt64Ty());
    llvm::Value* misalignment = builder_.CreateAnd(
        builder_.CreateSub(vectorBytes, builder_.CreateURem(address, vectorBytes)),
        builder_.CreateSub(vectorBytes, builder_.getInt64(1)));
    llvm::Value* head = builder_.CreateUDiv(misalignment, builder_.getInt64(sizeof(float)));
    emitTail(builder_.getInt64(0), head);
    llvm::Value* streamEnd = builder_.CreateAdd(
        head, builder_.CreateAnd(builder_.CreateSub(n_, head),
                                 builder_.getInt64(~uint64_t(isa_.vectorWidth * kUnroll - 1))));
    llvm::Value* streamedEnd = emitBlocks("stream", head, streamEnd, true);
    builder_.CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});
    auto* streamedExit = builder_.GetInsertBlock();
    builder_.CreateBr(join);

    builder_.SetInsertPoint(join);
    llvm::PHINode* i = builder_.CreatePHI(builder_.getInt64Ty(), 2, "i");
    i->addIncoming(cachedEnd, cachedExit);
    i->addIncoming(streamedEnd, streamedExit);
    return i;
  }

  llvm::Value* offset(llvm::Value* index, unsigned vectors) {
    return vectors ? builder_.CreateAdd(index, builder_.getInt64(vectors * isa_.vectorWidth))
                   : index;
  }
  llvm::Value* at(llvm::Value* base, llvm::Value* index) {
    return builder_.CreateGEP(builder_.getFloatTy(), base, index);
  }
  /// One vector of every input at `index`.
  std::vector<llvm::Value*> load(llvm::Value* index) {
    std::vector<llvm::Value*> values;
    for (llvm::Value* input : inputs_)
      values.push_back(builder_.CreateAlignedLoad(vector_, at(input, index), llvm::Align(4)));
    return values;
  }
  /// A streaming store is aligned to the vector (the caller aligned the index) and
  /// non-temporal.
  void store(llvm::Value* value, llvm::Value* index, bool streaming) {
    if (!streaming) {
      builder_.CreateAlignedStore(value, at(y_, index), llvm::Align(4));
      return;
    }
    llvm::StoreInst* store = builder_.CreateAlignedStore(
        value, at(y_, index), llvm::Align(isa_.vectorWidth * sizeof(float)));
    llvm::LLVMContext& context = function_.getContext();
    store->setMetadata(
        llvm::LLVMContext::MD_nontemporal,
        llvm::MDNode::get(context, llvm::ConstantAsMetadata::get(builder_.getInt32(1))));
  }

  /// The unrolled main loop over [begin, end), a multiple of kUnroll vectors; returns end.
  llvm::Value* emitBlocks(const char* name, llvm::Value* begin, llvm::Value* end, bool streaming) {
    return emitLoop(name, begin, end, isa_.vectorWidth * kUnroll, [&](llvm::Value* index) {
      std::vector<std::vector<llvm::Value*>> loaded;
      for (unsigned u = 0; u < kUnroll; ++u)
        loaded.push_back(load(offset(index, u)));
      for (unsigned u = 0; u < kUnroll; ++u)
        store(math_(builder_, loaded[u], scalars_), offset(index, u), streaming);
    });
  }

  /// Elements [index, index + remaining), remaining < one vector (0 is allowed).
  void emitTail(llvm::Value* index, llvm::Value* remaining) {
    if (isa_.kind == IsaKind::Sse)
      emitBufferedTail(index, remaining);
    else
      emitMaskedTail(index, remaining);
  }

  /// for (index = begin; index < end; index += step) body(index); returns the final index.
  llvm::Value* emitLoop(const char* name, llvm::Value* begin, llvm::Value* end, unsigned step,
                        const std::function<void(llvm::Value*)>& body) {
    llvm::LLVMContext& context = function_.getContext();
    auto* before = builder_.GetInsertBlock();
    auto* header = llvm::BasicBlock::Create(context, std::string(name) + ".header", &function_);
    auto* loop = llvm::BasicBlock::Create(context, std::string(name) + ".body", &function_);
    auto* after = llvm::BasicBlock::Create(context, std::string(name) + ".end", &function_);
    builder_.CreateBr(header);
    builder_.SetInsertPoint(header);
    llvm::PHINode* index = builder_.CreatePHI(builder_.getInt64Ty(), 2, std::string(name) + ".i");
    index->addIncoming(begin, before);
    builder_.CreateCondBr(builder_.CreateICmpSLT(index, end), loop, after);
    builder_.SetInsertPoint(loop);
    body(index);
    llvm::Value* next = builder_.CreateAdd(index, builder_.getInt64(step));
    index->addIncoming(next, builder_.GetInsertBlock());
    builder_.CreateBr(header);
    builder_.SetInsertPoint(after);
    return index;
  }

  /// AVX-512 and AVX2: lanes [0, remaining) through a masked load and store.
  void emitMaskedTail(llvm::Value* index, llvm::Value* remaining) {
    std::vector<llvm::Constant*> lanes;
    for (unsigned lane = 0; lane < isa_.vectorWidth; ++lane)
      lanes.push_back(builder_.getInt32(lane));
    llvm::Value* count = builder_.CreateVectorSplat(
        isa_.vectorWidth, builder_.CreateTrunc(remaining, builder_.getInt32Ty()));
    llvm::Value* mask = builder_.CreateICmpULT(llvm::ConstantVector::get(lanes), count, "mask");
    std::vector<llvm::Value*> values;
    for (llvm::Value* input : inputs_)
      values.push_back(builder_.CreateMaskedLoad(vector_, at(input, index), llvm::Align(4), mask,
                                                 llvm::Constant::getNullValue(vector_)));
    builder_.CreateMaskedStore(math_(builder_, values, scalars_), at(y_, index), llvm::Align(4),
                               mask);
  }

  /// SSE has no masked moves: copy the tails into zeroed vector-sized buffers and back.
  void emitBufferedTail(llvm::Value* index, llvm::Value* remaining) {
    llvm::Value* bytes = builder_.CreateMul(remaining, builder_.getInt64(sizeof(float)));
    std::vector<llvm::Value*> values;
    for (size_t k = 0; k < inputs_.size(); ++k) {
      llvm::Value* buffer = tailBuffers_[k];
      builder_.CreateAlignedStore(llvm::Constant::getNullValue(vector_), buffer, llvm::Align(16));
      builder_.CreateMemCpy(buffer, llvm::Align(16), at(inputs_[k], index), llvm::Align(4), bytes);
      values.push_back(builder_.CreateAlignedLoad(vector_, buffer, llvm::Align(16)));
    }
    llvm::Value* output = tailBuffers_.back();
    builder_.CreateAlignedStore(math_(builder_, values, scalars_), output, llvm::Align(16));
    builder_.CreateMemCpy(at(y_, index), llvm::Align(4), output, llvm::Align(16), bytes);
  }

  llvm::Function& function_;
  const TargetIsa& isa_;
  const ElementwiseMath& math_;
  bool memoryBound_;
  llvm::IRBuilder<> builder_;
  llvm::FixedVectorType* vector_;
  std::vector<llvm::Value*> inputs_;
  llvm::Value* y_;
  llvm::Value* n_;
  std::vector<llvm::Value*> scalarArgs_;
  std::vector<llvm::Value*> scalars_;     ///< the scalar arguments, splat once
  std::vector<llvm::Value*> tailBuffers_; ///< SSE: a vector on the stack per input and output
};

} // namespace

llvm::Function* declareKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                              llvm::ArrayRef<llvm::Type*> params,
                              llvm::GlobalValue::LinkageTypes linkage) {
  auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(module.getContext()), params, false);
  llvm::Function* function = llvm::Function::Create(type, linkage, name, module);
  setVectorAttributes(*function, isa);
  return function;
}

void setVectorAttributes(llvm::Function& function, const TargetIsa& isa) {
  std::string bits = std::to_string(isa.vectorBits());
  function.addFnAttr("prefer-vector-width", bits);
  function.addFnAttr("min-legal-vector-width", bits);
  function.addFnAttr(llvm::Attribute::NoUnwind);
  function.addFnAttr("target-cpu", isa.cpu);
}

llvm::Function* emitElementwiseLoop(llvm::Module& module, llvm::StringRef name,
                                    const TargetIsa& isa, ElementwiseSignature signature,
                                    const ElementwiseMath& math, bool memoryBound,
                                    llvm::GlobalValue::LinkageTypes linkage) {
  llvm::LLVMContext& context = module.getContext();
  auto* ptr = llvm::PointerType::get(context, 0);
  std::vector<llvm::Type*> params(signature.inputs + 1, ptr);
  params.push_back(llvm::Type::getInt64Ty(context));
  params.insert(params.end(), signature.scalars, llvm::Type::getFloatTy(context));
  llvm::Function* function = declareKernel(module, name, isa, params, linkage);
  LoopEmitter(*function, isa, signature, math, memoryBound).emit();
  return function;
}

llvm::Function* emitUnaryLoop(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                              const VectorMath& math, bool memoryBound) {
  return emitElementwiseLoop(
      module, name, isa, {1, 0},
      [&](llvm::IRBuilder<>& b, llvm::ArrayRef<llvm::Value*> inputs, llvm::ArrayRef<llvm::Value*>) {
        return math(b, inputs[0]);
      },
      memoryBound, llvm::Function::ExternalLinkage);
}

} // namespace nnc::codegen
