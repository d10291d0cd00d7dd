// RUN: dlc-opt %s -split-input-file -verify-diagnostics '-dl-export-entries=entries=run,eval' | FileCheck %s

// The entry points asked for stay; every other function goes.

module {
  func.func @graph() { return }
  func.func @run() { return }
  func.func @eval() { return }
  func.func @train_step() { return }
}
// CHECK-NOT: @graph
// CHECK-NOT: @train_step
// CHECK-DAG: func.func @run() {
// CHECK-DAG: func.func @eval() {

// -----

// expected-error @+1 {{expected an entry point @eval in the module}}
module {
  func.func @run() { return }
}
