// The compile cache: entries that check out are loaded, and give the same results as compiled
// code; missing, corrupt, truncated and foreign entries are misses, and the next compile
// replaces them; a key differs with the code and with the target, and with nothing else.
#include "compiler/frontend/frontend.h"
#include "compiler/jit/build_id.h"
#include "compiler/jit/graph_runner.h"
#include "compiler/jit/kernel_plan.h"
#include "compiler/jit/object_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
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
                 const char* model = kModel, uint64_t weightSeed = 3) {
  ir::Graph graph = parse(model);
  jit::GraphRunner runner(graph, *codegen::isaByName(isaName),
                          jit::randomWeights(graph, weightSeed), 1, passes::Pipeline::defaults(),
                          cache);
  runtime::Tensor x{{2, 3, 8, 8}, std::vector<float>(2 * 3 * 8 * 8)};
  for (size_t i = 0; i < x.data.size(); ++i)
    x.data[i] = static_cast<float>(i % 17) * 0.1f - 0.8f;
  return {runner.run({{"x", x}}).at("y").data, runner.codeFromCache()};
}

// A model's code is one entry per module it was compiled in: as many as the JIT compiles at once
// (Jit::compileThreads), so the tests count entries in models.

TEST_F(ObjectCacheTest, SecondCompileLoadsTheSameCode) {
  jit::ObjectCache cache(directory_.string());
  Compiled uncached = runWith(nullptr);
  Compiled first = runWith(&cache);
  EXPECT_FALSE(first.fromCache);
  size_t perModel = entries().size();
  ASSERT_GE(perModel, 1u);
  Compiled second = runWith(&cache);
  EXPECT_TRUE(second.fromCache);
  EXPECT_EQ(entries().size(), perModel);
  EXPECT_EQ(first.y, uncached.y);
  EXPECT_EQ(second.y, uncached.y);
}

TEST_F(ObjectCacheTest, BadEntriesAreMissesAndGetReplaced) {
  jit::ObjectCache cache(directory_.string());
  Compiled want = runWith(&cache);
  size_t perModel = entries().size();
  ASSERT_GE(perModel, 1u);
  // One part's entry spoilt: the whole model is compiled again, and the entry replaced.
  fs::path entry = entries().back();
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
  EXPECT_EQ(entries().size(), perModel) << "temporary files were left behind";
}

TEST_F(ObjectCacheTest, KeysDifferWithTheTargetAndTheCode) {
  jit::ObjectCache cache(directory_.string());
  EXPECT_FALSE(runWith(&cache, "avx2").fromCache);
  size_t perModel = entries().size();
  EXPECT_FALSE(runWith(&cache, "sse").fromCache);
  EXPECT_FALSE(runWith(&cache, "host").fromCache); // the host's own CPU, not x86-64-v3
  EXPECT_EQ(entries().size(), 3 * perModel);
  std::string other = kModel;
  other.replace(other.find("-> sigmoid"), 10, "-> tanh");
  EXPECT_FALSE(runWith(&cache, "host", other.c_str()).fromCache);
  EXPECT_EQ(entries().size(), 4 * perModel);
  EXPECT_TRUE(runWith(&cache, "sse").fromCache);
}

TEST_F(ObjectCacheTest, WeightsAreNotInTheKeyButAttributesAre) {
  jit::ObjectCache cache(directory_.string());
  EXPECT_FALSE(runWith(&cache).fromCache);
  size_t perModel = entries().size();
  // Other weights: the same code, given the weights at run time.
  Compiled otherWeights = runWith(&cache, "host", kModel, 11);
  EXPECT_TRUE(otherWeights.fromCache);
  EXPECT_EQ(otherWeights.y, runWith(nullptr, "host", kModel, 11).y);
  EXPECT_NE(otherWeights.y, runWith(nullptr).y);
  // An activation's attribute is a constant of the code: another one is another entry.
  for (const char* alpha : {"0.1", "0.2"}) {
    std::string model = kModel;
    model.replace(model.find("-> silu"), 7, std::string("-> leaky_relu(alpha=") + alpha + ")");
    Compiled first = runWith(&cache, "host", model.c_str());
    EXPECT_FALSE(first.fromCache) << "alpha " << alpha;
    EXPECT_EQ(first.y, runWith(nullptr, "host", model.c_str()).y);
    EXPECT_TRUE(runWith(&cache, "host", model.c_str()).fromCache);
  }
  EXPECT_EQ(entries().size(), 3 * perModel);
}

