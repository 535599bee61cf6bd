// Which operators have an activation kernel, without LLVM: the plan of a model's kernels needs
// it where no emitter is linked. activation_kernels.cpp checks its emitters against it.
#include "compiler/codegen/activation_kernels.h"

namespace nnc::codegen {

bool hasActivationKernel(ir::OpKind op) {
  switch (op) {
  case ir::OpKind::Identity:
  case ir::OpKind::Relu:
  case ir::OpKind::Relu6:
  case ir::OpKind::LeakyRelu:
  case ir::OpKind::HardTanh:
  case ir::OpKind::Clamp:
  case ir::OpKind::ThresholdedRelu:
  case ir::OpKind::HardSigmoid:
  case ir::OpKind::HardSwish:
  case ir::OpKind::Softsign:
  case ir::OpKind::Sigmoid:
  case ir::OpKind::Tanh:
  case ir::OpKind::Elu:
  case ir::OpKind::Selu:
  case ir::OpKind::Celu:
  case ir::OpKind::Softplus:
  case ir::OpKind::Silu:
  case ir::OpKind::Mish:
  case ir::OpKind::Gelu:
    return true;
  default:
    return false;
  }
}

} // namespace nnc::codegen
