// RUN: dlc-opt %s -dl-build-run | FileCheck %s
// RUN: dlc-opt %s '-dl-build-run=unfed=y' | FileCheck %s --check-prefix=UNFED
// RUN: dlc-opt %s '-dl-build-run=unfed=x,y' | FileCheck %s --check-prefix=NONE

// @run is @graph for inference: dropout is the identity, and what needs an
// input that is not fed (the loss needs the labels y) is dropped with that
// input's argument. @graph is unchanged.

module @m {
  dl.input @x : tensor<?x4xf32> {dim_names = ["B", ""]}
  dl.input @y : tensor<?x2xf32> {dim_names = ["B", ""]}
  dl.param @W : tensor<4x2xf32> {init = "zeros"}
  func.func @graph(%x: tensor<?x4xf32> {dl.input = @x}, %y: tensor<?x2xf32> {dl.input = @y}, %W: tensor<4x2xf32> {dl.param = @W}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}, tensor<?x2xf32> {dl.role = "output", dl.name = "p"}, tensor<4x2xf32> {dl.role = "output", dl.name = "w2"}) {
    %seed = dl.step_seed : tensor<i64>
    %0 = dl.dropout %x, %seed {rate = 0.5 : f64, salt = 0 : i64} : (tensor<?x4xf32>, tensor<i64>) -> tensor<?x4xf32>
    %1 = dl.matmul %0, %W : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    %2 = dl.mse %1, %y : (tensor<?x2xf32>, tensor<?x2xf32>) -> tensor<f32>
    %3 = dl.square %W : (tensor<4x2xf32>) -> tensor<4x2xf32>
    return %2, %1, %3 : tensor<f32>, tensor<?x2xf32>, tensor<4x2xf32>
  }
}

// CHECK-LABEL: func.func @graph(
// CHECK: dl.dropout
// CHECK-LABEL: func.func @run(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4xf32> {dl.input = @x}, %[[Y:[^:]+]]: tensor<?x2xf32> {dl.input = @y}, %[[W:[^:]+]]: tensor<4x2xf32> {dl.param = @W})
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<?x2xf32> {dl.name = "p", dl.role = "output"}, tensor<4x2xf32> {dl.name = "w2", dl.role = "output"})
// CHECK-NOT: dl.step_seed
// CHECK-NOT: dl.dropout
// CHECK: %[[P:.+]] = dl.matmul %[[X]], %[[W]]
// CHECK: dl.mse %[[P]], %[[Y]]

// UNFED-LABEL: func.func @run(
// UNFED-SAME: %[[X:[^:]+]]: tensor<?x4xf32> {dl.input = @x}, %[[W:[^:]+]]: tensor<4x2xf32> {dl.param = @W})
// UNFED-SAME: -> (tensor<?x2xf32> {dl.name = "p", dl.role = "output"}, tensor<4x2xf32> {dl.name = "w2", dl.role = "output"})
// UNFED-NOT: dl.mse
// UNFED: return

// Nothing fed: only what the params alone give.
// NONE-LABEL: func.func @run(
// NONE-SAME: %{{[^:]+}}: tensor<4x2xf32> {dl.param = @W}) -> (tensor<4x2xf32> {dl.name = "w2", dl.role = "output"})
// NONE-NOT: dl.matmul
// NONE: dl.square
