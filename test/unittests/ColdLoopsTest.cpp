//===- ColdLoopsTest.cpp - which loops LLVM may not unroll ------------------===//
//
// cpu::keepColdLoopsRolled marks `llvm.loop.unroll.disable` on the loops of
// more than kMaxUnrolledTrips known iterations that have no reassociable
// floating-point op and no max or min, and leaves the rest (short loops,
// loops of unknown length, the contractions' reassociating loops, max
// reductions) to LLVM's unroller. Then
// LLVM's -O3 must keep the marked loop a loop and may still unroll a short
// one completely.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/HostCode.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"

#include "gtest/gtest.h"

#include <string>

using namespace dlc;

namespace {

/// `@NAME(ptr %p, ptr %q, i64 %n)`: one loop of `bound` iterations in the
/// form MLIR's scf.for lowering gives (a header that tests the induction
/// variable, a body, a latch back to the header), whose body computes
/// %acc' = `op` from %acc, %x = p[i] and %y = q[i].
std::string loopFunction(const std::string &name, const std::string &bound,
                         const std::string &init, const std::string &op) {
  return "define float @" + name + R"((ptr %p, ptr %q, i64 %n) {
entry:
  br label %header
header:
  %i = phi i64 [ 0, %entry ], [ %next, %body ]
  %acc = phi float [ )" + init + R"(, %entry ], [ %acc2, %body ]
  %more = icmp slt i64 %i, )" + bound + R"(
  br i1 %more, label %body, label %exit
body:
  %a = getelementptr float, ptr %p, i64 %i
  %b = getelementptr float, ptr %q, i64 %i
  %x = load float, ptr %a
  %y = load float, ptr %b
  %acc2 = )" + op + R"(
  %next = add i64 %i, 1
  br label %header
exit:
  ret float %acc
}
)";
}

/// `@sum` adds 800 floats in order (a gradient's partial sums); `@dot` is
/// the same loop with a reassociable multiply-add (a contraction);
/// `@largest` their max; `@short` adds 4 floats; `@dynamic` %n.
std::string moduleIR() {
  return loopFunction("sum", "800", "0.0", "fadd float %acc, %x") +
         loopFunction("dot", "800", "0.0",
                      "call reassoc contract float @llvm.fmuladd.f32(float %x, float %y, "
                      "float %acc)") +
         loopFunction("largest", "800", "0xFFF0000000000000",
                      "call float @llvm.maxnum.f32(float %x, float %acc)") +
         loopFunction("short", "4", "0.0", "fadd float %acc, %x") +
         loopFunction("dynamic", "%n", "0.0", "fadd float %acc, %x");
}

/// `@NAME(ptr %p)`: three nested loops (8, 8 and 800 iterations) that add
/// up p[k], in scf.for's form; `void` so the sums only go to memory.
std::string nestFunction(const std::string &name) {
  return "define void @\"" + name + R"("(ptr %p) {
entry:
  br label %h1
h1:
  %i = phi i64 [ 0, %entry ], [ %i2, %l1 ]
  %c1 = icmp slt i64 %i, 8
  br i1 %c1, label %b1, label %exit
b1:
  br label %h2
h2:
  %j = phi i64 [ 0, %b1 ], [ %j2, %l2 ]
  %c2 = icmp slt i64 %j, 8
  br i1 %c2, label %b2, label %l1
b2:
  br label %h3
h3:
  %k = phi i64 [ 0, %b2 ], [ %k2, %b3 ]
  %acc = phi float [ 0.0, %b2 ], [ %acc2, %b3 ]
  %c3 = icmp slt i64 %k, 800
  br i1 %c3, label %b3, label %l2
b3:
  %a = getelementptr float, ptr %p, i64 %k
  %x = load float, ptr %a
  %acc2 = fadd float %acc, %x
  %k2 = add i64 %k, 1
  br label %h3
l2:
  %o = getelementptr float, ptr %p, i64 %j
  store float %acc, ptr %o
  %j2 = add i64 %j, 1
  br label %h2
l1:
  %i2 = add i64 %i, 1
  br label %h1
exit:
  ret void
}
)";
}

