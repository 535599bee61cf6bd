// Instruction sets nnc generates code for, and what this machine supports.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nnc::codegen {

enum class IsaKind { Sse, Avx2, Avx512 };

/// A code-generation target: the LLVM CPU and features to compile for, and the vector width
/// the emitters use (the one parameter that differs between ISAs in the generated loops).
struct TargetIsa {
  IsaKind kind = IsaKind::Sse;
  std::string name;                  ///< "sse", "avx2", "avx512"
  std::string cpu;                   ///< LLVM CPU name, e.g. "x86-64-v4" (or the host CPU)
  std::vector<std::string> features; ///< LLVM feature strings, e.g. "+avx512f"
  unsigned vectorWidth = 4;          ///< floats per vector register: 4, 8 or 16
  unsigned vectorBits() const { return vectorWidth * 32; }
  bool hasFma() const { return kind != IsaKind::Sse; }
};

/// The ISA names `--isa` accepts: host, avx512, avx2, sse.
std::vector<std::string> isaNames();

/// The target for an ISA name ("host" picks the widest one this CPU supports, tuned for it).
/// Returns nothing for an unknown name.
std::optional<TargetIsa> isaByName(std::string_view name);

/// Why this CPU cannot run code for `isa` (the missing features), or "" when it can.
std::string missingHostFeatures(const TargetIsa& isa);

} // namespace nnc::codegen
