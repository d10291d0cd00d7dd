//===- JIT.cpp - the embeddable dlc compiler --------------------------------===//
//
// Model::Impl owns an MLIRContext, the source buffer and the checked dl
// module. Each request (a run with some inputs fed, the training program,
// an --emit stage) clones the dl module, builds the entry points it needs
// and lowers the clone; diagnostics are collected into the returned Status.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"

#include "compiler/CompileCache.h"
#include "compiler/Compiler.h"
#include "compiler/targets/Target.h"
#include "frontend/MLIRGen.h"
#include "frontend/onnx/Export.h"
#include "frontend/onnx/Importer.h"
#include "frontend/onnx/TensorProto.h"
#include "passes/Passes.h"
#include "runtime/Contracts.h"
#include "runtime/Dataset.h"
#include "runtime/Random.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <utility>

using namespace dlc;

struct Model::Impl {
  CompileOptions options;
  const Target *target = nullptr;
  mlir::MLIRContext context;
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<frontend::ModuleAST> ast;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// Destroying the AST recurses along it too.
  ~Impl() {
    runOnFrontendStack([&] { ast.reset(); });
  }
  runtime::ModelSpec spec;
  std::map<std::string, Tensor> params;
  std::map<std::string, std::shared_ptr<runtime::Executable>> runCache;
  std::shared_ptr<runtime::Executable> training, dataParallelTraining;
  std::map<std::string, double> times;
  std::string remarks;

  Impl() : context(mlir::MLIRContext::Threading::DISABLED) {}

  /// Collects diagnostics while alive; `status()` turns them into an error.
  /// With CompileOptions::remarks, what is left when it ends without an
  /// error (the remarks) goes to the model's remarks.
  struct Diagnostics {
    Impl &impl;
    std::string text;
    llvm::raw_string_ostream os{text};
    mlir::SourceMgrDiagnosticHandler handler;
    Diagnostics(Impl &impl) : impl(impl), handler(impl.sourceMgr, &impl.context, os) {}
    ~Diagnostics() {
      os.flush();
      if (!impl.options.remarks.empty())
        impl.remarks += text;
    }
    Status status(const std::string &fallback) {
      os.flush();
      std::string msg = text.empty() ? fallback : text;
      while (!msg.empty() && msg.back() == '\n')
        msg.pop_back();
      text.clear();
      return Status::error(msg);
    }
  };

  template <typename Fn> auto timed(const std::string &phase, Fn fn) {
    auto start = std::chrono::steady_clock::now();
    auto result = fn();
    times[phase] += std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    return result;
  }

  Status load(std::unique_ptr<llvm::MemoryBuffer> buffer) {
    auto found = lookupTarget(options.target);
    if (!found)
      return Status::error(llvm::toString(found.takeError()));
    target = &*found;
    registerCompilerDialects(context);
    sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
    Diagnostics diags(*this);
    const llvm::MemoryBuffer *source = sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
    if (dlc::onnx::isONNXFile(source->getBufferIdentifier().str())) {
      // The second frontend: an ONNX graph, imported straight to dl.
      module = timed("frontend", [&] {
        return dlc::onnx::importModel(context, source->getBufferIdentifier(),
                                 source->getBuffer());
      });
      if (!module)
        return diags.status("cannot import the ONNX model");
    } else {
      // The frontend's walks recurse along the expression tree: they get a
      // stack of their own, whatever the host thread's is.
      runOnFrontendStack([&] {
        ast = timed("frontend", [&] { return parseModel(context, sourceMgr); });
        if (ast)
          module = timed("frontend", [&] { return frontend::mlirGen(context, *ast); });
      });
      if (!ast)
        return diags.status("cannot parse the model");
      if (!module)
        return diags.status("cannot build the model");
    }
    mlir::PassManager pm(&context);
    buildDLPipeline(pm, options);
    if (failed(timed("passes", [&] { return pm.run(*module); })))
      return diags.status("shape inference failed");
    spec = extractModelSpec(*module);
    return Status::success();
  }

  bool hasLoss() {
    auto graph =
        module->lookupSymbol<mlir::func::FuncOp>(contract::kGraphEntry);
    for (unsigned i = 0; i < graph.getNumResults(); ++i)
      if (auto role = graph.getResultAttrOfType<mlir::StringAttr>(
              i, contract::kRoleAttr))
        if (role.getValue() == contract::kRoleLoss)
          return true;
    return false;
  }

