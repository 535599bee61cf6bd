#include "compiler/jit/graph_runner.h"

#include "compiler/codegen/activation_kernels.h"
#include "compiler/codegen/fused_kernel.h"
#include "compiler/codegen/gemm_kernel.h"
#include "compiler/codegen/prelu_kernel.h"
#include "compiler/ir/internal_error.h"
#include "compiler/ir/printer.h"
#include "compiler/ir/shape_rules.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/depthwise.h"
#include "compiler/jit/fused_plan.h"
#include "compiler/jit/jit.h"
#include "compiler/jit/node_attrs.h"
#include "compiler/passes/fusion.h"
#include "runtime/layers.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace nnc::jit {

using runtime::Tensor;
using runtime::UserError;

namespace {

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

/// The floats of a shape that sizes a caller gives, or what broadcasting makes of them, may have
/// made too large: the caller's error, not a count that wraps around to something small.
int64_t elementCount(const std::vector<int64_t>& shape, std::string_view what) {
  std::optional<int64_t> count = runtime::checkedElementCount(shape);
  if (!count)
    throw UserError(fmt::format("{} would have shape {}: more floats than a memory can hold", what,
                                runtime::formatShape(shape)));
  return *count;
}

int64_t product(const std::vector<int64_t>& shape, size_t from, size_t to) {
  int64_t result = 1;
  for (size_t axis = from; axis < to; ++axis)
    result *= shape[axis];
  return result;
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

/// Checks the inputs' shapes against the model's: every input given once, ranks, known sizes
/// and one size per symbol.
void checkInputShapes(const ir::Graph& graph,
                      const std::map<std::string, std::vector<int64_t>>& shapes) {
  std::map<std::string, int64_t> symbols;
  std::map<std::string, std::string> boundBy;
  for (ir::ValueId id : graph.inputs()) {
    const ir::Value& input = graph.value(id);
    auto it = shapes.find(input.name);
    if (it == shapes.end())
      throw UserError(fmt::format("model '{}' needs input '{}' of type {}", graph.name(),
                                  input.name, input.type.str()));
    const std::vector<int64_t>& shape = it->second;
    if (static_cast<int>(shape.size()) != input.type.rank())
      throw UserError(fmt::format("input '{}' has shape {} of rank {}; the model expects {}",
                                  input.name, runtime::formatShape(shape), shape.size(),
                                  input.type.str()));
    for (int axis = 0; axis < input.type.rank(); ++axis) {
      const ir::Dim& dim = input.type.shape[axis];
      int64_t size = shape[axis];
      if (dim.isKnown() && dim.size() != size)
        throw UserError(fmt::format("input '{}' has shape {}; the model expects {} (axis {} "
                                    "must be {})",
                                    input.name, runtime::formatShape(shape), input.type.str(), axis,
                                    dim.size()));
      if (dim.isSymbol()) {
        if (size <= 0)
          throw UserError(fmt::format("input '{}' has shape {}: symbol {} must be at least 1",
                                      input.name, runtime::formatShape(shape), dim.symbolName()));
        auto [bound, inserted] = symbols.emplace(dim.symbolName(), size);
        if (!inserted && bound->second != size)
          throw UserError(fmt::format("symbol {} is {} in input '{}' but {} in input '{}'",
                                      dim.symbolName(), size, input.name, bound->second,
                                      boundBy[dim.symbolName()]));
        boundBy.emplace(dim.symbolName(), input.name);
      }
    }
    // After the sizes' own checks, which name a negative one better.
    elementCount(shape, fmt::format("input '{}'", input.name));
  }
  std::set<std::string_view> known;
  for (ir::ValueId id : graph.inputs())
    known.insert(graph.value(id).name);
  for (const auto& [name, shape] : shapes)
    if (!known.count(name))
      throw UserError(fmt::format("model '{}' has no input named '{}'", graph.name(), name));
}

} // namespace

GraphRunner::GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa, Weights weights,
                         int threads, const passes::Pipeline& pipeline,
                         const KernelProvider& provider, bool passesSeeWeights)
    : graph_(graph), weights_(std::move(weights)),
      pool_(threads > 0 ? threads : runtime::defaultThreadCount()) {
  auto start = std::chrono::steady_clock::now();
  passes::PassContext context;
  if (passesSeeWeights)
    context.weight = [this](const std::string& name) -> const std::vector<float>* {
      auto it = weights_.find(name);
      return it == weights_.end() ? nullptr : &it->second.data;
    };
  pipeline.run(graph_, context);
  materializeFoldedWeights(graph_, weights_);

  planSteps();
  KernelPlan plan = planKernels(isa);
  bindKernels(plan, provider(plan), isa);
  auto compiled = std::chrono::steady_clock::now();
  packWeights();
  compileMs_ = std::chrono::duration<double, std::milli>(compiled - start).count();
  weightsMs_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - compiled)
          .count();
}

