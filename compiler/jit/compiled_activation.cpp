#include "compiler/jit/compiled_activation.h"

#include "compiler/codegen/activation_kernels.h"
#include "compiler/jit/jit.h"

#include <llvm/IR/LLVMContext.h>

#include <algorithm>
#include <chrono>

namespace nnc::jit {

CompiledActivation::CompiledActivation(const codegen::TargetIsa& isa, ir::OpKind op,
                                       const std::vector<ir::AttrValue>& attrs) {
  auto start = std::chrono::steady_clock::now();
  auto created = Jit::create(isa);
  if (!created) {
    error_ = llvm::toString(created.takeError());
    return;
  }
  jit_ = std::move(*created);
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = std::make_unique<llvm::Module>("activation", *context);
  jit_->prepare(*module);
  codegen::emitActivationKernel(*module, "kernel", isa, op, attrs);
  if (llvm::Error e =
          jit_->add(llvm::orc::ThreadSafeModule(std::move(module), std::move(context)))) {
    error_ = llvm::toString(std::move(e));
    return;
  }
  auto address = jit_->lookup("kernel");
  if (!address) {
    error_ = llvm::toString(address.takeError());
    return;
  }
  kernel_ = reinterpret_cast<UnaryKernel>(*address);
  compileMs_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

CompiledActivation::~CompiledActivation() = default;

std::vector<ir::AttrValue>
activationAttrs(ir::OpKind op,
                const std::vector<std::pair<std::string_view, ir::AttrValue>>& given) {
  std::vector<ir::AttrValue> attrs;
  for (const ir::ArgSpec* spec : ir::opInfo(op).attrSpecs()) {
    auto it = std::find_if(given.begin(), given.end(),
                           [&](const auto& g) { return g.first == spec->name; });
    attrs.push_back(it != given.end()    ? it->second
                    : spec->defaultValue ? *spec->defaultValue
                                         : ir::AttrValue(0.0));
  }
  return attrs;
}

} // namespace nnc::jit
