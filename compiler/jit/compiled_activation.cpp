#include "compiler/jit/compiled_activation.h"

#include "compiler/codegen/activation_kernels.h"
#include "compiler/codegen/prelu_kernel.h"
#include "compiler/jit/jit.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

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
  auto compileStart = std::chrono::steady_clock::now();
  setupMs_ = std::chrono::duration<double, std::milli>(compileStart - start).count();
  auto compiled = compileActivations(*jit_, {KernelRequest{"kernel", op, attrs}});
  if (auto* problem = std::get_if<std::string>(&compiled)) {
    error_ = *problem;
    return;
  }
  kernel_ = std::get<std::vector<UnaryKernel>>(compiled).front();
  compileMs_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - compileStart)
          .count();
}

CompiledActivation::~CompiledActivation() = default;

namespace {

std::variant<std::vector<void*>, std::string> lookupAll(Jit& jit,
                                                        const std::vector<std::string>& symbols) {
  auto addresses = jit.lookup(symbols);
  if (!addresses)
    return llvm::toString(addresses.takeError());
  return std::move(*addresses);
}

/// Where `emitters` go when split into `parts` modules: round robin, so that the GEMM's similar
/// kernels, which come one after another, spread over the parts.
std::vector<std::vector<size_t>> partition(size_t emitters, size_t parts) {
  std::vector<std::vector<size_t>> assigned(parts);
  for (size_t i = 0; i < emitters; ++i)
    assigned[i % parts].push_back(i);
  return assigned;
}

} // namespace

std::variant<std::vector<void*>, std::string>
compileModules(Jit& jit, const std::string& moduleName,
               const std::vector<std::function<void(llvm::Module&)>>& emitters,
               const std::vector<std::string>& symbols, std::string_view identity) {
  const char* dumpPath = std::getenv("NNC_DUMP_IR");
  // A dump shows the whole code in one module.
  size_t parts = dumpPath ? 1 : std::clamp<size_t>(emitters.size(), 1, jit.compileThreads());
  std::vector<std::vector<size_t>> assigned = partition(emitters.size(), parts);

  std::vector<std::string> keys(parts);
  const ObjectCache* cache = jit.cache();
  if (cache && !identity.empty()) {
    for (size_t i = 0; i < parts; ++i) {
      std::string partIdentity(identity);
      if (parts > 1)
        partIdentity += "\npart " + std::to_string(i) + " of " + std::to_string(parts);
      keys[i] = ObjectCache::key(partIdentity, jit.isa());
    }
    std::vector<ObjectCache::Entry> entries;
    for (const std::string& key : keys) {
      std::optional<ObjectCache::Entry> cached = key.empty() ? std::nullopt : cache->load(key);
      if (!cached)
        break;
      entries.push_back(std::move(*cached));
    }
    if (entries.size() == parts) {
      for (ObjectCache::Entry& entry : entries) {
        ++jit.cacheHits;
        if (llvm::Error e = jit.addObject(std::move(entry.object), entry.dataLayout))
          return llvm::toString(std::move(e));
      }
      return lookupAll(jit, symbols);
    }
  }
  for (size_t i = 0; i < parts; ++i) {
    auto context = std::make_unique<llvm::LLVMContext>();
    auto module = std::make_unique<llvm::Module>(
        parts > 1 ? moduleName + "." + std::to_string(i) : moduleName, *context);
    if (llvm::Error e = jit.prepare(*module))
      return llvm::toString(std::move(e));
    for (size_t emitter : assigned[i])
      emitters[emitter](*module);
    if (dumpPath) {
      std::error_code error;
      llvm::raw_fd_ostream out(dumpPath, error);
      if (!error)
        module->print(out, nullptr);
    }
    ++jit.compiled;
    if (llvm::Error e =
            jit.add(llvm::orc::ThreadSafeModule(std::move(module), std::move(context)), keys[i]))
      return llvm::toString(std::move(e));
  }
  // One lookup of every symbol, so that the modules compile at the same time.
  return lookupAll(jit, symbols);
}

std::variant<std::vector<void*>, std::string>
compileModule(Jit& jit, const std::string& moduleName,
              const std::function<void(llvm::Module&)>& emit,
              const std::vector<std::string>& symbols, std::string_view identity) {
  return compileModules(jit, moduleName, {emit}, symbols, identity);
}

std::variant<std::vector<UnaryKernel>, std::string>
compileActivations(Jit& jit, const std::vector<KernelRequest>& requests) {
  std::vector<std::string> names;
  for (const KernelRequest& request : requests)
    names.push_back(request.name);
  auto compiled = compileModule(
      jit, "activations",
      [&](llvm::Module& module) {
        for (const KernelRequest& request : requests)
          codegen::emitActivationKernel(module, request.name, jit.isa(), request.op, request.attrs);
      },
      names);
  if (auto* problem = std::get_if<std::string>(&compiled))
    return *problem;
  std::vector<UnaryKernel> kernels;
  for (void* address : std::get<std::vector<void*>>(compiled))
    kernels.push_back(reinterpret_cast<UnaryKernel>(address));
  return kernels;
}

std::variant<PreluKernel, std::string> compilePrelu(Jit& jit, const std::string& name) {
  auto compiled = compileModule(
      jit, "prelu",
      [&](llvm::Module& module) { codegen::emitPreluKernel(module, name, jit.isa()); }, {name});
  if (auto* problem = std::get_if<std::string>(&compiled))
    return *problem;
  return reinterpret_cast<PreluKernel>(std::get<std::vector<void*>>(compiled).front());
}

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
