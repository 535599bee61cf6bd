// The C API (nnc/nnc.h): handles, status codes, the per-thread last error, and misuse.
#include "nnc/nnc.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

constexpr const char* kSource = "model affine {\n"
                                "  input x: f32[N, 2]\n"
                                "  y = dense(x, 1)\n"
                                "  output y\n"
                                "}\n";

/// The model with y = 2·x0 − x1 + 0.5.
nnc_model* affine() {
  nnc_model* model = nullptr;
  EXPECT_EQ(nnc_compile_string(kSource, "affine.nn", nullptr, &model), NNC_OK) << nnc_last_error();
  const float weight[] = {2, -1}, bias[] = {0.5f};
  const int64_t weightShape[] = {1, 2}, biasShape[] = {1};
  const nnc_tensor weights[] = {{"y.weight", weight, weightShape, 2},
                                {"y.bias", bias, biasShape, 1}};
  EXPECT_EQ(nnc_model_set_weights(model, weights, 2), NNC_OK) << nnc_last_error();
  return model;
}

TEST(CApi, DescribesAndRunsAModel) {
  nnc_model* model = affine();
  ASSERT_NE(model, nullptr);
  EXPECT_STREQ(nnc_model_name(model), "affine");
  EXPECT_STRNE(nnc_version(), "");
  ASSERT_EQ(nnc_model_tensor_count(model, NNC_INPUT), 1u);
  EXPECT_STREQ(nnc_model_tensor_name(model, NNC_INPUT, 0), "x");
  EXPECT_EQ(nnc_model_tensor_rank(model, NNC_INPUT, 0), 2u);
  EXPECT_EQ(nnc_model_tensor_dim(model, NNC_INPUT, 0, 0), -1);
  EXPECT_STREQ(nnc_model_tensor_symbol(model, NNC_INPUT, 0, 0), "N");
  EXPECT_EQ(nnc_model_tensor_dim(model, NNC_INPUT, 0, 1), 2);
  EXPECT_STREQ(nnc_model_tensor_symbol(model, NNC_INPUT, 0, 1), "");
  EXPECT_EQ(nnc_model_tensor_count(model, NNC_WEIGHT), 2u);
  EXPECT_EQ(nnc_model_tensor_name(model, NNC_OUTPUT, 5), nullptr);
  EXPECT_EQ(nnc_model_tensor_dim(model, NNC_OUTPUT, 0, 9), -1);
  EXPECT_EQ(nnc_model_ready(model), 1);

  const float x[] = {1, 2, 3, -4, 0.25f, 0};
  const int64_t shape[] = {3, 2};
  nnc_tensor input = {"x", x, shape, 2};
  int64_t outShape[NNC_MAX_RANK];
  size_t rank = 0;
  ASSERT_EQ(nnc_model_output_shape(model, &input, 1, "y", outShape, &rank), NNC_OK);
  ASSERT_EQ(rank, 2u);
  EXPECT_EQ(outShape[0], 3);
  EXPECT_EQ(outShape[1], 1);
  float y[3] = {NAN, NAN, NAN};
  nnc_output output = {"y", y, 3, {}, 0};
  ASSERT_EQ(nnc_model_run(model, &input, 1, &output, 1), NNC_OK) << nnc_last_error();
  EXPECT_STREQ(nnc_last_error(), "");
  EXPECT_EQ(output.rank, 2u);
  EXPECT_EQ(output.shape[0], 3);
  EXPECT_FLOAT_EQ(y[0], 0.5f);
  EXPECT_FLOAT_EQ(y[1], 10.5f);
  EXPECT_FLOAT_EQ(y[2], 1.0f);
  nnc_model_free(model);
  nnc_model_free(nullptr); // like free()
}

