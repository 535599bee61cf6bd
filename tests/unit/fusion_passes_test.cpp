// fold-batchnorm, fuse-elementwise and fuse-epilogue, one at a time: what they rewrite, and what
// they must leave alone.
#include "compiler/frontend/frontend.h"
#include "compiler/ir/printer.h"
#include "compiler/ir/verifier.h"
#include "compiler/passes/fold_batchnorm.h"
#include "compiler/passes/fusion.h"
#include "compiler/passes/pipeline.h"

#include <gtest/gtest.h>

namespace nnc {
namespace {

using Strings = std::vector<std::string>;

ir::Graph build(const std::string& text) {
  SourceFile source("t.nn", text);
  DiagnosticEngine engine(source);
  std::optional<ir::Module> module = compileToIR(source, engine);
  if (!module || module->models.empty()) {
    ADD_FAILURE() << engine.render();
    return ir::Graph("broken");
  }
  return std::move(module->models.front());
}

template <typename P> bool run(ir::Graph& graph) {
  P pass;
  bool changed = pass.run(graph, passes::PassContext{});
  EXPECT_EQ(ir::verify(graph), Strings{}) << ir::print(graph);
  return changed;
}

Strings ops(const ir::Graph& graph) {
  Strings names;
  for (const ir::Node& node : graph.nodes())
    names.emplace_back(node.info().name);
  return names;
}

/// Each fused kernel as "op+op+op", with a leading "@" for an epilogue.
Strings kernels(const ir::Graph& graph) {
  Strings out;
  for (const ir::FusedKernel& kernel : graph.fusedKernels()) {
    std::string text = kernel.epilogue ? "@" : "";
    for (size_t i = 0; i < kernel.nodes.size(); ++i)
      text += (i ? "+" : "") + std::string(graph.node(kernel.nodes[i]).info().name);
    out.push_back(text);
  }
  return out;
}

/// The default pipeline's fusion passes, after the cleanup ones that they rely on.
void fuse(ir::Graph& graph) {
  run<passes::FuseElementwise>(graph);
  run<passes::FuseEpilogues>(graph);
}

TEST(FoldBatchNorm, FoldsIntoConvAndRecordsTheDerivedWeights) {
  ir::Graph g = build("model m { input x: f32[N, 3, 8, 8]\n"
                      "y = conv2d(x, 4, 3, bias=false) -> batchnorm(eps=0.01) -> relu\n"
                      "output y }");
  EXPECT_TRUE(run<passes::FoldBatchNorm>(g));
  EXPECT_EQ(ops(g), (Strings{"conv2d", "relu"}));
  const ir::Node& conv = g.node(0);
  EXPECT_TRUE(std::get<bool>(conv.attr("bias")));
  ASSERT_EQ(conv.params.size(), 2u);
  ASSERT_EQ(g.foldedWeights().size(), 2u);
  const ir::FoldedWeight& scaled = g.foldedWeights()[0];
  const ir::FoldedWeight& shifted = g.foldedWeights()[1];
  EXPECT_EQ(scaled.rule, ir::FoldedWeight::Rule::ScaledWeight);
  EXPECT_EQ(scaled.source, "y.weight");
  EXPECT_EQ(scaled.batchNorm, "y.batchnorm");
  EXPECT_EQ(scaled.eps, 0.01);
  EXPECT_EQ(conv.params[0].name, scaled.name);
  EXPECT_EQ(shifted.rule, ir::FoldedWeight::Rule::ShiftedBias);
  EXPECT_EQ(shifted.source, ""); // the conv had no bias
  EXPECT_EQ(conv.params[1].name, shifted.name);
  EXPECT_EQ(formatShape(shifted.shape), "[4]");
}

TEST(FoldBatchNorm, FoldsInto2dDenseKeepingItsBias) {
  ir::Graph g = build("model m { input x: f32[N, 6]  y = dense(x, 5) -> batchnorm  output y }");
  EXPECT_TRUE(run<passes::FoldBatchNorm>(g));
  EXPECT_EQ(ops(g), (Strings{"dense"}));
  EXPECT_EQ(g.foldedWeights().at(1).source, "y.bias");
}

TEST(FoldBatchNorm, LeavesA3dDense) {
  // batchnorm normalizes axis 1 (here 7), not the dense layer's units (5).
  ir::Graph g = build("model m { input x: f32[N, 7, 6]  y = dense(x, 5) -> batchnorm  output y }");
  EXPECT_FALSE(run<passes::FoldBatchNorm>(g));
  EXPECT_EQ(ops(g), (Strings{"dense", "batchnorm"}));
}

TEST(FoldBatchNorm, LeavesALayerWithAnotherReader) {
  ir::Graph g = build("model m { input x: f32[N, 3, 8, 8]\n"
                      "c = conv2d(x, 4, 1)  b = batchnorm(c)  y = add(b, c)\n"
                      "output y }");
  EXPECT_FALSE(run<passes::FoldBatchNorm>(g));
  EXPECT_EQ(ops(g), (Strings{"conv2d", "batchnorm", "add"}));
}

TEST(FoldBatchNorm, LeavesABatchNormAfterOtherOps) {
  ir::Graph g = build("model m { input x: f32[N, 3, 8, 8]  y = relu(x) -> batchnorm  output y }");
  EXPECT_FALSE(run<passes::FoldBatchNorm>(g));
}

TEST(FuseElementwise, ChainAndBroadcastTreeBecomeOneLoop) {
  ir::Graph g = build("model m { input x: f32[N, 4, 5, 6]  input c: f32[4, 1, 1]\n"
                      "y = add(x, c) -> relu -> mul(x) -> hard_tanh\n"
                      "output y }");
  EXPECT_TRUE(run<passes::FuseElementwise>(g));
  EXPECT_EQ(kernels(g), (Strings{"add+relu+mul+hard_tanh"}));
  EXPECT_EQ(passes::kernelLeaves(g, g.fusedKernels()[0]).size(), 2u); // x and c
}

TEST(FuseElementwise, AValueWithTwoReadersEndsALoop) {
  ir::Graph g = build("model m { input x: f32[N, 8]\n"
                      "a = relu(x)  b = sigmoid(a)  y = add(a, b)\n"
                      "output y }");
  run<passes::FuseElementwise>(g);
  // a is read by sigmoid and add, so it is materialized; sigmoid joins add's loop.
  EXPECT_EQ(kernels(g), (Strings{"relu", "sigmoid+add"}));
}

TEST(FuseElementwise, AModelOutputIsNotFusedAway) {
  ir::Graph g = build("model m { input x: f32[N, 8]  a = relu(x)  y = sigmoid(a)  output a, y }");
  run<passes::FuseElementwise>(g);
  EXPECT_EQ(kernels(g), (Strings{"relu", "sigmoid"}));
}

TEST(FuseElementwise, OneTranscendentalOpPerLoop) {
  ir::Graph g = build("model m { input x: f32[N, 8]  y = sigmoid(x) -> relu -> tanh -> relu6\n"
                      "output y }");
  run<passes::FuseElementwise>(g);
  // Grown from the root: relu6, tanh, relu; sigmoid would be a second transcendental op.
  EXPECT_EQ(kernels(g), (Strings{"sigmoid", "relu+tanh+relu6"}));
}

TEST(FuseElementwise, ASmallerOperandStaysALeaf) {
  // The gate [N, 4, 1, 1] is computed once per channel, not once per element.
  ir::Graph g = build("model m { input x: f32[N, 4, 8, 8]  input s: f32[N, 4, 1, 1]\n"
                      "y = mul(x, hard_sigmoid(s))\n"
                      "output y }");
  run<passes::FuseElementwise>(g);
  EXPECT_EQ(kernels(g), (Strings{"hard_sigmoid", "mul"}));
}

TEST(FuseElementwise, BroadcastAgainstASymbolIsLeftToTheRuntime) {
  // N may be 1 or 5 at run time: the loop could not know whether x is a stream or a constant.
  ir::Graph g = build("model m { input x: f32[N, 3]  input w: f32[5, 3]  y = add(x, w)\n"
                      "output y }");
  EXPECT_FALSE(passes::isFusible(g, g.node(0)));
  run<passes::FuseElementwise>(g);
  EXPECT_TRUE(kernels(g).empty());
}

TEST(FuseEpilogues, BiasActivationAndResidualRunInTheLayer) {
  ir::Graph g = build("model m { input x: f32[N, 4, 8, 8]\n"
                      "c = conv2d(x, 4, 3, pad=1)  y = add(x, c) -> relu\n"
                      "d = flatten(y) -> dense(10) -> gelu\n"
                      "output d }");
  fuse(g);
  EXPECT_EQ(kernels(g), (Strings{"@conv2d+add+relu", "@dense+gelu"}));
}

TEST(FuseEpilogues, EveryReaderOfTheLayerMustBeInTheLoop) {
  // relu(h) + h reads h twice, both inside the loop: the epilogue sees all of it.
  ir::Graph inside = build("model m { input x: f32[N, 16]\n"
                           "h = dense(x, 8)  a = relu(h)  y = add(a, h)\n"
                           "output y }");
  fuse(inside);
  EXPECT_EQ(kernels(inside), (Strings{"@dense+relu+add"}));
  // As a model output too, h must reach memory unchanged.
  ir::Graph outside = build("model m { input x: f32[N, 16]\n"
                            "h = dense(x, 8)  a = relu(h)  y = add(a, h)\n"
                            "output y, h }");
  fuse(outside);
  EXPECT_EQ(kernels(outside), (Strings{"relu+add"}));
}

TEST(FuseEpilogues, ConvNeedsOperandsWholeOrConstantOverTheImage) {
  // w varies along W only: the conv finishes its output a channel plane at a time, along which
  // w is neither one value nor a stream.
  ir::Graph g = build("model m { input x: f32[N, 4, 8, 8]  input w: f32[8]\n"
                      "y = conv2d(x, 4, 1) -> add(w)\n"
                      "z = conv2d(x, 4, 1) -> mul(x)\n"
                      "output y, z }");
  fuse(g);
  EXPECT_EQ(kernels(g), (Strings{"add", "@conv2d+mul"}));
}

TEST(FuseEpilogues, TheLayerMustBeTheLastProducer) {
  // add(c1, c2): c2 runs after c1, so only c2's epilogue can see both.
  ir::Graph g = build("model m { input x: f32[N, 4, 8, 8]\n"
                      "c1 = conv2d(x, 4, 1)  c2 = conv2d(x, 4, 1)  y = add(c1, c2)\n"
                      "output y }");
  fuse(g);
  ASSERT_EQ(kernels(g), (Strings{"@conv2d+add"}));
  EXPECT_EQ(g.value(g.node(g.fusedKernels()[0].nodes[0]).result).name, "c2");
}

TEST(FuseEpilogues, MaxoutTakesAnEpilogue) {
  ir::Graph g = build("model m { input x: f32[N, 12]  y = maxout(x, 4, pieces=3) -> elu\n"
                      "output y }");
  fuse(g);
  EXPECT_EQ(kernels(g), (Strings{"@maxout+elu"}));
}

TEST(Pipeline, ParsesListsAndRejectsUnknownPasses) {
  auto parsed = passes::Pipeline::parse("cse,dce");
  ASSERT_TRUE(std::holds_alternative<passes::Pipeline>(parsed));
  EXPECT_EQ(std::get<passes::Pipeline>(parsed).names(), (Strings{"cse", "dce"}));
  EXPECT_TRUE(std::get<passes::Pipeline>(passes::Pipeline::parse("none")).names().empty());
  auto unfused = passes::Pipeline::parse("default", false);
  for (const std::string& name : std::get<passes::Pipeline>(unfused).names())
    EXPECT_FALSE(passes::isFusionPass(name)) << name;
  auto bad = passes::Pipeline::parse("cse,nope");
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_NE(std::get<std::string>(bad).find("unknown pass 'nope'"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<std::string>(passes::Pipeline::parse("cse,,dce")));
}

TEST(Pipeline, ARewriteAfterFusionDropsTheKernels) {
  // activation-past-maxpool swaps the ops of the fused tanh and the pool: the kernel that held
  // tanh would hold a maxpool.
  const char* text = "model m { input x: f32[N, 4, 6, 6]\n"
                     "y = add(x, x) -> tanh -> maxpool(2)\noutput y }";
  ir::Graph g = build(text);
  auto parsed = passes::Pipeline::parse("fuse-elementwise,activation-past-maxpool");
  ASSERT_TRUE(std::holds_alternative<passes::Pipeline>(parsed));
  std::get<passes::Pipeline>(parsed).run(g, passes::PassContext{});
  EXPECT_EQ(ops(g), (Strings{"add", "maxpool", "tanh"}));
  EXPECT_EQ(kernels(g), Strings{});
  // A rewrite that changes nothing keeps them.
  ir::Graph kept = build(text);
  std::get<passes::Pipeline>(passes::Pipeline::parse("fuse-elementwise,dce"))
      .run(kept, passes::PassContext{});
  EXPECT_EQ(kernels(kept), (Strings{"add+tanh"}));
}

TEST(Pipeline, DefaultPipelineOnAResidualBlock) {
  ir::Graph g = build("model m { input x: f32[N, 4, 8, 8]\n"
                      "a = conv2d(x, 4, 3, pad=1, bias=false) -> batchnorm -> relu\n"
                      "b = conv2d(a, 4, 3, pad=1, bias=false) -> batchnorm\n"
                      "y = add(x, b) -> relu -> dropout(0.5)\n"
                      "output y }");
  passes::Pipeline::defaults().run(g, passes::PassContext{});
  EXPECT_EQ(ops(g), (Strings{"conv2d", "relu", "conv2d", "add", "relu"}));
  EXPECT_EQ(kernels(g), (Strings{"@conv2d+relu", "@conv2d+add+relu"}));
  EXPECT_EQ(g.foldedWeights().size(), 4u);
}

} // namespace
} // namespace nnc
