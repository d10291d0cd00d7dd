// RUN: dlc-opt %s --dl-serial-nested-parallel | FileCheck %s

// A parallel loop inside another becomes serial loops, one per dimension,
// with its body (and its buffer) inside the innermost; the outer parallel
// loop, and a nested one that reduces, stay parallel.

// CHECK-LABEL: func.func @nested(
// CHECK: scf.parallel (%[[I:.+]]) = (%c0) to (%c10) step (%c1) {
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[J:.+]] = %c0 to %c4 step %c1 {
// CHECK-NEXT: scf.for %[[K:.+]] = %c0 to %c8 step %c2 {
// CHECK-NEXT: %[[T:.+]] = memref.alloc() : memref<16xf32>
// CHECK: memref.store %{{.+}}, %{{.+}}[%[[I]], %[[J]], %[[K]]]
// CHECK: scf.parallel {{.+}} init
// CHECK: scf.reduce
func.func @nested(%out: memref<10x4x8xf32>, %v: f32) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c10 = arith.constant 10 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c10) step (%c1) {
    scf.parallel (%j, %k) = (%c0, %c0) to (%c4, %c8) step (%c1, %c2) {
      %t = memref.alloc() : memref<16xf32>
      memref.store %v, %t[%c0] : memref<16xf32>
      %x = memref.load %t[%c0] : memref<16xf32>
      memref.store %x, %out[%i, %j, %k] : memref<10x4x8xf32>
      memref.dealloc %t : memref<16xf32>
      scf.reduce
    }
    scf.reduce
  }
  %s = scf.parallel (%i) = (%c0) to (%c10) step (%c1) init (%zero) -> f32 {
    %r = scf.parallel (%j) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
      scf.reduce(%v : f32) {
      ^bb0(%a: f32, %b: f32):
        %y = arith.addf %a, %b : f32
        scf.reduce.return %y : f32
      }
    }
    scf.reduce(%r : f32) {
    ^bb0(%a: f32, %b: f32):
      %y = arith.addf %a, %b : f32
      scf.reduce.return %y : f32
    }
  }
  return %s : f32
}
