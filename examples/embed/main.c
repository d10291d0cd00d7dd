/*===- main.c - embedding dlc through its C API ---------------------------===//
//
// The same walk as main.cpp in C99: load the linear model from a string,
// list its inputs and params, run it, set its params and run it again, take
// gradients, and read errors with dlc_last_error(). Exits 1 when a number
// differs from the value the lecture gives.
//
//===----------------------------------------------------------------------===*/

#include "compiler/dlc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *kSource =
    "model linear_model\n"
    "\n"
    "param W: f32[1] = [0.3]\n"
    "param b: f32[1] = [-0.3]\n"
    "\n"
    "input x: f32[N]\n"
    "input y: f32[N]\n"
    "\n"
    "linear_model = W * x + b\n"
    "loss = sum(square(linear_model - y))\n"
    "\n"
    "output linear_model\n";

/* Lab 4: linear regression by gradient descent, with its data and training. */
static const char *kTrainSource =
    "model linear_regression\n"
    "param W: f32[1] = [0.3]\n"
    "param b: f32[1] = [-0.3]\n"
    "input x: f32[N]\n"
    "input y: f32[N]\n"
    "linear_model = W * x + b\n"
    "loss = sum(square(linear_model - y))\n"
    "metric max_error = max(abs(linear_model - y))\n"
    "data train { x = [1, 2, 3, 4]; y = [0, -1, -2, -3] }\n"
    "data test  { x = [-1, 0.5]; y = [2, 0.5] }\n"
    "train { optimizer = sgd(lr=0.01); steps = 1000 }\n";

static int failed = 0;

/// Prints `t` as "[a, b, c]" (a scalar without brackets).
static void printTensor(const dlc_tensor_t *t) {
  int64_t n = dlc_tensor_num_elements(t);
  if (t->rank > 0)
    printf("[");
  for (int64_t i = 0; i < n; ++i) {
    if (i)
      printf(", ");
    if (t->dtype == DLC_F32)
      printf("%g", ((const float *)t->data)[i]);
    else
      printf("%d", ((const int32_t *)t->data)[i]);
  }
  if (t->rank > 0)
    printf("]");
}

/// Prints each result as "role name = value".
static void show(const dlc_tensor_t *results, size_t count) {
  for (size_t r = 0; r < count; ++r) {
    printf("  %s %s = ", results[r].role, results[r].name);
    printTensor(&results[r]);
    printf("\n");
  }
}

/// Checks the result named `name` against `want`.
static void expect(const dlc_tensor_t *results, size_t count, const char *name,
                   const float *want, int64_t numWant) {
  for (size_t r = 0; r < count; ++r) {
    const dlc_tensor_t *t = &results[r];
    if (strcmp(t->name, name) != 0)
      continue;
    int same = t->dtype == DLC_F32 && dlc_tensor_num_elements(t) == numWant;
    for (int64_t i = 0; same && i < numWant; ++i) {
      float got = ((const float *)t->data)[i];
      same = fabsf(got - want[i]) <= 1e-4f * (1 + fabsf(want[i]));
    }
    if (same)
      return;
  }
  printf("  error: unexpected %s\n", name);
  failed = 1;
}

/// Prints the last error when `status` is not DLC_OK.
static int check(dlc_status_t status, const char *what) {
  if (status == DLC_OK)
    return 1;
  printf("error: %s: %s\n", what, dlc_last_error());
  failed = 1;
  return 0;
}

/// Prints a value description as "name: f32[N]".
static void printInfo(const char *kind, const dlc_value_info_t *info) {
  printf("  %s %s: %s[", kind, info->name, info->dtype == DLC_F32 ? "f32" : "i32");
  for (int64_t i = 0; i < info->rank; ++i) {
    if (i)
      printf(", ");
    if (info->shape[i] < 0)
      printf("%s", info->dim_names[i]);
    else
      printf("%lld", (long long)info->shape[i]);
  }
  printf("]\n");
}

