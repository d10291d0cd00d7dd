// RUN: dlc-opt %s -split-input-file | dlc-opt -split-input-file | FileCheck %s
// RUN: dlc-opt %s -split-input-file -mlir-print-op-generic | dlc-opt -split-input-file | FileCheck %s

// Round trip of every dl op.

// CHECK-LABEL: dl.input @x : tensor<?x28x28x1xf32> {dim_names = ["B", "", "", ""]}
// CHECK: dl.input @y : tensor<?xi32> {dim_names = ["B"]}
// CHECK: dl.param @W : tensor<784x10xf32> {init = "truncated_normal", init_args = array<f64: 0.000000e+00, 1.000000e-01>}
// CHECK: dl.param @b : tensor<10xf32> {init = "zeros"}
// CHECK: dl.param @c : tensor<2xf32> {init = "literal", value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>}
// CHECK: dl.data_source {input = @x, kind = "idx", path = "train-images-idx3-ubyte.gz", scale = 3.906250e-03 : f64, set = "train"}
// CHECK: dl.data_source {input = @y, kind = "literal", set = "test", value = dense<[1, 2]> : tensor<2xi32>}
// CHECK: dl.train_config {batch = 50 : i64, freeze = [@b], optimizer = "adam", optimizer_args = array<f64: 1.000000e-04, 9.000000e-01, 0.99899999999999999, 1.000000e-08>, seed = 7 : i64, shuffle = true, steps = 20000 : i64}
dl.input @x : tensor<?x28x28x1xf32> {dim_names = ["B", "", "", ""]}
dl.input @y : tensor<?xi32> {dim_names = ["B"]}
dl.param @W : tensor<784x10xf32> {init = "truncated_normal", init_args = array<f64: 0.0, 0.1>}
dl.param @b : tensor<10xf32> {init = "zeros"}
dl.param @c : tensor<2xf32> {init = "literal", value = dense<[1.0, 2.0]> : tensor<2xf32>}
dl.data_source {set = "train", input = @x, kind = "idx", path = "train-images-idx3-ubyte.gz", scale = 0.00390625}
dl.data_source {set = "test", input = @y, kind = "literal", value = dense<[1, 2]> : tensor<2xi32>}
dl.train_config {optimizer = "adam", optimizer_args = array<f64: 1.0e-4, 0.9, 0.999, 1.0e-8>, batch = 50 : i64, steps = 20000 : i64, shuffle = true, freeze = [@b], seed = 7 : i64}

// -----

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[A:.+]]: tensor<?x10xf32>, %[[B:.+]]: tensor<10xf32>, %[[I:.+]]: tensor<3xi32>)
func.func @binary(%a: tensor<?x10xf32>, %b: tensor<10xf32>, %i: tensor<3xi32>) {
  // CHECK: dl.add %[[A]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %0 = dl.add %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.sub %[[A]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %1 = dl.sub %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.mul %[[A]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %2 = dl.mul %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.div %[[A]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %3 = dl.div %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.pow %[[A]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %4 = dl.pow %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.maximum %[[A]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %5 = dl.maximum %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.minimum %[[I]], %[[I]] : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %6 = dl.minimum %i, %i : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  // CHECK: dl.cmp ge, %[[I]], %[[I]] : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xf32>
  %7 = dl.cmp ge, %i, %i : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xf32>
  // CHECK: dl.cmp eq, %[[A]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  %8 = dl.cmp eq, %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  return
}

