// RUN: dlc-opt %s -split-input-file -dl-strip-training-ops | FileCheck %s

// Dropout becomes the identity and the step seed it used dies.
// CHECK-LABEL: func.func @dropout
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>)
// CHECK-NOT: dl.dropout
// CHECK-NOT: dl.step_seed
// CHECK: %[[R:.+]] = dl.relu %[[X]]
// CHECK-NOT: dl.dropout
// CHECK: return %[[R]]
func.func @dropout(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %s = dl.step_seed : tensor<i64>
  %0 = dl.dropout %x, %s {rate = 0.5 : f64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  %1 = dl.relu %0 : (tensor<?x10xf32>) -> tensor<?x10xf32>
  %2 = dl.dropout %1, %s {rate = 0.2 : f64, salt = 1 : i64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  return %2 : tensor<?x10xf32>
}

// -----

// A step seed with other users stays; a seed passed as an argument is kept.
// CHECK-LABEL: func.func @seed_kept
// CHECK-SAME: (%[[X:.+]]: tensor<?x10xf32>, %[[SEED:.+]]: tensor<i64>)
// CHECK: %[[S:.+]] = dl.step_seed : tensor<i64>
// CHECK-NOT: dl.dropout
// CHECK: return %[[X]], %[[S]]
func.func @seed_kept(%x: tensor<?x10xf32>, %seed: tensor<i64>) -> (tensor<?x10xf32>, tensor<i64>) {
  %s = dl.step_seed : tensor<i64>
  %0 = dl.dropout %x, %seed {rate = 0.5 : f64} : (tensor<?x10xf32>, tensor<i64>) -> tensor<?x10xf32>
  return %0, %s : tensor<?x10xf32>, tensor<i64>
}

// -----

// Nothing to strip: the function is unchanged.
// CHECK-LABEL: func.func @no_dropout
// CHECK: %[[R:.+]] = dl.relu
// CHECK: return %[[R]]
func.func @no_dropout(%x: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %0 = dl.relu %x : (tensor<?x10xf32>) -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}
