// RUN: dlc-opt %s -split-input-file -dl-shape-inference | FileCheck %s

// Unranked results take the inferred type, the symbolic batch stays `?`, and
// the function type follows the returned values.

// CHECK-LABEL: func.func @mlp
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x1xf32>, %[[W:.+]]: tensor<784x10xf32>, %[[B:.+]]: tensor<10xf32>) -> tensor<?x10xf32>
// CHECK: %[[F:.+]] = dl.flatten %[[X]] : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
// CHECK: %[[M:.+]] = dl.matmul %[[F]], %[[W]] : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
// CHECK: %[[A:.+]] = dl.add %[[M]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
// CHECK: %[[R:.+]] = dl.relu %[[A]] : (tensor<?x10xf32>) -> tensor<?x10xf32>
// CHECK: return %[[R]] : tensor<?x10xf32>
func.func @mlp(%x: tensor<?x28x28x1xf32>, %w: tensor<784x10xf32>, %b: tensor<10xf32>) -> tensor<*xf32> {
  %0 = dl.flatten %x : (tensor<?x28x28x1xf32>) -> tensor<*xf32>
  %1 = dl.matmul %0, %w : (tensor<*xf32>, tensor<784x10xf32>) -> tensor<*xf32>
  %2 = dl.add %1, %b : (tensor<*xf32>, tensor<10xf32>) -> tensor<*xf32>
  %3 = dl.relu %2 : (tensor<*xf32>) -> tensor<*xf32>
  return %3 : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @cnn
// CHECK-SAME: -> (tensor<?x7x7x64xf32>, tensor<?x3136xf32>)
// CHECK: dl.conv2d {{.+}} -> tensor<?x28x28x32xf32>
// CHECK: dl.max_pool {{.+}} -> tensor<?x14x14x32xf32>
// CHECK: dl.conv2d {{.+}} -> tensor<?x7x7x64xf32>
// CHECK: dl.avg_pool {{.+}} -> tensor<?x7x7x64xf32>
// CHECK: dl.reshape {{.+}} -> tensor<?x3136xf32>
func.func @cnn(%x: tensor<?x28x28x1xf32>, %w1: tensor<5x5x1x32xf32>, %w2: tensor<3x3x32x64xf32>)
    -> (tensor<*xf32>, tensor<*xf32>) {
  %0 = dl.conv2d %x, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>}
      : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<*xf32>
  %1 = dl.max_pool %0 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<*xf32>) -> tensor<*xf32>
  // Stride 2 with pads [0, 1, 0, 1]: (14 + 1 - 3) / 2 + 1 = 7.
  %2 = dl.conv2d %1, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 0, 1>}
      : (tensor<*xf32>, tensor<3x3x32x64xf32>) -> tensor<*xf32>
  %3 = dl.avg_pool %2 {window = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<*xf32>) -> tensor<*xf32>
  %4 = dl.reshape %3 {shape = array<i64: -1, 3136>} : (tensor<*xf32>) -> tensor<*xf32>
  return %3, %4 : tensor<*xf32>, tensor<*xf32>
}

// -----

