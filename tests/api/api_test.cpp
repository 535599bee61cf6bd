// The public C++ API (nnc/model.h): every call, its misuse, and one model run from many
// threads at once. The test sees only include/nnc/.
#include "nnc/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

namespace {

using nnc::ErrorCode;
using nnc::Model;
using nnc::OutputBuffer;
using nnc::TensorView;

constexpr const char* kTiny = R"(# A dense layer with relu, and its input twice as big.
model tiny {
  input x: f32[N, 3]
  h = dense(x, 2) -> relu
  twice = add(x, x)
  output h
  output twice
}
)";

// Weights of the tiny model: h = relu(x W^T + b).
const std::vector<float> kWeight = {0.5f, -1.0f, 2.0f, 1.5f, 0.25f, -0.75f};
const std::vector<float> kBias = {0.1f, -0.2f};

std::vector<TensorView> tinyWeights() {
  return {{"h.weight", kWeight.data(), {2, 3}}, {"h.bias", kBias.data(), {2}}};
}

/// relu(x W^T + b) in double, rounded once.
std::vector<float> expectedH(const std::vector<float>& x) {
  std::vector<float> y;
  for (size_t r = 0; r < x.size() / 3; ++r)
    for (size_t u = 0; u < 2; ++u) {
      double sum = kBias[u];
      for (size_t k = 0; k < 3; ++k)
        sum += double{x[r * 3 + k]} * kWeight[u * 3 + k];
      y.push_back(static_cast<float>(std::max(sum, 0.0)));
    }
  return y;
}

void expectNear(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 1e-6 * (1 + std::fabs(want[i]))) << "element " << i;
}

Model tinyModel() {
  nnc::Result<Model> model = Model::compileString(kTiny, "tiny.nn");
  EXPECT_TRUE(model.ok()) << (model.ok() ? "" : model.error().message);
  nnc::Status set = model->setWeights(tinyWeights());
  EXPECT_TRUE(set.ok()) << (set.ok() ? "" : set.error().message);
  return std::move(model).value();
}

TEST(Api, DescribesTheModel) {
  nnc::Result<Model> model = Model::compileString(kTiny, "tiny.nn");
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->name(), "tiny");
  ASSERT_EQ(model->inputs().size(), 1u);
  const nnc::TensorInfo& x = model->inputs()[0];
  EXPECT_EQ(x.name, "x");
  ASSERT_EQ(x.shape.size(), 2u);
  EXPECT_TRUE(x.shape[0].isSymbolic());
  EXPECT_EQ(x.shape[0].symbol, "N");
  EXPECT_EQ(x.shape[1].size, 3);
  ASSERT_EQ(model->outputs().size(), 2u);
  EXPECT_EQ(model->outputs()[0].name, "h");
  EXPECT_EQ(model->outputs()[1].name, "twice");
  ASSERT_EQ(model->weights().size(), 2u);
  EXPECT_EQ(model->weights()[0].name, "h.weight");
  EXPECT_EQ(model->weights()[0].shape[0].size, 2);
  EXPECT_EQ(model->weights()[1].name, "h.bias");
  EXPECT_FALSE(model->ready());
  EXPECT_TRUE(model->warnings().empty());
}

