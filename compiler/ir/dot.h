// A Graphviz (dot) drawing of one model, with each fused kernel drawn as a cluster of its nodes.
#pragma once

#include "compiler/ir/graph.h"

#include <string>

namespace nnc::ir {

/// A `digraph` named after the model (render with `dot -Tsvg`): inputs as ellipses, nodes as
/// boxes ("OP\n%VALUE\nTYPE"), outputs as double octagons, an edge from the producer of each
/// operand. Node ids are "v<value id>" for inputs and nodes and "out<i>" for outputs; fused kernel
/// i is `subgraph cluster_k<i>`. Every identifier and label is quoted and escaped, and the output
/// depends only on the graph.
std::string toDot(const Graph& graph);

} // namespace nnc::ir
