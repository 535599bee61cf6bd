// Compiles a model's graph with the JIT and runs it on host tensors (models made of inputs and
// activations in this version; later versions add every layer).
#pragma once

#include "compiler/codegen/target.h"
#include "compiler/ir/graph.h"
#include "compiler/jit/compiled_activation.h"
#include "runtime/tensor.h"

#include <map>
#include <memory>
#include <string>

namespace nnc::jit {

class Jit;

/// One compiled model. Symbolic dimensions are bound from the input shapes at each run.
class GraphRunner {
public:
  /// Compiles `graph` for `isa`. Throws runtime::UserError when the graph holds an operator this
  /// version cannot run yet, or the CPU lacks the ISA.
  GraphRunner(const ir::Graph& graph, const codegen::TargetIsa& isa);
  ~GraphRunner();

  /// Runs the model. Every input must be given once, with the model's rank and known sizes;
  /// each symbol takes one size across all inputs. Throws runtime::UserError otherwise.
  std::map<std::string, runtime::Tensor> run(const std::map<std::string, runtime::Tensor>& inputs);

  double compileMilliseconds() const { return compileMs_; }

private:
  ir::Graph graph_;
  std::unique_ptr<Jit> jit_;
  std::vector<UnaryKernel> kernels_; ///< per node
  double compileMs_ = 0;
};

} // namespace nnc::jit
