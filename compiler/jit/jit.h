// A thin wrapper over LLVM ORC's LLJIT that compiles modules for one chosen TargetIsa.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/Support/Error.h>

#include <memory>

namespace nnc::jit {

/// Owns one LLJIT instance configured for a target ISA. Modules added to it are optimized
/// (without auto-vectorization: the emitters vectorize explicitly) and compiled on lookup.
class Jit {
public:
  /// Fails when this CPU lacks a feature the ISA needs, or LLVM cannot create the target.
  static llvm::Expected<std::unique_ptr<Jit>> create(const codegen::TargetIsa& isa);

  const codegen::TargetIsa& isa() const { return isa_; }
  const llvm::DataLayout& dataLayout() const { return jit_->getDataLayout(); }

  /// Sets a module's data layout and target triple to the JIT's; call before emitting into it.
  void prepare(llvm::Module& module) const;
  llvm::Error add(llvm::orc::ThreadSafeModule module);
  /// The address of a compiled function.
  llvm::Expected<void*> lookup(llvm::StringRef name);

private:
  Jit(codegen::TargetIsa isa, std::unique_ptr<llvm::orc::LLJIT> jit)
      : isa_(std::move(isa)), jit_(std::move(jit)) {}

  codegen::TargetIsa isa_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

} // namespace nnc::jit
