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
#include "compiler/jit/jit.h"
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

/// Runs an elementwise step through the pool: chunks of at least 64 Ki elements, one per thread.
template <class Body> void parallelElements(runtime::ThreadPool& pool, int64_t n, Body body) {
  int64_t chunks = std::clamp<int64_t>(n >> 16, 1, pool.threads());
  int64_t step = (n + chunks - 1) / chunks;
  pool.parallelFor(chunks, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      int64_t from = c * step, count = std::min(step, n - from);
      if (count > 0)
        body(from, count);
    }
  });
}

int64_t product(const std::vector<int64_t>& shape, size_t from, size_t to) {
  int64_t result = 1;
  for (size_t axis = from; axis < to; ++axis)
    result *= shape[axis];
  return result;
}

std::vector<int64_t> pairAttr(const ir::Node& node, std::string_view name) {
  return std::get<std::vector<int64_t>>(node.attr(name));
}

int64_t intAttr(const ir::Node& node, std::string_view name) {
  return std::get<int64_t>(node.attr(name));
}

/// An axis attribute made non-negative for a value of this rank.
int64_t axisAttr(const ir::Node& node, size_t rank) {
  int64_t axis = intAttr(node, "axis");
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

ir::TensorType concreteType(const std::vector<int64_t>& shape) {
  ir::TensorType type;
  for (int64_t size : shape)
    type.shape.push_back(ir::Dim::known(size));
  return type;
}

/// The result shape of `node` for operands of these concrete shapes, by the op table's own
/// shape rule; a rule that fails here means the sizes bound at run time do not fit.
std::vector<int64_t> resultShape(const ir::Graph& graph, const ir::Node& node,
                                 const std::vector<View>& values) {
  std::vector<ir::TensorType> operands;
  for (ir::ValueId id : node.operands)
    operands.push_back(concreteType(values[id].shape));
  ir::InferOutcome outcome = node.info().infer(ir::InferContext(node.info(), operands, node.attrs));
  if (auto* error = std::get_if<ir::InferError>(&outcome))
    throw UserError(fmt::format("model '{}': {} for value '{}' cannot run on these input sizes: {}",
                                graph.name(), node.info().name, graph.value(node.result).name,
                                error->message));
  std::vector<int64_t> shape;
  for (const ir::Dim& dim : std::get<ir::Inferred>(outcome).type.shape)
    shape.push_back(dim.size());
  return shape;
}

/// Binds every model input, checking ranks, known sizes and the consistency of symbols.
std::vector<const Tensor*> bindInputs(const ir::Graph& graph,
                                      const std::map<std::string, Tensor>& inputs) {
  std::map<std::string, int64_t> symbols;
  std::map<std::string, std::string> boundBy;
  std::vector<const Tensor*> values(graph.values().size(), nullptr);
  for (ir::ValueId id : graph.inputs()) {
    const ir::Value& input = graph.value(id);
    auto it = inputs.find(input.name);
    if (it == inputs.end())
      throw UserError(fmt::format("model '{}' needs input '{}' of type {}", graph.name(),
                                  input.name, input.type.str()));
    const Tensor& tensor = it->second;
    if (static_cast<int>(tensor.shape.size()) != input.type.rank())
      throw UserError(fmt::format("input '{}' has shape {} of rank {}; the model expects {}",
                                  input.name, runtime::formatShape(tensor.shape),
                                  tensor.shape.size(), input.type.str()));
    for (int axis = 0; axis < input.type.rank(); ++axis) {
      const ir::Dim& dim = input.type.shape[axis];
      int64_t size = tensor.shape[axis];
      if (dim.isKnown() && dim.size() != size)
        throw UserError(fmt::format("input '{}' has shape {}; the model expects {} (axis {} "
                                    "must be {})",
                                    input.name, runtime::formatShape(tensor.shape),
                                    input.type.str(), axis, dim.size()));
      if (dim.isSymbol()) {
        if (size <= 0)
          throw UserError(fmt::format("input '{}' has shape {}: symbol {} must be at least 1",
                                      input.name, runtime::formatShape(tensor.shape),
                                      dim.symbolName()));
        auto [bound, inserted] = symbols.emplace(dim.symbolName(), size);
        if (!inserted && bound->second != size)
          throw UserError(fmt::format("symbol {} is {} in input '{}' but {} in input '{}'",
                                      dim.symbolName(), size, input.name, bound->second,
                                      boundBy[dim.symbolName()]));
        boundBy.emplace(dim.symbolName(), input.name);
      }
    }
    values[id] = &tensor;
  }
  for (const auto& [name, tensor] : inputs) {
    bool known = false;
    for (ir::ValueId id : graph.inputs())
      known |= graph.value(id).name == name;
    if (!known)
      throw UserError(fmt::format("model '{}' has no input named '{}'", graph.name(), name));
  }
  return values;
}

/// The geometry of conv2d `node` for input and output shapes [N, C, H, W].
runtime::Conv2dGeometry convGeometry(const ir::Node& node, const std::vector<int64_t>& x,
                                     const std::vector<int64_t>& out) {
  std::vector<int64_t> kernel = pairAttr(node, "kernel"), stride = pairAttr(node, "stride"),
                       dilation = pairAttr(node, "dilation");
  int64_t padTop = 0, padLeft = 0;
  const ir::AttrValue& pad = node.attr("pad");
  if (std::holds_alternative<std::string>(pad)) { // "same"
    padTop = ir::samePadding(kernel[0], dilation[0]).first;
    padLeft = ir::samePadding(kernel[1], dilation[1]).first;
  } else {
    padTop = std::get<std::vector<int64_t>>(pad)[0];
    padLeft = std::get<std::vector<int64_t>>(pad)[1];
  }
  return runtime::Conv2dGeometry{
      x[0],      x[1],      x[2],   x[3],    out[1],      kernel[0],   kernel[1],
      stride[0], stride[1], padTop, padLeft, dilation[0], dilation[1], intAttr(node, "groups"),
      out[2],    out[3]};
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

GraphRunner::GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa, Weights weights,
                         int threads, const passes::Pipeline& pipeline)
    : graph_(graph), weights_(std::move(weights)),
      pool_(threads > 0 ? threads : runtime::defaultThreadCount()) {
  auto start = std::chrono::steady_clock::now();
  passes::PassContext context;
  context.weight = [this](const std::string& name) -> const std::vector<float>* {
    auto it = weights_.find(name);
    return it == weights_.end() ? nullptr : &it->second.data;
  };
  pipeline.run(graph_, context);
  materializeFoldedWeights(graph_, weights_);

  auto created = Jit::create(isa);
  if (!created)
    throw UserError(llvm::toString(created.takeError()));
  jit_ = std::move(*created);
  planSteps();
  compileKernels(isa);
  packWeights();
  compileMs_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

GraphRunner::~GraphRunner() = default;

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

void GraphRunner::compileKernels(const codegen::TargetIsa& isa) {
  // Activations outside fused kernels: one per distinct op and attributes.
  std::vector<KernelRequest> requests;
  std::vector<size_t> requestOf(graph_.nodes().size(), SIZE_MAX);
  bool anyPrelu = false;
  for (const Step& step : steps_) {
    if (step.kernel >= 0)
      continue;
    const ir::Node& node = graph_.node(step.node);
    anyPrelu |= node.op == ir::OpKind::Prelu;
    if (node.op == ir::OpKind::Prelu || !codegen::hasActivationKernel(node.op))
      continue;
    auto same = std::find_if(requests.begin(), requests.end(), [&](const KernelRequest& r) {
      return r.op == node.op && r.attrs == node.attrs;
    });
    requestOf[step.node] = static_cast<size_t>(same - requests.begin());
    if (same == requests.end())
      requests.push_back({activationName(step.node), node.op, node.attrs});
  }

  // Fused kernels: the expression, the leaves, the run split.
  std::vector<codegen::FusedExpression> expressions;
  for (const ir::FusedKernel& fused : graph_.fusedKernels()) {
    FusedPlan plan = planFusedKernel(
        graph_, fused, [this](const ir::Node& node, std::string_view role) -> const Tensor& {
          return weight(node, role);
        });
    kernels_.push_back(Kernel{
        nullptr, std::move(plan.leaves), plan.expression.leafIsScalar, plan.split, nullptr, {}});
    expressions.push_back(std::move(plan.expression));
  }

  // Kernels that compute the same expression share one function (their leaves differ).
  std::vector<codegen::FusedExpression> distinct;
  std::vector<size_t> functionOf;
  for (codegen::FusedExpression& expression : expressions) {
    auto same = std::find(distinct.begin(), distinct.end(), expression);
    functionOf.push_back(static_cast<size_t>(same - distinct.begin()));
    if (same == distinct.end())
      distinct.push_back(expression);
  }

  std::vector<std::string> symbols;
  for (const KernelRequest& request : requests)
    symbols.push_back(request.name);
  for (size_t k = 0; k < distinct.size(); ++k)
    symbols.push_back(fusedName(k));
  bool anyGemm = false;
  for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id)
    anyGemm |= usesGemm(id);
  // Epilogues the GEMM applies in registers: one kernel per distinct epilogue.
  std::vector<codegen::GemmEpilogue> gemmEpilogues;
  std::vector<size_t> gemmEpilogueOf(kernels_.size(), SIZE_MAX);
  for (size_t k = 0; k < kernels_.size(); ++k) {
    std::vector<codegen::TileLeaf> layouts = tileLeaves(k);
    if (layouts.empty())
      continue;
    kernels_[k].tileLeaves = layouts;
    auto same = std::find_if(gemmEpilogues.begin(), gemmEpilogues.end(),
                             [&](const codegen::GemmEpilogue& e) {
                               return e.expression == expressions[k] && e.leaves == layouts;
                             });
    gemmEpilogueOf[k] = static_cast<size_t>(same - gemmEpilogues.begin());
    if (same == gemmEpilogues.end()) {
      symbols.push_back(fmt::format("gemm.e{}", gemmEpilogues.size()));
      gemmEpilogues.push_back({expressions[k], std::move(layouts)});
    }
  }
  size_t firstGemm = symbols.size();
  if (anyGemm)
    for (const std::string& name : gemmKernelNames(isa))
      symbols.push_back(name);
  // Depthwise convolutions with static image sizes: a kernel per distinct shape.
  std::vector<codegen::DepthwiseShape> depthwiseShapes;
  std::vector<size_t> depthwiseOf(graph_.nodes().size(), SIZE_MAX);
  depthwiseShapes_.assign(graph_.nodes().size(), {});
  size_t firstDepthwise = symbols.size();
  for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id) {
    const ir::Node& node = graph_.node(id);
    if (node.op != ir::OpKind::Conv2d || usesGemm(id))
      continue;
    auto x = staticSizes(graph_.value(node.operands[0]).type.shape, 1);
    auto out = staticSizes(graph_.value(node.result).type.shape, 1);
    if (!x || !out || x->at(1) != intAttr(node, "groups"))
      continue;
    codegen::DepthwiseShape shape = depthwiseShape(convGeometry(node, *x, *out), isa);
    auto same = std::find_if(depthwiseShapes.begin(), depthwiseShapes.end(),
                             [&](const codegen::DepthwiseShape& d) {
                               return std::memcmp(&d, &shape, sizeof shape) == 0;
                             });
    depthwiseOf[id] = static_cast<size_t>(same - depthwiseShapes.begin());
    depthwiseShapes_[id] = shape;
    if (same == depthwiseShapes.end()) {
      symbols.push_back(fmt::format("depthwise{}", depthwiseShapes.size()));
      depthwiseShapes.push_back(shape);
    }
  }
  if (anyPrelu)
    symbols.emplace_back("prelu");
  auto compiled = compileModule(
      *jit_, graph_.name(),
      [&](llvm::Module& module) {
        for (const KernelRequest& request : requests)
          codegen::emitActivationKernel(module, request.name, isa, request.op, request.attrs);
        for (size_t k = 0; k < distinct.size(); ++k)
          codegen::emitFusedKernel(module, fusedName(k), isa, distinct[k]);
        for (size_t e = 0; e < gemmEpilogues.size(); ++e)
          codegen::emitGemmKernel(module, fmt::format("gemm.e{}", e), isa, &gemmEpilogues[e]);
        if (anyGemm)
          emitGemmKernels(module, isa);
        for (size_t d = 0; d < depthwiseShapes.size(); ++d)
          codegen::emitDepthwiseKernel(module, fmt::format("depthwise{}", d), isa,
                                       depthwiseShapes[d]);
        if (anyPrelu)
          codegen::emitPreluKernel(module, "prelu", isa);
      },
      symbols);
  if (auto* problem = std::get_if<std::string>(&compiled))
    throw UserError(*problem);
  const std::vector<void*>& addresses = std::get<std::vector<void*>>(compiled);
  activations_.assign(graph_.nodes().size(), nullptr);
  for (size_t id = 0; id < requestOf.size(); ++id)
    if (requestOf[id] != SIZE_MAX)
      activations_[id] = reinterpret_cast<UnaryKernel>(addresses[requestOf[id]]);
  for (size_t k = 0; k < kernels_.size(); ++k)
    kernels_[k].fn = reinterpret_cast<FusedFn>(addresses[requests.size() + functionOf[k]]);
  if (anyPrelu)
    prelu_ = reinterpret_cast<PreluKernel>(addresses.back());
  if (anyGemm)
    gemm_ = gemmKernelAt(isa, addresses.data() + firstGemm);
  depthwise_.assign(graph_.nodes().size(), nullptr);
  for (size_t id = 0; id < depthwiseOf.size(); ++id)
    if (depthwiseOf[id] != SIZE_MAX)
      depthwise_[id] = reinterpret_cast<DepthwiseFn>(addresses[firstDepthwise + depthwiseOf[id]]);
  size_t firstEpilogue = requests.size() + distinct.size();
  for (size_t k = 0; k < kernels_.size(); ++k)
    if (gemmEpilogueOf[k] != SIZE_MAX)
      kernels_[k].inRegisters =
          reinterpret_cast<GemmKernelFn>(addresses[firstEpilogue + gemmEpilogueOf[k]]);
}

