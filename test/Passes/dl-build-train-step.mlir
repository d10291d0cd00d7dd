// RUN: dlc-opt %s -split-input-file -dl-derive-gradients -dl-build-train-step | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dl-derive-gradients -dl-build-train-step -canonicalize -convert-dl-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: dlc-opt %s -split-input-file -dl-derive-gradients -dl-build-train-step="eval=false keep-graphs=true" | FileCheck %s --check-prefix=KEEP

// Every case lowers: no dl op is left, and only the entry points remain.
// LOWER-NOT: = dl.
// LOWER-NOT: func.func @graph
// LOWER: func.func @eval(
// LOWER-NOT: = dl.
// LOWER: func.func @train_step(
// LOWER-NOT: = dl.

// sgd: a -= lr * g. The state is empty; %step and %seed always come last.

module @sgd {
  dl.input @x : tensor<?xf32> {dim_names = ["B"]}
  dl.input @t : tensor<?xf32> {dim_names = ["B"]}
  dl.param @W : tensor<1xf32> {init = "literal", value = dense<0.3> : tensor<1xf32>}
  dl.param @b : tensor<1xf32> {init = "literal", value = dense<-0.3> : tensor<1xf32>}
  dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.5>}
  func.func @graph(%x: tensor<?xf32> {dl.input = @x}, %t: tensor<?xf32> {dl.input = @t}, %W: tensor<1xf32> {dl.param = @W}, %b: tensor<1xf32> {dl.param = @b}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}, tensor<?xf32> {dl.role = "output", dl.name = "y"}) {
    %0 = dl.mul %W, %x : (tensor<1xf32>, tensor<?xf32>) -> tensor<?xf32>
    %1 = dl.add %0, %b : (tensor<?xf32>, tensor<1xf32>) -> tensor<?xf32>
    %2 = dl.mse %1, %t : (tensor<?xf32>, tensor<?xf32>) -> tensor<f32>
    return %2, %1 : tensor<f32>, tensor<?xf32>
  }
}

// @eval keeps every result of @graph and needs no seed.
// CHECK-LABEL: func.func @eval(
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<?xf32> {dl.name = "y", dl.role = "output"})

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?xf32> {dl.input = @x}
// CHECK-SAME: %[[T:[^:]+]]: tensor<?xf32> {dl.input = @t}
// CHECK-SAME: %[[W:[^:]+]]: tensor<1xf32> {dl.param = @W}
// CHECK-SAME: %[[B:[^:]+]]: tensor<1xf32> {dl.param = @b}
// CHECK-SAME: %[[STEP:[^:]+]]: tensor<f32> {dl.step}
// CHECK-SAME: %[[SEED:[^:]+]]: tensor<i64> {dl.seed})
// CHECK-SAME: -> (tensor<1xf32> {dl.name = "W", dl.role = "param"}, tensor<1xf32> {dl.name = "b", dl.role = "param"}, tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "grad_norm", dl.role = "grad_norm"})
// CHECK: %[[LOSS:.+]] = dl.mse
// CHECK: %[[LR:.+]] = dl.constant dense<5.000000e-01> : tensor<f32>
// CHECK: %[[SW:.+]] = dl.mul %[[LR]], %[[GW:[^ ]+]] : (tensor<f32>, tensor<1xf32>) -> tensor<1xf32>
// CHECK: %[[NEWW:.+]] = dl.sub %[[W]], %[[SW]] : (tensor<1xf32>, tensor<1xf32>) -> tensor<1xf32>
// CHECK: %[[SB:.+]] = dl.mul %[[LR]], %[[GB:[^ ]+]]
// CHECK: %[[NEWB:.+]] = dl.sub %[[B]], %[[SB]]
// The global norm of the gradients (before the update): sqrt(l2(gW) + l2(gb)).
// CHECK: %[[NW:.+]] = dl.l2 %[[GW]] : (tensor<1xf32>) -> tensor<f32>
// CHECK: %[[NB:.+]] = dl.l2 %[[GB]] : (tensor<1xf32>) -> tensor<f32>
// CHECK: %[[SQ:.+]] = dl.add %[[NW]], %[[NB]]
// CHECK: %[[NORM:.+]] = dl.sqrt %[[SQ]]
// CHECK: return %[[NEWW]], %[[NEWB]], %[[LOSS]], %[[NORM]] : tensor<1xf32>, tensor<1xf32>, tensor<f32>, tensor<f32>
// CHECK-NOT: func.func @graph

