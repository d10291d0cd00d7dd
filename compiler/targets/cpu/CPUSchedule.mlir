// The CPU schedule of dlc: a transform-dialect library applied by the
// dl-cpu-schedule pass to linalg on tensors, before bufferization.
//
// Matmuls are the `linalg.generic` ops that convert-dl-to-linalg tags
// `dlc.matmul`; convolutions are `linalg.conv_2d_nhwc_hwcf`; filter
// gradients are generics tagged `dlc.conv_filter_grad`.
//
//   (m, k, n) form: C[m, n] += A[m, k] * B[k, n], A possibly read transposed.
//     Register tiles of 8 rows x 32 columns of C (16 AVX-512 accumulators),
//     m tiles outside n tiles, k innermost. When the rows divide into tiles,
//     the tiles are an scf.forall with C's zero fill fused in (they start
//     from zero registers and write C once). Rows left over (a symbolic
//     batch) become 1x32 tiles, after k blocks of 256 when K is symbolic.
//     When B is large (K > 1024 and N >= 256: the 3136x1024 fully connected
//     layer, 12.8 MB), k is blocked by 784, then the columns are shared
//     among the threads in chunks (an scf.forall), each walked in 32-column
//     panels with every row tile of the block inside a panel, and the rows
//     left over are tiles of 4, 2 and 1 rows. The panel loop is marked
//     `dlc.panel_loop`: after bufferization, dl-prefetch-panels makes each
//     read of a panel prefetch the next one (its rows are 4 KiB apart, which
//     no hardware prefetcher follows).
//   Narrow (m, k, n) form, N of 1 to 31 (a classifier's 10 classes): tiles
//     of 8 rows by all N columns, which LLVM widens to whole registers.
//   (m, n, k) form: C[m, n] += A[m, k] * B[n, k] (B read transposed, both
//     operands contiguous along k). 4x4 tiles of C, each with 16 lanes of
//     partial sums along k, reduced once after the k loop.
//   Convolutions: tiles of one output row of 8/7/4/2/1 pixels by 32/16/8
//     channels, or all of them when fewer than 64 channels divide by none
//     (dl-cpu-schedule picks sizes that divide the shape and calls
//     @schedule_conv with them, 0 for all channels), in an scf.forall with the
//     output's zero fill fused in; the window rows, columns and input
//     channels as reduction loops of one step; each tile is decomposed into
//     a 1-D convolution and vectorized into outer-product FMAs. No im2col.
//   Filter gradients: an image at a time, tiles of 8 input x 32 output
//     channels (or window columns x channels), the output pixels as
//     reduction loops (@schedule_filter_grad). No im2col.
//   Elementwise ops (@schedule_elementwise_<rank>): a vectorized row of the
//     innermost dimension at a time.
//
//   Fused blocks (dl.fused_conv2d lowered to a convolution, a `dlc.fused_act`
//     bias + activation and a `dlc.fused_pool` max pool): the pool is tiled
//     by (image, pooled row) and the activation, the convolution and the
//     fills are fused into its tiles (@schedule_conv_block_pool), so the
//     activation before the pool exists only as one tile of conv rows;
//     without a pool the activation is tiled like a convolution with the
//     convolution fused in (@schedule_conv_block). Their gradients compute
//     the unpooled gradient (`dlc.unpool`) one image at a time inside the
//     filter gradient's image loop, shared with the input gradient's
//     (@schedule_conv_block_backward[_dx]).
//
// In every form the accumulator of a tile is hoisted out of its reduction
// loops (loop-invariant subset hoisting on tensors), so it lives in
// registers, and contractions become broadcast-FMA outer products. Besides
// zero fills, only the ops of fused blocks are fused into tiles (other
// producers are computed whole). Ops that do not match keep the generic
// lowering.
module attributes {transform.with_named_sequence} {

  // ---- matchers ----------------------------------------------------------

  transform.named_sequence @match_mkn(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    transform.match.operation_name %op ["linalg.generic"] : !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %rk = transform.match.structured.rank %s : (!transform.any_op) -> !transform.param<i64>
      %three = transform.param.constant 3 : i64 -> !transform.param<i64>
      transform.match.param.cmpi eq %rk, %three : !transform.param<i64>
      transform.match.structured.dim %s[0] {parallel} : !transform.any_op
      transform.match.structured.dim %s[1] {reduction} : !transform.any_op
      transform.match.structured.dim %s[2] {parallel} : !transform.any_op
      transform.match.structured.body %s {contraction = ["arith.mulf", "arith.addf"]} : !transform.any_op
      // At least one full 32-column tile (smaller ones are not worth it).
      %n = transform.match.structured.dim %s[2] : (!transform.any_op) -> !transform.param<i64>
      %nmin = transform.param.constant 32 : i64 -> !transform.param<i64>
      transform.match.param.cmpi ge %n, %nmin : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }

  // (m, k, n) with a symbolic K: weight and filter gradients, whose K is the
  // batch (times the output pixels).
  transform.named_sequence @match_mkn_dynk(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    %x = transform.include @match_mkn failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %k = transform.match.structured.dim %s[1] : (!transform.any_op) -> !transform.param<i64>
      %z = transform.param.constant 0 : i64 -> !transform.param<i64>
      transform.match.param.cmpi lt %k, %z : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }

  // A static M of at least 16 rows (a single-tile loop would fold away).
  transform.named_sequence @match_m16(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %m = transform.match.structured.dim %s[0] : (!transform.any_op) -> !transform.param<i64>
      %min = transform.param.constant 16 : i64 -> !transform.param<i64>
      transform.match.param.cmpi ge %m, %min : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }

  transform.named_sequence @match_mkn_static(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    %x = transform.include @match_mkn failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    %y = transform.include @match_m16 failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    transform.yield %op : !transform.any_op
  }

