// nnc: the command-line driver. `nnc check`, `nnc ir`, `nnc dot`, `nnc run`, `nnc bench`,
// `nnc init-weights`; exit 0 on success, 1 on errors in the input, 2 on bad usage, 3 on an
// internal compiler error (a bug in nnc).
#include "compiler/codegen/target.h"
#include "compiler/ir/internal_error.h"
#include "nnc/version.h"
#include "tools/nnc/commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <system_error>

namespace {

using namespace nnc::driver;

/// A seed is a decimal integer in [0, 2^64): CLI11 alone would wrap "-1" and saturate larger
/// numbers, silently giving some other model's weights.
std::string checkSeed(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end)
    return "a seed is a whole number from 0 to 18446744073709551615, not '" + text + "'";
  return {};
}

/// --passes and --no-fusion.
void addPassOptions(CLI::App& command, PassOptions& options, const char* byDefault) {
  command
      .add_option("--passes", options.passes,
                  std::string("passes to run: none, default, or a comma-separated list (") +
                      byDefault + ")")
      ->check([](const std::string& spec) {
        auto parsed = nnc::passes::Pipeline::parse(spec);
        auto* problem = std::get_if<std::string>(&parsed);
        return problem ? *problem : std::string();
      });
  command.add_flag("!--no-fusion", options.fusion, "leave out the fusion passes");
}