TEST(CApi, CompileErrorsLeaveDiagnostics) {
  nnc_model* model = nullptr;
  EXPECT_EQ(
      nnc_compile_string("model m {\n  input x: f32[2]\n  output z\n}\n", "m.nn", nullptr, &model),
      NNC_COMPILE_ERROR);
  EXPECT_EQ(model, nullptr);
  EXPECT_NE(std::string(nnc_last_error()).find("m.nn"), std::string::npos);
  ASSERT_GE(nnc_last_diagnostic_count(), 1u);
  nnc_diagnostic d;
  ASSERT_EQ(nnc_last_diagnostic(0, &d), NNC_OK);
  EXPECT_EQ(d.severity, NNC_SEVERITY_ERROR);
  EXPECT_STREQ(d.file, "m.nn");
  EXPECT_EQ(d.line, 3);
  EXPECT_NE(std::string(d.message).find("'z'"), std::string::npos) << d.message;
  EXPECT_EQ(std::string(d.rendered).rfind("m.nn:3:", 0), 0u) << d.rendered;
  EXPECT_EQ(nnc_last_diagnostic(99, &d), NNC_INVALID_ARGUMENT);
  EXPECT_EQ(nnc_compile_file("/nonexistent.nn", nullptr, &model), NNC_IO_ERROR);
  nnc_options options = {};
  options.isa = "mmx";
  EXPECT_EQ(nnc_compile_string(kSource, "affine.nn", &options, &model), NNC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(nnc_last_error()).find("mmx"), std::string::npos);
}

TEST(CApi, MisuseGetsAStatus) {
  nnc_model* model = nullptr;
  EXPECT_EQ(nnc_compile_string(nullptr, "x.nn", nullptr, &model), NNC_INVALID_ARGUMENT);
  EXPECT_EQ(nnc_compile_file("x.nn", nullptr, nullptr), NNC_INVALID_ARGUMENT);
  ASSERT_EQ(nnc_compile_string(kSource, "affine.nn", nullptr, &model), NNC_OK);
  const float x[] = {1, 2};
  const int64_t shape[] = {1, 2};
  nnc_tensor input = {"x", x, shape, 2};
  float y[1];
  nnc_output output = {"y", y, 1, {}, 0};
  EXPECT_EQ(nnc_model_ready(model), 0);
  EXPECT_EQ(nnc_model_run(model, &input, 1, &output, 1), NNC_STATE_ERROR);
  EXPECT_EQ(nnc_model_load_weights(model, "/nonexistent.safetensors"), NNC_IO_ERROR);
  const int64_t wrongShape[] = {2, 1};
  const float weight[] = {1, 1};
  const nnc_tensor wrong = {"y.weight", weight, wrongShape, 2};
  EXPECT_EQ(nnc_model_set_weights(model, &wrong, 1), NNC_INVALID_ARGUMENT);
  EXPECT_EQ(nnc_model_set_weights(model, nullptr, 1), NNC_INVALID_ARGUMENT);
  nnc_model_free(model);

  model = affine();
  nnc_output small = {"y", y, 0, {}, 0};
  EXPECT_EQ(nnc_model_run(model, &input, 1, &small, 1), NNC_INVALID_ARGUMENT);
  EXPECT_NE(std::string(nnc_last_error()).find("buffer holds 0"), std::string::npos);
  nnc_output unknown = {"z", y, 1, {}, 0};
  EXPECT_EQ(nnc_model_run(model, &input, 1, &unknown, 1), NNC_INVALID_ARGUMENT);
  nnc_output unnamed = {nullptr, y, 1, {}, 0};
  EXPECT_EQ(nnc_model_run(model, &input, 1, &unnamed, 1), NNC_INVALID_ARGUMENT);
  nnc_tensor noShape = {"x", x, nullptr, 2};
  EXPECT_EQ(nnc_model_run(model, &noShape, 1, &output, 1), NNC_INVALID_ARGUMENT);
  EXPECT_EQ(nnc_model_run(nullptr, &input, 1, &output, 1), NNC_INVALID_ARGUMENT);
  int64_t outShape[NNC_MAX_RANK];
  size_t rank = 0;
  EXPECT_EQ(nnc_model_output_shape(model, &input, 1, "nope", outShape, &rank),
            NNC_INVALID_ARGUMENT);
  EXPECT_EQ(nnc_model_run(model, &input, 1, &output, 1), NNC_OK);
  EXPECT_FLOAT_EQ(y[0], 0.5f);
  nnc_model_free(model);
}

} // namespace
