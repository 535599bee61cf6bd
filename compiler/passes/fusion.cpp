#include "compiler/passes/fusion.h"

#include <algorithm>

namespace nnc::passes {

namespace {

/// Whether `operand` broadcasts to `result` by NumPy's rule with the static shapes: aligned on
/// the right, each axis equal (the same size or the same symbol) or of known size 1.
bool broadcastsStatically(const ir::Shape& operand, const ir::Shape& result) {
  if (operand.size() > result.size())
    return false;
  size_t offset = result.size() - operand.size();
  for (size_t axis = 0; axis < operand.size(); ++axis) {
    const ir::Dim& dim = operand[axis];
    if (!(dim == result[offset + axis]) && !(dim.isKnown() && dim.size() == 1))
      return false;
  }
  return true;
}

bool isLayer(ir::OpKind op) {
  return op == ir::OpKind::Dense || op == ir::OpKind::Conv2d || op == ir::OpKind::Maxout;
}

} // namespace

RunShape runShape(const ir::Shape& operand, const ir::Shape& result, size_t from) {
  size_t offset = result.size() - operand.size();
  bool whole = false, constant = false;
  for (size_t axis = from; axis < result.size(); ++axis) {
    if (result[axis].isKnown() && result[axis].size() == 1)
      continue;
    bool present = axis >= offset;
    bool one = !present || (operand[axis - offset].isKnown() && operand[axis - offset].size() == 1);
    (one ? constant : whole) = true;
  }
  return whole && constant ? RunShape::Mixed : whole ? RunShape::Whole : RunShape::Constant;
}

bool isFusible(const ir::Graph& graph, const ir::Node& node) {
  const ir::OpInfo& info = node.info();
  if (!info.has(ir::kElementwise) || info.has(ir::kIdentityAtInference))
    return false;
  const ir::Shape& result = graph.value(node.result).type.shape;
  return std::all_of(node.operands.begin(), node.operands.end(), [&](ir::ValueId operand) {
    return broadcastsStatically(graph.value(operand).type.shape, result);
  });
}

std::vector<ir::ValueId> kernelLeaves(const ir::Graph& graph, const ir::FusedKernel& kernel) {
  std::vector<ir::ValueId> leaves;
  size_t first = 0;
  if (kernel.epilogue) {
    leaves.push_back(graph.node(kernel.nodes[0]).result);
    first = 1;
  }
  auto inside = [&](ir::ValueId value) {
    ir::NodeId producer = graph.value(value).producer;
    return std::find(kernel.nodes.begin(), kernel.nodes.end(), producer) != kernel.nodes.end();
  };
  for (size_t i = first; i < kernel.nodes.size(); ++i)
    for (ir::ValueId operand : graph.node(kernel.nodes[i]).operands)
      if (!inside(operand) && std::find(leaves.begin(), leaves.end(), operand) == leaves.end())
        leaves.push_back(operand);
  return leaves;
}

bool FuseElementwise::run(ir::Graph& graph, const PassContext&) {
  std::vector<int> uses = graph.useCounts();
  std::vector<bool> taken(graph.nodes().size(), false);
  for (const ir::FusedKernel& kernel : graph.fusedKernels())
    for (ir::NodeId id : kernel.nodes)
      taken[id] = true;
  std::vector<ir::FusedKernel> kernels = graph.fusedKernels();
  size_t before = kernels.size();
  // From the last node back, so that each loop starts at the root of its tree.
  for (ir::NodeId root = static_cast<ir::NodeId>(graph.nodes().size()); root-- > 0;) {
    if (taken[root] || !isFusible(graph, graph.node(root)))
      continue;
    const ir::TensorType& type = graph.value(graph.node(root).result).type;
    ir::FusedKernel kernel;
    std::vector<ir::NodeId> pending = {root};
    taken[root] = true;
    // At most one op that is not cheap per loop: two transcendental activations in one
    // iteration make its dependency chain twice as long, so that half as many iterations are
    // in flight. Measured here: sigmoid -> tanh on 512 Ki floats took 0.65 ms as one loop and
    // 0.47 ms as two (whose extra memory traffic is from cache).
    bool expensive = !graph.node(root).info().has(ir::kCheap);
    while (!pending.empty()) {
      ir::NodeId member = pending.back();
      pending.pop_back();
      kernel.nodes.push_back(member);
      for (ir::ValueId operand : graph.node(member).operands) {
        ir::NodeId producer = graph.value(operand).producer;
        if (producer == ir::kNoNode || taken[producer] || uses[operand] != 1 ||
            !(graph.value(operand).type == type) || !isFusible(graph, graph.node(producer)))
          continue;
        bool cheap = graph.node(producer).info().has(ir::kCheap);
        if (!cheap && expensive)
          continue;
        expensive |= !cheap;
        taken[producer] = true;
        pending.push_back(producer);
      }
    }
    std::sort(kernel.nodes.begin(), kernel.nodes.end());
    kernels.push_back(std::move(kernel));
  }
  // In execution order: by root.
  std::sort(kernels.begin(), kernels.end(),
            [](const ir::FusedKernel& a, const ir::FusedKernel& b) { return a.root() < b.root(); });
  graph.setFusedKernels(std::move(kernels));
  return graph.fusedKernels().size() != before;
}

bool FuseEpilogues::run(ir::Graph& graph, const PassContext&) {
  std::vector<ir::FusedKernel> kernels = graph.fusedKernels();
  // Without fuse-elementwise, each fusible node is a loop of its own.
  std::vector<bool> taken(graph.nodes().size(), false);
  for (const ir::FusedKernel& kernel : kernels)
    for (ir::NodeId id : kernel.nodes)
      taken[id] = true;
  for (ir::NodeId id = 0; id < graph.nodes().size(); ++id)
    if (!taken[id] && isFusible(graph, graph.node(id)))
      kernels.push_back(ir::FusedKernel{{id}, false});

  std::vector<int> uses = graph.useCounts();
  bool changed = false;
  for (ir::FusedKernel& kernel : kernels) {
    if (kernel.epilogue)
      continue;
    std::vector<ir::ValueId> leaves = kernelLeaves(graph, kernel);
    ir::ValueId last = 0;
    ir::NodeId lastProducer = ir::kNoNode;
    for (ir::ValueId leaf : leaves) {
      ir::NodeId producer = graph.value(leaf).producer;
      if (producer != ir::kNoNode && (lastProducer == ir::kNoNode || producer > lastProducer)) {
        last = leaf;
        lastProducer = producer;
      }
    }
    if (lastProducer == ir::kNoNode || !isLayer(graph.node(lastProducer).op))
      continue;
    int usesInside = 0;
    for (ir::NodeId id : kernel.nodes)
      for (ir::ValueId operand : graph.node(id).operands)
        usesInside += operand == last;
    const ir::TensorType& type = graph.value(graph.node(kernel.root()).result).type;
    // A reader outside the loop (or a model output) needs the layer's result in memory.
    if (usesInside != uses[last] || !(graph.value(last).type == type))
      continue;
    if (graph.node(lastProducer).op == ir::OpKind::Conv2d &&
        !std::all_of(leaves.begin(), leaves.end(), [&](ir::ValueId leaf) {
          return runShape(graph.value(leaf).type.shape, type.shape, 2) != RunShape::Mixed;
        }))
      continue;
    std::vector<ir::NodeId> nodes = {lastProducer};
    nodes.insert(nodes.end(), kernel.nodes.begin(), kernel.nodes.end());
    kernel.nodes = std::move(nodes);
    kernel.epilogue = true;
    changed = true;
  }
  std::sort(kernels.begin(), kernels.end(),
            [](const ir::FusedKernel& a, const ir::FusedKernel& b) { return a.root() < b.root(); });
  graph.setFusedKernels(std::move(kernels));
  return changed;
}

} // namespace nnc::passes
