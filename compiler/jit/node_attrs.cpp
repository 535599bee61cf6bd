#include "compiler/jit/node_attrs.h"

#include "compiler/ir/shape_rules.h"

namespace nnc::jit {

std::vector<int64_t> pairAttr(const ir::Node& node, std::string_view name) {
  return std::get<std::vector<int64_t>>(node.attr(name));
}

int64_t intAttr(const ir::Node& node, std::string_view name) {
  return std::get<int64_t>(node.attr(name));
}

int64_t axisAttr(const ir::Node& node, size_t rank) {
  int64_t axis = intAttr(node, "axis");
  return axis < 0 ? axis + static_cast<int64_t>(rank) : axis;
}

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

std::optional<runtime::Conv2dGeometry> staticConvGeometry(const ir::Graph& graph,
                                                          const ir::Node& node) {
  std::vector<int64_t> x{1}, out{1};
  for (size_t axis = 1; axis < 4; ++axis) {
    const ir::Dim& in = graph.value(node.operands.at(0)).type.shape.at(axis);
    const ir::Dim& result = graph.value(node.result).type.shape.at(axis);
    if (!in.isKnown() || !result.isKnown())
      return std::nullopt;
    x.push_back(in.size());
    out.push_back(result.size());
  }
  return convGeometry(node, x, out);
}

bool isDenseConv(const runtime::Conv2dGeometry& g) {
  // Dilation would spread a kernel as wide as the image over padding.
  return g.groups == 1 && g.kernelH == g.inH && g.kernelW == g.inW && g.padTop == 0 &&
         g.padLeft == 0 && (g.kernelH == 1 || g.dilationH == 1) &&
         (g.kernelW == 1 || g.dilationW == 1) && g.outH == 1 && g.outW == 1;
}

bool runsAsDense(const ir::Graph& graph, const ir::Node& node) {
  if (node.op != ir::OpKind::Conv2d)
    return false;
  std::optional<runtime::Conv2dGeometry> g = staticConvGeometry(graph, node);
  return g && isDenseConv(*g);
}

} // namespace nnc::jit
