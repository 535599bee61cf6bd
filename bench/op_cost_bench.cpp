// What one AVX-512 vector operation costs on this machine, beside what nnc's activation loops
// spend per vector: the budget behind issue 3's speed targets (docs/benchmarks.md). Each
// operation runs in 12 independent chains (more than its latency times its ports), so the
// figure is its throughput; the activation kernels run on 4 Ki floats (in L1), so theirs is the
// cost of their arithmetic. Compiled with -march=native; a markdown table, no Google Benchmark.
#include "compiler/ir/op_table.h"
#include "compiler/jit/compiled_activation.h"

#include <fmt/core.h>

#include <immintrin.h>

#include <chrono>
#include <random>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

#if defined(__AVX512F__)
#define NNC_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define NNC_KEEP(i) asm volatile("" : "+v"(v##i));
#define NNC_DECLARE(i) __m512 v##i = _mm512_set1_ps(1.0f + 0.01f * (i));
#define NNC_SUM(i) sum = _mm512_add_ps(sum, v##i);

/// Nanoseconds per operation of `step` (applied to each of 12 chains per iteration).
template <typename Step> double nanosecondsPerOp(Step step) {
  const long iterations = 2'000'000;
  NNC_CHAINS(NNC_DECLARE)
  auto start = Clock::now();
  for (long i = 0; i < iterations; ++i) {
#define NNC_STEP(i) v##i = step(v##i);
    NNC_CHAINS(NNC_STEP)
#undef NNC_STEP
    NNC_CHAINS(NNC_KEEP)
  }
  double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  __m512 sum = _mm512_setzero_ps();
  NNC_CHAINS(NNC_SUM)
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  volatile float sink = lanes[0];
  (void)sink;
  return ns / iterations / 12;
}

void printOperations() {
  const __m512 m = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(0.001f);
  fmt::print("| operation (zmm, 16 floats) | ns per operation |\n|---|---|\n");
  auto row = [](const char* name, double ns) { fmt::print("| {} | {:.3f} |\n", name, ns); };
  row("vfmadd231ps", nanosecondsPerOp([&](__m512 v) { return _mm512_fmadd_ps(v, m, c); }));
  row("vmulps", nanosecondsPerOp([&](__m512 v) { return _mm512_mul_ps(v, m); }));
  row("vaddps", nanosecondsPerOp([&](__m512 v) { return _mm512_add_ps(v, c); }));
  row("vmaxps", nanosecondsPerOp([&](__m512 v) { return _mm512_max_ps(v, c); }));
  row("vscalefps", nanosecondsPerOp([&](__m512 v) { return _mm512_scalef_ps(v, c); }));
  row("vdivps", nanosecondsPerOp([&](__m512 v) { return _mm512_div_ps(v, m); }));
  row("vorps", nanosecondsPerOp([&](__m512 v) { return _mm512_or_ps(v, c); }));
}
#else
void printOperations() {
  fmt::print("(no AVX-512 on this build: operation costs not measured)\n");
}
#endif

void printActivations() {
  std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName("avx512");
  if (!isa || !nnc::codegen::missingHostFeatures(*isa).empty())
    return;
  const int64_t n = 4096;
  std::vector<float> x(n), y(n);
  std::mt19937 random(1);
  std::uniform_real_distribution<float> uniform(-5, 5);
  for (float& v : x)
    v = uniform(random);
  fmt::print("\n| activation (avx512, 4 Ki floats) | ns per vector of 16 |\n|---|---|\n");
  for (nnc::ir::OpKind op : {nnc::ir::OpKind::Relu, nnc::ir::OpKind::Elu, nnc::ir::OpKind::Sigmoid,
                             nnc::ir::OpKind::Tanh, nnc::ir::OpKind::Silu, nnc::ir::OpKind::Gelu}) {
    nnc::jit::CompiledActivation compiled(*isa, op, nnc::jit::activationAttrs(op, {}));
    if (!compiled.kernel())
      continue;
    const int repeats = 20000;
    for (int r = 0; r < 100; ++r)
      compiled.kernel()(x.data(), y.data(), n);
    auto start = Clock::now();
    for (int r = 0; r < repeats; ++r)
      compiled.kernel()(x.data(), y.data(), n);
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    fmt::print("| {} | {:.2f} |\n", nnc::ir::opInfo(op).name, ns / repeats / (n / 16));
  }
}

} // namespace

int main() {
  printOperations();
  printActivations();
}
