// A pass: one named, self-contained rewrite of a model's graph.
#pragma once

#include "compiler/ir/graph.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace nnc::passes {

/// What a pass may know besides the graph.
struct PassContext {
  /// The values of a weight tensor by parameter name, once weights are loaded (`nnc run`,
  /// `nnc bench`); empty before (`nnc ir`), and then passes that need a weight's value skip it.
  std::function<const std::vector<float>*(const std::string& name)> weight;
  /// Whether fusion passes run later in the pipeline (set by Pipeline::run), for rewrites that
  /// pay only without fusion.
  bool willFuse = false;
};

class Pass {
public:
  virtual ~Pass() = default;
  /// The name the pipeline and `--passes` use, e.g. "fold-batchnorm".
  virtual std::string_view name() const = 0;
  /// One line for the docs.
  virtual std::string_view summary() const = 0;
  /// Rewrites `graph` in place, leaving it valid (ir::verify passes); returns whether anything
  /// changed.
  virtual bool run(ir::Graph& graph, const PassContext& context) = 0;
};

} // namespace nnc::passes
