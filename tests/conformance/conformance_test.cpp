// nnc against PyTorch: every case of tests/conformance/data/cases.json (written by
// make_references.py from PyTorch) compiled and run on every ISA this CPU has.
#include "compiler/frontend/frontend.h"
#include "compiler/jit/graph_runner.h"
#include "runtime/npy.h"
#include "runtime/safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

namespace nnc {
namespace {

const std::string kRoot = NNC_SOURCE_DIR;

struct Case {
  std::string name, model, modelName, weights, note;
  std::map<std::string, std::string> inputs, outputs;
};

std::vector<Case> loadCases() {
  std::ifstream in(kRoot + "/tests/conformance/data/cases.json");
  if (!in)
    return {};
  nlohmann::json manifest = nlohmann::json::parse(in);
  std::vector<Case> cases;
  for (const nlohmann::json& entry : manifest) {
    Case c;
    c.name = entry.at("name");
    c.model = entry.at("model");
    if (!entry.at("model_name").is_null())
      c.modelName = entry.at("model_name");
    if (!entry.at("weights").is_null())
      c.weights = entry.at("weights");
    c.note = entry.value("note", "");
    c.inputs = entry.at("inputs").get<std::map<std::string, std::string>>();
    c.outputs = entry.at("outputs").get<std::map<std::string, std::string>>();
    cases.push_back(std::move(c));
  }
  return cases;
}

/// The largest |got - want| / max(|want|, 1% of the largest |want|): a relative error that
/// judges entries near zero against the tensor's scale rather than against themselves.
double maxRelativeError(const runtime::Tensor& got, const runtime::Tensor& want) {
  double scale = 0;
  for (float w : want.data)
    scale = std::max(scale, std::fabs(static_cast<double>(w)));
  double floor = std::max(scale * 1e-2, 1e-30);
  double worst = 0;
  for (size_t i = 0; i < want.data.size(); ++i) {
    double g = got.data[i], w = want.data[i];
    if (std::isnan(w) || std::isnan(g)) {
      if (std::isnan(w) != std::isnan(g))
        return INFINITY;
      continue;
    }
    if (std::isinf(w) || std::isinf(g)) {
      if (g != w)
        return INFINITY;
      continue;
    }
    worst = std::max(worst, std::fabs(g - w) / std::max(std::fabs(w), floor));
  }
  return worst;
}

struct Param {
  Case c;
  std::string isa;
};

void PrintTo(const Param& p, std::ostream* out) {
  *out << p.c.name << " on " << p.isa;
}

class ConformanceTest : public testing::TestWithParam<Param> {};

TEST_P(ConformanceTest, MatchesPyTorch) {
  const Case& c = GetParam().c;
  std::optional<codegen::TargetIsa> isa = codegen::isaByName(GetParam().isa);
  ASSERT_TRUE(isa);
  if (std::string missing = codegen::missingHostFeatures(*isa); !missing.empty())
    GTEST_SKIP() << "this CPU lacks " << missing;
  std::ifstream file(kRoot + "/" + c.model);
  ASSERT_TRUE(file) << c.model;
  std::stringstream text;
  text << file.rdbuf();
  SourceFile source(c.model, text.str());
  DiagnosticEngine diagnostics(source);
  std::optional<ir::Module> module = compileToIR(source, diagnostics);
  ASSERT_TRUE(module) << diagnostics.render();
  const ir::Graph* graph =
      c.modelName.empty() ? &module->models.front() : module->find(c.modelName);
  ASSERT_TRUE(graph) << c.modelName;
  jit::Weights weights;
  if (!c.weights.empty()) {
    weights = runtime::readSafetensors(kRoot + "/" + c.weights);
    jit::checkWeights(*graph, weights, c.weights);
  }
  std::map<std::string, runtime::Tensor> inputs;
  for (const auto& [name, path] : c.inputs)
    inputs[name] = runtime::readNpy(kRoot + "/" + path);
  jit::GraphRunner runner(*graph, *isa, std::move(weights), 2);
  std::map<std::string, runtime::Tensor> results = runner.run(inputs);
  for (const auto& [name, path] : c.outputs) {
    runtime::Tensor want = runtime::readNpy(kRoot + "/" + path);
    ASSERT_TRUE(results.count(name)) << "no output " << name;
    const runtime::Tensor& got = results.at(name);
    ASSERT_EQ(got.shape, want.shape) << name;
    double error = maxRelativeError(got, want);
    RecordProperty(name + "_max_relative_error", std::to_string(error));
    std::cout << "[ figure ] " << c.name << " " << GetParam().isa << " " << name
              << " max relative error " << error << "\n";
    EXPECT_LE(error, 1e-4) << c.name << " (" << c.note << "), output " << name;
  }
}

std::vector<Param> allParams() {
  std::vector<Param> params;
  for (const Case& c : loadCases())
    for (const char* isa : {"avx512", "avx2", "sse"})
      params.push_back({c, isa});
  return params;
}

INSTANTIATE_TEST_SUITE_P(PyTorch, ConformanceTest, testing::ValuesIn(allParams()),
                         [](const testing::TestParamInfo<Param>& param) {
                           std::string name = param.param.c.name + "_" + param.param.isa;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch)))
                               ch = '_';
                           return name;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceTest);

} // namespace
} // namespace nnc
