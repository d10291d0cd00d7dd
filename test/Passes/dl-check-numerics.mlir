// RUN: dlc-opt %s -dl-check-numerics | FileCheck %s
// RUN: dlc-opt %s -dl-check-numerics -canonicalize -convert-dl-to-linalg | FileCheck %s --check-prefix=LOWER

// --check-numerics: every f32 argument that is an input or a param, then
// every op's f32 result, is checked in program order (x * 0 summed is NaN
// exactly when an element is NaN or infinite); the new last result is the
// number of the first failed check, or the number of checks + 1.

module @m {
  dl.input @x : tensor<?x2xf32> {dim_names = ["B", ""]}
  dl.input @y : tensor<?xi32> {dim_names = ["B"]}
  dl.param @W : tensor<2xf32> {init = "zeros"}
  func.func @run(%x: tensor<?x2xf32> {dl.input = @x}, %y: tensor<?xi32> {dl.input = @y}, %W: tensor<2xf32> {dl.param = @W}) -> (tensor<?x2xf32> {dl.role = "output", dl.name = "l"}) {
    %c = dl.constant dense<2.0> : tensor<f32>
    %0 = dl.mul %x, %W : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    %1 = dl.log %0 : (tensor<?x2xf32>) -> tensor<?x2xf32>
    %2 = dl.mul %1, %c : (tensor<?x2xf32>, tensor<f32>) -> tensor<?x2xf32>
    return %2 : tensor<?x2xf32>
  }
}

// CHECK-LABEL: func.func @run(
// CHECK-SAME: -> (tensor<?x2xf32> {dl.name = "l", dl.role = "output"}, tensor<f32> {dl.name = "numerics", dl.role = "numerics"})
// The i32 input and the constant are not checked.
// CHECK-SAME: dlc.numerics_checks = [{loc = #{{.+}}, op = "input x"}, {loc = #{{.+}}, op = "param W"}, {loc = #{{.+}}, op = "dl.mul"}, {loc = #{{.+}}, op = "dl.log"}, {loc = #{{.+}}, op = "dl.mul"}]
// CHECK: %[[Z:.+]] = dl.constant dense<0.000000e+00>
// CHECK-NEXT: %[[XZ:.+]] = dl.mul %arg0, %[[Z]]
// CHECK-NEXT: %[[XCOL:.+]] = dl.sum %[[XZ]] {axes = array<i64: 0>} : (tensor<?x2xf32>) -> tensor<2xf32>
// CHECK-NEXT: %[[XS:.+]] = dl.sum %[[XCOL]] {axes = array<i64: 0>} : (tensor<2xf32>) -> tensor<f32>
// CHECK-NEXT: %[[XF:.+]] = dl.cmp ne, %[[XS]], %[[XS]]
// CHECK: %[[WF:.+]] = dl.cmp ne
// CHECK: %[[H:.+]] = dl.mul %arg0, %arg2
// CHECK: %[[HF:.+]] = dl.cmp ne
// CHECK: %[[L:.+]] = dl.log %[[H]]
// CHECK: %[[LF:.+]] = dl.cmp ne
// CHECK: %[[OUT:.+]] = dl.mul %[[L]]
// CHECK: %[[OF:.+]] = dl.cmp ne
// The first failed check: min over k of 6 - flag_k * (6 - k).
// CHECK: %[[NONE:.+]] = dl.constant dense<6.000000e+00>
// CHECK-NEXT: %[[GAP1:.+]] = dl.constant dense<5.000000e+00>
// CHECK-NEXT: %[[NONE1:.+]] = dl.constant dense<6.000000e+00>
// CHECK-NEXT: %[[M1:.+]] = dl.mul %[[XF]], %[[GAP1]]
// CHECK-NEXT: %[[AT1:.+]] = dl.sub %[[NONE1]], %[[M1]]
// CHECK-NEXT: %[[FIRST1:.+]] = dl.minimum %[[NONE]], %[[AT1]]
// CHECK: dl.mul %[[OF]]
// CHECK: %[[FIRST:.+]] = dl.minimum
// CHECK-NEXT: return %[[OUT]], %[[FIRST]]

// Lowered, the checks are an unordered comparison (true for NaN).
// LOWER: arith.cmpf une
