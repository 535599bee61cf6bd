// Graph passes, one at a time: build IR from source, run the pass, check what it rewrote, that
// the graph still verifies, and that it leaves alone what it must not touch.
#include "compiler/frontend/frontend.h"
#include "compiler/ir/printer.h"
#include "compiler/ir/verifier.h"
#include "compiler/passes/activation_past_maxpool.h"
#include "compiler/passes/cleanup.h"
#include "compiler/passes/simplify_activations.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <sstream>

namespace nnc {
namespace {

using passes::PassContext;
using Strings = std::vector<std::string>;
using Weights = std::map<std::string, std::vector<float>>;

/// The first model of `text`, lowered and verified by the front end.
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

/// A model with one image input x: f32[N, 4, 8, 8] and the statements `body`.
ir::Graph image(const std::string& body) {
  return build("model m { input x: f32[N, 4, 8, 8]\n" + body + "\n}");
}

/// Reads weights from `weights`, as a loaded weight file would give them.
PassContext withWeights(const Weights& weights) {
  PassContext context;
  context.weight = [&weights](const std::string& name) -> const std::vector<float>* {
    auto it = weights.find(name);
    return it == weights.end() ? nullptr : &it->second;
  };
  return context;
}

/// Runs a fresh `P` on `graph` and checks that the result verifies; returns what run returned.
template <typename P> bool run(ir::Graph& graph, const PassContext& context = {}) {
  P pass;
  bool changed = pass.run(graph, context);
  EXPECT_EQ(ir::verify(graph), Strings{}) << ir::print(graph);
  return changed;
}

Strings ops(const ir::Graph& graph) {
  Strings names;
  for (const ir::Node& node : graph.nodes())
    names.emplace_back(node.info().name);
  return names;
}

/// The printed line of the node whose result is named `value`, without indentation.
std::string line(const ir::Graph& graph, const std::string& value) {
  std::istringstream text(ir::print(graph));
  for (std::string row; std::getline(text, row);)
    if (row.starts_with("  %" + value + " = "))
      return row.substr(2);
  return "(no node for %" + value + ")";
}

bool printsLine(const ir::Graph& graph, const std::string& text) {
  return ir::print(graph).find("  " + text + "\n") != std::string::npos;
}

// --- dce ---------------------------------------------------------------------------------------

TEST(Dce, RemovesAnUnusedChain) {
  ir::Graph g = image("u = relu(x) -> sigmoid -> tanh\n y = relu6(x)\n output y");
  ASSERT_EQ(ops(g), (Strings{"relu", "sigmoid", "tanh", "relu6"}));
  EXPECT_TRUE(run<passes::EliminateDeadCode>(g));
  EXPECT_EQ(ops(g), Strings{"relu6"});
  EXPECT_EQ(g.value(g.outputs()[0].value).name, "y");
  EXPECT_FALSE(run<passes::EliminateDeadCode>(g));
}

TEST(Dce, KeepsEverythingThatIsUsed) {
  ir::Graph g = image("a = relu(x)\n b = sigmoid(a)\n y = add(a, b)\n output y");
  EXPECT_FALSE(run<passes::EliminateDeadCode>(g));
  EXPECT_EQ(ops(g), (Strings{"relu", "sigmoid", "add"}));
}

TEST(Dce, LeavesAModelWhoseOutputIsItsInput) {
  ir::Graph g = build("model m { input x: f32[N, 4] u = relu(x) -> tanh output x }");
  EXPECT_TRUE(run<passes::EliminateDeadCode>(g));
  EXPECT_TRUE(g.nodes().empty());
  EXPECT_EQ(g.outputs()[0].value, g.inputs()[0]);
}

// --- remove-identity -----------------------------------------------------------------------------

TEST(RemoveIdentity, BypassesDropout) {
  ir::Graph g = image("y = relu(x) -> dropout(0.2) -> sigmoid\n output y");
  EXPECT_TRUE(run<passes::RemoveIdentities>(g));
  ASSERT_EQ(ops(g), (Strings{"relu", "sigmoid"}));
  EXPECT_EQ(g.node(1).operands, std::vector<ir::ValueId>{g.node(0).result});
}

TEST(RemoveIdentity, IdentityThatIsTheModelOutput) {
  ir::Graph g = image("y = relu(x) -> identity\n output y");
  EXPECT_TRUE(run<passes::RemoveIdentities>(g));
  ASSERT_EQ(ops(g), Strings{"relu"});
  ASSERT_EQ(g.outputs().size(), 1u);
  EXPECT_EQ(g.outputs()[0].name, "y");
  EXPECT_EQ(g.outputs()[0].value, g.node(0).result);
  EXPECT_TRUE(printsLine(g, "output y = %y.1")) << ir::print(g);
}

TEST(RemoveIdentity, IdentityOfAnInputThatIsTheModelOutput) {
  ir::Graph g = image("y = identity(x)\n z = dropout(x)\n output y, z");
  EXPECT_TRUE(run<passes::RemoveIdentities>(g));
  EXPECT_TRUE(g.nodes().empty());
  ASSERT_EQ(g.outputs().size(), 2u);
  EXPECT_EQ(g.outputs()[0].value, g.inputs()[0]);
  EXPECT_EQ(g.outputs()[1].value, g.inputs()[0]);
  EXPECT_TRUE(printsLine(g, "output y = %x")) << ir::print(g);
  EXPECT_TRUE(printsLine(g, "output z = %x")) << ir::print(g);
}

TEST(RemoveIdentity, ChainOfIdentitiesCollapses) {
  ir::Graph g = image("y = x -> dropout -> identity -> dropout(0.1) -> relu\n output y");
  EXPECT_TRUE(run<passes::RemoveIdentities>(g));
  ASSERT_EQ(ops(g), Strings{"relu"});
  EXPECT_EQ(g.node(0).operands, std::vector<ir::ValueId>{g.inputs()[0]});
}

TEST(RemoveIdentity, NothingToRemove) {
  ir::Graph g = image("y = relu(x)\n output y");
  EXPECT_FALSE(run<passes::RemoveIdentities>(g));
  EXPECT_EQ(ops(g), Strings{"relu"});
}

// --- cse ---------------------------------------------------------------------------------------

TEST(Cse, MergesTwoIdenticalRelus) {
  ir::Graph g = image("a = relu(x)\n b = relu(x)\n y = add(a, b)\n output y");
  EXPECT_TRUE(run<passes::MergeCommonSubexpressions>(g));
  ASSERT_EQ(ops(g), (Strings{"relu", "add"}));
  EXPECT_EQ(g.node(1).operands, (std::vector<ir::ValueId>{g.node(0).result, g.node(0).result}));
}

TEST(Cse, MergesSwappedOperandsOfACommutativeOp) {
  ir::Graph g = build("model m { input x: f32[N, 4] input z: f32[N, 4]\n"
                      "a = add(x, z) b = add(z, x) y = mul(a, b) output y }");
  EXPECT_TRUE(run<passes::MergeCommonSubexpressions>(g));
  EXPECT_EQ(ops(g), (Strings{"add", "mul"}));
}

TEST(Cse, KeepsTheOperandOrderOfConcat) {
  ir::Graph g = build("model m { input x: f32[N, 4] input z: f32[N, 4]\n"
                      "a = concat(x, z) b = concat(z, x) y = add(a, b) output y }");
  EXPECT_FALSE(run<passes::MergeCommonSubexpressions>(g));
  EXPECT_EQ(ops(g), (Strings{"concat", "concat", "add"}));
}

TEST(Cse, KeepsDenseLayersWithDifferentWeights) {
  ir::Graph g = build("model m { input x: f32[N, 4]\n"
                      "a = dense(x, 3) b = dense(x, 3) y = add(a, b) output y }");
  EXPECT_FALSE(run<passes::MergeCommonSubexpressions>(g));
  EXPECT_EQ(ops(g), (Strings{"dense", "dense", "add"}));
}

TEST(Cse, KeepsDifferentAttributes) {
  ir::Graph g = image("a = leaky_relu(x, 0.1)\n b = leaky_relu(x, 0.2)\n y = add(a, b)\n output y");
  EXPECT_FALSE(run<passes::MergeCommonSubexpressions>(g));
  EXPECT_EQ(g.nodes().size(), 3u);
}

TEST(Cse, MergesChainsThatBecomeEqual) {
  ir::Graph g = image("a = relu(x) -> sigmoid\n b = relu(x) -> sigmoid\n y = add(a, b)\n output y");
  EXPECT_TRUE(run<passes::MergeCommonSubexpressions>(g));
  EXPECT_EQ(ops(g), (Strings{"relu", "sigmoid", "add"}));
}

TEST(Cse, MergedValuesThatAreBothOutputsKeepTheirNames) {
  ir::Graph g = image("a = relu(x)\n b = relu(x)\n output a, b");
  EXPECT_TRUE(run<passes::MergeCommonSubexpressions>(g));
  ASSERT_EQ(ops(g), Strings{"relu"});
  EXPECT_EQ(g.outputs()[0].name, "a");
  EXPECT_EQ(g.outputs()[1].name, "b");
  EXPECT_TRUE(printsLine(g, "output b = %a")) << ir::print(g);
}

// --- simplify-activations: chains ----------------------------------------------------------------

TEST(SimplifyActivations, ReluOfReluIsOneRelu) {
  ir::Graph g = image("y = relu(x) -> relu\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(line(g, "y"), "%y = relu(%x) : f32[N, 4, 8, 8]");
  EXPECT_EQ(g.nodes().size(), 1u);
}

TEST(SimplifyActivations, IdempotentOpWithASecondUserReadsTheInnerResult) {
  ir::Graph g = image("a = relu(x)\n b = relu(a)\n y = add(a, b)\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  ASSERT_EQ(ops(g), (Strings{"relu", "add"}));
  EXPECT_EQ(line(g, "y"), "%y = add(%a, %a) : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, ClampChainBecomesTheIntersection) {
  ir::Graph g = image("y = clamp(x, -1, 4) -> clamp(0, 6)\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), Strings{"clamp"});
  EXPECT_EQ(line(g, "y"), "%y = clamp(%x) {min = 0.0, max = 4.0} : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, ReluAndRelu6MergeToRelu6InEitherOrder) {
  for (const char* chain : {"relu(x) -> relu6", "relu6(x) -> relu"}) {
    ir::Graph g = image(std::string("y = ") + chain + "\n output y");
    EXPECT_TRUE(run<passes::SimplifyActivations>(g)) << chain;
    EXPECT_EQ(line(g, "y"), "%y = relu6(%x) : f32[N, 4, 8, 8]") << chain;
  }
}

TEST(SimplifyActivations, HardTanhThenReluIsAClampToZeroOne) {
  ir::Graph g = image("y = hard_tanh(x) -> relu\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(line(g, "y"), "%y = clamp(%x) {min = 0.0, max = 1.0} : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, DisjointClampsStay) {
  ir::Graph g = image("y = clamp(x, 0, 1) -> clamp(2, 3)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"clamp", "clamp"}));
}

TEST(SimplifyActivations, ClampWithASecondUserIsNotMergedAway) {
  ir::Graph g = image("a = clamp(x, -1, 4)\n b = clamp(a, 0, 3)\n y = add(a, b)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"clamp", "clamp", "add"}));
}

TEST(SimplifyActivations, LooserOuterClampWithASecondUserOnTheInnerGoes) {
  ir::Graph g = image("a = relu6(x)\n b = relu(a)\n y = add(a, b)\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  ASSERT_EQ(ops(g), (Strings{"relu6", "add"}));
  EXPECT_EQ(line(g, "y"), "%y = add(%a, %a) : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, NegativeZeroBoundIsKeptNotMadeRelu) {
  // clamp(x, -0.0, 6) gives -0 below 0 where relu6 gives +0; relu after it keeps that -0.
  ir::Graph g = image("y = clamp(x, -0.0, 6) -> relu\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(line(g, "y"), "%y = clamp(%x) {min = -0.0, max = 6.0} : f32[N, 4, 8, 8]");
}

// --- simplify-activations: canonical forms and identities --------------------------------------

TEST(SimplifyActivations, ClampLikeOpsGetCanonicalNames) {
  ir::Graph g = image("a = hard_tanh(x, -2, 3)\n b = hard_tanh(x, 0, 6)\n c = clamp(x, 0, 6)\n"
                      "d = clamp(x, 0, 1e39)\n e = clamp(x, -1, 1)\n output a, b, c, d, e");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"clamp", "relu6", "relu6", "relu", "clamp"}));
  EXPECT_EQ(line(g, "a"), "%a = clamp(%x) {min = -2.0, max = 3.0} : f32[N, 4, 8, 8]");
  EXPECT_EQ(line(g, "e"), "%e = clamp(%x) {min = -1.0, max = 1.0} : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, ZeroAlphaIsRelu) {
  ir::Graph g = image("a = leaky_relu(x, 0)\n b = thresholded_relu(x, 0)\n c = elu(x, 0)\n"
                      "d = leaky_relu(x, 0.1)\n e = thresholded_relu(x)\n f = elu(x)\n"
                      "output a, b, c, d, e, f");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"relu", "relu", "relu", "leaky_relu", "thresholded_relu", "elu"}));
}

TEST(SimplifyActivations, CeluWithAlphaOneIsElu) {
  ir::Graph g = image("a = celu(x)\n b = celu(x, 2)\n output a, b");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(line(g, "a"), "%a = elu(%x) {alpha = 1.0} : f32[N, 4, 8, 8]");
  EXPECT_EQ(line(g, "b"), "%b = celu(%x) {alpha = 2.0} : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, IdentitiesDisappear) {
  ir::Graph g = image("y = relu(x) -> leaky_relu(1) -> clamp(-1e39, 1e39)"
                      " -> hard_tanh(min=-1e39, max=1e39)\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  ASSERT_EQ(ops(g), Strings{"relu"});
  EXPECT_EQ(g.outputs()[0].value, g.node(0).result);
  EXPECT_EQ(g.outputs()[0].name, "y");
}

TEST(SimplifyActivations, IdentityOfAnInputThatIsTheModelOutput) {
  ir::Graph g = image("y = leaky_relu(x, 1)\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_TRUE(g.nodes().empty());
  EXPECT_TRUE(printsLine(g, "output y = %x")) << ir::print(g);
}

TEST(SimplifyActivations, WideButFiniteClampStays) {
  ir::Graph g = image("y = clamp(x, -1e30, 1e30)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), Strings{"clamp"});
}

TEST(SimplifyActivations, RepeatsUntilNothingChanges) {
  ir::Graph g = image("y = x -> leaky_relu(0) -> hard_tanh(-1, 8) -> relu6 -> relu\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(line(g, "y"), "%y = relu6(%x) : f32[N, 4, 8, 8]");
  EXPECT_EQ(g.nodes().size(), 1u);
}

TEST(SimplifyActivations, LeavesOtherActivationsAlone) {
  ir::Graph g = image("y = x -> sigmoid -> gelu -> leaky_relu(0.2) -> celu(0.5)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"sigmoid", "gelu", "leaky_relu", "celu"}));
}

// --- simplify-activations: prelu slopes ---------------------------------------------------------

TEST(SimplifyActivations, PreluWithAKnownSlopeIsLeakyRelu) {
  ir::Graph g = image("y = prelu(x)\n output y");
  Weights weights{{"y.weight", {0.3f}}};
  EXPECT_TRUE(run<passes::SimplifyActivations>(g, withWeights(weights)));
  ASSERT_EQ(ops(g), Strings{"leaky_relu"});
  EXPECT_TRUE(g.node(0).params.empty());
  EXPECT_EQ(std::get<double>(g.node(0).attr("alpha")), static_cast<double>(0.3f));
}

TEST(SimplifyActivations, PreluWithUnknownSlopeStays) {
  ir::Graph g = image("y = prelu(x)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  Weights other{{"z.weight", {0.3f}}};
  EXPECT_FALSE(run<passes::SimplifyActivations>(g, withWeights(other)));
  EXPECT_EQ(ops(g), Strings{"prelu"});
}

TEST(SimplifyActivations, PerChannelPreluStays) {
  ir::Graph g = image("y = prelu(x, per_channel=true)\n output y");
  Weights weights{{"y.weight", {0.1f, 0.2f, 0.3f, 0.4f}}};
  EXPECT_FALSE(run<passes::SimplifyActivations>(g, withWeights(weights)));
  EXPECT_EQ(ops(g), Strings{"prelu"});
}

TEST(SimplifyActivations, PreluWithSlopesZeroAndOne) {
  ir::Graph g = image("a = prelu(x)\n b = relu6(x) -> prelu\n output a, b");
  Weights weights{{"a.weight", {0.0f}}, {"b.prelu.weight", {1.0f}}};
  EXPECT_TRUE(run<passes::SimplifyActivations>(g, withWeights(weights)));
  EXPECT_EQ(ops(g), (Strings{"relu", "relu6"}));
  EXPECT_EQ(g.outputs()[1].value, g.node(1).result);
}

// --- simplify-activations: gated products -------------------------------------------------------

TEST(SimplifyActivations, ProductWithSigmoidIsSiluInEitherOrder) {
  for (const char* product : {"mul(x, s)", "mul(s, x)"}) {
    ir::Graph g = image(std::string("s = sigmoid(x)\n y = ") + product + "\n output y");
    EXPECT_TRUE(run<passes::SimplifyActivations>(g)) << product;
    EXPECT_EQ(ops(g), Strings{"silu"}) << product;
    EXPECT_EQ(line(g, "y"), "%y = silu(%x) : f32[N, 4, 8, 8]") << product;
  }
}

TEST(SimplifyActivations, ProductWithTheSigmoidOfAnotherValueStays) {
  ir::Graph g = build("model m { input x: f32[N, 4] input z: f32[N, 4]\n"
                      "y = mul(x, sigmoid(z)) output y }");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"sigmoid", "mul"}));
}

TEST(SimplifyActivations, GateWithASecondUserStays) {
  ir::Graph g = image("s = sigmoid(x)\n p = mul(x, s)\n y = add(p, s)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"sigmoid", "mul", "add"}));
}

TEST(SimplifyActivations, ProductOfTwoSigmoidsStays) {
  ir::Graph g = image("s = sigmoid(x)\n y = mul(s, s)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"sigmoid", "mul"}));
}

TEST(SimplifyActivations, ProductWithDefaultHardSigmoidIsHardSwish) {
  ir::Graph g = image("y = mul(hard_sigmoid(x), x)\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(line(g, "y"), "%y = hard_swish(%x) : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, ProductWithOtherHardSigmoidsStays) {
  for (const char* gate : {"hard_sigmoid(x, alpha=0.2)", "hard_sigmoid(x, beta=0.25)"}) {
    ir::Graph g = image(std::string("y = mul(x, ") + gate + ")\n output y");
    EXPECT_FALSE(run<passes::SimplifyActivations>(g)) << gate;
    EXPECT_EQ(ops(g), (Strings{"hard_sigmoid", "mul"})) << gate;
  }
}

TEST(SimplifyActivations, ProductWithTanhOfSoftplusIsMish) {
  ir::Graph g = image("y = mul(x, x -> softplus -> tanh)\n output y");
  EXPECT_TRUE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(line(g, "y"), "%y = mish(%x) : f32[N, 4, 8, 8]");
}

TEST(SimplifyActivations, ProductWithTanhOfOtherSoftplusesStays) {
  for (const char* softplus : {"softplus(beta=2)", "softplus(threshold=10)"}) {
    ir::Graph g = image(std::string("y = mul(x, x -> ") + softplus + " -> tanh)\n output y");
    EXPECT_FALSE(run<passes::SimplifyActivations>(g)) << softplus;
    EXPECT_EQ(ops(g), (Strings{"softplus", "tanh", "mul"})) << softplus;
  }
}

TEST(SimplifyActivations, SoftplusWithASecondUserKeepsMishFromFiring) {
  ir::Graph g = image("s = softplus(x)\n p = mul(x, tanh(s))\n y = add(p, s)\n output y");
  EXPECT_FALSE(run<passes::SimplifyActivations>(g));
  EXPECT_EQ(ops(g), (Strings{"softplus", "tanh", "mul", "add"}));
}

TEST(SimplifyActivations, DefaultAttrsFollowTheOpTable) {
  EXPECT_EQ(passes::defaultAttrs(ir::OpKind::Relu).size(), 0u);
  std::vector<ir::AttrValue> softplus = passes::defaultAttrs(ir::OpKind::Softplus);
  ASSERT_EQ(softplus.size(), 2u);
  EXPECT_EQ(std::get<double>(softplus[0]), 1.0);
  EXPECT_EQ(std::get<double>(softplus[1]), 20.0);
  std::vector<ir::AttrValue> clamp = passes::defaultAttrs(ir::OpKind::Clamp);
  ASSERT_EQ(clamp.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<double>(clamp[0]));
  std::vector<ir::AttrValue> gelu = passes::defaultAttrs(ir::OpKind::Gelu);
  ASSERT_EQ(gelu.size(), 1u);
  EXPECT_EQ(std::get<std::string>(gelu[0]), "none");
}

// --- activation-past-maxpool ---------------------------------------------------------------------

TEST(ActivationPastMaxPool, ReluMovesAfterThePool) {
  ir::Graph g = image("y = relu(x) -> maxpool(2)\n output y");
  EXPECT_TRUE(run<passes::MoveActivationPastMaxPool>(g));
  EXPECT_EQ(ops(g), (Strings{"maxpool", "relu"}));
  EXPECT_EQ(line(g, "y.1"), "%y.1 = maxpool(%x) {kernel = [2, 2], stride = [2, 2], pad = [0, 0]} "
                            ": f32[N, 4, 4, 4]");
  EXPECT_EQ(line(g, "y"), "%y = relu(%y.1) : f32[N, 4, 4, 4]");
  EXPECT_EQ(g.value(g.outputs()[0].value).name, "y");
  EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(g));
}

TEST(ActivationPastMaxPool, StackedActivationsAllMove) {
  ir::Graph g = image("y = x -> relu -> sigmoid -> tanh -> maxpool(3, stride=2, pad=1) -> flatten\n"
                      "output y");
  EXPECT_TRUE(run<passes::MoveActivationPastMaxPool>(g));
  EXPECT_EQ(ops(g), (Strings{"maxpool", "relu", "sigmoid", "tanh", "flatten"}));
  EXPECT_EQ(line(g, "y.1"), "%y.1 = maxpool(%x) {kernel = [3, 3], stride = [2, 2], pad = [1, 1]} "
                            ": f32[N, 4, 4, 4]");
}

TEST(ActivationPastMaxPool, ActivationWithAnotherUserStays) {
  ir::Graph g = image("a = relu(x)\n p = maxpool(a, 2)\n output a, p");
  EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(g));
  EXPECT_EQ(ops(g), (Strings{"relu", "maxpool"}));
}

TEST(ActivationPastMaxPool, NonMonotonicActivationsStay) {
  for (const char* act : {"gelu", "silu", "mish", "hard_swish"}) {
    ir::Graph g = image(std::string("y = x -> ") + act + " -> maxpool(2)\n output y");
    EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(g)) << act;
    EXPECT_EQ(ops(g), (Strings{act, "maxpool"}));
  }
}

TEST(ActivationPastMaxPool, LeakyReluMovesOnlyWithANonNegativeAlpha) {
  ir::Graph negative = image("y = x -> leaky_relu(-0.1) -> maxpool(2)\n output y");
  EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(negative));
  ir::Graph positive = image("y = x -> leaky_relu(0.1) -> maxpool(2)\n output y");
  EXPECT_TRUE(run<passes::MoveActivationPastMaxPool>(positive));
  EXPECT_EQ(line(positive, "y"), "%y = leaky_relu(%y.1) {alpha = 0.1} : f32[N, 4, 4, 4]");
}

TEST(ActivationPastMaxPool, SoftplusMovesWithPositiveBetaAndALargeThreshold) {
  ir::Graph standard = image("y = x -> softplus -> maxpool(2)\n output y");
  EXPECT_TRUE(run<passes::MoveActivationPastMaxPool>(standard));
  for (const char* act : {"softplus(beta=-1)", "softplus(threshold=0)"}) {
    ir::Graph g = image(std::string("y = x -> ") + act + " -> maxpool(2)\n output y");
    EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(g)) << act;
  }
}

TEST(ActivationPastMaxPool, PreluNeedsKnownNonNegativeSlopes) {
  const std::string body = "y = x -> prelu(per_channel=true) -> maxpool(2)\n output y";
  ir::Graph unknown = image(body);
  EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(unknown));

  Weights negative{{"y.weight", {0.1f, -0.2f, 0.1f, 0.1f}}};
  ir::Graph withNegative = image(body);
  EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(withNegative, withWeights(negative)));

  Weights nan{{"y.weight", {0.1f, std::numeric_limits<float>::quiet_NaN(), 0.1f, 0.1f}}};
  ir::Graph withNan = image(body);
  EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(withNan, withWeights(nan)));

  Weights good{{"y.weight", {0.1f, 0.2f, 0.0f, 0.3f}}};
  ir::Graph g = image(body);
  EXPECT_TRUE(run<passes::MoveActivationPastMaxPool>(g, withWeights(good)));
  EXPECT_EQ(ops(g), (Strings{"maxpool", "prelu"}));
  EXPECT_EQ(line(g, "y"), "%y = prelu(%y.1) {per_channel = true} : f32[N, 4, 4, 4] "
                          "weights [y.weight: [4]]");
}

TEST(ActivationPastMaxPool, OnlyMaxPool) {
  ir::Graph g = image("y = x -> relu -> avgpool(2)\n z = x -> dropout -> maxpool(2)\n output y, z");
  EXPECT_FALSE(run<passes::MoveActivationPastMaxPool>(g));
  EXPECT_EQ(ops(g), (Strings{"relu", "avgpool", "dropout", "maxpool"}));
}

// --- passes together ----------------------------------------------------------------------------

TEST(Passes, ImportedPatternsThenPoolThenCleanup) {
  ir::Graph g = image("a = relu(x)\n b = relu(x)\n s = add(a, b) -> dropout -> clamp(0, 6) -> "
                      "maxpool(2)\n u = sigmoid(x)\n output s");
  run<passes::RemoveIdentities>(g);
  run<passes::MergeCommonSubexpressions>(g);
  run<passes::SimplifyActivations>(g);
  run<passes::MoveActivationPastMaxPool>(g);
  run<passes::EliminateDeadCode>(g);
  EXPECT_EQ(ops(g), (Strings{"relu", "add", "maxpool", "relu6"}));
}

} // namespace
} // namespace nnc
