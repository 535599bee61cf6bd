#include "compiler/passes/simplify_activations.h"

#include "compiler/ir/internal_error.h"
#include "compiler/passes/cleanup.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace nnc::passes {

namespace {

using ir::OpKind;

ir::AttrValue placeholder(const ir::ArgSpec& spec) {
  switch (spec.kind) {
  case ir::ArgKind::Int:
    return int64_t{0};
  case ir::ArgKind::Float:
    return 0.0;
  case ir::ArgKind::Bool:
    return false;
  case ir::ArgKind::String:
    return std::string(spec.choices.empty() ? std::string_view() : spec.choices.front());
  case ir::ArgKind::IntPair:
  case ir::ArgKind::Padding:
    return std::vector<int64_t>{0, 0};
  case ir::ArgKind::Tensor:
  case ir::ArgKind::Tensors:
    break;
  }
  throw InternalError("a tensor argument has no attribute value");
}

double realAttr(const ir::Node& node, std::string_view name) {
  return std::get<double>(node.attr(name));
}

void setAttr(ir::Node& node, std::string_view name, ir::AttrValue value) {
  int index = node.info().attrIndex(name);
  if (index < 0)
    throw InternalError(std::string(node.info().name) + " has no attribute " + std::string(name));
  node.attrs.at(static_cast<size_t>(index)) = std::move(value);
}

/// Makes `node` a fresh `op` node (default attributes, no weights) on the same operands, keeping
/// its result value, whose name and type stay (every rewrite here preserves the type).
void resetOp(ir::Node& node, OpKind op) {
  node.op = op;
  node.attrs = defaultAttrs(op);
  node.params.clear();
}

bool identical(const ir::AttrValue& a, const ir::AttrValue& b) {
  const auto* x = std::get_if<double>(&a);
  const auto* y = std::get_if<double>(&b);
  if (x && y)
    return std::bit_cast<uint64_t>(*x) == std::bit_cast<uint64_t>(*y);
  return a == b;
}

bool sameAttrs(const ir::Node& a, const ir::Node& b) {
  if (a.attrs.size() != b.attrs.size())
    return false;
  for (size_t i = 0; i < a.attrs.size(); ++i)
    if (!identical(a.attrs[i], b.attrs[i]))
      return false;
  return true;
}

// Clamp-like ops. relu, relu6, hard_tanh and clamp are all computed as
//   y = select(x < lo, lo, x); select(y > hi, hi, y)
// with the bounds rounded to float (relu's missing upper select is hi = +inf, which never
// fires), so NaN passes and -0 passes as -0 in each. Ranges keep the bounds as written and
// compare them as the kernels do, rounded to float.

constexpr float kInfF = std::numeric_limits<float>::infinity();

float rounded(double value) {
  return static_cast<float>(value);
}

bool sameFloat(double a, double b) {
  return std::bit_cast<uint32_t>(rounded(a)) == std::bit_cast<uint32_t>(rounded(b));
}

struct Range {
  double lo;
  double hi;
};

std::optional<Range> clampRange(const ir::Node& node) {
  switch (node.op) {
  case OpKind::Relu:
    return Range{0.0, std::numeric_limits<double>::infinity()};
  case OpKind::Relu6:
    return Range{0.0, 6.0};
  case OpKind::HardTanh:
  case OpKind::Clamp: {
    Range range{realAttr(node, "min"), realAttr(node, "max")};
    if (std::isnan(range.lo) || std::isnan(range.hi))
      return std::nullopt; // comparisons with NaN never fire: not a range
    return range;
  }
  default:
    return std::nullopt;
  }
}

/// clamp(clamp(x, inner), outer) = clamp(x, intersection) when the ranges overlap. Check by cases
/// on the inner select: x < lo1 gives lo1, which the outer clamp maps to max(lo1, lo2) (overlap
/// means lo1 <= hi2); x > hi1 likewise gives min(hi1, hi2); any other x (NaN included) meets the
/// outer comparisons alone, which against x >= lo1 fire exactly when the merged ones do. On a
/// tie the inner bound wins (the outer comparisons are strict and keep it), so a -0 / +0 tie
/// keeps the inner zero's sign. Disjoint ranges give nothing.
std::optional<Range> intersect(Range inner, Range outer) {
  Range merged{rounded(outer.lo) > rounded(inner.lo) ? outer.lo : inner.lo,
               rounded(outer.hi) < rounded(inner.hi) ? outer.hi : inner.hi};
  if (rounded(merged.lo) > rounded(merged.hi))
    return std::nullopt;
  if (merged.lo > merged.hi) // distinct reals that meet at one float: keep min <= max valid
    merged = Range{rounded(merged.lo), rounded(merged.hi)};
  return merged;
}

/// The op for a range: relu for [+0, inf], relu6 for [+0, 6], clamp otherwise. The same bits:
/// each computes the selects above with the same float bounds.
OpKind canonicalClamp(Range range) {
  float lo = rounded(range.lo), hi = rounded(range.hi);
  bool positiveZero = lo == 0 && !std::signbit(lo);
  if (positiveZero && hi == kInfF)
    return OpKind::Relu;
  if (positiveZero && hi == 6)
    return OpKind::Relu6;
  return OpKind::Clamp;
}

void becomeClamp(ir::Node& node, Range range) {
  OpKind op = canonicalClamp(range);
  resetOp(node, op);
  if (op == OpKind::Clamp) {
    setAttr(node, "min", range.lo);
    setAttr(node, "max", range.hi);
  }
}

/// The learned slopes of a prelu node, when the weights are loaded.
const std::vector<float>* slopes(const ir::Node& node, const PassContext& context) {
  if (!context.weight)
    return nullptr;
  for (const ir::Param& param : node.params)
    if (param.role == "weight")
      return context.weight(param.name);
  return nullptr;
}

/// One sweep of the rules over the graph; the use counts are kept current.
class Simplifier {
public:
  Simplifier(ir::Graph& graph, const PassContext& context) : graph_(graph), context_(context) {}