/* Trains Lab 4's model through the C API, evaluates it, saves a checkpoint to
   `checkpoint` and loads it into a fresh model. */
static void train(const char *checkpoint) {
  printf("training\n");
  dlc_model_t *model = NULL, *restored = NULL;
  dlc_trainer_t *trainer = NULL;
  dlc_tensor_t *results = NULL, *param = NULL;
  size_t count = 0;
  int64_t step = 0;
  dlc_train_options_t options;
  dlc_train_options_init(&options);
  if (!check(dlc_model_from_source(kTrainSource, "linear_regression.dl", NULL, &model),
             "load") ||
      !check(dlc_trainer_new(model, &options, &trainer), "trainer") ||
      !check(dlc_trainer_train(trainer, &step), "train"))
    goto done;
  printf("  trained to step %lld\n", (long long)step);
  /* The lecture's values: W = -0.9999969, b = 0.99999082. */
  const float wantW[] = {-0.9999969f}, wantB[] = {0.99999082f};
  if (check(dlc_model_get_param(model, "W", &param), "get W")) {
    printf("  W = ");
    printTensor(param);
    printf("\n");
    expect(param, 1, "W", wantW, 1);
    dlc_tensors_free(param, 1);
  }
  if (check(dlc_trainer_evaluate(trainer, "test", &results, &count), "evaluate")) {
    show(results, count);
    dlc_tensors_free(results, count);
  }
  if (!check(dlc_trainer_save(trainer, checkpoint), "save"))
    goto done;
  printf("  saved\n");
  /* A fresh model takes the trained params from the checkpoint. */
  if (check(dlc_model_from_source(kTrainSource, "linear_regression.dl", NULL, &restored),
            "load") &&
      check(dlc_model_load_params(restored, checkpoint), "load params") &&
      check(dlc_model_get_param(restored, "b", &param), "get b")) {
    printf("  restored b = ");
    printTensor(param);
    printf("\n");
    expect(param, 1, "b", wantB, 1);
    dlc_tensors_free(param, 1);
  }

  /* Bad arguments are error codes with a message, never a crash. */
  printf("training errors\n");
  dlc_status_t s = dlc_trainer_evaluate(trainer, "everything", &results, &count);
  printf("  evaluate: %d %s\n", (int)s, dlc_last_error());
  s = dlc_trainer_new(NULL, NULL, &trainer);
  printf("  trainer: %d %s\n", (int)s, dlc_last_error());
  s = dlc_model_load_params(model, "no-such.safetensors");
  printf("  load params: %d %s\n", (int)s, dlc_last_error());
  options.steps = 0;
  dlc_trainer_t *bad = NULL;
  s = dlc_trainer_new(model, &options, &bad);
  printf("  steps: %d %s\n", (int)s, dlc_last_error());
  const int64_t huge[] = {1};
  dlc_tensor_t wild = {"W", NULL, DLC_F32, 1000000, huge, wantW};
  s = dlc_model_set_param(model, "W", &wild);
  printf("  rank: %d %s\n", (int)s, dlc_last_error());
  s = dlc_trainer_save(NULL, checkpoint);
  printf("  save: %d %s\n", (int)s, dlc_last_error());
done:
  dlc_trainer_free(trainer);
  dlc_model_free(restored);
  dlc_model_free(model);
}

