// RUN: dlc-opt %s -split-input-file -convert-dl-to-linalg | FileCheck %s

// The model declarations are erased.
// CHECK-NOT: dl.
// CHECK-LABEL: func.func @declarations
dl.input @x : tensor<?x10xf32> {dim_names = ["B", ""]}
dl.param @W : tensor<784x10xf32> {init = "zeros"}
dl.data_source {set = "train", input = @x, kind = "idx", path = "a.gz"}
dl.train_config {optimizer = "sgd", optimizer_args = array<f64: 0.1>, steps = 10 : i64}
func.func @declarations() {
  return
}

// -----

// One parallel generic over the broadcast shape; the symbolic batch is read
// from the operand that has it.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[A:.+]]: tensor<?x10xf32>, %[[B:.+]]: tensor<10xf32>)
// CHECK: %[[N:.+]] = tensor.dim %[[A]], %{{.+}} : tensor<?x10xf32>
// CHECK: %[[INIT:.+]] = tensor.empty(%[[N]]) : tensor<?x10xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<?x10xf32>, tensor<10xf32>) outs(%[[INIT]] : tensor<?x10xf32>)
// CHECK: arith.addf
// CHECK: return %[[R]]
// CHECK-NOT: dl.
func.func @add_broadcast(%a: tensor<?x10xf32>, %b: tensor<10xf32>) -> tensor<?x10xf32> {
  %0 = dl.add %a, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// Size-1 dims that broadcast read index 0.
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @mul_size_one
// CHECK: linalg.generic {indexing_maps = [#[[COL]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.mulf
func.func @mul_size_one(%a: tensor<?x1xf32>, %b: tensor<1x10xf32>) -> tensor<?x10xf32> {
  %0 = dl.mul %a, %b : (tensor<?x1xf32>, tensor<1x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// Each elementwise op builds its own scalar body.
// CHECK-LABEL: func.func @elementwise
// CHECK: arith.maxnumf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: math.tanh
// CHECK: math.log
// CHECK: math.sqrt
// CHECK: math.absf
// CHECK: arith.cmpf ogt
// CHECK: arith.select
// CHECK: math.expm1
// CHECK: math.powf
// CHECK: arith.subi
// CHECK: math.absi
// CHECK: arith.muli
// CHECK: arith.sitofp {{.+}} : i32 to f32
// CHECK: arith.fptosi {{.+}} : f32 to i32
// CHECK: arith.cmpi slt
// CHECK: arith.uitofp {{.+}} : i1 to f32
// CHECK: arith.cmpf une
// CHECK: arith.divsi
// CHECK: arith.maxsi
// CHECK: arith.minimumf
func.func @elementwise(%a: tensor<?x10xf32>, %i: tensor<3xi32>)
    -> (tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>,
        tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>,
        tensor<?x10xf32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>,
        tensor<3xf32>, tensor<?x10xi32>, tensor<3xf32>, tensor<?x10xf32>,
        tensor<3xi32>, tensor<3xi32>, tensor<?x10xf32>) {
  %0 = dl.relu %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %1 = dl.sigmoid %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %2 = dl.tanh %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %3 = dl.log %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %4 = dl.sqrt %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %5 = dl.abs %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %6 = dl.leaky_relu %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %7 = dl.elu %a : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %8 = dl.pow %a, %a : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %9 = dl.neg %i : (tensor<3xi32>) -> tensor<3xi32>
  %10 = dl.abs %i : (tensor<3xi32>) -> tensor<3xi32>
  %11 = dl.square %i : (tensor<3xi32>) -> tensor<3xi32>
  %12 = dl.cast %i {element_type = f32} : (tensor<3xi32>) -> tensor<3xf32>
  %13 = dl.cast %a {element_type = i32} : (tensor<?x10xf32>) -> tensor<?x10xi32>
  %14 = dl.cmp lt, %i, %i : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xf32>
  %15 = dl.cmp ne, %a, %a : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %16 = dl.div %i, %i : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %17 = dl.maximum %i, %i : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %18 = dl.minimum %a, %a : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18
      : tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>,
        tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>, tensor<?x10xf32>,
        tensor<?x10xf32>, tensor<3xi32>, tensor<3xi32>, tensor<3xi32>,
        tensor<3xf32>, tensor<?x10xi32>, tensor<3xf32>, tensor<?x10xf32>,
        tensor<3xi32>, tensor<3xi32>, tensor<?x10xf32>
}

// -----

// CHECK-LABEL: func.func @constant
// CHECK: %[[C:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: return %[[C]]
func.func @constant() -> tensor<2xf32> {
  %0 = dl.constant dense<[1.0, 2.0]> : tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// A matmul is a generic whose loops run (m, k, n): the innermost loop walks
// rows of B and C contiguously. It carries dlc.matmul for the CPU schedule.
// CHECK-DAG: #[[MA:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[MB:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MC:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.+]]: tensor<?x784xf32>, %[[B:.+]]: tensor<784x10xf32>)
// CHECK: %[[N:.+]] = tensor.dim %[[A]], %{{.+}}
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<?x10xf32>
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E]] : tensor<?x10xf32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[MA]], #[[MB]], #[[MC]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<?x784xf32>, tensor<784x10xf32>) outs(%[[Z]] : tensor<?x10xf32>) attrs = {dlc.matmul}
// CHECK: arith.mulf %{{.+}}, %{{.+}} fastmath<reassoc,contract>
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc,contract>
// CHECK: return %[[R]]
func.func @matmul(%a: tensor<?x784xf32>, %b: tensor<784x10xf32>) -> tensor<?x10xf32> {
  %0 = dl.matmul %a, %b : (tensor<?x784xf32>, tensor<784x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%{{.+}}, %{{.+}} : tensor<?x3x4xf32>, tensor<?x4x5xf32>) outs(%{{.+}} : tensor<?x3x5xf32>) attrs = {dlc.matmul}
func.func @batch_matmul(%a: tensor<?x3x4xf32>, %b: tensor<?x4x5xf32>) -> tensor<?x3x5xf32> {
  %0 = dl.matmul %a, %b : (tensor<?x3x4xf32>, tensor<?x4x5xf32>) -> tensor<?x3x5xf32>
  return %0 : tensor<?x3x5xf32>
}

// -----

// A convolution is linalg.conv_2d_nhwc_hwcf (strides as attributes) over the
// padded input, accumulating into a zero-filled NHWC result.
// CHECK-LABEL: func.func @conv2d
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x1xf32>, %[[W:.+]]: tensor<5x5x1x32xf32>)
// CHECK: %[[P:.+]] = tensor.pad %[[X]] low[0, 2, 2, 0] high[0, 1, 1, 0]
// CHECK: tensor<?x28x28x1xf32> to tensor<?x31x31x1xf32>
// CHECK: %[[Z:.+]] = linalg.fill {{.+}} -> tensor<?x14x14x32xf32>
// CHECK: linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
// CHECK-SAME: ins(%[[P]], %[[W]] : tensor<?x31x31x1xf32>, tensor<5x5x1x32xf32>) outs(%[[Z]] : tensor<?x14x14x32xf32>)
func.func @conv2d(%x: tensor<?x28x28x1xf32>, %w: tensor<5x5x1x32xf32>) -> tensor<?x14x14x32xf32> {
  %0 = dl.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 2, 1, 2, 1>}
      : (tensor<?x28x28x1xf32>, tensor<5x5x1x32xf32>) -> tensor<?x14x14x32xf32>
  return %0 : tensor<?x14x14x32xf32>
}