  // (m, k, n) with a narrow static N, 1 to 31 columns (a classifier's
  // classes): too few for a 32-column tile.
  transform.named_sequence @match_mkn_narrow(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    transform.match.operation_name %op ["linalg.generic"] : !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %rk = transform.match.structured.rank %s : (!transform.any_op) -> !transform.param<i64>
      %three = transform.param.constant 3 : i64 -> !transform.param<i64>
      transform.match.param.cmpi eq %rk, %three : !transform.param<i64>
      transform.match.structured.dim %s[0] {parallel} : !transform.any_op
      transform.match.structured.dim %s[1] {reduction} : !transform.any_op
      transform.match.structured.dim %s[2] {parallel} : !transform.any_op
      transform.match.structured.body %s {contraction = ["arith.mulf", "arith.addf"]} : !transform.any_op
      %n = transform.match.structured.dim %s[2] : (!transform.any_op) -> !transform.param<i64>
      %one = transform.param.constant 1 : i64 -> !transform.param<i64>
      %nmax = transform.param.constant 31 : i64 -> !transform.param<i64>
      transform.match.param.cmpi ge %n, %one : !transform.param<i64>
      transform.match.param.cmpi le %n, %nmax : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }

  transform.named_sequence @match_mnk_static(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    %x = transform.include @match_mnk failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    %y = transform.include @match_m16 failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    transform.yield %op : !transform.any_op
  }

  transform.named_sequence @match_mnk(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    transform.match.operation_name %op ["linalg.generic"] : !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %rk = transform.match.structured.rank %s : (!transform.any_op) -> !transform.param<i64>
      %three = transform.param.constant 3 : i64 -> !transform.param<i64>
      transform.match.param.cmpi eq %rk, %three : !transform.param<i64>
      transform.match.structured.dim %s[0] {parallel} : !transform.any_op
      transform.match.structured.dim %s[1] {parallel} : !transform.any_op
      transform.match.structured.dim %s[2] {reduction} : !transform.any_op
      transform.match.structured.body %s {contraction = ["arith.mulf", "arith.addf"]} : !transform.any_op
      // At least four full columns and one full 16-lane k step.
      %n = transform.match.structured.dim %s[1] : (!transform.any_op) -> !transform.param<i64>
      %k = transform.match.structured.dim %s[2] : (!transform.any_op) -> !transform.param<i64>
      %nmin = transform.param.constant 16 : i64 -> !transform.param<i64>
      transform.match.param.cmpi ge %n, %nmin : !transform.param<i64>
      transform.match.param.cmpi ge %k, %nmin : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }

  // ---- building blocks ---------------------------------------------------

  transform.named_sequence @vectorize(%op: !transform.any_op {transform.consumed}) {
    transform.structured.vectorize %op {vectorize_nd_extract} : !transform.any_op
    transform.yield
  }

  transform.named_sequence @hoist_accumulators(%loops: !transform.any_op {transform.readonly}) {
    transform.foreach %loops : !transform.any_op {
    ^bb0(%l: !transform.any_op):
      // Constants first (the padding values of the reads), then the tile.
      transform.apply_licm to %l : !transform.any_op
      transform.loop.hoist_loop_invariant_subsets %l : !transform.any_op
    }
    transform.yield
  }

  // Vectorizes every static linalg op under %loop (the first half of
  // @vectorize_tiles).
  transform.named_sequence @vectorize_ops(%loop: !transform.any_op {transform.readonly}) {
    transform.apply_patterns to %loop {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    // Slices of the output that a reduction loop extracts and inserts back
    // (the 1-D convolution of a tile) leave the loop first.
    %tiles = transform.structured.match ops{["scf.for"]} in %loop : (!transform.any_op) -> !transform.any_op
    transform.include @hoist_accumulators failures(propagate) (%tiles) : (!transform.any_op) -> ()
    transform.include @hoist_accumulators failures(propagate) (%tiles) : (!transform.any_op) -> ()
    transform.include @hoist_accumulators failures(propagate) (%tiles) : (!transform.any_op) -> ()
    %inner = transform.structured.match ops{["linalg.generic", "linalg.fill", "linalg.reduce", "linalg.conv_1d_nwc_wcf"]} in %loop : (!transform.any_op) -> !transform.any_op
    transform.foreach %inner : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      // Dynamic shapes fail to vectorize and keep their loops.
      transform.sequence %x : !transform.any_op failures(suppress) {
      ^bb1(%y: !transform.any_op):
        transform.include @vectorize failures(propagate) (%y) : (!transform.any_op) -> ()
      }
    }
    transform.yield
  }

  // Vectorizes every static linalg op under %loop, hoists accumulators out of
  // the reduction loops and lowers contractions to FMAs.
  transform.named_sequence @vectorize_tiles(%loop: !transform.any_op {transform.readonly}) {
    transform.include @vectorize_ops failures(propagate) (%loop) : (!transform.any_op) -> ()
    transform.include @lower_tiles failures(propagate) (%loop) : (!transform.any_op) -> ()
    transform.yield
  }

