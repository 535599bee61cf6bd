// Compiled objects on disk, keyed by what they were compiled from, so that a second start of the
// same model loads its native code instead of compiling it again.
#pragma once

#include "compiler/codegen/target.h"

#include <llvm/IR/Module.h>
#include <llvm/Support/MemoryBuffer.h>

#include <memory>
#include <string>
#include <string_view>

namespace nnc::jit {

/// One directory of objects. A key is the BLAKE3 hash of the module's bitcode before
/// optimization, the target CPU and features, the JIT's settings, and the nnc and LLVM versions:
/// anything that changes the code changes the key. An entry holds its object with the hash of
/// the object's bytes; an entry that is truncated or corrupt is a miss, and the next compile
/// replaces it. Entries are written whole (to a temporary file, then renamed), so that processes
/// sharing the directory never read half an entry. Failing to write is not an error: the code
/// just is not cached.
class ObjectCache {
public:
  /// $NNC_CACHE_DIR, else $XDG_CACHE_HOME/nnc, else $HOME/.cache/nnc ("" without any of them).
  static std::string defaultDirectory();

  explicit ObjectCache(std::string directory) : directory_(std::move(directory)) {}
  const std::string& directory() const { return directory_; }

  /// `settings` names how the module is optimized and compiled (Jit::settingsStamp()).
  std::string key(const llvm::Module& module, const codegen::TargetIsa& isa,
                  std::string_view settings) const;
  /// The object stored under `key`, or null when there is none or it does not check out.
  std::unique_ptr<llvm::MemoryBuffer> load(const std::string& key) const;
  void store(const std::string& key, llvm::MemoryBufferRef object) const;

private:
  std::string path(const std::string& key) const;
  std::string directory_;
};

} // namespace nnc::jit
