#include "compiler/passes/activation_past_maxpool.h"

#include <algorithm>

namespace nnc::passes {

namespace {

/// The learned slopes of a prelu node, when the weights are loaded.
const std::vector<float>* slopes(const ir::Node& node, const PassContext& context) {
  if (!context.weight)
    return nullptr;
  for (const ir::Param& param : node.params)
    if (param.role == "weight")
      return context.weight(param.name);
  return nullptr;
}

double realAttr(const ir::Node& node, std::string_view name) {
  return std::get<double>(node.attr(name));
}

/// Whether the activation `node` computes a non-decreasing function, per the op table's
/// Monotonicity and the node's attributes or weights. A NaN attribute or slope fails every test.
bool nonDecreasing(const ir::Node& node, const PassContext& context) {
  switch (node.info().monotonicity) {
  case ir::Monotonicity::Always:
    return true;
  case ir::Monotonicity::Never:
    return false;
  case ir::Monotonicity::IfAlphaNonNegative:
    return realAttr(node, "alpha") >= 0;
  case ir::Monotonicity::IfBetaPositive: {
    if (!(realAttr(node, "beta") > 0))
      return false;
    // softplus also switches to x where beta·x passes its threshold, dropping there by
    // log1p(exp(-threshold))/beta. From threshold 20 on that is far below half a float ulp of x,
    // so the float function still never decreases; below, it visibly does (threshold 0 drops
    // from ln(2)/beta to 0), which the op table's IfBetaPositive does not capture.
    int threshold = node.info().attrIndex("threshold");
    return threshold < 0 || std::get<double>(node.attrs.at(static_cast<size_t>(threshold))) >= 20;
  }
  case ir::Monotonicity::IfWeightNonNegative: {
    const std::vector<float>* weight = slopes(node, context);
    return weight && !weight->empty() &&
           std::all_of(weight->begin(), weight->end(), [](float slope) { return slope >= 0; });
  }
  }
  return false;
}

/// Rewrites act(x) at `actId` and maxpool(act) at `poolId` (after it) into maxpool(x) at `actId`
/// and act(maxpool) at `poolId`, without adding a node: the order stays topological (x comes
/// before `actId`), and the pool's result value, which its users and outputs name, still holds
/// the final value. The activation's old result now holds the pooled x and takes the pool's
/// type. Each op keeps its source location.
void movePastPool(ir::Graph& graph, ir::NodeId actId, ir::NodeId poolId) {
  ir::Node act = graph.node(actId);
  ir::Node pool = graph.node(poolId);

  ir::Node& pooled = graph.mutableNode(actId);
  pooled.op = pool.op;
  pooled.attrs = pool.attrs;
  pooled.params = pool.params;
  pooled.loc = pool.loc;
  pooled.operands = act.operands;
  graph.setType(act.result, graph.value(pool.result).type);

  ir::Node& activated = graph.mutableNode(poolId);
  activated.op = act.op;
  activated.attrs = act.attrs;
  activated.params = act.params;
  activated.loc = act.loc;
  activated.operands = {act.result};
}

/// Whether `act` will run free in the epilogue of the layer before it: a cheap activation (the op
/// table's trait) on a dense, conv2d or maxout result that nothing else reads. Moved past the
/// pool it would cost a loop of its own instead.
bool freeInEpilogue(const ir::Graph& graph, const ir::Node& act, const std::vector<int>& uses,
                    const PassContext& context) {
  if (!context.willFuse || !act.info().has(ir::kCheap))
    return false;
  ir::ValueId input = act.operands.at(0);
  ir::NodeId producer = graph.value(input).producer;
  if (producer == ir::kNoNode || uses[input] != 1)
    return false;
  ir::OpKind op = graph.node(producer).op;
  return op == ir::OpKind::Dense || op == ir::OpKind::Conv2d || op == ir::OpKind::Maxout;
}

} // namespace

bool MoveActivationPastMaxPool::run(ir::Graph& graph, const PassContext& context) {
  // maxpool(f(x)) = f(maxpool(x)) for a non-decreasing elementwise f: every window's max of
  // f(a), f(b), ... is f of the max of a, b, ... (up to the sign of a zero when f maps several
  // inputs to 0), a NaN in the window makes both NaN, and maxpool's -inf padding never wins a
  // window either way (the shape rules keep pad <= kernel/2, as PyTorch does, so every window
  // holds a real element). Per-channel prelu is fine: maxpool keeps axis 1. The activation must
  // have no other user, which would still need f(x) unpooled.
  bool changed = false;
  for (bool moved = true; moved;) {
    moved = false;
    // A move leaves every use count as it was, so one count serves the whole sweep.
    std::vector<int> uses = graph.useCounts();
    for (ir::NodeId poolId = 0; poolId < graph.nodes().size(); ++poolId) {
      const ir::Node& pool = graph.node(poolId);
      if (pool.op != ir::OpKind::MaxPool)
        continue;
      ir::ValueId input = pool.operands.at(0);
      ir::NodeId actId = graph.value(input).producer;
      if (actId == ir::kNoNode || uses[input] != 1)
        continue;
      const ir::Node& act = graph.node(actId);
      if (!act.info().has(ir::kActivation) || act.operands.size() != 1 ||
          !nonDecreasing(act, context) || freeInEpilogue(graph, act, uses, context))
        continue;
      movePastPool(graph, actId, poolId);
      moved = changed = true;
    }
  }
  return changed;
}

} // namespace nnc::passes
