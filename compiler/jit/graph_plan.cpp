// The graph runner's plan, without LLVM: execution steps, the kernels a model needs, binding
// their addresses, and packed weights.
#include "compiler/jit/graph_runner.h"

#include "compiler/codegen/activation_kernels.h"
#include "compiler/codegen/fused_kernel.h"
#include "compiler/codegen/gemm_kernel.h"
#include "compiler/codegen/prelu_kernel.h"
#include "compiler/ir/internal_error.h"
#include "compiler/ir/shape_rules.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/depthwise.h"
#include "compiler/jit/fused_plan.h"
#include "compiler/jit/node_attrs.h"
#include "compiler/passes/fusion.h"
#include "runtime/layers.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <optional>

namespace nnc::jit {

using runtime::Tensor;
using runtime::UserError;

namespace {

constexpr size_t kNever = std::numeric_limits<size_t>::max();

std::string activationName(size_t node) {
  return fmt::format("node{}", node);
}

std::string fusedName(size_t kernel) {
  return fmt::format("fused{}", kernel);
}

/// The sizes of a static shape, with every symbol taken as 1; nullopt when a dimension from
/// `from` on is symbolic.
std::optional<std::vector<int64_t>> staticSizes(const ir::Shape& shape, size_t from) {
  std::vector<int64_t> sizes;
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis].isSymbol() && axis >= from)
      return std::nullopt;
    sizes.push_back(shape[axis].isKnown() ? shape[axis].size() : 1);
  }
  return sizes;
}

} // namespace

void GraphRunner::planSteps() {
  const std::vector<ir::FusedKernel>& fused = graph_.fusedKernels();
  std::vector<int> kernelOf(graph_.nodes().size(), -1);
  for (size_t k = 0; k < fused.size(); ++k)
    for (ir::NodeId id : fused[k].nodes)
      kernelOf[id] = static_cast<int>(k);
  for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id) {
    const ir::Node& node = graph_.node(id);
    int k = kernelOf[id];
    if (k < 0) {
      const ir::OpInfo& info = node.info();
      steps_.push_back(Step{id, -1, node.result, node.operands,
                            info.has(ir::kElementwise) && !info.has(ir::kIdentityAtInference)});
      continue;
    }
    const ir::FusedKernel& kernel = fused[static_cast<size_t>(k)];
    // A loop runs where its root is; an epilogue where its layer is, which is the last
    // producer of the loop's operands.
    if (id != (kernel.epilogue ? kernel.nodes.front() : kernel.root()))
      continue;
    Step step{id, k, graph_.node(kernel.root()).result, {}, !kernel.epilogue};
    std::vector<ir::ValueId> leaves = passes::kernelLeaves(graph_, kernel);
    if (kernel.epilogue) {
      step.reads = node.operands;
      leaves.erase(leaves.begin()); // the layer's result, written in place
    }
    step.reads.insert(step.reads.end(), leaves.begin(), leaves.end());
    steps_.push_back(std::move(step));
  }
  // The last step that reads each value; outputs live to the end.
  lastRead_.assign(graph_.values().size(), 0);
  for (size_t s = 0; s < steps_.size(); ++s)
    for (ir::ValueId value : steps_[s].reads)
      lastRead_[value] = s;
  for (const ir::Output& output : graph_.outputs())
    lastRead_[output.value] = kNever;
}