GraphRunner::~GraphRunner() = default;

const Tensor& GraphRunner::weight(const ir::Node& node, std::string_view role) const {
  for (const ir::Param& param : node.params)
    if (param.role == role)
      return weights_.at(param.name);
  throw InternalError(fmt::format("{} has no parameter '{}'", node.info().name, role));
}

std::vector<View> GraphRunner::bindInputs(const std::map<std::string, InputView>& inputs) const {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, input] : inputs)
    shapes[name] = input.shape;
  checkInputShapes(graph_, shapes);
  std::vector<View> values(graph_.values().size());
  for (ir::ValueId id : graph_.inputs()) {
    const InputView& input = inputs.at(graph_.value(id).name);
    if (!input.data) // every input holds at least one float: its sizes are at least 1
      throw UserError(fmt::format("input '{}' has no data", graph_.value(id).name));
    values[id] = {input.shape, const_cast<float*>(input.data), // inputs are only read
                  product(input.shape, 0, input.shape.size())};
  }
  return values;
}

void GraphRunner::inferShapes(const Step& step, std::vector<View>& values) const {
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
  out.count = elementCount(out.shape, fmt::format("'{}'", graph_.value(step.result).name));
}

std::map<std::string, std::vector<int64_t>>
GraphRunner::outputShapes(const std::map<std::string, std::vector<int64_t>>& inputShapes) const {
  checkInputShapes(graph_, inputShapes);
  std::vector<View> values(graph_.values().size());
  for (ir::ValueId id : graph_.inputs())
    values[id].shape = inputShapes.at(graph_.value(id).name);
  for (const Step& step : steps_)
    inferShapes(step, values);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const ir::Output& output : graph_.outputs())
    shapes[output.name] = values[output.value].shape;
  return shapes;
}

std::map<std::string, Tensor> GraphRunner::run(const std::map<std::string, Tensor>& inputs) {
  std::map<std::string, InputView> views;
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, tensor] : inputs) {
    views[name] = {tensor.shape, tensor.data.data()};
    shapes[name] = tensor.shape;
  }
  std::map<std::string, Tensor> outputs;
  std::map<std::string, float*> buffers;
  for (auto& [name, shape] : outputShapes(shapes)) {
    Tensor& tensor = outputs[name];
    tensor.shape = shape;
    tensor.data.resize(static_cast<size_t>(tensor.elementCount()));
    buffers[name] = tensor.data.data();
  }
  run(views, buffers);
  return outputs;
}

namespace {

/// The caller's buffers a run reads and writes. Outputs are written while inputs are still read,
/// and one after another, so an output that shares a byte with an input or another output would
/// give a silently wrong result: each output's buffer is checked before its first write. Inputs
/// may share bytes with each other. Each check takes a logarithmic time, so that a model of
/// thousands of inputs and outputs does not pay for their square on every run.
class CallerBuffers {
public:
  /// Byte addresses [first, second); pointers into different buffers compare as integers.
  using Bytes = std::pair<uintptr_t, uintptr_t>;

  static Bytes bytesOf(const float* data, int64_t count) {
    auto begin = reinterpret_cast<uintptr_t>(data);
    return {begin, begin + (data ? static_cast<uintptr_t>(count) * sizeof(float) : 0)};
  }

  /// The inputs, once, before any output.
  void read(std::vector<std::pair<Bytes, std::string_view>> inputs) {
    inputs_ = std::move(inputs);
    std::sort(inputs_.begin(), inputs_.end());
    for (const auto& [bytes, name] : inputs_)
      reach_.push_back(std::max(reach_.empty() ? 0 : reach_.back(), bytes.second));
  }

  /// Throws runtime::UserError when the output's buffer shares a byte with an input or with an
  /// output recorded before.
  void write(const float* data, int64_t count, std::string_view name) {
    Bytes mine = bytesOf(data, count);
    if (mine.first == mine.second)
      return;
    // Inputs that begin before this buffer ends, sorted: does one of them reach into it?
    auto end =
        std::lower_bound(inputs_.begin(), inputs_.end(), mine.second,
                         [](const auto& input, uintptr_t at) { return input.first.first < at; });
    size_t before = static_cast<size_t>(end - inputs_.begin());
    if (before > 0 && reach_[before - 1] > mine.first)
      for (auto it = inputs_.begin(); it != end; ++it)
        if (it->first.second > mine.first && it->first.first < it->first.second)
          fail(name, "input", it->second);
    // Outputs never overlap each other, so only the neighbours can.
    auto next = outputs_.lower_bound(mine.first);
    if (next != outputs_.end() && next->first < mine.second)
      fail(name, "output", next->second.second);
    if (next != outputs_.begin() && std::prev(next)->second.first > mine.first)
      fail(name, "output", std::prev(next)->second.second);
    outputs_.emplace(mine.first, std::pair(mine.second, name));
  }

private:
  [[noreturn]] static void fail(std::string_view output, const char* kind, std::string_view other) {
    throw UserError(fmt::format("the buffer of output '{}' overlaps {} '{}'", output, kind, other));
  }

