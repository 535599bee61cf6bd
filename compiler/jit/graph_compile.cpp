// The graph runner's code from the JIT: a KernelPlan emitted as one LLVM module and compiled
// (or loaded from the compile cache).
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

void emitKernels(llvm::Module& module, const KernelPlan& plan, const codegen::TargetIsa& isa) {
  for (const KernelRequest& request : plan.activations)
    codegen::emitActivationKernel(module, request.name, isa, request.op, request.attrs);
  for (size_t k = 0; k < plan.fused.size(); ++k)
    codegen::emitFusedKernel(module, plan.symbols[plan.firstFused + k], isa, plan.fused[k]);
  for (size_t e = 0; e < plan.gemmEpilogues.size(); ++e)
    codegen::emitGemmKernel(module, plan.symbols[plan.firstGemmEpilogue + e], isa,
                            &plan.gemmEpilogues[e]);
  if (plan.gemm)
    emitGemmKernels(module, isa);
  for (size_t d = 0; d < plan.depthwise.size(); ++d)
    codegen::emitDepthwiseKernel(module, plan.symbols[plan.firstDepthwise + d], isa,
                                 plan.depthwise[d]);
  for (size_t d = 0; d < plan.dot.size(); ++d)
    codegen::emitDotKernel(module, plan.symbols[plan.firstDot + d], isa, plan.dot[d]);
  if (plan.prelu)
    codegen::emitPreluKernel(module, "prelu", isa);
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
  auto compiled = compileModule(
      *jit_, graph_.name(), [&](llvm::Module& module) { emitKernels(module, plan, isa); },
      plan.symbols, codeIdentity(plan));
  if (auto* problem = std::get_if<std::string>(&compiled))
    throw runtime::UserError(*problem);
  codeFromCache_ = jit_->cacheHits > 0 && jit_->compiled == 0;
  return std::get<std::vector<void*>>(std::move(compiled));
}

} // namespace nnc::jit
