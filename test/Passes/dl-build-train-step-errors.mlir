// RUN: dlc-opt %s -split-input-file -dl-build-train-step -verify-diagnostics

// expected-error @+1 {{expected a func.func @graph_grad (run dl-derive-gradients first)}}
module @nograd {
  func.func @graph() {
    return
  }
}
