// RUN: dlc-opt %s --split-input-file --dl-split-local-deallocs | FileCheck %s

// Buffers the function allocated, freed unconditionally, that no retained
// value comes from, are freed one by one; the buffer behind the returned view
// stays in the dealloc with what it retains, and so does one freed only on a
// condition.
// CHECK-LABEL: func.func @split(
// CHECK-SAME: %[[ARG:[^:]*]]: memref<8xf32>, %[[C:[^:]*]]: i1
// CHECK: %[[A:.*]] = memref.alloc() : memref<8xf32>
// CHECK: %[[B:.*]] = memref.alloc() : memref<8xf32>
// CHECK: %[[R:.*]] = memref.alloc() : memref<16xf32>
// CHECK: %[[D:.*]] = memref.alloc() : memref<8xf32>
// CHECK: %[[V:.*]] = memref.subview %[[R]]
// CHECK: memref.dealloc %[[A]] : memref<8xf32>
// CHECK-NEXT: memref.dealloc %[[B]] : memref<8xf32>
// CHECK-NEXT: bufferization.dealloc (%[[R]], %[[D]] : memref<16xf32>, memref<8xf32>) if (%{{.*}}, %[[C]]) retain (%[[V]], %[[ARG]] : memref<8xf32, strided<[1], offset: 4>>, memref<8xf32>)
func.func @split(%arg: memref<8xf32>, %c: i1) -> (memref<8xf32, strided<[1], offset: 4>>, i1, i1) {
  %true = arith.constant true
  %a = memref.alloc() : memref<8xf32>
  %b = memref.alloc() : memref<8xf32>
  %r = memref.alloc() : memref<16xf32>
  %d = memref.alloc() : memref<8xf32>
  %v = memref.subview %r[4] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1], offset: 4>>
  %o:2 = bufferization.dealloc (%a, %b, %r, %d : memref<8xf32>, memref<8xf32>, memref<16xf32>, memref<8xf32>) if (%true, %true, %true, %c) retain (%v, %arg : memref<8xf32, strided<[1], offset: 4>>, memref<8xf32>)
  return %v, %o#0, %o#1 : memref<8xf32, strided<[1], offset: 4>>, i1, i1
}

// -----

// A retained value of unknown origin (a call's result might be any of the
// buffers) keeps the dealloc whole.
// CHECK-LABEL: func.func @unknown(
// CHECK-NOT: memref.dealloc
// CHECK: bufferization.dealloc (%{{.*}}, %{{.*}} : memref<8xf32>, memref<8xf32>)
func.func private @pick(memref<8xf32>, memref<8xf32>) -> memref<8xf32>
func.func @unknown() -> (memref<8xf32>, i1) {
  %true = arith.constant true
  %a = memref.alloc() : memref<8xf32>
  %b = memref.alloc() : memref<8xf32>
  %p = func.call @pick(%a, %b) : (memref<8xf32>, memref<8xf32>) -> memref<8xf32>
  %o = bufferization.dealloc (%a, %b : memref<8xf32>, memref<8xf32>) if (%true, %true) retain (%p : memref<8xf32>)
  return %p, %o : memref<8xf32>, i1
}

// -----

// A buffer that another entry is a view of stays: the dealloc frees an
// allocation once, whatever the number of its entries.
// CHECK-LABEL: func.func @view_entry(
// CHECK: %[[A:.*]] = memref.alloc() : memref<16xf32>
// CHECK: %[[B:.*]] = memref.alloc() : memref<8xf32>
// CHECK: %[[V:.*]] = memref.subview %[[A]]
// CHECK: memref.dealloc %[[B]] : memref<8xf32>
// CHECK-NEXT: bufferization.dealloc (%[[A]], %[[V]] : memref<16xf32>, memref<8xf32, strided<[1]>>)
func.func @view_entry() {
  %true = arith.constant true
  %a = memref.alloc() : memref<16xf32>
  %b = memref.alloc() : memref<8xf32>
  %v = memref.subview %a[0] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1]>>
  bufferization.dealloc (%a, %b, %v : memref<16xf32>, memref<8xf32>, memref<8xf32, strided<[1]>>) if (%true, %true, %true)
  return
}
