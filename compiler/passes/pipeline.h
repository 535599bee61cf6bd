// The pass pipeline: the default list of passes, and the `--passes` syntax that picks others.
#pragma once

#include "compiler/passes/pass.h"

#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace nnc::passes {

/// Every pass, in the order of the default pipeline.
std::vector<std::string> defaultPassNames();
/// The passes that fuse nodes into kernels (left out by `--no-fusion`).
bool isFusionPass(std::string_view name);
/// A new instance of the pass named `name`, or nullptr.
std::unique_ptr<Pass> createPass(std::string_view name);

/// Passes to run in order (none when default-constructed).
class Pipeline {
public:
  /// Parses "default", "none" or a comma-separated list of pass names; `fusion` false drops the
  /// fusion passes. On an unknown name, the error text.
  static std::variant<Pipeline, std::string> parse(std::string_view spec, bool fusion = true);
  /// The default pipeline.
  static Pipeline defaults();

  /// Runs every pass on `graph`, verifying the graph after each (a broken graph is an
  /// InternalError naming the pass). `afterEach`, when set, sees the graph after every pass.
  void
  run(ir::Graph& graph, const PassContext& context,
      const std::function<void(std::string_view pass, const ir::Graph&)>& afterEach = {}) const;

  std::vector<std::string> names() const;

private:
  std::vector<std::shared_ptr<Pass>> passes_;
};

} // namespace nnc::passes
