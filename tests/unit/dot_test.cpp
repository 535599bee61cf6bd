// The Graphviz drawing of a graph (clusters for fused kernels, escaping) and the printer's lines
// for folded weights and fused kernels.
#include "compiler/ir/dot.h"
#include "compiler/ir/printer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nnc {
namespace {

ir::TensorType nBy4() {
  return ir::TensorType{{ir::Dim::symbol("N"), ir::Dim::known(4)}};
}

ir::ValueId addOp(ir::Graph& g, ir::OpKind op, std::vector<ir::ValueId> operands,
                  const std::string& name) {
  ir::Node node;
  node.op = op;
  node.operands = std::move(operands);
  return g.addNode(std::move(node), name, nBy4());
}

/// x -> conv2d -> add(_, x) -> relu -> y, and x -> relu -> z; values v0..v4, nodes 0..3.
/// The conv2d has no attributes: toDot never reads them (the printer would).
ir::Graph convGraph() {
  ir::Graph g("m");
  ir::ValueId x = g.addInput("x", nBy4(), {});
  ir::ValueId c = addOp(g, ir::OpKind::Conv2d, {x}, "c");
  ir::ValueId a = addOp(g, ir::OpKind::Add, {c, x}, "a");
  ir::ValueId r = addOp(g, ir::OpKind::Relu, {a}, "r");
  ir::ValueId s = addOp(g, ir::OpKind::Relu, {x}, "s");
  g.addOutput("y", r);
  g.addOutput("z", s);
  return g;
}

/// The text between `subgraph "cluster_k<index>" {` and its closing brace, or "" if none.
std::string cluster(const std::string& dot, int index) {
  std::string open = "subgraph \"cluster_k" + std::to_string(index) + "\" {\n";
  size_t begin = dot.find(open);
  if (begin == std::string::npos)
    return "";
  size_t end = dot.find("\n  }\n", begin);
  return dot.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

bool declares(const std::string& text, const std::string& id) {
  return text.find("\"" + id + "\" [") != std::string::npos;
}

/// Every line has its string literals closed: an even number of unescaped quotes.
void expectBalancedQuotes(const std::string& dot) {
  size_t lineStart = 0;
  int quotes = 0;
  for (size_t i = 0; i < dot.size(); ++i) {
    if (dot[i] == '\\') {
      ++i;
    } else if (dot[i] == '"') {
      ++quotes;
    } else if (dot[i] == '\n') {
      EXPECT_EQ(quotes % 2, 0) << dot.substr(lineStart, i - lineStart);
      quotes = 0;
      lineStart = i + 1;
    }
  }
}

TEST(DotTest, DrawsEachKernelAsAClusterOfItsNodes) {
  ir::Graph g = convGraph();
  g.setFusedKernels({ir::FusedKernel{{0, 1, 2}, true}, ir::FusedKernel{{3}, false}});
  std::string dot = ir::toDot(g);

  EXPECT_EQ(dot.rfind("digraph \"m\" {\n  rankdir=TB;\n", 0), 0u) << dot;
  std::string k0 = cluster(dot, 0);
  ASSERT_FALSE(k0.empty()) << dot;
  EXPECT_NE(k0.find("label=\"k0: epilogue of conv2d\";"), std::string::npos) << k0;
  EXPECT_NE(k0.find("fillcolor=\"#eef5ff\""), std::string::npos) << k0;
  EXPECT_TRUE(declares(k0, "v1") && declares(k0, "v2") && declares(k0, "v3")) << k0;
  EXPECT_FALSE(declares(k0, "v0") || declares(k0, "v4")) << k0;

  std::string k1 = cluster(dot, 1);
  ASSERT_FALSE(k1.empty()) << dot;
  EXPECT_NE(k1.find("label=\"k1\";"), std::string::npos) << k1;
  EXPECT_TRUE(declares(k1, "v4")) << k1;
  EXPECT_FALSE(declares(k1, "v1") || declares(k1, "v3")) << k1;
  EXPECT_EQ(cluster(dot, 2), "");
  expectBalancedQuotes(dot);
}

TEST(DotTest, DrawsInputsNodesEdgesAndOutputs) {
  ir::Graph g = convGraph();
  std::string dot = ir::toDot(g);

  EXPECT_EQ(dot.find("subgraph"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"v0\" [shape=ellipse, label=\"input x\\nf32[N, 4]\"];"), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"v2\" [shape=box, label=\"add\\n%a\\nf32[N, 4]\"];"), std::string::npos)
      << dot;
  for (const char* edge : {"\"v0\" -> \"v1\";", "\"v1\" -> \"v2\";", "\"v0\" -> \"v2\";",
                           "\"v2\" -> \"v3\";", "\"v0\" -> \"v4\";"})
    EXPECT_NE(dot.find(edge), std::string::npos) << edge << "\n" << dot;
  EXPECT_NE(dot.find("\"out0\" [shape=doubleoctagon, label=\"output y\"];"), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("\"v3\" -> \"out0\";"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"v4\" -> \"out1\";"), std::string::npos) << dot;
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
  EXPECT_EQ(ir::toDot(g), dot); // deterministic
}

TEST(DotTest, EscapesQuotesAndBackslashes) {
  ir::Graph g("say \"m\"");
  ir::ValueId x = g.addInput("x", nBy4(), {});
  ir::ValueId r = addOp(g, ir::OpKind::Relu, {x}, "r");
  g.renameValue(r, R"(a"b\c)");
  g.addOutput(R"(out"put)", r);
  std::string dot = ir::toDot(g);

  EXPECT_EQ(dot.rfind(R"(digraph "say \"m\"" {)", 0), 0u) << dot;
  EXPECT_NE(dot.find(R"(label="relu\n%a\"b\\c\nf32[N, 4]")"), std::string::npos) << dot;
  EXPECT_NE(dot.find(R"(label="output out\"put")"), std::string::npos) << dot;
  expectBalancedQuotes(dot);
}

/// x -> relu -> add(_, x) -> relu, with no attributes anywhere so that the printer can print it.
ir::Graph reluGraph() {
  ir::Graph g("m");
  ir::ValueId x = g.addInput("x", nBy4(), {});
  ir::ValueId r = addOp(g, ir::OpKind::Relu, {x}, "r");
  ir::ValueId a = addOp(g, ir::OpKind::Add, {r, x}, "a");
  ir::ValueId b = addOp(g, ir::OpKind::Relu, {a}, "b");
  g.addOutput("y", b);
  return g;
}

constexpr const char* kReluGraphNodes = "model m {\n"
                                        "  input %x : f32[N, 4]\n"
                                        "  %r = relu(%x) : f32[N, 4]\n"
                                        "  %a = add(%r, %x) : f32[N, 4]\n"
                                        "  %b = relu(%a) : f32[N, 4]\n";

TEST(PrinterTest, PrintsFoldedWeightsAndKernels) {
  ir::Graph g = reluGraph();
  using Rule = ir::FoldedWeight::Rule;
  g.addFoldedWeight({"c.weight.folded",
                     Rule::ScaledWeight,
                     "c.weight",
                     "c.batchnorm",
                     0.001,
                     {ir::Dim::known(8), ir::Dim::known(4)}});
  g.addFoldedWeight(
      {"c.bias.folded", Rule::ShiftedBias, "c.bias", "c.batchnorm", 1e-5, {ir::Dim::known(8)}});
  g.addFoldedWeight(
      {"d.bias.folded", Rule::ShiftedBias, "", "d.batchnorm", 0.5, {ir::Dim::known(8)}});
  g.setFusedKernels({ir::FusedKernel{{0, 1}, false}, ir::FusedKernel{{2}, true}});

  EXPECT_EQ(ir::print(g),
            std::string(kReluGraphNodes) +
                "  folded c.weight.folded : [8, 4] = c.weight * scale of batchnorm c.batchnorm "
                "(eps = 0.001)\n"
                "  folded c.bias.folded : [8] = shift of batchnorm c.batchnorm applied to c.bias "
                "(eps = 1e-05)\n"
                "  folded d.bias.folded : [8] = shift of batchnorm d.batchnorm applied to a zero "
                "bias (eps = 0.5)\n"
                "  kernel k0: relu + add -> %a\n"
                "  kernel k1: relu -> %b (epilogue of %b)\n"
                "  output y = %b\n"
                "}\n");
}

TEST(PrinterTest, PrintsTheEpilogueLayerOfAKernel) {
  ir::Graph g = reluGraph();
  g.setFusedKernels({ir::FusedKernel{{0, 1, 2}, true}});
  EXPECT_NE(ir::print(g).find("\n  kernel k0: relu + add + relu -> %b (epilogue of %r)\n  output"),
            std::string::npos)
      << ir::print(g);
}

TEST(PrinterTest, PrintsNothingExtraWithoutFoldedWeightsOrKernels) {
  EXPECT_EQ(ir::print(reluGraph()), std::string(kReluGraphNodes) + "  output y = %b\n}\n");
}

} // namespace
} // namespace nnc
