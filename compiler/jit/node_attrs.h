// Attributes of IR nodes as the graph runner reads them, and the geometry of a convolution.
// Internal to compiler/jit.
#pragma once

#include "compiler/ir/graph.h"
#include "runtime/layers.h"

#include <optional>
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

/// The geometry of conv2d `node` for one image, where the graph knows every size but the batch.
std::optional<runtime::Conv2dGeometry> staticConvGeometry(const ir::Graph& graph,
                                                          const ir::Node& node);

/// Whether convolution `g` is a dense layer over each image: one group and a kernel that covers
/// the whole unpadded image, so that each image's 1x1 output is the weight rows times the image
/// (a squeeze-and-excitation conv). Its GEMM is then the images times the weights, one row per
/// image, rather than one product with a single column per image.
bool isDenseConv(const runtime::Conv2dGeometry& g);

/// Whether `node` is a conv2d whose static geometry isDenseConv: its epilogue's runs are then
/// rows of channels, as a dense layer's.
bool runsAsDense(const ir::Graph& graph, const ir::Node& node);

} // namespace nnc::jit
