// RUN: dlc-opt %s -split-input-file -dl-lower-strided-copies | FileCheck %s

// A copy out of a strided view becomes linalg.copy (later plain loops), so
// compiled models never call MLIR's memrefCopy.
// CHECK-LABEL: func.func @strided
// CHECK-SAME: (%[[A:.+]]: memref<4x8xf32>, %[[B:.+]]: memref<4x4xf32>)
// CHECK: %[[V:.+]] = memref.subview %[[A]]
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[V]] : memref<4x4xf32, strided<[8, 1], offset: 2>>) outs(%[[B]] : memref<4x4xf32>)
func.func @strided(%a: memref<4x8xf32>, %b: memref<4x4xf32>) {
  %v = memref.subview %a[0, 2] [4, 4] [1, 1] : memref<4x8xf32> to memref<4x4xf32, strided<[8, 1], offset: 2>>
  memref.copy %v, %b : memref<4x4xf32, strided<[8, 1], offset: 2>> to memref<4x4xf32>
  return
}

// -----

// Identity layouts on both sides stay a memref.copy (it becomes memcpy).
// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy
// CHECK-NOT: linalg.copy
func.func @contiguous(%a: memref<4x4xf32>, %b: memref<4x4xf32>) {
  memref.copy %a, %b : memref<4x4xf32> to memref<4x4xf32>
  return
}