TEST(Api, RunsOnCallerBuffers) {
  Model model = tinyModel();
  ASSERT_TRUE(model.ready());
  EXPECT_GT(model.compileMilliseconds(), 0);
  std::vector<float> x = {1, 2, 3, -1, 0.5f, 4, 0, 0, -2};
  std::vector<float> h(6, NAN), twice(9, NAN);
  std::vector<OutputBuffer> outputs = {{"h", h.data(), h.size(), {}},
                                       {"twice", twice.data(), twice.size(), {}}};
  nnc::Status ran = model.run({{"x", x.data(), {3, 3}}}, outputs);
  ASSERT_TRUE(ran.ok()) << ran.error().message;
  EXPECT_EQ(outputs[0].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(outputs[1].shape, (std::vector<int64_t>{3, 3}));
  expectNear(h, expectedH(x));
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_EQ(twice[i], 2 * x[i]);

  // One output only, in a larger buffer; the shapes follow the batch.
  std::vector<float> one(10, NAN);
  std::vector<OutputBuffer> only = {{"h", one.data(), one.size(), {}}};
  ASSERT_TRUE(model.run({{"x", x.data(), {1, 3}}}, only).ok());
  EXPECT_EQ(only[0].shape, (std::vector<int64_t>{1, 2}));
  expectNear({one[0], one[1]}, expectedH({1, 2, 3}));
  auto shapes = model.outputShapes(std::vector<TensorView>{{"x", x.data(), {7, 3}}});
  ASSERT_TRUE(shapes.ok());
  EXPECT_EQ(shapes.value(), (std::vector<std::vector<int64_t>>{{7, 2}, {7, 3}}));
}

/// Writes the tiny model's weights as a safetensors file: a little-endian u64 header length, a
/// JSON header of dtype, shape and byte offsets, then the data.
void writeTinyWeights(const std::string& path) {
  std::string header = R"({"h.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                       R"("h.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}})";
  std::ofstream out(path, std::ios::binary);
  uint64_t length = header.size();
  out.write(reinterpret_cast<const char*>(&length), sizeof length);
  out << header;
  out.write(reinterpret_cast<const char*>(kWeight.data()), 24);
  out.write(reinterpret_cast<const char*>(kBias.data()), 8);
}

TEST(Api, OutputsThatNoStepWrites) {
  // An input passed through, and (once the identity is removed) one value given as two
  // outputs: the run copies them.
  nnc::Result<Model> model = Model::compileString("model pass {\n  input x: f32[N, 2]\n"
                                                  "  y = relu(x)\n  z = identity(y)\n"
                                                  "  output x, y, z\n}\n",
                                                  "pass.nn");
  ASSERT_TRUE(model.ok()) << model.error().message
                          << (model.error().diagnostics.empty()
                                  ? ""
                                  : model.error().diagnostics[0].rendered);
  ASSERT_TRUE(model->ready());
  std::vector<float> in = {-1, 2, 3, -4}, x(4), y(4), z(4);
  std::vector<OutputBuffer> outputs = {
      {"x", x.data(), 4, {}}, {"y", y.data(), 4, {}}, {"z", z.data(), 4, {}}};
  ASSERT_TRUE(model->run({{"x", in.data(), {2, 2}}}, outputs).ok());
  EXPECT_EQ(x, in);
  EXPECT_EQ(y, (std::vector<float>{0, 2, 3, 0}));
  EXPECT_EQ(z, y);
}

TEST(Api, EveryIsaGivesTheSameResult) {
  std::vector<float> x = {1, -2, 3, 0.5f, 4, -1};
  std::vector<float> want = expectedH(x);
  for (const char* isa : {"avx512", "avx2", "sse"}) {
    nnc::Options options;
    options.isa = isa;
    nnc::Result<Model> model = Model::compileString(kTiny, "tiny.nn", options);
    if (!model.ok() && model.error().code == ErrorCode::Unsupported)
      continue; // this CPU lacks it
    ASSERT_TRUE(model.ok()) << isa << ": " << model.error().message;
    ASSERT_TRUE(model->setWeights(tinyWeights()).ok());
    std::vector<float> h(4);
    std::vector<OutputBuffer> outputs = {{"h", h.data(), h.size(), {}}};
    ASSERT_TRUE(model->run({{"x", x.data(), {2, 3}}}, outputs).ok()) << isa;
    expectNear(h, want);
  }
}

