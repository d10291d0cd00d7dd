// RUN: dlc-opt %s -split-input-file -dl-fuse-elementwise | FileCheck %s

// An Adam-style update: the new moments feed the param update and are also
// returned. All three come out of one generic (one pass over memory) instead
// of three, or of a param update that recomputes the moments.
// CHECK-LABEL: func.func @update
// CHECK: %[[R:.+]]:3 = linalg.generic
// CHECK-SAME: outs(
// CHECK: math.sqrt
// CHECK: linalg.yield {{.+}}, {{.+}}, {{.+}} : f32, f32, f32
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]#1, %[[R]]#0, %[[R]]#2
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @update(%p: tensor<4x8xf32>, %g: tensor<4x8xf32>, %m: tensor<4x8xf32>, %v: tensor<4x8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %c9 = arith.constant 0.9 : f32
  %c1 = arith.constant 0.1 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %m2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %g : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %x = arith.mulf %a, %c9 : f32
    %y = arith.mulf %b, %c1 : f32
    %z = arith.addf %x, %y : f32
    linalg.yield %z : f32
  } -> tensor<4x8xf32>
  %v2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%v, %g : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %x = arith.mulf %a, %c9 : f32
    %y = arith.mulf %b, %b : f32
    %z = arith.addf %x, %y : f32
    linalg.yield %z : f32
  } -> tensor<4x8xf32>
  %p2 = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %m2, %v2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %s = math.sqrt %c : f32
    %d = arith.divf %b, %s : f32
    %z = arith.subf %a, %d : f32
    linalg.yield %z : f32
  } -> tensor<4x8xf32>
  return %m2, %v2, %p2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Matmuls stay two-dimensional and tagged: no reshape is propagated through
// them and nothing is fused into them.
// CHECK-LABEL: func.func @matmul_then_reshape
// CHECK: linalg.generic {{.+}} attrs = {dlc.matmul}
// CHECK: tensor.expand_shape
#a = affine_map<(d0, d1, d2) -> (d0, d1)>
#b = affine_map<(d0, d1, d2) -> (d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @matmul_then_reshape(%x: tensor<6x4xf32>, %w: tensor<4x8xf32>) -> tensor<2x3x8xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x8xf32>
  %f = linalg.fill ins(%cst : f32) outs(%e : tensor<6x8xf32>) -> tensor<6x8xf32>
  %mm = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : tensor<6x4xf32>, tensor<4x8xf32>) outs(%f : tensor<6x8xf32>) attrs = {dlc.matmul} {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %t = arith.mulf %p, %q : f32
    %s = arith.addf %o, %t : f32
    linalg.yield %s : f32
  } -> tensor<6x8xf32>
  %r = tensor.expand_shape %mm [[0, 1], [2]] output_shape [2, 3, 8] : tensor<6x8xf32> into tensor<2x3x8xf32>
  return %r : tensor<2x3x8xf32>
}
