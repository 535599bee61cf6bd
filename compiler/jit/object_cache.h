// Compiled objects on disk, keyed by what they were compiled from, so that a second start of the
// same model loads its native code instead of compiling it again.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/Support/MemoryBuffer.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace nnc::jit {

/// One directory of objects. A key is the BLAKE3 hash of what determines the code: the module's
/// identity (what the emitter is asked for, such as codeIdentity(KernelPlan)), the target ISA,
/// the build of nnc's code generator (its build ID: a changed emitter or JIT setting is a new
/// build) and the nnc and LLVM versions. Hashing what the module is emitted from, rather than
/// the emitted IR, lets a hit skip emission altogether (as ccache's direct mode skips the
/// preprocessor): it is most of what a warm start would cost. An entry holds its object and the
/// data layout it was compiled for, with the hash of both; an entry that is truncated or corrupt
/// is a miss, and the next compile replaces it. Entries are written whole (to a temporary file,
/// then renamed), so that processes sharing the directory never read half an entry. Failing to
/// write is not an error: the code just is not cached.
class ObjectCache {
public:
  /// $NNC_CACHE_DIR, else $XDG_CACHE_HOME/nnc, else $HOME/.cache/nnc ("" without any of them).
  static std::string defaultDirectory();

  explicit ObjectCache(std::string directory) : directory_(std::move(directory)) {}
  const std::string& directory() const { return directory_; }

  /// The key of the module with `identity` compiled for `isa`, or "" when nnc's build is not
  /// known (no build ID), so that nothing can be cached safely.
  static std::string key(std::string_view identity, const codegen::TargetIsa& isa);
  /// A compiled object and the data layout it was compiled for.
  struct Entry {
    std::unique_ptr<llvm::MemoryBuffer> object;
    std::string dataLayout;
  };
  struct EntryRef {
    llvm::MemoryBufferRef object;
    std::string_view dataLayout;
  };
  /// The entry stored under `key`, or nothing when there is none or it does not check out.
  std::optional<Entry> load(const std::string& key) const;
  void store(const std::string& key, const EntryRef& entry) const;

private:
  std::string path(const std::string& key) const;
  std::string directory_;
};

} // namespace nnc::jit
