// A thin wrapper over LLVM ORC's LLJIT that compiles modules for one chosen TargetIsa.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/jit/object_cache.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/Support/Error.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  /// Fails when this CPU lacks a feature the ISA needs. LLJIT itself is made with the first
  /// module or object added: for an object from the cache, with the data layout stored with it,
  /// so that a JIT that only loads cached code creates no target machine. With a cache, modules
  /// added with a cache key are stored there when compiled, and compileModule looks there first.
  static llvm::Expected<std::unique_ptr<Jit>> create(const codegen::TargetIsa& isa,
                                                     const ObjectCache* cache = nullptr);
  ~Jit();

  const codegen::TargetIsa& isa() const { return isa_; }
  /// Sets a module's data layout and target triple to the JIT's; call before emitting into it.
  /// Fails when LLVM cannot create the target.
  llvm::Error prepare(llvm::Module& module);
  /// Adds a module, compiled at the first lookup of one of its symbols (and then stored in the
  /// cache under `cacheKey`, when given).
  llvm::Error add(llvm::orc::ThreadSafeModule module, const std::string& cacheKey = "");
  /// Adds code compiled before (from the cache) with the data layout it was compiled for.
  llvm::Error addObject(std::unique_ptr<llvm::MemoryBuffer> object, llvm::StringRef dataLayout);
  const ObjectCache* cache() const { return cache_; }
  /// Modules that compileModule loaded from the cache, and that it compiled.
  int cacheHits = 0;
  int compiled = 0;
  /// The addresses of compiled functions `names`, in order, from one lookup: modules that
  /// define them compile at the same time, on up to compileThreads() threads.
  llvm::Expected<std::vector<void*>> lookup(const std::vector<std::string>& names);
  /// How many modules this JIT compiles at once: the hardware threads, at most 4.
  unsigned compileThreads() const { return compileThreads_; }

private:
  class Storing;
  Jit(codegen::TargetIsa isa, const ObjectCache* cache);
  /// Makes the LLJIT (once), with `layout` or else the one LLVM computes for the target. Without
  /// a layout, it is made for compiling, with compileThreads(); with one, for loading cached
  /// code, without threads.
  llvm::Error start(std::optional<llvm::DataLayout> layout);

  codegen::TargetIsa isa_;
  const ObjectCache* cache_ = nullptr;
  unsigned compileThreads_ = 1;
  std::unique_ptr<Storing> storing_; ///< hands compiled objects to cache_
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

} // namespace nnc::jit