// -----

// Symbolic spatial dims: the output size is computed at run time.
// CHECK-LABEL: func.func @conv2d_symbolic
// CHECK-SAME: (%[[X:.+]]: tensor<?x?x?x1xf32>
// CHECK-DAG: %[[H:.+]] = tensor.dim %[[X]], %c1
// CHECK-DAG: %[[W:.+]] = tensor.dim %[[X]], %c2
// CHECK: tensor.empty(%{{.+}}, %{{.+}}, %{{.+}}) : tensor<?x?x?x8xf32>
// CHECK: linalg.conv_2d_nhwc_hwcf {{.+}} -> tensor<?x?x?x8xf32>
func.func @conv2d_symbolic(%x: tensor<?x?x?x1xf32>, %w: tensor<3x3x1x8xf32>) -> tensor<?x?x?x8xf32> {
  %0 = dl.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x?x?x1xf32>, tensor<3x3x1x8xf32>) -> tensor<?x?x?x8xf32>
  return %0 : tensor<?x?x?x8xf32>
}

// -----

// The input gradient is a stride-1 convolution of the zero-dilated output
// gradient with the flipped, channel-swapped filter (a tensor.generate that
// reads w[4 - i, 4 - j, c, f]).
// CHECK-LABEL: func.func @conv2d_grad_input
// CHECK-SAME: (%[[G:.+]]: tensor<?x14x14x32xf32>, %[[W:.+]]: tensor<5x5x1x32xf32>
// CHECK: %[[Z:.+]] = linalg.fill {{.+}} -> tensor<?x32x32x32xf32>
// CHECK: %[[D:.+]] = tensor.insert_slice %[[G]] into %[[Z]][0, 2, 2, 0] [%{{.+}}, 14, 14, 32] [1, 2, 2, 1]
// CHECK: %[[F:.+]] = tensor.generate
// CHECK-NEXT: ^bb0(%[[I:.+]]: index, %[[J:.+]]: index, %[[FO:.+]]: index, %[[CI:.+]]: index):
// CHECK-NEXT: %[[RI:.+]] = arith.subi %[[C4:.+]], %[[I]] : index
// CHECK-NEXT: %[[RJ:.+]] = arith.subi %[[C4]], %[[J]] : index
// CHECK-NEXT: %[[E:.+]] = tensor.extract %[[W]][%[[RI]], %[[RJ]], %[[CI]], %[[FO]]] : tensor<5x5x1x32xf32>
// CHECK-NEXT: tensor.yield %[[E]]
// CHECK-NEXT: } : tensor<5x5x32x1xf32>
// CHECK: linalg.conv_2d_nhwc_hwcf {{.+}} ins(%[[D]], %[[F]] : tensor<?x32x32x32xf32>, tensor<5x5x32x1xf32>) outs(%{{.+}} : tensor<?x28x28x1xf32>)
func.func @conv2d_grad_input(%g: tensor<?x14x14x32xf32>, %w: tensor<5x5x1x32xf32>, %x: tensor<?x28x28x1xf32>) -> tensor<?x28x28x1xf32> {
  %0 = dl.conv2d_grad_input %g, %w, %x {strides = array<i64: 2, 2>, pads = array<i64: 2, 1, 2, 1>}
      : (tensor<?x14x14x32xf32>, tensor<5x5x1x32xf32>, tensor<?x28x28x1xf32>) -> tensor<?x28x28x1xf32>
  return %0 : tensor<?x28x28x1xf32>
}

