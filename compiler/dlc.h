/*===- dlc.h - the C API of the embeddable dlc compiler -------------*- C -*-===//
//
// A C interface to dlc::Model (compiler/JIT.h) for C programs and for other
// languages' foreign-function interfaces. Handles are opaque; every call that
// can fail returns a dlc_status_t, and the message of the latest failure on
// the calling thread is read with dlc_last_error(). Nothing is printed and
// nothing exits. Tensors cross the API as dlc_tensor_t: row-major f32 or i32
// buffers with a shape.
//
//===----------------------------------------------------------------------===*/

#ifndef DLC_COMPILER_DLC_H
#define DLC_COMPILER_DLC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*===----------------------------------------------------------------------===//
// Status, errors and versions
//===----------------------------------------------------------------------===*/

/// The outcome of a call.
typedef enum dlc_status {
  DLC_OK = 0,               ///< success
  DLC_ERROR = 1,            ///< the model, the compiler or the run failed
  DLC_INVALID_ARGUMENT = 2, ///< a null pointer, an unknown enum value, an index
                            ///< out of range or a malformed tensor
} dlc_status_t;

/// Returns the message of the most recent failed call made on this thread
/// ("" when none failed yet). Model errors carry file:line:col, the source
/// line and a caret. The text stays valid until the next failing call on
/// this thread; successful calls leave it unchanged.
const char *dlc_last_error(void);

/// Returns the library version, "MAJOR.MINOR.PATCH".
const char *dlc_version(void);

/*===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===*/

/// Element types.
typedef enum dlc_dtype {
  DLC_F32 = 0, ///< float
  DLC_I32 = 1, ///< int32_t
} dlc_dtype_t;

/// A dense row-major tensor. As an argument (a feed, a param value) every
/// pointer is borrowed for the duration of the call. As a result (from
/// dlc_model_run, dlc_model_gradients, dlc_model_get_param) the library owns
/// the strings, the shape and a copy of the data, and dlc_tensors_free
/// releases them.
typedef struct dlc_tensor {
  const char *name;     ///< the input, param or result name
  const char *role;     ///< results: "loss", "metric", "output" or "grad"
                        ///< (gradients); ignored in arguments (may be NULL)
  dlc_dtype_t dtype;    ///< the element type
  int64_t rank;         ///< the number of dimensions (0 for a scalar)
  const int64_t *shape; ///< `rank` dimensions (may be NULL when rank is 0)
  const void *data;     ///< dlc_tensor_num_elements() elements of `dtype`
} dlc_tensor_t;

/// Returns the number of elements of `tensor` (1 for a scalar), or -1 when a
/// dimension is negative or the count overflows.
int64_t dlc_tensor_num_elements(const dlc_tensor_t *tensor);

/// Frees `count` tensors returned by the library, and the array holding
/// them. Accepts NULL.
void dlc_tensors_free(dlc_tensor_t *tensors, size_t count);

/*===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===*/

/// A loaded model with its params and its cache of compiled entry points.
/// A model is not thread-safe; distinct models may be used concurrently.
typedef struct dlc_model dlc_model_t;

/// Compile targets.
typedef enum dlc_target {
  DLC_TARGET_CPU = 0,
  DLC_TARGET_CUDA = 1,
} dlc_target_t;

/// Compile options; fill with dlc_options_init, then change fields.
typedef struct dlc_options {
  dlc_target_t target; ///< DLC_TARGET_CPU by default
  unsigned opt_level;  ///< LLVM optimization level, 0-3 (3)
  int vectorize;       ///< tile and vectorize matmul and convolution (1)
  int use_cache;       ///< use the on-disk compile cache, $XDG_CACHE_HOME/dlc (1)
} dlc_options_t;

/// Sets `options` to the defaults.
void dlc_options_init(dlc_options_t *options);

/// Parses and checks the model file at `path`, compiling for `options`
/// (NULL for the defaults). On success stores a new model in `*model`, to be
/// released with dlc_model_free; on failure stores NULL.
dlc_status_t dlc_model_from_file(const char *path, const dlc_options_t *options,
                                 dlc_model_t **model);

/// Same, from the source text `source`; `name` stands for the file name in
/// messages (NULL for "<source>").
dlc_status_t dlc_model_from_source(const char *source, const char *name,
                                   const dlc_options_t *options,
                                   dlc_model_t **model);

/// Releases `model` and everything compiled for it. Accepts NULL.
void dlc_model_free(dlc_model_t *model);

/// Returns the model name (from `model NAME`), valid while `model` lives.
const char *dlc_model_name(const dlc_model_t *model);

/// Describes an input or a param. The pointers stay valid while the model
/// lives.
typedef struct dlc_value_info {
  const char *name;
  dlc_dtype_t dtype;
  int64_t rank;
  const int64_t *shape; ///< -1 for a symbolic dimension (inputs only)
  /// `rank` dimension symbols ("N"; "" for a static dimension).
  const char *const *dim_names;
} dlc_value_info_t;

