// RUN: dlc-opt --dl-prefetch-panels --canonicalize --cse %s | FileCheck %s

// A panel loop over 32 columns of B: each read of 32 floats (two cache
// lines) of the current panel prefetches the same two lines of the next
// panel into L2; the last panel (column 992) prefetches itself.
// CHECK-LABEL: func.func @panels
// CHECK-DAG: %[[C32:.+]] = arith.constant 32 : index
// CHECK-DAG: %[[C48:.+]] = arith.constant 48 : index
// CHECK-DAG: %[[C992:.+]] = arith.constant 992 : index
// CHECK-DAG: %[[C1008:.+]] = arith.constant 1008 : index
// CHECK: scf.for %[[N:.+]] = {{.+}} step %[[C32]]
// CHECK: scf.for %[[K:[^ ]+]] =
// CHECK: %[[P0:.+]] = arith.addi %[[N]], %[[C32]]
// CHECK: %[[Q0:.+]] = arith.minsi %[[P0]], %[[C992]]
// CHECK: memref.prefetch %[[B:.+]][%[[K]], %[[Q0]]], read, locality<2>, data : memref<64x1024xf32>
// CHECK: %[[P1:.+]] = arith.addi %[[N]], %[[C48]]
// CHECK: %[[Q1:.+]] = arith.minsi %[[P1]], %[[C1008]]
// CHECK: memref.prefetch %[[B]][%[[K]], %[[Q1]]], read, locality<2>, data
// CHECK: vector.transfer_read %[[B]][%[[K]], %[[N]]]
// Reads of A (not indexed by the panel) and of the accumulator tile (defined
// in the loop) prefetch nothing; the mark is gone.
// CHECK-NOT: memref.prefetch
// CHECK-NOT: dlc.panel_loop
// CHECK: return
func.func @panels(%a: memref<8x64xf32>, %b: memref<64x1024xf32>, %c: memref<8x1024xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %c1024 = arith.constant 1024 : index
  %pad = arith.constant 0.0 : f32
  scf.for %n = %c0 to %c1024 step %c32 {
    %tile = memref.subview %c[0, %n] [8, 32] [1, 1] : memref<8x1024xf32> to memref<8x32xf32, strided<[1024, 1], offset: ?>>
    %init = vector.transfer_read %tile[%c0, %c0], %pad {in_bounds = [true, true]} : memref<8x32xf32, strided<[1024, 1], offset: ?>>, vector<8x32xf32>
    %acc = scf.for %k = %c0 to %c64 step %c1 iter_args(%x = %init) -> (vector<8x32xf32>) {
      %av = vector.transfer_read %a[%c0, %k], %pad {in_bounds = [true, true]} : memref<8x64xf32>, vector<8x1xf32>
      %bv = vector.transfer_read %b[%k, %n], %pad {in_bounds = [true, true]} : memref<64x1024xf32>, vector<1x32xf32>
      %ab = vector.broadcast %bv : vector<1x32xf32> to vector<8x32xf32>
      %y = arith.addf %x, %ab : vector<8x32xf32>
      scf.yield %y : vector<8x32xf32>
    }
    vector.transfer_write %acc, %tile[%c0, %c0] {in_bounds = [true, true]} : vector<8x32xf32>, memref<8x32xf32, strided<[1024, 1], offset: ?>>
  } {dlc.panel_loop}
  return
}

// A symbolic number of columns: the last panel starts at max(dim - 32, 0),
// computed once before the loop.
// CHECK-LABEL: func.func @dynamic
// CHECK: %[[D:.+]] = memref.dim %[[B:.+]], %c1
// CHECK-NEXT: %[[S:.+]] = arith.subi %[[D]], %c32
// CHECK-NEXT: %[[L:.+]] = arith.maxsi %[[S]], %c0
// CHECK: scf.for %[[N:.+]] =
// CHECK: %[[P:.+]] = arith.addi %[[N]], %c32
// CHECK: %[[Q:.+]] = arith.minsi %[[P]], %[[L]]
// CHECK: memref.prefetch %[[B]][{{.+}}, %[[Q]]]
// CHECK: memref.prefetch %[[B]]
func.func @dynamic(%b: memref<64x?xf32>, %out: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %pad = arith.constant 0.0 : f32
  %cols = memref.dim %b, %c1 : memref<64x?xf32>
  scf.for %n = %c0 to %cols step %c32 {
    scf.for %k = %c0 to %c64 step %c1 {
      %bv = vector.transfer_read %b[%k, %n], %pad {in_bounds = [true]} : memref<64x?xf32>, vector<32xf32>
      %s = vector.reduction <add>, %bv : vector<32xf32> into f32
      memref.store %s, %out[%k] : memref<64xf32>
    }
  } {dlc.panel_loop}
  return
}

// Fewer columns than a panel: nothing to prefetch.
// CHECK-LABEL: func.func @narrow
// CHECK-NOT: memref.prefetch
// CHECK: return
func.func @narrow(%b: memref<64x16xf32>, %out: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %pad = arith.constant 0.0 : f32
  scf.for %n = %c0 to %c16 step %c32 {
    scf.for %k = %c0 to %c64 step %c1 {
      %bv = vector.transfer_read %b[%k, %n], %pad {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
      %s = vector.reduction <add>, %bv : vector<16xf32> into f32
      memref.store %s, %out[%k] : memref<64xf32>
    }
  } {dlc.panel_loop}
  return
}