// -----

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>, %[[I:.+]]: tensor<3xi32>)
func.func @unary(%x: tensor<?x10xf32>, %i: tensor<3xi32>) {
  // CHECK: dl.neg %[[I]] : (tensor<3xi32>) -> tensor<3xi32>
  %0 = dl.neg %i : (tensor<3xi32>) -> tensor<3xi32>
  // CHECK: dl.relu %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %1 = dl.relu %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.sigmoid %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %2 = dl.sigmoid %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.tanh %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %3 = dl.tanh %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.exp %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %4 = dl.exp %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.log %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %5 = dl.log %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.sqrt %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %6 = dl.sqrt %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.square %[[I]] : (tensor<3xi32>) -> tensor<3xi32>
  %7 = dl.square %i : (tensor<3xi32>) -> tensor<3xi32>
  // CHECK: dl.abs %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %8 = dl.abs %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.leaky_relu %[[X]] {alpha = 1.000000e-01 : f64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %9 = dl.leaky_relu %x {alpha = 0.1 : f64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.elu %[[X]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %10 = dl.elu %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.cast %[[I]] {element_type = f32} : (tensor<3xi32>) -> tensor<3xf32>
  %11 = dl.cast %i {element_type = f32} : (tensor<3xi32>) -> tensor<3xf32>
  return
}

// -----

