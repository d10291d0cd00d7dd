// RUN: dlc-opt %s -dl-derive-gradients -dl-build-train-step=split=true | FileCheck %s
// RUN: dlc-opt %s -dl-derive-gradients -dl-build-train-step=split=true -canonicalize -convert-dl-to-linalg | FileCheck %s --check-prefix=LOWER

// With `split`, dl-build-train-step also builds data-parallel training's
// halves of @train_step: @grad (the gradients of a shard of the batch, whose
// dropout masks count from the shard's first row) and @apply (the optimizer
// update of the summed gradients). Momentum, and the CNN of
// dl-build-train-step.mlir with its first layer frozen.

module @cnn_frozen {
  dl.input @x : tensor<?x8x8x1xf32> {dim_names = ["B", "", "", ""]}
  dl.input @y : tensor<?xi32> {dim_names = ["B"]}
  dl.param @W1 : tensor<3x3x1x4xf32> {init = "truncated_normal", init_args = array<f64: 0.0, 0.1>}
  dl.param @b1 : tensor<4xf32> {init = "fill", init_args = array<f64: 0.1>}
  dl.param @W2 : tensor<64x10xf32> {init = "truncated_normal", init_args = array<f64: 0.0, 0.1>}
  dl.param @b2 : tensor<10xf32> {init = "zeros"}
  dl.train_config {optimizer = "momentum", optimizer_args = array<f64: 0.01, 0.9>, freeze = [@W1, @b1]}
  func.func @graph(%x: tensor<?x8x8x1xf32> {dl.input = @x}, %y: tensor<?xi32> {dl.input = @y}, %W1: tensor<3x3x1x4xf32> {dl.param = @W1}, %b1: tensor<4xf32> {dl.param = @b1}, %W2: tensor<64x10xf32> {dl.param = @W2}, %b2: tensor<10xf32> {dl.param = @b2}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}) {
    %seed = dl.step_seed : tensor<i64>
    %0 = dl.conv2d %x, %W1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
    %1 = dl.add %0, %b1 : (tensor<?x8x8x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
    %2 = dl.relu %1 : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
    %3 = dl.max_pool %2 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x8x8x4xf32>) -> tensor<?x4x4x4xf32>
    %4 = dl.flatten %3 : (tensor<?x4x4x4xf32>) -> tensor<?x64xf32>
    %5 = dl.dropout %4, %seed {rate = 5.000000e-01 : f64, salt = 0 : i64} : (tensor<?x64xf32>, tensor<i64>) -> tensor<?x64xf32>
    %6 = dl.matmul %5, %W2 : (tensor<?x64xf32>, tensor<64x10xf32>) -> tensor<?x10xf32>
    %7 = dl.add %6, %b2 : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    %8 = dl.softmax_cross_entropy %7, %y : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<?xf32>
    %9 = dl.mean %8 {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
    return %9 : tensor<f32>
  }
}

// @train_step stands as without `split`.
// CHECK-LABEL: func.func @train_step(

// @grad: @graph_grad's arguments, the seed and the batch offset; the
// dropout over the batch [?, 64] counts from the offset.
// CHECK-LABEL: func.func @grad(
// CHECK-SAME: %{{[^:]+}}: tensor<10xf32> {dl.param = @b2}, %[[SEED:[^:]+]]: tensor<i64> {dl.seed}, %[[OFFSET:[^:]+]]: tensor<i64> {dl.batch_offset})
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<64x10xf32> {dl.name = "W2", dl.role = "grad"}, tensor<10xf32> {dl.name = "b2", dl.role = "grad"})
// CHECK: dl.dropout %{{.+}}, %[[SEED]] offset %[[OFFSET]]
// CHECK-NOT: dl.momentum
// CHECK: return

// @apply: the trained params only (W1 and b1 are frozen), their summed
// gradients, their state and the step; the new params and state.
// CHECK-LABEL: func.func @apply(
// CHECK-SAME: %[[W2:[^:]+]]: tensor<64x10xf32> {dl.param = @W2}, %{{[^:]+}}: tensor<10xf32> {dl.param = @b2}, %[[G:[^:]+]]: tensor<64x10xf32> {dl.grad = "W2"}, %{{[^:]+}}: tensor<10xf32> {dl.grad = "b2"}, %[[D:[^:]+]]: tensor<64x10xf32> {dl.state = "opt.W2.d"}, %{{[^:]+}}: tensor<10xf32> {dl.state = "opt.b2.d"}, %{{[^:]+}}: tensor<f32> {dl.step})
// CHECK-SAME: -> (tensor<64x10xf32> {dl.name = "W2", dl.role = "param"}, tensor<10xf32> {dl.name = "b2", dl.role = "param"}, tensor<64x10xf32> {dl.name = "opt.W2.d", dl.role = "state"}, tensor<10xf32> {dl.name = "opt.b2.d", dl.role = "state"}, tensor<f32> {dl.name = "grad_norm", dl.role = "grad_norm"})
// CHECK-NOT: dl.dropout
// CHECK: %[[SCALED:.+]] = dl.mul %{{.+}}, %[[G]]
// CHECK: %[[DECAYED:.+]] = dl.mul %{{.+}}, %[[D]]
// CHECK: %[[NEWD:.+]] = dl.add %[[SCALED]], %[[DECAYED]]
// CHECK: dl.add %[[W2]], %[[NEWD]]
// The global norm of the summed gradients.
// CHECK: dl.square %[[G]]
// CHECK: dl.sqrt
// CHECK: return

// Lowered, the dropout's element index is its row-major index in the shard
// plus offset * 64 (the elements of a row).
// LOWER-LABEL: func.func @grad(
// LOWER-SAME: %[[OFF:[^:]+]]: tensor<i64>)
// LOWER: %[[O:.+]] = tensor.extract %[[OFF]][] : tensor<i64>
// LOWER: %[[ROWS:.+]] = arith.muli %[[O]], %c64_i64 : i64
// LOWER: linalg.generic
// LOWER: %[[LOCAL:.+]] = arith.index_cast %{{.+}} : index to i64
// LOWER-NEXT: arith.addi %[[LOCAL]], %[[ROWS]] : i64