/// The options every command that compiles a model for execution takes.
void addModelOptions(CLI::App& command, ModelOptions& options) {
  command.add_option("--model", options.model, "the model to use (needed when a file has several)");
  command.add_option("--isa", options.isa, "instruction set: host (default), avx512, avx2, sse")
      ->check(CLI::IsMember(nnc::codegen::isaNames()));
  command.add_option("--threads", options.threads, "threads to run on (default: one per core)")
      ->check(CLI::Range(1, 1024));
  auto* weights = command.add_option("--weights", options.weights.file,
                                     "FILE.safetensors: the model's weights");
  command
      .add_option("--random-weights", options.weights.seed,
                  "SEED: deterministic random weights instead of a file")
      ->check(checkSeed)
      ->excludes(weights);
  addPassOptions(command, options.passes, "default: default");
  command.add_flag("!--no-cache", options.cache,
                   "compile the native code again instead of loading it from the compile cache "
                   "($NNC_CACHE_DIR, else $XDG_CACHE_HOME/nnc or ~/.cache/nnc)");
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

  IrOptions irOptions;
  CLI::App* ir = app.add_subcommand(
      "ir", "Print the IR of a model file after passes (format: docs/ir.md, docs/passes.md).");
  ir->add_option("FILE", irOptions.file, "model file (.nn)")->required();
  ir->add_option("--model", irOptions.model, "print only this model");
  addPassOptions(*ir, irOptions.passes, "default: none");
  ir->add_flag("--print-after-all", irOptions.printAfterAll, "print the IR after every pass");

  DotOptions dotOptions;
  CLI::App* dot = app.add_subcommand(
      "dot", "Write the IR after passes as a Graphviz graph, fused kernels as clusters.");
  dot->add_option("FILE", dotOptions.file, "model file (.nn)")->required();
  dot->add_option("--model", dotOptions.model, "draw only this model");
  dot->add_option("-o,--output", dotOptions.output, "FILE.dot to write (default: stdout)");
  addPassOptions(*dot, dotOptions.passes, "default: default");

  RunOptions runOptions;
  CLI::App* run = app.add_subcommand("run", "JIT-compile a model and run it on .npy inputs.");
  run->add_option("FILE", runOptions.model.file, "model file (.nn)")->required();
  addModelOptions(*run, runOptions.model);
  run->add_option("--input", runOptions.inputs, "NAME=FILE.npy: a float32 input (repeat per input)")
      ->required();
  run->add_option("--output", runOptions.outputs,
                  "NAME=FILE.npy: write an output (repeatable); without it, print a summary");

  BenchOptions benchOptions;
  CLI::App* bench = app.add_subcommand(
      "bench", "Compile models and time them on synthetic inputs: compile time, median latency.");
  bench->add_option("FILE", benchOptions.files, "model files (.nn)")->required();
  addModelOptions(*bench, benchOptions.model);
  bench->add_option("--batch", benchOptions.batch, "size of every symbolic input dimension")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  bench->add_option("--runs", benchOptions.runs, "timed runs (default 20)")
      ->check(CLI::Range(1, 100000));
  bench->add_flag("--profile", benchOptions.profile,
                  "after the table, each model's steps by the time they take");

  std::string initFile, initModel, initOutput;
  uint64_t initSeed = 0;
  CLI::App* init = app.add_subcommand(
      "init-weights", "Write deterministic random weights of a model to a safetensors file.");
  init->add_option("FILE", initFile, "model file (.nn)")->required();
  init->add_option("--model", initModel, "the model (needed when the file has several)");
  init->add_option("-o,--output", initOutput, "FILE.safetensors to write")->required();
  init->add_option("--seed", initSeed, "random seed (default 0)")->check(checkSeed);

  CompileOptions compileOptions;
  CLI::App* compile = app.add_subcommand(
      "compile", "Compile a model ahead of time: an object file and a C header with a plain "
                 "function NAME_run, to link with libnnc_rt and no LLVM (docs/embedding.md).");
  compile->add_option("FILE", compileOptions.file, "model file (.nn)")->required();
  compile->add_option("-o,--output", compileOptions.object, "the object file to write (.o)")
      ->required();
  compile->add_option("--header", compileOptions.header,
                      "the C header to write (default: the object's name with .h)");
  compile->add_option("--name", compileOptions.name,
                      "the function's prefix, NAME_run (default: the model's name)");
  compile->add_option("--model", compileOptions.model,
                      "the model to use (needed when a file has several)");
  compile->add_option("--weights", compileOptions.weights,
                      "FILE.safetensors to embed (default: each call passes the weights)");
  compile
      ->add_option("--isa", compileOptions.isa,
                   "instruction set: host (default), avx512, avx2, sse")
      ->check(CLI::IsMember(nnc::codegen::isaNames()));
  addPassOptions(*compile, compileOptions.passes, "default: default");

  // CLI11 says only that a subcommand is required when the first word is not one.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> commands;
    for (const CLI::App* command : app.get_subcommands([](CLI::App*) { return true; }))
      commands.push_back(command->get_name());
    if (std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
      std::string hint = nnc::didYouMean(argv[1], commands);
      if (hint.empty())
        hint = fmt::format("; the commands are {}", fmt::join(commands, ", "));
      printToStderr(fmt::format(
          "nnc: unknown command '{}'{}\nRun with --help for more information.\n", argv[1], hint));
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  int status = kExitUsage;
  try {
    if (*check)
      status = runCheck(checkFiles);
    else if (*ir)
      status = runIr(irOptions);
    else if (*dot)
      status = runDot(dotOptions);
    else if (*run)
      status = runModel(runOptions);
    else if (*bench)
      status = runBench(benchOptions);
    else if (*init)
      status = runInitWeights(initFile, initModel, initOutput, initSeed);
    else if (*compile)
      status = runCompile(compileOptions);
  } catch (const nnc::runtime::UserError& e) {
    printToStderr(fmt::format("nnc: error: {}\n", e.what()));
    return kExitError;
  } catch (const nnc::InternalError& e) {
    printToStderr(
        fmt::format("nnc: internal compiler error: {}\nThis is a bug in nnc; please report it "
                    "with the model file.\n",
                    e.what()));
    return kExitInternalError;
  } catch (const std::bad_alloc&) {
    printToStderr(fmt::format("nnc: error: out of memory\n"));
    return kExitError;
  } catch (const std::length_error&) { // a container asked for more than its max_size
    printToStderr(fmt::format("nnc: error: out of memory\n"));
    return kExitError;
  } catch (const std::system_error& e) { // the system refused: a write (fmt::print), a thread
    printToStderr(fmt::format("nnc: error: {}\n", e.what()));
    return kExitError;
  } catch (const std::exception& e) {
    printToStderr(fmt::format("nnc: internal compiler error: {}\n", e.what()));
    return kExitInternalError;
  }
  // What went to standard output is written here at the latest; a full disk must not pass for
  // success.
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout)) {
    printToStderr("nnc: error: cannot write the standard output\n");
    return kExitError;
  }
  return status;
}
