// nnc-accuracy: the largest error, in ULP, of each JIT-compiled activation on each ISA against
// the long-double reference, over a sweep of float bit patterns (every k-th) or all 2^32.
#include "compiler/codegen/activation_kernels.h"
#include "compiler/jit/compiled_activation.h"
#include "tools/accuracy/reference.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <vector>

namespace {

struct Measurement {
  double maxUlp = 0;
  float worstInput = 0;
  uint64_t points = 0;
};

/// Runs the kernel over bit patterns start, start + stride, ... in chunks.
Measurement measure(nnc::jit::UnaryKernel kernel, nnc::ir::OpKind op,
                    const std::vector<nnc::ir::AttrValue>& attrs, uint64_t stride) {
  Measurement m;
  constexpr size_t kChunk = 1 << 16;
  std::vector<float> in(kChunk), out(kChunk);
  uint64_t bits = 0;
  while (bits <= 0xffffffffu) {
    size_t n = 0;
    for (; n < kChunk && bits <= 0xffffffffu; ++n, bits += stride)
      in[n] = std::bit_cast<float>(static_cast<uint32_t>(bits));
    kernel(in.data(), out.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) {
      double error = nnc::accuracy::ulpError(out[i], nnc::accuracy::reference(op, attrs, in[i]));
      if (error > m.maxUlp || std::isnan(error)) {
        m.maxUlp = error;
        m.worstInput = in[i];
      }
    }
    m.points += n;
  }
  return m;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measure the accuracy of nnc's activation kernels in ULP"};
  std::vector<std::string> isas = {"avx512", "avx2", "sse"};
  std::vector<std::string> ops;
  uint64_t stride = 4099;
  bool exhaustive = false;
  app.add_option("--isa", isas, "ISAs to measure (default: avx512 avx2 sse)");
  app.add_option("--op", ops, "activations to measure (default: all)");
  app.add_option("--stride", stride, "test every k-th float bit pattern (default 4099)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--exhaustive", exhaustive, "test all 2^32 inputs (slow)");
  CLI11_PARSE(app, argc, argv);
  if (exhaustive)
    stride = 1;

  struct Variant {
    nnc::ir::OpKind op;
    std::vector<std::pair<std::string_view, nnc::ir::AttrValue>> attrs;
    std::string label;
  };
  std::vector<Variant> variants;
  for (const nnc::ir::OpInfo& op : nnc::ir::allOps()) {
    if (!op.has(nnc::ir::kActivation) || op.kind == nnc::ir::OpKind::Prelu)
      continue;
    if (!ops.empty() && std::find(ops.begin(), ops.end(), op.name) == ops.end())
      continue;
    if (op.kind == nnc::ir::OpKind::Clamp)
      variants.push_back({op.kind, {{"min", -1.0}, {"max", 1.0}}, "clamp(-1, 1)"});
    else if (op.kind == nnc::ir::OpKind::Gelu) {
      variants.push_back({op.kind, {}, "gelu(none)"});
      variants.push_back({op.kind, {{"approximate", std::string("tanh")}}, "gelu(tanh)"});
    } else
      variants.push_back({op.kind, {}, std::string(op.name)});
  }

  if (stride == 1)
    fmt::print("Max error in ULP over all 2^32 float inputs.\n\n");
  else
    fmt::print("Max error in ULP over every {}-th float bit pattern (from 0 to 0xffffffff).\n\n",
               stride);
  fmt::print("| activation |");
  for (const std::string& isa : isas)
    fmt::print(" {} |", isa);
  fmt::print(" worst input |\n|---|");
  for (size_t i = 0; i < isas.size(); ++i)
    fmt::print("---|");
  fmt::print("---|\n");
  int status = 0;
  for (const Variant& variant : variants) {
    std::vector<nnc::ir::AttrValue> attrs = nnc::jit::activationAttrs(variant.op, variant.attrs);
    fmt::print("| {} |", variant.label);
    float worst = 0;
    double worstUlp = -1;
    for (const std::string& name : isas) {
      std::optional<nnc::codegen::TargetIsa> isa = nnc::codegen::isaByName(name);
      if (!isa || !nnc::codegen::missingHostFeatures(*isa).empty()) {
        fmt::print(" n/a |");
        continue;
      }
      nnc::jit::CompiledActivation compiled(*isa, variant.op, attrs);
      if (!compiled.kernel()) {
        fmt::print(" error: {} |", compiled.error());
        status = 1;
        continue;
      }
      Measurement m = measure(compiled.kernel(), variant.op, attrs, stride);
      fmt::print(" {:.3g} |", m.maxUlp);
      if (m.maxUlp > worstUlp) {
        worstUlp = m.maxUlp;
        worst = m.worstInput;
      }
    }
    fmt::print(" {} |\n", worstUlp > 0 ? fmt::format("{:g}", worst) : "-");
    std::fflush(stdout);
  }
  return status;
}
