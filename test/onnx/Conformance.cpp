//===- Conformance.cpp - ONNX's backend test data, run by dlc -------------===//
//
// dlc-onnx-conformance DIR... runs every test case under the given folders
// (ONNX's layout: CASE/model.onnx and CASE/test_data_set_N/{input,output}_N.pb)
// in one process, as ONNX's backend tests do: a case is claimed when dlc
// imports its model (every node, element type and attribute supported);
// a claimed case passes when every output of every data set matches within
// rtol + atol (ONNX's defaults, 1e-3 and 1e-7). It prints one line per op
// type (the op types of a case's graph, joined by '+'), the cases it does not
// claim grouped by reason, and a summary; --markdown prints the table for
// the README. It fails when fewer than --min-pass-rate of the claimed cases
// pass or fewer than --min-claimed cases are claimed. With --import, a
// case passes only if its model written in the language (`dlc import`) with
// the same params gives the same outputs too.
//
//===----------------------------------------------------------------------===//

#include "compiler/JIT.h"
#include "frontend/onnx/TensorProto.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace dlc;

namespace {

struct Tally {
  int cases = 0, claimed = 0, passed = 0;
  std::vector<std::string> failed;
};

/// The op types of a case's graph, joined by '+'.
std::string opKey(const std::string &modelPath) {
  auto sig = dlc::onnx::readSignature(modelPath);
  if (!sig.ok())
    return "(unreadable)";
  std::string key;
  for (const std::string &o : sig->opTypes)
    key += (key.empty() ? "" : "+") + o;
  return key.empty() ? "(no nodes)" : key;
}

/// Compares one output with ONNX's tolerance; returns "" when it matches.
std::string compare(const Tensor &got, const Tensor &want, double rtol, double atol) {
  if (got.shape() != want.shape())
    return "shape " + runtime::formatShape(got.shape()) + ", expected " +
           runtime::formatShape(want.shape());
  if (got.dtype() != want.dtype())
    return std::string("element type ") + runtime::dtypeName(got.dtype()) + ", expected " +
           runtime::dtypeName(want.dtype());
  for (int64_t i = 0; i < got.numElements(); ++i) {
    double g, w;
    if (got.dtype() == runtime::DType::F32) {
      g = got.data<float>()[i];
      w = want.data<float>()[i];
    } else {
      g = got.data<int32_t>()[i];
      w = want.data<int32_t>()[i];
    }
    if (std::isnan(g) && std::isnan(w))
      continue;
    if (!(std::fabs(g - w) <= atol + rtol * std::fabs(w)) && g != w)
      return "element " + std::to_string(i) + " is " + std::to_string(g) + ", expected " +
             std::to_string(w);
  }
  return "";
}

/// Runs one case; returns "" on success, else why it failed.
std::string runCase(Model &model, const std::string &modelPath, const fs::path &caseDir,
                    double rtol, double atol, bool init = true) {
  auto sig = dlc::onnx::readSignature(modelPath);
  if (!sig.ok())
    return sig.status().message();
  if (init)
    if (Status s = model.initParams(0); !s.ok())
      return s.message();
  std::vector<fs::path> sets;
  for (const auto &e : fs::directory_iterator(caseDir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty())
    return "no test_data_set_N folder";
  for (const fs::path &set : sets) {
    std::map<std::string, Tensor> feeds;
    for (size_t i = 0; i < sig->inputs.size(); ++i) {
      auto t = dlc::onnx::readTensorFile((set / ("input_" + std::to_string(i) + ".pb")).string());
      if (!t.ok())
        return t.status().message();
      feeds.emplace(sig->inputs[i].name, std::move(*t));
    }
    auto results = model.run(feeds);
    if (!results.ok())
      return results.status().message();
    for (size_t i = 0; i < sig->outputs.size(); ++i) {
      auto want = dlc::onnx::readTensorFile((set / ("output_" + std::to_string(i) + ".pb")).string());
      if (!want.ok())
        return want.status().message();
      auto it = std::find_if(results->begin(), results->end(), [&](const NamedTensor &r) {
        return r.role == "output" && r.name == sig->outputs[i].name;
      });
      if (it == results->end())
        return "output '" + sig->outputs[i].onnxName + "' was not computed";
      std::string diff = compare(it->value, *want, rtol, atol);
      if (!diff.empty())
        return set.filename().string() + ": output '" + sig->outputs[i].onnxName + "': " + diff;
    }
  }
  return "";
}

/// The reason an import failed, shortened to group cases: the first
/// unsupported part's text after the node's description.
std::string shortReason(const std::string &message) {
  std::string line = message;
  size_t nl = message.find('\n');
  if (nl != std::string::npos && message.find("cannot be imported") != std::string::npos)
    line = message.substr(nl + 3);
  if (size_t end = line.find('\n'); end != std::string::npos)
    line = line.substr(0, end);
  // Drop the node's name so that cases group by reason.
  if (size_t open = line.find("node "); open == 0) {
    size_t paren = line.find('(');
    if (paren != std::string::npos)
      line = line.substr(paren);
  }
  if (size_t colon = line.find("model.onnx:"); colon != std::string::npos)
    line = line.substr(colon + 11);
  return line.size() > 110 ? line.substr(0, 110) + "..." : line;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> roots;
  double rtol = 1e-3, atol = 1e-7, minPassRate = 0.0;
  int minClaimed = 0;
  bool markdown = false, verbose = false, importToo = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "dlc-onnx-conformance: %s needs a value\n", a.c_str());
        std::exit(1);
      }
      return argv[++i];
    };
    if (a == "--rtol")
      rtol = std::stod(next());
    else if (a == "--atol")
      atol = std::stod(next());
    else if (a == "--min-pass-rate")
      minPassRate = std::stod(next());
    else if (a == "--min-claimed")
      minClaimed = std::stoi(next());
    else if (a == "--markdown")
      markdown = true;
    else if (a == "--import")
      importToo = true;
    else if (a == "-v")
      verbose = true;
    else
      roots.push_back(a);
  }
  if (roots.empty()) {
    std::fprintf(stderr, "usage: dlc-onnx-conformance [--rtol R] [--atol A] [--min-pass-rate F] "
                         "[--min-claimed N] [--import] [--markdown] [-v] DIR...\n");
    return 1;
  }
  std::map<std::string, Tally> byOp;
  std::map<std::string, std::vector<std::string>> unclaimed;
  int total = 0;
  CompileOptions options;
  options.useCache = false;
  for (const std::string &root : roots) {
    std::vector<fs::path> cases;
    for (const auto &e : fs::directory_iterator(root))
      if (fs::exists(e.path() / "model.onnx"))
        cases.push_back(e.path());
    std::sort(cases.begin(), cases.end());
    for (const fs::path &c : cases) {
      ++total;
      std::string name = fs::path(root).filename().string() + "/" + c.filename().string();
      std::string modelPath = (c / "model.onnx").string();
      Tally &t = byOp[opKey(modelPath)];
      ++t.cases;
      auto model = Model::fromFile(modelPath, options);
      if (!model.ok()) {
        unclaimed[shortReason(model.status().message())].push_back(name);
        continue;
      }
      ++t.claimed;
      std::string why = runCase(*model, modelPath, c, rtol, atol);
      if (why.empty() && importToo) {
        // `dlc import`: the model in the language, with the ONNX model's
        // params, must give the same outputs.
        auto text = model->languageSource();
        if (!text.ok()) {
          why = "import: " + text.status().message();
        } else if (auto dl = Model::fromSource(*text, name + ".dl", options); !dl.ok()) {
          why = "import: " + dl.status().message();
        } else {
          (void)dl->initParams(0);
          for (const auto &[param, value] : model->params())
            if (Status s = dl->setParam(param, value); !s.ok())
              why = "import: " + s.message();
          if (why.empty())
            if (std::string diff = runCase(*dl, modelPath, c, rtol, atol, false); !diff.empty())
              why = "import: " + diff;
        }
      }
      if (why.empty())
        ++t.passed;
      else
        t.failed.push_back(name + ": " + why);
      if (verbose)
        std::printf("%s %s\n", why.empty() ? "PASS" : "FAIL", name.c_str());
    }
  }
  int claimed = 0, passed = 0;
  for (auto &[op, t] : byOp) {
    claimed += t.claimed;
    passed += t.passed;
  }
  // Op types with no claimed case are listed only with -v.
  if (markdown) {
    std::printf("| ONNX op types of the case | cases | claimed | passed |\n|---|---:|---:|---:|\n");
    for (auto &[op, t] : byOp)
      if (t.claimed || verbose)
        std::printf("| %s | %d | %d | %d |\n", op.c_str(), t.cases, t.claimed, t.passed);
  } else {
    for (auto &[op, t] : byOp)
      if (t.claimed || verbose)
        std::printf("%-4s %-60s %3d/%-3d passed (%d cases)\n",
                    !t.claimed ? "----" : t.passed == t.claimed ? "PASS" : "FAIL", op.c_str(),
                    t.passed, t.claimed, t.cases);
  }
  for (auto &[op, t] : byOp)
    for (const std::string &f : t.failed)
      std::printf("failed: %s\n", f.c_str());
  if (verbose)
    for (auto &[reason, names] : unclaimed)
      std::printf("unclaimed (%zu): %s [%s%s]\n", names.size(), reason.c_str(),
                  names.front().c_str(), names.size() > 1 ? ", ..." : "");
  double rate = claimed ? double(passed) / claimed : 0.0;
  std::printf("%d cases: %d claimed, %d passed (%.1f%% of claimed), %d not claimed\n", total,
              claimed, passed, 100 * rate, total - claimed);
  if (claimed < minClaimed) {
    std::printf("error: %d cases claimed, fewer than --min-claimed %d\n", claimed, minClaimed);
    return 1;
  }
  if (rate < minPassRate) {
    std::printf("error: pass rate %.3f is below --min-pass-rate %.3f\n", rate, minPassRate);
    return 1;
  }
  return 0;
}
