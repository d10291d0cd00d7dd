// RUN: dlc-opt %s -split-input-file -dl-shape-inference -verify-diagnostics

// Shape errors hidden behind unranked types show up once the pass refines
// the operands; the pass reports the inference error alone.

func.func @matmul_after_refinement(%x: tensor<?x28x28x1xf32>, %w: tensor<748x10xf32>) {
  %0 = dl.flatten %x : (tensor<?x28x28x1xf32>) -> tensor<*xf32>
  // expected-error @+1 {{matmul inner dimensions differ: [?, 784] x [748, 10] (784 vs 748)}}
  %1 = dl.matmul %0, %w : (tensor<*xf32>, tensor<748x10xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @broadcast_after_refinement(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  %0 = dl.relu %a : (tensor<2x3xf32>) -> tensor<*xf32>
  // expected-error @+1 {{'+' operands cannot be broadcast together: [2, 3] and [4]}}
  %1 = dl.add %0, %b : (tensor<*xf32>, tensor<4xf32>) -> tensor<*xf32>
  return
}

// -----

func.func @axis_after_refinement(%a: tensor<2x3xf32>) {
  %0 = dl.sum %a {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<*xf32>
  // expected-error @+1 {{softmax axis 1 is out of range for a tensor of rank 1}}
  %1 = dl.softmax %0 {axis = 1 : i64} : (tensor<*xf32>) -> tensor<*xf32>
  return
}