KernelPlan GraphRunner::planKernels(const codegen::TargetIsa& isa) {
  KernelPlan plan;
  // Activations outside fused kernels: one per distinct op and attributes.
  plan.activationOf.assign(graph_.nodes().size(), KernelPlan::kNone);
  for (const Step& step : steps_) {
    if (step.kernel >= 0)
      continue;
    const ir::Node& node = graph_.node(step.node);
    plan.prelu |= node.op == ir::OpKind::Prelu;
    if (node.op == ir::OpKind::Prelu || !codegen::hasActivationKernel(node.op))
      continue;
    auto same =
        std::find_if(plan.activations.begin(), plan.activations.end(), [&](const KernelRequest& r) {
          return r.op == node.op && r.attrs == node.attrs;
        });
    plan.activationOf[step.node] = static_cast<size_t>(same - plan.activations.begin());
    if (same == plan.activations.end())
      plan.activations.push_back({activationName(step.node), node.op, node.attrs});
  }

  // Fused kernels: the expression, the leaves, the run split.
  std::vector<codegen::FusedExpression> expressions;
  for (const ir::FusedKernel& fused : graph_.fusedKernels()) {
    FusedPlan fusedPlan = planFusedKernel(
        graph_, fused, [this](const ir::Node& node, std::string_view role) -> const Tensor& {
          return weight(node, role);
        });
    kernels_.push_back(Kernel{nullptr,
                              std::move(fusedPlan.leaves),
                              fusedPlan.expression.leafIsScalar,
                              fusedPlan.split,
                              nullptr,
                              {}});
    expressions.push_back(std::move(fusedPlan.expression));
  }
  // Kernels that compute the same expression share one function (their leaves differ).
  for (codegen::FusedExpression& expression : expressions) {
    auto same = std::find(plan.fused.begin(), plan.fused.end(), expression);
    plan.fusedOf.push_back(static_cast<size_t>(same - plan.fused.begin()));
    if (same == plan.fused.end())
      plan.fused.push_back(expression);
  }

  for (const KernelRequest& request : plan.activations)
    plan.symbols.push_back(request.name);
  plan.firstFused = plan.symbols.size();
  for (size_t k = 0; k < plan.fused.size(); ++k)
    plan.symbols.push_back(fusedName(k));
  for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id)
    if (usesGemm(id) && !runsAsDot(id, isa)) {
      plan.gemm = true;
      plan.gemmNarrow |= hasNarrowEdge(id, isa);
    }
  // Epilogues the GEMM applies in registers: one kernel per distinct epilogue and tile height
  // (a layer's last row of tiles may be shorter).
  plan.firstGemmEpilogue = plan.symbols.size();
  plan.gemmEpilogueOf.assign(kernels_.size(), KernelPlan::kNone);
  plan.gemmEdgeEpilogueOf.assign(kernels_.size(), KernelPlan::kNone);
  auto epilogueKernel = [&](codegen::GemmEpilogue epilogue) {
    auto same = std::find(plan.gemmEpilogues.begin(), plan.gemmEpilogues.end(), epilogue);
    if (same != plan.gemmEpilogues.end())
      return static_cast<size_t>(same - plan.gemmEpilogues.begin());
    plan.symbols.push_back(fmt::format("gemm.e{}", plan.gemmEpilogues.size()));
    plan.gemmEpilogues.push_back(std::move(epilogue));
    return plan.gemmEpilogues.size() - 1;
  };
  for (size_t k = 0; k < kernels_.size(); ++k) {
    std::vector<codegen::TileLeaf> layouts = tileLeaves(k, isa);
    if (layouts.empty())
      continue;
    kernels_[k].tileLeaves = layouts;
    plan.gemmEpilogueOf[k] = epilogueKernel({expressions[k], layouts});
    if (unsigned rows = edgeRows(k, isa); rows > 0)
      plan.gemmEdgeEpilogueOf[k] = epilogueKernel({expressions[k], layouts, rows});
  }
  plan.firstGemm = plan.symbols.size();
  if (plan.gemm)
    for (const std::string& name : gemmKernelNames(isa, plan.gemmNarrow))
      plan.symbols.push_back(name);
  // Depthwise convolutions with static image sizes: a kernel per distinct shape.
  plan.depthwiseOf.assign(graph_.nodes().size(), KernelPlan::kNone);
  depthwiseShapes_.assign(graph_.nodes().size(), {});
  plan.firstDepthwise = plan.symbols.size();
  for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id) {
    const ir::Node& node = graph_.node(id);
    if (node.op != ir::OpKind::Conv2d || usesGemm(id))
      continue;
    auto x = staticSizes(graph_.value(node.operands[0]).type.shape, 1);
    auto out = staticSizes(graph_.value(node.result).type.shape, 1);
    if (!x || !out || x->at(1) != intAttr(node, "groups"))
      continue;
    codegen::DepthwiseShape shape = depthwiseShape(convGeometry(node, *x, *out), isa);
    auto same = std::find_if(plan.depthwise.begin(), plan.depthwise.end(),
                             [&](const codegen::DepthwiseShape& d) {
                               return std::memcmp(&d, &shape, sizeof shape) == 0;
                             });
    plan.depthwiseOf[id] = static_cast<size_t>(same - plan.depthwise.begin());
    depthwiseShapes_[id] = shape;
    if (same == plan.depthwise.end()) {
      plan.symbols.push_back(fmt::format("depthwise{}", plan.depthwise.size()));
      plan.depthwise.push_back(shape);
    }
  }
  plan.dotOf.assign(graph_.nodes().size(), KernelPlan::kNone);
  plan.firstDot = plan.symbols.size();
  for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id) {
    if (!runsAsDot(id, isa))
      continue;
    auto units = static_cast<unsigned>(intAttr(graph_.node(id), "units"));
    auto same = std::find(plan.dot.begin(), plan.dot.end(), units);
    plan.dotOf[id] = static_cast<size_t>(same - plan.dot.begin());
    if (same == plan.dot.end()) {
      plan.symbols.push_back(fmt::format("dot{}", units));
      plan.dot.push_back(units);
    }
  }
  if (plan.prelu)
    plan.symbols.emplace_back("prelu");
  return plan;
}

