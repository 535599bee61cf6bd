/* A program that runs the MLP example compiled ahead of time, with no LLVM:
 *
 *   nnc compile examples/mlp.nn -o mlp.o --weights mlp.safetensors   # writes mlp.o and mlp.h
 *   cc -I. examples/aot/mlp_main.c mlp.o -lnnc_rt -lm -o mlp
 *   ./mlp 3
 *
 * Without --weights, mlp_run takes the weights: this program then reads them from a file of
 * raw floats, every array of MLP_WEIGHT_SIZES one after the other (./mlp 3 weights.bin).
 * The input's values are sin(0.1·i); the output is printed as `nnc run` prints it. */
#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  int64_t batch = argc > 1 ? atoll(argv[1]) : 2;
  float* x = malloc((size_t)batch * 784 * sizeof *x);
  float* y = malloc((size_t)batch * 10 * sizeof *y);
  for (int64_t i = 0; i < batch * 784; ++i)
    x[i] = (float)sin(0.1 * (double)i);
#if MLP_WEIGHT_COUNT > 0
  static const size_t sizes[] = MLP_WEIGHT_SIZES;
  const float* weights[MLP_WEIGHT_COUNT];
  FILE* file = argc > 2 ? fopen(argv[2], "rb") : NULL;
  if (!file) {
    fprintf(stderr, "usage: mlp BATCH WEIGHTS.bin (raw floats in the order of mlp.h)\n");
    return 2;
  }
  for (int w = 0; w < MLP_WEIGHT_COUNT; ++w) {
    float* data = malloc(sizes[w] * sizeof *data);
    if (fread(data, sizeof *data, sizes[w], file) != sizes[w]) {
      fprintf(stderr, "mlp: %s is too short\n", argv[2]);
      return 1;
    }
    weights[w] = data;
  }
  fclose(file);
  int status = mlp_run(x, batch, y, weights);
#else
  int status = mlp_run(x, batch, y);
#endif
  if (status != 0) {
    fprintf(stderr, "mlp: %s\n", nnc_aot_last_error());
    return 1;
  }
  double sum = 0, lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < batch * 10; ++i) {
    sum += y[i];
    lo = y[i] < lo ? y[i] : lo;
    hi = y[i] > hi ? y[i] : hi;
  }
  printf("y: f32[%lld, 10] min %.6g max %.6g mean %.6g\n", (long long)batch, lo, hi,
         sum / (double)(batch * 10));
  free(x);
  free(y);
  return 0;
}
