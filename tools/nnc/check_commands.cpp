#include "compiler/ir/dot.h"
#include "compiler/ir/printer.h"
#include "tools/nnc/commands.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

namespace nnc::driver {

int runCheck(const std::vector<std::string>& files) {
  int status = kExitOk;
  for (const std::string& path : files) {
    std::optional<SourceFile> source = readSource(path);
    std::optional<ir::Module> module = source ? compileFile(*source) : std::nullopt;
    if (!module)
      status = kExitError;
    else if (module->models.empty())
      printToStderr(fmt::format("nnc: warning: '{}' defines no model\n", path));
  }
  return status;
}

passes::Pipeline pipelineFor(const PassOptions& options) {
  auto parsed = passes::Pipeline::parse(options.passes, options.fusion);
  if (auto* problem = std::get_if<std::string>(&parsed))
    throw runtime::UserError(*problem);
  return std::get<passes::Pipeline>(parsed);
}

namespace {

/// The models of `file` that `model` selects (all when it is empty), each optimized by
/// `pipeline` without weights; nullopt after reporting an error.
std::optional<std::vector<ir::Graph>> optimizedModels(const std::string& file,
                                                      const std::string& model,
                                                      const passes::Pipeline& pipeline,
                                                      bool printAfterAll) {
  std::optional<SourceFile> source = readSource(file);
  if (!source)
    return std::nullopt;
  std::optional<ir::Module> module = compileFile(*source);
  if (!module)
    return std::nullopt;
  if (module->models.empty()) {
    printToStderr(fmt::format("nnc: error: '{}' defines no model\n", file));
    return std::nullopt;
  }
  std::vector<ir::Graph> graphs;
  if (model.empty()) {
    graphs = module->models;
  } else if (const ir::Graph* graph = module->find(model)) {
    graphs.push_back(*graph);
  } else {
    std::vector<std::string> names;
    for (const ir::Graph& candidate : module->models)
      names.push_back(candidate.name());
    printToStderr(fmt::format("nnc: error: '{}' has no model named '{}'{}\n", file, model,
                              didYouMean(model, names)));
    return std::nullopt;
  }
  for (ir::Graph& graph : graphs)
    pipeline.run(graph, passes::PassContext{}, [&](std::string_view pass, const ir::Graph& after) {
      if (printAfterAll)
        std::cout << fmt::format("// after {}\n", pass) << ir::print(after) << "\n";
    });
  return graphs;
}

} // namespace

int runIr(const IrOptions& options) {
  passes::Pipeline pipeline = pipelineFor(options.passes);
  auto graphs = optimizedModels(options.file, options.model, pipeline, options.printAfterAll);
  if (!graphs)
    return kExitError;
  for (size_t i = 0; i < graphs->size(); ++i)
    std::cout << (i ? "\n" : "") << ir::print((*graphs)[i]);
  return kExitOk;
}

int runDot(const DotOptions& options) {
  passes::Pipeline pipeline = pipelineFor(options.passes);
  auto graphs = optimizedModels(options.file, options.model, pipeline, false);
  if (!graphs)
    return kExitError;
  std::string text;
  for (const ir::Graph& graph : *graphs)
    text += ir::toDot(graph);
  if (options.output.empty()) {
    std::cout << text;
    return kExitOk;
  }
  std::ofstream out(options.output, std::ios::binary);
  out << text;
  out.close(); // the last buffered bytes are written here, and can fail here
  if (!out)
    throw runtime::UserError(
        fmt::format("cannot write '{}': {}", options.output, std::strerror(errno)));
  return kExitOk;
}

} // namespace nnc::driver
