// The nnc subcommands; each returns the process exit code and may throw runtime::UserError.
#pragma once

#include "tools/nnc/driver.h"

#include <string>
#include <vector>

namespace nnc::driver {

int runCheck(const std::vector<std::string>& files);
int runIr(const std::string& file, const std::string& model);

/// What `nnc run` and `nnc bench` compile: a model, its weights, the target and threads.
struct ModelOptions {
  std::string file, model, isa = "host";
  WeightSource weights;
  int threads = 0; ///< 0: one per core
};

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
};
int runBench(const BenchOptions& options);

int runInitWeights(const std::string& file, const std::string& model, const std::string& output,
                   uint64_t seed);

} // namespace nnc::driver