/// Returns the number of inputs.
size_t dlc_model_num_inputs(const dlc_model_t *model);
/// Describes input `index` (declaration order).
dlc_status_t dlc_model_input_info(const dlc_model_t *model, size_t index,
                                  dlc_value_info_t *info);
/// Returns the number of params.
size_t dlc_model_num_params(const dlc_model_t *model);
/// Describes param `index` (declaration order).
dlc_status_t dlc_model_param_info(const dlc_model_t *model, size_t index,
                                  dlc_value_info_t *info);

/// Sets every param from its initializer, drawing from a generator seeded
/// with `seed`. Params are also initialized on first use (with the model's
/// train seed, or 0) when this is not called.
dlc_status_t dlc_model_init_params(dlc_model_t *model, int64_t seed);

/// Copies `value` (its name is ignored) into param `name`; dtype and shape
/// must match the declaration.
dlc_status_t dlc_model_set_param(dlc_model_t *model, const char *name,
                                 const dlc_tensor_t *value);

/// Stores a copy of param `name` in `*value`; release it with
/// dlc_tensors_free(*value, 1).
dlc_status_t dlc_model_get_param(dlc_model_t *model, const char *name,
                                 dlc_tensor_t **value);

/// Evaluates the outputs, and the loss and metrics whose inputs are fed.
/// `feeds` names inputs, or params to override for this run only. One entry
/// point is compiled (and cached) per set of fed inputs. Stores the results
/// in `*results` and their number in `*num_results`; release them with
/// dlc_tensors_free(*results, *num_results).
dlc_status_t dlc_model_run(dlc_model_t *model, const dlc_tensor_t *feeds,
                           size_t num_feeds, dlc_tensor_t **results,
                           size_t *num_results);

/// Computes the loss, the metrics and the gradient of the loss with respect
/// to every trained param (role "grad", named after the param); all inputs
/// must be fed. Dropout is the identity. Results as for dlc_model_run.
dlc_status_t dlc_model_gradients(dlc_model_t *model, const dlc_tensor_t *feeds,
                                 size_t num_feeds, dlc_tensor_t **results,
                                 size_t *num_results);

/// Sets every param from the checkpoint at `path` (a safetensors file written
/// by dlc train, dlc-rt, dlc_trainer_save or another program): each param must
/// be there with its declared dtype and shape.
dlc_status_t dlc_model_load_params(dlc_model_t *model, const char *path);

/*===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===*/

/// Training options; fill with dlc_train_options_init, then change fields.
/// -1 and NULL keep the model's own values (its train and data blocks).
typedef struct dlc_train_options {
  const char *data_dir; ///< the folder relative data paths resolve against
                        ///< (NULL: the model file's folder)
  int64_t steps;        ///< the step count to reach (-1)
  int64_t batch;        ///< examples per step (-1)
  int64_t validation;   ///< training examples held out for validation (-1)
  int64_t seed;         ///< the seed of shuffling and dropout (-1)
  const char *restore;  ///< a checkpoint to resume from (the same model) or to
                        ///< start from (another model's params); NULL: none
} dlc_train_options_t;

/// Sets `options` to the defaults (every field -1 or NULL).
void dlc_train_options_init(dlc_train_options_t *options);

/// Trains a model: its compiled training program, its data sets, the
/// optimizer state and the step. Not thread-safe.
typedef struct dlc_trainer dlc_trainer_t;

/// Compiles `model`'s training program (train_step and eval), loads its data
/// sets and restores `options->restore` (NULL options: the defaults). The
/// trainer starts from the model's current params; `model` must outlive it.
/// On failure stores NULL in `*trainer`.
dlc_status_t dlc_trainer_new(dlc_model_t *model, const dlc_train_options_t *options,
                             dlc_trainer_t **trainer);

/// Releases `trainer`. Accepts NULL.
void dlc_trainer_free(dlc_trainer_t *trainer);

/// Trains until the step count is reached (validation passes as the model
/// says) and copies the trained params into the model, where
/// dlc_model_get_param and dlc_model_run see them. Stores the step reached
/// in `*step` (NULL: not wanted).
dlc_status_t dlc_trainer_train(dlc_trainer_t *trainer, int64_t *step);

/// Evaluates the loss and every metric on the loaded set `set` ("train",
/// "validation" or "test"), averaged over its examples. Results are f32
/// scalars with role "loss" or "metric", as for dlc_model_run.
dlc_status_t dlc_trainer_evaluate(dlc_trainer_t *trainer, const char *set,
                                  dlc_tensor_t **results, size_t *num_results);

/// Writes the params, the optimizer state and the step to the checkpoint
/// `path` (atomically: the previous file stays intact on any failure).
dlc_status_t dlc_trainer_save(const dlc_trainer_t *trainer, const char *path);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // DLC_COMPILER_DLC_H
