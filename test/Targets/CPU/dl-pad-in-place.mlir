// RUN: dlc-opt %s --dl-pad-in-place | FileCheck %s
// RUN: dlc-opt %s --pass-pipeline='builtin.module(dl-pad-in-place,one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},canonicalize,cse,canonicalize)' | FileCheck %s --check-prefix=BUF

// A tensor computed by an scf.forall into an empty tensor, then padded (as
// a fused conv block's pooled output before the next convolution): the
// padded tensor is allocated instead, its border filled (rows above and
// below, then the columns left and right of the interior rows), and the
// forall writes into its interior. The pad becomes an insert_slice of the
// forall's result into the same interior.
// CHECK-LABEL: func.func @forall(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x4x4x8xf32>
// CHECK: %[[N:.*]] = tensor.dim %[[X]]
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[P0:.*]] = tensor.empty(%[[N]]) : tensor<?x8x8x8xf32>
// CHECK: %[[S1:.*]] = tensor.extract_slice %[[P0]][0, 0, 0, 0] [%[[N]], 2, 8, 8]
// CHECK: %[[F1:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[S1]]
// CHECK: %[[P1:.*]] = tensor.insert_slice %[[F1]] into %[[P0]][0, 0, 0, 0] [%[[N]], 2, 8, 8]
// CHECK: tensor.extract_slice %[[P1]][0, 6, 0, 0] [%[[N]], 2, 8, 8]
// CHECK: %[[P2:.*]] = tensor.insert_slice %{{.*}} into %[[P1]][0, 6, 0, 0] [%[[N]], 2, 8, 8]
// CHECK: tensor.extract_slice %[[P2]][0, 2, 0, 0] [%[[N]], 4, 2, 8]
// CHECK: %[[P3:.*]] = tensor.insert_slice %{{.*}} into %[[P2]][0, 2, 0, 0] [%[[N]], 4, 2, 8]
// CHECK: tensor.extract_slice %[[P3]][0, 2, 6, 0] [%[[N]], 4, 2, 8]
// CHECK: %[[P4:.*]] = tensor.insert_slice %{{.*}} into %[[P3]][0, 2, 6, 0] [%[[N]], 4, 2, 8]
// CHECK: %[[IN:.*]] = tensor.extract_slice %[[P4]][0, 2, 2, 0] [%[[N]], 4, 4, 8] [1, 1, 1, 1] : tensor<?x8x8x8xf32> to tensor<?x4x4x8xf32>
// CHECK: %[[R:.*]] = scf.forall {{.*}} shared_outs(%{{.*}} = %[[IN]])
// CHECK: %[[PAD:.*]] = tensor.insert_slice %[[R]] into %[[P4]][0, 2, 2, 0] [%[[N]], 4, 4, 8]
// CHECK-NOT: tensor.pad
// CHECK: return %[[PAD]]
//
// After bufferization: one buffer, the forall's tiles written into its
// interior, and no copy.
// BUF-LABEL: func.func @forall(
// BUF: %[[B:.*]] = memref.alloc(%{{.*}}) {{.*}} : memref<?x8x8x8xf32>
// BUF-NOT: memref.alloc
// BUF-NOT: memref.copy
// BUF: %[[I:.*]] = memref.subview %[[B]][0, 2, 2, 0] [%{{.*}}, 4, 4, 8]
// BUF: scf.forall
// BUF: memref.subview %[[I]]
// BUF-NOT: memref.copy
// BUF: return %[[B]]
func.func @forall(%x: tensor<?x4x4x8xf32>) -> tensor<?x8x8x8xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %n = tensor.dim %x, %c0 : tensor<?x4x4x8xf32>
  %e = tensor.empty(%n) : tensor<?x4x4x8xf32>
  %r = scf.forall (%i) in (%n) shared_outs(%o = %e) -> tensor<?x4x4x8xf32> {
    %s = tensor.extract_slice %o[%i, 0, 0, 0] [1, 4, 4, 8] [1, 1, 1, 1] : tensor<?x4x4x8xf32> to tensor<1x4x4x8xf32>
    %t = linalg.fill ins(%one : f32) outs(%s : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %o[%i, 0, 0, 0] [1, 4, 4, 8] [1, 1, 1, 1] : tensor<1x4x4x8xf32> into tensor<?x4x4x8xf32>
    }
  }
  %p = tensor.pad %r low[0, 2, 2, 0] high[0, 2, 2, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<?x4x4x8xf32> to tensor<?x8x8x8xf32>
  return %p : tensor<?x8x8x8xf32>
}

// Pads that stay: of a function's argument (nothing computes it), and one
// whose padding value is not a constant.
// CHECK-LABEL: func.func @stays(
// CHECK-COUNT-2: tensor.pad
// CHECK-NOT: tensor.pad
// CHECK: return
func.func @stays(%x: tensor<?x4xf32>, %v: f32) -> (tensor<?x6xf32>, tensor<4x6xf32>) {
  %p = tensor.pad %x low[0, 1] high[0, 1] {
  ^bb0(%a: index, %b: index):
    tensor.yield %v : f32
  } : tensor<?x4xf32> to tensor<?x6xf32>
  %e = tensor.empty() : tensor<4x4xf32>
  %f = linalg.fill ins(%v : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
  %q = tensor.pad %f low[0, 1] high[0, 1] {
  ^bb0(%a: index, %b: index):
    tensor.yield %v : f32
  } : tensor<4x4xf32> to tensor<4x6xf32>
  return %p, %q : tensor<?x6xf32>, tensor<4x6xf32>
}
