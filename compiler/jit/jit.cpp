#include "compiler/jit/jit.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>

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

/// The function-level O2 pipeline without the loop and SLP vectorizers or the unroller: the
/// emitted loops are already vectorized and unrolled, and must stay as emitted.
llvm::Expected<llvm::orc::ThreadSafeModule>
optimize(llvm::orc::ThreadSafeModule module, const llvm::orc::MaterializationResponsibility&,
         llvm::TargetMachine* machine) {
  module.withModuleDo([machine](llvm::Module& m) {
    llvm::PipelineTuningOptions tuning;
    tuning.LoopVectorization = false;
    tuning.SLPVectorization = false;
    tuning.LoopUnrolling = false;
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder builder(machine, tuning);
    builder.registerModuleAnalyses(mam);
    builder.registerCGSCCAnalyses(cgam);
    builder.registerFunctionAnalyses(fam);
    builder.registerLoopAnalyses(lam);
    builder.crossRegisterProxies(lam, fam, cgam, mam);
    builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(m, mam);
  });
  return module;
}

} // namespace

llvm::Expected<std::unique_ptr<Jit>> Jit::create(const codegen::TargetIsa& isa) {
  initializeLlvmOnce();
  if (std::string missing = codegen::missingHostFeatures(isa); !missing.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "this CPU cannot run " + isa.name + " code: it lacks " +
                                       missing);
  auto hostMachine = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!hostMachine)
    return hostMachine.takeError();
  llvm::orc::JITTargetMachineBuilder machine(hostMachine->getTargetTriple());
  machine.setCPU(isa.cpu);
  machine.addFeatures(isa.features);
  machine.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);

  auto created = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(machine).create();
  if (!created)
    return created.takeError();
  std::unique_ptr<llvm::orc::LLJIT> lljit = std::move(*created);

  // Generated code may call memcpy/memset (the SSE tail uses a padded buffer).
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      lljit->getDataLayout().getGlobalPrefix());
  if (!process)
    return process.takeError();
  lljit->getMainJITDylib().addGenerator(std::move(*process));

  auto targetMachine = machine.createTargetMachine();
  if (!targetMachine)
    return targetMachine.takeError();
  std::shared_ptr<llvm::TargetMachine> tm = std::move(*targetMachine);
  lljit->getIRTransformLayer().setTransform(
      [tm](llvm::orc::ThreadSafeModule module, const llvm::orc::MaterializationResponsibility& r) {
        return optimize(std::move(module), r, tm.get());
      });
  return std::unique_ptr<Jit>(new Jit(isa, std::move(lljit)));
}

void Jit::prepare(llvm::Module& module) const {
  module.setDataLayout(jit_->getDataLayout());
  module.setTargetTriple(jit_->getTargetTriple().str());
}

llvm::Error Jit::add(llvm::orc::ThreadSafeModule module) {
  return jit_->addIRModule(std::move(module));
}

llvm::Expected<void*> Jit::lookup(llvm::StringRef name) {
  auto symbol = jit_->lookup(name);
  if (!symbol)
    return symbol.takeError();
  return symbol->toPtr<void*>();
}

} // namespace nnc::jit