  // The same for elementwise ops and their outer reductions: a reduction
  // over the unit dimension of a row tile becomes elementwise first; as a
  // contraction (a sum of squares) it was lowered one lane at a time, 64
  // scalar multiply-adds for a row of 64. (Not for matmuls: their k-by-one
  // tiles become FMAs as contractions.)
  transform.named_sequence @vectorize_elementwise_tiles(%loop: !transform.any_op {transform.readonly}) {
    transform.include @vectorize_ops failures(propagate) (%loop) : (!transform.any_op) -> ()
    transform.apply_patterns to %loop {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.include @lower_tiles failures(propagate) (%loop) : (!transform.any_op) -> ()
    transform.yield
  }

  transform.named_sequence @lower_tiles(%loop: !transform.any_op {transform.readonly}) {
    transform.apply_patterns to %loop {
      transform.apply_patterns.vector.reduction_to_contract
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %loop : !transform.any_op
    // Three rounds: each moves an accumulator out of one more level of a
    // nest of reduction loops (the window and channel loops of a convolution).
    %loops = transform.structured.match ops{["scf.for"]} in %loop : (!transform.any_op) -> !transform.any_op
    transform.include @hoist_accumulators failures(propagate) (%loops) : (!transform.any_op) -> ()
    transform.include @hoist_accumulators failures(propagate) (%loops) : (!transform.any_op) -> ()
    transform.include @hoist_accumulators failures(propagate) (%loops) : (!transform.any_op) -> ()
    transform.apply_patterns to %loop {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.vector.lower_multi_reduction lowering_strategy = "innerreduction"
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.yield
  }

  // (m, n, k) order in, 8x32 register tiles of C, m outside n: C is written
  // a block of rows at a time and B stays in cache. Producers are not fused
  // into the tiles (tile-and-fuse would recompute whole producer chains per
  // tile): each tile starts from the zero-filled C. Returns the loop over m.
  transform.named_sequence @register_tiles(%op: !transform.any_op {transform.consumed}) -> !transform.any_op {
    %t, %lm, %ln = transform.structured.tile_using_for %op tile_sizes [8, 32, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield %lm : !transform.any_op
  }

  // Tiles k by 1 in every matmul under the loops %l.
  transform.named_sequence @k_by_one(%l: !transform.any_op {transform.readonly}) {
    %g = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %l : (!transform.any_op) -> !transform.any_op
    %gk, %lk = transform.structured.tile_using_for %g tile_sizes [0, 0, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }

  // Rows left over (a symbolic batch, or M not a multiple of the row tile):
  // the m loop is peeled and the last rows become 1-row tiles.
  transform.named_sequence @peel_rows(%lm: !transform.any_op {transform.readonly}) -> !transform.any_op {
    %lmf = transform.cast %lm : !transform.any_op to !transform.op<"scf.for">
    %main, %rest = transform.loop.peel %lmf : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)
    transform.foreach %rest : !transform.any_op {
    ^bb0(%r: !transform.any_op):
      %g = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %r : (!transform.any_op) -> !transform.any_op
      %g1, %l1 = transform.structured.tile_using_for %g tile_sizes [1, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    }
    %loops = transform.merge_handles %main, %rest : !transform.any_op
    transform.yield %loops : !transform.any_op
  }

  // The same for 8-row tiles, with the rows left over (up to 7) taken as a
  // tile of 4, one of 2 and one of 1 rows: a batch of 50 ends in a 2-row tile
  // instead of two 1-row tiles.
  transform.named_sequence @peel_rows_halving(%lm: !transform.any_op {transform.readonly}) {
    %lmf = transform.cast %lm : !transform.any_op to !transform.op<"scf.for">
    %main, %rest = transform.loop.peel %lmf : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)
    transform.foreach %rest : !transform.any_op {
    ^bb0(%r: !transform.any_op):
      %g = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %r : (!transform.any_op) -> !transform.any_op
      %g4, %l4 = transform.structured.tile_using_for %g tile_sizes [4, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
      %l4f = transform.cast %l4 : !transform.any_op to !transform.op<"scf.for">
      %main4, %rest4 = transform.loop.peel %l4f : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)
      // Peeling leaves min(4, rows left) in the 4-row tile: it is 4 there.
      transform.sequence %main4 : !transform.any_op failures(suppress) {
      ^bb1(%m4: !transform.any_op):
        %mins = transform.structured.match ops{["affine.min"]} in %m4 : (!transform.any_op) -> !transform.any_op
        transform.affine.simplify_min_max_affine_ops %mins : !transform.any_op
      }
      %h = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %rest4 : (!transform.any_op) -> !transform.any_op
      %g2, %l2 = transform.structured.tile_using_for %h tile_sizes [2, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
      %l2f = transform.cast %l2 : !transform.any_op to !transform.op<"scf.for">
      %main2, %rest2 = transform.loop.peel %l2f : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)
      %i = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %rest2 : (!transform.any_op) -> !transform.any_op
      %g1, %l1 = transform.structured.tile_using_for %i tile_sizes [1, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    }
    transform.yield
  }

  // ---- the forms ---------------------------------------------------------

  // Rows that divide into 8-row tiles: the tiles are an scf.forall (m
  // outside n once it is loops) with the zero fill of C fused in, so each
  // tile starts from zero registers and writes its part of C once (no
  // memset of C, no reading it back).
  transform.named_sequence @schedule_mkn(%op: !transform.any_op {transform.consumed}) {
    %i = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %fill = transform.get_producer_of_operand %i[2] : (!transform.any_op) -> !transform.any_op
    %t, %tiles = transform.structured.tile_using_forall %i tile_sizes [8, 32, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %tf, %tiles2 = transform.structured.fuse_into_containing_op %fill into %tiles : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @k_by_one failures(propagate) (%tiles2) : (!transform.any_op) -> ()
    transform.include @vectorize_tiles failures(propagate) (%tiles2) : (!transform.any_op) -> ()
    transform.yield
  }

  // A weight gradient computed 8 rows at a time with the optimizer's update
  // of those rows fused in (an scf.forall over the rows that dl-cpu-schedule
  // builds: fuseUpdates). The rows' matmul takes @schedule_mkn's 8x32
  // register tiles (k innermost, by one, from zero registers: the zero fill
  // fused into each tile); the update is the elementwise ops' call.
  transform.named_sequence @schedule_update_tiles(%forall: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %forall : (!transform.any_op) -> !transform.any_op
    %i = transform.structured.interchange %mm iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %t, %ln = transform.structured.fuse %i tile_sizes [0, 32, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @k_by_one failures(propagate) (%ln) : (!transform.any_op) -> ()
    transform.include @vectorize_tiles failures(propagate) (%ln) : (!transform.any_op) -> ()
    transform.yield
  }

  transform.named_sequence @schedule_mkn_ragged(%op: !transform.any_op {transform.consumed}) {
    %i = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %lm = transform.include @register_tiles failures(propagate) (%i) : (!transform.any_op) -> !transform.any_op
    %loops = transform.include @peel_rows failures(propagate) (%lm) : (!transform.any_op) -> !transform.any_op
    transform.foreach %loops : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @k_by_one failures(propagate) (%x) : (!transform.any_op) -> ()
      transform.include @vectorize_tiles failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    transform.yield
  }

  // A narrow N (@match_mkn_narrow): tiles of 8 rows by every column, which
  // LLVM widens to one or two vector registers (10 columns: one 16-lane
  // register per row, 10 lanes used), k innermost, the accumulators in
  // registers. Left to the generic lowering, LLVM vectorizes such a matmul
  // along m or k with gathers (the softmax step took 520 us instead of 60).
  // Rows that divide: an scf.forall with the zero fill fused in, as in
  // @schedule_mkn.
  transform.named_sequence @schedule_mkn_narrow(%op: !transform.any_op {transform.consumed}) {
    %i = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %fill = transform.get_producer_of_operand %i[2] : (!transform.any_op) -> !transform.any_op
    %t, %tiles = transform.structured.tile_using_forall %i tile_sizes [8, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %tf, %tiles2 = transform.structured.fuse_into_containing_op %fill into %tiles : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @k_by_one failures(propagate) (%tiles2) : (!transform.any_op) -> ()
    transform.include @vectorize_tiles failures(propagate) (%tiles2) : (!transform.any_op) -> ()
    transform.yield
  }

  // The same with rows left over: the last rows are 1-row tiles.
  transform.named_sequence @schedule_mkn_narrow_ragged(%op: !transform.any_op {transform.consumed}) {
    %i = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %t, %lm = transform.structured.tile_using_for %i tile_sizes [8, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %loops = transform.include @peel_rows failures(propagate) (%lm) : (!transform.any_op) -> !transform.any_op
    transform.foreach %loops : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @k_by_one failures(propagate) (%x) : (!transform.any_op) -> ()
      transform.include @vectorize_tiles failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    transform.yield
  }

  // A symbolic K (a weight gradient sums over the batch) with rows that do
  // not divide into tiles: k in blocks of %kc (256) outside the register
  // tiles, so that the blocks of A and B that all tiles read stay in L2, and
  // the last rows peeled. (With rows that divide, @schedule_mkn's tiles that
  // start from zero registers are faster at every K measured, 50 to 1000.)
  transform.named_sequence @schedule_kblocked_ragged(%op: !transform.any_op {transform.consumed}, %kc: !transform.param<i64> {transform.readonly}) {
    %i = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %ik, %lk = transform.structured.tile_using_for %i tile_sizes [0, 0, %kc] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    %lm = transform.include @register_tiles failures(propagate) (%ik) : (!transform.any_op) -> !transform.any_op
    %loops = transform.include @peel_rows failures(propagate) (%lm) : (!transform.any_op) -> !transform.any_op
    transform.include @k_by_one failures(propagate) (%lk) : (!transform.any_op) -> ()
    transform.include @vectorize_tiles failures(propagate) (%lk) : (!transform.any_op) -> ()
    transform.yield
  }


  // A large B: k in blocks of %kc, then chunks of %nc columns (a divisor of
  // N that dl-cpu-schedule picks) as an scf.forall, so the runtime's threads
  // share them, then 32-column panels of B, then the row tiles: the panel
  // (%kc x 32) is read from memory once, by the first row tile, and from
  // cache by the others. The panel loop is marked for dl-prefetch-panels.
  transform.named_sequence @panel_tiles(%op: !transform.any_op {transform.consumed}, %kc: !transform.param<i64> {transform.readonly}, %nc: !transform.param<i64> {transform.readonly}) -> (!transform.any_op, !transform.any_op) {
    %i = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %ik, %lk = transform.structured.tile_using_for %i tile_sizes [0, 0, %kc] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    %in, %lc = transform.structured.tile_using_forall %ik tile_sizes [0, %nc, 0] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    %t, %ln, %lm = transform.structured.tile_using_for %in tile_sizes [8, 32, 0] interchange = [1, 0, 2] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.annotate %ln "dlc.panel_loop" : !transform.any_op
    transform.yield %lk, %lm : !transform.any_op, !transform.any_op
  }

  transform.named_sequence @schedule_panels(%op: !transform.any_op {transform.consumed}, %kc: !transform.param<i64> {transform.readonly}, %nc: !transform.param<i64> {transform.readonly}) {
    %lk, %lm = transform.include @panel_tiles failures(propagate) (%op, %kc, %nc) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.include @k_by_one failures(propagate) (%lk) : (!transform.any_op) -> ()
    transform.include @vectorize_tiles failures(propagate) (%lk) : (!transform.any_op) -> ()
    transform.yield
  }

  transform.named_sequence @schedule_panels_ragged(%op: !transform.any_op {transform.consumed}, %kc: !transform.param<i64> {transform.readonly}, %nc: !transform.param<i64> {transform.readonly}) {
    %lk, %lm = transform.include @panel_tiles failures(propagate) (%op, %kc, %nc) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.include @peel_rows_halving failures(propagate) (%lm) : (!transform.any_op) -> ()
    transform.include @k_by_one failures(propagate) (%lk) : (!transform.any_op) -> ()
    transform.include @vectorize_tiles failures(propagate) (%lk) : (!transform.any_op) -> ()
    transform.yield
  }

  // 16 lanes of partial sums along k for every output of the tile.
  transform.named_sequence @split_k(%g: !transform.any_op {transform.consumed}) {
    transform.foreach %g : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      %fill, %split, %combine, %lk = transform.structured.tile_reduction_using_for %x by tile_sizes = [0, 0, 16] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    }
    transform.yield
  }

  transform.named_sequence @dot_tiles(%op: !transform.any_op {transform.consumed}) -> (!transform.any_op, !transform.any_op) {
    %c, %ln = transform.structured.tile_using_forall %op tile_sizes [0, 4, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %t, %lm = transform.structured.tile_using_for %c tile_sizes [4, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield %ln, %lm : !transform.any_op, !transform.any_op
  }

  // Where the output of %forall's tiles is a fill (its first operand: the
  // forall's bounds are static), the fill goes into the tiles: each zeroes
  // its own slice, in cache and on its own thread, instead of a serial fill
  // of the whole output first (the CNN's 50x3136 input gradient of the
  // dense layer: 627 KB). Fails (to be suppressed) where it is not a fill.
  transform.named_sequence @fuse_output_fill(%forall: !transform.any_op {transform.readonly}) {
    %fill = transform.get_producer_of_operand %forall[0] : (!transform.any_op) -> !transform.any_op
    transform.match.operation_name %fill ["linalg.fill"] : !transform.any_op
    %f, %l = transform.structured.fuse_into_containing_op %fill into %forall : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.yield
  }

  // 4x4 tiles, n outside m: four rows of B stay in L1 for all of A. The
  // columns are an scf.forall (the runtime's threads share them), with the
  // output's zero fill fused in.
  transform.named_sequence @schedule_mnk(%op: !transform.any_op {transform.consumed}) {
    %ln, %lm = transform.include @dot_tiles failures(propagate) (%op) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @fuse_output_fill failures(suppress) (%ln) : (!transform.any_op) -> ()
    %g = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %lm : (!transform.any_op) -> !transform.any_op
    transform.include @split_k failures(propagate) (%g) : (!transform.any_op) -> ()
    transform.include @vectorize_tiles failures(propagate) (%ln) : (!transform.any_op) -> ()
    transform.yield
  }

  // A symbolic M: the last rows become 1x4 tiles.
  transform.named_sequence @schedule_mnk_ragged(%op: !transform.any_op {transform.consumed}) {
    %ln, %lm = transform.include @dot_tiles failures(propagate) (%op) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @fuse_output_fill failures(suppress) (%ln) : (!transform.any_op) -> ()
    %loops = transform.include @peel_rows failures(propagate) (%lm) : (!transform.any_op) -> !transform.any_op
    transform.foreach %loops : !transform.any_op {
    ^bb0(%l: !transform.any_op):
      %g = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %l : (!transform.any_op) -> !transform.any_op
      transform.include @split_k failures(propagate) (%g) : (!transform.any_op) -> ()
    }
    transform.include @vectorize_tiles failures(propagate) (%ln) : (!transform.any_op) -> ()
    transform.yield
  }

  // Convolutions (linalg.conv_2d_nhwc_hwcf, loops n, oh, ow, f, kh, kw, c):
  // output tiles of one row of %ow pixels by %f channels, the window and the
  // input channels as reduction loops of one step each. The tile becomes a
  // 1-D convolution (decompose) that vectorizes into %ow x %f outer-product
  // FMAs, its accumulator hoisted out of the three reduction loops. The
  // tiles are an scf.forall so that the zero fill of the output fuses into
  // them: each tile starts from zero registers (dl-cpu-schedule folds the
  // read of the zeroed tile) and the output is written once, never zeroed
  // and read back. scf-forall-to-for makes loops of it after bufferization.
  transform.named_sequence @schedule_conv(%c: !transform.any_op {transform.consumed}, %ow: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}) {
    %fill = transform.get_producer_of_operand %c[2] : (!transform.any_op) -> !transform.any_op
    %t, %tiles = transform.structured.tile_using_forall %c tile_sizes [1, 1, %ow, %f, 0, 0, 0] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    %tf, %tiles2 = transform.structured.fuse_into_containing_op %fill into %tiles : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    %t2, %k0, %k1, %k2 = transform.structured.tile_using_for %t tile_sizes [0, 0, 0, 0, 1, 1, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %d = transform.structured.decompose %t2 : (!transform.any_op) -> !transform.any_op
    transform.include @vectorize_tiles failures(propagate) (%tiles2) : (!transform.any_op) -> ()
    transform.yield
  }

  // Elementwise ops (dl-cpu-schedule picks them and calls the sequence for
  // their rank): one tile per row of the innermost dimension, %inner
  // elements at a time (64, or 0 for all of a dimension of 64 or fewer),
  // vectorized. Outer reduction loops (a bias gradient sums over the batch
  // and the pixels) carry the row of sums in registers.
  transform.named_sequence @schedule_elementwise_1(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}) {
    %t, %l0 = transform.structured.tile_using_for %op tile_sizes [%inner] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.include @vectorize_elementwise_tiles failures(propagate) (%l0) : (!transform.any_op) -> ()
    transform.yield
  }
  transform.named_sequence @schedule_elementwise_2(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}) {
    %t, %l0, %l1 = transform.structured.tile_using_for %op tile_sizes [1, %inner] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.include @vectorize_elementwise_tiles failures(propagate) (%l0) : (!transform.any_op) -> ()
    transform.yield
  }
  transform.named_sequence @schedule_elementwise_3(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}) {
    %t, %l0, %l1, %l2 = transform.structured.tile_using_for %op tile_sizes [1, 1, %inner] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.include @vectorize_elementwise_tiles failures(propagate) (%l0) : (!transform.any_op) -> ()
    transform.yield
  }
  transform.named_sequence @schedule_elementwise_4(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}) {
    %t, %l0, %l1, %l2, %l3 = transform.structured.tile_using_for %op tile_sizes [1, 1, 1, %inner] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.include @vectorize_elementwise_tiles failures(propagate) (%l0) : (!transform.any_op) -> ()
    transform.yield
  }

  // Large elementwise ops (an optimizer's update of a 3136x1024 weight
  // streams 90 MB): chunks of one parallel dimension (%d<i>: the chunk size
  // along loop i, 0 for the loops not split; see parallelChunks) are an
  // scf.forall, so they run on the runtime's threads; each chunk is tiled as
  // above.
  transform.named_sequence @schedule_elementwise_par_1(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}, %d0: !transform.param<i64> {transform.readonly}) {
    %c, %f = transform.structured.tile_using_forall %op tile_sizes [%d0] : (!transform.any_op, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.include @schedule_elementwise_1 failures(propagate) (%c, %inner) : (!transform.any_op, !transform.param<i64>) -> ()
    transform.yield
  }
  transform.named_sequence @schedule_elementwise_par_2(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}, %d0: !transform.param<i64> {transform.readonly}, %d1: !transform.param<i64> {transform.readonly}) {
    %c, %f = transform.structured.tile_using_forall %op tile_sizes [%d0, %d1] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.include @schedule_elementwise_2 failures(propagate) (%c, %inner) : (!transform.any_op, !transform.param<i64>) -> ()
    transform.yield
  }
  transform.named_sequence @schedule_elementwise_par_3(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}, %d0: !transform.param<i64> {transform.readonly}, %d1: !transform.param<i64> {transform.readonly}, %d2: !transform.param<i64> {transform.readonly}) {
    %c, %f = transform.structured.tile_using_forall %op tile_sizes [%d0, %d1, %d2] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.include @schedule_elementwise_3 failures(propagate) (%c, %inner) : (!transform.any_op, !transform.param<i64>) -> ()
    transform.yield
  }
  transform.named_sequence @schedule_elementwise_par_4(%op: !transform.any_op {transform.consumed}, %inner: !transform.param<i64> {transform.readonly}, %d0: !transform.param<i64> {transform.readonly}, %d1: !transform.param<i64> {transform.readonly}, %d2: !transform.param<i64> {transform.readonly}, %d3: !transform.param<i64> {transform.readonly}) {
    %c, %f = transform.structured.tile_using_forall %op tile_sizes [%d0, %d1, %d2, %d3] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    transform.include @schedule_elementwise_4 failures(propagate) (%c, %inner) : (!transform.any_op, !transform.param<i64>) -> ()
    transform.yield
  }

  // Filter gradients (`dlc.conv_filter_grad`, loops kh, kw, c, f, n, oh,
  // ow): one image at a time (its input and output gradient stay in cache
  // for every tile), then tiles of one window position by %j window columns
  // (0: all) by %c input by %f output channels (0: all), the output pixels
  // as reduction loops with the accumulator in registers across them.
  transform.named_sequence @schedule_filter_grad(%op: !transform.any_op {transform.consumed}, %j: !transform.param<i64> {transform.readonly}, %c: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}) {
    %t1, %ln = transform.structured.tile_using_for %op tile_sizes [0, 0, 0, 0, 1, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @filter_grad_tiles failures(propagate) (%t1, %ln, %j, %c, %f) : (!transform.any_op, !transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> ()
    transform.yield
  }

  // The tiles of @schedule_filter_grad for %t1, the filter gradient of one
  // image, inside the image loop %ln (which may also hold other per-image
  // ops: a fused block's dz, the input gradient's conv). The tiles of one
  // image write disjoint parts of the gradient: an scf.forall, which runs on
  // the runtime's threads (the image loop itself is a reduction).
  transform.named_sequence @filter_grad_tiles(%t1: !transform.any_op {transform.consumed}, %ln: !transform.any_op {transform.readonly}, %j: !transform.param<i64> {transform.readonly}, %c: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}) {
    %t2, %tiles = transform.structured.tile_using_forall %t1 tile_sizes [1, %j, %c, %f, 0, 0, 0] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    %t3, %k0, %k1 = transform.structured.tile_using_for %t2 tile_sizes [0, 0, 0, 0, 0, 1, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    // The window offsets (oh + i) are unit dims of the tile: folding them
    // leaves an outer product with plain maps, which vectorizes.
    transform.apply_patterns to %ln {
      transform.apply_patterns.linalg.fold_unit_extent_dims_via_slices
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.include @vectorize_tiles failures(propagate) (%ln) : (!transform.any_op) -> ()
    transform.yield
  }

  // ---- fused conv blocks -------------------------------------------------
  //
  // A dl fused conv block (conv2d + bias + ReLU [+ 2x2/2 max pool, with or
  // without its i8 arg-max]) lowers to today's ops, tagged: the bias+ReLU
  // generic `dlc.fused_act`, the pool (`linalg.pooling_nhwc_max`, or the
  // two-result arg-max generic) `dlc.fused_pool`; its gradient's per-pixel
  // unpool generic `dlc.unpool`. dl-cpu-schedule calls these sequences on
  // the block's root with the conv tile sizes it picks for @schedule_conv
  // (and @schedule_filter_grad); the block's other ops must then be left out
  // of its conv / elementwise calls (they are consumed here).

  // No pool: the root is the bias+ReLU generic %act over the conv output.
  // Tiles of one output row of %ow pixels by %f channels (0 = all), as
  // @schedule_conv's, but of %act: the conv and its zero fill are fused into
  // each tile, so bias and ReLU read the tile's accumulators straight after
  // its reduction loops (through an 896 B stack tile, in L1) and only the
  // activation is written: the full conv output never exists.
  transform.named_sequence @schedule_conv_block(%act: !transform.any_op {transform.consumed}, %ow: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}) {
    %conv = transform.get_producer_of_operand %act[0] : (!transform.any_op) -> !transform.any_op
    %fill = transform.get_producer_of_operand %conv[2] : (!transform.any_op) -> !transform.any_op
    %t, %tiles = transform.structured.tile_using_forall %act tile_sizes [1, 1, %ow, %f] : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> (!transform.any_op, !transform.any_op)
    %c2, %tiles2 = transform.structured.fuse_into_containing_op %conv into %tiles : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    %f2, %tiles3 = transform.structured.fuse_into_containing_op %fill into %tiles2 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    // The conv's zero fill writes a slice of the full-size tensor.empty:
    // make it a tile-sized empty (else bufferization keeps the full buffer).
    transform.apply_patterns to %tiles3 {
      transform.apply_patterns.tensor.fold_tensor_empty
    } : !transform.any_op
    // Then exactly @schedule_conv's reduction loops and 1-D decomposition.
    %t2, %k0, %k1, %k2 = transform.structured.tile_using_for %c2 tile_sizes [0, 0, 0, 0, 1, 1, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %d = transform.structured.decompose %t2 : (!transform.any_op) -> !transform.any_op
    transform.include @vectorize_tiles failures(propagate) (%tiles3) : (!transform.any_op) -> ()
    transform.yield
  }

  // Pool tiles (inside a tile of one image and one pooled row): one pooled
  // pixel by all channels, then the 2x2 window by 1 x 1. With every other
  // dim a unit dim, folding them leaves a 1-D op over the channels, which
  // vectorizes; the (max, arg-max) pair is hoisted out of the window loops
  // into registers. Either form: the named max pool is generalized first.
  transform.named_sequence @pool_tiles(%pool: !transform.any_op {transform.consumed}) {
    %g = transform.structured.generalize %pool : (!transform.any_op) -> !transform.any_op
    %t1, %ln, %lh, %lw = transform.structured.tile_using_for %g tile_sizes [1, 1, 1, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %t2, %k0, %k1 = transform.structured.tile_using_for %t1 tile_sizes [0, 0, 0, 0, 1, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    transform.apply_patterns to %ln {
      transform.apply_patterns.linalg.fold_unit_extent_dims_via_slices
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.include @vectorize_tiles failures(propagate) (%ln) : (!transform.any_op) -> ()
    transform.yield
  }

  // conv + bias + ReLU + max pool, the root being the pool %pool (either
  // form). The pool is tiled over (image, pooled row) in an scf.forall;
  // bias+ReLU, the conv and the fills (the conv's zero fill and the pool's
  // -inf / 0 inits) are fused into each tile: a tile computes the 2 conv
  // rows its windows read (from 6 padded input rows; 2x2/2 windows do not
  // overlap, so nothing is recomputed) and the pre-pool tensor exists only
  // as one 2-row tile (7 KB on the stack after bufferization). Inside, the conv and bias+ReLU get
  // @schedule_conv_block's register tiles (%ow pixels by %f channels, as
  // @schedule_conv), the pool @pool_tiles.
  transform.named_sequence @schedule_conv_block_pool(%pool: !transform.any_op {transform.consumed}, %ow: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}) {
    %act = transform.get_producer_of_operand %pool[0] : (!transform.any_op) -> !transform.any_op
    %conv = transform.get_producer_of_operand %act[0] : (!transform.any_op) -> !transform.any_op
    %cfill = transform.get_producer_of_operand %conv[2] : (!transform.any_op) -> !transform.any_op
    // The pool's inits: one fill (max pool) or two (max + arg-max).
    %inits = transform.get_operand %pool[except(0, 1)] : (!transform.any_op) -> !transform.any_value
    %pfills = transform.get_defining_op %inits : (!transform.any_value) -> !transform.any_op
    %tp, %l0 = transform.structured.tile_using_forall %pool tile_sizes [1, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %a2, %l1 = transform.structured.fuse_into_containing_op %act into %l0 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    %c2, %l2 = transform.structured.fuse_into_containing_op %conv into %l1 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    %f2, %l3 = transform.structured.fuse_into_containing_op %cfill into %l2 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    %pf2, %l4 = transform.structured.fuse_into_containing_op %pfills into %l3 : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    // Slices of full-size tensor.empty become tile-sized ones (else the
    // full pre-pool buffer survives bufferization).
    transform.apply_patterns to %l4 {
      transform.apply_patterns.tensor.fold_tensor_empty
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.include @pool_tiles failures(propagate) (%tp) : (!transform.any_op) -> ()
    // The pool's init fills: one pooled row (14 x 32 here), small enough
    // to vectorize whole.
    transform.include @vectorize failures(propagate) (%pf2) : (!transform.any_op) -> ()
    transform.include @schedule_conv_block failures(propagate) (%a2, %ow, %f) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> ()
    transform.yield
  }

  // The unpool %dz (`dlc.unpool`) of a fused block's gradient, already one
  // image inside an image loop: tiled by pixel and vectorized along the
  // channels (its gathers of the pooled gradient and arg-max become
  // contiguous loads).
  transform.named_sequence @unpool_tiles(%dz: !transform.any_op {transform.consumed}) {
    %t, %l0, %l1, %l2 = transform.structured.tile_using_for %dz tile_sizes [1, 1, 1, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.include @vectorize_tiles failures(propagate) (%l0) : (!transform.any_op) -> ()
    transform.yield
  }

  // Gradient of a fused block without input gradient (the first conv): the
  // filter gradient %dw walks the images outermost (as
  // @schedule_filter_grad); the unpooled, ReLU-masked gradient dz of the
  // image is computed inside that loop (a 1-image tile of dz, never the
  // full-size dz), then @filter_grad_tiles. %j, %c, %f as
  // @schedule_filter_grad.
  transform.named_sequence @schedule_conv_block_backward(%dw: !transform.any_op {transform.consumed}, %j: !transform.param<i64> {transform.readonly}, %c: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}) {
    %dz = transform.get_producer_of_operand %dw[1] : (!transform.any_op) -> !transform.any_op
    %t1, %ln = transform.structured.tile_using_for %dw tile_sizes [0, 0, 0, 0, 1, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %dz2, %ln2 = transform.structured.fuse_into_containing_op %dz into %ln : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.apply_patterns to %ln2 {
      transform.apply_patterns.tensor.fold_tensor_empty
    } : !transform.any_op
    transform.include @unpool_tiles failures(propagate) (%dz2) : (!transform.any_op) -> ()
    transform.include @filter_grad_tiles failures(propagate) (%t1, %ln2, %j, %c, %f) : (!transform.any_op, !transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> ()
    transform.yield
  }

  // The same, the images in groups (dl-cpu-schedule's groupImages): %dw is
  // one group's filter gradient inside the scf.forall %forall over the
  // groups, reading a slice of the full dz, whose producer is fused into the
  // forall first (each group unpools its own images); then the image loop
  // inside the group as above. The group's tiles are parallel loops inside
  // a parallel one: they run on the group's thread.
  transform.named_sequence @schedule_conv_block_backward_grouped(%dw: !transform.any_op {transform.consumed}, %forall: !transform.any_op {transform.readonly}, %j: !transform.param<i64> {transform.readonly}, %c: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}) {
    %slice = transform.get_producer_of_operand %dw[1] : (!transform.any_op) -> !transform.any_op
    %dz = transform.get_producer_of_operand %slice[0] : (!transform.any_op) -> !transform.any_op
    %dzf, %forall2 = transform.structured.fuse_into_containing_op %dz into %forall : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @schedule_conv_block_backward failures(propagate) (%dw, %j, %c, %f) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> ()
    transform.yield
  }

  // The same with the input gradient %dx (a conv of the padded dz with the
  // flipped filter): dx is tiled by image with its zero fill, the padding
  // of dz and dz fused in (structured.fuse: the pad's result is an
  // scf.for iter_args init, which fuse_into_containing_op cannot fuse);
  // dw's image loop is fused into the same loop (loop.fuse_sibling) and CSE
  // merges the two per-image dz: one image loop computes dz once for both.
  // Then @filter_grad_tiles for dw and @schedule_conv's tiles (%ow, %fx) for
  // dx.
  transform.named_sequence @schedule_conv_block_backward_dx(%dw: !transform.any_op {transform.consumed}, %dx: !transform.any_op {transform.consumed}, %j: !transform.param<i64> {transform.readonly}, %c: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}, %ow: !transform.param<i64> {transform.readonly}, %fx: !transform.param<i64> {transform.readonly}) {
    %func = transform.get_parent_op %dw {op_name = "func.func"} : (!transform.any_op) -> !transform.any_op
    %dz = transform.get_producer_of_operand %dw[1] : (!transform.any_op) -> !transform.any_op
    %tx, %lx = transform.structured.fuse %dx tile_sizes [1, 0, 0, 0, 0, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %t1, %ln = transform.structured.tile_using_for %dw tile_sizes [0, 0, 0, 0, 1, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    // fuse_sibling needs identical loop bounds (the batch size as one SSA
    // value): the tile loops took it from tensor.dim of different tensors
    // (pads, the forward blocks' scf.forall results), which resolving the
    // dims and canonicalizing (tensor.dim of a forall result is the dim of
    // its shared output) traces back to one value.
    transform.apply_patterns to %func {
      transform.apply_patterns.memref.resolve_ranked_shaped_type_result_dims
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %func : !transform.any_op
    %loop = transform.loop.fuse_sibling %ln into %lx : (!transform.any_op, !transform.any_op) -> !transform.any_op
    %dz2, %loop2 = transform.structured.fuse_into_containing_op %dz into %loop : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.apply_patterns to %loop2 {
      transform.apply_patterns.tensor.fold_tensor_empty
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %loop2 : !transform.any_op
    %dzs = transform.structured.match ops{["linalg.generic"]} attributes{dlc.unpool} in %loop2 : (!transform.any_op) -> !transform.any_op
    transform.include @unpool_tiles failures(propagate) (%dzs) : (!transform.any_op) -> ()
    // dx's conv tiles first: @filter_grad_tiles vectorizes whatever is left
    // in the loop, dx's zero fill included, which @schedule_conv must fuse.
    %dxt = transform.structured.match ops{["linalg.conv_2d_nhwc_hwcf"]} in %loop2 : (!transform.any_op) -> !transform.any_op
    transform.include @schedule_conv failures(propagate) (%dxt, %ow, %fx) : (!transform.any_op, !transform.param<i64>, !transform.param<i64>) -> ()
    %dwt = transform.structured.match ops{["linalg.generic"]} attributes{dlc.conv_filter_grad} in %loop2 : (!transform.any_op) -> !transform.any_op
    transform.include @filter_grad_tiles failures(propagate) (%dwt, %loop2, %j, %c, %f) : (!transform.any_op, !transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> ()
    transform.yield
  }

  // @schedule_conv_block_backward_dx, the images in groups (as
  // @schedule_conv_block_backward_grouped): %dw and %dx are one group's, in
  // the scf.forall %forall.
  transform.named_sequence @schedule_conv_block_backward_dx_grouped(%dw: !transform.any_op {transform.consumed}, %dx: !transform.any_op {transform.consumed}, %forall: !transform.any_op {transform.readonly}, %j: !transform.param<i64> {transform.readonly}, %c: !transform.param<i64> {transform.readonly}, %f: !transform.param<i64> {transform.readonly}, %ow: !transform.param<i64> {transform.readonly}, %fx: !transform.param<i64> {transform.readonly}) {
    %slice = transform.get_producer_of_operand %dw[1] : (!transform.any_op) -> !transform.any_op
    %dz = transform.get_producer_of_operand %slice[0] : (!transform.any_op) -> !transform.any_op
    %dzf, %forall2 = transform.structured.fuse_into_containing_op %dz into %forall : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @schedule_conv_block_backward_dx failures(propagate) (%dw, %dx, %j, %c, %f, %ow, %fx) : (!transform.any_op, !transform.any_op, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>, !transform.param<i64>) -> ()
    transform.yield
  }

  // The matmul forms, matched here. (Convolutions, filter gradients and
  // elementwise ops need tile sizes computed from their shapes:
  // dl-cpu-schedule calls @schedule_conv, @schedule_filter_grad,
  // @schedule_elementwise_<rank> and @vectorize on each of them with those
  // sizes as parameters, before this sequence runs.)
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %p256 = transform.param.constant 256 : i64 -> !transform.param<i64>
    %rg1 = transform.structured.match ops{["linalg.generic"]} attributes{dlc.ragged_m} in %root : (!transform.any_op) -> !transform.any_op
    %mnkd = transform.collect_matching @match_mnk in %rg1 : (!transform.any_op) -> !transform.any_op
    transform.foreach %mnkd : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @schedule_mnk_ragged failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    %mnk = transform.collect_matching @match_mnk_static in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %mnk : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @schedule_mnk failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    %rg4 = transform.structured.match ops{["linalg.generic"]} attributes{dlc.ragged_m} in %root : (!transform.any_op) -> !transform.any_op
    %dkr = transform.collect_matching @match_mkn_dynk in %rg4 : (!transform.any_op) -> !transform.any_op
    transform.foreach %dkr : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @schedule_kblocked_ragged failures(propagate) (%x, %p256) : (!transform.any_op, !transform.param<i64>) -> ()
    }
    %rg3 = transform.structured.match ops{["linalg.generic"]} attributes{dlc.ragged_m} in %root : (!transform.any_op) -> !transform.any_op
    %mknd = transform.collect_matching @match_mkn in %rg3 : (!transform.any_op) -> !transform.any_op
    transform.foreach %mknd : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @schedule_mkn_ragged failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    %mkn = transform.collect_matching @match_mkn_static in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %mkn : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @schedule_mkn failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    %rg5 = transform.structured.match ops{["linalg.generic"]} attributes{dlc.ragged_m} in %root : (!transform.any_op) -> !transform.any_op
    %narrowd = transform.collect_matching @match_mkn_narrow in %rg5 : (!transform.any_op) -> !transform.any_op
    transform.foreach %narrowd : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @schedule_mkn_narrow_ragged failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    %narrow = transform.collect_matching @match_mkn_narrow in %root : (!transform.any_op) -> !transform.any_op
    transform.foreach %narrow : !transform.any_op {
    ^bb0(%x: !transform.any_op):
      transform.include @schedule_mkn_narrow failures(propagate) (%x) : (!transform.any_op) -> ()
    }
    transform.yield
  }
}
