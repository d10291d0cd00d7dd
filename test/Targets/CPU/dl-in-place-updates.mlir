// RUN: dlc-opt --dl-update-in-place %s | FileCheck %s --check-prefix=UPDATE
// RUN: dlc-opt --dl-update-in-place --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --dl-drop-in-place-results --canonicalize %s | FileCheck %s --check-prefix=DROP
// RUN: dlc-opt --dl-update-in-place --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --dl-drop-in-place-results --canonicalize --buffer-deallocation-pipeline %s | FileCheck %s --check-prefix=DEALLOC
// RUN: dlc-opt --dl-update-in-place --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --dl-drop-in-place-results %s | FileCheck %s --check-prefix=NOATTR
// NOATTR-NOT: dlc.in_place_results

#id = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>

// An SGD-like step: result 0 is param %p (argument 0), result 1 a loss.
// The update's init becomes %p and its read of %p reads the init instead.
// UPDATE-LABEL: func.func @step
// UPDATE: linalg.generic {{.*}} ins(%arg1, %arg2 : tensor<4x64xf32>, tensor<f32>) outs(%arg0 : tensor<4x64xf32>)
// UPDATE-NEXT: ^bb0(%[[G:.+]]: f32, %[[LR:.+]]: f32, %[[P:.+]]: f32):
// UPDATE-NEXT: arith.mulf %[[LR]], %[[G]]
// UPDATE-NEXT: arith.subf %[[P]],
// Bufferized, the update writes the argument's buffer and the step returns
// only the loss (the entry's wrapper gives the caller the argument's
// descriptor for the param: docs/ABI.md); deallocation neither frees nor
// clones the argument.
// DROP-LABEL: func.func @step
// DROP-SAME: -> memref<f32>
// DROP: linalg.generic {{.*}} outs(%arg0 : memref<4x64xf32>)
// DROP-NOT: memref.copy
// DROP: return %{{.+}} : memref<f32>
// DEALLOC-LABEL: func.func @step
// DEALLOC-SAME: -> memref<f32>
// DEALLOC-NOT: bufferization.clone
// DEALLOC-NOT: memref.dealloc %arg0
// DEALLOC: return %{{.+}} : memref<f32>
func.func @step(%p: tensor<4x64xf32>, %g: tensor<4x64xf32>, %lr: tensor<f32>) -> (tensor<4x64xf32>, tensor<f32>)
    attributes {dlc.in_place_results = array<i64: 0, -1>} {
  %e = tensor.empty() : tensor<4x64xf32>
  %new = linalg.generic {indexing_maps = [#id, #id, #scalar, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %g, %lr : tensor<4x64xf32>, tensor<4x64xf32>, tensor<f32>) outs(%e : tensor<4x64xf32>) {
  ^bb0(%a: f32, %b: f32, %l: f32, %o: f32):
    %m = arith.mulf %l, %b : f32
    %s = arith.subf %a, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x64xf32>
  %z = arith.constant 0.0 : f32
  %le = tensor.empty() : tensor<f32>
  %lf = linalg.fill ins(%z : f32) outs(%le : tensor<f32>) -> tensor<f32>
  %loss = linalg.generic {indexing_maps = [#id, #scalar], iterator_types = ["reduction", "reduction"]}
      ins(%g : tensor<4x64xf32>) outs(%lf : tensor<f32>) {
  ^bb0(%b: f32, %acc: f32):
    %s = arith.addf %b, %acc : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %new, %loss : tensor<4x64xf32>, tensor<f32>
}

// A param read after its update (by %after): bufferization cannot write
// the update in place, so the new value is copied into the argument at the
// end. A result that is another argument (%g for argument 2) goes through a
// temporary first, before any argument is overwritten.
// DROP-LABEL: func.func @read_after
// DROP-SAME: -> memref<4x64xf32>
// DROP: %[[NEW:.+]] = memref.alloc() {{.*}} : memref<4x64xf32>
// DROP-NEXT: memref.copy %arg0, %[[NEW]]
// DROP: ins(%arg1 : {{.*}}) outs(%[[NEW]] :
// DROP: %[[AFTER:.+]] = memref.alloc() {{.*}} : memref<4x64xf32>
// DROP: ins(%arg0, %[[NEW]] : {{.*}}) outs(%[[AFTER]] :
// DROP: %[[TMP:.+]] = memref.alloc() : memref<4x64xf32>
// DROP-NEXT: memref.copy %arg1, %[[TMP]]
// DROP-NEXT: memref.copy %[[NEW]], %arg0
// DROP-NEXT: memref.copy %[[TMP]], %arg2
// DROP-NEXT: return %[[AFTER]] : memref<4x64xf32>
// RESTORE-LABEL: func.func @read_after
// RESTORE: return %arg0, %arg2, %{{.+}} : memref<4x64xf32>, memref<4x64xf32>, memref<4x64xf32>
func.func @read_after(%p: tensor<4x64xf32>, %g: tensor<4x64xf32>, %s: tensor<4x64xf32>) -> (tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>)
    attributes {dlc.in_place_results = array<i64: 0, 2, -1>} {
  %e = tensor.empty() : tensor<4x64xf32>
  %new = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %g : tensor<4x64xf32>, tensor<4x64xf32>) outs(%e : tensor<4x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<4x64xf32>
  %e2 = tensor.empty() : tensor<4x64xf32>
  %after = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p, %new : tensor<4x64xf32>, tensor<4x64xf32>) outs(%e2 : tensor<4x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.addf %a, %b : f32
    linalg.yield %d : f32
  } -> tensor<4x64xf32>
  return %new, %g, %after : tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>
}
