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

std::unique_ptr<llvm::Module> parse(llvm::LLVMContext &ctx) {
  llvm::SMDiagnostic error;
  auto module = llvm::parseAssemblyString(moduleIR(), error, ctx);
  EXPECT_TRUE(module) << error.getMessage().str();
  return module;
}

/// Whether a branch of `f` carries loop metadata with `llvm.loop.unroll.disable`.
bool markedRolled(const llvm::Function &f) {
  for (const llvm::BasicBlock &block : f)
    if (const llvm::MDNode *id = block.getTerminator()->getMetadata(llvm::LLVMContext::MD_loop))
      for (const llvm::MDOperand &op : id->operands())
        if (const auto *node = llvm::dyn_cast<llvm::MDNode>(op.get()))
          if (const auto *name = llvm::dyn_cast<llvm::MDString>(node->getOperand(0).get()))
            if (name->getString() == "llvm.loop.unroll.disable")
              return true;
  return false;
}

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