// CHECK-LABEL: func.func @tensor_ops
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x1xf32>, %[[M:.+]]: tensor<3x4xf32>, %[[L:.+]]: tensor<?xi32>, %[[B:.+]]: tensor<10xf32>, %[[G:.+]]: tensor<?x10xf32>)
func.func @tensor_ops(%x: tensor<?x28x28x1xf32>, %m: tensor<3x4xf32>, %l: tensor<?xi32>,
                      %b: tensor<10xf32>, %g: tensor<?x10xf32>) {
  // CHECK: dl.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
  %0 = dl.constant dense<[1.0, 2.0]> : tensor<2xf32>
  // CHECK: dl.reshape %[[X]] {shape = array<i64: -1, 784>} : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  %1 = dl.reshape %x {shape = array<i64: -1, 784>} : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  // CHECK: dl.flatten %[[X]] : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  %2 = dl.flatten %x : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  // CHECK: dl.transpose %[[M]] {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %3 = dl.transpose %m {perm = array<i64: 1, 0>} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  // CHECK: dl.one_hot %[[L]] {depth = 10 : i64} : (tensor<?xi32>) -> tensor<?x10xf32>
  %4 = dl.one_hot %l {depth = 10 : i64} : (tensor<?xi32>) -> tensor<?x10xf32>
  // CHECK: dl.broadcast_to %[[B]], %[[G]] : (tensor<10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %5 = dl.broadcast_to %b, %g : (tensor<10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.unbroadcast %[[G]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<10xf32>
  %6 = dl.unbroadcast %g, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<10xf32>
  // CHECK: dl.size %[[G]] {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<f32>
  %7 = dl.size %g {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<f32>
  return
}

// -----

// CHECK-LABEL: func.func @reductions
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>)
func.func @reductions(%x: tensor<?x10xf32>) {
  // CHECK: dl.sum %[[X]] {axes = array<i64: 0, 1>} : (tensor<?x10xf32>) -> tensor<f32>
  %0 = dl.sum %x {axes = array<i64: 0, 1>} : (tensor<?x10xf32>) -> tensor<f32>
  // CHECK: dl.mean %[[X]] {axes = array<i64: 1>, keepdims = true} : (tensor<?x10xf32>) -> tensor<?x1xf32>
  %1 = dl.mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<?x10xf32>) -> tensor<?x1xf32>
  // CHECK: dl.max %[[X]] {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<10xf32>
  %2 = dl.max %x {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<10xf32>
  // CHECK: dl.argmax %[[X]] {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?xi32>
  %3 = dl.argmax %x {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?xi32>
  return
}

// -----

// CHECK-LABEL: func.func @nn
// CHECK-SAME: (%[[A:.+]]: tensor<?x784xf32>, %[[W:.+]]: tensor<784x10xf32>, %[[BA:.+]]: tensor<2x3x4xf32>, %[[BB:.+]]: tensor<2x4x5xf32>,
// CHECK-SAME: %[[X:.+]]: tensor<?x28x28x1xf32>, %[[F:.+]]: tensor<5x5x1x32xf32>, %[[L:.+]]: tensor<?xi32>, %[[P:.+]]: tensor<?x10xf32>)
func.func @nn(%a: tensor<?x784xf32>, %w: tensor<784x10xf32>, %ba: tensor<2x3x4xf32>,
              %bb: tensor<2x4x5xf32>, %x: tensor<?x28x28x1xf32>,
              %f: tensor<5x5x1x32xf32>, %l: tensor<?xi32>, %p: tensor<?x10xf32>) {
  // CHECK: dl.matmul %[[A]], %[[W]] : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
  %0 = dl.matmul %a, %w : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.matmul %[[BA]], %[[BB]] : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  %1 = dl.matmul %ba, %bb : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  // CHECK: %[[C:.+]] = dl.conv2d %[[X]], %[[F]] {pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x32xf32>
  %2 = dl.conv2d %x, %f {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>}
      : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x28x28x32xf32>
  // CHECK: %[[MP:.+]] = dl.max_pool %[[C]] {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, window = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  %3 = dl.max_pool %2 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  // CHECK: dl.avg_pool %[[C]] {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, window = array<i64: 3, 3>} : (tensor<?x28x28x32xf32>) -> tensor<?x28x28x32xf32>
  %4 = dl.avg_pool %2 {window = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x28x28x32xf32>) -> tensor<?x28x28x32xf32>
  // CHECK: dl.softmax %[[P]] {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %5 = dl.softmax %p {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: dl.log_softmax %[[P]] {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %6 = dl.log_softmax %p {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  // CHECK: %[[S:.+]] = dl.step_seed : tensor<i64>
  %7 = dl.step_seed : tensor<i64>
  // CHECK: dl.dropout %[[P]], %[[S]] {rate = 5.000000e-01 : f64, salt = 3 : i64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  %8 = dl.dropout %p, %7 {rate = 0.5 : f64, salt = 3 : i64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  // Data parallel: the mask counts from row %7 of the global batch.
  // CHECK: dl.dropout %[[P]], %[[S]] offset %[[S]] {rate = 5.000000e-01 : f64} : (tensor<?x10xf32>, tensor<i64>, tensor<i64>) -> tensor<?x10xf32>
  %dp = dl.dropout %p, %7 offset %7 {rate = 0.5 : f64} : (tensor<?x10xf32>, tensor<i64>, tensor<i64>) -> tensor<?x10xf32>
  // CHECK: dl.softmax_cross_entropy %[[P]], %[[L]] : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<?xf32>
  %9 = dl.softmax_cross_entropy %p, %l : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<?xf32>
  // CHECK: dl.softmax_cross_entropy %[[P]], %[[P]] : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?xf32>
  %10 = dl.softmax_cross_entropy %p, %p : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?xf32>
  // CHECK: dl.mse %[[P]], %[[P]] : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  %11 = dl.mse %p, %p : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  // CHECK: dl.l2 %[[W]] : (tensor<784x10xf32>) -> tensor<f32>
  %12 = dl.l2 %w : (tensor<784x10xf32>) -> tensor<f32>
  return
}

// -----

// CHECK-LABEL: func.func @grads
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x1xf32>, %[[F:.+]]: tensor<5x5x1x32xf32>, %[[G:.+]]: tensor<?x14x14x32xf32>, %[[Y:.+]]: tensor<?x28x28x32xf32>, %[[PG:.+]]: tensor<?x14x14x32xf32>)
func.func @grads(%x: tensor<?x28x28x1xf32>, %f: tensor<5x5x1x32xf32>,
                 %g: tensor<?x14x14x32xf32>, %y: tensor<?x28x28x32xf32>,
                 %pg: tensor<?x14x14x32xf32>) {
  // CHECK: dl.conv2d_grad_input %[[G]], %[[F]], %[[X]] {pads = array<i64: 2, 1, 2, 1>, strides = array<i64: 2, 2>} : (tensor<?x14x14x32xf32>, tensor<5x5x1x32xf32>, tensor<?x28x28x1xf32>) -> tensor<?x28x28x1xf32>
  %0 = dl.conv2d_grad_input %g, %f, %x {strides = array<i64: 2, 2>, pads = array<i64: 2, 1, 2, 1>}
      : (tensor<?x14x14x32xf32>, tensor<5x5x1x32xf32>, tensor<?x28x28x1xf32>) -> tensor<?x28x28x1xf32>
  // CHECK: dl.conv2d_grad_filter %[[X]], %[[G]], %[[F]] {pads = array<i64: 2, 1, 2, 1>, strides = array<i64: 2, 2>} : (tensor<?x28x28x1xf32>, tensor<?x14x14x32xf32>, tensor<5x5x1x32xf32>) -> tensor<5x5x1x32xf32>
  %1 = dl.conv2d_grad_filter %x, %g, %f {strides = array<i64: 2, 2>, pads = array<i64: 2, 1, 2, 1>}
      : (tensor<?x28x28x1xf32>, tensor<?x14x14x32xf32>, tensor<5x5x1x32xf32>) -> tensor<5x5x1x32xf32>
  // CHECK: dl.max_pool_grad %[[Y]], %[[PG]] {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, window = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>, tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  %2 = dl.max_pool_grad %y, %pg {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x28x28x32xf32>, tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  // CHECK: dl.avg_pool_grad %[[Y]], %[[PG]] {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, window = array<i64: 2, 2>} : (tensor<?x28x28x32xf32>, tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  %3 = dl.avg_pool_grad %y, %pg {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x28x28x32xf32>, tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  return
}

