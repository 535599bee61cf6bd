#include "compiler/jit/build_id.h"

#include <llvm/ADT/StringExtras.h>

#include <cstdint>
#include <cstring>
#include <elf.h>
#include <link.h>

namespace nnc::jit {

namespace {

struct Search {
  uintptr_t address = 0; ///< an address in the code of the binary to look in
  std::string id;
};

/// The build ID note among a PT_NOTE segment's notes, or "".
std::string buildIdIn(const char* notes, size_t size) {
  auto align = [](size_t n) { return (n + 3) & ~size_t{3}; };
  size_t at = 0;
  while (at + sizeof(ElfW(Nhdr)) <= size) {
    ElfW(Nhdr) header;
    std::memcpy(&header, notes + at, sizeof header);
    size_t name = at + sizeof header;
    size_t desc = name + align(header.n_namesz);
    size_t next = desc + align(header.n_descsz);
    if (next > size)
      break;
    if (header.n_type == NT_GNU_BUILD_ID && header.n_namesz == 4 &&
        std::memcmp(notes + name, "GNU", 4) == 0) {
      return llvm::toHex(llvm::StringRef(notes + desc, header.n_descsz), /*LowerCase=*/true);
    }
    at = next;
  }
  return "";
}

int visit(dl_phdr_info* info, size_t, void* data) {
  auto* search = static_cast<Search*>(data);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& segment = info->dlpi_phdr[i];
    // The binary whose loaded segments hold this file's code.
    if (segment.p_type == PT_LOAD) {
      auto start = info->dlpi_addr + segment.p_vaddr;
      if (search->address < start || search->address >= start + segment.p_memsz)
        continue;
      for (int j = 0; j < info->dlpi_phnum; ++j) {
        const ElfW(Phdr)& note = info->dlpi_phdr[j];
        if (note.p_type != PT_NOTE)
          continue;
        search->id =
            buildIdIn(reinterpret_cast<const char*>(info->dlpi_addr + note.p_vaddr), note.p_memsz);
        if (!search->id.empty())
          return 1;
      }
      return 1; // found the binary, which has no build ID
    }
  }
  return 0;
}

} // namespace

const std::string& codeGeneratorBuildId() {
  static const std::string id = [] {
    Search search;
    search.address = reinterpret_cast<uintptr_t>(&codeGeneratorBuildId);
    dl_iterate_phdr(visit, &search);
    return search.id;
  }();
  return id;
}

} // namespace nnc::jit
