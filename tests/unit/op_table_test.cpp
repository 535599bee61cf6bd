// The op table is complete, consistent, and carries the traits passes rely on.
#include "compiler/ir/op_table.h"

#include <gtest/gtest.h>

#include <set>

namespace nnc::ir {
namespace {

TEST(OpTable, HasEveryOperatorOfTheReferenceOnce) {
  const std::set<std::string> reference = {"dense",       "conv2d",         "maxpool",
                                           "avgpool",     "global_avgpool", "batchnorm",
                                           "maxout",      "flatten",        "add",
                                           "mul",         "concat",         "softmax",
                                           "log_softmax", "dropout",        "relu",
                                           "relu6",       "leaky_relu",     "prelu",
                                           "elu",         "selu",           "celu",
                                           "sigmoid",     "tanh",           "softplus",
                                           "softsign",    "gelu",           "silu",
                                           "mish",        "hard_sigmoid",   "hard_swish",
                                           "hard_tanh",   "clamp",          "thresholded_relu",
                                           "identity"};
  std::set<std::string> names;
  for (const OpInfo& op : allOps()) {
    EXPECT_TRUE(names.insert(std::string(op.name)).second) << op.name;
    EXPECT_EQ(&opInfo(op.kind), &op);
    EXPECT_EQ(findOp(op.name), &op);
    EXPECT_NE(op.infer, nullptr) << op.name;
    EXPECT_FALSE(op.summary.empty()) << op.name;
  }
  EXPECT_EQ(names, reference);
  EXPECT_EQ(findOp("rleu"), nullptr);
}

TEST(OpTable, SignaturesAreWellFormed) {
  for (const OpInfo& op : allOps()) {
    ASSERT_FALSE(op.args.empty()) << op.name;
    EXPECT_TRUE(op.args.front().isTensor()) << op.name << " takes a tensor first";
    bool sawOptional = false;
    std::set<std::string_view> argNames;
    for (const ArgSpec& arg : op.args) {
      EXPECT_TRUE(argNames.insert(arg.name).second) << op.name << "." << arg.name;
      // Required arguments come before optional ones, so positional calls stay unambiguous.
      if (!arg.isRequired()) {
        sawOptional = true;
      } else {
        EXPECT_FALSE(sawOptional) << op.name << "." << arg.name;
      }
      if (arg.defaultValue) {
        EXPECT_TRUE(attrMatchesKind(*arg.defaultValue, arg.kind)) << op.name << "." << arg.name;
      }
      if (!arg.defaultFrom.empty()) {
        EXPECT_GE(op.attrIndex(arg.defaultFrom), 0) << op.name << "." << arg.name;
      }
      if (arg.kind == ArgKind::String) {
        EXPECT_FALSE(arg.choices.empty()) << op.name << "." << arg.name;
      }
    }
    EXPECT_EQ(op.has(kHasParams), !op.params.empty()) << op.name;
  }
  EXPECT_EQ(opInfo(OpKind::Conv2d).signature(),
            "conv2d(x, filters, kernel, stride=[1, 1], pad=[0, 0], dilation=[1, 1], groups=1, "
            "bias=true)");
  EXPECT_EQ(opInfo(OpKind::MaxPool).signature(), "maxpool(x, kernel, stride=kernel, pad=[0, 0])");
  EXPECT_EQ(opInfo(OpKind::Concat).signature(), "concat(inputs..., axis=1)");
}

TEST(OpTable, DefaultsFollowTheReference) {
  auto defaultOf = [](OpKind kind, std::string_view name) {
    const OpInfo& op = opInfo(kind);
    return *op.attrSpecs().at(op.attrIndex(name))->defaultValue;
  };
  EXPECT_EQ(std::get<double>(defaultOf(OpKind::LeakyRelu, "alpha")), 0.01);
  EXPECT_EQ(std::get<double>(defaultOf(OpKind::HardSigmoid, "alpha")), 1.0 / 6.0);
  EXPECT_EQ(std::get<double>(defaultOf(OpKind::Softplus, "threshold")), 20.0);
  EXPECT_EQ(std::get<double>(defaultOf(OpKind::BatchNorm, "eps")), 1e-5);
  EXPECT_EQ(std::get<int64_t>(defaultOf(OpKind::Softmax, "axis")), -1);
  EXPECT_EQ(std::get<int64_t>(defaultOf(OpKind::Concat, "axis")), 1);
  EXPECT_EQ(std::get<int64_t>(defaultOf(OpKind::Maxout, "pieces")), 2);
  EXPECT_EQ(std::get<std::string>(defaultOf(OpKind::Gelu, "approximate")), "none");
  EXPECT_EQ(std::get<bool>(defaultOf(OpKind::Dense, "bias")), true);
  EXPECT_TRUE(opInfo(OpKind::Clamp).args[1].isRequired());
}

TEST(OpTable, TraitsThatPassesUse) {
  // Monotonic non-decreasing activations commute with max-pooling; these must never be marked.
  for (OpKind kind : {OpKind::Gelu, OpKind::Silu, OpKind::Mish, OpKind::HardSwish})
    EXPECT_EQ(opInfo(kind).monotonicity, Monotonicity::Never) << opInfo(kind).name;
  for (OpKind kind : {OpKind::Relu, OpKind::Relu6, OpKind::Selu, OpKind::Celu, OpKind::Sigmoid,
                      OpKind::Tanh, OpKind::HardTanh, OpKind::Clamp})
    EXPECT_EQ(opInfo(kind).monotonicity, Monotonicity::Always) << opInfo(kind).name;
  EXPECT_EQ(opInfo(OpKind::LeakyRelu).monotonicity, Monotonicity::IfAlphaNonNegative);
  EXPECT_EQ(opInfo(OpKind::Elu).monotonicity, Monotonicity::IfAlphaNonNegative);
  // With beta < 0 softplus falls: beta=-1, threshold=0 gives f(-0.1) = -0.1 > f(0) = -0.69.
  EXPECT_EQ(opInfo(OpKind::Softplus).monotonicity, Monotonicity::IfBetaPositive);
  EXPECT_EQ(opInfo(OpKind::Prelu).monotonicity, Monotonicity::IfWeightNonNegative);
  EXPECT_TRUE(opInfo(OpKind::Relu).has(kIdempotent));
  EXPECT_FALSE(opInfo(OpKind::Sigmoid).has(kIdempotent));
  EXPECT_TRUE(opInfo(OpKind::Add).has(kBroadcast));
  EXPECT_TRUE(opInfo(OpKind::Dropout).has(kIdentityAtInference));
  int activations = 0;
  for (const OpInfo& op : allOps())
    activations += op.has(kActivation);
  EXPECT_EQ(activations, 20);
}

} // namespace
} // namespace nnc::ir