  bool sweep() {
    bool changed = false;
    uses_ = graph_.useCounts();
    for (ir::NodeId id = 0; id < graph_.nodes().size(); ++id) {
      if (uses_[graph_.node(id).result] == 0)
        continue; // dead, or made dead by this sweep: removed after it
      if (bypassIdentity(id) || knownPreluSlope(id) || canonicalize(id) || mergeChain(id) ||
          fuseGatedProduct(id)) {
        changed = true;
        uses_ = graph_.useCounts();
      }
    }
    return changed;
  }

private:
  /// (d) leaky_relu(x, alpha=1) → x: x >= 0 ? x : x·1, and x·1 is x (NaN and -0 included).
  /// A clamp whose bounds round to -inf and +inf → x: x < -inf and x > +inf never hold.
  /// Both return x bit for bit.
  bool bypassIdentity(ir::NodeId id) {
    const ir::Node& node = graph_.node(id);
    bool identity = false;
    if (node.op == OpKind::LeakyRelu) {
      identity = realAttr(node, "alpha") == 1;
    } else if (node.op == OpKind::HardTanh || node.op == OpKind::Clamp) {
      std::optional<Range> range = clampRange(node);
      identity = range && rounded(range->lo) == -kInfF && rounded(range->hi) == kInfF;
    }
    if (!identity)
      return false;
    graph_.replaceAllUses(node.result, node.operands.at(0));
    return true;
  }

  /// (e) prelu with one slope w, once weights are loaded → leaky_relu(alpha = w), without
  /// weights. prelu computes x·w in float; leaky_relu computes x·alpha in double and rounds once,
  /// and the product of two floats is exact in double, so the rounding is the same one.
  bool knownPreluSlope(ir::NodeId id) {
    const ir::Node& node = graph_.node(id);
    if (node.op != OpKind::Prelu || std::get<bool>(node.attr("per_channel")))
      return false;
    const std::vector<float>* slope = slopes(node, context_);
    if (!slope || slope->size() != 1)
      return false;
    double alpha = (*slope)[0];
    ir::Node& rewritten = graph_.mutableNode(id);
    resetOp(rewritten, OpKind::LeakyRelu);
    setAttr(rewritten, "alpha", alpha);
    return true;
  }

