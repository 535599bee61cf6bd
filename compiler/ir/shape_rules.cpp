#include "compiler/ir/shape_rules.h"

#include <fmt/format.h>

#include <limits>

namespace nnc::ir {

namespace {

InferError fail(std::string message, std::string_view argName = {}) {
  return InferError{std::move(message), argName};
}

InferError failAtOperand(std::string message, int operand) {
  return InferError{std::move(message), {}, operand};
}

/// The argument name of the first operand, where rank and shape errors point.
std::string_view firstOperandName(const InferContext& ctx) {
  return ctx.op().args.front().name;
}

/// "rank 4" check with a message naming the operator and the type it got.
std::optional<InferError> expectRank(const InferContext& ctx, int minRank, int maxRank,
                                     std::string_view what) {
  const TensorType& x = ctx.operand(0);
  if (x.rank() >= minRank && x.rank() <= maxRank)
    return std::nullopt;
  return fail(
      fmt::format("{} expects {}, got {} of rank {}", ctx.op().name, what, x.str(), x.rank()),
      firstOperandName(ctx));
}

/// A dimension that sizes a weight must be known.
std::optional<InferError> expectKnown(const InferContext& ctx, int axis, std::string_view role) {
  const TensorType& x = ctx.operand(0);
  const Dim& dim = x.shape[axis];
  if (dim.isKnown())
    return std::nullopt;
  return fail(fmt::format("{} needs a known size for {} of {} (it sets the weight shape), not the "
                          "symbol '{}'",
                          ctx.op().name, role, x.str(), dim.symbolName()),
              firstOperandName(ctx));
}

std::optional<InferError> expectPositive(const InferContext& ctx, std::string_view name) {
  int64_t value = ctx.intAttr(name);
  if (value > 0)
    return std::nullopt;
  return fail(fmt::format("{} must be positive, got {}", name, value), name);
}

std::optional<InferError> expectPositivePair(const InferContext& ctx, std::string_view name,
                                             int64_t minimum) {
  std::vector<int64_t> pair = ctx.pairAttr(name);
  for (int64_t v : pair)
    if (v < minimum)
      return fail(fmt::format("{} must be {} in both dimensions, got [{}, {}]", name,
                              minimum == 0 ? "non-negative" : "positive", pair[0], pair[1]),
                  name);
  return std::nullopt;
}

bool multiplyOverflows(int64_t a, int64_t b) {
  return b != 0 && a > std::numeric_limits<int64_t>::max() / b;
}

/// Shared by dense and maxout: `outputs` units over the last axis.
InferOutcome inferLinear(const InferContext& ctx, int64_t units, int64_t outputs, bool bias) {
  const TensorType& x = ctx.operand(0);
  if (x.rank() > 3) {
    std::string hint = "flatten it first";
    if (int64_t rest = knownElementCount(Shape(x.shape.begin() + 1, x.shape.end())); rest > 0)
      hint =
          fmt::format("flatten it first: flatten(...) gives f32[{}, {}]", x.shape[0].str(), rest);
    return fail(fmt::format("{} expects a value of rank 1 to 3 and works on its last axis, got {} "
                            "of rank {}; {}",
                            ctx.op().name, x.str(), x.rank(), hint),
                firstOperandName(ctx));
  }
  if (auto error = expectKnown(ctx, x.rank() - 1, "the last axis"))
    return *error;
  int64_t in = x.shape.back().size();
  Inferred result{x, {}};
  result.type.shape.back() = Dim::known(units);
  const std::vector<std::string_view>& roles = ctx.op().params; // {"weight", "bias"}
  result.params.emplace_back(roles.at(0), Shape{Dim::known(outputs), Dim::known(in)});
  if (bias)
    result.params.emplace_back(roles.at(1), Shape{Dim::known(outputs)});
  return result;
}

/// One spatial axis of a window operation (conv or pool). `axis` is 2 (height) or 3 (width).
std::variant<Dim, InferError> windowAxis(const InferContext& ctx, int axis, int64_t kernel,
                                         int64_t stride, int64_t padTotal, int64_t dilation) {
  const TensorType& x = ctx.operand(0);
  const Dim& in = x.shape[axis];
  const char* axisName = axis == 2 ? "height" : "width"; // for the symbolic case
  if (in.isSymbol()) {
    // The output equals the input exactly when the window keeps the size; otherwise the size
    // would be an expression of the symbol, which this version does not represent.
    if (stride == 1 && dilation * (kernel - 1) == padTotal)
      return in;
    return fail(fmt::format("{} needs a known {} for this kernel, stride and padding, got the "
                            "symbol '{}' in {}",
                            ctx.op().name, axisName, in.symbolName(), x.str()),
                firstOperandName(ctx));
  }
  std::optional<int64_t> out = windowOutputSize(in.size(), kernel, stride, padTotal, dilation);
  if (!out)
    return fail(fmt::format("the {} {} spans {} {} but the input {} has {}{}", ctx.op().name,
                            ctx.op().has(kHasParams) ? "kernel" : "window",
                            dilation * (kernel - 1) + 1, axis == 2 ? "rows" : "columns", x.str(),
                            in.size(),
                            padTotal ? fmt::format(" ({} with padding)", in.size() + padTotal)
                                     : std::string()),
                "kernel");
  return Dim::known(*out);
}

} // namespace

std::variant<Shape, std::string> broadcastShapes(const Shape& a, const Shape& b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the right; a missing dimension acts as 1.
    const Dim one = Dim::known(1);
    const Dim& da = i < rank - a.size() ? one : a[i - (rank - a.size())];
    const Dim& db = i < rank - b.size() ? one : b[i - (rank - b.size())];
    if (da == db || db == one) {
      out[i] = da;
    } else if (da == one) {
      out[i] = db;
    } else if (da.isKnown() && db.isKnown()) {
      return fmt::format("{} and {} differ and neither is 1", da.str(), db.str());
    } else if (da.isSymbol() && db.isSymbol()) {
      return fmt::format("the symbols {} and {} may differ", da.str(), db.str());
    } else {
      // A symbol against a known size k: the symbol must be k or 1 when the model runs.
      out[i] = da.isKnown() ? da : db;
    }
  }
  return out;
}

