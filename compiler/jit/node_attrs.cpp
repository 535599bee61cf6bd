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

} // namespace nnc::jit