void GraphRunner::bindKernels(const KernelPlan& plan, const std::vector<void*>& addresses,
                              const codegen::TargetIsa& isa) {
  if (addresses.size() != plan.symbols.size())
    throw InternalError("a model's kernels do not match their plan");
  activations_.assign(graph_.nodes().size(), nullptr);
  for (size_t id = 0; id < plan.activationOf.size(); ++id)
    if (plan.activationOf[id] != KernelPlan::kNone)
      activations_[id] = reinterpret_cast<UnaryKernel>(addresses[plan.activationOf[id]]);
  for (size_t k = 0; k < kernels_.size(); ++k)
    kernels_[k].fn = reinterpret_cast<FusedFn>(addresses[plan.firstFused + plan.fusedOf[k]]);
  if (plan.prelu)
    prelu_ = reinterpret_cast<PreluKernel>(addresses.back());
  if (plan.gemm)
    gemm_ = gemmKernelAt(isa, addresses.data() + plan.firstGemm, plan.gemmNarrow);
  depthwise_.assign(graph_.nodes().size(), nullptr);
  for (size_t id = 0; id < plan.depthwiseOf.size(); ++id)
    if (plan.depthwiseOf[id] != KernelPlan::kNone)
      depthwise_[id] =
          reinterpret_cast<DepthwiseFn>(addresses[plan.firstDepthwise + plan.depthwiseOf[id]]);
  dot_.assign(graph_.nodes().size(), nullptr);
  for (size_t id = 0; id < plan.dotOf.size(); ++id)
    if (plan.dotOf[id] != KernelPlan::kNone)
      dot_[id] = reinterpret_cast<DotFn>(addresses[plan.firstDot + plan.dotOf[id]]);
  auto epilogueAt = [&](size_t e) {
    return e == KernelPlan::kNone
               ? nullptr
               : reinterpret_cast<GemmKernelFn>(addresses[plan.firstGemmEpilogue + e]);
  };
  for (size_t k = 0; k < kernels_.size(); ++k) {
    kernels_[k].inRegisters = epilogueAt(plan.gemmEpilogueOf[k]);
    kernels_[k].edgeInRegisters = epilogueAt(plan.gemmEdgeEpilogueOf[k]);
    kernels_[k].edgeRows =
        kernels_[k].edgeInRegisters ? plan.gemmEpilogues[plan.gemmEdgeEpilogueOf[k]].rows : 0;
  }
}

bool GraphRunner::hasNarrowEdge(ir::NodeId id, const codegen::TargetIsa& isa) const {
  // The GEMM's N: a dense layer's units, a maxout's units times pieces, a conv2d's output
  // positions (its output channels when it runs as a dense layer).
  const ir::Node& node = graph_.node(id);
  int64_t n = 0;
  if (node.op == ir::OpKind::Dense) {
    n = intAttr(node, "units");
  } else if (node.op == ir::OpKind::Maxout) {
    n = intAttr(node, "units") * intAttr(node, "pieces");
  } else if (runsAsDense(graph_, node)) {
    n = intAttr(node, "filters");
  } else {
    const ir::Shape& out = graph_.value(node.result).type.shape;
    if (!out.at(2).isKnown() || !out.at(3).isKnown())
      return true;
    n = out.at(2).size() * out.at(3).size();
  }
  return n % codegen::gemmTile(isa).nr != 0;
}

