#include "compiler/ir/printer.h"
#include "tools/nnc/commands.h"

#include <fmt/format.h>

#include <iostream>

namespace nnc::driver {

int runCheck(const std::vector<std::string>& files) {
  int status = kExitOk;
  for (const std::string& path : files) {
    std::optional<SourceFile> source = readSource(path);
    if (!source || !compileFile(*source))
      status = kExitError;
  }
  return status;
}

int runIr(const std::string& path, const std::string& modelName) {
  std::optional<SourceFile> source = readSource(path);
  if (!source)
    return kExitError;
  std::optional<ir::Module> module = compileFile(*source);
  if (!module)
    return kExitError;
  if (modelName.empty()) {
    std::cout << ir::print(*module);
    return kExitOk;
  }
  if (const ir::Graph* graph = module->find(modelName)) {
    std::cout << ir::print(*graph);
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const ir::Graph& graph : module->models)
    names.push_back(graph.name());
  fmt::print(stderr, "nnc: error: '{}' has no model named '{}'{}\n", path, modelName,
             didYouMean(modelName, names));
  return kExitError;
}

} // namespace nnc::driver
