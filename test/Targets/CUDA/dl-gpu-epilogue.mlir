// RUN: dlc-opt %s --dl-gpu-tile-contractions --split-input-file | FileCheck %s

// An epilogue runs the contraction's consumer in its kernel, and C is not
// stored where nothing reads it after. Where something may (a view of C
// made before, or a use outside the consumer's block), C is stored too.

// CHECK-LABEL: func.func @view_read_after(
// CHECK: %[[C:.+]] = memref.alloc() : memref<4096x512xf32>
// CHECK: gpu.launch
// CHECK-COUNT-16: memref.store %{{.+}}, %[[C]][
// CHECK: gpu.terminator
#mapA = affine_map<(m, n, k) -> (m, k)>
#mapB = affine_map<(m, n, k) -> (k, n)>
#mapC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>
func.func @view_read_after(%a: memref<4096x64xf32>, %b: memref<64x512xf32>, %bias: memref<512xf32>) -> (memref<4096x512xf32>, memref<?x512xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4096x512xf32>
  %out = memref.alloc() : memref<4096x512xf32>
  // A view of C made before the contraction; returned (read) after the consumer.
  %v = memref.cast %c : memref<4096x512xf32> to memref<?x512xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4096x512xf32>)
  linalg.generic {indexing_maps = [#mapA, #mapB, #mapC], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4096x64xf32>, memref<64x512xf32>) outs(%c : memref<4096x512xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<4096x512xf32>, memref<512xf32>) outs(%out : memref<4096x512xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  }
  return %out, %v : memref<4096x512xf32>, memref<?x512xf32>
}

// -----

// CHECK-LABEL: func.func @nested(
// CHECK: %[[C:.+]] = memref.alloc() : memref<4096x512xf32>
// CHECK: gpu.launch
// CHECK-COUNT-16: memref.store %{{.+}}, %[[C]][
// CHECK: gpu.terminator
#mapA = affine_map<(m, n, k) -> (m, k)>
#mapB = affine_map<(m, n, k) -> (k, n)>
#mapC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>
func.func @nested(%a: memref<4096x64xf32>, %b: memref<64x512xf32>, %bias: memref<512xf32>, %cond: i1) -> (memref<4096x512xf32>, memref<4096x512xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4096x512xf32>
  %out = memref.alloc() : memref<4096x512xf32>
  scf.if %cond {
    linalg.fill ins(%zero : f32) outs(%c : memref<4096x512xf32>)
    linalg.generic {indexing_maps = [#mapA, #mapB, #mapC], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%a, %b : memref<4096x64xf32>, memref<64x512xf32>) outs(%c : memref<4096x512xf32>) {
    ^bb0(%x: f32, %y: f32, %acc: f32):
      %p = arith.mulf %x, %y : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    }
    linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
        ins(%c, %bias : memref<4096x512xf32>, memref<512xf32>) outs(%out : memref<4096x512xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    }
  }
  return %out, %c : memref<4096x512xf32>, memref<4096x512xf32>
}

// -----

// Nothing reads C after the consumer: the kernel stores only the
// consumer's output, and C is not allocated at all.
// CHECK-LABEL: func.func @dead(
// CHECK: %[[OUT:.+]] = memref.alloc() : memref<4096x128xf32>
// CHECK-NOT: memref.alloc
// CHECK: gpu.launch
// CHECK: gpu.barrier
// CHECK: gpu.barrier
// CHECK-COUNT-16: memref.store %{{.+}}, %[[OUT]][
// CHECK-NOT: memref.store
// CHECK: gpu.terminator
#mapA = affine_map<(m, n, k) -> (m, k)>
#mapB = affine_map<(m, n, k) -> (k, n)>
#mapC = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#bias = affine_map<(m, n) -> (n)>
func.func @dead(%a: memref<4096x64xf32>, %b: memref<64x128xf32>, %bias: memref<128xf32>) -> memref<4096x128xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<4096x128xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4096x128xf32>)
  linalg.generic {indexing_maps = [#mapA, #mapB, #mapC], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4096x64xf32>, memref<64x128xf32>) outs(%c : memref<4096x128xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  %out = memref.alloc() : memref<4096x128xf32>
  linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias : memref<4096x128xf32>, memref<128xf32>) outs(%out : memref<4096x128xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  }
  memref.dealloc %c : memref<4096x128xf32>
  return %out : memref<4096x128xf32>
}
