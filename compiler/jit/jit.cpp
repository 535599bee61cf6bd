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

#include <mutex>

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

/// LLVM's hook for compiled objects: stores each in the cache under its module's identifier.
class Jit::Storing : public llvm::ObjectCache {
public:
  explicit Storing(const jit::ObjectCache& cache) : cache_(cache) {}
  void notifyObjectCompiled(const llvm::Module* module, llvm::MemoryBufferRef object) override {
    cache_.store(module->getModuleIdentifier(), object);
  }
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module*) override {
    return nullptr; // compileModule loads hits itself, before optimizing anything
  }

private:
  const jit::ObjectCache& cache_;
};

Jit::Jit(codegen::TargetIsa isa, const ObjectCache* cache) : isa_(std::move(isa)), cache_(cache) {}
Jit::~Jit() = default;

const char* Jit::settingsStamp() {
  return "built " __DATE__ " " __TIME__;
}

llvm::Expected<std::unique_ptr<Jit>> Jit::create(const codegen::TargetIsa& isa,
                                                 const ObjectCache* cache) {
  initializeLlvmOnce();
  if (std::string missing = codegen::missingHostFeatures(isa); !missing.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "this CPU cannot run " + isa.name + " code: it lacks " +
                                       missing);
  // The CPU and its features come from the ISA (detecting the host's features for every JIT
  // cost a millisecond).
  llvm::orc::JITTargetMachineBuilder machine = machineFor(isa);

  // No platform: kernels have no static initializers, and the default one compiles an extra
  // module of its own at the first lookup (about 4 ms per JIT).
  std::unique_ptr<Jit> jit(new Jit(isa, cache));
  llvm::orc::LLJITBuilder builder;
  builder.setJITTargetMachineBuilder(machine).setPlatformSetUp(llvm::orc::setUpInactivePlatform);
  if (cache) {
    jit->storing_ = std::make_unique<Storing>(*cache);
    builder.setCompileFunctionCreator(
        [storing = jit->storing_.get()](llvm::orc::JITTargetMachineBuilder target)
            -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
          auto made = target.createTargetMachine();
          if (!made)
            return made.takeError();
          return std::make_unique<llvm::orc::TMOwningSimpleCompiler>(std::move(*made), storing);
        });
  }
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
  jit->jit_ = std::move(lljit);
  return jit;
}

void Jit::prepare(llvm::Module& module) const {
  module.setDataLayout(jit_->getDataLayout());
  module.setTargetTriple(jit_->getTargetTriple().str());
}

llvm::Error Jit::add(llvm::orc::ThreadSafeModule module) {
  return jit_->addIRModule(std::move(module));
}

llvm::Error Jit::addObject(std::unique_ptr<llvm::MemoryBuffer> object) {
  return jit_->addObjectFile(std::move(object));
}

llvm::Expected<void*> Jit::lookup(llvm::StringRef name) {
  auto symbol = jit_->lookup(name);
  if (!symbol)
    return symbol.takeError();
  return symbol->toPtr<void*>();
}

} // namespace nnc::jit
