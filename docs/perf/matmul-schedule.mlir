module attributes {transform.with_named_sequence} {
  // (m,k,n) matmul: A(d0,d1)|A^T, B(d1,d2), C(d0,d2)
  transform.named_sequence @m_mkn(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
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
    }
    transform.yield %op : !transform.any_op
  }
  transform.named_sequence @m_dynm(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    transform.match.operation_name %op ["linalg.generic"] : !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %d = transform.match.structured.dim %s[0] : (!transform.any_op) -> !transform.param<i64>
      %z = transform.param.constant 0 : i64 -> !transform.param<i64>
      transform.match.param.cmpi lt %d, %z : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }
  transform.named_sequence @m_mkn_dynk(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    %x = transform.include @m_mkn failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %k = transform.match.structured.dim %s[1] : (!transform.any_op) -> !transform.param<i64>
      %z = transform.param.constant 0 : i64 -> !transform.param<i64>
      transform.match.param.cmpi lt %k, %z : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }
  transform.named_sequence @m_mkn_bigk(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    %x = transform.include @m_mkn failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %k = transform.match.structured.dim %s[1] : (!transform.any_op) -> !transform.param<i64>
      %t = transform.param.constant 1024 : i64 -> !transform.param<i64>
      transform.match.param.cmpi gt %k, %t : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }
  transform.named_sequence @m_mkn_midk(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    %x = transform.include @m_mkn failures(propagate) (%op) : (!transform.any_op) -> !transform.any_op
    transform.match.structured %op : !transform.any_op {
    ^bb0(%s: !transform.any_op):
      %k = transform.match.structured.dim %s[1] : (!transform.any_op) -> !transform.param<i64>
      %z = transform.param.constant 0 : i64 -> !transform.param<i64>
      %t = transform.param.constant 1024 : i64 -> !transform.param<i64>
      transform.match.param.cmpi ge %k, %z : !transform.param<i64>
      transform.match.param.cmpi le %k, %t : !transform.param<i64>
    }
    transform.yield %op : !transform.any_op
  }
  transform.named_sequence @a_mkn_midk(%op: !transform.any_op {transform.consumed}) -> !transform.any_op {
    %i0 = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %i = transform.cast %i0 : !transform.any_op to !transform.any_op
    %t, %lo, %li = transform.structured.fuse %i tile_sizes [8, 32, 0] interchange [1, 0, 2] {apply_cleanup} : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %lm = transform.cast %li : !transform.any_op to !transform.op<"scf.for">
    transform.sequence %lm : !transform.op<"scf.for"> failures(suppress) {
    ^bb0(%l: !transform.op<"scf.for">):
      %a, %b = transform.loop.peel %l : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)
    }
    transform.yield %lo : !transform.any_op
  }
  transform.named_sequence @a_mkn_dynk(%op: !transform.any_op {transform.consumed}) -> !transform.any_op {
    %i0 = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %i = transform.cast %i0 : !transform.any_op to !transform.any_op
    %t, %lo, %li = transform.structured.fuse %i tile_sizes [8, 32, 0] interchange [0, 1, 2] {apply_cleanup} : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %lm = transform.cast %lo : !transform.any_op to !transform.op<"scf.for">
    transform.sequence %lm : !transform.op<"scf.for"> failures(suppress) {
    ^bb0(%l: !transform.op<"scf.for">):
      %a, %b = transform.loop.peel %l : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)
    }
    transform.yield %lo : !transform.any_op
  }
  transform.named_sequence @a_mkn_bigk(%op: !transform.any_op {transform.consumed}) -> !transform.any_op {
    %i0 = transform.structured.interchange %op iterator_interchange = [0, 2, 1] : (!transform.any_op) -> !transform.any_op
    %i, %outer = transform.structured.tile_using_for %i0 tile_sizes [0, 0, 256] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %t, %lo, %li = transform.structured.fuse %i tile_sizes [8, 32, 0] interchange [1, 0, 2] {apply_cleanup} : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %lm = transform.cast %li : !transform.any_op to !transform.op<"scf.for">
    transform.sequence %lm : !transform.op<"scf.for"> failures(suppress) {
    ^bb0(%l: !transform.op<"scf.for">):
      %a, %b = transform.loop.peel %l : (!transform.op<"scf.for">) -> (!transform.any_op, !transform.any_op)
    }
    transform.yield %outer : !transform.any_op
  }
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.consumed}) {
    %mm = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %root : (!transform.any_op) -> !transform.any_op
    %fn = transform.get_parent_op %mm {op_name = "func.func", deduplicate} : (!transform.any_op) -> !transform.any_op
    %L = transform.foreach %mm : !transform.any_op -> !transform.any_op {
    ^bb0(%op: !transform.any_op):
      %k1 = transform.collect_matching @m_mkn_midk in %op : (!transform.any_op) -> !transform.any_op
      %k2 = transform.collect_matching @m_mkn_dynk in %op : (!transform.any_op) -> !transform.any_op
      %k3 = transform.collect_matching @m_mkn_bigk in %op : (!transform.any_op) -> !transform.any_op
      %l1 = transform.foreach %k1 : !transform.any_op -> !transform.any_op {
      ^bb1(%x: !transform.any_op):
        %r = transform.include @a_mkn_midk failures(propagate) (%x) : (!transform.any_op) -> !transform.any_op
        transform.yield %r : !transform.any_op
      }
      %l2 = transform.foreach %k2 : !transform.any_op -> !transform.any_op {
      ^bb1(%x: !transform.any_op):
        %r = transform.include @a_mkn_dynk failures(propagate) (%x) : (!transform.any_op) -> !transform.any_op
        transform.yield %r : !transform.any_op
      }
      %l3 = transform.foreach %k3 : !transform.any_op -> !transform.any_op {
      ^bb1(%x: !transform.any_op):
        %r = transform.include @a_mkn_bigk failures(propagate) (%x) : (!transform.any_op) -> !transform.any_op
        transform.yield %r : !transform.any_op
      }
      %lall = transform.merge_handles %l1, %l2, %l3 : !transform.any_op
      transform.yield %lall : !transform.any_op
    }
    transform.apply_patterns to %fn {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %fn : !transform.any_op
    transform.foreach %L : !transform.any_op {
    ^bb0(%lp: !transform.any_op):
      // remainder tiles with dynamic m: tile m by 1
      %dyn = transform.collect_matching @m_dynm in %lp : (!transform.any_op) -> !transform.any_op
      %t1, %l1 = transform.structured.fuse %dyn tile_sizes [1, 0, 0] {apply_cleanup} : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
      %g = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %lp : (!transform.any_op) -> !transform.any_op
      %gt, %lk = transform.structured.tile_using_for %g tile_sizes [0, 0, 1] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    }
    transform.apply_patterns to %fn {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.foreach %L : !transform.any_op {
    ^bb0(%lp: !transform.any_op):
      %fills = transform.structured.match ops{["linalg.fill"]} in %lp : (!transform.any_op) -> !transform.any_op
      transform.structured.vectorize %fills : !transform.any_op
      %g2 = transform.structured.match ops{["linalg.generic"]} attributes{dlc.matmul} in %lp : (!transform.any_op) -> !transform.any_op
      transform.structured.vectorize %g2 : !transform.any_op
    }
    transform.apply_patterns to %fn {
      transform.apply_patterns.vector.reduction_to_contract
      transform.apply_patterns.vector.transfer_permutation_patterns
    } : !transform.any_op
    transform.apply_patterns to %fn {
      transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers
      transform.apply_patterns.tensor.fold_tensor_subset_ops
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %mod = transform.bufferization.one_shot_bufferize layout{IdentityLayoutMap} %root {bufferize_function_boundaries = true} : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %mod {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.vector.transfer_to_scf max_transfer_rank = 1 full_unroll = true
    } : !transform.any_op
    transform.apply_cse to %mod : !transform.any_op
    transform.apply_patterns to %mod { transform.apply_patterns.canonicalization } : !transform.any_op
    %m1 = transform.apply_registered_pass "fold-memref-alias-ops" to %mod : (!transform.any_op) -> !transform.any_op
    %m2 = transform.apply_registered_pass "canonicalize" to %m1 : (!transform.any_op) -> !transform.any_op
    %m3 = transform.apply_registered_pass "fold-memref-alias-ops" to %m2 : (!transform.any_op) -> !transform.any_op
    %m4 = transform.apply_registered_pass "canonicalize" to %m3 : (!transform.any_op) -> !transform.any_op
    transform.apply_cse to %m4 : !transform.any_op
    transform.apply_patterns to %m4 { transform.apply_patterns.canonicalization } : !transform.any_op
    %fb = transform.structured.match ops{["func.func"]} in %m4 : (!transform.any_op) -> !transform.any_op
    transform.foreach %fb : !transform.any_op {
    ^bb0(%f: !transform.any_op):
      %h = transform.structured.hoist_redundant_vector_transfers %f : (!transform.any_op) -> !transform.any_op
    }
    transform.apply_patterns to %m4 {
      transform.apply_patterns.vector.lower_transfer max_transfer_rank = 1
      transform.apply_patterns.vector.lower_broadcast
      transform.apply_patterns.vector.lower_shape_cast
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.yield
  }
}
