#include "compiler/jit/object_cache.h"

#include "compiler/jit/build_id.h"
#include "nnc/version.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/Support/BLAKE3.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace nnc::jit {

namespace {

constexpr char kMagic[8] = {'N', 'N', 'C', 'O', 'B', 'J', '2', '\n'};
constexpr size_t kHashBytes = 32;
constexpr size_t kHeaderBytes = sizeof kMagic + kHashBytes;

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

std::string ObjectCache::key(std::string_view identity, const codegen::TargetIsa& isa) {
  const std::string& build = codeGeneratorBuildId();
  if (build.empty())
    return "";
  std::string context = "nnc " NNC_VERSION_STRING " llvm " LLVM_VERSION_STRING " build " + build +
                        " isa " + isa.name + " " + std::to_string(static_cast<int>(isa.kind)) +
                        " " + std::to_string(isa.vectorWidth) + " cpu " + isa.cpu + " features";
  for (const std::string& feature : isa.features)
    context += " " + feature;
  llvm::BLAKE3 hasher;
  hasher.update(context + "\n");
  hasher.update(llvm::StringRef(identity.data(), identity.size()));
  return llvm::toHex(hasher.final<kHashBytes>(), /*LowerCase=*/true);
}

std::string ObjectCache::path(const std::string& key) const {
  return directory_ + "/" + key + ".o";
}

// An entry: the magic, the hash of the payload, then the payload: the data layout's length
// (4 bytes, little-endian), the data layout, and the object.
std::optional<ObjectCache::Entry> ObjectCache::load(const std::string& key) const {
  auto file = llvm::MemoryBuffer::getFile(path(key), /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!file)
    return std::nullopt;
  llvm::StringRef bytes = (*file)->getBuffer();
  if (bytes.size() < kHeaderBytes + 4 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return std::nullopt;
  llvm::StringRef payload = bytes.drop_front(kHeaderBytes);
  auto hash = hashOf(payload);
  if (std::memcmp(hash.data(), bytes.data() + sizeof kMagic, kHashBytes) != 0)
    return std::nullopt;
  uint32_t layoutBytes = 0;
  for (int i = 3; i >= 0; --i)
    layoutBytes = layoutBytes << 8 | static_cast<uint8_t>(payload[static_cast<size_t>(i)]);
  payload = payload.drop_front(4);
  if (payload.size() <= layoutBytes)
    return std::nullopt;
  return Entry{llvm::MemoryBuffer::getMemBufferCopy(payload.drop_front(layoutBytes), key),
               payload.take_front(layoutBytes).str()};
}

void ObjectCache::store(const std::string& key, const EntryRef& entry) const {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error)
    return;
  std::string payload;
  auto layoutBytes = static_cast<uint32_t>(entry.dataLayout.size());
  for (int i = 0; i < 4; ++i)
    payload += static_cast<char>(layoutBytes >> (8 * i));
  payload += entry.dataLayout;
  payload += entry.object.getBuffer();
  // Unique to the process and the call: threads of one process may store at the same time.
  static std::atomic<uint64_t> calls{0};
  std::string temporary = path(key) + ".tmp" + std::to_string(::getpid()) + "." +
                          std::to_string(calls.fetch_add(1, std::memory_order_relaxed));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    auto hash = hashOf(payload);
    out.write(kMagic, sizeof kMagic);
    out.write(reinterpret_cast<const char*>(hash.data()), kHashBytes);
    out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
    if (!out)
      error = std::make_error_code(std::errc::io_error);
  }
  if (!error)
    std::filesystem::rename(temporary, path(key), error);
  if (error)
    std::filesystem::remove(temporary, error);
}

} // namespace nnc::jit
