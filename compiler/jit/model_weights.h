// A model's weights: checking a set of tensors against the model's parameters, and the
// deterministic initialization used when no weight file is given.
#pragma once

#include "compiler/ir/graph.h"
#include "runtime/tensor.h"

#include <cstdint>
#include <map>
#include <string>

namespace nnc::jit {

using Weights = std::map<std::string, runtime::Tensor>;

/// Throws runtime::UserError (one line naming the tensor) when `weights` lacks a parameter of
/// `graph`, holds a tensor the model has no parameter for, or holds one of the wrong shape.
/// `source` names where the weights came from, for the message.
void checkWeights(const ir::Graph& graph, const Weights& weights, const std::string& source);

/// Adds the weights that passes derived (graph.foldedWeights(), in order, so that one may use an
/// earlier one) from the model's weights: batchnorm folded into a layer, computed in double
/// and rounded once. Throws runtime::UserError when a source weight is missing.
void materializeFoldedWeights(const ir::Graph& graph, Weights& weights);

/// Weights for every parameter of `graph`, the same for the same seed on every machine:
/// He-normal weights (std sqrt(2 / fan_in)) and zero biases for dense, conv2d and maxout,
/// 0.25 for prelu slopes, and identity statistics for batchnorm (weight 1, bias 0, mean 0,
/// variance 1).
Weights randomWeights(const ir::Graph& graph, uint64_t seed);

} // namespace nnc::jit
