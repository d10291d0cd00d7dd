//===- Commands.cpp - the commands of the dlc tool --------------------------===//
//
// compile and run. The training commands live in Train.cpp.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/dlc/Commands.h"

#include "compiler/JIT.h"
#include "frontend/onnx/TensorProto.h"
#include "runtime/Checkpoint.h"
#include "runtime/Dataset.h"
#include "runtime/Outputs.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

using namespace dlc;

namespace dlc::tool {

/// Prints an error: located diagnostics already carry "file:line:col:
/// error:", anything else gets the "dlc: error: " prefix.
int fail(const Status &status) {
  const std::string &msg = status.message();
  if (msg.find(": error: ") != std::string::npos)
    llvm::errs() << msg << "\n";
  else
    llvm::errs() << "dlc: error: " << msg << "\n";
  return 1;
}

/// Prints the remarks (--remarks) and the compile time per phase
/// (--time-passes) of what `model` compiled.
void printCompileReport(const Model &model, const CompileOptions &options) {
  llvm::errs() << model.remarks();
  if (!options.timePasses)
    return;
  llvm::errs() << "compile time:";
  double total = 0;
  for (const auto &[phase, seconds] : model.compileTimes()) {
    llvm::errs() << " " << phase << " " << llvm::format("%.3f", seconds) << " s;";
    total += seconds;
  }
  llvm::errs() << " total " << llvm::format("%.3f", total) << " s\n";
}

/// Sets params from a checkpoint: every param must be there with its shape.
Status restoreParams(Model &model, const std::string &path) {
  auto ckpt = runtime::readCheckpoint(path);
  if (!ckpt.ok())
    return ckpt.status();
  std::map<std::string, Tensor> params;
  std::string ignored;
  if (Status s = runtime::restoreParams(model.spec(), ckpt->tensors, path, params, &ignored);
      !s.ok())
    return s;
  note(ignored);
  for (auto &[name, value] : params)
    if (Status s = model.setParam(name, std::move(value)); !s.ok())
      return s;
  return Status::success();
}

StatusOr<std::string> figureExtension(const std::string &command, const std::string &out,
                                      const std::vector<std::string> &exts) {
  std::string files, dotted;
  for (size_t i = 0; i < exts.size(); ++i) {
    const char *sep = i == 0 ? "" : i + 1 == exts.size() ? " or " : ", ";
    files += sep + std::string("FILE") + exts[i];
    dotted += sep + exts[i];
  }
  if (out.empty() || out == "-")
    return Status::error("dlc " + command + " needs -o " + files);
  std::string ext = llvm::sys::path::extension(out).str();
  if (std::find(exts.begin(), exts.end(), ext) == exts.end())
    return Status::error("-o " + out + ": expected a " + dotted + " file");
  return ext;
}

int compile(const Flags &flags) {
  std::optional<Stage> stage = parseStage(flags.emit);
  if (!stage)
    return fail(Status::error("unknown stage '--emit=" + flags.emit + "'; expected " +
                              stageList()));
  bool binary = isBinaryStage(*stage);
  if (binary && flags.output == "-")
    return fail(Status::error("--emit=" + flags.emit + " needs an output file (-o)"));
  if (Status s = runtime::checkOutputs(flags.file, {{"-o", flags.output, !binary}});
      !s.ok())
    return fail(s);
  std::string text;
  std::optional<Model> model;
  if (*stage == Stage::AST) {
    // The AST is syntax only: dump it even when the model has semantic errors.
    auto ast = dumpAST(flags.file);
    if (!ast.ok())
      return fail(ast.status());
    text = std::move(*ast);
  } else {
    auto loaded = Model::fromFile(flags.file, flags.options);
    if (!loaded.ok())
      return fail(loaded.status());
    model.emplace(std::move(*loaded));
    if (Status s = model->emit(*stage, text, flags.output); !s.ok())
      return fail(s);
  }
  if (model)
    printCompileReport(*model, flags.options);
  if (binary)
    return 0;
  // Text output is written whole, after compilation succeeded.
  if (Status s = writeTextFile(flags.output, text); !s.ok())
    return fail(s);
  return 0;
}

void note(const std::string &message) {
  if (!message.empty())
    llvm::errs() << "dlc: note: " << message << "\n";
}

Status writeTextFile(const std::string &path, llvm::StringRef text) {
  auto failed = [&](std::error_code ec) {
    return Status::error("cannot write '" + path + "': " + ec.message());
  };
  if (path == "-") {
    llvm::outs() << text;
    llvm::outs().flush();
    return Status::success();
  }
  namespace fs = llvm::sys::fs;
  fs::file_status st;
  bool direct = !fs::status(path, st) && fs::exists(st) && !fs::is_regular_file(st);
  std::string target = direct ? path : path + ".tmp." + std::to_string(::getpid());
  if (!direct)
    llvm::sys::RemoveFileOnSignal(target);
  auto cleanup = [&] {
    if (!direct) {
      fs::remove(target);
      llvm::sys::DontRemoveFileOnSignal(target);
    }
  };
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(target, ec, fs::OF_Text);
    if (ec) {
      cleanup();
      return failed(ec);
    }
    os << text;
    os.close();
    if (os.has_error()) {
      ec = os.error();
      os.clear_error(); // Reported here, not as an LLVM fatal error.
      cleanup();
      return failed(ec);
    }
  }
  if (!direct) {
    std::error_code ec = fs::rename(target, path);
    cleanup();
    if (ec)
      return failed(ec);
  }
  return Status::success();
}

