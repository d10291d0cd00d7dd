// RUN: dlc-opt %s -split-input-file -verify-diagnostics

// Every verifier and shape-inference error of the dl dialect. Errors found by
// result type inference come with a second "failed to infer returned types".

//===----------------------------------------------------------------------===//
// dl.input
//===----------------------------------------------------------------------===//

// expected-error @+1 {{'dl.input' op expects an f32 or i32 tensor type, got 'tensor<3xf64>'}}
dl.input @x : tensor<3xf64> {dim_names = [""]}

// -----

// expected-error @+1 {{'dl.input' op expects one dim name per dimension: rank 2, got 1 names}}
dl.input @x : tensor<?x3xf32> {dim_names = ["B"]}

// -----

// expected-error @+1 {{'dl.input' op dimension 0 is dynamic but has no symbol name}}
dl.input @x : tensor<?x3xf32> {dim_names = ["", ""]}

// -----

// expected-error @+1 {{'dl.input' op dimension 1 is static but has a symbol name}}
dl.input @x : tensor<?x3xf32> {dim_names = ["B", "C"]}

// -----

//===----------------------------------------------------------------------===//
// dl.param
//===----------------------------------------------------------------------===//

// expected-error @+1 {{'dl.param' op expects an f32 or i32 tensor type, got 'tensor<3xi8>'}}
dl.param @w : tensor<3xi8> {init = "zeros"}

// -----

// expected-error @+1 {{'dl.param' op unknown initializer 'he_normal'}}
dl.param @w : tensor<3xf32> {init = "he_normal"}

// -----

// expected-error @+1 {{'dl.param' op initializer 'fill' expects 1 arguments, got 0}}
dl.param @w : tensor<3xf32> {init = "fill"}

// -----

// expected-error @+1 {{'dl.param' op initializer 'uniform' expects 2 arguments, got 1}}
dl.param @w : tensor<3xf32> {init = "uniform", init_args = array<f64: 1.0>}

// -----

// expected-error @+1 {{'dl.param' op initializer 'zeros' expects 0 arguments, got 1}}
dl.param @w : tensor<3xf32> {init = "zeros", init_args = array<f64: 1.0>}

// -----

// expected-error @+1 {{'dl.param' op initializer 'normal' expects stddev >= 0}}
dl.param @w : tensor<3xf32> {init = "normal", init_args = array<f64: 0.0, -1.0>}

// -----

// expected-error @+1 {{'dl.param' op glorot_uniform needs a param of rank 1 or more}}
dl.param @w : tensor<f32> {init = "glorot_uniform"}

// -----

// expected-error @+1 {{'dl.param' op a literal initializer needs a value}}
dl.param @w : tensor<3xf32> {init = "literal"}

// -----

// expected-error @+1 {{'dl.param' op literal initializer has 2 elements but the param has 3}}
dl.param @w : tensor<3xf32> {init = "literal", value = dense<[1.0, 2.0]> : tensor<2xf32>}

// -----

// expected-error @+1 {{'dl.param' op attribute 'type' failed to satisfy constraint}}
dl.param @w : tensor<?xf32> {init = "zeros"}

// -----

//===----------------------------------------------------------------------===//
// dl.data_source
//===----------------------------------------------------------------------===//

// expected-error @+1 {{'dl.data_source' op data set must be 'train', 'validation' or 'test', got 'dev'}}
dl.data_source {set = "dev", input = @x, kind = "idx", path = "a.gz"}

// -----

// expected-error @+1 {{'dl.data_source' op an idx source needs a path}}
dl.data_source {set = "train", input = @x, kind = "idx"}

// -----

// expected-error @+1 {{'dl.data_source' op a literal source needs a value}}
dl.data_source {set = "train", input = @x, kind = "literal"}

// -----

// expected-error @+1 {{'dl.data_source' op unknown data source kind 'csv'}}
dl.data_source {set = "train", input = @x, kind = "csv", path = "a.csv"}

// -----

//===----------------------------------------------------------------------===//
// dl.train_config
//===----------------------------------------------------------------------===//

// expected-error @+1 {{'dl.train_config' op unknown optimizer 'rmsprop'}}
dl.train_config {optimizer = "rmsprop", optimizer_args = array<f64: 0.1>}

