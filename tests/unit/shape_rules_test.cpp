// Shape inference of every operator: conv/pool arithmetic, broadcasting, symbolic dimensions.
#include "compiler/ir/shape_rules.h"

#include <gtest/gtest.h>

namespace nnc::ir {
namespace {

Dim n(int64_t size) {
  return Dim::known(size);
}
Dim s(const char* symbol) {
  return Dim::symbol(symbol);
}

/// Runs an op's shape rule with the given operand shapes and attributes (by name; defaults for
/// the rest).
InferOutcome infer(OpKind kind, std::vector<Shape> shapes,
                   std::vector<std::pair<std::string_view, AttrValue>> given = {}) {
  const OpInfo& op = opInfo(kind);
  std::vector<AttrValue> attrs;
  for (const ArgSpec* spec : op.attrSpecs()) {
    auto it = std::find_if(given.begin(), given.end(),
                           [&](const auto& g) { return g.first == spec->name; });
    if (it != given.end())
      attrs.push_back(it->second);
    else if (spec->defaultValue)
      attrs.push_back(*spec->defaultValue);
    else if (!spec->defaultFrom.empty())
      attrs.push_back(attrs.at(op.attrIndex(spec->defaultFrom)));
    else
      ADD_FAILURE() << "no value for " << spec->name;
  }
  std::vector<TensorType> types;
  for (Shape& shape : shapes)
    types.push_back(TensorType{std::move(shape)});
  return op.infer(InferContext(op, types, attrs));
}

std::string shapeOf(const InferOutcome& outcome) {
  if (auto* error = std::get_if<InferError>(&outcome))
    return "error: " + error->message;
  return formatShape(std::get<Inferred>(outcome).type.shape);
}

std::string paramsOf(const InferOutcome& outcome) {
  std::string out;
  for (const auto& [role, shape] : std::get<Inferred>(outcome).params)
    out += std::string(role) + formatShape(shape) + " ";
  return out;
}

std::string errorOf(const InferOutcome& outcome) {
  auto* error = std::get_if<InferError>(&outcome);
  return error ? error->message : "no error";
}

AttrValue pair(int64_t h, int64_t w) {
  return std::vector<int64_t>{h, w};
}

TEST(WindowArithmetic, MatchesPyTorch) {
  // floor((in + 2p - d(k-1) - 1) / s) + 1
  EXPECT_EQ(windowOutputSize(32, 3, 1, 2, 1), 32);
  EXPECT_EQ(windowOutputSize(32, 3, 2, 2, 1), 16);
  EXPECT_EQ(windowOutputSize(28, 5, 1, 0, 1), 24);
  EXPECT_EQ(windowOutputSize(7, 3, 2, 0, 1), 3);
  EXPECT_EQ(windowOutputSize(10, 3, 1, 0, 2), 6); // dilated span 5
  EXPECT_EQ(windowOutputSize(5, 2, 2, 0, 1), 2);  // floor mode drops the last row
  EXPECT_EQ(windowOutputSize(4, 5, 1, 0, 1), std::nullopt);
  EXPECT_EQ(windowOutputSize(4, 5, 1, 2, 1), 2);
  EXPECT_EQ(samePadding(3, 1), std::make_pair(int64_t{1}, int64_t{1}));
  EXPECT_EQ(samePadding(4, 1), std::make_pair(int64_t{1}, int64_t{2})); // extra at the end
  EXPECT_EQ(samePadding(3, 2), std::make_pair(int64_t{2}, int64_t{2}));
}

TEST(ShapeRules, Dense) {
  auto out = infer(OpKind::Dense, {{s("N"), n(784)}}, {{"units", int64_t{512}}});
  EXPECT_EQ(shapeOf(out), "[N, 512]");
  EXPECT_EQ(paramsOf(out), "weight[512, 784] bias[512] ");
  EXPECT_EQ(
      paramsOf(infer(OpKind::Dense, {{n(2), n(3)}}, {{"units", int64_t{4}}, {"bias", false}})),
      "weight[4, 3] ");
  EXPECT_EQ(shapeOf(infer(OpKind::Dense, {{s("N"), n(7), n(16)}}, {{"units", int64_t{8}}})),
            "[N, 7, 8]");
  EXPECT_EQ(shapeOf(infer(OpKind::Dense, {{n(16)}}, {{"units", int64_t{8}}})), "[8]");
  EXPECT_EQ(errorOf(infer(OpKind::Dense, {{s("N"), n(16), n(5), n(5)}}, {{"units", int64_t{8}}})),
            "dense expects a value of rank 1 to 3 and works on its last axis, got f32[N, 16, 5, "
            "5] of rank 4; flatten it first: flatten(...) gives f32[N, 400]");
  EXPECT_NE(errorOf(infer(OpKind::Dense, {{s("N"), s("K")}}, {{"units", int64_t{8}}}))
                .find("needs a known size for the last axis"),
            std::string::npos);
  EXPECT_EQ(errorOf(infer(OpKind::Dense, {{n(1), n(2)}}, {{"units", int64_t{0}}})),
            "units must be positive, got 0");
}

TEST(ShapeRules, Conv2d) {
  Shape image = {s("N"), n(3), n(32), n(32)};
  auto basic = infer(OpKind::Conv2d, {image}, {{"filters", int64_t{16}}, {"kernel", pair(3, 3)}});
  EXPECT_EQ(shapeOf(basic), "[N, 16, 30, 30]");
  EXPECT_EQ(paramsOf(basic), "weight[16, 3, 3, 3] bias[16] ");
  EXPECT_EQ(shapeOf(infer(OpKind::Conv2d, {image},
                          {{"filters", int64_t{8}},
                           {"kernel", pair(3, 5)},
                           {"stride", pair(2, 1)},
                           {"pad", pair(1, 2)}})),
            "[N, 8, 16, 32]");
  EXPECT_EQ(
      shapeOf(infer(OpKind::Conv2d, {image},
                    {{"filters", int64_t{8}}, {"kernel", pair(3, 3)}, {"dilation", pair(2, 2)}})),
      "[N, 8, 28, 28]");
  EXPECT_EQ(
      shapeOf(infer(OpKind::Conv2d, {image},
                    {{"filters", int64_t{4}}, {"kernel", pair(4, 4)}, {"pad", AttrValue("same")}})),
      "[N, 4, 32, 32]");
  // Depthwise: groups == channels, weight [C*m, 1, kh, kw].
  auto depthwise = infer(OpKind::Conv2d, {{s("N"), n(32), n(8), n(8)}},
                         {{"filters", int64_t{64}},
                          {"kernel", pair(3, 3)},
                          {"pad", pair(1, 1)},
                          {"groups", int64_t{32}},
                          {"bias", false}});
  EXPECT_EQ(shapeOf(depthwise), "[N, 64, 8, 8]");
  EXPECT_EQ(paramsOf(depthwise), "weight[64, 1, 3, 3] ");
  EXPECT_EQ(
      errorOf(infer(OpKind::Conv2d, {image},
                    {{"filters", int64_t{4}}, {"kernel", pair(3, 3)}, {"groups", int64_t{2}}})),
      "the input channels (3) of f32[N, 3, 32, 32] must be divisible by groups (2)");
  EXPECT_EQ(
      errorOf(infer(OpKind::Conv2d, {{n(1), n(4), n(5), n(5)}},
                    {{"filters", int64_t{6}}, {"kernel", pair(1, 1)}, {"groups", int64_t{4}}})),
      "filters (6) must be divisible by groups (4)");
  EXPECT_NE(errorOf(infer(OpKind::Conv2d, {image},
                          {{"filters", int64_t{4}},
                           {"kernel", pair(3, 3)},
                           {"stride", pair(2, 2)},
                           {"pad", AttrValue("same")}}))
                .find("needs stride 1"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Conv2d, {{n(1), n(1), n(4), n(4)}},
                          {{"filters", int64_t{1}}, {"kernel", pair(5, 5)}}))
                .find("spans"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Conv2d, {{n(1), n(4)}},
                          {{"filters", int64_t{1}}, {"kernel", pair(1, 1)}}))
                .find("rank 4"),
            std::string::npos);
  EXPECT_NE(
      errorOf(infer(OpKind::Conv2d, {image}, {{"filters", int64_t{1}}, {"kernel", pair(3, 0)}}))
          .find("kernel must be positive"),
      std::string::npos);
}

