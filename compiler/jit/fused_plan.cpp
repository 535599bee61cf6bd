#include "compiler/jit/fused_plan.h"

#include "compiler/ir/internal_error.h"
#include "compiler/jit/node_attrs.h"
#include "compiler/passes/fusion.h"

#include <algorithm>
#include <cmath>

namespace nnc::jit {

namespace {

ir::Shape knownShape(const std::vector<int64_t>& sizes) {
  ir::Shape shape;
  for (int64_t size : sizes)
    shape.push_back(ir::Dim::known(size));
  return shape;
}

/// The shape of a per-channel tensor (axis 1 of a result of `rank`), aligned on the right:
/// [C, 1, ..., 1]; a single value is [1].
std::vector<int64_t> channelShape(int64_t channels, int rank) {
  if (channels == 1 || rank < 2)
    return {channels};
  std::vector<int64_t> shape(static_cast<size_t>(rank - 1), 1);
  shape[0] = channels;
  return shape;
}

} // namespace

FusedPlan planFusedKernel(const ir::Graph& graph, const ir::FusedKernel& fused,
                          const WeightOf& weight) {
  FusedPlan plan;
  codegen::FusedExpression& expression = plan.expression;
  const ir::Shape& result = graph.value(graph.node(fused.root()).result).type.shape;
  int rank = static_cast<int>(result.size());
  std::vector<ir::Shape> leafShapes;
  auto leafOf = [&](ir::ValueId value) {
    for (size_t k = 0; k < plan.leaves.size(); ++k)
      if (plan.leaves[k].value == value)
        return codegen::FusedExpression::leaf(k);
    throw InternalError("a fused kernel's operand is neither a leaf nor a member");
  };
  auto addConstant = [&](std::vector<float> data) {
    std::vector<int64_t> shape = channelShape(static_cast<int64_t>(data.size()), rank);
    leafShapes.push_back(knownShape(shape));
    plan.leaves.push_back(FusedLeaf{FusedLeaf::kConstant, std::move(data), std::move(shape)});
    return codegen::FusedExpression::leaf(plan.leaves.size() - 1);
  };
  for (ir::ValueId value : passes::kernelLeaves(graph, fused)) {
    plan.leaves.push_back(FusedLeaf{value, {}, {}});
    leafShapes.push_back(graph.value(value).type.shape);
  }
  std::vector<int> stepOf(graph.values().size(), -1);
  for (size_t i = fused.epilogue ? 1 : 0; i < fused.nodes.size(); ++i) {
    const ir::Node& node = graph.node(fused.nodes[i]);
    codegen::FusedStep step{node.op, node.attrs, {}};
    for (ir::ValueId operand : node.operands)
      step.operands.push_back(stepOf[operand] >= 0 ? stepOf[operand] : leafOf(operand));
    if (node.op == ir::OpKind::Prelu) {
      step.operands.push_back(addConstant(weight(node, "weight").data));
    } else if (node.op == ir::OpKind::BatchNorm) {
      // As runtime::batchNorm: in float, scale = (1 / sqrt(var + eps)) * weight and
      // shift = bias - mean * scale.
      const std::vector<float>& gamma = weight(node, "weight").data;
      const std::vector<float>& beta = weight(node, "bias").data;
      const std::vector<float>& mean = weight(node, "running_mean").data;
      const std::vector<float>& var = weight(node, "running_var").data;
      auto eps = static_cast<float>(std::get<double>(node.attr("eps")));
      std::vector<float> scale(gamma.size()), shift(gamma.size());
      for (size_t c = 0; c < gamma.size(); ++c) {
        scale[c] = 1.0f / std::sqrt(var[c] + eps) * gamma[c];
        shift[c] = beta[c] - mean[c] * scale[c];
      }
      step.operands.push_back(addConstant(std::move(scale)));
      step.operands.push_back(addConstant(std::move(shift)));
    }
    stepOf[node.result] = static_cast<int>(expression.steps.size());
    expression.steps.push_back(std::move(step));
  }

  auto fits = [&](size_t split) {
    return std::all_of(leafShapes.begin(), leafShapes.end(), [&](const ir::Shape& shape) {
      return passes::runShape(shape, result, split) != passes::RunShape::Mixed;
    });
  };
  if (fused.epilogue) {
    // The layer's runs: a conv2d's channel planes, a dense layer's rows, the whole image of a
    // conv2d that runs as a dense layer.
    const ir::Node& layer = graph.node(fused.nodes.front());
    plan.split = static_cast<size_t>(layer.op != ir::OpKind::Conv2d ? rank - 1
                                     : runsAsDense(graph, layer)    ? 1
                                                                    : rank - 2);
  } else {
    while (!fits(plan.split))
      ++plan.split;
  }
  if (!fits(plan.split))
    throw InternalError("a fused epilogue's operands do not fit the layer's runs");
  for (const ir::Shape& shape : leafShapes)
    expression.leafIsScalar.push_back(passes::runShape(shape, result, plan.split) ==
                                      passes::RunShape::Constant);
  return plan;
}

} // namespace nnc::jit
