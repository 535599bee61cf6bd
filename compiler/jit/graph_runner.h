// Compiles a model's graph and runs it on host tensors: activations as JIT-compiled kernels,
// layers as runtime routines, intermediate buffers reused by liveness.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/ir/graph.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/model_weights.h"
#include "runtime/tensor.h"
#include "runtime/thread_pool.h"

#include <map>
#include <memory>
#include <new>
#include <string>

namespace nnc::jit {

class Jit;

/// What runs cost in memory: the buffers the plan holds (kept from run to run, grown only when
/// a larger batch needs more) beside the sum of the last run's intermediate tensors.
struct MemoryUse {
  int64_t peakBytes = 0;
  int64_t intermediateBytes = 0;
};

/// A value during a run: its shape and where its elements are (not owned).
struct View {
  std::vector<int64_t> shape;
  float* data = nullptr;
  int64_t count = 0;
};

/// One compiled model. Symbolic dimensions are bound from the input shapes at each run.
class GraphRunner {
public:
  /// Compiles `graph` for `isa` with `weights` (checked against the model's parameters by the
  /// caller, see checkWeights) on `threads` threads (0: one per core). Throws
  /// runtime::UserError when the CPU lacks the ISA.
  GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa, Weights weights,
              int threads = 0);
  ~GraphRunner();

  /// Runs the model. Every input must be given once, with the model's rank and known sizes;
  /// each symbol takes one size across all inputs. Throws runtime::UserError otherwise, or when
  /// the bound sizes do not fit an operator.
  std::map<std::string, runtime::Tensor> run(const std::map<std::string, runtime::Tensor>& inputs);

  double compileMilliseconds() const { return compileMs_; }
  /// The memory of the last run.
  const MemoryUse& memoryUse() const { return memory_; }
  int threads() const { return pool_.threads(); }

private:
  /// 64-byte aligned floats (a cache line, and one AVX-512 vector), not initialized.
  struct FreeAligned {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  struct Buffer {
    size_t capacity = 0; ///< floats
    std::unique_ptr<float[], FreeAligned> data;
  };
  void execute(size_t node, const std::vector<View>& values, const View& out);
  const runtime::Tensor& weight(const ir::Node& node, std::string_view role) const;

  ir::Graph graph_;
  Weights weights_;
  runtime::ThreadPool pool_;
  std::unique_ptr<Jit> jit_;
  std::vector<UnaryKernel> kernels_; ///< per node; null where the node is no activation
  PreluKernel prelu_ = nullptr;
  std::vector<size_t> lastUse_; ///< per value: the last node that reads it
  double compileMs_ = 0;
  MemoryUse memory_;
  std::multimap<size_t, Buffer> freeBuffers_; ///< by capacity, between and during runs
};

} // namespace nnc::jit