std::unique_ptr<llvm::Module> parse(llvm::LLVMContext &ctx, const std::string &ir = moduleIR()) {
  llvm::SMDiagnostic error;
  auto module = llvm::parseAssemblyString(ir, error, ctx);
  EXPECT_TRUE(module) << error.getMessage().str();
  return module;
}

/// The branches of `f` whose loop metadata has `llvm.loop.unroll.disable`.
size_t markedLoops(const llvm::Function &f) {
  size_t n = 0;
  for (const llvm::BasicBlock &block : f)
    if (const llvm::MDNode *id = block.getTerminator()->getMetadata(llvm::LLVMContext::MD_loop))
      for (const llvm::MDOperand &op : id->operands())
        if (const auto *node = llvm::dyn_cast<llvm::MDNode>(op.get()))
          if (const auto *name = llvm::dyn_cast<llvm::MDString>(node->getOperand(0).get()))
            n += name->getString() == "llvm.loop.unroll.disable";
  return n;
}

/// Whether a branch of `f` carries loop metadata with `llvm.loop.unroll.disable`.
bool markedRolled(const llvm::Function &f) { return markedLoops(f) != 0; }

size_t countOps(const llvm::Function &f, unsigned opcode) {
  size_t n = 0;
  for (const llvm::BasicBlock &block : f)
    for (const llvm::Instruction &inst : block)
      n += inst.getOpcode() == opcode;
  return n;
}

TEST(ColdLoopsTest, MarksLongLoopsThatDoNotReassociate) {
  llvm::LLVMContext ctx;
  auto module = parse(ctx);
  ASSERT_TRUE(module);
  static_assert(cpu::kMaxUnrolledTrips == 4, "@short runs kMaxUnrolledTrips iterations");
  cpu::keepColdLoopsRolled(*module);
  EXPECT_TRUE(markedRolled(*module->getFunction("sum")));
  EXPECT_FALSE(markedRolled(*module->getFunction("dot")));
  EXPECT_FALSE(markedRolled(*module->getFunction("largest")));
  EXPECT_FALSE(markedRolled(*module->getFunction("short")));
  EXPECT_FALSE(markedRolled(*module->getFunction("dynamic")));
}

// In a parallel region's body the loops deeper than kMaxRegionDepth (the
// kernels' hot copies) stay LLVM's to unroll; elsewhere every level is cold.
TEST(ColdLoopsTest, RegionsKeepTheirInnerLoops) {
  llvm::LLVMContext ctx;
  auto module = parse(ctx, nestFunction("step") + nestFunction("step..omp_par.3"));
  ASSERT_TRUE(module);
  static_assert(cpu::kMaxRegionDepth == 2, "the nest is one level deeper");
  cpu::keepColdLoopsRolled(*module);
  EXPECT_EQ(markedLoops(*module->getFunction("step")), 3u);
  EXPECT_EQ(markedLoops(*module->getFunction("step..omp_par.3")), 2u);
}

TEST(ColdLoopsTest, OptimizerKeepsMarkedLoopsRolled) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::LLVMContext ctx;
  auto module = parse(ctx);
  ASSERT_TRUE(module);
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  ASSERT_TRUE(bool(builder));
  auto tm = builder->createTargetMachine();
  ASSERT_TRUE(bool(tm));
  module->setDataLayout((*tm)->createDataLayout());
  module->setTargetTriple((*tm)->getTargetTriple());
  cpu::keepColdLoopsRolled(*module);
  ASSERT_FALSE(bool(mlir::makeOptimizingTransformer(3, 0, tm->get())(module.get())));
  // The in-order sum of 800 floats stays one add in a loop (unmarked, -O3
  // unrolls it 32 times on an AVX-512 host). The 4-float sum becomes
  // straight-line code.
  EXPECT_EQ(countOps(*module->getFunction("sum"), llvm::Instruction::FAdd), 1u);
  EXPECT_EQ(countOps(*module->getFunction("short"), llvm::Instruction::FAdd), 4u);
  EXPECT_TRUE(markedRolled(*module->getFunction("sum")));
}

} // namespace
