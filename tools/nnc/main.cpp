// nnc: the command-line driver. `nnc check`, `nnc ir`; exit 0 on success, 1 on errors in the
// input, 2 on bad usage, 3 on an internal compiler error (a bug in nnc).
#include "compiler/frontend/frontend.h"
#include "compiler/ir/internal_error.h"
#include "compiler/ir/printer.h"
#include "nnc/version.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInternalError = 3;

/// Reads a model file; on failure prints why and returns nothing.
std::optional<nnc::SourceFile> readSource(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    fmt::print(stderr, "nnc: error: '{}' is a directory, not a model file\n", path);
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "nnc: error: cannot open '{}': {}\n", path, std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    fmt::print(stderr, "nnc: error: cannot read '{}'\n", path);
    return std::nullopt;
  }
  return nnc::SourceFile(path, text.str());
}

/// Compiles a file to IR, printing its diagnostics to stderr.
std::optional<nnc::ir::Module> compileFile(const nnc::SourceFile& source) {
  nnc::DiagnosticEngine diagnostics(source);
  std::optional<nnc::ir::Module> module = nnc::compileToIR(source, diagnostics);
  std::cerr << diagnostics.render();
  return module;
}

int runCheck(const std::vector<std::string>& files) {
  int status = kExitOk;
  for (const std::string& path : files) {
    std::optional<nnc::SourceFile> source = readSource(path);
    if (!source || !compileFile(*source))
      status = kExitError;
  }
  return status;
}

int runIr(const std::string& path, const std::string& modelName) {
  std::optional<nnc::SourceFile> source = readSource(path);
  if (!source)
    return kExitError;
  std::optional<nnc::ir::Module> module = compileFile(*source);
  if (!module)
    return kExitError;
  if (modelName.empty()) {
    std::cout << nnc::ir::print(*module);
    return kExitOk;
  }
  if (const nnc::ir::Graph* graph = module->find(modelName)) {
    std::cout << nnc::ir::print(*graph);
    return kExitOk;
  }
  std::vector<std::string> names;
  for (const nnc::ir::Graph& graph : module->models)
    names.push_back(graph.name());
  fmt::print(stderr, "nnc: error: '{}' has no model named '{}'{}\n", path, modelName,
             nnc::didYouMean(modelName, names));
  return kExitError;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"nnc: a compiler for neural networks written in the .nn language"};
  app.set_version_flag("--version", std::string("nnc ") + NNC_VERSION_STRING);
  app.require_subcommand(1);

  std::vector<std::string> checkFiles;
  CLI::App* check = app.add_subcommand(
      "check", "Check model files: syntax, names, arguments and shapes. Exit 0 when valid.");
  check->add_option("FILE", checkFiles, "model files (.nn)")->required();

  std::string irFile, irModel;
  CLI::App* ir = app.add_subcommand("ir", "Print the IR of a model file (format: docs/ir.md).");
  ir->add_option("FILE", irFile, "model file (.nn)")->required();
  ir->add_option("--model", irModel, "print only this model");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  try {
    if (*check)
      return runCheck(checkFiles);
    if (*ir)
      return runIr(irFile, irModel);
  } catch (const nnc::InternalError& e) {
    fmt::print(stderr,
               "nnc: internal compiler error: {}\nThis is a bug in nnc; please report it "
               "with the model file.\n",
               e.what());
    return kExitInternalError;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "nnc: error: out of memory\n");
    return kExitError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nnc: internal compiler error: {}\n", e.what());
    return kExitInternalError;
  }
  return kExitUsage;
}