  /// (c) Canonical forms. These may give a zero of the other sign, never another value:
  ///  - leaky_relu(alpha=0) → relu: alpha·x is -0 where relu gives +0 (and at x = -inf the
  ///    kernel's 0·-inf is NaN, where the reference's limit, and relu, give 0);
  ///  - thresholded_relu(alpha=0) → relu: x > 0 ? x : 0 gives +0 for x = -0, relu -0;
  ///  - elu(alpha=0) → relu: 0·(exp(x) - 1) is -0 for x < 0, relu's +0;
  ///  - celu(alpha=1) → elu(alpha=1): max(0, x) + min(0, exp(x) - 1) is x for x > 0 and
  ///    exp(x) - 1 otherwise, which is elu's definition (the kernels agree bit for bit);
  ///  - hard_tanh and clamp → clamp, or relu6 / relu for [+0, 6] / [+0, inf]: the same selects
  ///    with the same float bounds, bit for bit.
  bool canonicalize(ir::NodeId id) {
    ir::Node& node = graph_.mutableNode(id);
    switch (node.op) {
    case OpKind::LeakyRelu:
    case OpKind::ThresholdedRelu:
    case OpKind::Elu:
      if (realAttr(node, "alpha") != 0)
        return false;
      resetOp(node, OpKind::Relu);
      return true;
    case OpKind::Celu:
      if (realAttr(node, "alpha") != 1)
        return false;
      resetOp(node, OpKind::Elu);
      setAttr(node, "alpha", 1.0);
      return true;
    case OpKind::HardTanh:
    case OpKind::Clamp: {
      std::optional<Range> range = clampRange(node);
      if (!range || canonicalClamp(*range) == node.op)
        return false;
      becomeClamp(node, *range);
      return true;
    }
    default:
      return false;
    }
  }

  /// (a) f(f(x)) → f(x) for an idempotent f with equal attributes, and (b) two clamp-like ops
  /// → one clamp over the intersection of their ranges (see intersect; disjoint ranges stay).
  /// When the inner node has no other user, the outer one is rewritten to compute from x and
  /// the inner one dies. Otherwise, only when the outer one adds nothing (its result equals the
  /// inner one's, as for f(f(x))), its users read the inner result and it dies.
  bool mergeChain(ir::NodeId id) {
    const ir::Node& outer = graph_.node(id);
    if (!outer.info().has(ir::kActivation) || outer.operands.size() != 1)
      return false;
    ir::ValueId middle = outer.operands[0];
    ir::NodeId innerId = graph_.value(middle).producer;
    if (innerId == ir::kNoNode)
      return false;
    const ir::Node& inner = graph_.node(innerId);
    std::optional<Range> outerRange = clampRange(outer), innerRange = clampRange(inner);
    std::optional<Range> merged;
    bool sameAsInner = false;
    if (outerRange && innerRange) {
      merged = intersect(*innerRange, *outerRange);
      if (!merged)
        return false;
      sameAsInner = sameFloat(merged->lo, innerRange->lo) && sameFloat(merged->hi, innerRange->hi);
    } else if (outer.info().has(ir::kIdempotent) && inner.op == outer.op &&
               sameAttrs(inner, outer) && inner.params.empty() && outer.params.empty()) {
      sameAsInner = true;
    } else {
      return false;
    }
    if (uses_[middle] == 1) {
      ir::Node& node = graph_.mutableNode(id);
      node.operands = inner.operands;
      if (merged)
        becomeClamp(node, *merged);
      return true;
    }
    if (!sameAsInner)
      return false;
    graph_.replaceAllUses(outer.result, middle);
    return true;
  }