unsigned GraphRunner::edgeRows(size_t k, const codegen::TargetIsa& isa) const {
  // A conv2d's GEMM has a row per output channel of a group; a dense layer's (or a conv2d's
  // that runs as one) a row per batch entry, which is not known here.
  const ir::Node& layer = graph_.node(graph_.fusedKernels()[k].nodes.front());
  if (layer.op != ir::OpKind::Conv2d || runsAsDense(graph_, layer))
    return 0;
  int64_t rows = intAttr(layer, "filters") / intAttr(layer, "groups");
  return static_cast<unsigned>(rows % codegen::gemmTile(isa).mr);
}

std::vector<codegen::TileLeaf> GraphRunner::tileLeaves(size_t k,
                                                       const codegen::TargetIsa& isa) const {
  const ir::FusedKernel& fused = graph_.fusedKernels()[k];
  if (!fused.epilogue || !usesGemm(fused.nodes.front()) || runsAsDot(fused.nodes.front(), isa))
    return {};
  const ir::Node& layer = graph_.node(fused.nodes.front());
  const ir::Shape& result = graph_.value(layer.result).type.shape;
  bool conv = layer.op == ir::OpKind::Conv2d;
  if (layer.op == ir::OpKind::Maxout || (!conv && result.size() != 2))
    return {};
  // A per-channel constant is [C, 1, 1] for a conv2d (a value per output row of its GEMM) and
  // [units] for a 2-D dense or a conv2d that runs as one (a value per column).
  int64_t channels = conv ? result.at(1).size() : result.back().size();
  bool perRow = conv && !runsAsDense(graph_, layer);
  std::vector<codegen::TileLeaf> layouts;
  for (const FusedLeaf& leaf : kernels_[k].leaves) {
    if (leaf.value == layer.result) {
      layouts.push_back(codegen::TileLeaf::Accumulator);
      continue;
    }
    if (leaf.value != FusedLeaf::kConstant) {
      // A tensor of the layer's own shape (a residual) is read like the output; any other
      // (broadcast) tensor goes to the epilogue on the stored planes.
      if (!(graph_.value(leaf.value).type == graph_.value(layer.result).type))
        return {};
      layouts.push_back(codegen::TileLeaf::Matrix);
      continue;
    }
    if (leaf.constant.size() == 1)
      layouts.push_back(codegen::TileLeaf::Scalar);
    else if (static_cast<int64_t>(leaf.constant.size()) == channels)
      layouts.push_back(perRow ? codegen::TileLeaf::RowScalar : codegen::TileLeaf::ColumnVector);
    else
      return {};
  }
  return layouts;
}

bool GraphRunner::runsAsDot(ir::NodeId id, const codegen::TargetIsa& isa) const {
  const ir::Node& node = graph_.node(id);
  return node.op == ir::OpKind::Dense && jit::runsAsDot(intAttr(node, "units"), isa.kind);
}

bool GraphRunner::usesGemm(ir::NodeId id) const {
  const ir::Node& node = graph_.node(id);
  if (node.op == ir::OpKind::Dense || node.op == ir::OpKind::Maxout)
    return true;
  if (node.op != ir::OpKind::Conv2d)
    return false;
  // Depthwise (one input channel per group) keeps the direct loop.
  const ir::Dim& channels = graph_.value(node.operands[0]).type.shape.at(1);
  return channels.isKnown() && channels.size() / intAttr(node, "groups") > 1;
}

void GraphRunner::packWeights() {
  packed_.clear();
  packed_.resize(graph_.nodes().size());
  if (!gemm_.fn)
    return;
  for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id) {
    if (!usesGemm(id) || dot_[id])
      continue;
    const ir::Node& node = graph_.node(id);
    const Tensor& w = weight(node, "weight");
    if (node.op == ir::OpKind::Conv2d) {
      runtime::Conv2dGeometry g;
      if (auto known = staticConvGeometry(graph_, node))
        g = *known;
      g.inChannels = graph_.value(node.operands[0]).type.shape[1].size();
      g.outChannels = w.shape[0];
      g.kernelH = w.shape[2];
      g.kernelW = w.shape[3];
      g.groups = intAttr(node, "groups");
      packed_[id] = packConvWeights(gemm_, w.data.data(), g);
    } else {
      packed_[id] = packDenseWeights(gemm_, w.data.data(), w.shape[0], w.shape[1]);
    }
  }
}

} // namespace nnc::jit