int main(int argc, char **argv) {
  dlc_options_t options;
  dlc_options_init(&options);
  options.target = DLC_TARGET_CPU;
  dlc_model_t *model = NULL;
  if (!check(dlc_model_from_source(kSource, "linear_model.dl", &options, &model),
             "load"))
    return 1;

  printf("model %s (dlc %s)\n", dlc_model_name(model), dlc_version());
  for (size_t i = 0; i < dlc_model_num_inputs(model); ++i) {
    dlc_value_info_t info;
    if (check(dlc_model_input_info(model, i, &info), "input info"))
      printInfo("input", &info);
  }
  for (size_t i = 0; i < dlc_model_num_params(model); ++i) {
    dlc_value_info_t info;
    if (check(dlc_model_param_info(model, i, &info), "param info"))
      printInfo("param", &info);
  }

  const int64_t four[] = {4}, one[] = {1};
  const float x[] = {1, 2, 3, 4}, y[] = {0, -1, -2, -3};
  dlc_tensor_t feeds[3] = {
      {"x", NULL, DLC_F32, 1, four, x},
      {"y", NULL, DLC_F32, 1, four, y},
  };
  dlc_tensor_t *results = NULL;
  size_t count = 0;

  printf("run with the declared params\n");
  if (!check(dlc_model_run(model, feeds, 2, &results, &count), "run"))
    return 1;
  const float want1[] = {0, 0.3f, 0.6f, 0.9f}, loss1[] = {23.66f};
  show(results, count);
  expect(results, count, "linear_model", want1, 4);
  expect(results, count, "loss", loss1, 1);
  dlc_tensors_free(results, count);

  printf("run with W = [-1], b = [1]\n");
  const float w[] = {-1}, b[] = {1};
  dlc_tensor_t wValue = {NULL, NULL, DLC_F32, 1, one, w};
  dlc_tensor_t bValue = {NULL, NULL, DLC_F32, 1, one, b};
  check(dlc_model_set_param(model, "W", &wValue), "set W");
  check(dlc_model_set_param(model, "b", &bValue), "set b");
  if (!check(dlc_model_run(model, feeds, 2, &results, &count), "run"))
    return 1;
  const float want2[] = {0, -1, -2, -3}, loss2[] = {0};
  show(results, count);
  expect(results, count, "linear_model", want2, 4);
  expect(results, count, "loss", loss2, 1);
  dlc_tensors_free(results, count);
  dlc_tensor_t *param = NULL;
  if (check(dlc_model_get_param(model, "W", &param), "get W")) {
    printf("  param W = ");
    printTensor(param);
    printf("\n");
    dlc_tensors_free(param, 1);
  }

  /* d loss / dW = 2 * sum((W x + b - y) x), d loss / db = 2 * sum(W x + b - y). */
  printf("gradients at the declared params\n");
  check(dlc_model_init_params(model, 0), "init");
  if (!check(dlc_model_gradients(model, feeds, 2, &results, &count), "gradients"))
    return 1;
  const float gradW[] = {52}, gradB[] = {15.6f};
  show(results, count);
  expect(results, count, "W", gradW, 1);
  expect(results, count, "b", gradB, 1);
  dlc_tensors_free(results, count);

  /* Errors are status codes; the message is read with dlc_last_error(). */
  printf("errors\n");
  dlc_model_t *bad = NULL;
  dlc_status_t s = dlc_model_from_source("model bad\ninput x: f32[2]\ny = x +\n",
                                         "bad.dl", NULL, &bad);
  printf("  load: %d %s\n", (int)s, dlc_last_error());
  const float z[] = {1};
  feeds[2] = (dlc_tensor_t){"z", NULL, DLC_F32, 0, NULL, z};
  s = dlc_model_run(model, feeds, 3, &results, &count);
  printf("  run: %d %s\n", (int)s, dlc_last_error());
  const int64_t two[] = {2};
  const float wrong[] = {1, 2};
  dlc_tensor_t wrongValue = {NULL, NULL, DLC_F32, 1, two, wrong};
  s = dlc_model_set_param(model, "W", &wrongValue);
  printf("  set: %d %s\n", (int)s, dlc_last_error());
  dlc_value_info_t info;
  s = dlc_model_input_info(model, 7, &info);
  printf("  info: %d %s\n", (int)s, dlc_last_error());
  if (bad)
    failed = 1;

  dlc_model_free(bad);
  dlc_model_free(model);
  train(argc > 1 ? argv[1] : "embed-c.safetensors");
  printf("%s\n", failed ? "FAILED" : "PASSED");
  return failed;
}
