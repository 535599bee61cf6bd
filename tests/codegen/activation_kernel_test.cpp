// JIT-compiled activation loops on every ISA this CPU has: tail lengths, in place, special
// values, a guard page after the buffers, all against a double-precision reference.
#include "compiler/codegen/activation_kernels.h"
#include "compiler/codegen/elementwise_loop.h"
#include "compiler/jit/compiled_activation.h"
#include "tools/accuracy/reference.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace nnc::codegen {
namespace {

using accuracy::reference;
using accuracy::ulpError;

/// Attribute values by name for one activation instance; defaults for the rest.
using Given = std::vector<std::pair<std::string_view, ir::AttrValue>>;

std::vector<ir::AttrValue> attrsFor(ir::OpKind op, const Given& given) {
  return jit::activationAttrs(op, given);
}

/// The error the kernels are allowed (docs/accuracy.md): none for the piecewise-linear and
/// rational ones, 2 ULP for the ones computed from exp and log, 4 for mish and exact gelu;
/// hard_swish 1.5 with fused multiply-adds and 2 with PyTorch's formula on SSE.
double tolerance(ir::OpKind op, const Given& attrs, const std::string& isa) {
  switch (op) {
  case ir::OpKind::HardSwish:
    return isa == "sse" ? 2 : 1.5;
  case ir::OpKind::Sigmoid:
  case ir::OpKind::Tanh:
  case ir::OpKind::Elu:
  case ir::OpKind::Selu:
  case ir::OpKind::Celu:
  case ir::OpKind::Softplus:
  case ir::OpKind::Silu:
    return 2;
  case ir::OpKind::Mish:
    return 4;
  case ir::OpKind::Gelu:
    return attrs.empty() ? 4 : 2; // approximate="none" is the default
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

/// gtest prints a parameter with this (instead of its bytes) in test names and failures.
void PrintTo(const Case& c, std::ostream* out) {
  *out << c.isa << " " << c.label;
}

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
    compiled_ = std::make_unique<jit::CompiledActivation>(isa_, c.op, attrs_);
    ASSERT_TRUE(compiled_->kernel()) << compiled_->error();
  }

  void expectMatches(const std::vector<float>& in, const std::vector<float>& out, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      long double truth = reference(GetParam().op, attrs_, in[i]);
      ASSERT_LE(ulpError(out[i], truth), tolerance(GetParam().op, GetParam().attrs, GetParam().isa))
          << "x = " << in[i] << " (bits 0x" << std::hex << std::bit_cast<uint32_t>(in[i])
          << std::dec << "): got " << out[i] << ", true value " << static_cast<double>(truth)
          << ", n = " << n;
    }
  }

  TargetIsa isa_;
  std::vector<ir::AttrValue> attrs_;
  std::unique_ptr<jit::CompiledActivation> compiled_;
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

TEST_P(ActivationKernelTest, EveryFloatWhereOnePlusExpStartsToRound) {
  // sigmoid, silu and gelu(tanh) divide by 1 + e^-v = 2^k·p + (1 + 2^k); from k = 24
  // (v near -16.6) 1 + 2^k is not a float, and its rounding alone would cost up to 2.4 ULP.
  // Every float there: for v = x, and for gelu's v = 1.6·(x + 0.045·x³) (k = 24 near x = -4.96).
  const ir::OpKind op = GetParam().op;
  if (op != ir::OpKind::Sigmoid && op != ir::OpKind::Silu && op != ir::OpKind::Gelu)
    GTEST_SKIP() << "not a quotient by 1 + e^-v";
  const bool gelu = op == ir::OpKind::Gelu;
  const float lo = gelu ? -5.1f : -17.5f, hi = gelu ? -4.8f : -16.0f;
  std::vector<float> in;
  for (float x = lo; x <= hi; x = std::nextafter(x, 0.0f))
    in.push_back(x);
  std::vector<float> out(in.size());
  compiled_->kernel()(in.data(), out.data(), static_cast<int64_t>(in.size()));
  expectMatches(in, out, in.size());
}

TEST_P(ActivationKernelTest, MinusZeroStaysMinusZero) {
  // x·sigmoid(v) has x's sign, as PyTorch's -0·0.5 = -0; a remainder's correction would add +0.
  const ir::OpKind op = GetParam().op;
  if (op != ir::OpKind::Silu && op != ir::OpKind::Gelu)
    GTEST_SKIP() << "not x times a positive factor";
  std::vector<float> in = {-0.0f, 0.0f}, out(in.size(), NAN);
  compiled_->kernel()(in.data(), out.data(), static_cast<int64_t>(in.size()));
  EXPECT_EQ(std::bit_cast<uint32_t>(out[0]), 0x80000000u) << out[0];
  EXPECT_EQ(std::bit_cast<uint32_t>(out[1]), 0u) << out[1];
}

TEST_P(ActivationKernelTest, LongOutputsFromAnyAlignment) {
  // Long enough for the streaming (non-temporal) main loop, with y at every offset within a
  // vector: the masked head, the aligned body and the tail must meet exactly. Checked at both
  // ends and at a stride in between.
  const size_t n = static_cast<size_t>(kStreamingFloats) + 37;
  std::vector<float> in = inputs(n, 11);
  const size_t w = isa_.vectorWidth;
  std::vector<float> storage(n + 3 * w, 12345.0f);
  for (size_t shift : {size_t{0}, size_t{1}, w - 1}) {
    std::fill(storage.begin(), storage.end(), 12345.0f);
    float* out = storage.data() + shift;
    compiled_->kernel()(in.data(), out, static_cast<int64_t>(n));
    std::vector<size_t> checked;
    for (size_t i = 0; i < n; i += (i < 4 * w || i + 4 * w >= n) ? 1 : 997)
      checked.push_back(i);
    for (size_t i : checked) {
      long double truth = reference(GetParam().op, attrs_, in[i]);
      ASSERT_LE(ulpError(out[i], truth), tolerance(GetParam().op, GetParam().attrs, GetParam().isa))
          << "x = " << in[i] << " at " << i << ", y shifted by " << shift;
    }
    for (size_t i = 0; i < shift; ++i)
      ASSERT_EQ(storage[i], 12345.0f) << "wrote before the start, shift " << shift;
    for (size_t i = shift + n; i < storage.size(); ++i)
      ASSERT_EQ(storage[i], 12345.0f) << "wrote past the end, shift " << shift;
  }
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
      if (!op.has(ir::kActivation) || !hasActivationKernel(op.kind))
        continue;
      cases.push_back({isa, op.kind, {}, std::string(op.name)});
    }
    // Attributes other than the defaults.
    cases.push_back({isa, ir::OpKind::LeakyRelu, {{"alpha", -0.3}}, "leaky_relu_negative"});
    cases.push_back({isa, ir::OpKind::LeakyRelu, {{"alpha", 0.0}}, "leaky_relu_zero"});
    cases.push_back(
        {isa, ir::OpKind::HardSigmoid, {{"alpha", 0.0}, {"beta", 0.25}}, "hard_sigmoid_flat"});
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