// -----

// expected-error @+1 {{'dl.train_config' op optimizer 'momentum' expects 2 arguments, got 1}}
dl.train_config {optimizer = "momentum", optimizer_args = array<f64: 0.1>}

// -----

// expected-error @+1 {{'dl.train_config' op 'batch' must be positive, got 0}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, batch = 0 : i64}

// -----

// expected-error @+1 {{'dl.train_config' op 'steps' must be positive, got -5}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, steps = -5 : i64}

// -----

// expected-error @+1 {{'dl.train_config' op 'epochs' must be positive, got 0}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, epochs = 0 : i64}

// -----

// expected-error @+1 {{'dl.train_config' op 'eval_every' must be positive, got 0}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, eval_every = 0 : i64}

// -----

// expected-error @+1 {{'dl.train_config' op 'log_every' must be positive, got 0}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, log_every = 0 : i64}

// -----

// expected-error @+1 {{'dl.train_config' op 'log_every' must be positive, got -1}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, log_every = -1 : i64}

// -----

// expected-error @+1 {{'dl.train_config' op 'validation' must not be negative}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, validation = -1 : i64}

// -----

// expected-error @+1 {{'dl.train_config' op give either 'steps' or 'epochs', not both}}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, steps = 10 : i64, epochs = 2 : i64}

// -----

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