std::optional<int64_t> windowOutputSize(int64_t in, int64_t kernel, int64_t stride,
                                        int64_t padTotal, int64_t dilation) {
  int64_t span = dilation * (kernel - 1) + 1;
  if (in + padTotal < span)
    return std::nullopt;
  return (in + padTotal - span) / stride + 1;
}

std::pair<int64_t, int64_t> samePadding(int64_t kernel, int64_t dilation) {
  int64_t total = dilation * (kernel - 1);
  return {total / 2, total - total / 2};
}

InferOutcome inferDense(const InferContext& ctx) {
  if (auto error = expectPositive(ctx, "units"))
    return *error;
  int64_t units = ctx.intAttr("units");
  return inferLinear(ctx, units, units, ctx.boolAttr("bias"));
}

InferOutcome inferMaxout(const InferContext& ctx) {
  if (auto error = expectPositive(ctx, "units"))
    return *error;
  if (auto error = expectPositive(ctx, "pieces"))
    return *error;
  int64_t units = ctx.intAttr("units"), pieces = ctx.intAttr("pieces");
  if (multiplyOverflows(units, pieces) || units * pieces > kMaxDimSize)
    return fail(fmt::format("units * pieces would be larger than {}", kMaxDimSize), "pieces");
  return inferLinear(ctx, units, units * pieces, true);
}

InferOutcome inferConv2d(const InferContext& ctx) {
  if (auto error = expectRank(ctx, 4, 4, "an NCHW value of rank 4"))
    return *error;
  if (auto error = expectKnown(ctx, 1, "the channel axis 1"))
    return *error;
  for (std::string_view name : {"filters", "groups"})
    if (auto error = expectPositive(ctx, name))
      return *error;
  for (std::string_view name : {"kernel", "stride", "dilation"})
    if (auto error = expectPositivePair(ctx, name, 1))
      return *error;
  const TensorType& x = ctx.operand(0);
  int64_t channels = x.shape[1].size();
  int64_t filters = ctx.intAttr("filters"), groups = ctx.intAttr("groups");
  if (channels % groups != 0)
    return fail(fmt::format("the input channels ({}) of {} must be divisible by groups ({})",
                            channels, x.str(), groups),
                "groups");
  if (filters % groups != 0)
    return fail(fmt::format("filters ({}) must be divisible by groups ({})", filters, groups),
                "groups");
  std::vector<int64_t> kernel = ctx.pairAttr("kernel"), stride = ctx.pairAttr("stride"),
                       dilation = ctx.pairAttr("dilation");
  const AttrValue& pad = ctx.attr("pad");
  bool same = std::holds_alternative<std::string>(pad);
  if (same && (stride[0] != 1 || stride[1] != 1))
    return fail(fmt::format("pad=\"same\" needs stride 1, as in PyTorch, got stride [{}, {}]",
                            stride[0], stride[1]),
                "pad");
  if (!same)
    if (auto error = expectPositivePair(ctx, "pad", 0))
      return *error;
  Inferred result{x, {}};
  result.type.shape[1] = Dim::known(filters);
  for (int i = 0; i < 2; ++i) {
    int64_t padTotal =
        same ? dilation[i] * (kernel[i] - 1) : 2 * std::get<std::vector<int64_t>>(pad)[i];
    auto dim = windowAxis(ctx, 2 + i, kernel[i], stride[i], padTotal, dilation[i]);
    if (auto* error = std::get_if<InferError>(&dim))
      return *error;
    result.type.shape[2 + i] = std::get<Dim>(dim);
  }
  result.params.emplace_back("weight", Shape{Dim::known(filters), Dim::known(channels / groups),
                                             Dim::known(kernel[0]), Dim::known(kernel[1])});
  if (ctx.boolAttr("bias"))
    result.params.emplace_back("bias", Shape{Dim::known(filters)});
  return result;
}

