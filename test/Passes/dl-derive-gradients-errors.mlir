// RUN: dlc-opt %s -split-input-file -dl-derive-gradients -verify-diagnostics

// A model without a loss has nothing to differentiate.

module @noloss {
  dl.input @x : tensor<?xf32> {dim_names = ["B"]}
  dl.param @W : tensor<1xf32> {init = "zeros"}
  // expected-error @+1 {{cannot derive gradients: @graph has no result with dl.role = "loss"}}
  func.func @graph(%x: tensor<?xf32> {dl.input = @x}, %W: tensor<1xf32> {dl.param = @W}) -> (tensor<?xf32> {dl.role = "output", dl.name = "y"}) {
    %0 = dl.mul %W, %x : (tensor<1xf32>, tensor<?xf32>) -> tensor<?xf32>
    return %0 : tensor<?xf32>
  }
}

// -----

// expected-error @+1 {{expected a func.func @graph with a body}}
module @nograph {
  dl.input @x : tensor<?xf32> {dim_names = ["B"]}
}

// -----

// An i32 loss cannot be differentiated.

module @intloss {
  dl.input @x : tensor<?xi32> {dim_names = ["B"]}
  // expected-error @+1 {{cannot derive gradients: expected an f32 loss, got 'tensor<?xi32>'}}
  func.func @graph(%x: tensor<?xi32> {dl.input = @x}) -> (tensor<?xi32> {dl.role = "loss", dl.name = "loss"}) {
    return %x : tensor<?xi32>
  }
}