int run(const Flags &flags) {
  auto model = Model::fromFile(flags.file, flags.options);
  if (!model.ok())
    return fail(model.status());
  const runtime::ModelSpec &spec = model->spec();
  if (Status s = model->initParams(spec.train ? spec.train->seed : 0); !s.ok())
    return fail(s);
  if (!flags.restore.empty())
    if (Status s = restoreParams(*model, flags.restore); !s.ok())
      return fail(s);
  std::map<std::string, Tensor> feeds;
  for (const std::string &feed : flags.feeds) {
    size_t eq = feed.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(Status::error("--feed expects NAME=VALUE, got '" + feed + "'"));
    std::string name = feed.substr(0, eq);
    runtime::DType dtype;
    if (const runtime::InputSpec *in = spec.findInput(name))
      dtype = in->dtype;
    else if (const runtime::ParamSpec *p = spec.findParam(name))
      dtype = p->dtype;
    else
      return fail(Status::error("--feed " + name +
                                ": the model has no input or param named '" +
                                name + "'"));
    auto value = runtime::parseTensorLiteral(feed.substr(eq + 1), dtype);
    if (!value.ok())
      return fail(value.status().withPrefix("--feed " + name + ": "));
    if (feeds.count(name))
      return fail(Status::error("--feed " + name + " is given twice"));
    if (const runtime::InputSpec *in = spec.findInput(name))
      if (Status s = runtime::checkClassIds(*value, in->classes, name, "--feed " + name);
          !s.ok())
        return fail(s);
    feeds.emplace(name, std::move(*value));
  }
  // Param overrides replace the param for this run.
  for (auto it = feeds.begin(); it != feeds.end();) {
    if (spec.findParam(it->first)) {
      if (Status s = model->setParam(it->first, std::move(it->second)); !s.ok())
        return fail(s.withPrefix("--feed " + it->first + ": "));
      it = feeds.erase(it);
    } else {
      ++it;
    }
  }
  // --feed-dir: input_N.pb feeds input N (ONNX's test-data layout).
  std::vector<onnx::GraphValue> onnxOutputs;
  if (onnx::isONNXFile(flags.file) && (!flags.feedDir.empty() || !flags.outputsDir.empty())) {
    auto sig = onnx::readSignature(flags.file);
    if (!sig.ok())
      return fail(sig.status());
    onnxOutputs = sig->outputs;
  }
  if (!flags.feedDir.empty()) {
    if (!llvm::sys::fs::is_directory(flags.feedDir))
      return fail(Status::error("--feed-dir " + flags.feedDir + ": not a folder"));
    for (size_t i = 0;; ++i) {
      std::string path = flags.feedDir + "/input_" + std::to_string(i) + ".pb";
      if (!llvm::sys::fs::exists(path))
        break;
      if (i >= spec.inputs.size())
        return fail(Status::error(path + ": the model has " +
                                  std::to_string(spec.inputs.size()) + " inputs"));
      const runtime::InputSpec &in = spec.inputs[i];
      auto value = onnx::readTensorFile(path);
      if (!value.ok())
        return fail(value.status());
      if (value->dtype() != in.dtype)
        return fail(Status::error(path + ": input '" + in.name + "' is " +
                                  runtime::dtypeName(in.dtype) + ", the file holds " +
                                  runtime::dtypeName(value->dtype()) + " values"));
      if (Status s = runtime::checkClassIds(*value, in.classes, in.name, path); !s.ok())
        return fail(s);
      if (!feeds.emplace(in.name, std::move(*value)).second)
        return fail(Status::error(path + ": input '" + in.name +
                                  "' is also fed with --feed"));
    }
  }
  auto results = model->run(feeds);
  if (!results.ok())
    return fail(results.status());
  if (!flags.outputsDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(flags.outputsDir))
      return fail(Status::error("--outputs-dir " + flags.outputsDir + ": " + ec.message()));
    // The ONNX graph's outputs in its order and types; a dl model's in
    // declaration order.
    if (onnxOutputs.empty())
      for (const NamedTensor &r : *results)
        if (r.role == "output")
          onnxOutputs.push_back({r.name, r.name, onnx::elementTypeOf(r.value.dtype())});
    for (size_t i = 0; i < onnxOutputs.size(); ++i) {
      const onnx::GraphValue &o = onnxOutputs[i];
      auto it = std::find_if(results->begin(), results->end(), [&](const NamedTensor &r) {
        return r.role == "output" && r.name == o.name;
      });
      if (it == results->end())
        return fail(Status::error("output '" + o.name + "' was not computed"));
      std::string path = flags.outputsDir + "/output_" + std::to_string(i) + ".pb";
      if (Status s = onnx::writeTensorFile(path, it->value, o.onnxName, o.type); !s.ok())
        return fail(s);
    }
  }
  if (results->empty()) {
    std::string missing;
    for (const runtime::InputSpec &in : spec.inputs)
      if (!feeds.count(in.name))
        missing += (missing.empty() ? "'" : ", '") + in.name + "'";
    return fail(Status::error(
        "nothing to evaluate: every output, loss and metric of " + flags.file +
        " needs an input that is not fed" +
        (missing.empty() ? std::string() : " (feed " + missing + " with --feed NAME=VALUE)")));
  }
  printCompileReport(*model, flags.options);
  // Outputs first, in declaration order, then the loss and the metrics
  // (outputs written with --outputs-dir are not printed).
  for (const char *role : {"output", "loss", "metric"})
    for (const NamedTensor &r : *results)
      if (r.role == role && (flags.outputsDir.empty() || r.role != std::string("output")))
        llvm::outs() << r.name << " = " << r.value.format() << "\n";
  return 0;
}