  /// A clone of the dl module after fusion.
  StatusOr<mlir::OwningOpRef<mlir::ModuleOp>> fused(Diagnostics &diags) {
    mlir::OwningOpRef<mlir::ModuleOp> clone = module->clone();
    if (failed(timed("passes", [&] {
          return runPipeline(*clone, Stage::DL, Stage::Fused, options, *target, {});
        })))
      return diags.status("cannot fuse the model");
    return std::move(clone);
  }

  /// Clones the dl module and runs the pipeline up to `to` (at least
  /// Stage::Grad, the entry points of `request`). `entrySpec`, when given,
  /// gets the model description with the entry points' signatures.
  StatusOr<mlir::OwningOpRef<mlir::ModuleOp>>
  lower(const EntryRequest &request, Stage to, Diagnostics &diags,
        runtime::ModelSpec *entrySpec = nullptr) {
    mlir::OwningOpRef<mlir::ModuleOp> clone = module->clone();
    Stage at = std::min(to, Stage::Grad);
    // The model description holds the graph after fusion.
    Stage from = Stage::DL;
    if (entrySpec && at > Stage::Fused) {
      if (failed(timed("passes", [&] {
            return runPipeline(*clone, Stage::DL, Stage::Fused, options, *target, request);
          })))
        return diags.status("cannot build the entry points");
      from = Stage::Fused;
      entrySpec->graph = describeGraph(*clone);
    }
    if (failed(timed("passes", [&] {
          return runPipeline(*clone, from, at, options, *target, request);
        })))
      return diags.status("cannot build the entry points");
    if (entrySpec) {
      std::vector<runtime::GraphNode> graph = std::move(entrySpec->graph);
      *entrySpec = spec;
      entrySpec->graph = std::move(graph);
      for (const std::string &n : request.entries)
        entrySpec->entries.push_back(describeEntry(*clone, n));
    }
    if (to > at && failed(timed("passes", [&] {
          return runPipeline(*clone, at, to, options, *target, request);
        })))
      return diags.status("cannot lower the model");
    return std::move(clone);
  }

  /// The request for entry points `names`, @run with the inputs in `fed`
  /// (all of them when null).
  EntryRequest makeRequest(const std::vector<std::string> &names,
                           const std::set<std::string> *fed) {
    EntryRequest r{names, {}};
    if (fed)
      for (const runtime::InputSpec &in : spec.inputs)
        if (!fed->count(in.name))
          r.unfed.push_back(in.name);
    return r;
  }

  /// The entry points an AOT module or --emit shows.
  std::vector<std::string> defaultEntries() {
    if (hasLoss() && options.dataParallel)
      return {contract::kRunEntry, contract::kTrainStepEntry,
              contract::kEvalEntry, contract::kGradEntry, contract::kApplyEntry};
    if (hasLoss())
      return {contract::kRunEntry, contract::kTrainStepEntry,
              contract::kEvalEntry};
    return {contract::kRunEntry};
  }

  StatusOr<std::shared_ptr<runtime::Executable>>
  compile(const std::vector<std::string> &names, const std::set<std::string> *fed) {
    // The request: which entry points, built for which fed inputs.
    std::string request;
    for (const std::string &n : names)
      request += n + ";";
    if (fed)
      for (const std::string &n : *fed)
        request += "fed:" + n + ";";
    // The module embeds the model's description, whose file the trainer
    // resolves relative data paths against: the same text in another folder
    // is another module, and so is the same file named another way (the
    // description holds the name as given: relative or absolute).
    llvm::SmallString<256> file(spec.file);
    llvm::sys::fs::make_absolute(file);
    request += "file:" + std::string(file) + ";as:" + spec.file + ";";
    std::string source =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer().str();
    std::string key = cache::key(source, request, options, *target);
    std::string path;
    // Remarks come from the passes: with remarks asked for, compile afresh.
    bool useCache = options.useCache && options.remarks.empty();
    if (useCache) {
      if (auto exe = cache::lookupMemory(key)) {
        times["cache"] += 0;
        return exe;
      }
      path = cache::modulePath(key);
      if (!path.empty() && llvm::sys::fs::exists(path) && cache::trusted(path)) {
        auto exe = timed("cache", [&] { return runtime::Executable::loadShared(path); });
        if (exe.ok()) {
          cache::touch(path);
          std::shared_ptr<runtime::Executable> shared(std::move(*exe));
          cache::storeMemory(key, shared);
          return shared;
        }
        llvm::sys::fs::remove(path); // Unreadable entry: rebuild it.
      }
    }
    Diagnostics diags(*this);
    runtime::ModelSpec entrySpec;
    auto clone = lower(makeRequest(names, fed), Stage::LLVM, diags, &entrySpec);
    if (!clone.ok())
      return clone.status();
    mlir::ModuleOp m = **clone;
    // With a cache, the code is compiled in-process to a shared module that
    // is stored and loaded; without one (or if that fails) it is JIT-compiled.
    if (!path.empty()) {
      llvm::Error err = timed("codegen", [&] {
        return target->emitBinary(m, entrySpec, options, Stage::Module, path);
      });
      if (!err) {
        cache::prune(path);
        auto exe = runtime::Executable::loadShared(path);
        if (exe.ok()) {
          std::shared_ptr<runtime::Executable> shared(std::move(*exe));
          cache::storeMemory(key, shared);
          return shared;
        }
      } else {
        llvm::consumeError(std::move(err));
      }
    }
    auto exe = timed("codegen", [&] {
      return target->jitCompile(m, std::move(entrySpec), options);
    });
    if (!exe) {
      std::string msg = llvm::toString(exe.takeError());
      return Status::error("code generation failed: " + msg);
    }
    std::shared_ptr<runtime::Executable> shared(std::move(*exe));
    if (useCache)
      cache::storeMemory(key, shared);
    return shared;
  }
};

