/* nnc's C API: the C++ API of nnc/model.h as an opaque handle and status codes, for C and for
 * other languages' foreign-function interfaces (examples/python/ calls it through ctypes).
 *
 * Errors: a call that fails returns its status and leaves a one-line message (and, for
 * NNC_COMPILE_ERROR, the diagnostics) for the calling thread, to read with nnc_last_error and
 * nnc_last_diagnostic until that thread's next call that returns an nnc_status. Strings the
 * API returns stay valid as long as their model (those of errors, until that next call).
 *
 * Threads: every call on a model may be made from any thread, also concurrently; a model
 * serializes its runs and weight changes (see nnc/model.h). */
#ifndef NNC_NNC_H
#define NNC_NNC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nnc_status {
  NNC_OK = 0,
  NNC_INVALID_ARGUMENT = 1, /* a wrong name, shape, buffer size, option or null pointer */
  NNC_COMPILE_ERROR = 2,    /* the model file has errors: see nnc_last_diagnostic */
  NNC_IO_ERROR = 3,         /* a file could not be read, or is corrupt */
  NNC_STATE_ERROR = 4,      /* a call out of order, such as running before the weights */
  NNC_UNSUPPORTED = 5,      /* this CPU lacks the ISA asked for */
  NNC_OUT_OF_MEMORY = 6,
  NNC_INTERNAL_ERROR = 7 /* a bug in nnc */
} nnc_status;

typedef struct nnc_model nnc_model;

/* Zero-initialized (or a null pointer): the host's ISA, one thread per core, the default
 * passes with fusion, and the file's only model. */
typedef struct nnc_options {
  const char* isa;    /* "host", "avx512", "avx2" or "sse"; NULL: "host" */
  int threads;        /* 0: one per core; at most 1024 */
  const char* passes; /* "default", "none" or pass names joined by commas; NULL: "default" */
  int no_fusion;      /* nonzero: the pipeline without its fusion passes */
  const char* model;  /* which model of the file; NULL: its only one */
  int no_cache;       /* nonzero: compile again instead of using the compile cache */
  const char* cache_directory; /* NULL: $NNC_CACHE_DIR, $XDG_CACHE_HOME/nnc or ~/.cache/nnc */
} nnc_options;

typedef enum nnc_severity {
  NNC_SEVERITY_ERROR = 0,
  NNC_SEVERITY_WARNING = 1,
  NNC_SEVERITY_NOTE = 2
} nnc_severity;

typedef struct nnc_diagnostic {
  nnc_severity severity;
  const char* file;
  int line;   /* 1-based; 0 when it concerns no place in the file */
  int column; /* 1-based */
  const char* message;
  const char* rendered; /* as nnc prints it, with the source line and a caret */
} nnc_diagnostic;

const char* nnc_version(void);

/* The calling thread's last error message ("" after a call that succeeded). */
const char* nnc_last_error(void);
size_t nnc_last_diagnostic_count(void);
nnc_status nnc_last_diagnostic(size_t index, nnc_diagnostic* out);

nnc_status nnc_compile_file(const char* path, const nnc_options* options, nnc_model** model);
/* `file_name` names the source in diagnostics. */
nnc_status nnc_compile_string(const char* source, const char* file_name, const nnc_options* options,
                              nnc_model** model);
void nnc_model_free(nnc_model* model);

typedef enum nnc_tensor_kind { NNC_INPUT = 0, NNC_OUTPUT = 1, NNC_WEIGHT = 2 } nnc_tensor_kind;

const char* nnc_model_name(const nnc_model* model);
size_t nnc_model_tensor_count(const nnc_model* model, nnc_tensor_kind kind);
/* NULL when `index` is out of range. */
const char* nnc_model_tensor_name(const nnc_model* model, nnc_tensor_kind kind, size_t index);
size_t nnc_model_tensor_rank(const nnc_model* model, nnc_tensor_kind kind, size_t index);
/* The size of an axis, or -1 for a symbolic one (and for an index out of range). */
int64_t nnc_model_tensor_dim(const nnc_model* model, nnc_tensor_kind kind, size_t index,
                             size_t axis);
/* The symbol of a symbolic axis ("N"); "" for a known size. */
const char* nnc_model_tensor_symbol(const nnc_model* model, nnc_tensor_kind kind, size_t index,
                                    size_t axis);

/* A caller-owned tensor: row-major floats. */
typedef struct nnc_tensor {
  const char* name;
  const float* data;
  const int64_t* shape;
  size_t rank;
} nnc_tensor;

nnc_status nnc_model_load_weights(nnc_model* model, const char* safetensors_path);
/* Copies every weight, all at once. */
nnc_status nnc_model_set_weights(nnc_model* model, const nnc_tensor* weights, size_t count);
/* Nonzero when the model has its weights (or needs none) and can run. */
int nnc_model_ready(const nnc_model* model);

#define NNC_MAX_RANK 8

/* A caller-owned output buffer of `capacity` floats; a run writes the output there and sets
 * `shape` and `rank`. */
typedef struct nnc_output {
  const char* name;
  float* data;
  size_t capacity;
  int64_t shape[NNC_MAX_RANK];
  size_t rank;
} nnc_output;

/* The shape of output `output` for these inputs, into shape[NNC_MAX_RANK] and *rank. */
nnc_status nnc_model_output_shape(const nnc_model* model, const nnc_tensor* inputs,
                                  size_t input_count, const char* output, int64_t* shape,
                                  size_t* rank);
/* Reads the inputs where they lie and writes each named output into its buffer. */
nnc_status nnc_model_run(const nnc_model* model, const nnc_tensor* inputs, size_t input_count,
                         nnc_output* outputs, size_t output_count);

#ifdef __cplusplus
}
#endif

#endif /* NNC_NNC_H */
