#include "compiler/jit/jit.h"

#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace nnc::jit {

namespace {

void initializeLlvmOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

} // namespace

/// A light function pipeline: the emitters write vectorized, unrolled, branch-free loops, so
/// what is left to do is folding and common subexpressions (constants, repeated splats). The
/// full O2 pipeline made no measurable difference to the kernels' speed but cost 6-8 ms per
/// module, most of the time budget of a JIT compile.
void optimizeModule(llvm::Module& m) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  // No target machine: these passes need no cost model, and building a second X86 target
  // machine per JIT took a millisecond or two.
  llvm::PassBuilder builder;
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::FunctionPassManager passes;
  passes.addPass(llvm::EarlyCSEPass());
  passes.addPass(llvm::InstCombinePass());
  passes.addPass(llvm::SimplifyCFGPass());
  llvm::ModulePassManager pipeline;
  pipeline.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(passes)));
  pipeline.run(m, mam);
}

namespace {

llvm::Expected<llvm::orc::ThreadSafeModule>
optimize(llvm::orc::ThreadSafeModule module, const llvm::orc::MaterializationResponsibility&) {
  module.withModuleDo([](llvm::Module& m) { optimizeModule(m); });
  return module;
}

/// The machine a module is compiled for: the process's triple, the ISA's CPU and features.
llvm::orc::JITTargetMachineBuilder machineFor(const codegen::TargetIsa& isa) {
  llvm::orc::JITTargetMachineBuilder machine(llvm::Triple(llvm::sys::getProcessTriple()));
  machine.setCPU(isa.cpu);
  machine.addFeatures(isa.features);
  // Less: the instruction selection and register allocation of O1. Measured here, the kernels run
  // as fast as with Aggressive (O3) and compile in half the time (4-6 ms instead of 8-11).
  machine.setCodeGenOptLevel(llvm::CodeGenOptLevel::Less);
  return machine;
}

} // namespace

llvm::Expected<std::unique_ptr<llvm::TargetMachine>>
targetMachineFor(const codegen::TargetIsa& isa) {
  initializeLlvmOnce();
  llvm::orc::JITTargetMachineBuilder machine = machineFor(isa);
  machine.setRelocationModel(llvm::Reloc::PIC_); // for position-independent executables
  return machine.createTargetMachine();
}

/// LLVM's hook for compiled objects: stores in the cache each module compiled under a key that
/// compileModule gave it (as its identifier).
class Jit::Storing : public llvm::ObjectCache {
public:
  explicit Storing(const jit::ObjectCache& cache) : cache_(cache) {}
  void expect(const std::string& key) {
    std::lock_guard<std::mutex> hold(lock_);
    keys_.insert(key);
  }
  void notifyObjectCompiled(const llvm::Module* module, llvm::MemoryBufferRef object) override {
    {
      std::lock_guard<std::mutex> hold(lock_);
      if (keys_.erase(module->getModuleIdentifier()) == 0)
        return;
    }
    cache_.store(module->getModuleIdentifier(),
                 {object, module->getDataLayout().getStringRepresentation()});
  }
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module*) override {
    return nullptr; // compileModule loads hits itself, before emitting anything
  }

private:
  const jit::ObjectCache& cache_;
  std::mutex lock_;
  std::set<std::string> keys_;
};

Jit::Jit(codegen::TargetIsa isa, const ObjectCache* cache)
    : isa_(std::move(isa)), cache_(cache),
      compileThreads_(std::clamp(std::thread::hardware_concurrency(), 1u, 4u)) {}
Jit::~Jit() = default;

namespace {

/// The data layout of code for `machine`, computed once per process and target: LLJIT would
/// otherwise build a target machine for it in every JIT, even one that only loads cached code.
llvm::Expected<llvm::DataLayout> dataLayoutFor(llvm::orc::JITTargetMachineBuilder machine) {
  static std::mutex lock;
  static std::map<std::string, std::string> known;
  std::string target = machine.getTargetTriple().str() + " " + machine.getCPU() + " " +
                       machine.getFeatures().getString();
  std::lock_guard<std::mutex> hold(lock);
  auto it = known.find(target);
  if (it == known.end()) {
    auto layout = machine.getDefaultDataLayoutForTarget();
    if (!layout)
      return layout.takeError();
    it = known.emplace(target, layout->getStringRepresentation()).first;
  }
  return llvm::DataLayout(it->second);
}

} // namespace

