#include "compiler/jit/object_cache.h"

#include "nnc/version.h"

#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/Support/BLAKE3.h>
#include <llvm/Support/raw_ostream.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace nnc::jit {

namespace {

constexpr char kMagic[8] = {'N', 'N', 'C', 'O', 'B', 'J', '1', '\n'};
constexpr size_t kHashBytes = 32;
constexpr size_t kHeaderBytes = sizeof kMagic + kHashBytes;

std::string hex(llvm::ArrayRef<uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (uint8_t byte : bytes) {
    text += digits[byte >> 4];
    text += digits[byte & 15];
  }
  return text;
}

llvm::BLAKE3Result<kHashBytes> hashOf(llvm::StringRef bytes) {
  llvm::BLAKE3 hasher;
  hasher.update(bytes);
  return hasher.final<kHashBytes>();
}

} // namespace

std::string ObjectCache::defaultDirectory() {
  if (const char* dir = std::getenv("NNC_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/nnc";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/nnc";
  return "";
}

std::string ObjectCache::key(const llvm::Module& module, const codegen::TargetIsa& isa,
                             std::string_view settings) const {
  llvm::BLAKE3 hasher;
  std::string context = "nnc " NNC_VERSION_STRING " llvm " LLVM_VERSION_STRING " jit " +
                        std::string(settings) + " cpu " + isa.cpu + " features";
  for (const std::string& feature : isa.features)
    context += " " + feature;
  hasher.update(context + "\n");
  llvm::SmallVector<char, 0> bitcode;
  llvm::raw_svector_ostream out(bitcode);
  llvm::WriteBitcodeToFile(module, out);
  hasher.update(llvm::StringRef(bitcode.data(), bitcode.size()));
  return hex(hasher.final<kHashBytes>());
}

std::string ObjectCache::path(const std::string& key) const {
  return directory_ + "/" + key + ".o";
}

std::unique_ptr<llvm::MemoryBuffer> ObjectCache::load(const std::string& key) const {
  auto file = llvm::MemoryBuffer::getFile(path(key), /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return nullptr;
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() <= kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return nullptr;
  llvm::StringRef object = bytes.drop_front(kHeaderBytes);
  auto hash = hashOf(object);
  if (std::memcmp(hash.data(), bytes.data() + sizeof kMagic, kHashBytes) != 0)
    return nullptr;
  return llvm::MemoryBuffer::getMemBufferCopy(object, key);
}

void ObjectCache::store(const std::string& key, llvm::MemoryBufferRef object) const {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error)
    return;
  std::string temporary = path(key) + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    auto hash = hashOf(object.getBuffer());
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(hash.data()), kHashBytes);
    out.write(object.getBufferStart(), static_cast<std::streamsize>(object.getBufferSize()));
    if (!out)
      error = std::make_error_code(std::errc::io_error);
  }
  if (!error)
    std::filesystem::rename(temporary, path(key), error);
  if (error)
    std::filesystem::remove(temporary, error);
}

} // namespace nnc::jit
