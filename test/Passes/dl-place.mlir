// RUN: dlc-opt %s -split-input-file -dl-place="device=cpu" -verify-diagnostics | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dl-place="device=cuda:1 soft=1" 2>&1 | FileCheck %s --check-prefix=SOFT
// RUN: dlc-opt %s -split-input-file -dl-place="device=cpu soft=1 log=1" 2>&1 | FileCheck %s --check-prefix=LOG

// Ops pinned to the run's device keep running there; the mark is dropped.
// CHECK-LABEL: func.func @same
// CHECK: dl.relu %{{.+}} : (tensor<4xf32>) -> tensor<4xf32>
// LOG: remark: 'dl.relu' runs on cpu
func.func @same(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r = dl.relu %x {dl.device = "cpu"} : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// An op pinned to another device is an error at its location; with soft
// placement it runs on the step's device, with a note.
// SOFT: note: 'dl.relu' is pinned to cuda:0 but runs on cuda:1 (--soft-placement: one step runs on one device)
// SOFT-LABEL: func.func @other
// SOFT: dl.relu %{{.+}} : (tensor<4xf32>) -> tensor<4xf32>
func.func @other(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'dl.relu' is pinned to cuda:0, but this step runs on cpu (--device): one step runs on one device; --soft-placement runs it on cpu}}
  %r = dl.relu %x {dl.device = "cuda:0"} : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
