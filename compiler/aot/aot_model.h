/* What `nnc compile` puts into an object file for one model, and the runtime entry that its
 * generated function calls (libnnc_rt, which does not link LLVM). Version 1. */
#ifndef NNC_AOT_MODEL_H
#define NNC_AOT_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every field is 8 bytes: the generator emits it as an LLVM struct of i64 and pointers. */
typedef struct nnc_aot_model {
  int64_t version;    /* 1 */
  const char* source; /* the .nn file's text, compiled again at the first call */
  const char* file_name;
  const char* model_name;
  const char* isa;              /* "avx512", "avx2" or "sse" */
  const char* passes;           /* the pipeline, as nnc run --passes takes it */
  int64_t fusion;               /* 0: without the fusion passes */
  const unsigned char* weights; /* a safetensors image, or NULL: the caller passes them */
  int64_t weights_size;
  int64_t symbol_count; /* the kernels, by name */
  const char* const* symbol_names;
  void* const* symbol_addresses;
  void** state; /* a pointer, NULL at first, that the runtime sets to the model it builds */
} nnc_aot_model;

/* Runs `model`: inputs in the model's order, the size of each symbol in order of first
 * appearance among the inputs' shapes, outputs into caller buffers of the outputs' sizes, and
 * (when the object has none) the weights in the model's order, read and copied at the first
 * call only. Returns 0, or 1 with the reason in nnc_aot_last_error(). Calls may come from
 * several threads; one model runs one at a time. */
int nnc_aot_run(const nnc_aot_model* model, const float* const* inputs, const int64_t* symbols,
                float* const* outputs, const float* const* weights);

/* The calling thread's last error ("" when there is none). */
const char* nnc_aot_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* NNC_AOT_MODEL_H */
