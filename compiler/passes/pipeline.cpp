#include "compiler/passes/pipeline.h"

#include "compiler/ir/internal_error.h"
#include "compiler/ir/verifier.h"
#include "compiler/passes/activation_past_maxpool.h"
#include "compiler/passes/cleanup.h"
#include "compiler/passes/fold_batchnorm.h"
#include "compiler/passes/fusion.h"
#include "compiler/passes/simplify_activations.h"

#include <fmt/format.h>

namespace nnc::passes {

namespace {

using Factory = std::unique_ptr<Pass> (*)();

template <class P> std::unique_ptr<Pass> make() {
  return std::make_unique<P>();
}

/// The default pipeline, in order. Cleanup first so that the algebra sees bare chains; batchnorm
/// folding after the algebra (which never touches batchnorm) and before fusion, which must see
/// the layer and its activation next to each other; epilogues last, over the elementwise groups.
const std::vector<std::pair<std::string_view, Factory>>& registry() {
  static const std::vector<std::pair<std::string_view, Factory>> passes = {
      {"remove-identity", make<RemoveIdentities>},
      {"simplify-activations", make<SimplifyActivations>},
      {"cse", make<MergeCommonSubexpressions>},
      {"fold-batchnorm", make<FoldBatchNorm>},
      {"activation-past-maxpool", make<MoveActivationPastMaxPool>},
      {"dce", make<EliminateDeadCode>},
      {"fuse-elementwise", make<FuseElementwise>},
      {"fuse-epilogue", make<FuseEpilogues>},
  };
  return passes;
}

} // namespace

std::vector<std::string> defaultPassNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry())
    names.emplace_back(name);
  return names;
}

bool isFusionPass(std::string_view name) {
  return name == "fuse-elementwise" || name == "fuse-epilogue";
}

std::unique_ptr<Pass> createPass(std::string_view name) {
  for (const auto& [known, factory] : registry())
    if (known == name)
      return factory();
  return nullptr;
}

std::variant<Pipeline, std::string> Pipeline::parse(std::string_view spec, bool fusion) {
  std::vector<std::string> names;
  if (spec == "default") {
    names = defaultPassNames();
  } else if (spec != "none") {
    size_t start = 0;
    while (start <= spec.size()) {
      size_t comma = spec.find(',', start);
      std::string_view name = spec.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      if (name.empty())
        return fmt::format("empty pass name in '{}'", spec);
      names.emplace_back(name);
      if (comma == std::string_view::npos)
        break;
      start = comma + 1;
    }
  }
  Pipeline pipeline;
  for (const std::string& name : names) {
    if (!fusion && isFusionPass(name))
      continue;
    if (name == "none" || name == "default")
      return fmt::format("'{}' names a whole pipeline and cannot be listed with other passes "
                         "in '{}'",
                         name, spec);
    std::unique_ptr<Pass> pass = createPass(name);
    if (!pass)
      return fmt::format("unknown pass '{}'; the passes are: none, default, {}", name,
                         fmt::join(defaultPassNames(), ", "));
    pipeline.passes_.push_back(std::move(pass));
  }
  return pipeline;
}

Pipeline Pipeline::defaults() {
  return std::get<Pipeline>(parse("default"));
}

void Pipeline::run(
    ir::Graph& graph, const PassContext& context,
    const std::function<void(std::string_view pass, const ir::Graph&)>& afterEach) const {
  PassContext withFusion = context;
  for (const std::shared_ptr<Pass>& pass : passes_)
    withFusion.willFuse |= isFusionPass(pass->name());
  for (const std::shared_ptr<Pass>& pass : passes_) {
    bool changed = pass->run(graph, withFusion);
    // Fused kernels describe the graph the fusion passes saw. A rewrite listed after them
    // (--passes fuse-elementwise,activation-past-maxpool) may change a fused node's op, so a
    // change drops them and the nodes run one by one, as LLVM drops the analyses a pass does
    // not preserve. The default order fuses last.
    if (changed && !isFusionPass(pass->name()))
      graph.setFusedKernels({});
    if (std::vector<std::string> problems = ir::verify(graph); !problems.empty())
      throw InternalError(fmt::format("pass {} left an invalid graph: {}", pass->name(),
                                      fmt::join(problems, "; ")));
    if (afterEach)
      afterEach(pass->name(), graph);
  }
}

std::vector<std::string> Pipeline::names() const {
  std::vector<std::string> names;
  for (const std::shared_ptr<Pass>& pass : passes_)
    names.emplace_back(pass->name());
  return names;
}

} // namespace nnc::passes
