//===- Contracts.h - names that cross the compiler's layers -----*- C++ -*-===//
//
// Every attribute, role, entry-point, symbol and JSON key name that one layer
// writes and another reads, in one place. The runtime includes it too, so it
// holds plain `char` arrays: no MLIR, no LLVM. Each name says who writes it
// and who reads it; renaming one here renames it everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CONTRACTS_H
#define DLC_RUNTIME_CONTRACTS_H

namespace dlc::contract {

//===----------------------------------------------------------------------===//
// Function argument and result attributes (verified by the dl dialect)
//===----------------------------------------------------------------------===//

/// The prefix of every attribute the dl dialect owns; the dialect verifier
/// rejects unknown ones.
inline constexpr char kDialectAttrPrefix[] = "dl.";
/// Argument attribute naming the `dl.input` an argument feeds (a symbol
/// reference). Written by MLIRGen; read by DeriveGradients, BuildTrainStep,
/// Compiler.cpp (the run entry and the model spec) and the verifier.
inline constexpr char kInputAttr[] = "dl.input";
/// Argument attribute naming the `dl.param` an argument holds (a symbol
/// reference). Written by MLIRGen; read by DeriveGradients, BuildTrainStep,
/// Compiler.cpp and the verifier.
inline constexpr char kParamAttr[] = "dl.param";
/// Argument attribute of an optimizer state slot of @train_step (a string,
/// `opt.PARAM.SLOT`). Written by BuildTrainStep; read by Compiler.cpp.
inline constexpr char kStateAttr[] = "dl.state";
/// Argument attribute (unit) of @train_step's 1-based step number. Written by
/// BuildTrainStep; read by Compiler.cpp.
inline constexpr char kStepAttr[] = "dl.step";
/// Argument attribute (unit) of @train_step's dropout seed. Written by
/// BuildTrainStep; read by Compiler.cpp (the argument that has no other
/// attribute).
inline constexpr char kSeedAttr[] = "dl.seed";
/// Argument attribute of @apply: the gradient of the param it names (a
/// string). Written by BuildTrainStep; read by Compiler.cpp.
inline constexpr char kGradAttr[] = "dl.grad";
/// Argument attribute (unit) of @grad's batch offset: the index of the first
/// fed row in the global batch, which dropout masks count from. Written by
/// BuildTrainStep; read by Compiler.cpp.
inline constexpr char kBatchOffsetAttr[] = "dl.batch_offset";
/// Result attribute: what a result is (one of the role values below).
/// Written by MLIRGen, DeriveGradients and BuildTrainStep; read by them, by
/// Compiler.cpp and by JIT.cpp.
inline constexpr char kRoleAttr[] = "dl.role";
/// Result attribute: the user-visible name of a result (a string). Written by
/// MLIRGen, DeriveGradients and BuildTrainStep; read by BuildTrainStep and
/// Compiler.cpp.
inline constexpr char kNameAttr[] = "dl.name";
/// Function attribute of an entry point built with --check-numerics: what
/// each check of its `numerics` result watches, in order (an array of
/// dictionaries {op = "dl.log", loc = LOCATION}). Written by CheckNumerics;
/// read by Compiler.cpp (the entry's checks in the model spec). Not a dl
/// attribute: the dl dialect verifies those.
inline constexpr char kNumericsChecksAttr[] = "dlc.numerics_checks";
/// Operation attribute: the device a `device NAME { ... }` block pinned the
/// op to ("cpu", "cuda:N"); dl-place checks it against the run's device.
inline constexpr char kDeviceAttr[] = "dl.device";
/// Location metadata (of a FusedLoc) on an op pinned to the CPU in a step
/// that runs on a GPU. Every op lowered from it, its gradient's included,
/// keeps the op's location inside its own, so each stage can tell where it
/// runs. Written by dl-place; read by the fusion passes (which fuse nothing
/// across devices) and the CUDA target (which runs these ops on the host).
inline constexpr char kOnHostMark[] = "dl.on_host";

//===----------------------------------------------------------------------===//
// Linalg markers
//===----------------------------------------------------------------------===//

/// Unit attribute on a linalg.generic that is a matmul. Written by
/// convert-dl-to-linalg; read by dl-fuse-elementwise and dl-cpu-schedule.
inline constexpr char kMatmulMarker[] = "dlc.matmul";
/// Unit attribute on a linalg.generic that is a convolution's filter
/// gradient. Written by convert-dl-to-linalg; read by dl-cpu-schedule.
inline constexpr char kConvFilterGradMarker[] = "dlc.conv_filter_grad";
/// Unit attribute on the bias + activation generic of a fused convolution
/// block. Written by convert-dl-to-linalg; read by dl-fuse-elementwise (which
/// leaves it alone) and dl-cpu-schedule (which fuses the block's tiles).
inline constexpr char kFusedActMarker[] = "dlc.fused_act";
/// Unit attribute on the max pool that ends a fused convolution block (the
/// root of its tiles). Written and read as kFusedActMarker.
inline constexpr char kFusedPoolMarker[] = "dlc.fused_pool";
/// Unit attribute on the unpooled gradient of a fused block (computed an
/// image at a time inside the filter gradient). Written and read as
/// kFusedActMarker.
inline constexpr char kUnpoolMarker[] = "dlc.unpool";
/// Unit attribute on a loop over 32-column panels of a large matrix.
/// Written by the CPU schedule (CPUSchedule.mlir); read by
/// dl-prefetch-panels.
inline constexpr char kPanelLoopMarker[] = "dlc.panel_loop";
/// Unit attribute on a matmul whose rows do not divide into register tiles.
/// Written and read by dl-cpu-schedule (CPUSchedule.mlir matches it).
inline constexpr char kRaggedRowsMarker[] = "dlc.ragged_m";
/// A kernel function of dl-outline-kernels: a loop nest of a step moved into
/// a function of its own, shared by every nest that is the same.
inline constexpr char kKernelMarker[] = "dlc.kernel";
/// Function attribute (dense i64 array, one per result): the argument a
/// result is written into, or -1 (@train_step's and @apply's updated params
/// and state). Written by convert-dl-to-linalg; read by the CPU target's
/// dl-update-in-place and dl-drop-in-place-results (which drops it).
inline constexpr char kInPlaceResultsAttr[] = "dlc.in_place_results";

//===----------------------------------------------------------------------===//
// Roles (values of `dl.role`, and of runtime::ValueSpec::role)
//===----------------------------------------------------------------------===//

/// The scalar training minimises. Written by MLIRGen; read by
/// DeriveGradients, JIT.cpp and the runtime's Trainer.
inline constexpr char kRoleLoss[] = "loss";
/// A reported scalar. Written by MLIRGen; read by DeriveGradients and the
/// Trainer.
inline constexpr char kRoleMetric[] = "metric";
/// A value `dlc run` prints. Written by MLIRGen; read by the Trainer and
/// dlc-rt.
inline constexpr char kRoleOutput[] = "output";
/// A param's gradient in @graph_grad. Written by DeriveGradients; read by
/// BuildTrainStep.
inline constexpr char kRoleGrad[] = "grad";
/// An updated param (result of @train_step) or a param argument (model
/// spec). Written by BuildTrainStep and Compiler.cpp; read by the Trainer.
inline constexpr char kRoleParam[] = "param";
/// An optimizer state slot (argument or result of @train_step). Written by
/// BuildTrainStep and Compiler.cpp; read by the Trainer.
inline constexpr char kRoleState[] = "state";
/// A fed input argument in the model spec. Written by Compiler.cpp; read by
/// the Executable, the Trainer and dlc-rt.
inline constexpr char kRoleInput[] = "input";
/// The step-number argument in the model spec. Written by Compiler.cpp; read
/// by the Trainer.
inline constexpr char kRoleStep[] = "step";
/// The dropout-seed argument in the model spec. Written by Compiler.cpp; read
/// by the Executable.
inline constexpr char kRoleSeed[] = "seed";

/// A gradient argument of @apply in the model spec (its name is the
/// param's). Written by Compiler.cpp; read by the Trainer.
inline constexpr char kRoleGradArg[] = "grad";
/// The batch-offset argument of @grad in the model spec. Written by
/// Compiler.cpp; read by the Trainer.
inline constexpr char kRoleBatchOffset[] = "batch_offset";

/// The global norm of a step's gradients (sqrt of the sum of the squares of
/// every trained param's gradient, before the update), a result of
/// @train_step and @apply. Written by BuildTrainStep; read by the Trainer,
/// which logs it.
inline constexpr char kRoleGradNorm[] = "grad_norm";

/// With --check-numerics, the last result of every entry point: the 1-based
/// index in the entry's checks (kNumericsChecksAttr) of the first checked
/// value that held a NaN or an infinity, or one past the last check when
/// none did (an f32 scalar). Written by CheckNumerics; read by the
/// Executable, which turns it into an error at the op's line.
inline constexpr char kRoleNumerics[] = "numerics";

/// The values `dl.role` may take on a function result.
inline constexpr const char *kResultRoles[] = {
    kRoleLoss, kRoleMetric, kRoleOutput, kRoleGrad, kRoleParam, kRoleState,
    kRoleGradNorm, kRoleNumerics};

//===----------------------------------------------------------------------===//
// Entry points and symbols
//===----------------------------------------------------------------------===//

/// The function holding a model's computation. Written by MLIRGen; read by
/// DeriveGradients, BuildEval, BuildTrainStep, Compiler.cpp and JIT.cpp.
inline constexpr char kGraphEntry[] = "graph";
/// @graph with the gradients of the loss. Written by DeriveGradients; read
/// by BuildTrainStep and JIT.cpp.
inline constexpr char kGraphGradEntry[] = "graph_grad";
/// One optimizer step. Written by BuildTrainStep; read by JIT.cpp, the
/// Trainer and dlc-rt.
inline constexpr char kTrainStepEntry[] = "train_step";
/// Data-parallel training's half steps (built only when asked for): @grad
/// is @train_step up to the gradients (results: the gradients, role
/// "grad", then the loss and metrics), @apply the optimizer update of
/// summed gradients (results: the params and state). Written by
/// BuildTrainStep; read by JIT.cpp and the Trainer.
inline constexpr char kGradEntry[] = "grad";
inline constexpr char kApplyEntry[] = "apply";
/// The loss and metrics of a batch without training. Written by BuildEval;
/// read by BuildTrainStep, JIT.cpp and the Trainer.
inline constexpr char kEvalEntry[] = "eval";
/// The outputs of fed inputs. Written by Compiler.cpp; read by JIT.cpp and
/// dlc-rt.
inline constexpr char kRunEntry[] = "run";
/// The prefix of the packed wrapper `void dlc_NAME(void **args)` of each
/// entry. Written by the CPU target; read by the runtime's Executable.
inline constexpr char kEntryWrapperPrefix[] = "dlc_";
/// The symbol of the JSON model spec in an AOT module. Written by the CPU
/// target; read by the runtime's Executable.
inline constexpr char kModelSpecSymbol[] = "dlc_model_spec";
/// What compiled CPU code calls for its buffers instead of aligned_alloc
/// (same arguments; freed with free()): runtime/Parallel.h.
inline constexpr char kAllocFunction[] = "dlc_aligned_alloc";
/// What compiled CPU code calls instead of free, so that the runtime knows
/// which of a call's buffers are still live when the call fails.
inline constexpr char kFreeFunction[] = "dlc_free";

//===----------------------------------------------------------------------===//
// Model-spec JSON keys (runtime::ModelSpec::toJSON writes, fromJSON reads)
//===----------------------------------------------------------------------===//

namespace modelspec {
/// Model, input, param and entry name; a value's name.
inline constexpr char kName[] = "name";
/// The model's source file.
inline constexpr char kFile[] = "file";
/// Where the compiled code runs ("cpu", "cuda"): which memory its buffers
/// must be in (absent: "cpu").
inline constexpr char kDevice[] = "device";
/// How many shares per thread the module's parallel regions may be cut into
/// (ModelSpec::regionShares; absent: 1).
inline constexpr char kRegionShares[] = "region_shares";
} // namespace modelspec

/// The shares per thread of a CPU module whose parallel regions have no
/// barrier: a batch of 50 examples in 8 shares on 2 threads runs as 25 + 25
/// examples whichever thread is late.
inline constexpr int kRegionSharesPerThread = 4;
/// The most a model description may ask for.
inline constexpr int kMaxRegionShares = 64;

/// The devices a module's code runs on (ModelSpec::device).
inline constexpr char kDeviceCPU[] = "cpu";
inline constexpr char kDeviceCUDA[] = "cuda";

namespace modelspec {
/// The lists of inputs, params, data sources and entries.
inline constexpr char kInputs[] = "inputs";
inline constexpr char kParams[] = "params";
inline constexpr char kData[] = "data";
inline constexpr char kEntries[] = "entries";
/// The training configuration object.
inline constexpr char kTrain[] = "train";
/// A value's element type ("f32" or "i32"), shape and dimension symbols.
inline constexpr char kDType[] = "dtype";
inline constexpr char kShape[] = "shape";
inline constexpr char kDims[] = "dims";
inline constexpr char kClasses[] = "classes";
/// A source location, `[file, line, col]`.
inline constexpr char kLoc[] = "loc";
/// A param's initializer name and literal value.
inline constexpr char kInit[] = "init";
inline constexpr char kLiteral[] = "literal";
/// A param's initializer arguments, the optimizer's arguments, an entry's
/// arguments.
inline constexpr char kArgs[] = "args";
/// A data source's set, input, kind, path, scale and literal shape.
inline constexpr char kSet[] = "set";
inline constexpr char kInput[] = "input";
inline constexpr char kKind[] = "kind";
inline constexpr char kPath[] = "path";
inline constexpr char kScale[] = "scale";
inline constexpr char kLiteralShape[] = "literal_shape";
/// The training configuration's keys.
inline constexpr char kOptimizer[] = "optimizer";
inline constexpr char kValidation[] = "validation";
inline constexpr char kLogEvery[] = "log_every";
inline constexpr char kSeed[] = "seed";
inline constexpr char kFreeze[] = "freeze";
inline constexpr char kBatch[] = "batch";
inline constexpr char kSteps[] = "steps";
inline constexpr char kEpochs[] = "epochs";
inline constexpr char kEvalEvery[] = "eval_every";
inline constexpr char kShuffle[] = "shuffle";
/// The model's graph (runtime::GraphNode): its nodes' op, result types and
/// shapes, attributes, and whether they are fused ops or frozen params (the
/// node's name, inputs and loc use the keys above).
inline constexpr char kGraph[] = "graph";
inline constexpr char kOp[] = "op";
inline constexpr char kTypes[] = "types";
inline constexpr char kShapes[] = "shapes";
inline constexpr char kAttrs[] = "attrs";
inline constexpr char kFused[] = "fused";
inline constexpr char kFrozen[] = "frozen";
/// An entry's results and a value's role.
inline constexpr char kResults[] = "results";
inline constexpr char kRole[] = "role";
/// An entry's numerics checks (--check-numerics): each one's op, part of
/// the step and loc.
inline constexpr char kChecks[] = "checks";
inline constexpr char kPart[] = "part";
/// An entry that writes its updated params and state into the arguments of
/// the same name (true; absent: false, a fresh buffer per result).
inline constexpr char kInPlace[] = "in_place";
} // namespace modelspec

} // namespace dlc::contract

#endif // DLC_RUNTIME_CONTRACTS_H