static StatusOr<std::vector<NamedTensor>>
callNamed(const runtime::Executable &exe, const std::string &name,
          const std::map<std::string, Tensor> &feeds,
          const std::map<std::string, Tensor> &params);

/// The largest model file dlc reads (a model is text; this bounds what a
/// wrong path costs). An ONNX model holds its weights: it may have up to
/// protobuf's 2 GiB.
static constexpr uint64_t kMaxModelBytes = 64ull << 20;
static constexpr uint64_t kMaxONNXBytes = (2ull << 30) - 1;

/// Reads a model file: a regular file of at most kMaxModelBytes (a device,
/// a FIFO or a folder would be read forever or not at all).
static StatusOr<std::unique_ptr<llvm::MemoryBuffer>> readModelFile(const std::string &path) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return Status::error(path + ": cannot read the model file: " + ec.message());
  if (!llvm::sys::fs::is_regular_file(status))
    return Status::error(path + ": cannot read the model file: it is not a regular file");
  uint64_t limit = dlc::onnx::isONNXFile(path) ? kMaxONNXBytes : kMaxModelBytes;
  if (status.getSize() > limit)
    return Status::error(path + ": cannot read the model file: " +
                         std::to_string(status.getSize()) + " bytes, more than the " +
                         std::to_string((limit + 1) >> 20) + " MiB a model may have");
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/!dlc::onnx::isONNXFile(path));
  if (!buffer)
    return Status::error(path + ": cannot read the model file: " +
                         buffer.getError().message());
  return std::move(*buffer);
}

StatusOr<std::string> dlc::dumpAST(const std::string &path) {
  if (dlc::onnx::isONNXFile(path))
    return Status::error(path + ": an ONNX model has no AST; try --emit=dl");
  auto buffer = readModelFile(path);
  if (!buffer.ok())
    return buffer.status();
  Model::Impl impl;
  registerCompilerDialects(impl.context);
  impl.sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  Model::Impl::Diagnostics diags(impl);
  std::string text;
  bool parsed = false;
  runOnFrontendStack([&] {
    if (auto ast = parseModel(impl.context, impl.sourceMgr)) {
      llvm::raw_string_ostream os(text);
      frontend::dump(*ast, os);
      parsed = true;
    }
  });
  if (!parsed)
    return diags.status("cannot parse the model");
  return text;
}

