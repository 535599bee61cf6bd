#include "compiler/ir/op_table.h"

#include "compiler/ir/shape_rules.h"

#include "compiler/ir/internal_error.h"
#include <array>

#include <fmt/format.h>

namespace nnc::ir {

namespace {

ArgSpec tensor(std::string_view name) {
  return {name, ArgKind::Tensor, {}, {}, {}};
}
ArgSpec tensors(std::string_view name) {
  return {name, ArgKind::Tensors, {}, {}, {}};
}
ArgSpec required(std::string_view name, ArgKind kind) {
  return {name, kind, {}, {}, {}};
}
ArgSpec optional(std::string_view name, ArgKind kind, AttrValue value) {
  return {name, kind, std::move(value), {}, {}};
}
ArgSpec defaultsTo(std::string_view name, ArgKind kind, std::string_view other) {
  return {name, kind, {}, other, {}};
}
ArgSpec oneOf(std::string_view name, std::string value, std::vector<std::string_view> choices) {
  return {name, ArgKind::String, AttrValue(std::move(value)), {}, std::move(choices)};
}
/// An integer or [h, w] padding that may also be one of the strings in `choices`.
ArgSpec padding(std::string_view name, std::vector<std::string_view> choices) {
  return {name, ArgKind::Padding, AttrValue(std::vector<int64_t>{0, 0}), {}, std::move(choices)};
}
AttrValue pair(int64_t h, int64_t w) {
  return std::vector<int64_t>{h, w};
}

constexpr uint32_t kUnary = kElementwise | kActivation;
using M = Monotonicity;
using K = ArgKind;

std::vector<OpInfo> buildTable() {
  // clang-format off
  std::vector<OpInfo> ops = {
    // Layers
    {OpKind::Dense, "dense", {tensor("x"), required("units", K::Int), optional("bias", K::Bool, true)},
     {"weight", "bias"}, kHasParams, M::Never, inferDense, "fully connected layer over the last axis"},
    {OpKind::Conv2d, "conv2d",
     {tensor("x"), required("filters", K::Int), required("kernel", K::IntPair),
      optional("stride", K::IntPair, pair(1, 1)), padding("pad", {"same"}),
      optional("dilation", K::IntPair, pair(1, 1)), optional("groups", K::Int, int64_t{1}),
      optional("bias", K::Bool, true)},
     {"weight", "bias"}, kHasParams, M::Never, inferConv2d, "2-D convolution over NCHW"},
    {OpKind::MaxPool, "maxpool",
     {tensor("x"), required("kernel", K::IntPair), defaultsTo("stride", K::IntPair, "kernel"),
      optional("pad", K::IntPair, pair(0, 0))},
     {}, 0, M::Never, inferPool2d, "2-D max pooling (padding is -inf)"},
    {OpKind::AvgPool, "avgpool",
     {tensor("x"), required("kernel", K::IntPair), defaultsTo("stride", K::IntPair, "kernel"),
      optional("pad", K::IntPair, pair(0, 0))},
     {}, 0, M::Never, inferPool2d, "2-D average pooling (padding counts as zeros)"},
    {OpKind::GlobalAvgPool, "global_avgpool", {tensor("x")}, {}, 0, M::Never, inferGlobalPool,
     "mean over H and W: [N, C, H, W] -> [N, C, 1, 1]"},
    {OpKind::BatchNorm, "batchnorm", {tensor("x"), optional("eps", K::Float, 1e-5)},
     {"weight", "bias", "running_mean", "running_var"},
     kElementwise | kCheap | kHasParams, M::Never,
     inferBatchNorm,
     "inference batch normalization over axis 1"},
    {OpKind::Maxout, "maxout",
     {tensor("x"), required("units", K::Int), optional("pieces", K::Int, int64_t{2})},
     {"weight", "bias"}, kHasParams, M::Never, inferMaxout,
     "dense layer with units*pieces outputs, then the max over each group of pieces"},
    {OpKind::Flatten, "flatten", {tensor("x")}, {}, 0, M::Never, inferFlatten,
     "[N, ...] -> [N, product of the rest]"},
    {OpKind::Add, "add", {tensor("a"), tensor("b")}, {},
     kElementwise | kCheap | kBroadcast | kCommutative,
     M::Never, inferBroadcast, "a + b with broadcasting"},
    {OpKind::Mul, "mul", {tensor("a"), tensor("b")}, {},
     kElementwise | kCheap | kBroadcast | kCommutative,
     M::Never, inferBroadcast, "a * b with broadcasting"},
    {OpKind::Concat, "concat", {tensors("inputs"), optional("axis", K::Int, int64_t{1})}, {}, 0,
     M::Never, inferConcat, "join values along an axis"},
    {OpKind::Softmax, "softmax", {tensor("x"), optional("axis", K::Int, int64_t{-1})}, {}, 0,
     M::Never, inferAxiswise, "exp(x - max) / sum(exp(x - max)) along an axis"},
    {OpKind::LogSoftmax, "log_softmax", {tensor("x"), optional("axis", K::Int, int64_t{-1})}, {},
     0, M::Never, inferAxiswise, "x - max - log(sum(exp(x - max))) along an axis"},
    {OpKind::Dropout, "dropout", {tensor("x"), optional("p", K::Float, 0.5)}, {},
     kElementwise | kCheap | kIdentityAtInference,
     M::Always, inferDropout, "identity at inference"},

    // Activations
    {OpKind::Relu, "relu", {tensor("x")}, {}, kUnary | kCheap | kIdempotent, M::Always, inferUnary,
     "max(x, 0)"},
    {OpKind::Relu6, "relu6", {tensor("x")}, {},
     kUnary | kCheap | kIdempotent, M::Always, inferUnary,
     "min(max(x, 0), 6)"},
    {OpKind::LeakyRelu, "leaky_relu", {tensor("x"), optional("alpha", K::Float, 0.01)}, {},
     kUnary | kCheap,
     M::IfAlphaNonNegative, inferUnary, "x >= 0 ? x : alpha*x"},
    {OpKind::Prelu, "prelu", {tensor("x"), optional("per_channel", K::Bool, false)}, {"weight"},
     kUnary | kCheap | kHasParams, M::IfWeightNonNegative, inferPrelu,
     "x >= 0 ? x : w*x, one learned slope or one per channel (axis 1)"},
    {OpKind::Elu, "elu", {tensor("x"), optional("alpha", K::Float, 1.0)}, {}, kUnary,
     M::IfAlphaNonNegative, inferUnary, "x > 0 ? x : alpha*(exp(x) - 1)"},
    {OpKind::Selu, "selu", {tensor("x")}, {}, kUnary, M::Always, inferUnary,
     "lambda * elu(x, alpha) with the self-normalizing constants"},
    {OpKind::Celu, "celu", {tensor("x"), optional("alpha", K::Float, 1.0)}, {}, kUnary, M::Always,
     inferCelu, "max(0, x) + min(0, alpha*(exp(x/alpha) - 1))"},
    {OpKind::Sigmoid, "sigmoid", {tensor("x")}, {}, kUnary, M::Always, inferUnary,
     "1 / (1 + exp(-x))"},
    {OpKind::Tanh, "tanh", {tensor("x")}, {}, kUnary, M::Always, inferUnary, "tanh(x)"},
    {OpKind::Softplus, "softplus",
     {tensor("x"), optional("beta", K::Float, 1.0), optional("threshold", K::Float, 20.0)}, {},
     kUnary, M::IfBetaPositive, inferSoftplus,
     "beta*x > threshold ? x : log(1 + exp(beta*x)) / beta"},
    {OpKind::Softsign, "softsign", {tensor("x")}, {}, kUnary, M::Always, inferUnary,
     "x / (1 + |x|)"},
    {OpKind::Gelu, "gelu", {tensor("x"), oneOf("approximate", "none", {"none", "tanh"})}, {},
     kUnary,
     M::Never, inferUnary, "x * Phi(x), exactly (\"none\") or with the tanh approximation"},
    {OpKind::Silu, "silu", {tensor("x")}, {}, kUnary, M::Never, inferUnary, "x * sigmoid(x)"},
    {OpKind::Mish, "mish", {tensor("x")}, {}, kUnary, M::Never, inferUnary,
     "x * tanh(softplus(x))"},
    {OpKind::HardSigmoid, "hard_sigmoid",
     {tensor("x"), optional("alpha", K::Float, 1.0 / 6.0), optional("beta", K::Float, 0.5)}, {},
     kUnary | kCheap, M::IfAlphaNonNegative, inferUnary, "clamp(alpha*x + beta, 0, 1)"},
    {OpKind::HardSwish, "hard_swish", {tensor("x")}, {}, kUnary | kCheap, M::Never, inferUnary,
     "x * hard_sigmoid(x)"},
    {OpKind::HardTanh, "hard_tanh",
     {tensor("x"), optional("min", K::Float, -1.0), optional("max", K::Float, 1.0)}, {},
     kUnary | kCheap | kIdempotent, M::Always, inferClampLike, "clamp(x, min, max)"},
    {OpKind::Clamp, "clamp", {tensor("x"), required("min", K::Float), required("max", K::Float)}, {},
     kUnary | kCheap | kIdempotent, M::Always, inferClampLike, "clamp(x, min, max)"},
    {OpKind::ThresholdedRelu, "thresholded_relu", {tensor("x"), optional("alpha", K::Float, 1.0)},
     {}, kUnary | kCheap, M::IfAlphaNonNegative, inferUnary, "x > alpha ? x : 0"},
    {OpKind::Identity, "identity", {tensor("x")}, {},
     kUnary | kCheap | kIdempotent | kIdentityAtInference,
     M::Always, inferUnary, "x"},
  };
  // clang-format on
  return ops;
}

const std::vector<OpInfo>& table() {
  static const std::vector<OpInfo> ops = [] {
    std::vector<OpInfo> built = buildTable();
    // The table is indexed by OpKind: its order must be the order of ops.def.
    static constexpr std::array<std::string_view, kNumOps> kNames = {
#define NNC_OP(kind, name) name,
#include "compiler/ir/ops.def"
    };
    if (built.size() != kNumOps)
      throw InternalError("op table and ops.def disagree on the number of operators");
    for (size_t i = 0; i < kNumOps; ++i)
      if (static_cast<size_t>(built[i].kind) != i || built[i].name != kNames[i])
        throw InternalError(fmt::format("op table entry {} is out of order", built[i].name));
    return built;
  }();
  return ops;
}

} // namespace

const AttrValue& InferContext::attr(std::string_view name) const {
  int index = op_.attrIndex(name);
  if (index < 0 || static_cast<size_t>(index) >= attrs_.size())
    throw InternalError(fmt::format("{} has no attribute '{}'", op_.name, name));
  return attrs_[index];
}

std::vector<const ArgSpec*> OpInfo::attrSpecs() const {
  std::vector<const ArgSpec*> specs;
  for (const ArgSpec& arg : args)
    if (!arg.isTensor())
      specs.push_back(&arg);
  return specs;
}

int OpInfo::attrIndex(std::string_view attrName) const {
  int index = 0;
  for (const ArgSpec& arg : args) {
    if (arg.isTensor())
      continue;
    if (arg.name == attrName)
      return index;
    ++index;
  }
  return -1;
}

std::string OpInfo::signature() const {
  std::string out = std::string(name) + "(";
  for (size_t i = 0; i < args.size(); ++i) {
    const ArgSpec& arg = args[i];
    out += i ? ", " : "";
    out += arg.name;
    if (arg.kind == ArgKind::Tensors)
      out += "...";
    if (arg.defaultValue)
      out += "=" + formatAttr(*arg.defaultValue);
    else if (!arg.defaultFrom.empty())
      out += "=" + std::string(arg.defaultFrom);
  }
  return out + ")";
}

const OpInfo& opInfo(OpKind kind) {
  return table()[static_cast<size_t>(kind)];
}

const OpInfo* findOp(std::string_view name) {
  for (const OpInfo& op : table())
    if (op.name == name)
      return &op;
  return nullptr;
}

std::span<const OpInfo> allOps() {
  return table();
}

std::vector<std::string> opNames() {
  std::vector<std::string> names;
  for (const OpInfo& op : table())
    names.emplace_back(op.name);
  return names;
}

} // namespace nnc::ir
