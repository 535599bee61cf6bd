// JIT-compiled activation loops on every ISA this CPU has: tail lengths, in place, special
// values, a guard page after the buffers, all against a double-precision reference.
#include "compiler/codegen/activation_kernels.h"
#include "compiler/codegen/unary_loop.h"
#include "compiler/jit/jit.h"

#include <gtest/gtest.h>
#include <llvm/IR/LLVMContext.h>

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace nnc::codegen {
namespace {

using Kernel = void (*)(const float*, float*, int64_t);

/// Attribute values by name for one activation instance; defaults for the rest.
using Given = std::vector<std::pair<std::string_view, ir::AttrValue>>;

std::vector<ir::AttrValue> attrsFor(ir::OpKind op, const Given& given) {
  std::vector<ir::AttrValue> attrs;
  for (const ir::ArgSpec* spec : ir::opInfo(op).attrSpecs()) {
    auto it = std::find_if(given.begin(), given.end(),
                           [&](const auto& g) { return g.first == spec->name; });
    attrs.push_back(it != given.end() ? it->second : *spec->defaultValue);
  }
  return attrs;
}

double attr(ir::OpKind op, const std::vector<ir::AttrValue>& attrs, std::string_view name) {
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
  case ir::OpKind::LeakyRelu:
    return xd >= 0 ? xd : ad("alpha") * xd;
  case ir::OpKind::HardTanh:
  case ir::OpKind::Clamp:
    return clampd(xd, ad("min"), ad("max"));
  case ir::OpKind::ThresholdedRelu:
    return std::isnan(xd) ? xd : xd > ad("alpha") ? xd : 0;
  case ir::OpKind::HardSigmoid:
    return clampd(ad("alpha") * xd + ad("beta"), 0, 1);
  case ir::OpKind::HardSwish: {
    double gate = clampd(xd / 6 + 0.5, 0, 1);
    return gate == 0 ? 0 : xd * gate;
  }
  case ir::OpKind::Softsign:
    return std::isinf(xd) ? std::copysign(1.0, xd) : xd / (1 + std::fabs(xd));
  default:
    ADD_FAILURE() << "no reference for " << ir::opInfo(op).name;
    return 0;
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

/// The error the kernels are allowed: none for the piecewise-linear and rational ones, one
/// rounding of a double result for the ones computed from exp and log.
double tolerance(ir::OpKind op) {
  switch (op) {
  case ir::OpKind::Sigmoid:
  case ir::OpKind::Tanh:
  case ir::OpKind::Elu:
  case ir::OpKind::Selu:
  case ir::OpKind::Celu:
  case ir::OpKind::Softplus:
  case ir::OpKind::Silu:
  case ir::OpKind::Mish:
  case ir::OpKind::Gelu:
    return 1;
  default:
    return 0;
  }
}

struct Case {
  std::string isa;
  ir::OpKind op;
  Given attrs;
  std::string label;
};

/// Compiles one kernel with a fresh JIT for its ISA.
class CompiledKernel {
public:
  CompiledKernel(const TargetIsa& isa, ir::OpKind op, const std::vector<ir::AttrValue>& attrs) {
    auto jit = jit::Jit::create(isa);
    if (!jit) {
      error_ = llvm::toString(jit.takeError());
      return;
    }
    jit_ = std::move(*jit);
    auto context = std::make_unique<llvm::LLVMContext>();
    auto module = std::make_unique<llvm::Module>("kernel", *context);
    jit_->prepare(*module);
    emitActivationKernel(*module, "kernel", isa, op, attrs);
    if (llvm::Error e =
            jit_->add(llvm::orc::ThreadSafeModule(std::move(module), std::move(context)))) {
      error_ = llvm::toString(std::move(e));
      return;
    }
    auto address = jit_->lookup("kernel");
    if (!address) {
      error_ = llvm::toString(address.takeError());
      return;
    }
    kernel_ = reinterpret_cast<Kernel>(*address);
  }
  Kernel kernel() const { return kernel_; }
  const std::string& error() const { return error_; }

private:
  std::unique_ptr<jit::Jit> jit_;
  Kernel kernel_ = nullptr;
  std::string error_;
};

std::vector<float> specialValues() {
  const float inf = std::numeric_limits<float>::infinity();
  const float big = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  const float small = std::numeric_limits<float>::min();
  return {0.0f,   -0.0f,      inf,   -inf,  std::numeric_limits<float>::quiet_NaN(),
          big,    -big,       tiny,  -tiny, small,
          -small, 1.0f,       -1.0f, 3.0f,  -3.0f,
          6.0f,   6.0000005f, 0.01f, -0.5f, 0.5f};
}

/// Specials first, then random floats over many magnitudes.
std::vector<float> inputs(size_t n, unsigned seed) {
  std::vector<float> values = specialValues();
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> mantissa(-1, 1);
  std::uniform_int_distribution<int> exponent(-30, 30);
  while (values.size() < n)
    values.push_back(std::ldexp(mantissa(random), exponent(random)));
  values.resize(n);
  return values;
}

class ActivationKernelTest : public testing::TestWithParam<Case> {
protected:
  void SetUp() override {
    const Case& c = GetParam();
    std::optional<TargetIsa> isa = isaByName(c.isa);
    ASSERT_TRUE(isa);
    if (std::string missing = missingHostFeatures(*isa); !missing.empty())
      GTEST_SKIP() << "this CPU lacks " << missing;
    isa_ = *isa;
    attrs_ = attrsFor(c.op, c.attrs);
    compiled_ = std::make_unique<CompiledKernel>(isa_, c.op, attrs_);
    ASSERT_TRUE(compiled_->kernel()) << compiled_->error();
  }

  void expectMatches(const std::vector<float>& in, const std::vector<float>& out, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      long double truth = reference(GetParam().op, attrs_, in[i]);
      ASSERT_LE(ulpError(out[i], truth), tolerance(GetParam().op))
          << "x = " << in[i] << " (bits 0x" << std::hex << std::bit_cast<uint32_t>(in[i])
          << std::dec << "): got " << out[i] << ", true value " << static_cast<double>(truth)
          << ", n = " << n;
    }
  }

  TargetIsa isa_;
  std::vector<ir::AttrValue> attrs_;
  std::unique_ptr<CompiledKernel> compiled_;
};

TEST_P(ActivationKernelTest, EveryTailLengthOutOfPlaceAndInPlace) {
  const size_t w = isa_.vectorWidth;
  for (size_t n : {size_t{0}, size_t{1}, w - 1, w, w + 1, 3 * w + 1, size_t{kUnroll} * w,
                   size_t{kUnroll} * w + w + 3, size_t{4099}}) {
    std::vector<float> in = inputs(n, static_cast<unsigned>(n));
    // Sentinels after the end catch any write past n.
    std::vector<float> out(n + 2 * w, 12345.0f);
    compiled_->kernel()(in.data(), out.data(), static_cast<int64_t>(n));
    expectMatches(in, out, n);
    for (size_t i = n; i < out.size(); ++i)
      ASSERT_EQ(out[i], 12345.0f) << "wrote past the end at " << i << ", n = " << n;
    std::vector<float> inPlace = in;
    compiled_->kernel()(inPlace.data(), inPlace.data(), static_cast<int64_t>(n));
    expectMatches(in, inPlace, n);
  }
}

TEST_P(ActivationKernelTest, NeverTouchesMemoryPastTheEnd) {
  // The buffers end exactly where an inaccessible page begins: a read or write past the last
  // element faults.
  // Pages: [input | guard | output | guard].
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* region =
      mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(region, MAP_FAILED);
  auto* bytes = static_cast<char*>(region);
  ASSERT_EQ(mprotect(bytes + page, page, PROT_NONE), 0);
  ASSERT_EQ(mprotect(bytes + 3 * page, page, PROT_NONE), 0);
  for (size_t n : {size_t{1}, size_t{3}, size_t{isa_.vectorWidth} + 1, size_t{37}}) {
    auto* in = reinterpret_cast<float*>(bytes + page) - n;      // ends at the first guard page
    auto* out = reinterpret_cast<float*>(bytes + 3 * page) - n; // ends at the second one
    std::vector<float> values = inputs(n, 7);
    std::memcpy(in, values.data(), n * sizeof(float));
    compiled_->kernel()(in, out, static_cast<int64_t>(n));
    std::vector<float> result(out, out + n);
    expectMatches(values, result, n);
  }
  munmap(region, 4 * page);
}

TEST_P(ActivationKernelTest, SweepOfTheWholeFloatRange) {
  // Every 65521st bit pattern (a prime stride, so all exponents and mantissa patterns mix).
  std::vector<float> in;
  for (uint64_t bits = 0; bits <= 0xffffffffu; bits += 65521)
    in.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  std::vector<float> out(in.size());
  compiled_->kernel()(in.data(), out.data(), static_cast<int64_t>(in.size()));
  expectMatches(in, out, in.size());
}

TEST_P(ActivationKernelTest, NegativeLengthDoesNothing) {
  float in[4] = {1, 2, 3, 4}, out[4] = {9, 9, 9, 9};
  compiled_->kernel()(in, out, -5);
  for (float v : out)
    EXPECT_EQ(v, 9);
}

std::vector<Case> allCases() {
  std::vector<Case> cases;
  for (std::string isa : {"avx512", "avx2", "sse"}) {
    for (const ir::OpInfo& op : ir::allOps()) {
      if (op.kind == ir::OpKind::Clamp) {
        cases.push_back({isa, op.kind, {{"min", -0.1}, {"max", 2.5}}, "clamp"});
        continue;
      }
      if (!op.has(ir::kActivation) || !hasActivationKernel(op.kind, attrsFor(op.kind, {})))
        continue;
      cases.push_back({isa, op.kind, {}, std::string(op.name)});
    }
    // Attributes other than the defaults.
    cases.push_back({isa, ir::OpKind::LeakyRelu, {{"alpha", -0.3}}, "leaky_relu_negative"});
    cases.push_back({isa, ir::OpKind::HardTanh, {{"min", -0.7}, {"max", 0.3}}, "hard_tanh_narrow"});
    cases.push_back({isa, ir::OpKind::ThresholdedRelu, {{"alpha", 0.1}}, "thresholded_relu_01"});
    cases.push_back(
        {isa, ir::OpKind::HardSigmoid, {{"alpha", 0.2}, {"beta", 0.4}}, "hard_sigmoid_onnx"});
    cases.push_back({isa, ir::OpKind::Gelu, {{"approximate", std::string("tanh")}}, "gelu_tanh"});
    cases.push_back({isa, ir::OpKind::Elu, {{"alpha", 0.5}}, "elu_05"});
    cases.push_back({isa, ir::OpKind::Celu, {{"alpha", 2.5}}, "celu_25"});
    cases.push_back({isa, ir::OpKind::Celu, {{"alpha", -0.5}}, "celu_negative"});
    cases.push_back(
        {isa, ir::OpKind::Softplus, {{"beta", 2.0}, {"threshold", 10.0}}, "softplus_beta2"});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Kernels, ActivationKernelTest, testing::ValuesIn(allCases()),
                         [](const testing::TestParamInfo<Case>& param) {
                           return param.param.isa + "_" + param.param.label;
                         });

TEST(TargetIsa, NamesAndHost) {
  EXPECT_FALSE(isaByName("avx1024"));
  std::optional<TargetIsa> host = isaByName("host");
  ASSERT_TRUE(host);
  EXPECT_EQ(missingHostFeatures(*host), "");
  EXPECT_EQ(isaByName("avx512")->vectorWidth, 16u);
  EXPECT_EQ(isaByName("avx2")->vectorWidth, 8u);
  EXPECT_EQ(isaByName("sse")->vectorWidth, 4u);
  EXPECT_EQ(missingHostFeatures(*isaByName("sse")), "");
}

} // namespace
} // namespace nnc::codegen
