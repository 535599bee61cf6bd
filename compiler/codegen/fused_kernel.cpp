#include "compiler/codegen/fused_kernel.h"

#include "compiler/codegen/activation_kernels.h"
#include "compiler/codegen/elementwise_loop.h"
#include "compiler/codegen/prelu_kernel.h"
#include "compiler/ir/internal_error.h"

#include <llvm/IR/IRBuilder.h>

namespace nnc::codegen {

namespace {

using Builder = llvm::IRBuilder<>;

llvm::Value* emitStep(Builder& b, const TargetIsa& isa, const FusedStep& step,
                      const std::vector<llvm::Value*>& operands) {
  switch (step.op) {
  case ir::OpKind::Add:
    return b.CreateFAdd(operands.at(0), operands.at(1));
  case ir::OpKind::Mul:
    return b.CreateFMul(operands.at(0), operands.at(1));
  case ir::OpKind::Prelu:
    return emitPrelu(b, operands.at(0), operands.at(1));
  case ir::OpKind::BatchNorm:
    return b.CreateFAdd(b.CreateFMul(operands.at(0), operands.at(1)), operands.at(2));
  default:
    return emitActivation(b, isa, step.op, step.attrs, operands.at(0));
  }
}

bool isCheap(const FusedStep& step) {
  switch (step.op) {
  case ir::OpKind::Add:
  case ir::OpKind::Mul:
  case ir::OpKind::Prelu:
  case ir::OpKind::BatchNorm:
    return true;
  default:
    return isMemoryBoundActivation(step.op);
  }
}

/// Where each leaf and step goes: stream leaves become the loop's input streams; scalar leaves
/// and the steps computed once (all operands scalar) become its scalar arguments.
struct Layout {
  std::vector<int> streamOf;     ///< per leaf: its input stream, or -1
  std::vector<int> scalarOfLeaf; ///< per leaf: its scalar argument, or -1
  std::vector<int> scalarOfStep; ///< per step: its scalar argument when computed once, or -1
  unsigned streams = 0, scalars = 0;

