// RUN: dlc-opt %s -dl-build-eval | FileCheck %s
// RUN: dlc-opt %s -dl-build-eval=keep-graph | FileCheck %s --check-prefix=KEEP

// @eval is @graph with dropout made the identity and no dl.step_seed; it keeps
// every result. @graph is erased unless keep-graph is set.

module @m {
  dl.input @x : tensor<?x4xf32> {dim_names = ["B", ""]}
  dl.param @W : tensor<4x2xf32> {init = "zeros"}
  func.func @graph(%x: tensor<?x4xf32> {dl.input = @x}, %W: tensor<4x2xf32> {dl.param = @W}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}, tensor<?x2xf32> {dl.role = "output", dl.name = "y"}) {
    %seed = dl.step_seed : tensor<i64>
    %0 = dl.dropout %x, %seed {rate = 0.5 : f64, salt = 0 : i64} : (tensor<?x4xf32>, tensor<i64>) -> tensor<?x4xf32>
    %1 = dl.matmul %0, %W : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
    %2 = dl.l2 %1 : (tensor<?x2xf32>) -> tensor<f32>
    return %2, %1 : tensor<f32>, tensor<?x2xf32>
  }
}

// CHECK-NOT: func.func @graph
// CHECK-LABEL: func.func @eval(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4xf32> {dl.input = @x}, %[[W:[^:]+]]: tensor<4x2xf32> {dl.param = @W})
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<?x2xf32> {dl.name = "y", dl.role = "output"})
// CHECK-NOT: dl.step_seed
// CHECK-NOT: dl.dropout
// CHECK: %[[Y:.+]] = dl.matmul %[[X]], %[[W]]
// CHECK: %[[L:.+]] = dl.l2 %[[Y]]
// CHECK: return %[[L]], %[[Y]]

// KEEP-LABEL: func.func @graph(
// KEEP: dl.dropout
// KEEP-LABEL: func.func @eval(
// KEEP-NOT: dl.dropout
// KEEP: return
