// RUN: dlc-opt '--dl-outline-kernels=tensors=1' %s | FileCheck %s

// Before bufferization: two layers that are the same loop nest on
// different tensors share one kernel that returns the nest's tensor; two
// equal runs of straight-line vector code share one kernel that returns
// every value used after the run (a vector and the written tensor); a nest
// and a run that the function has once stay where they are.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[X:.+]]: tensor<?x64xf32>, %[[B:.+]]: tensor<64xf32>, %[[C:.+]]: tensor<64xf32>, %[[N:.+]]: index)
// CHECK: %[[E:.+]] = tensor.empty
// CHECK: %[[H1:.+]] = call @[[RELU:dlc_kernel[_0-9]*]](%[[N]], %[[E]], %[[X]])
// CHECK: %[[U1:.+]]:2 = call @[[SCALE:dlc_kernel[_0-9]*]](%[[B]])
// CHECK: %[[H2:.+]] = call @[[RELU]](%[[N]], %[[E]], %[[H1]])
// CHECK: %[[U2:.+]]:2 = call @[[SCALE]](%[[C]])
// CHECK: scf.for
// CHECK: arith.addf
// CHECK: vector.transfer_read %[[U1]]#1
// CHECK: math.sqrt
// CHECK: arith.addf %{{.+}}, %[[U1]]#0
// CHECK: arith.addf %{{.+}}, %[[U2]]#0
// CHECK: return %[[H2]], %{{.+}}, %[[U1]]#1, %[[U2]]#1,
// CHECK: func.func private @[[RELU]](%{{.+}}: index, %{{.+}}: tensor<?x64xf32>, %{{.+}}: tensor<?x64xf32>) -> tensor<?x64xf32>
// CHECK-SAME: attributes {dlc.kernel, llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK: func.func private @[[SCALE]](%{{.+}}: tensor<64xf32>) -> (vector<64xf32>, tensor<64xf32>)
// CHECK: arith.constant dense<2.000000e+00>
// CHECK: vector.transfer_read
// CHECK: arith.mulf
// CHECK: vector.transfer_write
// CHECK-NOT: func.func private @dlc_kernel
func.func @step(%x: tensor<?x64xf32>, %b: tensor<64xf32>, %c: tensor<64xf32>, %n: index)
    -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %two = arith.constant dense<2.0> : vector<64xf32>
  %pad = ub.poison : f32
  %e = tensor.empty(%n) : tensor<?x64xf32>
  %h1 = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %e) -> (tensor<?x64xf32>) {
    %v = vector.transfer_read %x[%i, %c0], %pad {in_bounds = [true]} : tensor<?x64xf32>, vector<64xf32>
    %z = vector.broadcast %zero : f32 to vector<64xf32>
    %r = arith.maximumf %v, %z : vector<64xf32>
    %w = vector.transfer_write %r, %acc[%i, %c0] {in_bounds = [true]} : vector<64xf32>, tensor<?x64xf32>
    scf.yield %w : tensor<?x64xf32>
  }
  %rb = vector.transfer_read %b[%c0], %pad {in_bounds = [true]} : tensor<64xf32>, vector<64xf32>
  %mb = arith.mulf %rb, %two : vector<64xf32>
  %sb = arith.mulf %mb, %mb : vector<64xf32>
  %wb = vector.transfer_write %sb, %b[%c0] {in_bounds = [true]} : vector<64xf32>, tensor<64xf32>
  %h2 = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %e) -> (tensor<?x64xf32>) {
    %v = vector.transfer_read %h1[%i, %c0], %pad {in_bounds = [true]} : tensor<?x64xf32>, vector<64xf32>
    %z = vector.broadcast %zero : f32 to vector<64xf32>
    %r = arith.maximumf %v, %z : vector<64xf32>
    %w = vector.transfer_write %r, %acc[%i, %c0] {in_bounds = [true]} : vector<64xf32>, tensor<?x64xf32>
    scf.yield %w : tensor<?x64xf32>
  }
  %rc = vector.transfer_read %c[%c0], %pad {in_bounds = [true]} : tensor<64xf32>, vector<64xf32>
  %mc = arith.mulf %rc, %two : vector<64xf32>
  %sc = arith.mulf %mc, %mc : vector<64xf32>
  %wc = vector.transfer_write %sc, %c[%c0] {in_bounds = [true]} : vector<64xf32>, tensor<64xf32>
  %once = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %e) -> (tensor<?x64xf32>) {
    %v = vector.transfer_read %h2[%i, %c0], %pad {in_bounds = [true]} : tensor<?x64xf32>, vector<64xf32>
    %o = vector.broadcast %one : f32 to vector<64xf32>
    %r = arith.addf %v, %o : vector<64xf32>
    %w = vector.transfer_write %r, %acc[%i, %c0] {in_bounds = [true]} : vector<64xf32>, tensor<?x64xf32>
    scf.yield %w : tensor<?x64xf32>
  }
  %rr = vector.transfer_read %wb[%c0], %pad {in_bounds = [true]} : tensor<64xf32>, vector<64xf32>
  %q = math.sqrt %rr : vector<64xf32>
  %s2 = arith.addf %q, %sb : vector<64xf32>
  %s3 = arith.addf %s2, %sc : vector<64xf32>
  return %h2, %once, %wb, %wc, %q, %s2, %s3 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>, vector<64xf32>, vector<64xf32>, vector<64xf32>
}
