//===- Graph.cpp - dlc graph: the model as a Graphviz graph -----------------===//
//
// `dlc graph FILE -o model.dot|svg|png` draws the model after fusion: inputs,
// params (with their sizes; frozen ones marked), each op with its result
// types and its line in the model, fused ops with what they fused, and the
// results (loss, metrics, outputs). Edges carry the type that flows along
// them. .svg and .png go through Graphviz's `dot` when it is installed.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/dlc/Commands.h"

#include "compiler/JIT.h"
#include "runtime/Outputs.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

#include <unistd.h>

using namespace dlc;

namespace dlc::tool {
int fail(const Status &status);

namespace {
/// Escapes a DOT string (the label's line breaks are written as \n).
std::string quote(const std::string &s) {
  std::string out = "\"";
  for (char c : s)
    out += c == '"' ? "\\\"" : c == '\\' ? "\\\\" : std::string(1, c);
  return out + "\"";
}

std::string attr(const runtime::GraphNode &n, const std::string &key) {
  for (const auto &[k, v] : n.attrs)
    if (k == key)
      return v;
  return "";
}

std::string bytesText(double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB"};
  int u = 0;
  while (bytes >= 1024 && u < 3)
    bytes /= 1024, ++u;
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format(u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return text;
}

/// The DOT text of `nodes`.
std::string toDot(const std::string &name, const std::vector<runtime::GraphNode> &nodes) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "digraph " << quote(name) << " {\n"
     << "  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\", fontsize=10];\n"
     << "  edge [fontname=\"sans-serif\", fontsize=8, color=\"#555555\"];\n";
  std::map<std::string, std::string> typeOf; // "node" or "node:k" -> type
  for (const runtime::GraphNode &n : nodes)
    for (size_t k = 0; k < n.types.size(); ++k)
      typeOf[n.types.size() == 1 ? n.name : n.name + ":" + std::to_string(k)] = n.types[k];
  for (const runtime::GraphNode &n : nodes) {
    std::string label, color = "#eeeeee", extra;
    std::string line = n.loc.line ? "line " + std::to_string(n.loc.line) : "";
    if (n.op == "input") {
      label = "input " + n.name + "\\n" + n.types.at(0);
      color = "#dbe9ff";
    } else if (n.op == "param") {
      int64_t count = 1;
      for (int64_t d : n.shapes.at(0))
        count *= d;
      label = std::string(n.frozen ? "frozen param " : "param ") + n.name + "\\n" +
              n.types.at(0) + "\\n" + std::to_string(count) + " values, " +
              bytesText(count * 4.0);
      color = n.frozen ? "#d0d0d0" : "#fff2cc";
      if (n.frozen)
        extra = ", style=\"rounded,filled,dashed\", penwidth=2";
    } else if (n.op.rfind("dl.", 0) == 0) {
      std::string kind = n.op.substr(3);
      if (n.fused) {
        // conv2d + bias + activation + pool as one op.
        std::string parts = "conv2d";
        if (n.inputs.size() > 2)
          parts += " + bias";
        if (std::string a = attr(n, "activation"); !a.empty() && a != "none")
          parts += " + " + a;
        if (std::string p = attr(n, "pool"); !p.empty() && p != "none")
          parts += " + " + p + "_pool";
        label = "fused: " + parts;
        color = "#ffd9d9";
        extra = ", penwidth=2";
      } else {
        label = kind;
      }
      for (const auto &[k, v] : n.attrs)
        if (v.size() <= 32 && !(n.fused && (k == "activation" || k == "pool")))
          label += "\\n" + k + " = " + v;
      std::string types;
      for (const std::string &t : n.types)
        types += (types.empty() ? "" : ", ") + t;
      label += "\\n-> " + types;
      if (!line.empty())
        label += "\\n" + line;
    } else {
      // A result: loss, metric or output.
      label = (n.op == n.name ? n.name : n.op + " " + n.name) + "\\n" + n.types.at(0);
      color = n.op == "loss" ? "#d9f2d9" : "#e6ffe6";
      extra = ", shape=ellipse, style=filled";
    }
    std::string escaped = quote(label);
    // quote() doubled the backslashes of the line breaks: restore them.
    for (size_t at; (at = escaped.find("\\\\n")) != std::string::npos;)
      escaped.replace(at, 3, "\\n");
    os << "  " << quote(n.name) << " [label=" << escaped << ", fillcolor=\"" << color
       << "\"" << extra << "];\n";
  }
  for (const runtime::GraphNode &n : nodes)
    for (const std::string &in : n.inputs) {
      std::string from = in.substr(0, in.find(':'));
      os << "  " << quote(from) << " -> " << quote(n.name);
      auto t = typeOf.find(in);
      if (t != typeOf.end())
        os << " [label=" << quote(t->second) << "]";
      os << ";\n";
    }
  os << "}\n";
  return text;
}

} // namespace

int graph(const Flags &flags) {
  const std::string &out = flags.output;
  auto extension = figureExtension("graph", out, {".dot", ".svg", ".png"});
  if (!extension.ok())
    return fail(extension.status());
  llvm::StringRef ext = *extension;
  std::string dot;
  if (ext != ".dot") {
    auto found = llvm::sys::findProgramByName("dot");
    if (!found)
      return fail(Status::error("-o " + out + ": drawing " + ext.drop_front().str() +
                                " needs Graphviz's dot, which is not installed (apt-get "
                                "install graphviz), or write .dot"));
    dot = *found;
  }
  if (Status s = runtime::checkOutputs(flags.file, {{"-o", out}});
      !s.ok())
    return fail(s);
  auto model = Model::fromFile(flags.file, flags.options);
  if (!model.ok())
    return fail(model.status());
  auto nodes = model->graph();
  if (!nodes.ok())
    return fail(nodes.status());
  std::string text = toDot(model->spec().name, *nodes);
  if (ext == ".dot") {
    if (Status s = writeTextFile(out, text); !s.ok())
      return fail(s);
  } else {
    // dot draws into a file beside the output, renamed into place: nothing
    // half-done.
    std::string tmp = out + ".tmp" + std::to_string(::getpid());
    std::string input = tmp + ".dot";
    Status written = writeTextFile(input, text);
    if (written.ok()) {
      std::string error;
      std::string format = "-T" + ext.drop_front().str();
      llvm::StringRef args[] = {dot, format, "-o", tmp, input};
      if (llvm::sys::ExecuteAndWait(dot, args, std::nullopt, {}, 0, 0, &error) != 0)
        written = Status::error("dot failed to draw '" + out + "'" +
                                (error.empty() ? "" : ": " + error));
    }
    llvm::sys::fs::remove(input);
    if (written.ok())
      if (std::error_code ec = llvm::sys::fs::rename(tmp, out))
        written = Status::error("cannot write '" + out + "': " + ec.message());
    if (!written.ok()) {
      llvm::sys::fs::remove(tmp);
      return fail(written);
    }
  }
  int ops = 0, fused = 0, params = 0, frozen = 0;
  for (const runtime::GraphNode &n : *nodes) {
    ops += n.op.rfind("dl.", 0) == 0;
    fused += n.fused;
    params += n.op == "param";
    frozen += n.frozen;
  }
  llvm::outs() << "wrote " << out << ": " << ops << " ops (" << fused << " fused), "
               << params << " params (" << frozen << " frozen)\n";
  return 0;
}

} // namespace dlc::tool