InferOutcome inferPool2d(const InferContext& ctx) {
  if (auto error = expectRank(ctx, 4, 4, "an NCHW value of rank 4"))
    return *error;
  for (std::string_view name : {"kernel", "stride"})
    if (auto error = expectPositivePair(ctx, name, 1))
      return *error;
  if (auto error = expectPositivePair(ctx, "pad", 0))
    return *error;
  std::vector<int64_t> kernel = ctx.pairAttr("kernel"), stride = ctx.pairAttr("stride"),
                       pad = ctx.pairAttr("pad");
  for (int i = 0; i < 2; ++i)
    if (pad[i] > kernel[i] / 2)
      return fail(fmt::format("pad must be at most half the kernel, as in PyTorch: pad [{}, {}] "
                              "with kernel [{}, {}]",
                              pad[0], pad[1], kernel[0], kernel[1]),
                  "pad");
  Inferred result{ctx.operand(0), {}};
  for (int i = 0; i < 2; ++i) {
    auto dim = windowAxis(ctx, 2 + i, kernel[i], stride[i], 2 * pad[i], 1);
    if (auto* error = std::get_if<InferError>(&dim))
      return *error;
    result.type.shape[2 + i] = std::get<Dim>(dim);
  }
  return result;
}

InferOutcome inferGlobalPool(const InferContext& ctx) {
  if (auto error = expectRank(ctx, 4, 4, "an NCHW value of rank 4"))
    return *error;
  Inferred result{ctx.operand(0), {}};
  result.type.shape[2] = result.type.shape[3] = Dim::known(1);
  return result;
}

InferOutcome inferBatchNorm(const InferContext& ctx) {
  if (auto error = expectRank(ctx, 2, std::numeric_limits<int>::max(),
                              "a value of rank 2 or more with channels on axis 1"))
    return *error;
  if (auto error = expectKnown(ctx, 1, "the channel axis 1"))
    return *error;
  if (double eps = ctx.floatAttr("eps"); !(eps >= 0))
    return fail(fmt::format("eps must not be negative, got {}", eps), "eps");
  Shape channels{ctx.operand(0).shape[1]};
  Inferred result{ctx.operand(0), {}};
  for (std::string_view role : ctx.op().params)
    result.params.emplace_back(role, channels);
  return result;
}

InferOutcome inferFlatten(const InferContext& ctx) {
  if (auto error =
          expectRank(ctx, 2, std::numeric_limits<int>::max(), "a value [N, ...] of rank 2 or more"))
    return *error;
  const TensorType& x = ctx.operand(0);
  Shape rest(x.shape.begin() + 1, x.shape.end());
  Dim flat = Dim::known(1);
  int64_t known = 1;
  for (const Dim& dim : rest) {
    if (dim.isSymbol()) {
      if (flat.isSymbol())
        return fail(fmt::format("flatten cannot multiply the symbols {} and {} of {}",
                                flat.symbolName(), dim.symbolName(), x.str()),
                    firstOperandName(ctx));
      flat = dim;
    } else {
      if (multiplyOverflows(known, dim.size()) || known * dim.size() > kMaxDimSize)
        return fail(fmt::format("flatten of {} would have more than {} elements per row", x.str(),
                                kMaxDimSize),
                    firstOperandName(ctx));
      known *= dim.size();
    }
  }
  if (flat.isSymbol() && known != 1)
    return fail(fmt::format("flatten cannot multiply the symbol {} by {} in {}", flat.symbolName(),
                            known, x.str()),
                firstOperandName(ctx));
  if (flat.isKnown())
    flat = Dim::known(known);
  return Inferred{TensorType{{x.shape[0], flat}}, {}};
}

