// RUN: dlc-opt %s -split-input-file -convert-dl-to-linalg -verify-diagnostics

// The step seed must have become a function argument before lowering.
func.func @step_seed(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{'dl.step_seed' op must be replaced by a function argument before lowering}}
  %s = dl.step_seed : tensor<i64>
  %0 = dl.dropout %x, %s {rate = 0.5 : f64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// Shapes must have been inferred.
func.func @unranked(%x: tensor<*xf32>) -> tensor<*xf32> {
  // expected-error @+1 {{'dl.relu' op needs ranked tensor types; run dl-shape-inference before lowering}}
  %0 = dl.relu %x : (tensor<*xf32>) -> tensor<*xf32>
  return %0 : tensor<*xf32>
}

// -----

// The input gradient of a convolution needs static spatial sizes.
func.func @conv2d_grad_input_symbolic(%g: tensor<?x?x?x8xf32>, %w: tensor<3x3x1x8xf32>, %x: tensor<?x?x?x1xf32>) -> tensor<?x?x?x1xf32> {
  // expected-error @+1 {{'dl.conv2d_grad_input' op could not be lowered to linalg}}
  %0 = dl.conv2d_grad_input %g, %w, %x {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x?x?x8xf32>, tensor<3x3x1x8xf32>, tensor<?x?x?x1xf32>) -> tensor<?x?x?x1xf32>
  return %0 : tensor<?x?x?x1xf32>
}
