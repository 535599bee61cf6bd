// Compiles a model's graph and runs it on host tensors: the pass pipeline, then fused
// elementwise kernels and activations JIT-compiled, layers as runtime routines (with fused
// epilogues), and intermediate buffers reused by liveness.
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/ir/graph.h"
#include "compiler/jit/compiled_activation.h"
#include "compiler/jit/dense_dot.h"
#include "compiler/jit/depthwise.h"
#include "compiler/jit/fused_call.h"
#include "compiler/jit/fused_plan.h"
#include "compiler/jit/gemm_layers.h"
#include "compiler/jit/kernel_plan.h"
#include "compiler/jit/model_weights.h"
#include "compiler/jit/object_cache.h"
#include "compiler/passes/pipeline.h"
#include "runtime/layers.h"
#include "runtime/tensor.h"
#include "runtime/thread_pool.h"

#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>

namespace nnc::jit {

class Jit;

/// What runs cost in memory, for the last run: the buffers the plan holds (kept from run to run,
/// grown only when a larger batch needs more) beside the sum of all intermediate tensors, and
/// the tensor traffic, the bytes of every materialized tensor each step reads plus the bytes it
/// writes (weights not counted): what fusion saves.
struct MemoryUse {
  int64_t peakBytes = 0;
  int64_t intermediateBytes = 0;
  int64_t trafficBytes = 0;
};

/// The time one step of a model took, summed over the runs since profiling was turned on.
struct StepProfile {
  std::string step; ///< the node ("%h = dense f32[16, 512]") or fused kernel it runs
  double milliseconds = 0;
  int64_t runs = 0;
};

/// A value during a run: its shape and where its elements are (not owned).
struct View {
  std::vector<int64_t> shape;
  float* data = nullptr;
  int64_t count = 0;
};

/// A model input during a run: its shape and its elements (not owned, only read).
struct InputView {
  std::vector<int64_t> shape;
  const float* data = nullptr;
};

/// How a model's planned functions become code: their addresses, in plan.symbols' order. Throws
/// runtime::UserError when that fails.
using KernelProvider = std::function<std::vector<void*>(const KernelPlan& plan)>;

/// One compiled model. Symbolic dimensions are bound from the input shapes at each run.
class GraphRunner {
public:
  /// Optimizes `graph` with `pipeline` and compiles it for `isa` with `weights` (checked against
  /// the model's parameters by the caller, see checkWeights) on `threads` threads (0: one per
  /// core), loading its native code from `cache` when it is there and storing it there when
  /// not. Throws runtime::UserError when the CPU lacks the ISA.
  GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa, Weights weights,
              int threads = 0, const passes::Pipeline& pipeline = passes::Pipeline::defaults(),
              const ObjectCache* cache = nullptr);
  /// The same with the code from `provider` instead of the JIT (code compiled ahead of time).
  /// Without `passesSeeWeights`, no pass rewrites by a weight's value (a prelu with a known
  /// shared slope stays a prelu): the graph, and so the code, is the same for any weights.
  GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa, Weights weights, int threads,
              const passes::Pipeline& pipeline, const KernelProvider& provider,
              bool passesSeeWeights = true);
  ~GraphRunner();

  /// Runs the model. Every input must be given once, with the model's rank and known sizes;
  /// each symbol takes one size across all inputs. Throws runtime::UserError otherwise, or when
  /// the bound sizes do not fit an operator.
  std::map<std::string, runtime::Tensor> run(const std::map<std::string, runtime::Tensor>& inputs);

  /// The shape of each output, by name, for inputs of these shapes; throws runtime::UserError
  /// as run() does when they do not fit.
  std::map<std::string, std::vector<int64_t>>
  outputShapes(const std::map<std::string, std::vector<int64_t>>& inputShapes) const;

  /// Runs the model on caller-owned buffers, without copying: the step that computes an output
  /// named in `outputs` writes it there. Each such buffer must hold the elements outputShapes()
  /// gives it and share no byte with an input or another output (checked); outputs not named
  /// are computed and dropped.
  void run(const std::map<std::string, InputView>& inputs,
           const std::map<std::string, float*>& outputs);

  /// The graph after the pipeline: what runs.
  const ir::Graph& graph() const { return graph_; }
  /// Construction's time: passes to native code, and the weights' packing that follows.
  double compileMilliseconds() const { return compileMs_; }
  double weightsMilliseconds() const { return weightsMs_; }
  /// Whether the native code came from the cache rather than from LLVM.
  bool codeFromCache() const { return codeFromCache_; }
  const MemoryUse& memoryUse() const { return memory_; }
  /// Times every step of the runs that follow (one clock read per step), from zero.
  void setProfiling(bool on);
  /// Per step, in the order they run: what it is and its time so far (empty unless profiling).
  const std::vector<StepProfile>& profile() const { return profile_; }
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
  /// A compiled ir::FusedKernel.
  struct Kernel {
    FusedFn fn = nullptr;
    std::vector<FusedLeaf> leaves;
    std::vector<bool> scalar; ///< per leaf, as compiled
    size_t split = 0;         ///< the first axis of a call's run
    /// For an epilogue on the JIT GEMM whose other leaves are per-channel constants: the GEMM
    /// kernel that applies it in registers, and where its leaves come from.
    GemmKernelFn inRegisters = nullptr;
    std::vector<codegen::TileLeaf> tileLeaves;
    /// The same for the last row of tiles, of edgeRows rows, when the layer's rows are not a
    /// whole number of tiles (else null).
    GemmKernelFn edgeInRegisters = nullptr;
    unsigned edgeRows = 0;
  };
  /// One unit of execution: a node, or a fused kernel (run where its layer or root is).
  struct Step {
    ir::NodeId node = 0;
    int kernel = -1;
    ir::ValueId result = 0;
    std::vector<ir::ValueId> reads; ///< the materialized values it reads
    bool elementwise = false;       ///< may write over a same-sized operand that dies here
  };

  void planSteps();
  /// The inputs' values for a run, after checking their shapes against the model's.
  std::vector<View> bindInputs(const std::map<std::string, InputView>& inputs) const;
  /// Sets the shapes (and the result's count) of what `step` computes, from its operands'.
  void inferShapes(const Step& step, std::vector<View>& values) const;
  /// The functions the model needs (and each fused kernel's leaves and layouts).
  KernelPlan planKernels(const codegen::TargetIsa& isa);
  void bindKernels(const KernelPlan& plan, const std::vector<void*>& addresses,
                   const codegen::TargetIsa& isa);
  /// Compiles the plan's module with a JIT of this runner's (from the cache when it is there).
  std::vector<void*> compileWithJit(const KernelPlan& plan, const codegen::TargetIsa& isa,
                                    const ObjectCache* cache);
  /// Whether node `id` runs on the JIT GEMM (or, a dense layer of a few units, on a dot-product
  /// kernel: runsAsDot).
  bool usesGemm(ir::NodeId id) const;
  /// Whether node `id` is a dense layer that runs on a dot-product kernel on `isa`.
  bool runsAsDot(ir::NodeId id, const codegen::TargetIsa& isa) const;
  void packWeights();
  void execute(const Step& step, const std::vector<View>& values, const View& out);
  /// Runs one node; a dense, conv2d or maxout applies `epilogue` to its output blocks.
  void executeNode(ir::NodeId id, const std::vector<View>& values, const View& out,
                   runtime::Epilogue epilogue, const TileEpilogue* inRegisters = nullptr);
  /// How the GEMM can apply fused kernel `k` (an epilogue) in registers on `isa`; empty when it
  /// cannot.
  std::vector<codegen::TileLeaf> tileLeaves(size_t k, const codegen::TargetIsa& isa) const;
  /// The rows of the last row of tiles of fused kernel k's layer when there is a shorter one
  /// with the epilogue in registers, else 0.
  unsigned edgeRows(size_t k, const codegen::TargetIsa& isa) const;
  /// Whether node `id`'s GEMM has an edge of fewer columns than a tile (or may have).
  bool hasNarrowEdge(ir::NodeId id, const codegen::TargetIsa& isa) const;
  const runtime::Tensor& weight(const ir::Node& node, std::string_view role) const;

  ir::Graph graph_;
  Weights weights_;
  runtime::ThreadPool pool_;
  std::shared_ptr<Jit> jit_; ///< keeps JIT-compiled code alive (null for code given)
  bool codeFromCache_ = false;
  std::vector<Step> steps_;
  std::vector<Kernel> kernels_;
  std::vector<UnaryKernel> activations_; ///< per node; for activations outside fused kernels
  PreluKernel prelu_ = nullptr;
  GemmKernel gemm_;                    ///< for dense, maxout and (not depthwise) conv2d
  std::vector<PackedWeights> packed_;  ///< per node: its weights in the GEMM's panels
  std::vector<DepthwiseFn> depthwise_; ///< per node: a depthwise conv2d's generated kernel
  std::vector<DotFn> dot_;             ///< per node: its dot-product kernel
  std::vector<codegen::DepthwiseShape> depthwiseShapes_;
  std::vector<size_t> lastRead_; ///< per value: the last step that reads it
  double compileMs_ = 0;
  double weightsMs_ = 0;
  MemoryUse memory_;
  bool profiling_ = false;
  std::vector<StepProfile> profile_;          ///< per step, while profiling
  std::multimap<size_t, Buffer> freeBuffers_; ///< by capacity, between and during runs
};

} // namespace nnc::jit