  std::vector<std::pair<Bytes, std::string_view>> inputs_; ///< sorted by first byte
  std::vector<uintptr_t> reach_; ///< reach_[i]: the furthest end of inputs_[0..i]
  std::map<uintptr_t, std::pair<uintptr_t, std::string_view>> outputs_; ///< first -> end, name
};

} // namespace

void GraphRunner::run(const std::map<std::string, InputView>& inputs,
                      const std::map<std::string, float*>& outputs) {
  std::vector<View> values = bindInputs(inputs);
  CallerBuffers caller;
  std::vector<std::pair<CallerBuffers::Bytes, std::string_view>> inputSpans;
  for (ir::ValueId id : graph_.inputs())
    inputSpans.emplace_back(CallerBuffers::bytesOf(values[id].data, values[id].count),
                            graph_.value(id).name);
  caller.read(std::move(inputSpans));
  // Where each value goes when it is an output the caller keeps: written there by its step.
  std::vector<const ir::Output*> callerOutput(graph_.values().size(), nullptr);
  std::vector<float*> callerBuffer(graph_.values().size(), nullptr);
  for (const ir::Output& output : graph_.outputs()) {
    auto it = outputs.find(output.name);
    if (it != outputs.end() && !callerBuffer[output.value]) {
      callerBuffer[output.value] = it->second;
      callerOutput[output.value] = &output;
    }
  }
  // The buffer plan: a step takes the smallest free buffer that fits (or, when elementwise, the
  // buffer of a same-sized operand it reads last), and a value's buffer goes back after its last
  // reader. The buffers stay with the runner for the next run.
  std::vector<Buffer> held(graph_.values().size());
  memory_.intermediateBytes = 0;
  memory_.trafficBytes = 0;
  for (size_t s = 0; s < steps_.size(); ++s) {
    const Step& step = steps_[s];
    inferShapes(step, values);
    View& out = values[step.result];
    memory_.intermediateBytes += out.count * static_cast<int64_t>(sizeof(float));
    memory_.trafficBytes += out.count * static_cast<int64_t>(sizeof(float));
    for (ir::ValueId read : step.reads)
      memory_.trafficBytes += values[read].count * static_cast<int64_t>(sizeof(float));

    Buffer& buffer = held[step.result];
    if (float* given = callerBuffer[step.result]) {
      caller.write(given, out.count, callerOutput[step.result]->name);
      out.data = given;
    } else {
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
    }
    if (profiling_) {
      auto start = std::chrono::steady_clock::now();
      execute(step, values, out);
      StepProfile& entry = profile_[s];
      entry.milliseconds +=
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      ++entry.runs;
      if (entry.step.empty())
        entry.step = step.kernel >= 0 ? ir::printKernel(graph_, static_cast<size_t>(step.kernel))
                                      : fmt::format("%{} = {} [{}]", graph_.value(step.result).name,
                                                    graph_.node(step.node).info().name,
                                                    fmt::join(out.shape, ", "));
    } else {
      execute(step, values, out);
    }
    for (ir::ValueId read : step.reads)
      if (lastRead_[read] == s && held[read].data)
        freeBuffers_.emplace(held[read].capacity, std::move(held[read]));
  }
  // Outputs no step wrote for the caller: a model input, or a value given as two outputs.
  for (const ir::Output& output : graph_.outputs()) {
    auto it = outputs.find(output.name);
    const View& value = values[output.value];
    if (it != outputs.end() && it->second != value.data && value.count > 0) {
      caller.write(it->second, value.count, output.name);
      std::memcpy(it->second, value.data, static_cast<size_t>(value.count) * sizeof(float));
    }
  }
  for (Buffer& buffer : held)
    if (buffer.data)
      freeBuffers_.emplace(buffer.capacity, std::move(buffer));
}

void GraphRunner::setProfiling(bool on) {
  profiling_ = on;
  profile_.assign(on ? steps_.size() : 0, {});
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
    TileEpilogue inRegisters{
        kernel.inRegisters, kernel.tileLeaves, {}, kernel.edgeInRegisters, kernel.edgeRows};
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
    if (dot_[id])
      denseDot(dot_[id], x.data, rows, in, weight(node, "weight").data.data(), optionalBias("bias"),
               units, y, epilogue, pool_);
    else if (!packed_[id].empty())
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
    runtime::globalAvgPool(x.data, x.shape[0], x.shape[1], product(x.shape, 2, 4), y, pool_);
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