// A `?` result where inference knows the dim is refined; a static reshape
// of a static input computes its -1.
// CHECK-LABEL: func.func @refine_dynamic
// CHECK: dl.matmul {{.+}} -> tensor<4x10xf32>
// CHECK: dl.reshape {{.+}} : (tensor<4x10xf32>) -> tensor<8x5xf32>
// CHECK: return {{.+}} : tensor<4x10xf32>, tensor<8x5xf32>
func.func @refine_dynamic(%a: tensor<4x784xf32>, %w: tensor<784x10xf32>) -> (tensor<?x10xf32>, tensor<?x5xf32>) {
  %0 = dl.matmul %a, %w : (tensor<4x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
  %1 = dl.reshape %0 {shape = array<i64: -1, 5>} : (tensor<?x10xf32>) -> tensor<?x5xf32>
  return %0, %1 : tensor<?x10xf32>, tensor<?x5xf32>
}

// -----

// CHECK-LABEL: func.func @batched_matmul
// CHECK: dl.matmul {{.+}} -> tensor<2x3x5xf32>
func.func @batched_matmul(%a: tensor<?x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<*xf32> {
  %0 = dl.matmul %a, %b : (tensor<?x3x4xf32>, tensor<2x4x5xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// CHECK-LABEL: func.func @reductions
// CHECK-SAME: -> (tensor<f32>, tensor<?x1xf32>, tensor<10xf32>, tensor<?xi32>)
// CHECK: dl.sum {{.+}} -> tensor<f32>
// CHECK: dl.mean {{.+}} -> tensor<?x1xf32>
// CHECK: dl.max {{.+}} -> tensor<10xf32>
// CHECK: dl.argmax {{.+}} -> tensor<?xi32>
func.func @reductions(%x: tensor<?x10xf32>) -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xi32>) {
  %0 = dl.sum %x {axes = array<i64: 0, 1>} : (tensor<?x10xf32>) -> tensor<*xf32>
  %1 = dl.mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<?x10xf32>) -> tensor<*xf32>
  %2 = dl.max %x {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<*xf32>
  %3 = dl.argmax %x {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<*xi32>
  return %0, %1, %2, %3 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xi32>
}

// -----

// CHECK-LABEL: func.func @losses
// CHECK: %[[OH:.+]] = dl.one_hot {{.+}} -> tensor<?x10xf32>
// CHECK: dl.softmax_cross_entropy {{.+}} -> tensor<?xf32>
// CHECK: dl.softmax_cross_entropy %{{.+}}, %[[OH]] : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?xf32>
// CHECK: dl.mse {{.+}} -> tensor<f32>
// CHECK: dl.cmp {{.+}} -> tensor<?xf32>
// CHECK: dl.cast {{.+}} -> tensor<?xf32>
func.func @losses(%logits: tensor<?x10xf32>, %labels: tensor<?xi32>)
    -> (tensor<*xf32>, tensor<*xf32>, tensor<f32>, tensor<*xf32>, tensor<*xf32>) {
  %0 = dl.one_hot %labels {depth = 10 : i64} : (tensor<?xi32>) -> tensor<*xf32>
  %1 = dl.softmax_cross_entropy %logits, %labels : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<*xf32>
  %2 = dl.softmax_cross_entropy %logits, %0 : (tensor<?x10xf32>, tensor<*xf32>) -> tensor<*xf32>
  %3 = dl.mse %logits, %0 : (tensor<?x10xf32>, tensor<*xf32>) -> tensor<f32>
  %4 = dl.argmax %logits {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<*xi32>
  %5 = dl.cmp eq, %4, %labels : (tensor<*xi32>, tensor<?xi32>) -> tensor<*xf32>
  %6 = dl.cast %4 {element_type = f32} : (tensor<*xi32>) -> tensor<*xf32>
  return %1, %2, %3, %5, %6 : tensor<*xf32>, tensor<*xf32>, tensor<f32>, tensor<*xf32>, tensor<*xf32>
}

// -----

// A conv filter of unknown spatial size leaves the spatial dims symbolic.
// CHECK-LABEL: func.func @dynamic_filter
// CHECK: dl.conv2d {{.+}} -> tensor<?x?x?x8xf32>
func.func @dynamic_filter(%x: tensor<?x28x28x1xf32>, %w: tensor<?x?x1x8xf32>) -> tensor<*xf32> {
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x28x28x1xf32>, tensor<?x?x1x8xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// Shape ops: transpose, broadcast_to, unbroadcast, softmax and dropout keep or
// derive their operands' shapes.
// CHECK-LABEL: func.func @shape_ops
// CHECK: dl.transpose {{.+}} -> tensor<10x?xf32>
// CHECK: dl.broadcast_to {{.+}} -> tensor<?x10xf32>
// CHECK: dl.unbroadcast {{.+}} -> tensor<10xf32>
// CHECK: dl.softmax {{.+}} -> tensor<?x10xf32>
// CHECK: dl.dropout {{.+}} -> tensor<?x10xf32>
func.func @shape_ops(%x: tensor<?x10xf32>, %b: tensor<10xf32>, %s: tensor<i64>)
    -> (tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>) {
  %0 = dl.transpose %x {perm = array<i64: 1, 0>} : (tensor<?x10xf32>) -> tensor<*xf32>
  %1 = dl.broadcast_to %b, %x : (tensor<10xf32>, tensor<?x10xf32>) -> tensor<*xf32>
  %2 = dl.unbroadcast %1, %b : (tensor<*xf32>, tensor<10xf32>) -> tensor<*xf32>
  %3 = dl.softmax %1 {axis = 1 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  %4 = dl.dropout %3, %s {rate = 0.5 : f64} : (tensor<*xf32>, tensor<i64>) -> tensor<*xf32>
  return %0, %2, %3, %4 : tensor<*xf32>, tensor<*xf32>, tensor<*xf32>, tensor<*xf32>
}