  /// (f) The gated products imported models spell out, by their definitions in the reference:
  /// mul(x, sigmoid(x)) → silu(x), mul(x, hard_sigmoid(x)) with PyTorch's alpha = 1/6 and
  /// beta = 0.5 → hard_swish(x), mul(x, tanh(softplus(x))) with beta = 1 and threshold = 20 →
  /// mish(x). The fused kernel computes the same function with fewer roundings (so the last bit
  /// may differ, toward the exact value) and gives the limit at -inf where the product is
  /// -inf·0 = NaN. Both operands derive from the same x, so mul does not broadcast and its type
  /// is x's. The gate chain must have no other user; it dies.
  bool fuseGatedProduct(ir::NodeId id) {
    const ir::Node& mul = graph_.node(id);
    if (mul.op != OpKind::Mul || mul.operands.size() != 2)
      return false;
    for (size_t side = 0; side < 2; ++side) {
      ir::ValueId x = mul.operands[side], gate = mul.operands[1 - side];
      if (std::optional<OpKind> fused = gatedOp(x, gate)) {
        ir::Node& node = graph_.mutableNode(id);
        resetOp(node, *fused);
        node.operands = {x};
        return true;
      }
    }
    return false;
  }

  /// The op that mul(x, gate) is, when `gate` is one of the gates of x above.
  std::optional<OpKind> gatedOp(ir::ValueId x, ir::ValueId gate) const {
    const ir::Node* node = soleUseProducer(gate);
    if (!node)
      return std::nullopt;
    if (node->op == OpKind::Tanh) {
      const ir::Node* softplus = soleUseProducer(node->operands.at(0));
      if (softplus && softplus->op == OpKind::Softplus && softplus->operands.at(0) == x &&
          realAttr(*softplus, "beta") == 1 && realAttr(*softplus, "threshold") == 20)
        return OpKind::Mish;
      return std::nullopt;
    }
    if (node->operands.size() != 1 || node->operands[0] != x)
      return std::nullopt;
    if (node->op == OpKind::Sigmoid)
      return OpKind::Silu;
    if (node->op == OpKind::HardSigmoid && realAttr(*node, "alpha") == 1.0 / 6.0 &&
        realAttr(*node, "beta") == 0.5)
      return OpKind::HardSwish;
    return std::nullopt;
  }

  /// The node producing `value` when that node's result has exactly one use.
  const ir::Node* soleUseProducer(ir::ValueId value) const {
    ir::NodeId producer = graph_.value(value).producer;
    if (producer == ir::kNoNode || uses_[value] != 1)
      return nullptr;
    return &graph_.node(producer);
  }

  ir::Graph& graph_;
  const PassContext& context_;
  std::vector<int> uses_;
};

} // namespace

std::vector<ir::AttrValue> defaultAttrs(ir::OpKind op) {
  const ir::OpInfo& info = ir::opInfo(op);
  std::vector<const ir::ArgSpec*> specs = info.attrSpecs();
  std::vector<ir::AttrValue> attrs;
  for (const ir::ArgSpec* spec : specs)
    attrs.push_back(spec->defaultValue ? *spec->defaultValue : placeholder(*spec));
  // An argument that defaults to another one (maxpool's stride = kernel) copies its value.
  for (size_t i = 0; i < specs.size(); ++i)
    if (int from = info.attrIndex(specs[i]->defaultFrom);
        !specs[i]->defaultFrom.empty() && from >= 0)
      attrs[i] = attrs[static_cast<size_t>(from)];
  return attrs;
}

bool SimplifyActivations::run(ir::Graph& graph, const PassContext& context) {
  Simplifier simplifier(graph, context);
  bool changed = false;
  // Each rule removes a node or moves one to a simpler op that no rule turns back (prelu →
  // leaky_relu → relu, celu → elu, hard_tanh → clamp → relu6 / relu, mul → silu ...), so the
  // sweeps end.
  while (simplifier.sweep()) {
    changed = true;
    removeDeadNodes(graph);
  }
  return removeDeadNodes(graph) || changed;
}

} // namespace nnc::passes
