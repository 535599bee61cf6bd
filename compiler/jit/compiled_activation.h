// One activation loop, JIT-compiled for one ISA: the unit tests, tools and benchmarks build on.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/ir/op_table.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace llvm {
class Module;
}

namespace nnc::jit {

class Jit;

/// Emits functions into one module with `emit`, compiles it with `jit` and returns the addresses
/// of `symbols`, in order; on failure, the error text. NNC_DUMP_IR=FILE writes the module before
/// optimization (for llc and llvm-mca). With an `identity` (bytes that, with the ISA and nnc's
/// build, determine what `emit` emits) and a JIT with a cache, the code is loaded from the cache
/// when there, without emitting anything, and stored there when compiled.
std::variant<std::vector<void*>, std::string>
compileModule(Jit& jit, const std::string& moduleName,
              const std::function<void(llvm::Module&)>& emit,
              const std::vector<std::string>& symbols, std::string_view identity = {});
/// The same with functions from several emitters, which may be split over modules
/// compiled at the same time (Jit::compileThreads of them; one with NNC_DUMP_IR). Each part has
/// its own cache entry; the code is loaded from the cache only when every part is there.
std::variant<std::vector<void*>, std::string>
compileModules(Jit& jit, const std::string& moduleName,
               const std::vector<std::function<void(llvm::Module&)>>& emitters,
               const std::vector<std::string>& symbols, std::string_view identity = {});

/// `void kernel(const float* x, float* y, int64_t n)`: y[i] = f(x[i]) for i < n.
using UnaryKernel = void (*)(const float*, float*, int64_t);

/// Owns the JIT that holds one compiled activation kernel.
class CompiledActivation {
public:
  /// Compiles activation `op` with `attrs` (resolved, in OpInfo::attrSpecs() order). On failure
  /// (an ISA this CPU lacks, an LLVM error) kernel() is null and error() says why.
  CompiledActivation(const codegen::TargetIsa& isa, ir::OpKind op,
                     const std::vector<ir::AttrValue>& attrs);
  ~CompiledActivation();
  CompiledActivation(const CompiledActivation&) = delete;
  CompiledActivation& operator=(const CompiledActivation&) = delete;

  UnaryKernel kernel() const { return kernel_; }
  const std::string& error() const { return error_; }
  /// Wall time of emitting, optimizing and compiling the kernel's module, in milliseconds.
  double compileMilliseconds() const { return compileMs_; }
  /// Wall time of setting up the JIT (target machine, session), paid once per Jit, in ms.
  double setupMilliseconds() const { return setupMs_; }

private:
  std::unique_ptr<Jit> jit_;
  UnaryKernel kernel_ = nullptr;
  std::string error_;
  double compileMs_ = 0;
  double setupMs_ = 0;
};

/// One kernel to compile: its symbol name and the activation it applies.
struct KernelRequest {
  std::string name;
  ir::OpKind op;
  std::vector<ir::AttrValue> attrs;
};

/// Emits every requested kernel into one module, compiles it with `jit` and returns their
/// addresses in request order; on failure, the error text.
std::variant<std::vector<UnaryKernel>, std::string>
compileActivations(Jit& jit, const std::vector<KernelRequest>& requests);

/// `void prelu(const float* x, float* y, const float* slope, int64_t outer, int64_t channels,
/// int64_t inner)`: see codegen/prelu_kernel.h.
using PreluKernel = void (*)(const float*, float*, const float*, int64_t, int64_t, int64_t);

/// Compiles the PReLU kernel with `jit` under `name`; on failure, the error text.
std::variant<PreluKernel, std::string> compilePrelu(Jit& jit, const std::string& name);

/// The attributes of `op` with the defaults of the op table, overridden by `given`.
std::vector<ir::AttrValue>
activationAttrs(ir::OpKind op,
                const std::vector<std::pair<std::string_view, ir::AttrValue>>& given);

} // namespace nnc::jit
