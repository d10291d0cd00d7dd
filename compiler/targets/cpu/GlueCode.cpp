//===- GlueCode.cpp - the entry points' glue, compiled without optimizing ---===//
//
// A deep model's entry point is mostly glue once LLVM has optimized it: a
// straight line of kernel calls, allocations, frees and descriptor fields
// (11,000 instructions for a 128-layer MLP's step), between a few loops the
// schedule left inline. The -O3 code generator spends on that line what it
// spends on hot code (instruction selection, the machine and post-RA
// schedulers, the greedy register allocator: half of that MLP's machine code
// time), for code that runs once a step. So the loops move to functions of
// their own, and what remains is compiled as -O0 compiles it.
//
//===----------------------------------------------------------------------===//

#include "compiler/targets/cpu/HostCode.h"

#include "llvm/Analysis/AssumptionCache.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/Scalar/ADCE.h"
#include "llvm/Transforms/Scalar/EarlyCSE.h"
#include "llvm/Transforms/Scalar/InstSimplifyPass.h"
#include "llvm/Transforms/Scalar/SimplifyCFG.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/CodeExtractor.h"
#include "llvm/Transforms/Utils/LoopSimplify.h"
#include "llvm/Transforms/Utils/ValueMapper.h"

using namespace dlc;

namespace {

/// The most instructions a basic block of the glue has (splitGlue).
constexpr unsigned kGlueBlock = 64;

/// The instructions of `f` outside its loops.
size_t instructionsOutsideLoops(llvm::Function &f) {
  llvm::DominatorTree dominators(f);
  llvm::LoopInfo loops(dominators);
  size_t count = 0;
  for (llvm::BasicBlock &block : f)
    if (!loops.getLoopFor(&block))
      count += block.size();
  return count;
}

/// Moves every outermost loop of `f` into a function of its own; false if
/// one of them cannot be (then `f` keeps it).
bool extractLoops(llvm::Function &f) {
  llvm::DominatorTree dominators(f);
  llvm::LoopInfo loops(dominators);
  llvm::AssumptionCache assumptions(f);
  bool all = true;
  llvm::SmallVector<llvm::Loop *> outermost(loops.begin(), loops.end());
  for (llvm::Loop *loop : outermost) {
    // A preheader and one exit block, as CodeExtractor needs them.
    llvm::simplifyLoop(loop, &dominators, &loops, nullptr, &assumptions, nullptr,
                       /*PreserveLCSSA=*/false);
    llvm::CodeExtractorAnalysisCache cache(f);
    llvm::CodeExtractor extractor(loop->getBlocks(), &dominators, /*AggregateArgs=*/false,
                                  nullptr, nullptr, &assumptions);
    if (!loop->isLoopSimplifyForm() || !extractor.isEligible() ||
        !extractor.extractCodeRegion(cache)) {
      all = false;
      continue;
    }
    loops.erase(loop);
  }
  return all;
}

/// Folds what MLIR's lowering leaves for the optimizer to fold in `f` (the
/// descriptors built field by field and taken apart again, the fields that
/// nothing reads), the work of -O3's first passes at a fraction of their
/// cost.
void cleanUp(llvm::Function &f) {
  llvm::FunctionPassManager passes;
  passes.addPass(llvm::InstSimplifyPass());
  passes.addPass(llvm::EarlyCSEPass());
  passes.addPass(llvm::ADCEPass());
  passes.addPass(llvm::SimplifyCFGPass());
  llvm::FunctionAnalysisManager analyses;
  llvm::PassBuilder builder;
  builder.registerFunctionAnalyses(analyses);
  passes.run(f, analyses);
}

} // namespace

void cpu::markGlue(llvm::Module &module) {
  for (llvm::Function &f : llvm::make_early_inc_range(module)) {
    if (f.isDeclaration() || f.getInstructionCount() < kGlueInstructions)
      continue;
    // Folding only removes instructions: a function that has too few
    // outside its loops before is no glue after.
    if (instructionsOutsideLoops(f) < kGlueInstructions)
      continue;
    cleanUp(f);
    if (instructionsOutsideLoops(f) < kGlueInstructions || !extractLoops(f))
      continue;
    f.addFnAttr(llvm::Attribute::NoInline);
    f.addFnAttr(llvm::Attribute::OptimizeNone);
    f.addFnAttr(kGlueAttribute);
  }
}

