// The graph runner's code from the JIT: a KernelPlan emitted as LLVM modules and compiled (or
// loaded from the compile cache).
#include "compiler/jit/graph_runner.h"

#include "compiler/codegen/activation_kernels.h"
#include "compiler/codegen/depthwise_kernel.h"
#include "compiler/codegen/dot_kernel.h"
#include "compiler/codegen/fused_kernel.h"
#include "compiler/codegen/gemm_kernel.h"
#include "compiler/codegen/prelu_kernel.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/gemm.h"
#include "compiler/jit/jit.h"

#include <variant>

namespace nnc::jit {

std::vector<KernelEmitter> kernelEmitters(const KernelPlan& plan, const codegen::TargetIsa& isa) {
  std::vector<KernelEmitter> emitters;
  for (const KernelRequest& request : plan.activations)
    emitters.push_back([&request, &isa](llvm::Module& module) {
      codegen::emitActivationKernel(module, request.name, isa, request.op, request.attrs);
    });
  for (size_t k = 0; k < plan.fused.size(); ++k)
    emitters.push_back([&plan, &isa, k](llvm::Module& module) {
      codegen::emitFusedKernel(module, plan.symbols[plan.firstFused + k], isa, plan.fused[k]);
    });
  for (size_t e = 0; e < plan.gemmEpilogues.size(); ++e)
    emitters.push_back([&plan, &isa, e](llvm::Module& module) {
      codegen::emitGemmKernel(module, plan.symbols[plan.firstGemmEpilogue + e], isa,
                              &plan.gemmEpilogues[e], plan.gemmEpilogues[e].rows);
    });
  if (plan.gemm)
    for (GemmEmitter& emitter : gemmKernelEmitters(isa, plan.gemmNarrow))
      emitters.push_back(std::move(emitter));
  for (size_t d = 0; d < plan.depthwise.size(); ++d)
    emitters.push_back([&plan, &isa, d](llvm::Module& module) {
      codegen::emitDepthwiseKernel(module, plan.symbols[plan.firstDepthwise + d], isa,
                                   plan.depthwise[d]);
    });
  for (size_t d = 0; d < plan.dot.size(); ++d)
    emitters.push_back([&plan, &isa, d](llvm::Module& module) {
      codegen::emitDotKernel(module, plan.symbols[plan.firstDot + d], isa, plan.dot[d]);
    });
  if (plan.prelu)
    emitters.push_back(
        [&isa](llvm::Module& module) { codegen::emitPreluKernel(module, "prelu", isa); });
  return emitters;
}

void emitKernels(llvm::Module& module, const KernelPlan& plan, const codegen::TargetIsa& isa) {
  for (const KernelEmitter& emit : kernelEmitters(plan, isa))
    emit(module);
}

GraphRunner::GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa, Weights weights,
                         int threads, const passes::Pipeline& pipeline, const ObjectCache* cache)
    : GraphRunner(graph, isa, std::move(weights), threads, pipeline,
                  KernelProvider([this, isa, cache](const KernelPlan& plan) {
                    return compileWithJit(plan, isa, cache);
                  })) {}

std::vector<void*> GraphRunner::compileWithJit(const KernelPlan& plan,
                                               const codegen::TargetIsa& isa,
                                               const ObjectCache* cache) {
  auto created = Jit::create(isa, cache);
  if (!created)
    throw runtime::UserError(llvm::toString(created.takeError()));
  jit_ = std::move(*created);
  auto compiled = compileModules(*jit_, graph_.name(), kernelEmitters(plan, isa), plan.symbols,
                                 codeIdentity(plan));
  if (auto* problem = std::get_if<std::string>(&compiled))
    throw runtime::UserError(*problem);
  codeFromCache_ = jit_->cacheHits > 0 && jit_->compiled == 0;
  return std::get<std::vector<void*>>(std::move(compiled));
}

} // namespace nnc::jit