llvm::Expected<std::unique_ptr<Jit>> Jit::create(const codegen::TargetIsa& isa,
                                                 const ObjectCache* cache) {
  if (std::string missing = codegen::missingHostFeatures(isa); !missing.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "this CPU cannot run " + isa.name + " code: it lacks " +
                                       missing);
  std::unique_ptr<Jit> jit(new Jit(isa, cache));
  if (cache)
    jit->storing_ = std::make_unique<Storing>(*cache);
  return jit;
}

llvm::Error Jit::start(std::optional<llvm::DataLayout> layout) {
  if (jit_)
    return llvm::Error::success();
  // The CPU and its features come from the ISA (detecting the host's features for every JIT
  // cost a millisecond).
  llvm::orc::JITTargetMachineBuilder machine = machineFor(isa_);
  bool compiling = !layout;
  if (!layout) {
    initializeLlvmOnce();
    auto computed = dataLayoutFor(machine);
    if (!computed)
      return computed.takeError();
    layout = std::move(*computed);
  }
  // No platform: kernels have no static initializers, and the default one compiles an extra
  // module of its own at the first lookup (about 4 ms per JIT).
  llvm::orc::LLJITBuilder builder;
  builder.setJITTargetMachineBuilder(machine)
      .setDataLayout(std::move(layout))
      .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
      // The target machine is made when a module is compiled, not here: a JIT that only loads
      // code from the cache never needs one (nor LLVM's targets initialized).
      .setCompileFunctionCreator(
          [storing = storing_.get()](llvm::orc::JITTargetMachineBuilder target)
              -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
            initializeLlvmOnce();
            return std::make_unique<llvm::orc::ConcurrentIRCompiler>(std::move(target), storing);
          });
  if (compiling && compileThreads_ > 1)
    builder.setNumCompileThreads(compileThreads_);
  auto created = builder.create();
  if (!created)
    return created.takeError();
  std::unique_ptr<llvm::orc::LLJIT> lljit = std::move(*created);

  // Generated code may call memcpy/memset (the SSE tail uses a padded buffer).
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      lljit->getDataLayout().getGlobalPrefix());
  if (!process)
    return process.takeError();
  lljit->getMainJITDylib().addGenerator(std::move(*process));

  lljit->getIRTransformLayer().setTransform(
      [](llvm::orc::ThreadSafeModule module, const llvm::orc::MaterializationResponsibility& r) {
        return optimize(std::move(module), r);
      });
  jit_ = std::move(lljit);
  return llvm::Error::success();
}

llvm::Error Jit::prepare(llvm::Module& module) {
  if (llvm::Error e = start(std::nullopt))
    return e;
  module.setDataLayout(jit_->getDataLayout());
  module.setTargetTriple(jit_->getTargetTriple().str());
  return llvm::Error::success();
}

llvm::Error Jit::add(llvm::orc::ThreadSafeModule module, const std::string& cacheKey) {
  if (llvm::Error e = start(std::nullopt))
    return e;
  if (storing_ && !cacheKey.empty()) {
    module.withModuleDo([&](llvm::Module& m) { m.setModuleIdentifier(cacheKey); });
    storing_->expect(cacheKey);
  }
  return jit_->addIRModule(std::move(module));
}

llvm::Error Jit::addObject(std::unique_ptr<llvm::MemoryBuffer> object, llvm::StringRef dataLayout) {
  if (!jit_) {
    auto layout = llvm::DataLayout::parse(dataLayout);
    if (!layout)
      return layout.takeError();
    if (llvm::Error e = start(std::move(*layout)))
      return e;
  } else if (jit_->getDataLayout().getStringRepresentation() != dataLayout) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "an object's data layout differs from the JIT's");
  }
  return jit_->addObjectFile(std::move(object));
}

llvm::Expected<std::vector<void*>> Jit::lookup(const std::vector<std::string>& names) {
  if (names.empty())
    return std::vector<void*>();
  if (!jit_)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no code was added to the JIT before looking up " +
                                       names.front());
  llvm::orc::SymbolLookupSet wanted;
  std::vector<llvm::orc::SymbolStringPtr> interned;
  std::set<std::string_view> seen;
  for (const std::string& name : names) {
    interned.push_back(jit_->mangleAndIntern(name));
    if (seen.insert(name).second)
      wanted.add(interned.back());
  }
  auto found = jit_->getExecutionSession().lookup(
      llvm::orc::makeJITDylibSearchOrder(&jit_->getMainJITDylib()), std::move(wanted));
  if (!found)
    return found.takeError();
  std::vector<void*> addresses;
  for (const llvm::orc::SymbolStringPtr& symbol : interned)
    addresses.push_back(found->at(symbol).getAddress().toPtr<void*>());
  return addresses;
}

} // namespace nnc::jit
