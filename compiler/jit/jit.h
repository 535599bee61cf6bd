// A thin wrapper over LLVM ORC's LLJIT that compiles modules for one chosen TargetIsa.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/jit/object_cache.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/Support/Error.h>

#include <memory>

namespace nnc::jit {

/// The optimization every module gets before code generation (EarlyCSE, InstCombine,
/// SimplifyCFG), in the JIT and ahead of time.
void optimizeModule(llvm::Module& module);
/// A target machine for `isa` as the JIT's (same CPU, features and code generation level), with
/// position-independent code, for objects compiled ahead of time.
llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
targetMachineFor(const codegen::TargetIsa& isa);

/// Owns one LLJIT instance configured for a target ISA. Modules added to it are optimized
/// (without auto-vectorization: the emitters vectorize explicitly) and compiled on lookup.
class Jit {
public:
  /// Fails when this CPU lacks a feature the ISA needs, or LLVM cannot create the target. With
  /// a cache, every module compiled is stored there (under the key compileModule gives it as its
  /// identifier), and compileModule looks there first.
  static llvm::Expected<std::unique_ptr<Jit>> create(const codegen::TargetIsa& isa,
                                                     const ObjectCache* cache = nullptr);
  ~Jit();

  const codegen::TargetIsa& isa() const { return isa_; }
  const llvm::DataLayout& dataLayout() const { return jit_->getDataLayout(); }

  /// Sets a module's data layout and target triple to the JIT's; call before emitting into it.
  void prepare(llvm::Module& module) const;
  llvm::Error add(llvm::orc::ThreadSafeModule module);
  /// Adds code compiled before (from the cache).
  llvm::Error addObject(std::unique_ptr<llvm::MemoryBuffer> object);
  const ObjectCache* cache() const { return cache_; }
  /// Stands for how modules are optimized and compiled (jit.cpp's pipeline and code generation
  /// level), which a development build may change without a new version: when jit.cpp was built.
  static const char* settingsStamp();
  /// Modules that compileModule loaded from the cache, and that it compiled.
  int cacheHits = 0;
  int compiled = 0;
  /// The address of a compiled function.
  llvm::Expected<void*> lookup(llvm::StringRef name);

private:
  class Storing;
  Jit(codegen::TargetIsa isa, const ObjectCache* cache);

  codegen::TargetIsa isa_;
  const ObjectCache* cache_ = nullptr;
  std::unique_ptr<Storing> storing_; ///< hands compiled objects to cache_
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

} // namespace nnc::jit