int importModel(const Flags &flags) {
  if (!onnx::isONNXFile(flags.file))
    return fail(Status::error(flags.file + ": dlc import reads ONNX models (MODEL.onnx)"));
  if (flags.output == "-" || flags.output.size() < 4 ||
      flags.output.compare(flags.output.size() - 3, 3, ".dl") != 0)
    return fail(Status::error("dlc import needs -o MODEL.dl"));
  std::string ckpt = flags.output.substr(0, flags.output.size() - 3) + ".safetensors";
  if (Status s = runtime::checkOutputs(flags.file, {{"-o", flags.output, true}, {"-o", ckpt}});
      !s.ok())
    return fail(s);
  auto model = Model::fromFile(flags.file, flags.options);
  if (!model.ok())
    return fail(model.status());
  auto text = model->languageSource();
  if (!text.ok())
    return fail(text.status());
  if (Status s = model->initParams(0); !s.ok())
    return fail(s);
  std::vector<runtime::NamedTensorRef> tensors;
  for (const auto &[name, value] : model->params())
    tensors.push_back({name, &value});
  if (Status s = runtime::writeCheckpoint(ckpt, tensors, {{"source", flags.file}}); !s.ok())
    return fail(s);
  if (Status s = writeTextFile(flags.output, *text); !s.ok())
    return fail(s);
  return 0;
}

} // namespace dlc::tool