InferOutcome inferBroadcast(const InferContext& ctx) {
  const TensorType& a = ctx.operand(0);
  const TensorType& b = ctx.operand(1);
  auto shape = broadcastShapes(a.shape, b.shape);
  if (auto* reason = std::get_if<std::string>(&shape))
    return failAtOperand(
        fmt::format("{} cannot broadcast {} and {}: {}", ctx.op().name, a.str(), b.str(), *reason),
        1);
  return Inferred{TensorType{std::get<Shape>(shape)}, {}};
}

InferOutcome inferConcat(const InferContext& ctx) {
  auto operands = ctx.operands();
  const TensorType& first = operands[0];
  int rank = first.rank();
  int64_t axis = ctx.intAttr("axis");
  if (axis < -rank || axis >= rank)
    return fail(fmt::format("axis {} is out of range for {} of rank {}; expected {} to {}", axis,
                            first.str(), rank, -rank, rank - 1),
                "axis");
  if (axis < 0)
    axis += rank;
  Dim joined = first.shape[axis];
  for (size_t i = 1; i < operands.size(); ++i) {
    const TensorType& other = operands[i];
    if (other.rank() != rank)
      return failAtOperand(
          fmt::format("concat inputs must have the same rank: {} and {}", first.str(), other.str()),
          static_cast<int>(i));
    for (int d = 0; d < rank; ++d)
      if (d != axis && other.shape[d] != first.shape[d])
        return failAtOperand(fmt::format("concat inputs must have the same shape except along "
                                         "axis {}: {} and {} differ in axis {}",
                                         axis, first.str(), other.str(), d),
                             static_cast<int>(i));
    const Dim& add = other.shape[axis];
    if (joined.isSymbol() || add.isSymbol())
      return failAtOperand(fmt::format("concat needs known sizes along axis {}: {} and {}", axis,
                                       first.str(), other.str()),
                           static_cast<int>(i));
    if (joined.size() + add.size() > kMaxDimSize)
      return failAtOperand(
          fmt::format("concat along axis {} would be larger than {}", axis, kMaxDimSize),
          static_cast<int>(i));
    joined = Dim::known(joined.size() + add.size());
  }
  TensorType type = first;
  type.shape[axis] = joined;
  return Inferred{type, {}};
}

InferOutcome inferAxiswise(const InferContext& ctx) {
  const TensorType& x = ctx.operand(0);
  int64_t axis = ctx.intAttr("axis");
  if (axis < -x.rank() || axis >= x.rank())
    return fail(fmt::format("axis {} is out of range for {} of rank {}; expected {} to {}", axis,
                            x.str(), x.rank(), -x.rank(), x.rank() - 1),
                "axis");
  return Inferred{x, {}};
}

InferOutcome inferDropout(const InferContext& ctx) {
  double p = ctx.floatAttr("p");
  if (!(p >= 0 && p <= 1))
    return fail(fmt::format("p must be between 0 and 1, got {}", p), "p");
  return Inferred{ctx.operand(0), {}};
}

InferOutcome inferUnary(const InferContext& ctx) {
  return Inferred{ctx.operand(0), {}};
}

InferOutcome inferPrelu(const InferContext& ctx) {
  Inferred result{ctx.operand(0), {}};
  if (!ctx.boolAttr("per_channel")) {
    result.params.emplace_back("weight", Shape{Dim::known(1)});
    return result;
  }
  if (auto error = expectRank(ctx, 2, std::numeric_limits<int>::max(),
                              "a value of rank 2 or more with channels on axis 1 when per_channel "
                              "is true"))
    return *error;
  if (auto error = expectKnown(ctx, 1, "the channel axis 1"))
    return *error;
  result.params.emplace_back("weight", Shape{ctx.operand(0).shape[1]});
  return result;
}

InferOutcome inferCelu(const InferContext& ctx) {
  if (ctx.floatAttr("alpha") == 0)
    return fail("alpha must not be 0 (celu divides by it)", "alpha");
  return inferUnary(ctx);
}

InferOutcome inferSoftplus(const InferContext& ctx) {
  if (ctx.floatAttr("beta") == 0)
    return fail("beta must not be 0 (softplus divides by it)", "beta");
  return inferUnary(ctx);
}

InferOutcome inferClampLike(const InferContext& ctx) {
  double lo = ctx.floatAttr("min"), hi = ctx.floatAttr("max");
  if (lo > hi)
    return fail(fmt::format("min ({}) must not be greater than max ({})", lo, hi), "min");
  return inferUnary(ctx);
}

} // namespace nnc::ir
