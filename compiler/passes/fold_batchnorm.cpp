#include "compiler/passes/fold_batchnorm.h"

#include "compiler/passes/cleanup.h"

namespace nnc::passes {

namespace {

/// "a.b.weight" -> "a.b"
std::string prefixOf(const std::string& weightName) {
  size_t dot = weightName.rfind('.');
  return dot == std::string::npos ? weightName : weightName.substr(0, dot);
}

const ir::Param* findParam(const ir::Node& node, std::string_view role) {
  for (const ir::Param& param : node.params)
    if (param.role == role)
      return &param;
  return nullptr;
}

bool foldsInto(const ir::Graph& graph, const ir::Node& layer) {
  if (layer.op == ir::OpKind::Conv2d)
    return true;
  return layer.op == ir::OpKind::Dense && graph.value(layer.result).type.rank() == 2;
}

} // namespace

bool FoldBatchNorm::run(ir::Graph& graph, const PassContext&) {
  std::vector<int> uses = graph.useCounts();
  bool changed = false;
  for (ir::NodeId id = 0; id < graph.nodes().size(); ++id) {
    const ir::Node& norm = graph.node(id);
    if (norm.op != ir::OpKind::BatchNorm)
      continue;
    ir::ValueId input = norm.operands[0];
    ir::NodeId producer = graph.value(input).producer;
    if (producer == ir::kNoNode || uses[input] != 1 || !foldsInto(graph, graph.node(producer)))
      continue;

    std::string bn = prefixOf(findParam(norm, "weight")->name);
    double eps = std::get<double>(norm.attr("eps"));
    ir::ValueId normalized = norm.result;
    ir::Node& layer = graph.mutableNode(producer);
    const ir::Param* weight = findParam(layer, "weight");
    const ir::Param* bias = findParam(layer, "bias");
    std::string layerPrefix = prefixOf(weight->name);
    ir::Dim channels = weight->shape.at(0);

    ir::FoldedWeight scaled{weight->name + "*" + bn,
                            ir::FoldedWeight::Rule::ScaledWeight,
                            weight->name,
                            bn,
                            eps,
                            weight->shape};
    ir::FoldedWeight shifted{(bias ? bias->name : layerPrefix + ".bias") + "*" + bn,
                             ir::FoldedWeight::Rule::ShiftedBias,
                             bias ? bias->name : std::string(),
                             bn,
                             eps,
                             {channels}};
    layer.params = {ir::Param{"weight", scaled.name, scaled.shape},
                    ir::Param{"bias", shifted.name, shifted.shape}};
    layer.attrs[static_cast<size_t>(layer.info().attrIndex("bias"))] = true;
    graph.addFoldedWeight(std::move(scaled));
    graph.addFoldedWeight(std::move(shifted));
    graph.replaceAllUses(normalized, input);
    // The layer's result now has the batchnorm's users: a second batchnorm after this one
    // folds only if it is their only one.
    uses[input] = uses[normalized];
    uses[normalized] = 0;
    changed = true;
  }
  if (changed)
    removeDeadNodes(graph);
  return changed;
}

} // namespace nnc::passes
