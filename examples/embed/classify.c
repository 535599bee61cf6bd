/* Embeds nnc through its C API (nnc/nnc.h): the same program as classify.cpp, in C.
 *
 *   classify_c MODEL.nn WEIGHTS.safetensors [BATCH] */
#include <nnc/nnc.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char* what) {
  for (size_t i = 0; i < nnc_last_diagnostic_count(); ++i) {
    nnc_diagnostic d;
    if (nnc_last_diagnostic(i, &d) == NNC_OK)
      fputs(d.rendered, stderr);
  }
  fprintf(stderr, "classify_c: %s: %s\n", what, nnc_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: classify_c MODEL.nn WEIGHTS.safetensors [BATCH]\n");
    return 2;
  }
  int64_t batch = argc > 3 ? atoll(argv[3]) : 2;
  nnc_model* model = NULL;
  if (nnc_compile_file(argv[1], NULL, &model) != NNC_OK)
    return fail("compile");
  if (nnc_model_load_weights(model, argv[2]) != NNC_OK)
    return fail("weights");

  size_t inputCount = nnc_model_tensor_count(model, NNC_INPUT);
  nnc_tensor* inputs = calloc(inputCount, sizeof *inputs);
  int64_t(*shapes)[NNC_MAX_RANK] = calloc(inputCount, sizeof *shapes);
  for (size_t i = 0; i < inputCount; ++i) {
    size_t rank = nnc_model_tensor_rank(model, NNC_INPUT, i);
    size_t count = 1;
    for (size_t axis = 0; axis < rank; ++axis) {
      int64_t size = nnc_model_tensor_dim(model, NNC_INPUT, i, axis);
      shapes[i][axis] = size < 0 ? batch : size;
      count *= (size_t)shapes[i][axis];
    }
    float* values = malloc(count * sizeof *values);
    for (size_t k = 0; k < count; ++k)
      values[k] = (float)sin(0.1 * (double)k);
    inputs[i] = (nnc_tensor){nnc_model_tensor_name(model, NNC_INPUT, i), values, shapes[i], rank};
  }

  size_t outputCount = nnc_model_tensor_count(model, NNC_OUTPUT);
  nnc_output* outputs = calloc(outputCount, sizeof *outputs);
  for (size_t o = 0; o < outputCount; ++o) {
    const char* name = nnc_model_tensor_name(model, NNC_OUTPUT, o);
    int64_t shape[NNC_MAX_RANK];
    size_t rank = 0, count = 1;
    if (nnc_model_output_shape(model, inputs, inputCount, name, shape, &rank) != NNC_OK)
      return fail("output shape");
    for (size_t axis = 0; axis < rank; ++axis)
      count *= (size_t)shape[axis];
    outputs[o].name = name;
    outputs[o].data = malloc(count * sizeof(float));
    outputs[o].capacity = count;
  }
  if (nnc_model_run(model, inputs, inputCount, outputs, outputCount) != NNC_OK)
    return fail("run");

  for (size_t o = 0; o < outputCount; ++o) {
    size_t count = outputs[o].capacity;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < count; ++k) {
      double v = outputs[o].data[k];
      sum += v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    printf("%s: f32[", outputs[o].name);
    for (size_t axis = 0; axis < outputs[o].rank; ++axis)
      printf("%s%lld", axis ? ", " : "", (long long)outputs[o].shape[axis]);
    printf("] min %.6g max %.6g mean %.6g\n", lo, hi, count ? sum / (double)count : 0.0);
    free(outputs[o].data);
  }
  for (size_t i = 0; i < inputCount; ++i)
    free((void*)inputs[i].data);
  free(outputs);
  free(shapes);
  free(inputs);
  nnc_model_free(model);
  return 0;
}
