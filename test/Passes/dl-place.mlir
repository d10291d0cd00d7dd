// RUN: dlc-opt %s -split-input-file -dl-place="device=cpu" -verify-diagnostics | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dl-place="device=cuda:1 soft=1" 2>&1 | FileCheck %s --check-prefix=SOFT
// RUN: dlc-opt %s -split-input-file -dl-place="device=cpu soft=1 log=1" 2>&1 | FileCheck %s --check-prefix=LOG
// RUN: dlc-opt %s -split-input-file -dl-place="device=cuda:0 soft=1 log=1" -mlir-print-debuginfo 2>&1 | FileCheck %s --check-prefix=MIXED

// Ops pinned to the run's device keep running there; the mark is dropped.
// In a step on a GPU, an op pinned to the CPU runs on the host: its
// location gets the on-host mark, which what is lowered or derived from it
// keeps.
// MIXED: remark: 'dl.relu' runs on cpu
// MIXED-LABEL: func.func @same
// MIXED: dl.relu %{{.+}} : (tensor<4xf32>) -> tensor<4xf32> loc(#[[HOST:loc[0-9]+]])
// MIXED: #[[HOST]] = loc(fused<"dl.on_host">[
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
// SOFT: note: 'dl.relu' is pinned to cuda:0 but runs on cuda:1 (--soft-placement)
// SOFT-LABEL: func.func @other
// SOFT: dl.relu %{{.+}} : (tensor<4xf32>) -> tensor<4xf32>
func.func @other(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'dl.relu' is pinned to cuda:0, but this step runs on cpu (--device): --device cuda:0 runs the step there, with the ops pinned to the CPU on the CPU; --soft-placement runs it on cpu}}
  %r = dl.relu %x {dl.device = "cuda:0"} : (tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}