TEST(Api, LoadsWeightsFromSafetensors) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("nnc_api_test_" + std::to_string(::getpid()) + ".safetensors"))
                         .string();
  writeTinyWeights(path);
  nnc::Result<Model> model = Model::compileString(kTiny, "tiny.nn");
  ASSERT_TRUE(model.ok());
  nnc::Status loaded = model->loadWeights(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  std::vector<float> x = {1, 2, 3}, h(2);
  std::vector<OutputBuffer> outputs = {{"h", h.data(), h.size(), {}}};
  ASSERT_TRUE(model->run({{"x", x.data(), {1, 3}}}, outputs).ok());
  expectNear(h, expectedH(x));

  // A missing file, and a corrupt one.
  EXPECT_EQ(model->loadWeights(path + ".missing").error().code, ErrorCode::Io);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a safetensors file";
  EXPECT_EQ(model->loadWeights(path).error().code, ErrorCode::Io);
  std::filesystem::remove(path);
}

TEST(Api, CompileErrorsComeBackAsDiagnostics) {
  nnc::Result<Model> model = Model::compileString("model broken {\n  input x: f32[N, 3]\n"
                                                  "  y = rleu(x)\n  output y\n}\n",
                                                  "broken.nn");
  ASSERT_FALSE(model.ok());
  const nnc::Error& error = model.error();
  EXPECT_EQ(error.code, ErrorCode::Compile);
  ASSERT_FALSE(error.diagnostics.empty());
  const nnc::Diagnostic& d = error.diagnostics.front();
  EXPECT_EQ(d.severity, nnc::Severity::Error);
  EXPECT_EQ(d.file, "broken.nn");
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 7);
  EXPECT_NE(d.message.find("rleu"), std::string::npos) << d.message;
  EXPECT_EQ(d.rendered.rfind("broken.nn:3:7: error: ", 0), 0u) << d.rendered;
  EXPECT_NE(d.rendered.find("^~~~"), std::string::npos) << d.rendered;
}

TEST(Api, BadOptionsAndFiles) {
  nnc::Options isa;
  isa.isa = "avx9000";
  EXPECT_EQ(Model::compileString(kTiny, "t.nn", isa).error().code, ErrorCode::InvalidArgument);
  nnc::Options passes;
  passes.passes = "fold-batchnorm,no-such-pass";
  EXPECT_EQ(Model::compileString(kTiny, "t.nn", passes).error().code, ErrorCode::InvalidArgument);
  nnc::Options threads;
  threads.threads = -1;
  EXPECT_EQ(Model::compileString(kTiny, "t.nn", threads).error().code, ErrorCode::InvalidArgument);
  threads.threads = 5000; // as many OS threads on the first run
  EXPECT_EQ(Model::compileString(kTiny, "t.nn", threads).error().code, ErrorCode::InvalidArgument);
  nnc::Options which;
  which.model = "tiny2";
  nnc::Result<Model> wrong = Model::compileString(kTiny, "t.nn", which);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("did you mean 'tiny'"), std::string::npos)
      << wrong.error().message;
  EXPECT_EQ(Model::compileFile("/nonexistent/model.nn").error().code, ErrorCode::Io);
  EXPECT_EQ(Model::compileFile("/").error().code, ErrorCode::Io);
  // No model at all, only a block.
  nnc::Result<Model> none = Model::compileString("block b(x) {\n  return relu(x)\n}\n", "b.nn");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::InvalidArgument);
  EXPECT_EQ(none.error().message, "'b.nn' defines no model");
  // Two models and no choice.
  std::string two = std::string(kTiny) + "model other {\n  input x: f32[4]\n  output x\n}\n";
  EXPECT_EQ(Model::compileString(two, "two.nn").error().code, ErrorCode::InvalidArgument);
  which.model = "other";
  nnc::Result<Model> other = Model::compileString(two, "two.nn", which);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->ready()); // no weights: compiled at once
}

