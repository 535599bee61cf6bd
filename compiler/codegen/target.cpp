#include "compiler/codegen/target.h"

#include <llvm/ADT/StringMap.h>
#include <llvm/TargetParser/Host.h>

namespace nnc::codegen {

namespace {

/// The features each ISA level needs from the CPU (x86-64-v2/v3/v4 psABI levels, reduced to
/// what the generated code uses).
std::vector<std::string> requiredFeatures(IsaKind kind) {
  switch (kind) {
  case IsaKind::Avx512:
    return {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"};
  case IsaKind::Avx2:
    return {"avx2", "fma", "f16c"};
  case IsaKind::Sse:
    return {"sse2"};
  }
  return {};
}

TargetIsa makeIsa(IsaKind kind) {
  TargetIsa isa;
  isa.kind = kind;
  switch (kind) {
  case IsaKind::Avx512:
    isa = {kind, "avx512", "x86-64-v4", {}, 16};
    break;
  case IsaKind::Avx2:
    isa = {kind, "avx2", "x86-64-v3", {}, 8};
    break;
  case IsaKind::Sse:
    isa = {kind, "sse", "x86-64", {}, 4};
    break;
  }
  for (const std::string& feature : requiredFeatures(kind))
    isa.features.push_back("+" + feature);
  return isa;
}

} // namespace

std::vector<std::string> isaNames() {
  return {"host", "avx512", "avx2", "sse"};
}

std::string missingHostFeatures(const TargetIsa& isa) {
  // The CPU does not change while the process runs; asking it costs a millisecond.
  static const llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  std::string missing;
  for (const std::string& feature : requiredFeatures(isa.kind))
    if (!host.lookup(feature))
      missing += (missing.empty() ? "" : ", ") + feature;
  return missing;
}

std::optional<TargetIsa> isaByName(std::string_view name) {
  if (name == "avx512")
    return makeIsa(IsaKind::Avx512);
  if (name == "avx2")
    return makeIsa(IsaKind::Avx2);
  if (name == "sse")
    return makeIsa(IsaKind::Sse);
  if (name != "host")
    return std::nullopt;
  for (IsaKind kind : {IsaKind::Avx512, IsaKind::Avx2, IsaKind::Sse}) {
    TargetIsa isa = makeIsa(kind);
    if (!missingHostFeatures(isa).empty())
      continue;
    // Tune for this very CPU; the vector width stays the one of the ISA level chosen.
    isa.name = "host (" + isa.name + ")";
    isa.cpu = llvm::sys::getHostCPUName().str();
    return isa;
  }
  return makeIsa(IsaKind::Sse);
}

} // namespace nnc::codegen