TEST(ShapeRules, ConvAndPoolCarrySymbolicSpatialDimsOnlyWhenSizeIsKept) {
  Shape image = {s("N"), n(3), s("H"), s("W")};
  EXPECT_EQ(shapeOf(infer(OpKind::Conv2d, {image},
                          {{"filters", int64_t{8}}, {"kernel", pair(3, 3)}, {"pad", pair(1, 1)}})),
            "[N, 8, H, W]");
  EXPECT_EQ(
      shapeOf(infer(OpKind::Conv2d, {image},
                    {{"filters", int64_t{8}}, {"kernel", pair(5, 5)}, {"pad", AttrValue("same")}})),
      "[N, 8, H, W]");
  EXPECT_NE(
      errorOf(infer(OpKind::Conv2d, {image}, {{"filters", int64_t{8}}, {"kernel", pair(3, 3)}}))
          .find("needs a known height"),
      std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::MaxPool, {image}, {{"kernel", pair(2, 2)}})).find("known height"),
            std::string::npos);
}

TEST(ShapeRules, Pooling) {
  Shape image = {s("N"), n(16), n(10), n(10)};
  EXPECT_EQ(shapeOf(infer(OpKind::MaxPool, {image}, {{"kernel", pair(2, 2)}})), "[N, 16, 5, 5]");
  EXPECT_EQ(
      shapeOf(infer(OpKind::MaxPool, {image}, {{"kernel", pair(3, 3)}, {"stride", pair(2, 2)}})),
      "[N, 16, 4, 4]");
  EXPECT_EQ(shapeOf(infer(OpKind::AvgPool, {image},
                          {{"kernel", pair(3, 3)}, {"stride", pair(1, 1)}, {"pad", pair(1, 1)}})),
            "[N, 16, 10, 10]");
  EXPECT_EQ(shapeOf(infer(OpKind::AvgPool, {image}, {{"kernel", pair(3, 2)}})), "[N, 16, 3, 5]");
  EXPECT_NE(errorOf(infer(OpKind::MaxPool, {image}, {{"kernel", pair(3, 3)}, {"pad", pair(2, 2)}}))
                .find("at most half the kernel"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::MaxPool, {image}, {{"kernel", pair(11, 11)}})).find("spans"),
            std::string::npos);
  EXPECT_EQ(shapeOf(infer(OpKind::GlobalAvgPool, {image})), "[N, 16, 1, 1]");
  EXPECT_NE(errorOf(infer(OpKind::GlobalAvgPool, {{n(2), n(3)}})).find("rank 4"),
            std::string::npos);
}