TEST(Api, MisuseIsAnErrorNotACrash) {
  nnc::Result<Model> fresh = Model::compileString(kTiny, "tiny.nn");
  ASSERT_TRUE(fresh.ok());
  std::vector<float> x = {1, 2, 3}, h(2);
  std::vector<OutputBuffer> outputs = {{"h", h.data(), h.size(), {}}};
  // Running before the weights.
  EXPECT_EQ(fresh->run({{"x", x.data(), {1, 3}}}, outputs).error().code, ErrorCode::State);
  // Wrong weights: a name, a shape, one missing, one twice.
  std::vector<TensorView> weights = tinyWeights();
  weights[0].name = "h.wieght";
  EXPECT_EQ(fresh->setWeights(weights).error().code, ErrorCode::InvalidArgument);
  weights = tinyWeights();
  weights[0].shape = {3, 2};
  EXPECT_EQ(fresh->setWeights(weights).error().code, ErrorCode::InvalidArgument);
  weights.pop_back();
  EXPECT_EQ(fresh->setWeights(weights).error().code, ErrorCode::InvalidArgument);
  weights = tinyWeights();
  weights.push_back(weights[0]);
  EXPECT_EQ(fresh->setWeights(weights).error().code, ErrorCode::InvalidArgument);
  EXPECT_FALSE(fresh->ready());

  Model model = tinyModel();
  auto code = [&](std::vector<TensorView> inputs, std::vector<OutputBuffer> buffers) {
    nnc::Status status = model.run(inputs, buffers);
    return status.ok() ? std::string("ok") : status.error().message;
  };
  auto contains = [](const std::string& text, const char* part) {
    return text.find(part) != std::string::npos;
  };
  EXPECT_TRUE(contains(code({{"y", x.data(), {1, 3}}}, outputs), "needs input 'x'"));
  EXPECT_TRUE(contains(code({{"x", x.data(), {1, 3}}, {"y", x.data(), {1, 3}}}, outputs),
                       "no input named 'y'"));
  EXPECT_TRUE(contains(code({{"x", x.data(), {1, 4}}}, outputs), "axis 1 must be 3"));
  EXPECT_TRUE(contains(code({{"x", x.data(), {3}}}, outputs), "rank"));
  EXPECT_TRUE(
      contains(code({{"x", x.data(), {1, 3}}, {"x", x.data(), {1, 3}}}, outputs), "given twice"));
  EXPECT_TRUE(contains(code({{"x", nullptr, {1, 3}}}, outputs), "no data"));
  // A weight's count is checked as an input's is.
  std::vector<TensorView> huge = tinyWeights();
  huge[0].shape = {3, int64_t{1} << 62};
  nnc::Result<Model> weightless = Model::compileString(kTiny, "tiny.nn");
  ASSERT_TRUE(weightless.ok());
  nnc::Status hugeWeights = weightless->setWeights(huge);
  ASSERT_FALSE(hugeWeights.ok());
  EXPECT_TRUE(contains(hugeWeights.error().message, "more floats than a memory can hold"))
      << hugeWeights.error().message;
  EXPECT_TRUE(contains(code({{"x", x.data(), {-1, 3}}}, outputs), "negative"));
  EXPECT_TRUE(contains(code({{"x", x.data(), {2, 3}}}, outputs), "buffer holds 2"));
  EXPECT_TRUE(
      contains(code({{"x", x.data(), {1, 3}}}, {{"hh", h.data(), 2, {}}}), "did you mean 'h'"));
  EXPECT_TRUE(
      contains(code({{"x", x.data(), {1, 3}}}, {{"h", h.data(), 2, {}}, {"h", h.data(), 2, {}}}),
               "given twice"));
  EXPECT_TRUE(contains(code({{"x", x.data(), {1, 3}}}, {{"h", nullptr, 2, {}}}), "buffer"));
  // Sizes whose element count no memory holds: 3·2^60 floats, and (2^62 + 1)·3, whose product
  // wraps around a signed 64-bit count.
  EXPECT_TRUE(contains(code({{"x", x.data(), {int64_t{1} << 60, 3}}}, outputs),
                       "more floats than a memory can hold"));
  EXPECT_TRUE(contains(code({{"x", x.data(), {(int64_t{1} << 62) + 1, 3}}}, outputs),
                       "more floats than a memory can hold"));
  // Outputs that share bytes with an input or with each other.
  std::vector<float> wide = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_TRUE(contains(code({{"x", wide.data(), {1, 3}}}, {{"h", wide.data() + 2, 2, {}}}),
                       "the buffer of output 'h' overlaps input 'x'"));
  std::vector<float> shared(5);
  std::string outputs2 = code({{"x", x.data(), {1, 3}}},
                              {{"h", shared.data(), 2, {}}, {"twice", shared.data() + 1, 4, {}}});
  EXPECT_TRUE(contains(outputs2, "overlaps output 'h'") ||
              contains(outputs2, "overlaps output 'twice'"))
      << outputs2;
  EXPECT_EQ(code({{"x", x.data(), {1, 3}}},
                 {{"h", shared.data(), 2, {}}, {"twice", shared.data() + 2, 3, {}}}),
            "ok"); // side by side
  // After all that, the model still runs.
  EXPECT_EQ(code({{"x", x.data(), {1, 3}}}, outputs), "ok");
}

