#include "compiler/codegen/vector_ops.h"

#include <llvm/IR/Intrinsics.h>

namespace nnc::codegen {

llvm::Value* splat(llvm::Value* like, double value) {
  return llvm::ConstantFP::get(like->getType(), value);
}

llvm::Value* mulAdd(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y, llvm::Value* z) {
  return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {x->getType()}, {x, y, z});
}

llvm::Value* polynomial(llvm::IRBuilder<>& b, llvm::Value* x, const std::vector<double>& c) {
  llvm::Value* sum = splat(x, c.back());
  for (size_t i = c.size() - 1; i-- > 0;)
    sum = mulAdd(b, sum, x, splat(x, c[i]));
  return sum;
}

llvm::Value* clampKeepNan(llvm::IRBuilder<>& b, llvm::Value* x, double lo, double hi) {
  llvm::Value* low = b.CreateSelect(b.CreateFCmpOLT(x, splat(x, lo)), splat(x, lo), x);
  return b.CreateSelect(b.CreateFCmpOGT(low, splat(x, hi)), splat(x, hi), low);
}

llvm::Type* integerVector(llvm::Value* like) {
  auto* vector = llvm::cast<llvm::FixedVectorType>(like->getType());
  unsigned bits = vector->getElementType()->getPrimitiveSizeInBits();
  return llvm::FixedVectorType::get(llvm::IntegerType::get(like->getContext(), bits),
                                    vector->getNumElements());
}

} // namespace nnc::codegen