/// A plan with one of everything emitKernels reads.
jit::KernelPlan fullPlan() {
  jit::KernelPlan plan;
  plan.activations.push_back({"act0", ir::OpKind::LeakyRelu, {ir::AttrValue(0.1)}});
  codegen::FusedExpression expression;
  expression.leafIsScalar = {false, true};
  expression.steps.push_back(
      {ir::OpKind::Add,
       {},
       {codegen::FusedExpression::leaf(0), codegen::FusedExpression::leaf(1)}});
  plan.fused.push_back(expression);
  plan.gemmEpilogues.push_back(
      {expression, {codegen::TileLeaf::Accumulator, codegen::TileLeaf::RowScalar}});
  plan.gemm = true;
  codegen::DepthwiseShape shape;
  shape.outH = shape.outW = shape.inH = shape.inW = 8;
  shape.kernelH = shape.kernelW = 3;
  plan.depthwise.push_back(shape);
  plan.prelu = true;
  plan.symbols = {"act0", "fused0", "gemm0", "dw0", "prelu"};
  return plan;
}

TEST(CodeIdentity, EveryMemberTheEmitterReadsCounts) {
  std::vector<std::pair<std::string, std::function<void(jit::KernelPlan&)>>> changes = {
      {"activation op", [](auto& p) { p.activations[0].op = ir::OpKind::Elu; }},
      {"activation attr", [](auto& p) { p.activations[0].attrs[0] = ir::AttrValue(0.2); }},
      {"activation attr type",
       [](auto& p) { p.activations[0].attrs[0] = ir::AttrValue(int64_t{0}); }},
      {"activation name", [](auto& p) { p.activations[0].name = "act1"; }},
      {"scalar leaf", [](auto& p) { p.fused[0].leafIsScalar[1] = false; }},
      {"step op", [](auto& p) { p.fused[0].steps[0].op = ir::OpKind::Mul; }},
      {"step operand", [](auto& p) { p.fused[0].steps[0].operands[1] = -1; }},
      {"step attrs", [](auto& p) { p.fused[0].steps[0].attrs.push_back(ir::AttrValue(true)); }},
      {"epilogue leaf", [](auto& p) { p.gemmEpilogues[0].leaves[1] = codegen::TileLeaf::Matrix; }},
      {"epilogue rows", [](auto& p) { p.gemmEpilogues[0].rows = 2; }},
      {"epilogue step",
       [](auto& p) { p.gemmEpilogues[0].expression.steps[0].op = ir::OpKind::Mul; }},
      {"gemm", [](auto& p) { p.gemm = false; }},
      {"gemm narrow", [](auto& p) { p.gemmNarrow = !p.gemmNarrow; }},
      {"prelu", [](auto& p) { p.prelu = false; }},
      {"symbol", [](auto& p) { p.symbols[2] = "gemm1"; }},
      {"no activation", [](auto& p) { p.activations.clear(); }},
  };
  // Every field of a depthwise shape.
  for (size_t field = 0; field < sizeof(codegen::DepthwiseShape) / sizeof(int64_t); ++field)
    changes.emplace_back("depthwise field " + std::to_string(field), [field](auto& p) {
      auto* fields = reinterpret_cast<int64_t*>(&p.depthwise[0]);
      fields[field] += 1;
    });
  std::set<std::string> identities = {jit::codeIdentity(fullPlan())};
  EXPECT_EQ(jit::codeIdentity(fullPlan()), *identities.begin()) << "not deterministic";
  for (auto& [what, change] : changes) {
    jit::KernelPlan plan = fullPlan();
    change(plan);
    EXPECT_TRUE(identities.insert(jit::codeIdentity(plan)).second) << what << " is not counted";
  }
  // Which node calls which function is not the code's business.
  jit::KernelPlan rebound = fullPlan();
  rebound.activationOf = {0, 0, jit::KernelPlan::kNone};
  EXPECT_EQ(jit::codeIdentity(rebound), jit::codeIdentity(fullPlan()));
}

TEST(CodeIdentity, TheBuildIsKnown) {
  // Without a build ID nothing would be cached (and the cache tests above would fail).
  EXPECT_GE(jit::codeGeneratorBuildId().size(), 16u);
  codegen::TargetIsa isa = *codegen::isaByName("sse");
  EXPECT_EQ(jit::ObjectCache::key("abc", isa), jit::ObjectCache::key("abc", isa));
  EXPECT_NE(jit::ObjectCache::key("abc", isa), jit::ObjectCache::key("abd", isa));
  EXPECT_NE(jit::ObjectCache::key("abc", isa),
            jit::ObjectCache::key("abc", *codegen::isaByName("avx2")));
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