std::unique_ptr<llvm::Module> cpu::splitGlue(llvm::Module &module) {
  llvm::SmallPtrSet<const llvm::GlobalValue *, 8> glue;
  for (llvm::Function &f : module)
    if (!f.isDeclaration() && f.hasFnAttribute(kGlueAttribute))
      glue.insert(&f);
  if (glue.empty())
    return nullptr;
  // The optimizer dropped the kernels' unused parameters at their calls in
  // the glue: the loads of the fields they were given go.
  for (const llvm::GlobalValue *value : glue)
    cleanUp(*llvm::cast<llvm::Function>(const_cast<llvm::GlobalValue *>(value)));
  // A local symbol that both sides use becomes a hidden one (each side is an
  // object file of its own).
  auto isGlue = [&](const llvm::User *user) {
    if (const auto *inst = llvm::dyn_cast<llvm::Instruction>(user))
      return glue.contains(inst->getFunction());
    return false;
  };
  for (llvm::GlobalValue &value : module.global_values()) {
    if (!value.hasLocalLinkage())
      continue;
    bool inGlue = glue.contains(&value), fromGlue = false, fromRest = false;
    for (const llvm::User *user : value.users()) {
      if (isGlue(user))
        fromGlue = true;
      else
        fromRest = true; // Constants (a global's initializer) included.
    }
    if ((inGlue && fromRest) || (!inGlue && fromGlue)) {
      if (!value.hasName())
        value.setName("dlc.glue.anon");
      value.setLinkage(llvm::GlobalValue::ExternalLinkage);
      value.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
  }
  llvm::ValueToValueMapTy map;
  std::unique_ptr<llvm::Module> glueModule = llvm::CloneModule(
      module, map, [&](const llvm::GlobalValue *value) { return glue.contains(value); });
  // The module's special lists (constructors, used symbols) stay with the
  // rest; the glue's copy has only their declarations.
  for (llvm::GlobalVariable &global : llvm::make_early_inc_range(glueModule->globals()))
    if (global.getName().starts_with("llvm."))
      global.eraseFromParent();
  // The optimizer gave the local functions of the glue (`.results`) its
  // fast calling convention, whose parameters fast instruction selection
  // cannot take (the slow one then takes the whole function).
  for (llvm::Function &f : *glueModule) {
    if (f.isDeclaration() || !f.hasLocalLinkage() || f.getCallingConv() == llvm::CallingConv::C)
      continue;
    f.setCallingConv(llvm::CallingConv::C);
    for (llvm::User *user : f.users())
      if (auto *call = llvm::dyn_cast<llvm::CallBase>(user))
        call->setCallingConv(llvm::CallingConv::C);
  }
  // The buffers of fixed size go to the entry block, where they are part of
  // the stack frame (the glue runs each once); elsewhere they would be
  // dynamic allocas, which fast instruction selection cannot take.
  for (llvm::Function &f : *glueModule) {
    if (f.isDeclaration())
      continue;
    llvm::BasicBlock &entry = f.getEntryBlock();
    llvm::Instruction *front = &*entry.getFirstInsertionPt();
    for (llvm::BasicBlock &block : f)
      for (llvm::Instruction &inst : llvm::make_early_inc_range(block))
        if (auto *alloca = llvm::dyn_cast<llvm::AllocaInst>(&inst);
            alloca && alloca != front && llvm::isa<llvm::ConstantInt>(alloca->getArraySize()))
          alloca->moveBefore(front->getIterator());
  }
  // Blocks of at most kGlueBlock instructions: where fast instruction
  // selection cannot take an instruction (a vector of 10 floats), the slow
  // one takes the rest of its block, at a cost that grows with the block's
  // size squared (its scheduler).
  for (llvm::Function &f : *glueModule) {
    if (f.isDeclaration())
      continue;
    llvm::SmallVector<llvm::Instruction *> cuts;
    for (llvm::BasicBlock &block : f) {
      unsigned count = 0;
      for (llvm::Instruction &inst : block) {
        if (++count >= kGlueBlock && !llvm::isa<llvm::PHINode>(inst) && !inst.isTerminator() &&
            !llvm::isa<llvm::AllocaInst>(inst)) {
          cuts.push_back(&inst);
          count = 0;
        }
      }
    }
    for (llvm::Instruction *inst : cuts)
      llvm::SplitBlock(inst->getParent(), inst, static_cast<llvm::DomTreeUpdater *>(nullptr),
                       nullptr, nullptr, "glue");
  }
  for (const llvm::GlobalValue *value : glue) {
    auto *f = llvm::cast<llvm::Function>(const_cast<llvm::GlobalValue *>(value));
    llvm::GlobalValue::VisibilityTypes visibility = f->getVisibility();
    f->deleteBody();
    f->setVisibility(visibility);
  }
  return glueModule;
}
