#include "tools/accuracy/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nnc::accuracy {

static double attr(ir::OpKind op, const std::vector<ir::AttrValue>& attrs, std::string_view name) {
  return std::get<double>(attrs.at(ir::opInfo(op).attrIndex(name)));
}

/// The true function, following the language reference's definitions, in long double with the
/// C library's functions (written so that nothing cancels), with the limits at +-inf.
long double reference(ir::OpKind op, const std::vector<ir::AttrValue>& attrs, double input) {
  long double x = input;
  auto a = [&](std::string_view name) -> long double { return attr(op, attrs, name); };
  auto sigmoid = [](long double v) { return 1 / (1 + std::exp(-v)); };
  auto negligible = std::isinf(x) && x < 0; // x·(something -> 0) has the limit 0 here
  // The piecewise-linear and rational ones are defined by double arithmetic on the (double)
  // attributes, as the reference computes them: hard_sigmoid(-3) is exactly 0.
  double xd = input;
  auto ad = [&](std::string_view name) { return attr(op, attrs, name); };
  auto clampd = [](double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; };
  switch (op) {
  case ir::OpKind::Sigmoid:
    return sigmoid(x);
  case ir::OpKind::Tanh:
    return std::tanh(x);
  case ir::OpKind::Elu:
    return x > 0 ? x : a("alpha") * std::expm1(x);
  case ir::OpKind::Selu: {
    const long double lambda = 1.0507009873554804934193349852946L;
    const long double alpha = 1.6732632423543772848170429916717L;
    return lambda * (x > 0 ? x : alpha * std::expm1(x));
  }
  case ir::OpKind::Celu:
    return std::isnan(x)
               ? x
               : std::max(0.0L, x) + std::min(0.0L, a("alpha") * std::expm1(x / a("alpha")));
  case ir::OpKind::Softplus:
    return a("beta") * x > a("threshold") ? x : std::log1p(std::exp(a("beta") * x)) / a("beta");
  case ir::OpKind::Silu:
    return negligible ? 0 : x * sigmoid(x);
  case ir::OpKind::Mish:
    return negligible ? 0 : x * std::tanh(std::log1p(std::exp(x)));
  case ir::OpKind::Gelu: {
    if (std::get<std::string>(attrs.at(ir::opInfo(op).attrIndex("approximate"))) == "none")
      return negligible ? 0 : 0.5L * x * std::erfc(-x / std::sqrt(2.0L));
    long double z = 0.79788456080286535587989211986876L * (x + 0.044715L * x * x * x);
    return negligible ? 0 : x * sigmoid(2 * z);
  }
  case ir::OpKind::Identity:
    return xd;
  case ir::OpKind::Relu:
    return xd < 0 ? 0 : xd;
  case ir::OpKind::Relu6:
    return clampd(xd, 0, 6);
  case ir::OpKind::LeakyRelu: // alpha = 0: the limit at -inf is 0, not 0·-inf
    return xd >= 0 ? xd : ad("alpha") == 0 && std::isinf(xd) ? -0.0 : ad("alpha") * xd;
  case ir::OpKind::HardTanh:
  case ir::OpKind::Clamp:
    return clampd(xd, ad("min"), ad("max"));
  case ir::OpKind::ThresholdedRelu:
    return std::isnan(xd) ? xd : xd > ad("alpha") ? xd : 0;
  case ir::OpKind::HardSigmoid: // alpha = 0: beta clamped everywhere, ±inf included
    return clampd((ad("alpha") == 0 && std::isinf(xd) ? 0 : ad("alpha") * xd) + ad("beta"), 0, 1);
  case ir::OpKind::HardSwish: // x·hard_sigmoid(x): 0 up to -3, x from 3, else x(x + 3)/6
    return std::isnan(x) ? x : x <= -3 ? 0 : x >= 3 ? x : x * (x + 3) / 6;
  case ir::OpKind::Softsign:
    return std::isinf(xd) ? std::copysign(1.0, xd) : xd / (1 + std::fabs(xd));
  default:
    return std::numeric_limits<long double>::quiet_NaN(); // not an activation
  }
}

/// Distance in units in the last place of the float nearest the true value, beyond rounding:
/// 0 for the correctly rounded float. Results whose true value is below FLT_MIN may be 0.
double ulpError(float got, long double truth) {
  if (std::isnan(truth))
    return std::isnan(got) ? 0 : INFINITY;
  if (std::isnan(got))
    return INFINITY;
  float rounded = static_cast<float>(truth);
  if (got == rounded)
    return 0;
  if (got == 0 && std::fabs(truth) < std::numeric_limits<float>::min())
    return 0;
  if (std::isinf(rounded) || std::isinf(got))
    return INFINITY;
  double ulp = std::nextafter(std::fabs(rounded), INFINITY) - std::fabs(rounded);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - truth)) / ulp;
}

} // namespace nnc::accuracy
