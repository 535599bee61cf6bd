// The optimizer changes no result: every example network and every pass test model gives the
// same outputs with --passes=none and with the default pipeline (within float rounding), and
// the same bits with and without fusion, on every ISA this CPU has.
#include "compiler/frontend/frontend.h"
#include "compiler/jit/graph_runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace nnc {
namespace {

namespace fs = std::filesystem;

/// The largest |got - want| / max(|want|, 1% of the largest |want|), as the conformance test
/// measures; NaN must match NaN.
double maxRelativeError(const runtime::Tensor& got, const runtime::Tensor& want) {
  double scale = 0;
  for (float w : want.data)
    if (std::isfinite(w))
      scale = std::max(scale, std::fabs(static_cast<double>(w)));
  double floor = std::max(scale * 1e-2, 1e-30);
  double worst = 0;
  for (size_t i = 0; i < want.data.size(); ++i) {
    double g = got.data[i], w = want.data[i];
    if (std::isnan(w) || std::isnan(g) || std::isinf(w) || std::isinf(g)) {
      if (!(g == w || (std::isnan(g) && std::isnan(w))))
        return INFINITY;
      continue;
    }
    worst = std::max(worst, std::fabs(g - w) / std::max(std::fabs(w), floor));
  }
  return worst;
}

/// Random weights where every value matters: He-normal layers as `nnc run --random-weights`,
/// but non-zero biases, batchnorm statistics away from the identity, and per-channel prelu
/// slopes of both signs (so some pools may and some may not be reordered).
jit::Weights testWeights(const ir::Graph& graph) {
  jit::Weights weights = jit::randomWeights(graph, 7);
  std::mt19937 random(11);
  auto uniform = [&](float lo, float hi) {
    return std::uniform_real_distribution<float>(lo, hi)(random);
  };
  for (const ir::Node& node : graph.nodes())
    for (const ir::Param& param : node.params) {
      std::vector<float>& data = weights.at(param.name).data;
      bool norm = node.op == ir::OpKind::BatchNorm;
      for (float& v : data) {
        if (norm && param.role == "weight")
          v = uniform(0.5f, 1.5f);
        else if (norm && param.role == "running_var")
          v = uniform(0.5f, 2.0f);
        else if (param.role == "bias" || param.role == "running_mean")
          v = uniform(-0.5f, 0.5f);
        else if (node.op == ir::OpKind::Prelu && data.size() > 1)
          v = uniform(-0.3f, 0.5f);
      }
    }
  return weights;
}

/// Inputs uniform in [-3, 3] with every symbolic dimension 3.
std::map<std::string, runtime::Tensor> testInputs(const ir::Graph& graph) {
  std::mt19937 random(5);
  std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
  std::map<std::string, runtime::Tensor> inputs;
  for (ir::ValueId id : graph.inputs()) {
    runtime::Tensor tensor;
    for (const ir::Dim& dim : graph.value(id).type.shape)
      tensor.shape.push_back(dim.isKnown() ? dim.size() : 3);
    tensor.data.resize(static_cast<size_t>(tensor.elementCount()));
    for (float& v : tensor.data)
      v = uniform(random);
    inputs[graph.value(id).name] = std::move(tensor);
  }
  return inputs;
}

struct Param {
  fs::path file;
  std::string isa;
};

void PrintTo(const Param& p, std::ostream* os) {
  *os << p.file.filename().string() << " on " << p.isa;
}

class Equivalence : public testing::TestWithParam<Param> {};

TEST_P(Equivalence, PassesChangeNoOutput) {
  const Param& p = GetParam();
  std::optional<codegen::TargetIsa> isa = codegen::isaByName(p.isa);
  ASSERT_TRUE(isa);
  if (std::string missing = codegen::missingHostFeatures(*isa); !missing.empty())
    GTEST_SKIP() << "this CPU lacks " << missing;
  std::ifstream in(p.file);
  std::stringstream text;
  text << in.rdbuf();
  SourceFile source(p.file.filename().string(), text.str());
  DiagnosticEngine diagnostics(source);
  std::optional<ir::Module> module = compileToIR(source, diagnostics);
  ASSERT_TRUE(module) << diagnostics.render();
  for (const ir::Graph& graph : module->models) {
    jit::Weights weights = testWeights(graph);
    std::map<std::string, runtime::Tensor> inputs = testInputs(graph);
    jit::GraphRunner reference(graph, *isa, weights, 2, passes::Pipeline());
    std::map<std::string, runtime::Tensor> want = reference.run(inputs);
    auto unfusedPipeline = std::get<passes::Pipeline>(passes::Pipeline::parse("default", false));
    jit::GraphRunner unfused(graph, *isa, weights, 2, unfusedPipeline);
    std::map<std::string, runtime::Tensor> simplified = unfused.run(inputs);
    jit::GraphRunner fused(graph, *isa, weights, 2, passes::Pipeline::defaults());
    std::map<std::string, runtime::Tensor> got = fused.run(inputs);
    for (const auto& [name, tensor] : want) {
      // The rewrites before fusion may round differently: a folded batchnorm rounds its scaled
      // weights once, and the conv then sums other products (measured here: up to 1.1e-5 of
      // the tensor's scale after two folded layers).
      ASSERT_EQ(simplified.at(name).shape, tensor.shape) << name;
      double error = maxRelativeError(simplified.at(name), tensor);
      std::cout << "[ figure ] " << graph.name() << " " << p.isa << " " << name
                << " max relative error " << error << "\n";
      EXPECT_LE(error, 3e-5) << graph.name() << " output " << name;
      // Fusion computes the same operations in the same order: the same bits.
      const std::vector<float>& a = got.at(name).data;
      const std::vector<float>& b = simplified.at(name).data;
      ASSERT_EQ(a.size(), b.size()) << name;
      EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0)
          << graph.name() << " output " << name << " differs between fused and unfused";
    }
  }
}

std::vector<Param> allParams() {
  std::vector<fs::path> files;
  for (const char* dir : {NNC_EXAMPLES_DIR, NNC_PASS_FILES_DIR})
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".nn")
        files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::vector<Param> params;
  for (const fs::path& file : files)
    for (const char* isa : {"avx512", "avx2", "sse"})
      params.push_back({file, isa});
  return params;
}

INSTANTIATE_TEST_SUITE_P(Models, Equivalence, testing::ValuesIn(allParams()),
                         [](const testing::TestParamInfo<Param>& param) {
                           std::string name =
                               param.param.file.stem().string() + "_" + param.param.isa;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return name;
                         });

} // namespace
} // namespace nnc