// -----

// The filter gradient is one generic over (i, j, c, f, n, oh, ow): the
// padded input read at the strided window offsets, g at the output pixel,
// summed over the batch and the output pixels; no im2col matrix.
// CHECK-DAG: #[[XM:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5 * 2 + d0, d6 * 2 + d1, d2)>
// CHECK-DAG: #[[GM:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>
// CHECK-DAG: #[[WM:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @conv2d_grad_filter
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x1xf32>, %[[G:.+]]: tensor<?x14x14x32xf32>
// CHECK: %[[P:.+]] = tensor.pad %[[X]] low[0, 2, 2, 0] high[0, 1, 1, 0]
// CHECK: %[[Z:.+]] = linalg.fill {{.+}} -> tensor<5x5x1x32xf32>
// CHECK: linalg.generic {indexing_maps = [#[[XM]], #[[GM]], #[[WM]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[P]], %[[G]] : tensor<?x31x31x1xf32>, tensor<?x14x14x32xf32>) outs(%[[Z]] : tensor<5x5x1x32xf32>) attrs = {dlc.conv_filter_grad}
// CHECK-NOT: tensor.expand_shape
func.func @conv2d_grad_filter(%x: tensor<?x28x28x1xf32>, %g: tensor<?x14x14x32xf32>, %w: tensor<5x5x1x32xf32>) -> tensor<5x5x1x32xf32> {
  %0 = dl.conv2d_grad_filter %x, %g, %w {strides = array<i64: 2, 2>, pads = array<i64: 2, 1, 2, 1>}
      : (tensor<?x28x28x1xf32>, tensor<?x14x14x32xf32>, tensor<5x5x1x32xf32>) -> tensor<5x5x1x32xf32>
  return %0 : tensor<5x5x1x32xf32>
}