TEST(Api, SecondCompileLoadsFromTheCache) {
  std::filesystem::path directory =
      std::filesystem::temp_directory_path() / ("nnc_api_cache_" + std::to_string(::getpid()));
  std::filesystem::remove_all(directory);
  nnc::Options options;
  options.cacheDirectory = directory.string();
  auto compile = [&](const nnc::Options& o) {
    nnc::Result<Model> model = Model::compileString(kTiny, "tiny.nn", o);
    EXPECT_TRUE(model.ok() && model->setWeights(tinyWeights()).ok());
    return std::move(model).value();
  };
  EXPECT_FALSE(compile(options).codeFromCache());
  Model cached = compile(options);
  EXPECT_TRUE(cached.codeFromCache());
  std::vector<float> x = {1, 2, 3}, h(2);
  std::vector<OutputBuffer> outputs = {{"h", h.data(), h.size(), {}}};
  ASSERT_TRUE(cached.run({{"x", x.data(), {1, 3}}}, outputs).ok());
  expectNear(h, expectedH(x));
  options.cache = false;
  EXPECT_FALSE(compile(options).codeFromCache());
  std::filesystem::remove_all(directory);
}

TEST(Api, OneModelRunsFromManyThreadsAtOnce) {
  Model model = tinyModel();
  constexpr int kThreads = 4, kRuns = 50;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int run = 0; run < kRuns; ++run) {
        int64_t rows = 1 + (t + run) % 5;
        std::vector<float> x(static_cast<size_t>(rows * 3));
        for (size_t i = 0; i < x.size(); ++i)
          x[i] = static_cast<float>(t * 100 + run) * 0.01f - static_cast<float>(i);
        std::vector<float> h(static_cast<size_t>(rows * 2), NAN);
        std::vector<OutputBuffer> outputs = {{"h", h.data(), h.size(), {}}};
        std::vector<TensorView> inputs = {{"x", x.data(), {rows, 3}}};
        if (!model.run(inputs, outputs).ok()) {
          ++failures[static_cast<size_t>(t)];
          continue;
        }
        std::vector<float> want = expectedH(x);
        for (size_t i = 0; i < h.size(); ++i)
          if (std::fabs(h[i] - want[i]) > 1e-6f * (1 + std::fabs(want[i])))
            ++failures[static_cast<size_t>(t)];
      }
    });
  for (std::thread& thread : threads)
    thread.join();
  for (int t = 0; t < kThreads; ++t)
    EXPECT_EQ(failures[static_cast<size_t>(t)], 0) << "thread " << t;
}

} // namespace