TEST(ShapeRules, Broadcasting) {
  auto shape = [](const Shape& a, const Shape& b) {
    auto out = broadcastShapes(a, b);
    if (auto* reason = std::get_if<std::string>(&out))
      return "error: " + *reason;
    return formatShape(std::get<Shape>(out));
  };
  EXPECT_EQ(shape({n(2), n(3)}, {n(2), n(3)}), "[2, 3]");
  EXPECT_EQ(shape({n(2), n(3)}, {n(3)}), "[2, 3]");
  EXPECT_EQ(shape({n(1)}, {n(4), n(1), n(5)}), "[4, 1, 5]");
  EXPECT_EQ(shape({s("N"), n(8), n(4), n(4)}, {n(8), n(1), n(1)}), "[N, 8, 4, 4]");
  EXPECT_EQ(shape({s("N"), n(8), n(4), n(4)}, {s("N"), n(8), n(1), n(1)}), "[N, 8, 4, 4]");
  EXPECT_EQ(shape({s("N"), n(3)}, {n(1), n(3)}), "[N, 3]");
  EXPECT_EQ(shape({s("N"), n(3)}, {n(5), n(3)}), "[5, 3]"); // N must be 5 or 1 at run time
  EXPECT_EQ(shape({n(2), n(3)}, {n(4), n(3)}), "error: 2 and 4 differ and neither is 1");
  EXPECT_EQ(shape({s("N")}, {s("M")}), "error: the symbols N and M may differ");
  EXPECT_EQ(errorOf(infer(OpKind::Add, {{s("N"), n(10)}, {s("N"), n(20)}})),
            "add cannot broadcast f32[N, 10] and f32[N, 20]: 10 and 20 differ and neither is 1");
  EXPECT_EQ(shapeOf(infer(OpKind::Mul, {{s("N"), n(8), n(4), n(4)}, {s("N"), n(8), n(1), n(1)}})),
            "[N, 8, 4, 4]");
}

