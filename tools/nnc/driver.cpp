#include "tools/nnc/driver.h"

#include "runtime/safetensors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace nnc::driver {

/// Reads a model file; on failure prints why and returns nothing.
void printToStderr(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
}

std::optional<SourceFile> readSource(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    printToStderr(fmt::format("nnc: error: '{}' is a directory, not a model file\n", path));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    printToStderr(fmt::format("nnc: error: cannot open '{}': {}\n", path, std::strerror(errno)));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    printToStderr(fmt::format("nnc: error: cannot read '{}'\n", path));
    return std::nullopt;
  }
  return SourceFile(path, text.str());
}

/// Compiles a file to IR, printing its diagnostics to stderr.
std::optional<ir::Module> compileFile(const SourceFile& source) {
  DiagnosticEngine diagnostics(source);
  std::optional<ir::Module> module = compileToIR(source, diagnostics);
  std::cerr << diagnostics.render();
  return module;
}

const ir::Graph& chooseModel(const ir::Module& module, const std::string& file,
                             const std::string& name) {
  std::vector<std::string> names;
  for (const ir::Graph& graph : module.models)
    names.push_back(graph.name());
  if (module.models.empty())
    throw runtime::UserError(fmt::format("'{}' defines no model", file));
  if (name.empty()) {
    if (module.models.size() == 1)
      return module.models.front();
    throw runtime::UserError(fmt::format("'{}' has {} models ({}); choose one with --model", file,
                                         module.models.size(), fmt::join(names, ", ")));
  }
  if (const ir::Graph* graph = module.find(name))
    return *graph;
  throw runtime::UserError(
      fmt::format("'{}' has no model named '{}'{}", file, name, didYouMean(name, names)));
}

jit::Weights loadWeights(const ir::Graph& graph, const WeightSource& source) {
  if (!source.file.empty()) {
    jit::Weights weights = runtime::readSafetensors(source.file);
    jit::checkWeights(graph, weights, fmt::format("'{}'", source.file));
    return weights;
  }
  if (source.seed)
    return jit::randomWeights(graph, *source.seed);
  size_t count = 0;
  for (const ir::Node& node : graph.nodes())
    count += node.params.size();
  if (count > 0)
    throw runtime::UserError(fmt::format("model '{}' has {} weight tensors; give them with "
                                         "--weights FILE.safetensors, or use --random-weights SEED",
                                         graph.name(), count));
  return {};
}

} // namespace nnc::driver