// KEEP-NOT: func.func @eval
// KEEP: func.func @graph(
// KEEP: func.func @graph_grad(
// KEEP: func.func @train_step(

// -----

// momentum: d = -(1 - nu) * lr * g + nu * d; a += d, with the state opt.W.d
// in and out. Frozen params have no state.

module @momentum {
  dl.input @x : tensor<?x3xf32> {dim_names = ["B", ""]}
  dl.param @W : tensor<3x2xf32> {init = "zeros"}
  dl.param @frozen : tensor<2xf32> {init = "zeros"}
  dl.train_config {optimizer = "momentum", optimizer_args = array<f64: 0.01, 0.9>, freeze = [@frozen]}
  func.func @graph(%x: tensor<?x3xf32> {dl.input = @x}, %W: tensor<3x2xf32> {dl.param = @W}, %f: tensor<2xf32> {dl.param = @frozen}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}) {
    %0 = dl.matmul %x, %W : (tensor<?x3xf32>, tensor<3x2xf32>) -> tensor<?x2xf32>
    %1 = dl.add %0, %f : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    %2 = dl.l2 %1 : (tensor<?x2xf32>) -> tensor<f32>
    return %2 : tensor<f32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3xf32> {dl.input = @x}
// CHECK-SAME: %[[W:[^:]+]]: tensor<3x2xf32> {dl.param = @W}
// CHECK-SAME: %[[F:[^:]+]]: tensor<2xf32> {dl.param = @frozen}
// CHECK-SAME: %[[D:[^:]+]]: tensor<3x2xf32> {dl.state = "opt.W.d"}
// CHECK-SAME: %[[STEP:[^:]+]]: tensor<f32> {dl.step}
// CHECK-SAME: %[[SEED:[^:]+]]: tensor<i64> {dl.seed})
// CHECK-SAME: -> (tensor<3x2xf32> {dl.name = "W", dl.role = "param"}, tensor<3x2xf32> {dl.name = "opt.W.d", dl.role = "state"}, tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "grad_norm", dl.role = "grad_norm"})
// CHECK: %[[LOSS:.+]] = dl.l2
// CHECK: %[[C:.+]] = dl.constant dense<-1.000000e-03> : tensor<f32>
// CHECK: %[[NU:.+]] = dl.constant dense<0.899999976> : tensor<f32>
// CHECK: %[[CG:.+]] = dl.mul %[[C]], %[[GW:[^ ]+]] : (tensor<f32>, tensor<3x2xf32>) -> tensor<3x2xf32>
// CHECK: %[[NUD:.+]] = dl.mul %[[NU]], %[[D]] : (tensor<f32>, tensor<3x2xf32>) -> tensor<3x2xf32>
// CHECK: %[[NEWD:.+]] = dl.add %[[CG]], %[[NUD]]
// CHECK: %[[NEWW:.+]] = dl.add %[[W]], %[[NEWD]]
// The frozen param's gradient is not in the norm. A matrix's squares are
// summed over its rows, then over that vector.
// CHECK: %[[SQW:.+]] = dl.square %[[GW]] : (tensor<3x2xf32>) -> tensor<3x2xf32>
// CHECK-NEXT: %[[ROWS:.+]] = dl.sum %[[SQW]] {axes = array<i64: 0>} : (tensor<3x2xf32>) -> tensor<2xf32>
// CHECK-NEXT: %[[NW:.+]] = dl.sum %[[ROWS]] {axes = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
// CHECK-NEXT: %[[NORM:.+]] = dl.sqrt %[[NW]]
// CHECK-NEXT: return %[[NEWW]], %[[NEWD]], %[[LOSS]], %[[NORM]] : tensor<3x2xf32>, tensor<3x2xf32>, tensor<f32>, tensor<f32>

// -----

// adam with bias correction (TensorFlow's AdamOptimizer):
//   lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g
//   a -= lr_t * m / (sqrt(v) + eps)
// The metric comes after the state; the dropout takes %seed.

module @adam {
  dl.input @x : tensor<?x3xf32> {dim_names = ["B", ""]}
  dl.input @y : tensor<?xi32> {dim_names = ["B"]}
  dl.param @W : tensor<3x4xf32> {init = "zeros"}
  dl.train_config {optimizer = "adam", optimizer_args = array<f64: 0.25, 0.5, 0.75, 0.125>}
  func.func @graph(%x: tensor<?x3xf32> {dl.input = @x}, %y: tensor<?xi32> {dl.input = @y}, %W: tensor<3x4xf32> {dl.param = @W}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}, tensor<f32> {dl.role = "metric", dl.name = "accuracy"}) {
    %seed = dl.step_seed : tensor<i64>
    %0 = dl.dropout %x, %seed {rate = 0.5 : f64, salt = 0 : i64} : (tensor<?x3xf32>, tensor<i64>) -> tensor<?x3xf32>
    %1 = dl.matmul %0, %W : (tensor<?x3xf32>, tensor<3x4xf32>) -> tensor<?x4xf32>
    %2 = dl.softmax_cross_entropy %1, %y : (tensor<?x4xf32>, tensor<?xi32>) -> tensor<?xf32>
    %3 = dl.mean %2 {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
    %4 = dl.argmax %1 {axis = 1 : i64} : (tensor<?x4xf32>) -> tensor<?xi32>
    %5 = dl.cmp eq, %4, %y : (tensor<?xi32>, tensor<?xi32>) -> tensor<?xf32>
    %6 = dl.mean %5 {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
    return %3, %6 : tensor<f32>, tensor<f32>
  }
}

// CHECK-LABEL: func.func @eval(
// CHECK-NOT: dl.step_seed
// CHECK-NOT: dl.dropout
// CHECK: return

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3xf32> {dl.input = @x}
// CHECK-SAME: %[[Y:[^:]+]]: tensor<?xi32> {dl.input = @y}
// CHECK-SAME: %[[W:[^:]+]]: tensor<3x4xf32> {dl.param = @W}
// CHECK-SAME: %[[M:[^:]+]]: tensor<3x4xf32> {dl.state = "opt.W.m"}
// CHECK-SAME: %[[V:[^:]+]]: tensor<3x4xf32> {dl.state = "opt.W.v"}
// CHECK-SAME: %[[STEP:[^:]+]]: tensor<f32> {dl.step}
// CHECK-SAME: %[[SEED:[^:]+]]: tensor<i64> {dl.seed})
// CHECK-SAME: -> (tensor<3x4xf32> {dl.name = "W", dl.role = "param"}, tensor<3x4xf32> {dl.name = "opt.W.m", dl.role = "state"}, tensor<3x4xf32> {dl.name = "opt.W.v", dl.role = "state"}, tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "accuracy", dl.role = "metric"}, tensor<f32> {dl.name = "grad_norm", dl.role = "grad_norm"})
// CHECK-NOT: dl.step_seed
// CHECK: dl.dropout %[[X]], %[[SEED]]
// CHECK: %[[LOSS:.+]] = dl.mean
// CHECK: %[[ACC:.+]] = dl.mean
// The gradient of W, the last gradient op.
// CHECK: %[[G:.+]] = dl.matmul %{{.+}}, %{{.+}} : (tensor<3x?xf32>, tensor<?x4xf32>) -> tensor<3x4xf32>
// CHECK: %[[ONE:.+]] = dl.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[B1:.+]] = dl.constant dense<5.000000e-01> : tensor<f32>
// CHECK: %[[B2:.+]] = dl.constant dense<7.500000e-01> : tensor<f32>
// CHECK: %[[LR:.+]] = dl.constant dense<2.500000e-01> : tensor<f32>
// CHECK: %[[B2T:.+]] = dl.pow %[[B2]], %[[STEP]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK: %[[C2:.+]] = dl.sub %[[ONE]], %[[B2T]]
// CHECK: %[[S2:.+]] = dl.sqrt %[[C2]]
// CHECK: %[[NUM:.+]] = dl.mul %[[LR]], %[[S2]]
// CHECK: %[[B1T:.+]] = dl.pow %[[B1]], %[[STEP]]
// CHECK: %[[C1:.+]] = dl.sub %[[ONE]], %[[B1T]]
// CHECK: %[[LRT:.+]] = dl.div %[[NUM]], %[[C1]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK: %[[OMB1:.+]] = dl.constant dense<5.000000e-01> : tensor<f32>
// CHECK: %[[OMB2:.+]] = dl.constant dense<2.500000e-01> : tensor<f32>
// CHECK: %[[EPS:.+]] = dl.constant dense<1.250000e-01> : tensor<f32>
// CHECK: %[[BM:.+]] = dl.mul %[[B1]], %[[M]]
// CHECK: %[[GM:.+]] = dl.mul %[[OMB1]], %[[G]]
// CHECK: %[[NEWM:.+]] = dl.add %[[BM]], %[[GM]]
// CHECK: %[[BV:.+]] = dl.mul %[[B2]], %[[V]]
// CHECK: %[[GV1:.+]] = dl.mul %[[OMB2]], %[[G]]
// CHECK: %[[GV:.+]] = dl.mul %[[GV1]], %[[G]]
// CHECK: %[[NEWV:.+]] = dl.add %[[BV]], %[[GV]]
// CHECK: %[[STEPM:.+]] = dl.mul %[[LRT]], %[[NEWM]] : (tensor<f32>, tensor<3x4xf32>) -> tensor<3x4xf32>
// CHECK: %[[SV:.+]] = dl.sqrt %[[NEWV]]
// CHECK: %[[DEN:.+]] = dl.add %[[SV]], %[[EPS]]
// CHECK: %[[UPD:.+]] = dl.div %[[STEPM]], %[[DEN]]
// CHECK: %[[NEWW:.+]] = dl.sub %[[W]], %[[UPD]]
// CHECK: %[[SQG:.+]] = dl.square %[[G]]
// CHECK-NEXT: %[[ROWS:.+]] = dl.sum %[[SQG]]
// CHECK-NEXT: %[[NW:.+]] = dl.sum %[[ROWS]]
// CHECK-NEXT: %[[NORM:.+]] = dl.sqrt %[[NW]]
// CHECK-NEXT: return %[[NEWW]], %[[NEWM]], %[[NEWV]], %[[LOSS]], %[[ACC]], %[[NORM]]

// -----

// Without dl.train_config: sgd with lr = 0.01.

module @default {
  dl.param @W : tensor<2xf32> {init = "ones"}
  func.func @graph(%W: tensor<2xf32> {dl.param = @W}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}) {
    %0 = dl.l2 %W : (tensor<2xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: %[[W:[^:]+]]: tensor<2xf32> {dl.param = @W}, %{{[^:]+}}: tensor<f32> {dl.step}, %{{[^:]+}}: tensor<i64> {dl.seed})
// CHECK: %[[LR:.+]] = dl.constant dense<0.00999999977> : tensor<f32>
// CHECK: %[[S:.+]] = dl.mul %[[LR]]
// CHECK: dl.sub %[[W]], %[[S]]

// -----

// A small CNN (conv2d, relu, max_pool, flatten, dropout, matmul,
// softmax_cross_entropy, mean) trained with adam, with the first layer frozen
// in a second model below.

module @cnn {
  dl.input @x : tensor<?x8x8x1xf32> {dim_names = ["B", "", "", ""]}
  dl.input @y : tensor<?xi32> {dim_names = ["B"]}
  dl.param @W1 : tensor<3x3x1x4xf32> {init = "truncated_normal", init_args = array<f64: 0.0, 0.1>}
  dl.param @b1 : tensor<4xf32> {init = "fill", init_args = array<f64: 0.1>}
  dl.param @W2 : tensor<64x10xf32> {init = "truncated_normal", init_args = array<f64: 0.0, 0.1>}
  dl.param @b2 : tensor<10xf32> {init = "zeros"}
  dl.train_config {optimizer = "adam", optimizer_args = array<f64: 1.0e-4, 0.9, 0.999, 1.0e-8>, batch = 50 : i64}
  func.func @graph(%x: tensor<?x8x8x1xf32> {dl.input = @x}, %y: tensor<?xi32> {dl.input = @y}, %W1: tensor<3x3x1x4xf32> {dl.param = @W1}, %b1: tensor<4xf32> {dl.param = @b1}, %W2: tensor<64x10xf32> {dl.param = @W2}, %b2: tensor<10xf32> {dl.param = @b2}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}, tensor<f32> {dl.role = "metric", dl.name = "accuracy"}, tensor<?x10xf32> {dl.role = "output", dl.name = "probs"}) {
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
    %10 = dl.argmax %7 {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?xi32>
    %11 = dl.cmp eq, %10, %y : (tensor<?xi32>, tensor<?xi32>) -> tensor<?xf32>
    %12 = dl.mean %11 {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
    %13 = dl.softmax %7 {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
    return %9, %12, %13 : tensor<f32>, tensor<f32>, tensor<?x10xf32>
  }
}

// CHECK-LABEL: func.func @eval(
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "accuracy", dl.role = "metric"}, tensor<?x10xf32> {dl.name = "probs", dl.role = "output"})
// CHECK-NOT: dl.dropout
// CHECK: return

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: {dl.state = "opt.W1.m"}, %{{[^:]+}}: tensor<3x3x1x4xf32> {dl.state = "opt.W1.v"}, %{{[^:]+}}: tensor<4xf32> {dl.state = "opt.b1.m"}, %{{[^:]+}}: tensor<4xf32> {dl.state = "opt.b1.v"}, %{{[^:]+}}: tensor<64x10xf32> {dl.state = "opt.W2.m"}, %{{[^:]+}}: tensor<64x10xf32> {dl.state = "opt.W2.v"}, %{{[^:]+}}: tensor<10xf32> {dl.state = "opt.b2.m"}, %{{[^:]+}}: tensor<10xf32> {dl.state = "opt.b2.v"}, %{{[^:]+}}: tensor<f32> {dl.step}, %[[SEED:[^:]+]]: tensor<i64> {dl.seed})
// CHECK-SAME: -> (tensor<3x3x1x4xf32> {dl.name = "W1", dl.role = "param"}, tensor<4xf32> {dl.name = "b1", dl.role = "param"}, tensor<64x10xf32> {dl.name = "W2", dl.role = "param"}, tensor<10xf32> {dl.name = "b2", dl.role = "param"}, tensor<3x3x1x4xf32> {dl.name = "opt.W1.m", dl.role = "state"}, tensor<3x3x1x4xf32> {dl.name = "opt.W1.v", dl.role = "state"}, tensor<4xf32> {dl.name = "opt.b1.m", dl.role = "state"}, tensor<4xf32> {dl.name = "opt.b1.v", dl.role = "state"}, tensor<64x10xf32> {dl.name = "opt.W2.m", dl.role = "state"}, tensor<64x10xf32> {dl.name = "opt.W2.v", dl.role = "state"}, tensor<10xf32> {dl.name = "opt.b2.m", dl.role = "state"}, tensor<10xf32> {dl.name = "opt.b2.v", dl.role = "state"}, tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "accuracy", dl.role = "metric"}, tensor<f32> {dl.name = "grad_norm", dl.role = "grad_norm"})
// CHECK: dl.dropout %{{.+}}, %[[SEED]]
// The dropout's gradient recomputes the same mask from the same seed.
// CHECK: dl.dropout %{{.+}}, %[[SEED]]
// CHECK: dl.max_pool_grad
// CHECK: dl.conv2d_grad_filter
// CHECK-NOT: dl.conv2d_grad_input

// -----

// The CNN with its convolutional layer frozen: no conv or pool gradient.

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

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: {dl.state = "opt.W2.d"}, %{{[^:]+}}: tensor<10xf32> {dl.state = "opt.b2.d"}, %{{[^:]+}}: tensor<f32> {dl.step}
// CHECK-SAME: -> (tensor<64x10xf32> {dl.name = "W2", dl.role = "param"}, tensor<10xf32> {dl.name = "b2", dl.role = "param"}, tensor<64x10xf32> {dl.name = "opt.W2.d", dl.role = "state"}, tensor<10xf32> {dl.name = "opt.b2.d", dl.role = "state"}, tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "grad_norm", dl.role = "grad_norm"})
// CHECK-NOT: dl.max_pool_grad
// CHECK-NOT: dl.conv2d_grad
// CHECK: return

// -----

// Every param frozen: nothing is updated and the gradient norm is 0.

module @all_frozen {
  dl.param @W : tensor<2xf32> {init = "zeros"}
  dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.01>, freeze = [@W]}
  func.func @graph(%W: tensor<2xf32> {dl.param = @W}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}) {
    %0 = dl.l2 %W : (tensor<2xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "grad_norm", dl.role = "grad_norm"})
// CHECK: %[[ZERO:.+]] = dl.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT: return %{{.+}}, %[[ZERO]]
