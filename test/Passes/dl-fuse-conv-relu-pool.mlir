// RUN: dlc-opt %s -split-input-file -dl-fuse-conv-relu-pool | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dl-fuse-conv-relu-pool -mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// The whole block: conv2d + per-channel bias + relu + max_pool becomes one
// op whose second result is the pool's arg-max; its location fuses those of
// the four ops it replaced.

// CHECK-LABEL: func.func @block(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x8x8x1xf32>, %[[W:[^:]+]]: tensor<3x3x1x4xf32>, %[[B:[^:]+]]: tensor<4xf32>
// CHECK-NOT: dl.conv2d
// CHECK: %[[P:.+]], %{{.+}} = dl.fused_conv2d relu max %[[X]], %[[W]], %[[B]] {pads = array<i64: 1, 1, 1, 1>, pool_pads = array<i64: 0, 0, 0, 0>, pool_strides = array<i64: 2, 2>, pool_window = array<i64: 2, 2>, strides = array<i64: 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>, tensor<4xf32>) -> (tensor<?x4x4x4xf32>, tensor<?x4x4x4xi8>)
// CHECK-NOT: dl.relu
// CHECK-NOT: dl.max_pool
// CHECK: return %[[P]]
// LOC-LABEL: func.func @block(
// LOC: dl.fused_conv2d {{.*}} loc(#[[L:.+]])
// LOC-DAG: #[[L1:.+]] = loc("m.dl":1:1)
// LOC-DAG: #[[L2:.+]] = loc("m.dl":1:2)
// LOC-DAG: #[[L3:.+]] = loc("m.dl":1:3)
// LOC-DAG: #[[L4:.+]] = loc("m.dl":1:4)
// LOC: #[[L]] = loc(fused[#[[L1]], #[[L2]], #[[L3]], #[[L4]]])
func.func @block(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> tensor<?x4x4x4xf32> {
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32> loc("m.dl":1:1)
  %1 = dl.add %0, %b : (tensor<?x8x8x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32> loc("m.dl":1:2)
  %2 = dl.relu %1 : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32> loc("m.dl":1:3)
  %3 = dl.max_pool %2 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x8x8x4xf32>) -> tensor<?x4x4x4xf32> loc("m.dl":1:4)
  return %3 : tensor<?x4x4x4xf32>
}

// -----

// Partial chains: the bias on either side of the add; conv + bias alone;
// another activation; an average pool without an activation.

// CHECK-LABEL: func.func @partial(
// CHECK: dl.fused_conv2d none none %{{.+}}, %{{.+}}, %{{.+}} {pads
// CHECK: dl.fused_conv2d sigmoid none %{{.+}}, %{{.+}}, %{{.+}} {pads
// CHECK: dl.fused_conv2d none avg %{{.+}}, %{{.+}}, %{{.+}} {pads
// CHECK-NOT: dl.conv2d
// CHECK-NOT: dl.avg_pool
func.func @partial(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>) {
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %1 = dl.add %b, %0 : (tensor<4xf32>, tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  %2 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %3 = dl.add %2, %b : (tensor<?x8x8x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
  %4 = dl.sigmoid %3 : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  %5 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %6 = dl.add %5, %b : (tensor<?x8x8x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
  %7 = dl.avg_pool %6 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x8x8x4xf32>) -> tensor<?x4x4x4xf32>
  return %1, %4, %7 : tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>
}

// -----

// Must not fuse past a value that is used twice: the ReLU's output is also
// returned, so the pool stays and reads it.

// CHECK-LABEL: func.func @relu_used_twice(
// CHECK: %[[R:.+]] = dl.fused_conv2d relu none
// CHECK: %[[P:.+]] = dl.max_pool %[[R]]
// CHECK: return %[[P]], %[[R]]
func.func @relu_used_twice(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> (tensor<?x4x4x4xf32>, tensor<?x8x8x4xf32>) {
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %1 = dl.add %0, %b : (tensor<?x8x8x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
  %2 = dl.relu %1 : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  %3 = dl.max_pool %2 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x8x8x4xf32>) -> tensor<?x4x4x4xf32>
  return %3, %2 : tensor<?x4x4x4xf32>, tensor<?x8x8x4xf32>
}

// -----

// Must not fuse: a pool over a value that is not a convolution; a conv whose
// add is not a per-channel bias; a conv used twice; an average pool after an
// activation (only conv + bias + relu fuse); a leaky_relu with a negative
// slope (its gradient cannot come from its output).

// CHECK-LABEL: func.func @not_fused(
// CHECK: dl.max_pool %{{.+}} {
// CHECK: %[[C1:.+]] = dl.conv2d
// CHECK: dl.add %[[C1]], %[[C1]]
// CHECK: %[[R:.+]] = dl.fused_conv2d relu none
// CHECK: dl.avg_pool %[[R]]
// CHECK: %[[B:.+]] = dl.fused_conv2d none none
// CHECK: dl.leaky_relu %[[B]]
func.func @not_fused(%x: tensor<?x8x8x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> (tensor<?x4x4x1xf32>, tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>, tensor<?x8x8x4xf32>) {
  %p = dl.max_pool %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x8x8x1xf32>) -> tensor<?x4x4x1xf32>
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %1 = dl.add %0, %0 : (tensor<?x8x8x4xf32>, tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  %2 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %3 = dl.add %2, %b : (tensor<?x8x8x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
  %4 = dl.relu %3 : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  %5 = dl.avg_pool %4 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x8x8x4xf32>) -> tensor<?x4x4x4xf32>
  %6 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x8x8x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x8x8x4xf32>
  %7 = dl.add %6, %b : (tensor<?x8x8x4xf32>, tensor<4xf32>) -> tensor<?x8x8x4xf32>
  %8 = dl.leaky_relu %7 {alpha = -0.5 : f64} : (tensor<?x8x8x4xf32>) -> tensor<?x8x8x4xf32>
  return %p, %1, %5, %8 : tensor<?x4x4x1xf32>, tensor<?x8x8x4xf32>, tensor<?x4x4x4xf32>, tensor<?x8x8x4xf32>
}

// -----

// Pools the fused op cannot take (its gradient unpools to the convolution's
// static size, through an i8 arg-max): after a convolution of symbolic height
// and width, with a window of more than 256 cells, with windows wholly in the
// padding. The rest of each chain fuses.

// CHECK-LABEL: func.func @pool_limits(
// CHECK: %[[A:.+]] = dl.fused_conv2d relu none
// CHECK: dl.max_pool %[[A]]
// CHECK: %[[B:.+]] = dl.fused_conv2d relu none
// CHECK: dl.max_pool %[[B]]
// CHECK: %[[C:.+]] = dl.fused_conv2d none none
// CHECK: dl.max_pool %[[C]]
func.func @pool_limits(%x: tensor<?x?x?x1xf32>, %y: tensor<?x20x20x1xf32>, %w: tensor<3x3x1x4xf32>, %b: tensor<4xf32>) -> (tensor<?x?x?x4xf32>, tensor<?x1x1x4xf32>, tensor<?x11x11x4xf32>) {
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x?x?x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x?x?x4xf32>
  %1 = dl.add %0, %b : (tensor<?x?x?x4xf32>, tensor<4xf32>) -> tensor<?x?x?x4xf32>
  %2 = dl.relu %1 : (tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32>
  %3 = dl.max_pool %2 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x?x?x4xf32>) -> tensor<?x?x?x4xf32>
  %4 = dl.conv2d %y, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x20x20x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x20x20x4xf32>
  %5 = dl.add %4, %b : (tensor<?x20x20x4xf32>, tensor<4xf32>) -> tensor<?x20x20x4xf32>
  %6 = dl.relu %5 : (tensor<?x20x20x4xf32>) -> tensor<?x20x20x4xf32>
  %7 = dl.max_pool %6 {window = array<i64: 20, 20>, strides = array<i64: 20, 20>, pads = array<i64: 0, 0, 0, 0>} : (tensor<?x20x20x4xf32>) -> tensor<?x1x1x4xf32>
  %8 = dl.conv2d %y, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : (tensor<?x20x20x1xf32>, tensor<3x3x1x4xf32>) -> tensor<?x20x20x4xf32>
  %9 = dl.add %8, %b : (tensor<?x20x20x4xf32>, tensor<4xf32>) -> tensor<?x20x20x4xf32>
  %10 = dl.max_pool %9 {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 2, 0, 2, 0>} : (tensor<?x20x20x4xf32>) -> tensor<?x11x11x4xf32>
  return %3, %7, %10 : tensor<?x?x?x4xf32>, tensor<?x1x1x4xf32>, tensor<?x11x11x4xf32>
}
