// Attributes of IR nodes as the graph runner reads them, and the geometry of a convolution.
// Internal to compiler/jit.
#pragma once

#include "compiler/ir/graph.h"
#include "runtime/layers.h"

#include <string_view>
#include <vector>

namespace nnc::jit {

std::vector<int64_t> pairAttr(const ir::Node& node, std::string_view name);
int64_t intAttr(const ir::Node& node, std::string_view name);
/// An axis attribute made non-negative for a value of this rank.
int64_t axisAttr(const ir::Node& node, size_t rank);

/// The geometry of conv2d `node` for input and output shapes [N, C, H, W].
runtime::Conv2dGeometry convGeometry(const ir::Node& node, const std::vector<int64_t>& x,
                                     const std::vector<int64_t>& out);

} // namespace nnc::jit