func.func @add_dtypes(%a: tensor<3xf32>, %b: tensor<3xi32>) {
  // expected-error @+2 {{'+' operands have different element types: f32 and i32; convert one with f32(...) or i32(...)}}
  // expected-error @+1 {{'dl.add' op failed to infer returned types}}
  %0 = dl.add %a, %b : (tensor<3xf32>, tensor<3xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @cmp_dtypes(%a: tensor<3xf32>, %b: tensor<3xi32>) {
  // expected-error @+2 {{'lt' operands have different element types: f32 and i32}}
  // expected-error @+1 {{'dl.cmp' op failed to infer returned types}}
  %0 = dl.cmp lt, %a, %b : (tensor<3xf32>, tensor<3xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @mul_broadcast(%a: tensor<?x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{'*' operands cannot be broadcast together: [?, 3] and [4]}}
  // expected-error @+1 {{'dl.mul' op failed to infer returned types}}
  %0 = dl.mul %a, %b : (tensor<?x3xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sub_result(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{'dl.sub' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<3x3xf32>'}}
  // expected-error @+1 {{'dl.sub' op failed to infer returned types}}
  %0 = dl.sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @cast_result(%a: tensor<3xi32>) {
  // expected-error @+2 {{'dl.cast' op inferred type(s) 'tensor<3xf32>' are incompatible with return type(s) of operation 'tensor<3xi32>'}}
  // expected-error @+1 {{'dl.cast' op failed to infer returned types}}
  %0 = dl.cast %a {element_type = f32} : (tensor<3xi32>) -> tensor<3xi32>
  return
}

// -----

func.func @relu_int(%a: tensor<3xi32>) {
  // expected-error @+1 {{'dl.relu' op operand #0 must be tensor of 32-bit float values}}
  %0 = dl.relu %a : (tensor<3xi32>) -> tensor<3xi32>
  return
}

// -----

func.func @cast_type(%a: tensor<3xi32>) {
  // expected-error @+1 {{'dl.cast' op can only cast to f32 or i32, got 'f16'}}
  %0 = dl.cast %a {element_type = f16} : (tensor<3xi32>) -> tensor<3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Tensor ops
//===----------------------------------------------------------------------===//

func.func @reshape_two_unknowns(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{reshape allows one unknown dimension (-1 or a symbol), got more}}
  // expected-error @+1 {{'dl.reshape' op failed to infer returned types}}
  %0 = dl.reshape %a {shape = array<i64: -1, -1>} : (tensor<4x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_zero(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{reshape dimension 1 must be positive or -1, got 0}}
  // expected-error @+1 {{'dl.reshape' op failed to infer returned types}}
  %0 = dl.reshape %a {shape = array<i64: 24, 0>} : (tensor<4x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_count(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{cannot reshape 24 elements [4, 6] into [5, 5] (25 elements)}}
  // expected-error @+1 {{'dl.reshape' op failed to infer returned types}}
  %0 = dl.reshape %a {shape = array<i64: 5, 5>} : (tensor<4x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_unknown_count(%a: tensor<4x6xf32>) {
  // expected-error @+2 {{cannot reshape 24 elements [4, 6] into [?, 5]}}
  // expected-error @+1 {{'dl.reshape' op failed to infer returned types}}
  %0 = dl.reshape %a {shape = array<i64: -1, 5>} : (tensor<4x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_symbolic_needs_unknown(%a: tensor<?x6xf32>) {
  // expected-error @+2 {{reshape of a tensor with a symbolic dimension [?, 6] needs one unknown dimension (-1 or a symbol)}}
  // expected-error @+1 {{'dl.reshape' op failed to infer returned types}}
  %0 = dl.reshape %a {shape = array<i64: 6, 6>} : (tensor<?x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @reshape_symbolic_multiple(%a: tensor<?x6xf32>) {
  // expected-error @+2 {{cannot reshape [?, 6] into [?, 4]: 6 is not a multiple of 4}}
  // expected-error @+1 {{'dl.reshape' op failed to infer returned types}}
  %0 = dl.reshape %a {shape = array<i64: -1, 4>} : (tensor<?x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @flatten_scalar(%a: tensor<f32>) {
  // expected-error @+2 {{flatten expects a tensor of rank 1 or more, got a scalar}}
  // expected-error @+1 {{'dl.flatten' op failed to infer returned types}}
  %0 = dl.flatten %a : (tensor<f32>) -> tensor<*xf32>
  return
}

// -----

func.func @flatten_symbolic(%a: tensor<2x?x3xf32>) {
  // expected-error @+2 {{flatten needs static dimensions after the first, got [2, ?, 3]}}
  // expected-error @+1 {{'dl.flatten' op failed to infer returned types}}
  %0 = dl.flatten %a : (tensor<2x?x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @transpose_count(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{transpose perm has 3 entries but the tensor has rank 2}}
  // expected-error @+1 {{'dl.transpose' op failed to infer returned types}}
  %0 = dl.transpose %a {perm = array<i64: 0, 1, 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @transpose_repeat(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{transpose perm must be a permutation of 0..1}}
  // expected-error @+1 {{'dl.transpose' op failed to infer returned types}}
  %0 = dl.transpose %a {perm = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @transpose_range(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{transpose perm must be a permutation of 0..1}}
  // expected-error @+1 {{'dl.transpose' op failed to infer returned types}}
  %0 = dl.transpose %a {perm = array<i64: 0, 2>} : (tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @one_hot_depth(%a: tensor<?xi32>) {
  // expected-error @+2 {{one_hot depth must be positive, got 0}}
  // expected-error @+1 {{'dl.one_hot' op failed to infer returned types}}
  %0 = dl.one_hot %a {depth = 0 : i64} : (tensor<?xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @one_hot_negative_depth(%a: tensor<?xi32>) {
  // expected-error @+2 {{one_hot depth must be positive, got -1}}
  // expected-error @+1 {{'dl.one_hot' op failed to infer returned types}}
  %0 = dl.one_hot %a {depth = -1 : i64} : (tensor<?xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_to_rank(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{cannot broadcast [2, 3] to [3]}}
  // expected-error @+1 {{'dl.broadcast_to' op failed to infer returned types}}
  %0 = dl.broadcast_to %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_to_dims(%a: tensor<4xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+2 {{cannot broadcast [4] to [2, 3]}}
  // expected-error @+1 {{'dl.broadcast_to' op failed to infer returned types}}
  %0 = dl.broadcast_to %a, %b : (tensor<4xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_to_smaller(%a: tensor<3xf32>, %b: tensor<2x1xf32>) {
  // expected-error @+2 {{cannot broadcast [3] to [2, 1]}}
  // expected-error @+1 {{'dl.broadcast_to' op failed to infer returned types}}
  %0 = dl.broadcast_to %a, %b : (tensor<3xf32>, tensor<2x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @unbroadcast_dims(%a: tensor<?x10xf32>, %b: tensor<5xf32>) {
  // expected-error @+2 {{cannot unbroadcast [?, 10] to [5]}}
  // expected-error @+1 {{'dl.unbroadcast' op failed to infer returned types}}
  %0 = dl.unbroadcast %a, %b : (tensor<?x10xf32>, tensor<5xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @unbroadcast_rank(%a: tensor<3xf32>, %b: tensor<2x3xf32>) {
  // expected-error @+2 {{cannot unbroadcast [3] to the larger rank of [2, 3]}}
  // expected-error @+1 {{'dl.unbroadcast' op failed to infer returned types}}
  %0 = dl.unbroadcast %a, %b : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @size_axis(%a: tensor<?x3xf32>) {
  // expected-error @+2 {{size axis 2 is out of range for a tensor of rank 2}}
  // expected-error @+1 {{'dl.size' op failed to infer returned types}}
  %0 = dl.size %a {axes = array<i64: 2>} : (tensor<?x3xf32>) -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

func.func @sum_axis(%a: tensor<?x3xf32>) {
  // expected-error @+1 {{'dl.sum' op axis 2 is out of range for a tensor of rank 2}}
  %0 = dl.sum %a {axes = array<i64: 2>} : (tensor<?x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @mean_negative_axis(%a: tensor<?x3xf32>) {
  // expected-error @+1 {{'dl.mean' op axis -1 is out of range for a tensor of rank 2}}
  %0 = dl.mean %a {axes = array<i64: -1>} : (tensor<?x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @max_unsorted(%a: tensor<?x3xf32>) {
  // expected-error @+1 {{'dl.max' op axes must be sorted and distinct}}
  %0 = dl.max %a {axes = array<i64: 1, 0>} : (tensor<?x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @sum_repeated(%a: tensor<?x3xf32>) {
  // expected-error @+1 {{'dl.sum' op axes must be sorted and distinct}}
  %0 = dl.sum %a {axes = array<i64: 1, 1>} : (tensor<?x3xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @argmax_axis(%a: tensor<?x3xf32>) {
  // expected-error @+1 {{'dl.argmax' op axis 2 is out of range for a tensor of rank 2}}
  %0 = dl.argmax %a {axis = 2 : i64} : (tensor<?x3xf32>) -> tensor<*xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Neural-network ops
//===----------------------------------------------------------------------===//

func.func @matmul_rank(%a: tensor<3xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{matmul expects two rank-2 (or two rank-3, batched) operands, got [3] and [3, 4]}}
  // expected-error @+1 {{'dl.matmul' op failed to infer returned types}}
  %0 = dl.matmul %a, %b : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x3x4xf32>, %b: tensor<5x4x6xf32>) {
  // expected-error @+2 {{batched matmul batch sizes differ: 2 and 5}}
  // expected-error @+1 {{'dl.matmul' op failed to infer returned types}}
  %0 = dl.matmul %a, %b : (tensor<2x3x4xf32>, tensor<5x4x6xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @matmul_inner(%a: tensor<?x784xf32>, %b: tensor<748x10xf32>) {
  // expected-error @+2 {{matmul inner dimensions differ: [?, 784] x [748, 10] (784 vs 748)}}
  // expected-error @+1 {{'dl.matmul' op failed to infer returned types}}
  %0 = dl.matmul %a, %b : (tensor<?x784xf32>, tensor<748x10xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<28x28x1xf32>, %w: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{conv2d expects an input of rank 4 [N, H, W, C], got [28, 28, 1]}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_filter_rank(%x: tensor<?x28x28x1xf32>, %w: tensor<5x5x1xf32>) {
  // expected-error @+2 {{conv2d expects a filter of rank 4 [KH, KW, C, F], got [5, 5, 1]}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x1xf32>, tensor<5x5x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<?x28x28x3xf32>, %w: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{conv2d input has 3 channels but the filter expects 1}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x3xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_window(%x: tensor<?x4x28x1xf32>, %w: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{conv2d window 5 is larger than the padded input (4 + 0 padding) in dimension 1}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x4x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_strides_count(%x: tensor<?x28x28x1xf32>, %w: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{conv2d expects 2 values for 'strides', got 1}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_strides_zero(%x: tensor<?x28x28x1xf32>, %w: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{conv2d expects positive values for 'strides', got 0}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 0>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_pads_count(%x: tensor<?x28x28x1xf32>, %w: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{conv2d expects 4 values for 'pads', got 2}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 2, 2>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @conv_pads_negative(%x: tensor<?x28x28x1xf32>, %w: tensor<5x5x1x32xf32>) {
  // expected-error @+2 {{conv2d expects non-negative values for 'pads', got -1}}
  // expected-error @+1 {{'dl.conv2d' op failed to infer returned types}}
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, -1, 0, 0>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_rank(%x: tensor<28x28x1xf32>) {
  // expected-error @+2 {{max_pool expects an input of rank 4 [N, H, W, C], got [28, 28, 1]}}
  // expected-error @+1 {{'dl.max_pool' op failed to infer returned types}}
  %0 = dl.max_pool %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<28x28x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_window_count(%x: tensor<?x28x28x1xf32>) {
  // expected-error @+2 {{avg_pool expects 2 values for 'window', got 3}}
  // expected-error @+1 {{'dl.avg_pool' op failed to infer returned types}}
  %0 = dl.avg_pool %x {window = array<i64: 2, 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_window_zero(%x: tensor<?x28x28x1xf32>) {
  // expected-error @+2 {{max_pool expects positive values for 'window', got 0}}
  // expected-error @+1 {{'dl.max_pool' op failed to infer returned types}}
  %0 = dl.max_pool %x {window = array<i64: 0, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x28x28x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @pool_window_larger(%x: tensor<?x28x2x1xf32>) {
  // expected-error @+2 {{max_pool window 3 is larger than the padded input (2 + 0 padding) in dimension 2}}
  // expected-error @+1 {{'dl.max_pool' op failed to infer returned types}}
  %0 = dl.max_pool %x {window = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x28x2x1xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @softmax_axis(%a: tensor<?x10xf32>) {
  // expected-error @+1 {{'dl.softmax' op axis 2 is out of range for a tensor of rank 2}}
  %0 = dl.softmax %a {axis = 2 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return
}

// -----

func.func @log_softmax_axis(%a: tensor<?x10xf32>) {
  // expected-error @+1 {{'dl.log_softmax' op axis -1 is out of range for a tensor of rank 2}}
  %0 = dl.log_softmax %a {axis = -1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return
}

// -----

func.func @dropout_rate(%a: tensor<?x10xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{'dl.dropout' op rate must be in [0, 1), got 1.000000e+00}}
  %0 = dl.dropout %a, %s {rate = 1.0 : f64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  return
}

// -----

func.func @dropout_negative_rate(%a: tensor<?x10xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{'dl.dropout' op rate must be in [0, 1), got -5.000000e-01}}
  %0 = dl.dropout %a, %s {rate = -0.5 : f64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  return
}

// -----

func.func @sce_logits_rank(%a: tensor<?xf32>, %l: tensor<?xi32>) {
  // expected-error @+2 {{softmax_cross_entropy expects logits of rank 2 [N, C], got [?]}}
  // expected-error @+1 {{'dl.softmax_cross_entropy' op failed to infer returned types}}
  %0 = dl.softmax_cross_entropy %a, %l : (tensor<?xf32>, tensor<?xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @sce_int_labels(%a: tensor<8x10xf32>, %l: tensor<4xi32>) {
  // expected-error @+2 {{softmax_cross_entropy expects i32 labels [N] for logits [8, 10], got [4]}}
  // expected-error @+1 {{'dl.softmax_cross_entropy' op failed to infer returned types}}
  %0 = dl.softmax_cross_entropy %a, %l : (tensor<8x10xf32>, tensor<4xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @sce_int_labels_rank(%a: tensor<?x10xf32>, %l: tensor<?x10xi32>) {
  // expected-error @+2 {{softmax_cross_entropy expects i32 labels [N] for logits [?, 10], got [?, 10]}}
  // expected-error @+1 {{'dl.softmax_cross_entropy' op failed to infer returned types}}
  %0 = dl.softmax_cross_entropy %a, %l : (tensor<?x10xf32>, tensor<?x10xi32>) -> tensor<*xf32>
  return
}

// -----

func.func @sce_float_labels(%a: tensor<?x10xf32>, %l: tensor<?x9xf32>) {
  // expected-error @+2 {{softmax_cross_entropy expects f32 labels of the logits' shape [?, 10], got [?, 9]}}
  // expected-error @+1 {{'dl.softmax_cross_entropy' op failed to infer returned types}}
  %0 = dl.softmax_cross_entropy %a, %l : (tensor<?x10xf32>, tensor<?x9xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @mse_broadcast(%a: tensor<?x10xf32>, %b: tensor<?x9xf32>) {
  // expected-error @+2 {{'mse' operands cannot be broadcast together: [?, 10] and [?, 9]}}
  // expected-error @+1 {{'dl.mse' op failed to infer returned types}}
  %0 = dl.mse %a, %b : (tensor<?x10xf32>, tensor<?x9xf32>) -> tensor<f32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Function argument and result attributes
//===----------------------------------------------------------------------===//

// expected-error @+1 {{'func.func' op has unknown attribute 'dl.rol'; the dl dialect defines function argument and result attributes and 'dl.device'}}
func.func @op_attr() attributes {dl.rol = "loss"} {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0 has unknown attribute 'dl.inputs'; expected dl.input, dl.param, dl.state, dl.step, dl.seed, dl.grad or dl.batch_offset}}
func.func @arg_unknown(%x: tensor<3xf32> {dl.inputs = @x}) {
  return
}

// -----

dl.input @x : tensor<3xf32> {dim_names = [""]}
// expected-error @+1 {{'func.func' op argument 0: 'dl.input' expects a flat symbol reference, got "x"}}
func.func @input_not_ref(%x: tensor<3xf32> {dl.input = "x"}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0: 'dl.input' expects a dl.input declaration, got @x, which the module does not declare}}
func.func @input_undeclared(%x: tensor<3xf32> {dl.input = @x}) {
  return
}

// -----

dl.param @W : tensor<3xf32> {init = "zeros"}
// expected-error @+1 {{'func.func' op argument 0: 'dl.input' expects a dl.input declaration, got @W naming a 'dl.param'}}
func.func @input_names_param(%x: tensor<3xf32> {dl.input = @W}) {
  return
}

// -----

dl.param @W : tensor<3xf32> {init = "zeros"}
// expected-error @+1 {{'func.func' op argument 0: 'dl.param' expects the type of @W, 'tensor<3xf32>', got 'tensor<4xf32>'}}
func.func @param_type(%w: tensor<4xf32> {dl.param = @W}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0: 'dl.state' expects a string, got 1 : i64}}
func.func @state_not_string(%s: tensor<3xf32> {dl.state = 1}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0: 'dl.step' expects a unit attribute, got true}}
func.func @step_not_unit(%s: tensor<f32> {dl.step = true}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0: 'dl.grad' expects a string, got @W}}
func.func @grad_not_string(%g: tensor<3xf32> {dl.grad = @W}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op argument 0: 'dl.batch_offset' expects a unit attribute, got 0 : i64}}
func.func @batch_offset_not_unit(%o: tensor<i64> {dl.batch_offset = 0 : i64}) {
  return
}

// -----

// expected-error @+1 {{'func.func' op result 0 has unknown attribute 'dl.kind'; expected dl.role or dl.name}}
func.func @result_unknown(%x: tensor<f32>) -> (tensor<f32> {dl.kind = "loss"}) {
  return %x : tensor<f32>
}

// -----

// expected-error @+1 {{'func.func' op result 0: 'dl.role' expects a string, got 1 : i64}}
func.func @role_not_string(%x: tensor<f32>) -> (tensor<f32> {dl.role = 1}) {
  return %x : tensor<f32>
}

// -----

// expected-error @+1 {{'func.func' op result 0: 'dl.role' expects one of loss, metric, output, grad, param, state, grad_norm, numerics, got "losses"}}
func.func @role_unknown(%x: tensor<f32>) -> (tensor<f32> {dl.role = "losses"}) {
  return %x : tensor<f32>
}

// -----

func.func @fused_bias_shape(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected a bias of shape [4], got [5]}}
  %0 = dl.fused_conv2d relu none %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<5xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @fused_leaky_alpha(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected leaky_relu alpha >= 0, got -1.000000e-01}}
  %0 = dl.fused_conv2d leaky_relu none %x, %w {alpha = -0.1 : f64, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @fused_elu_alpha(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected elu alpha > 0, got 0.000000e+00}}
  %0 = dl.fused_conv2d elu none %x, %w {alpha = 0.0 : f64, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @fused_pool_attrs(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected 2 values in pool_window, got 0}}
  %0 = dl.fused_conv2d relu avg %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, pool_strides = array<i64: 2, 2>, pool_pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x4x4x4xf32>
  return
}

// -----

func.func @fused_no_pool_attrs(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected no pool_window without a pool}}
  %0 = dl.fused_conv2d relu none %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, pool_window = array<i64: 2, 2>}
      : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @unpool_none(%g: tensor<?x4x4x4xf32>) {
  // expected-error @+1 {{'dl.unpool' op expected a max or avg pool}}
  %0 = dl.unpool none %g {size = array<i64: 8, 8>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x4x4x4xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @unpool_max_without_indices(%g: tensor<?x4x4x4xf32>) {
  // expected-error @+1 {{'dl.unpool' op expected indices exactly when the pool is max}}
  %0 = dl.unpool max %g {size = array<i64: 8, 8>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x4x4x4xf32>) -> tensor<?x8x8x4xf32>
  return
}

// -----

func.func @unpool_size(%g: tensor<?x4x4x4xf32>) {
  // expected-error @+1 {{'dl.unpool' op expected a gradient of the pooled size [?, 5, 5, 4], got [?, 4, 4, 4]}}
  %0 = dl.unpool avg %g {size = array<i64: 10, 10>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x4x4x4xf32>) -> tensor<?x10x10x4xf32>
  return
}

// -----

func.func @fused_symbolic_pool(%x: tensor<?x?x?x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected a convolution of static height and width before a pool, got [?, ?, ?, 4]}}
  %0 = dl.fused_conv2d relu avg %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, pool_window = array<i64: 2, 2>, pool_strides = array<i64: 2, 2>, pool_pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x?x?x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x?x?x4xf32>
  return
}

// -----

func.func @fused_big_window(%x: tensor<?x20x20x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected a max pool window of at most 256 cells (an i8 arg-max), got 20x20}}
  %0:2 = dl.fused_conv2d relu max %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, pool_window = array<i64: 20, 20>, pool_strides = array<i64: 20, 20>, pool_pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x20x20x1xf32>, tensor<3x3x1x4xf32>) -> (tensor<?x1x1x4xf32>, tensor<?x1x1x4xi8>)
  return
}

// -----

func.func @fused_pads(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>) {
  // expected-error @+1 {{'dl.fused_conv2d' op expected pool pads smaller than the window, got [2, 0, 2, 0] for a window of [2, 2]}}
  %0 = dl.fused_conv2d relu avg %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, pool_window = array<i64: 2, 2>, pool_strides = array<i64: 2, 2>, pool_pads = array<i64: 2, 0, 2, 0>}
      : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x5x5x4xf32>
  return
}

// -----

func.func @unpool_dynamic_size(%g: tensor<?x4x4x4xf32>) {
  // expected-error @+1 {{'dl.unpool' op expected two static sizes, got [?, 8]}}
  %0 = "dl.unpool"(%g) {pool = 2 : i32, size = array<i64: -9223372036854775808, 8>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, operandSegmentSizes = array<i32: 1, 0>}
      : (tensor<?x4x4x4xf32>) -> tensor<?x?x8x4xf32>
  return
}

// -----

// An unranked gradient is not an error (shape inference refines it later).
func.func @unpool_unranked(%g: tensor<*xf32>) {
  %0 = dl.unpool avg %g {size = array<i64: 8, 8>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<*xf32>) -> tensor<*xf32>
  return
}

// -----

// expected-error @+1 {{'dl.train_config' op 'beta2' of 'adam' must be in [0, 1), got 1}}
dl.train_config {optimizer = "adam", optimizer_args = array<f64: 1.0e-3, 0.9, 1.0, 1.0e-8>}

// -----

func.func @bad_device(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'dl.relu' op has a 'dl.device' that is not "cpu" or "cuda:N": "gpu:1"}}
  %r = dl.relu %x {dl.device = "gpu:1"} : (tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}