std::vector<codegen::TileLeaf> GraphRunner::tileLeaves(size_t k) const {
  const ir::FusedKernel& fused = graph_.fusedKernels()[k];
  if (!fused.epilogue || !usesGemm(fused.nodes.front()))
    return {};
  const ir::Node& layer = graph_.node(fused.nodes.front());
  const ir::Shape& result = graph_.value(layer.result).type.shape;
  bool conv = layer.op == ir::OpKind::Conv2d;
  if (layer.op == ir::OpKind::Maxout || (!conv && result.size() != 2))
    return {};
  // A per-channel constant is [C, 1, 1] for a conv2d (a value per output row of its GEMM) and
  // [units] for a 2-D dense (a value per column).
  int64_t channels = conv ? result.at(1).size() : result.back().size();
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
      layouts.push_back(conv ? codegen::TileLeaf::RowScalar : codegen::TileLeaf::ColumnVector);
    else
      return {};
  }
  return layouts;
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
    if (!usesGemm(id))
      continue;
    const ir::Node& node = graph_.node(id);
    const Tensor& w = weight(node, "weight");
    if (node.op == ir::OpKind::Conv2d) {
      runtime::Conv2dGeometry g;
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

const Tensor& GraphRunner::weight(const ir::Node& node, std::string_view role) const {
  for (const ir::Param& param : node.params)
    if (param.role == role)
      return weights_.at(param.name);
  throw InternalError(fmt::format("{} has no parameter '{}'", node.info().name, role));
}

std::map<std::string, Tensor> GraphRunner::run(const std::map<std::string, Tensor>& inputs) {
  std::vector<const Tensor*> bound = bindInputs(graph_, inputs);
  std::vector<View> values(graph_.values().size());
  for (ir::ValueId id : graph_.inputs())
    values[id] = {bound[id]->shape, const_cast<float*>(bound[id]->data.data()),
                  bound[id]->elementCount()}; // inputs are only read
  // The buffer plan: a step takes the smallest free buffer that fits (or, when elementwise, the
  // buffer of a same-sized operand it reads last), and a value's buffer goes back after its last
  // reader. The buffers stay with the runner for the next run.
  std::vector<Buffer> held(graph_.values().size());
  memory_.intermediateBytes = 0;
  memory_.trafficBytes = 0;
  for (size_t s = 0; s < steps_.size(); ++s) {
    const Step& step = steps_[s];
    // Shapes of everything the step computes, in order; the last is its result.
    if (step.kernel >= 0) {
      for (ir::NodeId id : graph_.fusedKernels()[static_cast<size_t>(step.kernel)].nodes) {
        const ir::Node& node = graph_.node(id);
        values[node.result].shape = resultShape(graph_, node, values);
      }
    } else {
      const ir::Node& node = graph_.node(step.node);
      values[node.result].shape = resultShape(graph_, node, values);
    }
    View& out = values[step.result];
    out.count = product(out.shape, 0, out.shape.size());
    memory_.intermediateBytes += out.count * static_cast<int64_t>(sizeof(float));
    memory_.trafficBytes += out.count * static_cast<int64_t>(sizeof(float));
    for (ir::ValueId read : step.reads)
      memory_.trafficBytes += values[read].count * static_cast<int64_t>(sizeof(float));

    Buffer& buffer = held[step.result];
    if (step.elementwise)
      for (ir::ValueId read : step.reads)
        if (lastRead_[read] == s && held[read].data && values[read].count == out.count) {
          buffer = std::move(held[read]);
          break;
        }
    if (!buffer.data) {
      auto fit = freeBuffers_.lower_bound(static_cast<size_t>(out.count));
      if (fit != freeBuffers_.end()) {
        buffer = std::move(fit->second);
        freeBuffers_.erase(fit);
      } else {
        buffer.capacity = static_cast<size_t>(std::max<int64_t>(out.count, 1));
        buffer.data.reset(static_cast<float*>(
            ::operator new[](buffer.capacity * sizeof(float), std::align_val_t(64))));
        memory_.peakBytes += static_cast<int64_t>(buffer.capacity * sizeof(float));
      }
    }
    out.data = buffer.data.get();
    execute(step, values, out);
    for (ir::ValueId read : step.reads)
      if (lastRead_[read] == s && held[read].data)
        freeBuffers_.emplace(held[read].capacity, std::move(held[read]));
  }
  std::map<std::string, Tensor> outputs;
  for (const ir::Output& output : graph_.outputs()) {
    const View& value = values[output.value];
    outputs[output.name] =
        Tensor{value.shape, std::vector<float>(value.data, value.data + value.count)};
  }
  for (Buffer& buffer : held)
    if (buffer.data)
      freeBuffers_.emplace(buffer.capacity, std::move(buffer));
  return outputs;
}

void GraphRunner::execute(const Step& step, const std::vector<View>& values, const View& out) {
  if (step.kernel < 0) {
    executeNode(step.node, values, out, {});
    return;
  }
  const Kernel& kernel = kernels_[static_cast<size_t>(step.kernel)];
  const ir::FusedKernel& fused = graph_.fusedKernels()[static_cast<size_t>(step.kernel)];
  std::vector<LeafView> leaves;
  for (const FusedLeaf& leaf : kernel.leaves) {
    if (leaf.value == FusedLeaf::kConstant)
      leaves.push_back({leaf.constant.data(), leaf.constantShape});
    else if (fused.epilogue && leaf.value == graph_.node(fused.nodes.front()).result)
      leaves.push_back({out.data, out.shape}); // the layer writes there first
    else
      leaves.push_back({values[leaf.value].data, values[leaf.value].shape});
  }
  FusedCall call(kernel.fn, out.shape, kernel.split, leaves, kernel.scalar);
  if (fused.epilogue) {
    TileEpilogue inRegisters{kernel.inRegisters, kernel.tileLeaves, {}};
    for (const FusedLeaf& leaf : kernel.leaves)
      inRegisters.origins.push_back(leaf.value == FusedLeaf::kConstant ? leaf.constant.data()
                                    : leaf.value == graph_.node(fused.nodes.front()).result
                                        ? nullptr
                                        : values[leaf.value].data);
    executeNode(step.node, values, out, runtime::Epilogue{FusedCall::applyTo, &call},
                kernel.inRegisters ? &inRegisters : nullptr);
    return;
  }
  parallelElements(pool_, out.count,
                   [&](int64_t from, int64_t count) { call.apply(out.data, from, count); });
}

void GraphRunner::executeNode(ir::NodeId id, const std::vector<View>& values, const View& out,
                              runtime::Epilogue epilogue, const TileEpilogue* inRegisters) {
  const ir::Node& node = graph_.node(id);
  const View& x = values[node.operands.at(0)];
  float* y = out.data;
  auto optionalBias = [&](std::string_view flag) -> const float* {
    return std::get<bool>(node.attr(flag)) ? weight(node, "bias").data.data() : nullptr;
  };

  if (UnaryKernel kernel = activations_[id]) {
    parallelElements(pool_, x.count,
                     [&](int64_t from, int64_t count) { kernel(x.data + from, y + from, count); });
    return;
  }
  switch (node.op) {
  case ir::OpKind::Dropout:
  case ir::OpKind::Flatten:
    if (y != x.data)
      std::memcpy(y, x.data, static_cast<size_t>(x.count) * sizeof(float));
    return;
  case ir::OpKind::Prelu: {
    const Tensor& slope = weight(node, "weight");
    bool perChannel = std::get<bool>(node.attr("per_channel"));
    int64_t outer = perChannel ? x.shape[0] : 1;
    int64_t channels = perChannel ? x.shape[1] : 1;
    int64_t inner = perChannel ? product(x.shape, 2, x.shape.size()) : x.count;
    prelu_(x.data, y, slope.data.data(), outer, channels, inner);
    return;
  }
  case ir::OpKind::Dense: {
    int64_t in = x.shape.back();
    int64_t units = out.shape.back();
    int64_t rows = x.count / std::max<int64_t>(in, 1);
    if (!packed_[id].empty())
      denseGemm(gemm_, packed_[id], x.data, rows, in, optionalBias("bias"), y, epilogue, pool_,
                inRegisters);
    else
      runtime::dense(x.data, rows, in, weight(node, "weight").data.data(), optionalBias("bias"),
                     units, y, pool_, epilogue);
    return;
  }
  case ir::OpKind::Maxout: {
    int64_t in = x.shape.back();
    int64_t rows = x.count / std::max<int64_t>(in, 1);
    if (!packed_[id].empty())
      maxoutGemm(gemm_, packed_[id], x.data, rows, in, weight(node, "bias").data.data(),
                 intAttr(node, "units"), intAttr(node, "pieces"), y, epilogue, pool_);
    else
      runtime::maxout(x.data, rows, in, weight(node, "weight").data.data(),
                      weight(node, "bias").data.data(), intAttr(node, "units"),
                      intAttr(node, "pieces"), y, pool_, epilogue);
    return;
  }
  case ir::OpKind::Conv2d: {
    runtime::Conv2dGeometry g = convGeometry(node, x.shape, out.shape);
    if (depthwise_[id]) {
      depthwiseConv(depthwise_[id], depthwiseShapes_[id], x.data,
                    weight(node, "weight").data.data(), optionalBias("bias"), y, g, epilogue,
                    pool_);
      return;
    }
    if (!packed_[id].empty())
      convGemm(gemm_, packed_[id], x.data, optionalBias("bias"), y, g, epilogue, pool_,
               inRegisters);
    else
      runtime::conv2d(x.data, weight(node, "weight").data.data(), optionalBias("bias"), y, g, pool_,
                      epilogue);
    return;
  }
  case ir::OpKind::MaxPool:
  case ir::OpKind::AvgPool: {
    std::vector<int64_t> kernel = pairAttr(node, "kernel"), stride = pairAttr(node, "stride"),
                         pad = pairAttr(node, "pad");
    runtime::Pool2dGeometry g{x.shape[0], x.shape[1], x.shape[2],   x.shape[3],
                              kernel[0],  kernel[1],  stride[0],    stride[1],
                              pad[0],     pad[1],     out.shape[2], out.shape[3]};
    if (node.op == ir::OpKind::MaxPool)
      runtime::maxPool2d(x.data, y, g, pool_);
    else
      runtime::avgPool2d(x.data, y, g, pool_);
    return;
  }
  case ir::OpKind::GlobalAvgPool:
    runtime::globalAvgPool(x.data, x.shape[0], x.shape[1], product(x.shape, 2, 4), y);
    return;
  case ir::OpKind::BatchNorm:
    runtime::batchNorm(x.data, x.shape[0], x.shape[1], product(x.shape, 2, x.shape.size()),
                       weight(node, "weight").data.data(), weight(node, "bias").data.data(),
                       weight(node, "running_mean").data.data(),
                       weight(node, "running_var").data.data(), std::get<double>(node.attr("eps")),
                       y);
    return;
  case ir::OpKind::Add:
  case ir::OpKind::Mul: {
    const View& b = values[node.operands.at(1)];
    runtime::broadcastBinary(node.op == ir::OpKind::Add ? runtime::BinaryOp::Add
                                                        : runtime::BinaryOp::Mul,
                             x.data, x.shape, b.data, b.shape, y, out.shape);
    return;
  }
  case ir::OpKind::Concat: {
    std::vector<const float*> parts;
    std::vector<std::vector<int64_t>> shapes;
    for (ir::ValueId operand : node.operands) {
      parts.push_back(values[operand].data);
      shapes.push_back(values[operand].shape);
    }
    runtime::concat(parts, shapes, axisAttr(node, out.shape.size()), y);
    return;
  }
  case ir::OpKind::Softmax:
  case ir::OpKind::LogSoftmax: {
    auto axis = static_cast<size_t>(axisAttr(node, x.shape.size()));
    runtime::softmax(x.data, product(x.shape, 0, axis), x.shape[axis],
                     product(x.shape, axis + 1, x.shape.size()), y,
                     node.op == ir::OpKind::LogSoftmax);
    return;
  }
  default:
    throw InternalError(fmt::format("no way to run {}", node.info().name));
  }
}

} // namespace nnc::jit
