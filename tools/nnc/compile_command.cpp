// nnc compile: a model ahead of time, as an object file and a C header.
#include "compiler/aot/aot_compile.h"
#include "tools/nnc/commands.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nnc::driver {

namespace {

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw runtime::UserError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close(); // the last buffered bytes are written here, and can fail here
  if (!out)
    throw runtime::UserError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
}

} // namespace

int runCompile(const CompileOptions& options) {
  std::optional<SourceFile> source = readSource(options.file);
  if (!source)
    return kExitError;
  std::optional<ir::Module> module = compileFile(*source);
  if (!module)
    return kExitError;
  const ir::Graph& graph = chooseModel(*module, options.file, options.model);
  std::optional<codegen::TargetIsa> isa = codegen::isaByName(options.isa);
  if (!isa)
    throw runtime::UserError(fmt::format("unknown ISA '{}'", options.isa));

  aot::AotOptions aot;
  aot.name = options.name.empty() ? graph.name() : options.name;
  aot.source = source->text();
  aot.fileName = std::filesystem::path(options.file).filename().string();
  aot.isa = *isa;
  aot.passes = options.passes.passes;
  aot.fusion = options.passes.fusion;
  if (!options.weights.empty())
    aot.weights = readBytes(options.weights);
  aot.objectName = std::filesystem::path(options.object).filename().string();
  aot::AotOutput output = aot::compileAheadOfTime(graph, aot);

  std::string header = options.header;
  if (header.empty())
    header = std::filesystem::path(options.object).replace_extension(".h").string();
  // The same file under two spellings (./x.o and x.o) too; a path the system cannot resolve is
  // left to the writes, which say why.
  auto resolved = [](const std::string& path, std::error_code& error) {
    // absolute() first: weakly_canonical leaves a relative path that does not exist relative.
    return std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
  };
  std::error_code headerError, objectError;
  std::filesystem::path headerPath = resolved(header, headerError);
  std::filesystem::path objectPath = resolved(options.object, objectError);
  if (!headerError && !objectError && headerPath == objectPath)
    throw runtime::UserError(fmt::format("the header and the object would both be '{}'; give "
                                         "--header (or -o) another path",
                                         header));
  writeBytes(options.object, output.object);
  writeBytes(header, output.header);
  fmt::print("wrote {} ({} bytes{}) and {}: {}_run for model '{}' ({})\n", options.object,
             output.object.size(), aot.weights ? ", weights included" : "", header, aot.name,
             graph.name(), isa->name);
  return kExitOk;
}

} // namespace nnc::driver