// -----

// Max pooling pads with -inf and starts from -inf.
// CHECK-LABEL: func.func @max_pool
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x32xf32>)
// CHECK-DAG: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[P:.+]] = tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 1, 1, 0]
// CHECK: tensor.yield %[[NEGINF]]
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<?x14x14x32xf32>)
// CHECK: %[[WIN:.+]] = tensor.empty() : tensor<2x2xf32>
// CHECK: linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
// CHECK-SAME: ins(%[[P]], %[[WIN]] : tensor<?x29x29x32xf32>, tensor<2x2xf32>) outs(%[[INIT]] : tensor<?x14x14x32xf32>)
func.func @max_pool(%x: tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32> {
  %0 = dl.max_pool %x {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 0, 1>}
      : (tensor<?x28x28x32xf32>) -> tensor<?x14x14x32xf32>
  return %0 : tensor<?x14x14x32xf32>
}

// -----

// Average pooling sums, then divides by the count of real cells per window.
// CHECK-LABEL: func.func @avg_pool
// CHECK: %[[P:.+]] = tensor.pad %{{.+}} low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: %[[S:.+]] = linalg.pooling_nhwc_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
// CHECK-SAME: ins(%[[P]], %{{.+}} : tensor<?x30x30x32xf32>, tensor<3x3xf32>)
// CHECK: linalg.generic {{.+}} ins(%[[S]] : tensor<?x28x28x32xf32>)
// CHECK: linalg.index 1
// CHECK: linalg.index 2
// CHECK: arith.sitofp
// CHECK: arith.divf
func.func @avg_pool(%x: tensor<?x28x28x32xf32>) -> tensor<?x28x28x32xf32> {
  %0 = dl.avg_pool %x {window = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x28x28x32xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

// The arg-max of each window (a 2x2 window operand bounds its loops), then a
// gather over the input cells.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d4, d2 * 2 + d5, d3)>
// CHECK-DAG: #[[WIN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @max_pool_grad
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x32xf32>, %[[G:.+]]: tensor<?x14x14x32xf32>)
// CHECK: %[[W:.+]] = tensor.empty() : tensor<2x2xf32>
// CHECK: %[[AM:.+]]:2 = linalg.generic {indexing_maps = [#[[IN]], #[[WIN]], #[[OUT]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%[[X]], %[[W]] : tensor<?x28x28x32xf32>, tensor<2x2xf32>)
// CHECK: arith.cmpf ogt
// CHECK: linalg.generic {{.+}} outs(%{{.+}} : tensor<?x28x28x32xf32>)
// CHECK: tensor.extract %[[G]]
// CHECK: tensor.extract %[[AM]]#1
func.func @max_pool_grad(%x: tensor<?x28x28x32xf32>, %g: tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32> {
  %0 = dl.max_pool_grad %x, %g {window = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x28x28x32xf32>, tensor<?x14x14x32xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

// CHECK-LABEL: func.func @avg_pool_grad
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x32xf32>, %[[G:.+]]: tensor<?x28x28x32xf32>)
// CHECK: linalg.generic {{.+}} outs(%{{.+}} : tensor<?x28x28x32xf32>)
// CHECK: tensor.extract %[[G]]
// CHECK: arith.divf
func.func @avg_pool_grad(%x: tensor<?x28x28x32xf32>, %g: tensor<?x28x28x32xf32>) -> tensor<?x28x28x32xf32> {
  %0 = dl.avg_pool_grad %x, %g {window = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>}
      : (tensor<?x28x28x32xf32>, tensor<?x28x28x32xf32>) -> tensor<?x28x28x32xf32>
  return %0 : tensor<?x28x28x32xf32>
}

// -----

// Pool gradients also lower with symbolic spatial dims.
// CHECK-LABEL: func.func @pool_grads_symbolic
// CHECK-COUNT-2: tensor.extract %{{.+}} : tensor<?x?x?x32xf32>
// CHECK-NOT: dl.
func.func @pool_grads_symbolic(%x: tensor<?x?x?x32xf32>, %g: tensor<?x?x?x32xf32>)
    -> (tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32>) {
  %0 = dl.max_pool_grad %x, %g {window = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32>) -> tensor<?x?x?x32xf32>
  %1 = dl.avg_pool_grad %x, %g {window = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>}
      : (tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32>) -> tensor<?x?x?x32xf32>
  return %0, %1 : tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32>
}

// -----

// softmax: max, x - max, exp, sum, divide; log_softmax subtracts log(sum).
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @softmax
// CHECK: %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.maxnumf
// CHECK: %[[SH:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%{{.+}}, %[[MAX]]
// CHECK: arith.subf
// CHECK: %[[E:.+]] = linalg.generic {{.+}} ins(%[[SH]]
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[E]]
// CHECK: arith.addf
// CHECK: linalg.generic {{.+}} ins(%[[E]], %[[SUM]]
// CHECK: arith.divf
// CHECK: math.log
// CHECK: arith.subf
func.func @softmax(%x: tensor<?x10xf32>) -> (tensor<?x10xf32>, tensor<?x10xf32>) {
  %0 = dl.softmax %x {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %1 = dl.log_softmax %x {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0, %1 : tensor<?x10xf32>, tensor<?x10xf32>
}

// -----

// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[ROWS:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[COLS:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @reductions
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]]], iterator_types = ["reduction", "reduction"]}
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.addf
// CHECK: arith.divf
// CHECK: %[[MEAN:.+]] = tensor.reshape {{.+}} -> tensor<?x1xf32>
// CHECK: %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[COLS]]], iterator_types = ["reduction", "parallel"]}
// CHECK: arith.maxnumf
// CHECK: %[[ARG:.+]]:2 = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]}
// CHECK: linalg.index 1
// CHECK: arith.cmpf ogt
// CHECK: return %[[SUM]], %[[MEAN]], %[[MAX]], %[[ARG]]#1
func.func @reductions(%x: tensor<?x10xf32>) -> (tensor<f32>, tensor<?x1xf32>, tensor<10xf32>, tensor<?xi32>) {
  %0 = dl.sum %x {axes = array<i64: 0, 1>} : (tensor<?x10xf32>) -> tensor<f32>
  %1 = dl.mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<?x10xf32>) -> tensor<?x1xf32>
  %2 = dl.max %x {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<10xf32>
  %3 = dl.argmax %x {axis = 1 : i64} : (tensor<?x10xf32>) -> tensor<?xi32>
  return %0, %1, %2, %3 : tensor<f32>, tensor<?x1xf32>, tensor<10xf32>, tensor<?xi32>
}

// -----

// The -1 dim is the element count divided by the static part.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[X:.+]]: tensor<?x28x28x1xf32>)
// CHECK: %[[N:.+]] = tensor.dim %[[X]]
// CHECK: arith.muli %[[N]]
// CHECK: %[[B:.+]] = arith.divui %{{.+}}, %c784
// CHECK: %[[S:.+]] = tensor.from_elements %[[B]], %c784 : tensor<2xindex>
// CHECK: tensor.reshape %[[X]](%[[S]]) : (tensor<?x28x28x1xf32>, tensor<2xindex>) -> tensor<?x784xf32>
// CHECK: tensor.reshape %[[X]]({{.+}}) : (tensor<?x28x28x1xf32>, tensor<2xindex>) -> tensor<?x784xf32>
func.func @reshape(%x: tensor<?x28x28x1xf32>) -> (tensor<?x784xf32>, tensor<?x784xf32>) {
  %0 = dl.reshape %x {shape = array<i64: -1, 784>} : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  %1 = dl.flatten %x : (tensor<?x28x28x1xf32>) -> tensor<?x784xf32>
  return %0, %1 : tensor<?x784xf32>, tensor<?x784xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>)
// CHECK: %[[N:.+]] = tensor.dim %[[X]], %c0
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<10x?xf32>
// CHECK: linalg.transpose ins(%[[X]] : tensor<?x10xf32>) outs(%[[E]] : tensor<10x?xf32>) permutation = [1, 0]
func.func @transpose(%x: tensor<?x10xf32>) -> tensor<10x?xf32> {
  %0 = dl.transpose %x {perm = array<i64: 1, 0>} : (tensor<?x10xf32>) -> tensor<10x?xf32>
  return %0 : tensor<10x?xf32>
}

// -----

// CHECK-DAG: #[[LAB:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @one_hot
// CHECK: linalg.generic {indexing_maps = [#[[LAB]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%{{.+}} : tensor<?xi32>) outs(%{{.+}} : tensor<?x10xf32>)
// CHECK: %[[C:.+]] = linalg.index 1
// CHECK: %[[C32:.+]] = arith.index_cast %[[C]] : index to i32
// CHECK: %[[HIT:.+]] = arith.cmpi eq, %[[C32]]
// CHECK: arith.uitofp %[[HIT]] : i1 to f32
func.func @one_hot(%l: tensor<?xi32>) -> tensor<?x10xf32> {
  %0 = dl.one_hot %l {depth = 10 : i64} : (tensor<?xi32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// CHECK-DAG: #[[COLS:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @broadcast
// CHECK-SAME: (%[[B:[^:]+]]: tensor<10xf32>, %[[X:[^:]+]]: tensor<?x10xf32>, %[[G:[^:]+]]: tensor<?x10xf32>,
// CHECK: %[[N:.+]] = tensor.dim %[[X]], %c0
// CHECK: %[[E:.+]] = tensor.empty(%[[N]]) : tensor<?x10xf32>
// CHECK: %[[BC:.+]] = linalg.generic {indexing_maps = [#[[COLS]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[B]] : tensor<10xf32>) outs(%[[E]] : tensor<?x10xf32>)
// CHECK: %[[UB:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[COLS]]], iterator_types = ["reduction", "parallel"]} ins(%[[G]] : tensor<?x10xf32>) outs(%{{.+}} : tensor<10xf32>)
// CHECK: arith.addf
// CHECK: %[[UB1:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[COLS]]], iterator_types = ["reduction", "parallel"]} ins(%[[G]] : tensor<?x10xf32>)
// CHECK: %[[KEPT:.+]] = tensor.reshape %[[UB1]]({{.+}}) : (tensor<10xf32>, tensor<2xindex>) -> tensor<1x10xf32>
// CHECK: return %[[BC]], %[[UB]], %[[KEPT]]
func.func @broadcast(%b: tensor<10xf32>, %x: tensor<?x10xf32>, %g: tensor<?x10xf32>, %k: tensor<1x10xf32>)
    -> (tensor<?x10xf32>, tensor<10xf32>, tensor<1x10xf32>) {
  %0 = dl.broadcast_to %b, %x : (tensor<10xf32>, tensor<?x10xf32>) -> tensor<?x10xf32>
  %1 = dl.unbroadcast %g, %b : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<10xf32>
  %2 = dl.unbroadcast %g, %k : (tensor<?x10xf32>, tensor<1x10xf32>) -> tensor<1x10xf32>
  return %0, %1, %2 : tensor<?x10xf32>, tensor<10xf32>, tensor<1x10xf32>
}

// -----

// CHECK-LABEL: func.func @size
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>)
// CHECK: %[[N:.+]] = tensor.dim %[[X]], %c0
// CHECK: %[[I:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK: %[[F:.+]] = arith.sitofp %[[I]] : i64 to f32
// CHECK: tensor.from_elements %[[F]] : tensor<f32>
func.func @size(%x: tensor<?x10xf32>) -> tensor<f32> {
  %0 = dl.size %x {axes = array<i64: 0>} : (tensor<?x10xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The mask hashes the seed, salt and element index; kept elements scale by
// 1 / (1 - rate).
// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>, %[[SEED:.+]]: tensor<i64>)
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[RATE:.+]] = arith.constant 5.000000e-01 : f32
// CHECK: tensor.extract %[[SEED]][] : tensor<i64>
// CHECK: linalg.generic {{.+}} ins(%[[X]] : tensor<?x10xf32>)
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.shrui
// CHECK: %[[KEEP:.+]] = arith.cmpf oge, %{{.+}}, %[[RATE]]
// CHECK: %[[SCALED:.+]] = arith.mulf %{{.+}}, %[[SCALE]]
// CHECK: arith.select %[[KEEP]], %[[SCALED]]
func.func @dropout(%x: tensor<?x10xf32>, %s: tensor<i64>) -> tensor<?x10xf32> {
  %0 = dl.dropout %x, %s {rate = 0.5 : f64, salt = 1 : i64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// loss = max + log(sum(exp(x - max))) - x[label]; with f32 labels the
// log-sum-exp is weighted by the labels' mass.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[VEC:.+]] = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func.func @softmax_cross_entropy
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>, %[[L:.+]]: tensor<?xi32>, %[[P:.+]]: tensor<?x10xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]]
// CHECK: math.exp
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]}
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[L]] : tensor<?x10xf32>, tensor<?xi32>)
// CHECK: arith.cmpi eq
// CHECK: %[[PICK:.+]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]}
// CHECK: linalg.generic {indexing_maps = [#[[VEC]], #[[VEC]], #[[VEC]], #[[VEC]]], iterator_types = ["parallel"]} ins(%[[MAX]], %[[SUM]], %[[PICK]] : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) outs(%{{.+}} : tensor<?xf32>)
// CHECK: math.log
// CHECK: arith.subf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[P]] : tensor<?x10xf32>, tensor<?x10xf32>)
// CHECK: arith.mulf
// CHECK: linalg.generic {indexing_maps = [#[[VEC]], #[[VEC]], #[[VEC]], #[[VEC]], #[[VEC]]], iterator_types = ["parallel"]}
func.func @softmax_cross_entropy(%x: tensor<?x10xf32>, %l: tensor<?xi32>, %p: tensor<?x10xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  %0 = dl.softmax_cross_entropy %x, %l : (tensor<?x10xf32>, tensor<?xi32>) -> tensor<?xf32>
  %1 = dl.softmax_cross_entropy %x, %p : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<?xf32>
  return %0, %1 : tensor<?xf32>, tensor<?xf32>
}

// -----

// mse sums squared differences over the broadcast shape, then divides by its
// element count; l2 is a plain sum of squares.
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[COLS:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ALL:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @losses
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>, %[[Y:.+]]: tensor<10xf32>, %[[W:.+]]: tensor<784x10xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[COLS]], #[[ALL]]], iterator_types = ["reduction", "reduction"]} ins(%[[X]], %[[Y]] : tensor<?x10xf32>, tensor<10xf32>) outs(%{{.+}} : tensor<f32>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: tensor.dim %[[X]], %c0
// CHECK: arith.divf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ALL]]], iterator_types = ["reduction", "reduction"]} ins(%[[W]] : tensor<784x10xf32>) outs(%{{.+}} : tensor<f32>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @losses(%x: tensor<?x10xf32>, %y: tensor<10xf32>, %w: tensor<784x10xf32>) -> (tensor<f32>, tensor<f32>) {
  %0 = dl.mse %x, %y : (tensor<?x10xf32>, tensor<10xf32>) -> tensor<f32>
  %1 = dl.l2 %w : (tensor<784x10xf32>) -> tensor<f32>
  return %0, %1 : tensor<f32>, tensor<f32>
}
