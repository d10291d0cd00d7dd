// RUN: dlc-opt --dl-outline-kernels %s | FileCheck %s

// Two layers that are the same loop nest on different buffers share one
// kernel. The values a nest uses become the kernel's arguments in the order
// of first use, but constants (cloned in) and the nest's own stack buffer
// (moved in). A nest that the function has once (another constant) stays
// where it is.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[X:.+]]: memref<?x64xf32>, %[[Y:.+]]: memref<?x64xf32>, %[[Z:.+]]: memref<?x64xf32>, %[[N:.+]]: index)
// CHECK-NOT: memref.alloca() : memref<16xf32>
// CHECK: call @[[RELU:dlc_kernel[_0-9]*]](%[[N]], %[[X]], %[[Y]])
// CHECK-NEXT: call @[[RELU]](%[[N]], %[[Y]], %[[Z]])
// CHECK-NEXT: scf.for
// CHECK: arith.addf
// CHECK: return
// CHECK: func.func private @[[RELU]](%{{.+}}: index, %{{.+}}: memref<?x64xf32>, %{{.+}}: memref<?x64xf32>)
// CHECK-SAME: attributes {dlc.kernel, llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK-DAG: arith.constant 0.000000e+00 : f32
// CHECK-DAG: memref.alloca() : memref<16xf32>
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK-NOT: func.func private @dlc_kernel
func.func @step(%x: memref<?x64xf32>, %y: memref<?x64xf32>, %z: memref<?x64xf32>, %n: index) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %scratch = memref.alloca() : memref<16xf32>
  %scratch2 = memref.alloca() : memref<16xf32>
  %shared = memref.alloca() : memref<f32>
  scf.for %i = %c0 to %n step %c1 {
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %x[%i, %j] : memref<?x64xf32>
      %r = arith.maximumf %v, %zero : f32
      memref.store %r, %scratch[%c0] : memref<16xf32>
      memref.store %r, %y[%i, %j] : memref<?x64xf32>
    }
  }
  scf.for %i = %c0 to %n step %c1 {
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %y[%i, %j] : memref<?x64xf32>
      %r = arith.maximumf %v, %zero : f32
      memref.store %r, %scratch2[%c0] : memref<16xf32>
      memref.store %r, %z[%i, %j] : memref<?x64xf32>
    }
  }
  scf.for %i = %c0 to %n step %c1 {
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %z[%i, %j] : memref<?x64xf32>
      %r = arith.addf %v, %one : f32
      memref.store %r, %x[%i, %j] : memref<?x64xf32>
      memref.store %r, %shared[] : memref<f32>
    }
  }
  %s = memref.load %shared[] : memref<f32>
  return %s : f32
}
