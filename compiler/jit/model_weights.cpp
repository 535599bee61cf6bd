#include "compiler/jit/model_weights.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <set>

namespace nnc::jit {

using runtime::UserError;

namespace {

std::vector<int64_t> sizes(const ir::Shape& shape) {
  std::vector<int64_t> result;
  for (const ir::Dim& dim : shape)
    result.push_back(dim.size()); // parameter shapes are always known
  return result;
}

/// Standard normal numbers from a 64-bit Mersenne Twister by the Box-Muller transform: unlike
/// std::normal_distribution, the same sequence with every standard library.
class Normal {
public:
  explicit Normal(uint64_t seed) : bits_(seed) {}
  double next() {
    if (spare_) {
      double value = *spare_;
      spare_.reset();
      return value;
    }
    // Two uniforms in (0, 1] from the top 53 bits.
    double u1 = (static_cast<double>(bits_() >> 11) + 1) * 0x1p-53;
    double u2 = static_cast<double>(bits_() >> 11) * 0x1p-53;
    double radius = std::sqrt(-2 * std::log(u1));
    spare_ = radius * std::sin(2 * std::numbers::pi * u2);
    return radius * std::cos(2 * std::numbers::pi * u2);
  }

private:
  std::mt19937_64 bits_;
  std::optional<double> spare_;
};

/// The inputs that feed each output of a weight of this shape: everything but the first axis.
int64_t fanIn(const std::vector<int64_t>& shape) {
  int64_t fan = 1;
  for (size_t axis = 1; axis < shape.size(); ++axis)
    fan *= shape[axis];
  return std::max<int64_t>(fan, 1);
}

} // namespace

void checkWeights(const ir::Graph& graph, const Weights& weights, const std::string& source) {
  std::set<std::string> expected;
  for (const ir::Node& node : graph.nodes())
    for (const ir::Param& param : node.params) {
      expected.insert(param.name);
      auto it = weights.find(param.name);
      if (it == weights.end())
        throw UserError(fmt::format("{}: missing tensor '{}' (the {} of {} in model '{}', shape "
                                    "{})",
                                    source, param.name, param.role, node.info().name, graph.name(),
                                    runtime::formatShape(sizes(param.shape))));
      if (it->second.shape != sizes(param.shape))
        throw UserError(fmt::format("{}: tensor '{}' has shape {}; model '{}' needs {}", source,
                                    param.name, runtime::formatShape(it->second.shape),
                                    graph.name(), runtime::formatShape(sizes(param.shape))));
    }
  for (const auto& [name, tensor] : weights)
    if (!expected.count(name))
      throw UserError(fmt::format("{}: tensor '{}' is not a parameter of model '{}'", source, name,
                                  graph.name()));
}

void materializeFoldedWeights(const ir::Graph& graph, Weights& weights) {
  auto get = [&](const std::string& name) -> const std::vector<float>& {
    auto it = weights.find(name);
    if (it == weights.end())
      throw runtime::UserError(fmt::format("weight '{}' is missing", name));
    return it->second.data;
  };
  for (const ir::FoldedWeight& folded : graph.foldedWeights()) {
    const std::vector<float>& gamma = get(folded.batchNorm + ".weight");
    const std::vector<float>& beta = get(folded.batchNorm + ".bias");
    const std::vector<float>& mean = get(folded.batchNorm + ".running_mean");
    const std::vector<float>& var = get(folded.batchNorm + ".running_var");
    auto scale = [&](size_t channel) {
      return static_cast<double>(gamma[channel]) /
             std::sqrt(static_cast<double>(var[channel]) + folded.eps);
    };
    runtime::Tensor result;
    for (const ir::Dim& dim : folded.shape)
      result.shape.push_back(dim.size());
    size_t channels = gamma.size();
    if (folded.rule == ir::FoldedWeight::Rule::ScaledWeight) {
      result.data = get(folded.source);
      size_t perChannel = result.data.size() / std::max<size_t>(channels, 1);
      for (size_t i = 0; i < result.data.size(); ++i)
        result.data[i] = static_cast<float>(result.data[i] * scale(i / perChannel));
    } else {
      const std::vector<float>* bias = folded.source.empty() ? nullptr : &get(folded.source);
      std::vector<float> shifted(channels);
      for (size_t c = 0; c < channels; ++c)
        shifted[c] = static_cast<float>(((bias ? (*bias)[c] : 0.0) - mean[c]) * scale(c) +
                                        static_cast<double>(beta[c]));
      result.data = std::move(shifted);
    }
    weights[folded.name] = std::move(result);
  }
}

Weights randomWeights(const ir::Graph& graph, uint64_t seed) {
  Normal normal(seed);
  Weights weights;
  for (const ir::Node& node : graph.nodes())
    for (const ir::Param& param : node.params) {
      runtime::Tensor tensor;
      tensor.shape = sizes(param.shape);
      tensor.data.assign(static_cast<size_t>(tensor.elementCount()), 0.0f);
      if (node.op == ir::OpKind::Prelu) {
        std::fill(tensor.data.begin(), tensor.data.end(), 0.25f);
      } else if (node.op == ir::OpKind::BatchNorm) {
        if (param.role == "weight" || param.role == "running_var")
          std::fill(tensor.data.begin(), tensor.data.end(), 1.0f);
      } else if (param.role == "weight") {
        double deviation = std::sqrt(2.0 / static_cast<double>(fanIn(tensor.shape)));
        for (float& value : tensor.data)
          value = static_cast<float>(normal.next() * deviation);
      }
      weights.emplace(param.name, std::move(tensor));
    }
  return weights;
}

} // namespace nnc::jit