// -----

// Fused ops: a conv block with bias, ReLU and a max pool (whose arg-max is a
// second result), a partial chain without a pool or bias, and the unpool of
// the gradients.

// CHECK-LABEL: func.func @fused(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x28x28x1xf32>, %[[W:[^:]+]]: tensor<5x5x1x32xf32>, %[[B:[^:]+]]: tensor<32xf32>, %[[G:[^:]+]]: tensor<?x14x14x32xf32>
func.func @fused(%x: tensor<?x28x28x1xf32>, %w: tensor<5x5x1x32xf32>, %b: tensor<32xf32>, %g: tensor<?x14x14x32xf32>) {
  // CHECK: %[[P:.+]], %[[I:.+]] = dl.fused_conv2d relu max %[[X]], %[[W]], %[[B]] {pads = array<i64: 2, 2, 2, 2>, pool_pads = array<i64: 0, 0, 0, 0>, pool_strides = array<i64: 2, 2>, pool_window = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>, tensor<32xf32>) -> (tensor<?x14x14x32xf32>, tensor<?x14x14x32xi8>)
  %p, %i = dl.fused_conv2d relu max %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, pool_window = array<i64: 2, 2>, pool_strides = array<i64: 2, 2>, pool_pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>, tensor<32xf32>) -> (tensor<?x14x14x32xf32>, tensor<?x14x14x32xi8>)
  // CHECK: dl.fused_conv2d leaky_relu none %[[X]], %[[W]] {alpha = 1.000000e-01 : f64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  %c = dl.fused_conv2d leaky_relu none %x, %w {alpha = 0.1 : f64, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x24x24x32xf32>
  // CHECK: dl.unpool max %[[G]], %[[I]] {pads = array<i64: 0, 0, 0, 0>, size = array<i64: 28, 28>, strides = array<i64: 2, 2>, window = array<i64: 2, 2>} : (tensor<?x14x14x32xf32>, tensor<?x14x14x32xi8>) -> tensor<?x28x28x32xf32>
  %u = dl.unpool max %g, %i {size = array<i64: 28, 28>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x14x14x32xf32>, tensor<?x14x14x32xi8>) -> tensor<?x28x28x32xf32>
  // CHECK: dl.unpool avg %[[G]] {pads = array<i64: 0, 0, 0, 0>, size = array<i64: 28, 28>, strides = array<i64: 2, 2>, window = array<i64: 2, 2>} : (tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  %v = dl.unpool avg %g {size = array<i64: 28, 28>, window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  return
}
