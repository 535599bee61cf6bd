#include "compiler/jit/graph_runner.h"

#include "compiler/codegen/activation_kernels.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/jit.h"

#include <fmt/format.h>

#include <chrono>

namespace nnc::jit {

using runtime::UserError;

namespace {

std::string kernelName(size_t node) {
  return fmt::format("node{}", node);
}

} // namespace

GraphRunner::GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa) : graph_(graph) {
  auto start = std::chrono::steady_clock::now();
  for (const ir::Node& node : graph_.nodes()) {
    const ir::OpInfo& op = node.info();
    bool runnable = op.has(ir::kActivation) && codegen::hasActivationKernel(op.kind);
    if (!runnable && !op.has(ir::kIdentityAtInference))
      throw UserError(fmt::format("model '{}': '{}' (value %{}) cannot run in this version of "
                                  "nnc yet: only models of activations run so far",
                                  graph_.name(), op.name, graph_.value(node.result).name));
  }
  auto created = Jit::create(isa);
  if (!created)
    throw UserError(llvm::toString(created.takeError()));
  jit_ = std::move(*created);
  std::vector<KernelRequest> requests;
  for (size_t i = 0; i < graph_.nodes().size(); ++i) {
    const ir::Node& node = graph_.node(static_cast<ir::NodeId>(i));
    // Dropout (identity at inference) copies its input.
    if (node.info().has(ir::kActivation))
      requests.push_back({kernelName(i), node.op, node.attrs});
    else
      requests.push_back({kernelName(i), ir::OpKind::Identity, {}});
  }
  auto compiled = compileActivations(*jit_, requests);
  if (auto* problem = std::get_if<std::string>(&compiled))
    throw UserError(*problem);
  kernels_ = std::get<std::vector<UnaryKernel>>(compiled);
  compileMs_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

GraphRunner::~GraphRunner() = default;

std::map<std::string, runtime::Tensor>
GraphRunner::run(const std::map<std::string, runtime::Tensor>& inputs) {
  // Bind every symbol from the input shapes, checking ranks, known sizes and consistency.
  std::map<std::string, int64_t> symbols;
  std::map<std::string, std::string> boundBy;
  std::vector<const runtime::Tensor*> values(graph_.values().size(), nullptr);
  for (ir::ValueId id : graph_.inputs()) {
    const ir::Value& input = graph_.value(id);
    auto it = inputs.find(input.name);
    if (it == inputs.end())
      throw UserError(fmt::format("model '{}' needs input '{}' of type {}", graph_.name(),
                                  input.name, input.type.str()));
    const runtime::Tensor& tensor = it->second;
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
    for (ir::ValueId id : graph_.inputs())
      known |= graph_.value(id).name == name;
    if (!known)
      throw UserError(fmt::format("model '{}' has no input named '{}'", graph_.name(), name));
  }

  std::vector<runtime::Tensor> computed(graph_.nodes().size());
  for (size_t i = 0; i < graph_.nodes().size(); ++i) {
    const ir::Node& node = graph_.node(static_cast<ir::NodeId>(i));
    const runtime::Tensor& in = *values[node.operands.at(0)];
    runtime::Tensor& out = computed[i];
    out.shape = in.shape;
    out.data.resize(in.data.size());
    kernels_[i](in.data.data(), out.data.data(), static_cast<int64_t>(in.data.size()));
    values[node.result] = &out;
  }
  std::map<std::string, runtime::Tensor> outputs;
  for (const ir::Output& output : graph_.outputs())
    outputs[output.name] = *values[output.value];
  return outputs;
}

} // namespace nnc::jit
