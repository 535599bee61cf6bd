#include "compiler/jit/kernel_plan.h"

#include <bit>
#include <cstdint>
#include <type_traits>

namespace nnc::jit {

namespace {

/// Appends values as length- and tag-prefixed bytes, so that different sequences of values never
/// give the same string. Each struct is written through a structured binding that names all of
/// its members: a member added later breaks the build here until it is written too.
class IdentityWriter {
public:
  void put(uint64_t value) {
    for (int byte = 0; byte < 8; ++byte)
      bytes_ += static_cast<char>(value >> (8 * byte));
  }
  void put(int64_t value) { put(static_cast<uint64_t>(value)); }
  void put(int value) { put(static_cast<int64_t>(value)); }
  void put(unsigned value) { put(static_cast<uint64_t>(value)); }
  void put(bool value) { put(static_cast<uint64_t>(value)); }
  void put(double value) { put(std::bit_cast<uint64_t>(value)); }
  void put(const std::string& text) {
    put(static_cast<uint64_t>(text.size()));
    bytes_ += text;
  }
  template <typename Enum>
  requires std::is_enum_v<Enum>
  void put(Enum value) { put(static_cast<uint64_t>(value)); }
  template <typename T> void put(const std::vector<T>& items) {
    put(static_cast<uint64_t>(items.size()));
    for (const T& item : items)
      put(item);
  }
  void put(const std::vector<bool>& items) {
    put(static_cast<uint64_t>(items.size()));
    for (bool item : items)
      put(item);
  }
  void put(const ir::AttrValue& value) {
    put(static_cast<uint64_t>(value.index()));
    std::visit([this](const auto& held) { put(held); }, value);
  }
  void put(const KernelRequest& request) {
    const auto& [name, op, attrs] = request;
    put(name), put(op), put(attrs);
  }
  void put(const codegen::FusedStep& step) {
    const auto& [op, attrs, operands] = step;
    put(op), put(attrs), put(operands);
  }
  void put(const codegen::FusedExpression& expression) {
    const auto& [leafIsScalar, steps] = expression;
    put(leafIsScalar), put(steps);
  }
  void put(const codegen::GemmEpilogue& epilogue) {
    const auto& [expression, leaves, rows] = epilogue;
    put(expression), put(leaves), put(rows);
  }
  void put(const codegen::DepthwiseShape& shape) {
    const auto& [outH, outW, kernelH, kernelW, strideH, strideW, dilationH, dilationW, paddedW,
                 direct, inH, inW, padTop, padLeft] = shape;
    for (int64_t field : {outH, outW, kernelH, kernelW, strideH, strideW, dilationH, dilationW,
                          paddedW, direct, inH, inW, padTop, padLeft})
      put(field);
  }

  std::string take() { return std::move(bytes_); }

private:
  std::string bytes_;
};

} // namespace

std::string codeIdentity(const KernelPlan& plan) {
  // Every member, named so that one added later must be placed here: what emitKernels reads is
  // written; the *Of maps and first* offsets only say which node calls which function.
  [[maybe_unused]] const auto& [activations, activationOf, fused, fusedOf, gemmEpilogues,
                                gemmEpilogueOf, gemmEdgeEpilogueOf, gemm, gemmNarrow, depthwise,
                                depthwiseOf, dot, dotOf, prelu, symbols, firstFused,
                                firstGemmEpilogue, firstGemm, firstDepthwise, firstDot] = plan;
  IdentityWriter out;
  out.put(activations);
  out.put(fused);
  out.put(gemmEpilogues);
  out.put(gemm);
  out.put(gemmNarrow);
  out.put(depthwise);
  out.put(dot);
  out.put(prelu);
  out.put(symbols);
  return out.take();
}

} // namespace nnc::jit
