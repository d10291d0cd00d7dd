// RUN: dlc-opt %s -split-input-file -canonicalize | FileCheck %s

// Folders of the dl dialect, each with a case where it must not fire.

// CHECK-LABEL: func.func @add_zero
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>)
// CHECK-NOT: dl.add
// CHECK: return %[[X]], %[[X]]
func.func @add_zero(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %zero = dl.constant dense<0.0> : tensor<3xf32>
  %0 = dl.add %x, %zero : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = dl.add %zero, %x : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// Adding a zero of a larger shape broadcasts x: no fold.
// CHECK-LABEL: func.func @add_zero_broadcasts
// CHECK-SAME: (%[[X:.+]]: tensor<3xf32>)
// CHECK: %[[ZERO:.+]] = dl.constant dense<0.000000e+00> : tensor<2x3xf32>
// CHECK: %[[SUM:.+]] = dl.add %[[X]], %[[ZERO]]
// CHECK: return %[[SUM]]
func.func @add_zero_broadcasts(%x: tensor<3xf32>) -> tensor<2x3xf32> {
  %zero = dl.constant dense<0.0> : tensor<2x3xf32>
  %0 = dl.add %x, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @add_nonzero
// CHECK: dl.add
func.func @add_nonzero(%x: tensor<3xf32>) -> tensor<3xf32> {
  %c = dl.constant dense<1.0> : tensor<3xf32>
  %0 = dl.add %x, %c : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @add_constants
// CHECK-NEXT: %[[C:.+]] = dl.constant dense<[4.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @add_constants() -> tensor<2xf32> {
  %a = dl.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = dl.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %0 = dl.add %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Constants of different shapes (broadcasting) and i32 constants stay.
// CHECK-LABEL: func.func @add_constants_no_fold
// CHECK-COUNT-2: dl.add
func.func @add_constants_no_fold() -> (tensor<2xf32>, tensor<2xi32>) {
  %a = dl.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = dl.constant dense<3.0> : tensor<f32>
  %0 = dl.add %a, %b : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %i = dl.constant dense<[1, 2]> : tensor<2xi32>
  %1 = dl.add %i, %i : (tensor<2xi32>, tensor<2xi32>) -> tensor<2xi32>
  return %0, %1 : tensor<2xf32>, tensor<2xi32>
}

// -----

// CHECK-LABEL: func.func @sub_zero
// CHECK-SAME: (%[[X:.+]]: tensor<?x3xf32>)
// CHECK: %[[D:.+]] = dl.sub %{{.+}}, %[[X]]
// CHECK: return %[[X]], %[[D]]
func.func @sub_zero(%x: tensor<?x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %zero = dl.constant dense<0.0> : tensor<3xf32>
  %0 = dl.sub %x, %zero : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  // 0 - x is not x.
  %1 = dl.sub %zero, %x : (tensor<3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// CHECK-LABEL: func.func @sub_constants
// CHECK-NEXT: %[[C:.+]] = dl.constant dense<-2.000000e+00> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @sub_constants() -> tensor<2xf32> {
  %a = dl.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = dl.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %0 = dl.sub %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @mul_one
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>)
// CHECK-NOT: dl.mul
// CHECK: return %[[X]], %[[X]]
func.func @mul_one(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  %one = dl.constant dense<1.0> : tensor<f32>
  %0 = dl.mul %x, %one : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %1 = dl.mul %one, %x : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @mul_one_broadcasts
// CHECK: dl.mul
func.func @mul_one_broadcasts(%x: tensor<1x3xf32>) -> tensor<4x3xf32> {
  %one = dl.constant dense<1.0> : tensor<4x1xf32>
  %0 = dl.mul %x, %one : (tensor<1x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func.func @mul_constants
// CHECK-NEXT: %[[C:.+]] = dl.constant dense<[3.000000e+00, 8.000000e+00]> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @mul_constants() -> tensor<2xf32> {
  %a = dl.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = dl.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %0 = dl.mul %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @div_one
// CHECK-SAME: (%[[X:.+]]: tensor<3xf32>)
// CHECK: %[[Q:.+]] = dl.div %{{.+}}, %[[X]]
// CHECK: return %[[X]], %[[Q]]
func.func @div_one(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %one = dl.constant dense<1.0> : tensor<3xf32>
  %0 = dl.div %x, %one : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // 1 / x is not x.
  %1 = dl.div %one, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @div_constants
// CHECK-NEXT: %[[C:.+]] = dl.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @div_constants() -> tensor<2xf32> {
  %a = dl.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %b = dl.constant dense<[2.0, 4.0]> : tensor<2xf32>
  %0 = dl.div %a, %b : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @neg_constant
// CHECK-NEXT: %[[C:.+]] = dl.constant dense<[-1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NEXT: return %[[C]]
func.func @neg_constant() -> tensor<2xf32> {
  %a = dl.constant dense<[1.0, -2.0]> : tensor<2xf32>
  %0 = dl.neg %a : (tensor<2xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// CHECK-LABEL: func.func @neg_no_fold
// CHECK-SAME: (%[[X:.+]]: tensor<2xf32>)
// CHECK: %[[N:.+]] = dl.neg %[[X]]
// CHECK: dl.neg %{{.+}} : (tensor<2xi32>) -> tensor<2xi32>
// CHECK: return %[[N]]
func.func @neg_no_fold(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xi32>) {
  %0 = dl.neg %x : (tensor<2xf32>) -> tensor<2xf32>
  %i = dl.constant dense<[1, 2]> : tensor<2xi32>
  %1 = dl.neg %i : (tensor<2xi32>) -> tensor<2xi32>
  return %0, %1 : tensor<2xf32>, tensor<2xi32>
}

// -----

// CHECK-LABEL: func.func @cast_same
// CHECK-SAME: (%[[X:.+]]: tensor<3xf32>, %[[I:.+]]: tensor<3xi32>)
// CHECK: %[[C:.+]] = dl.cast %[[I]] {element_type = f32}
// CHECK: return %[[X]], %[[C]]
func.func @cast_same(%x: tensor<3xf32>, %i: tensor<3xi32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = dl.cast %x {element_type = f32} : (tensor<3xf32>) -> tensor<3xf32>
  %1 = dl.cast %i {element_type = f32} : (tensor<3xi32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_same
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32>)
// CHECK-NOT: dl.reshape
// CHECK: return %[[X]]
func.func @reshape_same(%x: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %0 = dl.reshape %x {shape = array<i64: 4, 6>} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  return %0 : tensor<4x6xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME: (%[[X:.+]]: tensor<?x6xf32>)
// CHECK-NOT: dl.reshape
// CHECK: return %[[X]]
func.func @reshape_round_trip(%x: tensor<?x6xf32>) -> tensor<?x6xf32> {
  %0 = dl.reshape %x {shape = array<i64: -1, 2, 3>} : (tensor<?x6xf32>) -> tensor<?x2x3xf32>
  %1 = dl.reshape %0 {shape = array<i64: -1, 6>} : (tensor<?x2x3xf32>) -> tensor<?x6xf32>
  return %1 : tensor<?x6xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_twice
// CHECK-SAME: (%[[X:.+]]: tensor<4x6xf32>)
// CHECK: %[[A:.+]] = dl.reshape %[[X]] {shape = array<i64: 24>}
// CHECK: %[[B:.+]] = dl.reshape %[[A]] {shape = array<i64: 2, 12>}
// CHECK: return %[[B]]
func.func @reshape_twice(%x: tensor<4x6xf32>) -> tensor<2x12xf32> {
  %0 = dl.reshape %x {shape = array<i64: 24>} : (tensor<4x6xf32>) -> tensor<24xf32>
  %1 = dl.reshape %0 {shape = array<i64: 2, 12>} : (tensor<24xf32>) -> tensor<2x12xf32>
  return %1 : tensor<2x12xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_constant
// CHECK-NEXT: %[[C:.+]] = dl.constant dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi32>
// CHECK-NEXT: return %[[C]]
func.func @reshape_constant() -> tensor<2x2xi32> {
  %a = dl.constant dense<[1, 2, 3, 4]> : tensor<4xi32>
  %0 = dl.reshape %a {shape = array<i64: 2, 2>} : (tensor<4xi32>) -> tensor<2x2xi32>
  return %0 : tensor<2x2xi32>
}

// -----

// CHECK-LABEL: func.func @broadcast_to_same
// CHECK-SAME: (%[[X:.+]]: tensor<?x3xf32>, %[[Y:.+]]: tensor<?x3xf32>, %[[B:.+]]: tensor<3xf32>)
// CHECK: %[[BC:.+]] = dl.broadcast_to %[[B]], %[[Y]]
// CHECK: return %[[X]], %[[BC]]
func.func @broadcast_to_same(%x: tensor<?x3xf32>, %y: tensor<?x3xf32>, %b: tensor<3xf32>)
    -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %0 = dl.broadcast_to %x, %y : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %1 = dl.broadcast_to %b, %y : (tensor<3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0, %1 : tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// CHECK-LABEL: func.func @unbroadcast_same
// CHECK-SAME: (%[[X:.+]]: tensor<2x3xf32>, %[[B:.+]]: tensor<3xf32>)
// CHECK: %[[U:.+]] = dl.unbroadcast %[[X]], %[[B]]
// CHECK: return %[[X]], %[[U]]
func.func @unbroadcast_same(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %0 = dl.unbroadcast %x, %x : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = dl.unbroadcast %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @size_static
// CHECK-SAME: (%[[X:.+]]: tensor<?x3x4xf32>)
// CHECK-DAG: %[[C:.+]] = dl.constant dense<1.200000e+01> : tensor<f32>
// CHECK-DAG: %[[S:.+]] = dl.size %[[X]] {axes = array<i64: 0, 1>}
// CHECK: return %[[C]], %[[S]]
func.func @size_static(%x: tensor<?x3x4xf32>) -> (tensor<f32>, tensor<f32>) {
  %0 = dl.size %x {axes = array<i64: 1, 2>} : (tensor<?x3x4xf32>) -> tensor<f32>
  // The symbolic dim is only known at run time.
  %1 = dl.size %x {axes = array<i64: 0, 1>} : (tensor<?x3x4xf32>) -> tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}
