// File tests: a model file in, its diagnostics and IR out, compared with a golden file.
// Run with NNC_UPDATE_GOLDEN=1 to write the golden files instead of comparing.
#include "compiler/frontend/frontend.h"
#include "compiler/ir/printer.h"
#include "compiler/passes/pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

std::string readText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// What nnc reports for a file: the rendered diagnostics, then the IR when it compiled.
std::string compileForTest(const fs::path& path, const std::string& displayName) {
  nnc::SourceFile source(displayName, readText(path));
  nnc::DiagnosticEngine diagnostics(source);
  std::optional<nnc::ir::Module> module = nnc::compileToIR(source, diagnostics);
  std::string out = diagnostics.render();
  if (module)
    out += nnc::ir::print(*module);
  return out;
}

struct FileCase {
  fs::path path;
  std::string name; ///< relative to the files directory, e.g. "invalid/unknown_op.nn"
};

std::vector<FileCase> listCases(const fs::path& root) {
  std::vector<FileCase> cases;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && entry.path().extension() == ".nn")
      cases.push_back({entry.path(), fs::relative(entry.path(), root).generic_string()});
  std::sort(cases.begin(), cases.end(),
            [](const FileCase& a, const FileCase& b) { return a.name < b.name; });
  return cases;
}

void PrintTo(const FileCase& c, std::ostream* os) {
  *os << c.name;
}

class FileTest : public testing::TestWithParam<FileCase> {};

TEST_P(FileTest, MatchesGolden) {
  const FileCase& c = GetParam();
  std::string actual = compileForTest(c.path, c.name);
  fs::path golden = fs::path(c.path).replace_extension(".expected");
  if (std::getenv("NNC_UPDATE_GOLDEN")) {
    std::ofstream(golden, std::ios::binary) << actual;
    GTEST_SKIP() << "wrote " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with NNC_UPDATE_GOLDEN=1";
  EXPECT_EQ(readText(golden), actual) << "for " << c.name;
  // Files under valid/ must compile without errors; files under invalid/ must not.
  bool expectValid = c.name.rfind("valid/", 0) == 0;
  bool hasError = actual.find(": error: ") != std::string::npos;
  EXPECT_EQ(expectValid, !hasError) << c.name;
}

std::string caseName(const testing::TestParamInfo<FileCase>& info) {
  std::string name = info.param.name;
  std::replace_if(
      name.begin(), name.end(), [](char ch) { return !std::isalnum(ch); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, FileTest, testing::ValuesIn(listCases(NNC_TEST_FILES_DIR)),
                         caseName);

/// What `nnc ir --passes=default` prints for a file (no weights: weight-dependent rewrites wait).
std::string optimizeForTest(const fs::path& path, const std::string& displayName) {
  nnc::SourceFile source(displayName, readText(path));
  nnc::DiagnosticEngine diagnostics(source);
  std::optional<nnc::ir::Module> module = nnc::compileToIR(source, diagnostics);
  if (!module)
    return diagnostics.render();
  nnc::passes::Pipeline pipeline = nnc::passes::Pipeline::defaults();
  for (nnc::ir::Graph& graph : module->models)
    pipeline.run(graph, nnc::passes::PassContext{});
  return nnc::ir::print(*module);
}

/// Pass file tests: each tests/pass_files/*.nn and examples/*.nn against its golden output of
/// the default pipeline, tests/pass_files/[examples/]NAME.expected.
std::vector<FileCase> passCases() {
  std::vector<FileCase> cases;
  for (const auto& entry : fs::directory_iterator(NNC_PASS_FILES_DIR))
    if (entry.path().extension() == ".nn")
      cases.push_back({entry.path(), entry.path().filename().string()});
  for (const auto& entry : fs::directory_iterator(NNC_EXAMPLES_DIR))
    if (entry.path().extension() == ".nn")
      cases.push_back({entry.path(), "examples/" + entry.path().filename().string()});
  std::sort(cases.begin(), cases.end(),
            [](const FileCase& a, const FileCase& b) { return a.name < b.name; });
  return cases;
}

class PassFileTest : public testing::TestWithParam<FileCase> {};

TEST_P(PassFileTest, MatchesGolden) {
  const FileCase& c = GetParam();
  std::string actual = optimizeForTest(c.path, c.name);
  fs::path golden = fs::path(NNC_PASS_FILES_DIR) / fs::path(c.name).replace_extension(".expected");
  if (std::getenv("NNC_UPDATE_GOLDEN")) {
    fs::create_directories(golden.parent_path());
    std::ofstream(golden, std::ios::binary) << actual;
    GTEST_SKIP() << "wrote " << golden;
  }
  ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with NNC_UPDATE_GOLDEN=1";
  EXPECT_EQ(readText(golden), actual) << "for " << c.name;
  EXPECT_EQ(actual.find(": error: "), std::string::npos) << actual;
}

INSTANTIATE_TEST_SUITE_P(Passes, PassFileTest, testing::ValuesIn(passCases()), caseName);

/// The example models compile without errors or warnings.
TEST(Examples, CheckCleanly) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator(NNC_EXAMPLES_DIR)) {
    if (entry.path().extension() != ".nn")
      continue;
    ++count;
    std::string out = compileForTest(entry.path(), entry.path().filename().string());
    EXPECT_EQ(out.find(": error: "), std::string::npos) << out;
    EXPECT_EQ(out.find(": warning: "), std::string::npos) << out;
  }
  EXPECT_GE(count, 4);
}

} // namespace