TEST(ShapeRules, LayersWithoutWindows) {
  Shape image = {s("N"), n(16), n(5), n(5)};
  EXPECT_EQ(shapeOf(infer(OpKind::Flatten, {image})), "[N, 400]");
  EXPECT_EQ(shapeOf(infer(OpKind::Flatten, {{s("N"), s("T")}})), "[N, T]");
  EXPECT_EQ(shapeOf(infer(OpKind::Flatten, {{s("N"), n(1), s("T")}})), "[N, T]");
  EXPECT_NE(errorOf(infer(OpKind::Flatten, {{s("N"), n(2), s("T")}})).find("cannot multiply"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Flatten, {{n(3)}})).find("rank 2 or more"), std::string::npos);
  auto bn = infer(OpKind::BatchNorm, {image});
  EXPECT_EQ(shapeOf(bn), "[N, 16, 5, 5]");
  EXPECT_EQ(paramsOf(bn), "weight[16] bias[16] running_mean[16] running_var[16] ");
  auto maxout = infer(OpKind::Maxout, {{s("N"), n(400)}}, {{"units", int64_t{120}}});
  EXPECT_EQ(shapeOf(maxout), "[N, 120]");
  EXPECT_EQ(paramsOf(maxout), "weight[240, 400] bias[240] ");
  EXPECT_EQ(paramsOf(infer(OpKind::Maxout, {{n(1), n(4)}},
                           {{"units", int64_t{3}}, {"pieces", int64_t{5}}})),
            "weight[15, 4] bias[15] ");
  EXPECT_EQ(shapeOf(infer(OpKind::Softmax, {{s("N"), n(10)}})), "[N, 10]");
  EXPECT_EQ(shapeOf(infer(OpKind::LogSoftmax, {{s("N"), n(10)}}, {{"axis", int64_t{0}}})),
            "[N, 10]");
  EXPECT_EQ(errorOf(infer(OpKind::Softmax, {{s("N"), n(10)}}, {{"axis", int64_t{2}}})),
            "axis 2 is out of range for f32[N, 10] of rank 2; expected -2 to 1");
  EXPECT_NE(errorOf(infer(OpKind::Dropout, {{n(1)}}, {{"p", 1.5}})).find("between 0 and 1"),
            std::string::npos);
}

TEST(ShapeRules, Concat) {
  EXPECT_EQ(shapeOf(infer(OpKind::Concat,
                          {{s("N"), n(3), n(8)}, {s("N"), n(5), n(8)}, {s("N"), n(1), n(8)}})),
            "[N, 9, 8]");
  EXPECT_EQ(shapeOf(infer(OpKind::Concat, {{s("N"), n(3), n(8)}, {s("N"), n(3), n(2)}},
                          {{"axis", int64_t{-1}}})),
            "[N, 3, 10]");
  EXPECT_EQ(shapeOf(infer(OpKind::Concat, {{s("N"), n(3)}})), "[N, 3]");
  auto mismatch = infer(OpKind::Concat, {{s("N"), n(3), n(8)}, {s("N"), n(3), n(9)}});
  EXPECT_EQ(std::get<InferError>(mismatch).operand, 1);
  EXPECT_NE(errorOf(mismatch).find("differ in axis 2"), std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Concat, {{s("N"), n(3)}, {s("N"), n(3)}}, {{"axis", int64_t{0}}}))
                .find("known sizes"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Concat, {{n(3)}, {n(3), n(1)}}, {{"axis", int64_t{0}}}))
                .find("same rank"),
            std::string::npos);
}

TEST(ShapeRules, Activations) {
  Shape x = {s("N"), n(4), n(6), n(6)};
  for (const OpInfo& op : allOps()) {
    if (!op.has(kActivation) || op.kind == OpKind::Clamp)
      continue;
    EXPECT_EQ(shapeOf(infer(op.kind, {x})), "[N, 4, 6, 6]") << op.name;
  }
  EXPECT_EQ(shapeOf(infer(OpKind::Clamp, {x}, {{"min", 0.0}, {"max", 6.0}})), "[N, 4, 6, 6]");
  EXPECT_EQ(paramsOf(infer(OpKind::Prelu, {x})), "weight[1] ");
  EXPECT_EQ(paramsOf(infer(OpKind::Prelu, {x}, {{"per_channel", true}})), "weight[4] ");
  EXPECT_NE(errorOf(infer(OpKind::Prelu, {{n(5)}}, {{"per_channel", true}})).find("rank 2 or more"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Clamp, {x}, {{"min", 2.0}, {"max", 1.0}})).find("greater than"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Celu, {x}, {{"alpha", 0.0}})).find("must not be 0"),
            std::string::npos);
  EXPECT_NE(errorOf(infer(OpKind::Softplus, {x}, {{"beta", 0.0}})).find("must not be 0"),
            std::string::npos);
}

} // namespace
} // namespace nnc::ir
