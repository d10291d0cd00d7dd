// RUN: dlc-opt %s -split-input-file -dl-derive-gradients -mlir-print-debuginfo | FileCheck %s

// A linear model W*x + b with a sum-of-squares loss: the gradients of both
// params, through the broadcasting mul and add (dl.unbroadcast), and the
// locations of the gradient ops. Outputs are dropped from @graph_grad.

#x = loc("lin.dl":5:7)
#y = loc("lin.dl":6:7)
#loss = loc("lin.dl":7:8)
module @lin {
  dl.input @x : tensor<?xf32> {dim_names = ["B"]}
  dl.param @W : tensor<1xf32> {init = "literal", value = dense<0.3> : tensor<1xf32>}
  dl.param @b : tensor<1xf32> {init = "literal", value = dense<-0.3> : tensor<1xf32>}
  dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.01>}
  func.func @graph(%x: tensor<?xf32> {dl.input = @x}, %W: tensor<1xf32> {dl.param = @W}, %b: tensor<1xf32> {dl.param = @b}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}, tensor<?xf32> {dl.role = "output", dl.name = "y"}) {
    %0 = dl.mul %W, %x : (tensor<1xf32>, tensor<?xf32>) -> tensor<?xf32> loc(#x)
    %1 = dl.add %0, %b : (tensor<?xf32>, tensor<1xf32>) -> tensor<?xf32> loc(#y)
    %2 = dl.square %1 : (tensor<?xf32>) -> tensor<?xf32>
    %3 = dl.sum %2 {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32> loc(#loss)
    return %3, %1 : tensor<f32>, tensor<?xf32>
  }
}

// @graph is left as it was.
// CHECK-LABEL: func.func @graph(
// CHECK: return %{{.+}}, %{{.+}} : tensor<f32>, tensor<?xf32>

// CHECK-LABEL: func.func @graph_grad(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?xf32> {dl.input = @x}
// CHECK-SAME: %[[W:[^:]+]]: tensor<1xf32> {dl.param = @W}
// CHECK-SAME: %[[B:[^:]+]]: tensor<1xf32> {dl.param = @b}
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<1xf32> {dl.name = "W", dl.role = "grad"}, tensor<1xf32> {dl.name = "b", dl.role = "grad"})
// CHECK: %[[WX:.+]] = dl.mul %[[W]], %[[X]]
// CHECK: %[[Y:.+]] = dl.add %[[WX]], %[[B]]
// CHECK: %[[SQ:.+]] = dl.square %[[Y]]
// CHECK: %[[LOSS:.+]] = dl.sum %[[SQ]]
// The seed, d(loss)/d(loss) = 1, broadcast back over the summed axis.
// CHECK: %[[ONE:.+]] = dl.constant dense<1.000000e+00> : tensor<f32> loc(#[[GLOSS:loc[0-9]+]])
// CHECK: %[[ONE1:.+]] = dl.reshape %[[ONE]] {shape = array<i64: 1>}
// CHECK: %[[GSQ:.+]] = dl.broadcast_to %[[ONE1]], %[[SQ]]
// CHECK: %[[TWO:.+]] = dl.constant dense<2.000000e+00>
// CHECK: %[[TWOY:.+]] = dl.mul %[[Y]], %[[TWO]]
// CHECK: %[[GY:.+]] = dl.mul %[[GSQ]], %[[TWOY]]
// CHECK: %[[GWX:.+]] = dl.unbroadcast %[[GY]], %[[WX]]
// CHECK: %[[GB:.+]] = dl.unbroadcast %[[GY]], %[[B]] : (tensor<?xf32>, tensor<1xf32>) -> tensor<1xf32> loc(#[[GADD:loc[0-9]+]])
// CHECK: %[[GWB:.+]] = dl.mul %[[GWX]], %[[X]]
// CHECK: %[[GW:.+]] = dl.unbroadcast %[[GWB]], %[[W]] : (tensor<?xf32>, tensor<1xf32>) -> tensor<1xf32>
// No gradient for the input x.
// CHECK-NOT: dl.unbroadcast %{{.+}}, %[[X]]
// CHECK: return %[[LOSS]], %[[GW]], %[[GB]] : tensor<f32>, tensor<1xf32>, tensor<1xf32>
// CHECK-DAG: #[[LOSSLOC:loc[0-9]+]] = loc("lin.dl":7:8)
// CHECK-DAG: #[[ADDLOC:loc[0-9]+]] = loc("lin.dl":6:7)
// CHECK-DAG: #[[GLOSS]] = loc("grad"(#[[LOSSLOC]]))
// CHECK-DAG: #[[GADD]] = loc("grad"(#[[ADDLOC]]))

// -----

// Frozen params (train_config's freeze) and i32 params get no gradient and no
// gradient code: nothing is computed for the first layer, which only the
// frozen W1 and b1 feed. A param the loss does not use gets a zero gradient.

module @frozen {
  dl.input @x : tensor<?x4xf32> {dim_names = ["B", ""]}
  dl.param @W1 : tensor<4x8xf32> {init = "zeros"}
  dl.param @b1 : tensor<8xf32> {init = "zeros"}
  dl.param @W2 : tensor<8x2xf32> {init = "zeros"}
  dl.param @unused : tensor<3xf32> {init = "zeros"}
  dl.param @k : tensor<2xi32> {init = "zeros"}
  dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.01>, freeze = [@W1, @b1]}
  func.func @graph(%x: tensor<?x4xf32> {dl.input = @x}, %W1: tensor<4x8xf32> {dl.param = @W1}, %b1: tensor<8xf32> {dl.param = @b1}, %W2: tensor<8x2xf32> {dl.param = @W2}, %unused: tensor<3xf32> {dl.param = @unused}, %k: tensor<2xi32> {dl.param = @k}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}) {
    %0 = dl.matmul %x, %W1 : (tensor<?x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
    %1 = dl.add %0, %b1 : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
    %2 = dl.tanh %1 : (tensor<?x8xf32>) -> tensor<?x8xf32>
    %3 = dl.matmul %2, %W2 : (tensor<?x8xf32>, tensor<8x2xf32>) -> tensor<?x2xf32>
    %4 = dl.cast %k {element_type = f32} : (tensor<2xi32>) -> tensor<2xf32>
    %5 = dl.add %3, %4 : (tensor<?x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
    %6 = dl.l2 %5 : (tensor<?x2xf32>) -> tensor<f32>
    return %6 : tensor<f32>
  }
}

// CHECK-LABEL: func.func @graph_grad(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4xf32> {dl.input = @x}
// CHECK-SAME: %[[W1:[^:]+]]: tensor<4x8xf32> {dl.param = @W1}
// CHECK-SAME: %[[B1:[^:]+]]: tensor<8xf32> {dl.param = @b1}
// CHECK-SAME: %[[W2:[^:]+]]: tensor<8x2xf32> {dl.param = @W2}
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<8x2xf32> {dl.name = "W2", dl.role = "grad"}, tensor<3xf32> {dl.name = "unused", dl.role = "grad"})
// CHECK: %[[H:.+]] = dl.tanh
// CHECK: %[[Z:.+]] = dl.add
// CHECK: %[[L2:.+]] = dl.l2 %[[Z]]
// After the loss, nothing uses W1 or b1 and nothing differentiates tanh or
// the first matmul (which would need W2 transposed).
// CHECK-NOT: %[[W1]]
// CHECK-NOT: %[[B1]]
// CHECK-NOT: dl.transpose %[[W2]]
// CHECK-NOT: dl.sub
// CHECK: %[[HT:.+]] = dl.transpose %[[H]] {perm = array<i64: 1, 0>}
// CHECK: %[[GW2:.+]] = dl.matmul %[[HT]], %{{.+}} : (tensor<8x?xf32>, tensor<?x2xf32>) -> tensor<8x2xf32>
// CHECK-NOT: %[[W1]]
// CHECK-NOT: %[[B1]]
// CHECK-NOT: dl.transpose %[[W2]]
// CHECK-NOT: dl.sub
// CHECK: %[[ZERO:.+]] = dl.constant dense<0.000000e+00> : tensor<3xf32>
// CHECK: return %[[L2]], %[[GW2]], %[[ZERO]] : tensor<f32>, tensor<8x2xf32>, tensor<3xf32>

// -----

// Softmax regression: matmul + softmax_cross_entropy with i32 labels, the
// mean over the batch, a metric (kept) and an output (dropped).

module @softmax {
  dl.input @x : tensor<?x784xf32> {dim_names = ["B", ""]}
  dl.input @y : tensor<?xi32> {dim_names = ["B"]}
  dl.param @W : tensor<784x10xf32> {init = "zeros"}
  dl.param @b : tensor<10xf32> {init = "zeros"}
  func.func @graph(%x: tensor<?x784xf32> {dl.input = @x}, %y: tensor<?xi32> {dl.input = @y}, %W: tensor<784x10xf32> {dl.param = @W}, %b: tensor<10xf32> {dl.param = @b}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}, tensor<f32> {dl.role = "metric", dl.name = "accuracy"}, tensor<?x10xf32> {dl.role = "output", dl.name = "probs"}) {
    %0 = dl.matmul %x, %W : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
    %1 = dl.add %0, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    %2 = dl.softmax_cross_entropy %1, %y : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<?xf32>
    %3 = dl.mean %2 {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
    %4 = dl.argmax %1 {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?xi32>
    %5 = dl.cmp eq, %4, %y : (tensor<?xi32>, tensor<?xi32>) -> tensor<?xf32>
    %6 = dl.mean %5 {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
    %7 = dl.softmax %1 {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
    return %3, %6, %7 : tensor<f32>, tensor<f32>, tensor<?x10xf32>
  }
}

// CHECK-LABEL: func.func @graph_grad(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x784xf32> {dl.input = @x}
// CHECK-SAME: %[[Y:[^:]+]]: tensor<?xi32> {dl.input = @y}
// CHECK-SAME: %[[W:[^:]+]]: tensor<784x10xf32> {dl.param = @W}
// CHECK-SAME: %[[B:[^:]+]]: tensor<10xf32> {dl.param = @b}
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<f32> {dl.name = "accuracy", dl.role = "metric"}, tensor<784x10xf32> {dl.name = "W", dl.role = "grad"}, tensor<10xf32> {dl.name = "b", dl.role = "grad"})
// CHECK: %[[XW:.+]] = dl.matmul %[[X]], %[[W]]
// CHECK: %[[LOGITS:.+]] = dl.add %[[XW]], %[[B]]
// CHECK: %[[CE:.+]] = dl.softmax_cross_entropy %[[LOGITS]], %[[Y]]
// CHECK: %[[LOSS:.+]] = dl.mean %[[CE]]
// CHECK: %[[ACC:.+]] = dl.mean
// The mean's gradient: 1 / (number of examples), broadcast over the batch.
// CHECK: %[[N:.+]] = dl.size %[[CE]] {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<f32>
// CHECK: %[[INV:.+]] = dl.div %{{.+}}, %[[N]]
// CHECK: %[[GCE:.+]] = dl.broadcast_to %[[INV]], %[[CE]]
// CHECK: %[[GCOL:.+]] = dl.reshape %[[GCE]] {shape = array<i64: -1, 1>}
// softmax(logits) - one_hot(labels), scaled per example.
// CHECK: %[[P:.+]] = dl.softmax %[[LOGITS]] {axis = 1 : i64}
// CHECK: %[[HOT:.+]] = dl.one_hot %[[Y]] {depth = 10 : i64}
// CHECK: %[[DIFF:.+]] = dl.sub %[[P]], %[[HOT]]
// CHECK: %[[GLOGITS:.+]] = dl.mul %[[DIFF]], %[[GCOL]]
// CHECK: %[[GXW:.+]] = dl.unbroadcast %[[GLOGITS]], %[[XW]]
// CHECK: %[[GB:.+]] = dl.unbroadcast %[[GLOGITS]], %[[B]] : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<10xf32>
// CHECK: %[[XT:.+]] = dl.transpose %[[X]] {perm = array<i64: 1, 0>}
// CHECK: %[[GW:.+]] = dl.matmul %[[XT]], %[[GXW]] : (tensor<784x?xf32>, tensor<?x10xf32>) -> tensor<784x10xf32>
// No gradient flows into x (an input) or through argmax and cmp.
// CHECK-NOT: dl.transpose %[[W]]
// CHECK: return %[[LOSS]], %[[ACC]], %[[GW]], %[[GB]]

// -----

// A value used twice sums its gradients; a broadcast param gets them back at
// its own shape.

module @shared {
  dl.input @x : tensor<?x3xf32> {dim_names = ["B", ""]}
  dl.param @s : tensor<3xf32> {init = "ones"}
  func.func @graph(%x: tensor<?x3xf32> {dl.input = @x}, %s: tensor<3xf32> {dl.param = @s}) -> (tensor<f32> {dl.role = "loss", dl.name = "loss"}) {
    %0 = dl.mul %x, %s : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %1 = dl.add %0, %s : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
    %2 = dl.mean %1 {axes = array<i64: 0, 1>} : (tensor<?x3xf32>) -> tensor<f32>
    return %2 : tensor<f32>
  }
}

// CHECK-LABEL: func.func @graph_grad(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3xf32> {dl.input = @x}
// CHECK-SAME: %[[S:[^:]+]]: tensor<3xf32> {dl.param = @s}
// CHECK-SAME: -> (tensor<f32> {dl.name = "loss", dl.role = "loss"}, tensor<3xf32> {dl.name = "s", dl.role = "grad"})
// CHECK: %[[N:.+]] = dl.size %{{.+}} {axes = array<i64: 0, 1>}
// CHECK: %[[G1:.+]] = dl.broadcast_to
// CHECK: %[[GADD:.+]] = dl.unbroadcast %[[G1]], %[[S]] : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: %[[GMULB:.+]] = dl.mul %{{.+}}, %[[X]]
// CHECK: %[[GMUL:.+]] = dl.unbroadcast %[[GMULB]], %[[S]] : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: %[[SUM:.+]] = dl.add %[[GADD]], %[[GMUL]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: return %{{.+}}, %[[SUM]]
