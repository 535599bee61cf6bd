// The compile cache: entries that check out are loaded, and give the same results as compiled
// code; missing, corrupt, truncated and foreign entries are misses, and the next compile
// replaces them; a key differs with the code and with the target.
#include "compiler/frontend/frontend.h"
#include "compiler/jit/graph_runner.h"
#include "compiler/jit/object_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace nnc {
namespace {

namespace fs = std::filesystem;

/// A fresh, empty cache directory per test, removed afterwards.
class ObjectCacheTest : public testing::Test {
protected:
  void SetUp() override {
    directory_ =
        fs::temp_directory_path() / ("nnc_cache_test_" + std::to_string(::getpid()) + "_" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  /// The cache's entries.
  std::vector<fs::path> entries() const {
    std::vector<fs::path> files;
    if (fs::exists(directory_))
      for (const fs::directory_entry& entry : fs::directory_iterator(directory_))
        files.push_back(entry.path());
    return files;
  }

  fs::path directory_;
};

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void writeFile(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

constexpr const char* kModel = R"(model net {
  input x: f32[N, 3, 8, 8]
  c = conv2d(x, 4, 3, pad=1) -> batchnorm -> silu
  p = global_avgpool(c) -> flatten
  y = dense(p, 5) -> sigmoid
  output y
}
)";

ir::Graph parse(const char* text) {
  SourceFile file("net.nn", text);
  DiagnosticEngine diagnostics(file);
  std::optional<ir::Module> module = compileToIR(file, diagnostics);
  EXPECT_TRUE(module) << diagnostics.render();
  return module->models.front();
}

/// y of the model on a fixed input, with code from `cache` (or none).
struct Compiled {
  std::vector<float> y;
  bool fromCache = false;
};
Compiled runWith(const jit::ObjectCache* cache, const std::string& isaName = "host",
                 const char* model = kModel) {
  ir::Graph graph = parse(model);
  jit::GraphRunner runner(graph, *codegen::isaByName(isaName), jit::randomWeights(graph, 3), 1,
                          passes::Pipeline::defaults(), cache);
  runtime::Tensor x{{2, 3, 8, 8}, std::vector<float>(2 * 3 * 8 * 8)};
  for (size_t i = 0; i < x.data.size(); ++i)
    x.data[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  return {runner.run({{"x", x}}).at("y").data, runner.codeFromCache()};
}

TEST_F(ObjectCacheTest, SecondCompileLoadsTheSameCode) {
  jit::ObjectCache cache(directory_.string());
  Compiled uncached = runWith(nullptr);
  Compiled first = runWith(&cache);
  EXPECT_FALSE(first.fromCache);
  ASSERT_EQ(entries().size(), 1u);
  Compiled second = runWith(&cache);
  EXPECT_TRUE(second.fromCache);
  EXPECT_EQ(entries().size(), 1u);
  EXPECT_EQ(first.y, uncached.y);
  EXPECT_EQ(second.y, uncached.y);
}

TEST_F(ObjectCacheTest, BadEntriesAreMissesAndGetReplaced) {
  jit::ObjectCache cache(directory_.string());
  Compiled want = runWith(&cache);
  ASSERT_EQ(entries().size(), 1u);
  fs::path entry = entries().front();
  std::string good = readFile(entry);

  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x20; // a bit of the object
  std::string wrongMagic = good;
  wrongMagic[0] = 'X';
  for (const std::string& bad :
       {flipped, good.substr(0, good.size() / 2), good.substr(0, 10), wrongMagic, std::string()}) {
    writeFile(entry, bad);
    Compiled again = runWith(&cache);
    EXPECT_FALSE(again.fromCache) << "a bad entry of " << bad.size() << " bytes was loaded";
    EXPECT_EQ(again.y, want.y);
    EXPECT_EQ(readFile(entry), good) << "the bad entry was not replaced";
    EXPECT_TRUE(runWith(&cache).fromCache);
  }
  EXPECT_EQ(entries().size(), 1u) << "temporary files were left behind";
}

TEST_F(ObjectCacheTest, KeysDifferWithTheTargetAndTheCode) {
  jit::ObjectCache cache(directory_.string());
  EXPECT_FALSE(runWith(&cache, "avx2").fromCache);
  EXPECT_FALSE(runWith(&cache, "sse").fromCache);
  EXPECT_FALSE(runWith(&cache, "host").fromCache); // the host's own CPU, not x86-64-v3
  EXPECT_EQ(entries().size(), 3u);
  std::string other = kModel;
  other.replace(other.find("-> sigmoid"), 10, "-> tanh");
  EXPECT_FALSE(runWith(&cache, "host", other.c_str()).fromCache);
  EXPECT_EQ(entries().size(), 4u);
  EXPECT_TRUE(runWith(&cache, "sse").fromCache);
}

TEST_F(ObjectCacheTest, UnwritableDirectoryOnlyMeansNoCaching) {
  fs::create_directories(directory_);
  writeFile(directory_ / "file", "x");
  jit::ObjectCache cache((directory_ / "file" / "sub").string()); // a path through a file
  Compiled compiled = runWith(&cache);
  EXPECT_FALSE(compiled.fromCache);
  EXPECT_EQ(compiled.y, runWith(nullptr).y);
}

TEST(ObjectCacheDirectory, FollowsTheEnvironment) {
  std::string saved = std::getenv("NNC_CACHE_DIR") ? std::getenv("NNC_CACHE_DIR") : "";
  ::setenv("NNC_CACHE_DIR", "/somewhere/nnc", 1);
  EXPECT_EQ(jit::ObjectCache::defaultDirectory(), "/somewhere/nnc");
  ::unsetenv("NNC_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(jit::ObjectCache::defaultDirectory(), "/xdg/nnc");
  ::unsetenv("XDG_CACHE_HOME");
  if (const char* home = std::getenv("HOME")) {
    EXPECT_EQ(jit::ObjectCache::defaultDirectory(), std::string(home) + "/.cache/nnc");
  }
  if (!saved.empty())
    ::setenv("NNC_CACHE_DIR", saved.c_str(), 1);
}

} // namespace
} // namespace nnc
