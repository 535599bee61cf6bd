// Lowering from source to IR: chains, weight names, block inlining, value names and errors.
#include "compiler/frontend/frontend.h"
#include "compiler/ir/printer.h"
#include "compiler/ir/verifier.h"

#include <gtest/gtest.h>

namespace nnc {
namespace {

struct Compiled {
  std::optional<ir::Module> module;
  std::string diagnostics;
};

Compiled compile(const std::string& text) {
  SourceFile source("t.nn", text);
  DiagnosticEngine engine(source);
  Compiled result;
  result.module = compileToIR(source, engine);
  result.diagnostics = engine.render();
  return result;
}

std::vector<std::string> weightNames(const ir::Graph& graph) {
  std::vector<std::string> names;
  for (const ir::Node& node : graph.nodes())
    for (const ir::Param& param : node.params)
      names.push_back(param.name);
  return names;
}

TEST(Lowering, ChainBecomesNodesWithTheStatementNameOnTheLast) {
  Compiled c = compile("model m { input x: f32[N, 8] h = dense(x, 4) -> relu output h }");
  ASSERT_TRUE(c.module) << c.diagnostics;
  const ir::Graph& g = c.module->models.at(0);
  ASSERT_EQ(g.nodes().size(), 2u);
  EXPECT_EQ(g.node(0).op, ir::OpKind::Dense);
  EXPECT_EQ(g.node(1).op, ir::OpKind::Relu);
  EXPECT_EQ(g.node(1).operands, std::vector<ir::ValueId>{g.node(0).result});
  EXPECT_EQ(g.value(g.node(1).result).name, "h");
  EXPECT_EQ(g.value(g.node(1).result).type.str(), "f32[N, 4]");
  ASSERT_EQ(g.outputs().size(), 1u);
  EXPECT_EQ(g.outputs()[0].name, "h");
  EXPECT_TRUE(ir::verify(g).empty());
  EXPECT_EQ(c.diagnostics, "");
}

TEST(Lowering, WeightNamesFollowSection4) {
  Compiled c = compile(R"(
    model m {
      input x: f32[N, 3, 8, 8]
      c1 = conv2d(x, 4, 3) -> batchnorm -> prelu(per_channel=true)
      h = x -> prelu
      s = add(conv2d(x, 4, 3), c1)
      output h, s
    })");
  ASSERT_TRUE(c.module) << c.diagnostics;
  EXPECT_EQ(weightNames(c.module->models[0]),
            (std::vector<std::string>{"c1.weight", "c1.bias", "c1.batchnorm.weight",
                                      "c1.batchnorm.bias", "c1.batchnorm.running_mean",
                                      "c1.batchnorm.running_var", "c1.prelu.weight", "h.weight",
                                      "s.conv2d.weight", "s.conv2d.bias"}));
}

TEST(Lowering, BlocksAreInlinedWithPrefixedNames) {
  Compiled c = compile(R"(
    block unit(x, k) {
      a = conv2d(x, 4, kernel=[k, k], pad="same") -> relu
      return a -> batchnorm
    }
    block twice(x) {
      u = unit(x, 3)
      return x -> unit(1)
    }
    model m {
      input x: f32[N, 4, 6, 6]
      r1 = twice(x)
      r2 = r1 -> unit(5) -> relu
      output r2
    })");
  ASSERT_TRUE(c.module) << c.diagnostics;
  const ir::Graph& g = c.module->models[0];
  EXPECT_EQ(weightNames(g),
            (std::vector<std::string>{
                // A return chain names each op `instance.op.param` (it has no "first op").
                "r1.u.a.weight", "r1.u.a.bias", "r1.u.batchnorm.weight", "r1.u.batchnorm.bias",
                "r1.u.batchnorm.running_mean", "r1.u.batchnorm.running_var",
                // `return x -> unit(1)` in `twice`: the block call inside a return chain.
                "r1.unit.a.weight", "r1.unit.a.bias", "r1.unit.batchnorm.weight",
                "r1.unit.batchnorm.bias", "r1.unit.batchnorm.running_mean",
                "r1.unit.batchnorm.running_var",
                // `r2 = r1 -> unit(5) -> relu`: the block call is the statement's first op.
                "r2.a.weight", "r2.a.bias", "r2.batchnorm.weight", "r2.batchnorm.bias",
                "r2.batchnorm.running_mean", "r2.batchnorm.running_var"}));
  // The kernel came from the number parameter k.
  EXPECT_EQ(std::get<std::vector<int64_t>>(g.node(0).attr("kernel")), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(std::get<std::vector<int64_t>>(g.nodes()[g.nodes().size() - 4].attr("kernel")),
            (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(c.diagnostics.find("error"), std::string::npos) << c.diagnostics;
  EXPECT_TRUE(ir::verify(g).empty());
}

TEST(Lowering, DefaultsAreResolvedIncludingStrideFromKernel) {
  Compiled c = compile("model m { input x: f32[1, 1, 9, 9] p = maxpool(x, 3) q = maxpool(x, "
                       "[3, 1], stride=1) output p, q }");
  ASSERT_TRUE(c.module) << c.diagnostics;
  const ir::Graph& g = c.module->models[0];
  EXPECT_EQ(std::get<std::vector<int64_t>>(g.node(0).attr("stride")), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(g.value(g.node(0).result).type.str(), "f32[1, 1, 3, 3]");
  EXPECT_EQ(g.value(g.node(1).result).type.str(), "f32[1, 1, 7, 9]");
}

TEST(Lowering, AliasesAndRepeatedParameterlessOps) {
  Compiled c = compile("model m { input x: f32[2] a = x b = a -> relu -> relu output a, b }");
  ASSERT_TRUE(c.module) << c.diagnostics;
  const ir::Graph& g = c.module->models[0];
  EXPECT_EQ(g.outputs()[0].value, g.inputs()[0]);
  EXPECT_NE(ir::print(g).find("output a = %x"), std::string::npos) << ir::print(g);
}

TEST(Lowering, ErrorsAreReportedOnceWithBlockNotes) {
  Compiled c = compile("block b(x) {\n  return dense(x, 4)\n}\n"
                       "model m {\n  input x: f32[N, 2, 3, 3]\n  y = b(x)\n  output y\n}");
  EXPECT_FALSE(c.module);
  EXPECT_NE(c.diagnostics.find("t.nn:2:16: error: dense expects a value of rank 1 to 3"),
            std::string::npos)
      << c.diagnostics;
  EXPECT_NE(c.diagnostics.find("t.nn:6:7: note: in block 'b' called here"), std::string::npos)
      << c.diagnostics;
}

TEST(Lowering, SameParameterizedOpTwiceInAStatement) {
  Compiled c = compile("model m { input x: f32[N, 2] y = dense(x, 4) -> dense(2) output y }");
  EXPECT_FALSE(c.module);
  EXPECT_NE(c.diagnostics.find("'dense' appears twice in the statement 'y'"), std::string::npos)
      << c.diagnostics;
}

TEST(Lowering, SeveralModelsAndWarningsDoNotFail) {
  Compiled c = compile("model a { input x: f32[1] u = relu(x) output x }\n"
                       "model b { input x: f32[1] output x }");
  ASSERT_TRUE(c.module) << c.diagnostics;
  EXPECT_EQ(c.module->models.size(), 2u);
  EXPECT_NE(c.diagnostics.find("warning: value 'u' is never used"), std::string::npos);
  EXPECT_NE(c.module->find("b"), nullptr);
  EXPECT_EQ(c.module->find("c"), nullptr);
}

} // namespace
} // namespace nnc

namespace nnc {
namespace {

TEST(Lowering, NestedBlocksWithTheSameStatementNamesDoNotCollide) {
  Compiled c = compile("block inner(v) { a = dense(v, 4) return dense(a, 4) }\n"
                       "block outer(v) { a = inner(v) return inner(a) }\n"
                       "model m { input x: f32[N, 4] y = outer(x) output y }");
  ASSERT_TRUE(c.module) << c.diagnostics;
  EXPECT_EQ(weightNames(c.module->models[0]),
            (std::vector<std::string>{"y.a.a.weight", "y.a.a.bias", "y.a.dense.weight",
                                      "y.a.dense.bias", "y.inner.a.weight", "y.inner.a.bias",
                                      "y.inner.dense.weight", "y.inner.dense.bias"}));
}

TEST(Lowering, LongChainsAndManyStatementsStayFast) {
  // Naming must not be quadratic: 20k statements and a 20k-link chain compile in well under
  // the test timeout even in the sanitizer build.
  std::string text = "model m { input v0: f32[N, 4]\n";
  for (int i = 1; i <= 20000; ++i)
    text += "v" + std::to_string(i) + " = relu(v" + std::to_string(i - 1) + ")\n";
  text += "c = v20000";
  for (int i = 0; i < 20000; ++i)
    text += " -> relu";
  text += "\noutput c }";
  Compiled c = compile(text);
  ASSERT_TRUE(c.module) << c.diagnostics.substr(0, 500);
  EXPECT_EQ(c.module->models[0].nodes().size(), 40000u);
}

TEST(Lowering, ExponentialInliningWithoutOperationsIsCutOff) {
  // Blocks that only pass their input on still cost work: 2^40 calls must not hang.
  std::string text = "block b0(x) { return x }\n";
  for (int i = 1; i <= 40; ++i)
    text += "block b" + std::to_string(i) + "(x) { a = b" + std::to_string(i - 1) + "(x) return b" +
            std::to_string(i - 1) + "(a) }\n";
  text += "model m { input x: f32[1] y = b40(x) output y }";
  Compiled c = compile(text);
  EXPECT_FALSE(c.module);
  EXPECT_NE(c.diagnostics.find("grows beyond 100000"), std::string::npos);
  EXPECT_NE(c.diagnostics.find("(skipping 27 block calls)"), std::string::npos);
}

TEST(Lowering, LongChainsOfBlocksDoNotExhaustTheStack) {
  std::string text = "block b0(x) { return relu(x) }\n";
  for (int i = 1; i < 20000; ++i)
    text += "block b" + std::to_string(i) + "(x) { return b" + std::to_string(i - 1) + "(x) }\n";
  text += "model m { input x: f32[1] y = b19999(x) output y }";
  Compiled c = compile(text);
  EXPECT_FALSE(c.module);
  EXPECT_NE(c.diagnostics.find("blocks are nested more than 64 deep"), std::string::npos);
}

TEST(Lowering, ExponentialInliningIsCutOff) {
  // Each block calls the previous one twice: 2^17 relus, more than a model may hold.
  std::string text = "block b0(x) { return relu(x) }\n";
  for (int i = 1; i <= 17; ++i)
    text += "block b" + std::to_string(i) + "(x) { h = b" + std::to_string(i - 1) + "(x) return b" +
            std::to_string(i - 1) + "(h) }\n";
  text += "model m { input x: f32[1] y = b17(x) output y }";
  Compiled c = compile(text);
  EXPECT_FALSE(c.module);
  EXPECT_NE(c.diagnostics.find("grows beyond 100000 operations"), std::string::npos)
      << c.diagnostics.substr(0, 500);
  EXPECT_NE(c.diagnostics.find("1 error generated"), std::string::npos);
}

} // namespace
} // namespace nnc