Model::Model(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
Model::~Model() = default;
Model::Model(Model &&) noexcept = default;
Model &Model::operator=(Model &&) noexcept = default;

StatusOr<Model> Model::fromFile(const std::string &path,
                                const CompileOptions &options) {
  auto buffer = readModelFile(path);
  if (!buffer.ok())
    return buffer.status();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (Status s = impl->load(std::move(*buffer)); !s.ok())
    return s;
  return Model(std::move(impl));
}

StatusOr<Model> Model::fromSource(const std::string &source,
                                  const std::string &name,
                                  const CompileOptions &options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (Status s = impl->load(llvm::MemoryBuffer::getMemBufferCopy(source, name));
      !s.ok())
    return s;
  return Model(std::move(impl));
}

const runtime::ModelSpec &Model::spec() const { return impl->spec; }

StatusOr<std::string> Model::languageSource() const {
  if (impl->ast)
    return impl->sourceMgr.getMemoryBuffer(impl->sourceMgr.getMainFileID())
        ->getBuffer()
        .str();
  std::string error;
  auto text = dlc::onnx::writeModelSource(*impl->module, error);
  if (failed(text))
    return Status::error(impl->spec.file + ": cannot write the model in the language: " + error);
  return *text;
}

int64_t Model::defaultSeed() const {
  return impl->spec.train ? impl->spec.train->seed : 0;
}

const std::map<std::string, double> &Model::compileTimes() const {
  return impl->times;
}

const std::string &Model::remarks() const { return impl->remarks; }

StatusOr<std::vector<runtime::GraphNode>> Model::graph() const {
  Impl::Diagnostics diags(*impl);
  auto fused = impl->fused(diags);
  if (!fused.ok())
    return fused.status();
  return describeGraph(**fused);
}

Status Model::emit(Stage stage, std::string &text, const std::string &path) const {
  llvm::raw_string_ostream os(text);
  if (stage == Stage::AST) {
    if (!impl->ast)
      return Status::error("an ONNX model has no AST; try --emit=dl");
    runOnFrontendStack([&] { frontend::dump(*impl->ast, os); });
    return Status::success();
  }
  if (stage == Stage::DL) {
    impl->module->print(os);
    return Status::success();
  }
  if (!impl->target->hasStage(stage))
    return Status::error("the " + impl->target->name().str() +
                         " target does not write --emit=" +
                         std::string(stageName(stage)));
  Impl::Diagnostics diags(*impl);
  if (stage == Stage::Fused) {
    auto fused = impl->fused(diags);
    if (!fused.ok())
      return fused.status();
    (*fused)->print(os);
    return Status::success();
  }
  std::vector<std::string> names = impl->defaultEntries();
  if (stage == Stage::Grad) {
    if (!impl->hasLoss())
      return Status::error(impl->spec.file + ": the model has no loss to differentiate");
    names = {contract::kTrainStepEntry, contract::kEvalEntry};
  }
  runtime::ModelSpec entrySpec;
  auto clone = impl->lower(impl->makeRequest(names, nullptr),
                           std::min(stage, Stage::LLVM), diags, &entrySpec);
  if (!clone.ok())
    return clone.status();
  mlir::ModuleOp m = **clone;
  if (stage <= Stage::Loops) {
    m.print(os);
    return Status::success();
  }
  llvm::Error err = impl->timed("codegen", [&] {
    return isBinaryStage(stage)
               ? impl->target->emitBinary(m, entrySpec, impl->options, stage, path)
               : impl->target->emitText(m, entrySpec, impl->options, stage, os);
  });
  if (err)
    return Status::error(llvm::toString(std::move(err)));
  return Status::success();
}

Status Model::initParams(int64_t seed) {
  auto params = runtime::initializeParams(impl->spec, seed);
  if (!params.ok())
    return params.status();
  impl->params = std::move(*params);
  return Status::success();
}

StatusOr<Tensor> Model::getParam(const std::string &name) const {
  if (impl->params.empty())
    if (Status s = const_cast<Model *>(this)->initParams(defaultSeed()); !s.ok())
      return s;
  auto it = impl->params.find(name);
  if (it == impl->params.end())
    return Status::error("unknown param '" + name + "'");
  return it->second;
}

Status Model::setParam(const std::string &name, Tensor value) {
  const runtime::ParamSpec *p = impl->spec.findParam(name);
  if (!p)
    return Status::error("unknown param '" + name + "'");
  // The other params take their initial values first.
  if (impl->params.empty())
    if (Status s = initParams(defaultSeed()); !s.ok())
      return s;
  if (value.dtype() != p->dtype || value.shape() != p->shape)
    return Status::error("cannot set param '" + name + "' of type " +
                         runtime::formatType(p->dtype, p->shape) + " to a " +
                         value.typeString());
  impl->params[name] = std::move(value);
  return Status::success();
}

const std::map<std::string, Tensor> &Model::params() const { return impl->params; }

/// Checks the class ids among `feeds` (inputs of class ids: InputSpec::
/// classes): a value out of range is an error naming the feed and the
/// example, not an index past a one-hot row.
static Status checkFedClassIds(const runtime::ModelSpec &spec,
                               const std::map<std::string, Tensor> &feeds) {
  for (const auto &[name, value] : feeds)
    if (const runtime::InputSpec *in = spec.findInput(name))
      if (Status s = runtime::checkClassIds(value, in->classes, name, "feed '" + name + "'");
          !s.ok())
        return s;
  return Status::success();
}

StatusOr<std::map<std::string, Tensor>> Model::takeParams() {
  if (impl->params.empty())
    if (Status s = initParams(defaultSeed()); !s.ok())
      return s;
  return std::exchange(impl->params, {});
}

StatusOr<std::vector<NamedTensor>>
Model::run(const std::map<std::string, Tensor> &feeds) {
  if (impl->params.empty())
    if (Status s = initParams(defaultSeed()); !s.ok())
      return s;
  std::set<std::string> fed;
  for (const auto &[name, value] : feeds) {
    if (impl->spec.findInput(name))
      fed.insert(name);
    else if (!impl->spec.findParam(name))
      return Status::error("cannot feed '" + name +
                           "': the model has no input or param of that name");
  }
  if (Status s = checkFedClassIds(impl->spec, feeds); !s.ok())
    return s;
  std::string key;
  for (const std::string &n : fed)
    key += n + ",";
  auto &exe = impl->runCache[key];
  if (!exe) {
    auto compiled = impl->compile({contract::kRunEntry}, &fed);
    if (!compiled.ok())
      return compiled.status();
    exe = *compiled;
  }
  // (The compiled run's description holds its graph after fusion.)
  if (Status s = runtime::planRun(exe->spec(), feeds); !s.ok())
    return s;
  return callNamed(*exe, contract::kRunEntry, feeds, impl->params);
}

/// Calls entry `name` of `exe` with inputs from `feeds` and params from
/// `params`, naming each result.
static StatusOr<std::vector<NamedTensor>>
callNamed(const runtime::Executable &exe, const std::string &name,
          const std::map<std::string, Tensor> &feeds,
          const std::map<std::string, Tensor> &params) {
  const runtime::EntrySpec *entry = exe.spec().findEntry(name);
  std::vector<runtime::ArgValue> args;
  for (const runtime::ValueSpec &a : entry->args) {
    auto feed = feeds.find(a.name);
    if (feed != feeds.end()) {
      args.push_back(runtime::ArgValue::of(feed->second));
      continue;
    }
    auto param = params.find(a.name);
    if (param == params.end())
      return Status::error("input '" + a.name + "' is not fed");
    args.push_back(runtime::ArgValue::of(param->second));
  }
  auto results = exe.call(name, args);
  if (!results.ok())
    return results.status();
  std::vector<NamedTensor> out;
  for (size_t i = 0; i < entry->results.size(); ++i)
    out.push_back(NamedTensor{entry->results[i].role, entry->results[i].name,
                              std::move((*results)[i])});
  return out;
}

StatusOr<std::vector<NamedTensor>>
Model::gradients(const std::map<std::string, Tensor> &feeds) {
  if (impl->params.empty())
    if (Status s = initParams(defaultSeed()); !s.ok())
      return s;
  if (!impl->hasLoss())
    return Status::error(impl->spec.file + ": the model has no loss to differentiate");
  if (Status s = checkFedClassIds(impl->spec, feeds); !s.ok())
    return s;
  auto &exe = impl->runCache["<grad>"];
  if (!exe) {
    auto compiled = impl->compile({contract::kGraphGradEntry}, nullptr);
    if (!compiled.ok())
      return compiled.status();
    exe = *compiled;
  }
  return callNamed(*exe, contract::kGraphGradEntry, feeds, impl->params);
}

StatusOr<std::shared_ptr<runtime::Executable>>
Model::compileTraining(bool dataParallel) {
  std::shared_ptr<runtime::Executable> &cached =
      dataParallel ? impl->dataParallelTraining : impl->training;
  if (cached)
    return cached;
  if (!impl->hasLoss())
    return Status::error(impl->spec.file + ": the model has no loss to train");
  auto compiled = impl->compile(
      dataParallel ? std::vector<std::string>{contract::kGradEntry,
                                              contract::kApplyEntry,
                                              contract::kEvalEntry}
                   : std::vector<std::string>{contract::kTrainStepEntry,
                                              contract::kEvalEntry},
      nullptr);
  if (!compiled.ok())
    return compiled.status();
  cached = *compiled;
  return cached;
}