  explicit Layout(const FusedExpression& e) {
    for (bool scalar : e.leafIsScalar) {
      streamOf.push_back(scalar ? -1 : static_cast<int>(streams++));
      scalarOfLeaf.push_back(scalar ? static_cast<int>(scalars++) : -1);
    }
    for (const FusedStep& step : e.steps) {
      bool once = true;
      for (int operand : step.operands)
        once &= operand < 0 ? scalarOfLeaf.at(static_cast<size_t>(-1 - operand)) >= 0
                            : scalarOfStep.at(static_cast<size_t>(operand)) >= 0;
      scalarOfStep.push_back(once ? static_cast<int>(scalars++) : -1);
    }
  }
};

/// Evaluates the steps for which `wanted` holds, in order; `operand` gives every other value.
template <class Wanted, class Operand>
std::vector<llvm::Value*> evaluate(Builder& b, const TargetIsa& isa, const FusedExpression& e,
                                   Wanted wanted, Operand operand) {
  std::vector<llvm::Value*> values(e.steps.size(), nullptr);
  for (size_t i = 0; i < e.steps.size(); ++i) {
    if (!wanted(i))
      continue;
    std::vector<llvm::Value*> operands;
    for (int index : e.steps[i].operands)
      operands.push_back(index >= 0 && values[static_cast<size_t>(index)]
                             ? values[static_cast<size_t>(index)]
                             : operand(index));
    values[i] = emitStep(b, isa, e.steps[i], operands);
  }
  return values;
}

} // namespace

llvm::Value* emitExpression(llvm::IRBuilder<>& b, const TargetIsa& isa, const FusedExpression& e,
                            llvm::ArrayRef<llvm::Value*> leaves) {
  std::vector<llvm::Value*> values = evaluate(
      b, isa, e, [](size_t) { return true; },
      [&](int index) { return leaves[static_cast<size_t>(-1 - index)]; });
  return values.back();
}

llvm::Function* emitFusedKernel(llvm::Module& module, llvm::StringRef name, const TargetIsa& isa,
                                const FusedExpression& e) {
  if (e.steps.empty())
    throw InternalError("a fused kernel needs at least one step");
  Layout layout(e);
  bool memoryBound = true;
  for (const FusedStep& step : e.steps)
    memoryBound &= isCheap(step);

  // The loop over the steps not computed once.
  llvm::Function* loop = emitElementwiseLoop(
      module, (name + ".loop").str(), isa, {layout.streams, layout.scalars},
      [&](Builder& b, llvm::ArrayRef<llvm::Value*> streams, llvm::ArrayRef<llvm::Value*> scalars) {
        auto operand = [&](int index) -> llvm::Value* {
          if (index >= 0)
            return scalars[static_cast<size_t>(layout.scalarOfStep[static_cast<size_t>(index)])];
          auto leaf = static_cast<size_t>(-1 - index);
          return layout.streamOf[leaf] >= 0
                     ? streams[static_cast<size_t>(layout.streamOf[leaf])]
                     : scalars[static_cast<size_t>(layout.scalarOfLeaf[leaf])];
        };
        std::vector<llvm::Value*> values = evaluate(
            b, isa, e, [&](size_t i) { return layout.scalarOfStep[i] < 0; }, operand);
        return values.back() ? values.back() : operand(static_cast<int>(e.steps.size() - 1));
      },
      memoryBound, llvm::GlobalValue::InternalLinkage);

  // The entry: loads the leaf pointers and scalars, computes the once-only steps on one vector,
  // and calls the loop.
  llvm::LLVMContext& context = module.getContext();
  auto* ptr = llvm::PointerType::get(context, 0);
  auto* i64 = llvm::Type::getInt64Ty(context);
  llvm::Function* kernel = declareKernel(module, name, isa, {ptr, ptr, i64});
  auto args = kernel->arg_begin();
  llvm::Value* y = &*args++;
  llvm::Value* leaves = &*args++;
  llvm::Value* n = &*args;
  Builder b(llvm::BasicBlock::Create(context, "entry", kernel));

  std::vector<llvm::Value*> callArgs(layout.streams + 2 + layout.scalars, nullptr);
  std::vector<llvm::Value*> leafSplat(e.leafIsScalar.size(), nullptr);
  for (size_t k = 0; k < e.leafIsScalar.size(); ++k) {
    llvm::Value* slot = b.CreateConstGEP1_64(ptr, leaves, k);
    llvm::Value* pointer = b.CreateAlignedLoad(ptr, slot, llvm::Align(8));
    if (layout.streamOf[k] >= 0) {
      callArgs[static_cast<size_t>(layout.streamOf[k])] = pointer;
      continue;
    }
    llvm::Value* value = b.CreateAlignedLoad(b.getFloatTy(), pointer, llvm::Align(4));
    callArgs[layout.streams + 2 + static_cast<size_t>(layout.scalarOfLeaf[k])] = value;
    leafSplat[k] = b.CreateVectorSplat(isa.vectorWidth, value);
  }
  std::vector<llvm::Value*> once = evaluate(
      b, isa, e, [&](size_t i) { return layout.scalarOfStep[i] >= 0; },
      [&](int index) { return leafSplat.at(static_cast<size_t>(-1 - index)); });
  for (size_t i = 0; i < once.size(); ++i)
    if (once[i])
      callArgs[layout.streams + 2 + static_cast<size_t>(layout.scalarOfStep[i])] =
          b.CreateExtractElement(once[i], uint64_t{0});
  callArgs[layout.streams] = y;
  callArgs[layout.streams + 1] = n;
  b.CreateCall(loop, callArgs);
  b.CreateRetVoid();
  return kernel;
}

} // namespace nnc::codegen
