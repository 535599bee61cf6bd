// The nnc subcommands; each returns the process exit code and may throw runtime::UserError.
#pragma once

#include "compiler/jit/object_cache.h"
#include "compiler/passes/pipeline.h"
#include "tools/nnc/driver.h"

#include <memory>
#include <string>
#include <vector>

namespace nnc::driver {

int runCheck(const std::vector<std::string>& files);

/// Which passes run: `--passes` (none, default or a list) and `--no-fusion`.
struct PassOptions {
  std::string passes = "default";
  bool fusion = true;
};
/// The pipeline the options name; throws runtime::UserError on an unknown pass.
passes::Pipeline pipelineFor(const PassOptions& options);

struct IrOptions {
  std::string file, model;
  PassOptions passes{"none", true};
  bool printAfterAll = false;
};
/// `nnc ir`: the IR after the passes (none by default: the model as written).
int runIr(const IrOptions& options);

struct DotOptions {
  std::string file, model, output; ///< output empty: stdout
  PassOptions passes;
};
/// `nnc dot`: the IR after the passes (default ones) as a Graphviz graph.
int runDot(const DotOptions& options);

/// What `nnc run` and `nnc bench` compile: a model, its weights, the target and threads.
struct ModelOptions {
  std::string file, model, isa = "host";
  WeightSource weights;
  int threads = 0; ///< 0: one per core
  PassOptions passes;
  bool cache = true; ///< load and store native code in ObjectCache::defaultDirectory()
};

/// The compile cache the options ask for; null with --no-cache or when there is no directory.
std::unique_ptr<jit::ObjectCache> cacheFor(const ModelOptions& options);

struct RunOptions {
  ModelOptions model;
  std::vector<std::string> inputs, outputs; ///< NAME=FILE.npy
};
int runModel(const RunOptions& options);

struct BenchOptions {
  std::vector<std::string> files; ///< each file's only model (or --model in each)
  ModelOptions model;             ///< file is unused; the others apply to every file
  int64_t batch = 1;              ///< the size of every symbolic dimension of the inputs
  int runs = 20;
  bool profile = false; ///< print each model's steps by time
};
int runBench(const BenchOptions& options);

/// `nnc compile`: a model ahead of time, as an object file and a C header.
struct CompileOptions {
  std::string file, model, object, header, name, weights, isa = "host";
  PassOptions passes;
};
int runCompile(const CompileOptions& options);

int runInitWeights(const std::string& file, const std::string& model, const std::string& output,
                   uint64_t seed);

} // namespace nnc::driver
