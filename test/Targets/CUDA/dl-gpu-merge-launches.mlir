// RUN: dlc-opt %s --dl-gpu-map-loops --split-input-file | FileCheck %s

// Independent kernels of the same block size are one launch side by side:
// blocks [0, g1) run the first body, the rest the second with their block
// index less g1.
// CHECK-LABEL: func.func @side_by_side(
// CHECK: %[[G:.+]] = arith.addi %[[G1:c4]], %[[G2:c3]] : index
// CHECK: gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = %[[G]], %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}})
// CHECK: %[[MINE:.+]] = arith.cmpi ult, %[[BX]], %[[G1]] : index
// CHECK-NEXT: scf.if %[[MINE]] {
// CHECK: memref.store %{{.+}}, %[[U:.+]][
// CHECK: } else {
// CHECK-NEXT: %[[B2:.+]] = arith.subi %[[BX]], %[[G1]] : index
// CHECK: arith.muli %[[B2]], %c256
// CHECK: memref.store %{{.+}}, %[[V:.+]][
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
func.func @side_by_side(%x: memref<1000xf32>) -> (memref<1000xf32>, memref<600xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c600 = arith.constant 600 : index
  %c1000 = arith.constant 1000 : index
  %u = memref.alloc() : memref<1000xf32>
  scf.parallel (%i) = (%c0) to (%c1000) step (%c1) {
    %v = memref.load %x[%i] : memref<1000xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %u[%i] : memref<1000xf32>
  }
  %t = memref.alloc() : memref<600xf32>
  %v = memref.alloc() : memref<600xf32>
  scf.parallel (%i) = (%c0) to (%c600) step (%c1) {
    %e = memref.load %t[%i] : memref<600xf32>
    memref.store %e, %v[%i] : memref<600xf32>
  }
  memref.dealloc %t : memref<600xf32>
  return %u, %v : memref<1000xf32>, memref<600xf32>
}

// -----

// The function's arguments count as one buffer (the caller may pass the
// same one twice): kernels writing two of them stay apart.
// CHECK-LABEL: func.func @arguments(
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: gpu.terminator
func.func @arguments(%x: memref<1000xf32>, %y: memref<1000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1000 = arith.constant 1000 : index
  %cst = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c1000) step (%c1) {
    memref.store %cst, %x[%i] : memref<1000xf32>
  }
  scf.parallel (%i) = (%c0) to (%c1000) step (%c1) {
    memref.store %cst, %y[%i] : memref<1000xf32>
  }
  return
}

// -----

// The second reads what the first wrote: two launches, in stream order.
// CHECK-LABEL: func.func @dependent(
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: gpu.terminator
func.func @dependent(%x: memref<1000xf32>, %y: memref<1000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c999 = arith.constant 999 : index
  %c1000 = arith.constant 1000 : index
  %t = memref.alloc() : memref<1000xf32>
  scf.parallel (%i) = (%c0) to (%c1000) step (%c1) {
    %v = memref.load %x[%i] : memref<1000xf32>
    memref.store %v, %t[%i] : memref<1000xf32>
  }
  scf.parallel (%i) = (%c0) to (%c1000) step (%c1) {
    %j = arith.subi %c999, %i : index
    %v = memref.load %t[%j] : memref<1000xf32>
    memref.store %v, %y[%i] : memref<1000xf32>
  }
  memref.dealloc %t : memref<1000xf32>
  return
}

// -----

// Two kernels of one block each are one launch in sequence, even when the
// second reads what other threads of the first wrote: a barrier between
// the bodies (the block's threads all reach it) orders them as the stream did.
// CHECK-LABEL: func.func @in_sequence(
// CHECK: gpu.launch blocks(%{{.+}}) in (%{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}, %{{.+}} = %c1{{.*}}) threads(%{{.+}}) in (%{{.+}} = %c256
// CHECK: memref.store %{{.+}}, %[[T:.+]][
// CHECK: gpu.barrier
// CHECK: %{{.+}} = memref.load %[[T]][
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
func.func @in_sequence(%x: memref<100xf32>, %y: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c99 = arith.constant 99 : index
  %c100 = arith.constant 100 : index
  %t = memref.alloc() : memref<100xf32>
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    %v = memref.load %x[%i] : memref<100xf32>
    memref.store %v, %t[%i] : memref<100xf32>
  }
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    %j = arith.subi %c99, %i : index
    %v = memref.load %t[%j] : memref<100xf32>
    memref.store %v, %y[%i] : memref<100xf32>
  }
  memref.dealloc %t : memref<100xf32>
  return
}

// -----

// A kernel that touches memory through an op with effects of its own (a
// linalg op on buffers) is not understood: it merges with nothing.
// CHECK-LABEL: func.func @opaque(
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: gpu.terminator
func.func @opaque(%x: memref<1000xf32>) -> memref<1000xf32> {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c256 = arith.constant 256 : index
  %t = memref.alloc() : memref<1000xf32>
  %u = memref.alloc() : memref<1000xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    linalg.copy ins(%x : memref<1000xf32>) outs(%t : memref<1000xf32>)
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) {
    linalg.copy ins(%t : memref<1000xf32>) outs(%u : memref<1000xf32>)
    gpu.terminator
  }
  memref.dealloc %t : memref<1000xf32>
  return %u : memref<1000xf32>
}

// -----

// Merged kernels keep within a block's static shared memory (48 KiB, less
// a margin): six independent kernels of 8 KiB each are five merged and one.
// CHECK-LABEL: func.func @shared(
// CHECK-COUNT-2: gpu.launch
// CHECK-NOT: gpu.launch
func.func @shared() -> (memref<2048xf32>, memref<2048xf32>, memref<2048xf32>, memref<2048xf32>, memref<2048xf32>, memref<2048xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c256 = arith.constant 256 : index
  %o1 = memref.alloc() : memref<2048xf32>
  %o2 = memref.alloc() : memref<2048xf32>
  %o3 = memref.alloc() : memref<2048xf32>
  %o4 = memref.alloc() : memref<2048xf32>
  %o5 = memref.alloc() : memref<2048xf32>
  %o6 = memref.alloc() : memref<2048xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) workgroup(%sh : memref<2048xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %sh[%tx] : memref<2048xf32, #gpu.address_space<workgroup>>
    memref.store %v, %o1[%tx] : memref<2048xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) workgroup(%sh : memref<2048xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %sh[%tx] : memref<2048xf32, #gpu.address_space<workgroup>>
    memref.store %v, %o2[%tx] : memref<2048xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) workgroup(%sh : memref<2048xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %sh[%tx] : memref<2048xf32, #gpu.address_space<workgroup>>
    memref.store %v, %o3[%tx] : memref<2048xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) workgroup(%sh : memref<2048xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %sh[%tx] : memref<2048xf32, #gpu.address_space<workgroup>>
    memref.store %v, %o4[%tx] : memref<2048xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) workgroup(%sh : memref<2048xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %sh[%tx] : memref<2048xf32, #gpu.address_space<workgroup>>
    memref.store %v, %o5[%tx] : memref<2048xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c256, %sy = %c1, %sz = %c1) workgroup(%sh : memref<2048xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %sh[%tx] : memref<2048xf32, #gpu.address_space<workgroup>>
    memref.store %v, %o6[%tx] : memref<2048xf32>
    gpu.terminator
  }
  return %o1, %o2, %o3, %o4, %o5, %o6 : memref<2048xf32>, memref<2048xf32>, memref<2048xf32>, memref<2048xf32>, memref<2048xf32>, memref<2048xf32>
}
