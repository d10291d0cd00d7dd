// RUN: dlc-opt %s --dl-gpu-fuse-loops --split-input-file | FileCheck %s

// Nests over the same space, the second reading at its own indices what the
// first wrote, are one nest; the allocation and the free between them move
// out of the way (allocations first, frees last).
// CHECK-LABEL: func.func @chain(
// CHECK: %[[T:.+]] = memref.alloc() : memref<16xf32>
// CHECK: scf.parallel (%[[I:.+]]) =
// CHECK: memref.store %{{.+}}, %[[T]][%[[I]]]
// CHECK: %[[V:.+]] = memref.load %[[T]][%[[I]]]
// CHECK: memref.store %{{.+}}, %arg1[%[[I]]]
// CHECK-NOT: scf.parallel
// CHECK: memref.dealloc %[[T]]
// CHECK-NEXT: memref.dealloc
// CHECK-NEXT: return
func.func @chain(%x: memref<16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %t = memref.alloc() : memref<16xf32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %v = memref.load %x[%i] : memref<16xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %t[%i] : memref<16xf32>
  }
  %u = memref.alloc() : memref<16xf32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %v = memref.load %t[%i] : memref<16xf32>
    %w = arith.mulf %v, %v : f32
    memref.store %w, %y[%i] : memref<16xf32>
  }
  memref.dealloc %t : memref<16xf32>
  memref.dealloc %u : memref<16xf32>
  return
}

// -----

// Reading another iteration's element of what the first nest wrote: two
// nests (two kernels, the first done before the second starts).
// CHECK-LABEL: func.func @neighbour(
// CHECK: scf.parallel
// CHECK: scf.parallel
func.func @neighbour(%x: memref<16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c15 = arith.constant 15 : index
  %c16 = arith.constant 16 : index
  %t = memref.alloc() : memref<16xf32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %v = memref.load %x[%i] : memref<16xf32>
    memref.store %v, %t[%i] : memref<16xf32>
  }
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %j = arith.subi %c15, %i : index
    %v = memref.load %t[%j] : memref<16xf32>
    memref.store %v, %y[%i] : memref<16xf32>
  }
  memref.dealloc %t : memref<16xf32>
  return
}

// -----

// A write after a read of another element: the second nest overwrites what
// the first still reads at other indices; not fused. Nor are nests of
// different bounds, or nests with a call between them.
// CHECK-LABEL: func.func @overwrite(
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: call @effects
// CHECK: scf.parallel
func.func private @effects()
func.func @overwrite(%x: memref<16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c15 = arith.constant 15 : index
  %c16 = arith.constant 16 : index
  %cst = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %j = arith.subi %c15, %i : index
    %v = memref.load %x[%j] : memref<16xf32>
    memref.store %v, %y[%i] : memref<16xf32>
  }
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    memref.store %cst, %x[%i] : memref<16xf32>
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %cst, %y[%i] : memref<16xf32>
  }
  func.call @effects() : () -> ()
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %cst, %y[%i] : memref<16xf32>
  }
  return
}

// -----

// A nest that touches memory through an op with effects of its own (a
// linalg op on a row) is not understood: it fuses with nothing (here the
// second nest reads the rows the first wrote in reverse).
// CHECK-LABEL: func.func @opaque(
// CHECK: scf.parallel
// CHECK: scf.parallel
func.func @opaque(%x: memref<8x16xf32>, %y: memref<8x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %t = memref.alloc() : memref<8x16xf32>
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %r = memref.subview %x[%i, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %w = memref.subview %t[%i, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    linalg.copy ins(%r : memref<16xf32, strided<[1], offset: ?>>) outs(%w : memref<16xf32, strided<[1], offset: ?>>)
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    %j = arith.subi %c8, %i : index
    %k = arith.subi %j, %c1 : index
    %r = memref.subview %t[%k, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    %w = memref.subview %y[%i, 0] [1, 16] [1, 1] : memref<8x16xf32> to memref<16xf32, strided<[1], offset: ?>>
    linalg.copy ins(%r : memref<16xf32, strided<[1], offset: ?>>) outs(%w : memref<16xf32, strided<[1], offset: ?>>)
  }
  memref.dealloc %t : memref<8x16xf32>
  return
}

// -----

// A size read back from a reshape's shape buffer is the value stored there
// (the nests' bounds are then the same value), and a load of an argument
// the function never writes (the step's seed) moves to the start: the two
// nests are one.
// CHECK-LABEL: func.func @same_size(
// CHECK: memref.load %arg2[]
// CHECK: scf.parallel
// CHECK-NOT: scf.parallel
func.func @same_size(%x: memref<?xf32>, %n: index, %seed: memref<i64>) -> (memref<?xf32>, memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %shape = memref.alloc() : memref<1xindex>
  memref.store %n, %shape[%c0] : memref<1xindex>
  %r = memref.reshape %x(%shape) : (memref<?xf32>, memref<1xindex>) -> memref<?xf32>
  %t = memref.alloc(%n) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %v = memref.load %x[%i] : memref<?xf32>
    memref.store %v, %t[%i] : memref<?xf32>
  }
  %m = memref.load %shape[%c0] : memref<1xindex>
  %s = memref.load %seed[] : memref<i64>
  %f = arith.uitofp %s : i64 to f32
  %u = memref.alloc(%m) : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%m) step (%c1) {
    %v = memref.load %t[%i] : memref<?xf32>
    %w = arith.addf %v, %f : f32
    memref.store %w, %u[%i] : memref<?xf32>
  }
  memref.dealloc %shape : memref<1xindex>
  return %r, %u : memref<?xf32>, memref<?xf32>
}
