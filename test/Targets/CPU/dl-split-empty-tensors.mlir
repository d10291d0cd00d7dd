// RUN: dlc-opt %s --dl-split-empty-tensors | FileCheck %s

// A tensor.empty that 18 ops write into (more than 16 uses): every use but
// one gets its own, right before the op of the empty's block that holds the
// use (for the fill in the loop: before the scf.for, not inside it), with the
// same dynamic size.
// CHECK-LABEL: func.func @many(
// CHECK-SAME: %[[N:[^:]*]]: index
// CHECK-COUNT-17: tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK-NEXT: scf.for
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[E]] : tensor<?xf32>)
// CHECK-NOT: tensor.empty
// CHECK: return
func.func @many(%n: index, %c: f32) -> (tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) {
  %e = tensor.empty(%n) : tensor<?xf32>
  %f0 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f1 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f2 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f3 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f4 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f5 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f6 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f7 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f8 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f9 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f10 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f11 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f12 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f13 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f14 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %f15 = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %l = scf.for %i = %c0 to %c1 step %c1 iter_args(%a = %c0) -> (index) {
    %g = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
    %d = tensor.dim %g, %c0 : tensor<?xf32>
    scf.yield %d : index
  }
  %last = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  return %f0, %f1, %f2, %f3, %f4, %f5, %f6, %f7, %f8, %f9, %f10, %f11, %f12, %f13, %f14, %f15, %last : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>
}

// 16 uses or fewer: the empty stays shared (its analysis is cheap, and uses
// that do not conflict share its buffer).
// CHECK-LABEL: func.func @few(
// CHECK-COUNT-1: tensor.empty
// CHECK-NOT: tensor.empty
// CHECK: return
func.func @few(%c: f32) -> (tensor<4xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4xf32>
  %a = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %b = linalg.fill ins(%c : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}

// A fill of an empty tensor that two ops accumulate into (CSE merged their
// zeros): all uses but one get a fill and an empty tensor of their own,
// right before the op of the fill's block that holds the use, so
// bufferization copies neither. A fill of anything else stays shared.
// CHECK-LABEL: func.func @shared_fill(
// CHECK-SAME: %[[N:[^:]*]]: index, %[[C:[^:]*]]: f32, %[[X:[^:]*]]: tensor<?xf32>, %[[D:[^:]*]]: tensor<?xf32>
// CHECK: %[[E0:.*]] = tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK: %[[F0:.*]] = linalg.fill ins(%[[C]] : f32) outs(%[[E0]] : tensor<?xf32>)
// CHECK: %[[FD:.*]] = linalg.fill ins(%[[C]] : f32) outs(%[[D]] : tensor<?xf32>)
// CHECK: %[[E1:.*]] = tensor.empty(%[[N]]) : tensor<?xf32>
// CHECK-NEXT: %[[F1:.*]] = linalg.fill ins(%[[C]] : f32) outs(%[[E1]] : tensor<?xf32>)
// CHECK-NEXT: linalg.add ins(%[[X]], %[[FD]] : {{.*}}) outs(%[[F1]] : tensor<?xf32>)
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[F0]])
// CHECK: linalg.add ins(%[[X]], %[[FD]] : {{.*}}) outs
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @shared_fill(%n: index, %c: f32, %x: tensor<?xf32>, %d: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  %e = tensor.empty(%n) : tensor<?xf32>
  %f = linalg.fill ins(%c : f32) outs(%e : tensor<?xf32>) -> tensor<?xf32>
  %fd = linalg.fill ins(%c : f32) outs(%d : tensor<?xf32>) -> tensor<?xf32>
  %a = linalg.add ins(%x, %fd : tensor<?xf32>, tensor<?xf32>) outs(%f : tensor<?xf32>) -> tensor<?xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %l = scf.for %i = %c0 to %c1 step %c1 iter_args(%acc = %f) -> (tensor<?xf32>) {
    %b = linalg.add ins(%x, %fd : tensor<?xf32>, tensor<?xf32>) outs(%acc : tensor<?xf32>) -> tensor<?xf32>
    scf.yield %b : tensor<?xf32>
  }
  return %a, %l : tensor<?xf32>, tensor<?xf32>
}
