// nnc: the command-line driver. `nnc check`, `nnc ir`, `nnc run`; exit 0 on success, 1 on errors in
// the input, 2 on bad usage, 3 on an internal compiler error (a bug in nnc).
#include "compiler/codegen/target.h"
#include "compiler/frontend/frontend.h"
#include "compiler/ir/internal_error.h"
#include "compiler/ir/printer.h"
#include "compiler/jit/graph_runner.h"
#include "nnc/version.h"
#include "runtime/npy.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
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

/// NAME=PATH
std::pair<std::string, std::string> splitBinding(const std::string& text, const char* option) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size())
    throw nnc::runtime::UserError(fmt::format("{} takes NAME=FILE.npy, got '{}'", option, text));
  return {text.substr(0, eq), text.substr(eq + 1)};
}

struct RunOptions {
  std::string file, model, isa = "host";
  std::vector<std::string> inputs, outputs;
};

const nnc::ir::Graph* chooseModel(const nnc::ir::Module& module, const RunOptions& options) {
  std::vector<std::string> names;
  for (const nnc::ir::Graph& graph : module.models)
    names.push_back(graph.name());
  if (options.model.empty()) {
    if (module.models.size() == 1)
      return &module.models.front();
    fmt::print(stderr, "nnc: error: '{}' has {} models ({}); choose one with --model\n",
               options.file, module.models.size(), fmt::join(names, ", "));
    return nullptr;
  }
  if (const nnc::ir::Graph* graph = module.find(options.model))
    return graph;
  fmt::print(stderr, "nnc: error: '{}' has no model named '{}'{}\n", options.file, options.model,
             nnc::didYouMean(options.model, names));
  return nullptr;
}

void printSummary(const std::string& name, const nnc::runtime::Tensor& tensor) {
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (float v : tensor.data) {
    sum += v;
    lo = std::min<double>(lo, v);
    hi = std::max<double>(hi, v);
  }
  double mean = tensor.data.empty() ? 0 : sum / static_cast<double>(tensor.data.size());
  fmt::print("{}: f32{} min {:.6g} max {:.6g} mean {:.6g}\n", name,
             nnc::runtime::formatShape(tensor.shape), lo, hi, mean);
}

int runModel(const RunOptions& options) {
  std::optional<nnc::SourceFile> source = readSource(options.file);
  if (!source)
    return kExitError;
  std::optional<nnc::ir::Module> module = compileFile(*source);
  if (!module)
    return kExitError;
  const nnc::ir::Graph* graph = chooseModel(*module, options);
  if (!graph)
    return kExitError;
  std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName(options.isa);
  std::map<std::string, nnc::runtime::Tensor> inputs;
  for (const std::string& binding : options.inputs) {
    auto [name, path] = splitBinding(binding, "--input");
    if (inputs.count(name))
      throw nnc::runtime::UserError(fmt::format("input '{}' is given twice", name));
    inputs[name] = nnc::runtime::readNpy(path);
  }
  std::vector<std::pair<std::string, std::string>> outputs;
  std::vector<std::string> outputNames;
  for (const nnc::ir::Output& output : graph->outputs())
    outputNames.push_back(output.name);
  for (const std::string& binding : options.outputs) {
    auto [name, path] = splitBinding(binding, "--output");
    if (std::find(outputNames.begin(), outputNames.end(), name) == outputNames.end())
      throw nnc::runtime::UserError(fmt::format("model '{}' has no output named '{}'{}",
                                                graph->name(), name,
                                                nnc::didYouMean(name, outputNames)));
    outputs.emplace_back(name, path);
  }
  nnc::jit::GraphRunner runner(*graph, *isa);
  std::map<std::string, nnc::runtime::Tensor> results = runner.run(inputs);
  if (outputs.empty())
    for (const std::string& name : outputNames)
      printSummary(name, results.at(name));
  for (const auto& [name, path] : outputs)
    nnc::runtime::writeNpy(path, results.at(name));
  return kExitOk;
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

  RunOptions runOptions;
  CLI::App* run = app.add_subcommand(
      "run", "JIT-compile a model and run it on .npy inputs (models of activations so far).");
  run->add_option("FILE", runOptions.file, "model file (.nn)")->required();
  run->add_option("--model", runOptions.model,
                  "the model to run (needed when the file has several)");
  run->add_option("--input", runOptions.inputs, "NAME=FILE.npy: a float32 input (repeat per input)")
      ->required();
  run->add_option("--output", runOptions.outputs,
                  "NAME=FILE.npy: write an output (repeatable); without it, print a summary");
  run->add_option("--isa", runOptions.isa, "instruction set: host (default), avx512, avx2, sse")
      ->check(CLI::IsMember(nnc::codegen::isaNames()));

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
    if (*run)
      return runModel(runOptions);
  } catch (const nnc::runtime::UserError& e) {
    fmt::print(stderr, "nnc: error: {}\n", e.what());
    return kExitError;
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
