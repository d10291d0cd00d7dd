//===- Plot.cpp - dlc plot: learning curves with cairo ----------------------===//
//
// `dlc plot DIR -o curves.svg|png|pdf` reads every metrics.jsonl under DIR
// (what `dlc train --logdir` writes; each folder holding one is a run) and
// draws one panel per quantity (the loss, then each metric) with a curve per
// run and set against the step: train solid, validation dashed, test as
// dots. The loss panel has a log scale when its values span two decades or
// more. Cairo draws all three formats.
//
//===----------------------------------------------------------------------===//

#include "compiler/tools/dlc/Commands.h"

#include "compiler/JIT.h"
#include "runtime/Contracts.h"
#include "runtime/Outputs.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <map>

#include <unistd.h>

using namespace dlc;

namespace dlc::tool {
int fail(const Status &status);

namespace {

/// One curve: the values of `quantity` for one set of one run.
struct Series {
  std::string run, set, quantity;
  std::vector<std::pair<double, double>> points; // (step, value)
};

/// Scalars that are not learning curves.
bool isCurve(const std::string &key) {
  return key != "step" && key != "set" && key != "wall_time" &&
         key != "learning_rate" && key != "examples_per_s" &&
         key != contract::kRoleGradNorm;
}

/// Reads one metrics.jsonl into `series` (appending; `run` names it).
Status readMetrics(const std::string &path, const std::string &run,
                   std::vector<Series> &series) {
  // A regular file only: a FIFO or a device would block or never end.
  uint64_t size = 0;
  auto fd = runtime::openRegularFile(path, &size);
  if (!fd.ok())
    return Status::error("cannot read '" + path + "': " + fd.status().message());
  auto buffer = llvm::MemoryBuffer::getOpenFile(*fd, path, size);
  ::close(*fd);
  if (!buffer)
    return Status::error("cannot read '" + path + "': " + buffer.getError().message());
  llvm::StringRef text = (*buffer)->getBuffer();
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (int line = 1; !text.empty(); ++line) {
    auto [row, rest] = text.split('\n');
    text = rest;
    if (row.trim().empty())
      continue;
    std::string where = path + ":" + std::to_string(line) + ": ";
    auto value = llvm::json::parse(row);
    if (!value)
      return Status::error(where + "not JSON: " + llvm::toString(value.takeError()));
    const llvm::json::Object *obj = value->getAsObject();
    std::optional<double> step = obj ? obj->getNumber("step") : std::nullopt;
    std::optional<llvm::StringRef> set = obj ? obj->getString("set") : std::nullopt;
    if (!step || !set)
      return Status::error(where + "expected an object with \"step\" and \"set\"");
    for (const auto &[key, v] : *obj) {
      if (!isCurve(key.str()))
        continue;
      std::optional<double> number = v.getAsNumber();
      if (!number && v.kind() != llvm::json::Value::Null)
        return Status::error(where + "\"" + key.str() + "\" is not a number");
      auto id = std::make_pair(set->str(), key.str());
      auto it = index.find(id);
      if (it == index.end()) {
        it = index.emplace(id, series.size()).first;
        series.push_back(Series{run, set->str(), key.str(), {}});
      }
      // null (a NaN or infinite value) leaves a gap-free curve without it.
      if (number && std::isfinite(*number))
        series[it->second].points.emplace_back(*step, *number);
    }
  }
  return Status::success();
}

/// Every run under `dir`: each folder (DIR itself included) that holds a
/// metrics.jsonl, named by its path below DIR (DIR's own name for DIR).
StatusOr<std::vector<Series>> readRuns(const std::string &dir) {
  namespace fs = llvm::sys::fs;
  if (!fs::is_directory(dir))
    return Status::error("'" + dir + "' is not a folder (expected a --logdir folder)");
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::path::filename(it->path()) == "metrics.jsonl")
      files.push_back(it->path());
  if (ec)
    return Status::error("cannot read '" + dir + "': " + ec.message());
  if (files.empty())
    return Status::error("'" + dir + "' holds no metrics.jsonl (write one with dlc "
                                     "train --logdir)");
  std::sort(files.begin(), files.end());
  std::vector<Series> series;
  for (const std::string &file : files) {
    llvm::StringRef folder = llvm::sys::path::parent_path(file);
    std::string run = folder.size() > dir.size()
                          ? folder.drop_front(dir.size()).ltrim('/').str()
                          : llvm::sys::path::filename(llvm::StringRef(dir).rtrim('/')).str();
    if (Status s = readMetrics(file, run, series); !s.ok())
      return s;
  }
  return series;
}

/// An axis: linear from lo to hi, or log10 of them.
struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v) const {
    double a = log ? std::log10(lo) : lo, b = log ? std::log10(hi) : hi;
    double x = log ? std::log10(v) : v;
    return (x - a) / (b - a);
  }
  /// Round tick values (1, 2, 5 times a power of ten; powers of ten on a log
  /// axis, with 2 and 5 when there are fewer than three).
  std::vector<double> ticks() const {
    std::vector<double> out;
    if (log) {
      for (int e = static_cast<int>(std::floor(std::log10(lo)));
           e <= static_cast<int>(std::ceil(std::log10(hi))); ++e)
        for (double m : {1.0, 2.0, 5.0})
          out.push_back(m * std::pow(10.0, e));
      std::vector<double> decades;
      for (double t : out)
        if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9) &&
            std::fabs(std::log10(t) - std::round(std::log10(t))) < 1e-9)
          decades.push_back(t);
      if (decades.size() >= 3)
        out = decades;
    } else {
      double raw = (hi - lo) / 5, base = std::pow(10.0, std::floor(std::log10(raw)));
      double step = base * (raw / base < 1.5 ? 1 : raw / base < 3.5 ? 2 : raw / base < 7.5 ? 5 : 10);
      for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
        out.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
    }
    out.erase(std::remove_if(out.begin(), out.end(),
                             [&](double t) { return t < lo * (1 - 1e-9) - 1e-300 || t > hi * (1 + 1e-9) + 1e-300; }),
              out.end());
    return out;
  }
};

/// A range with a margin; never empty.
Axis axisFor(double lo, double hi, bool log) {
  Axis a;
  a.log = log;
  if (log) {
    a.lo = std::pow(10.0, std::floor(std::log10(lo) * 10) / 10);
    a.hi = std::pow(10.0, std::ceil(std::log10(hi) * 10) / 10);
    return a;
  }
  if (hi <= lo) {
    double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  double pad = (hi - lo) * 0.04;
  a.lo = lo - pad;
  a.hi = hi + pad;
  return a;
}

std::string tickLabel(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

struct Color {
  double r, g, b;
};
// Matplotlib's tab10, the colours most readers know from curves.
const Color kPalette[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055},
                          {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
                          {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                          {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
                          {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812}};

void text(cairo_t *cr, double x, double y, const std::string &s, double alignX,
          double alignY, double size) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_move_to(cr, x - e.x_advance * alignX, y + e.height * alignY);
  cairo_show_text(cr, s.c_str());
}

/// The style of a set: train solid, validation dashed, test dotted with
/// dots at the points.
void setStroke(cairo_t *cr, const std::string &set) {
  static const double dash[] = {7, 4}, dot[] = {2, 3};
  if (set == "validation")
    cairo_set_dash(cr, dash, 2, 0);
  else if (set == "train")
    cairo_set_dash(cr, nullptr, 0, 0);
  else
    cairo_set_dash(cr, dot, 2, 0);
}

/// Draws the figure: panels side by side (three per row), the legend below.
void draw(cairo_t *cr, const std::vector<Series> &series,
          const std::vector<std::string> &quantities,
          const std::vector<std::pair<std::string, std::string>> &keys,
          const std::map<std::string, bool> &logScale, double width, double height,
          int cols, double panelW, double panelH, double legendH) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  auto colorOf = [&](const Series &s) {
    size_t k = std::find(keys.begin(), keys.end(), std::make_pair(s.run, s.set)) - keys.begin();
    // One run: a colour per set; several: a colour per run.
    std::vector<std::string> runs;
    for (const auto &[run, set] : keys)
      if (std::find(runs.begin(), runs.end(), run) == runs.end())
        runs.push_back(run);
    if (runs.size() > 1)
      k = std::find(runs.begin(), runs.end(), s.run) - runs.begin();
    return kPalette[k % 10];
  };
  const double left = 72, right = 18, top = 34, bottom = 46;
  for (size_t q = 0; q < quantities.size(); ++q) {
    double x0 = (q % cols) * panelW, y0 = (q / cols) * panelH;
    double px = x0 + left, py = y0 + top, pw = panelW - left - right, ph = panelH - top - bottom;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (const Series &s : series)
      if (s.quantity == quantities[q])
        for (auto [x, y] : s.points) {
          xlo = std::min(xlo, x), xhi = std::max(xhi, x);
          ylo = std::min(ylo, y), yhi = std::max(yhi, y);
        }
    if (!(xlo <= xhi))
      xlo = 0, xhi = 1, ylo = 0, yhi = 1;
    bool log = logScale.at(quantities[q]);
    Axis ax = axisFor(xlo, xhi, false), ay = axisFor(ylo, yhi, log);
    if (xlo >= 0 && ax.lo < 0)
      ax.lo = 0;
    // Title, grid, ticks and frame.
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, px + pw / 2, y0 + 22, quantities[q] + (log ? " (log scale)" : ""), 0.5, 0, 15);
    cairo_set_line_width(cr, 1);
    for (double t : ay.ticks()) {
      double y = py + ph - ay.map(t) * ph;
      cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
      cairo_move_to(cr, px, y);
      cairo_line_to(cr, px + pw, y);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
      text(cr, px - 6, y, tickLabel(t), 1, 0.5, 11);
    }
    for (double t : ax.ticks()) {
      double x = px + ax.map(t) * pw;
      cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
      cairo_move_to(cr, x, py);
      cairo_line_to(cr, x, py + ph);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
      text(cr, x, py + ph + 16, tickLabel(t), 0.5, 0, 11);
    }
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_stroke(cr);
    text(cr, px + pw / 2, py + ph + 36, "step", 0.5, 0, 12);
    // The curves, clipped to the plot area.
    cairo_save(cr);
    cairo_rectangle(cr, px, py, pw, ph);
    cairo_clip(cr);
    cairo_set_line_width(cr, 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (const Series &s : series) {
      if (s.quantity != quantities[q] || s.points.empty())
        continue;
      Color c = colorOf(s);
      cairo_set_source_rgb(cr, c.r, c.g, c.b);
      setStroke(cr, s.set);
      for (size_t i = 0; i < s.points.size(); ++i) {
        double x = px + ax.map(s.points[i].first) * pw;
        double y = py + ph - ay.map(s.points[i].second) * ph;
        i == 0 ? cairo_move_to(cr, x, y) : cairo_line_to(cr, x, y);
      }
      cairo_stroke(cr);
      if (s.set != "train" && s.set != "validation") {
        for (auto [sx, sy] : s.points) {
          cairo_arc(cr, px + ax.map(sx) * pw, py + ph - ay.map(sy) * ph, 4, 0, 2 * M_PI);
          cairo_fill(cr);
        }
      }
    }
    cairo_restore(cr);
  }
  // The legend: one entry per run and set, in rows under the panels.
  double lx = 20, ly = height - legendH + 18;
  cairo_set_line_width(cr, 2);
  for (const auto &[run, set] : keys) {
    std::string label = (keys.front().first == keys.back().first ? "" : run + " ") + set;
    cairo_set_font_size(cr, 12);
    cairo_text_extents_t e;
    cairo_text_extents(cr, label.c_str(), &e);
    double w = 40 + e.x_advance + 24;
    if (lx + w > width - 10) {
      lx = 20;
      ly += 20;
    }
    Series probe{run, set, "", {}};
    Color c = colorOf(probe);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    setStroke(cr, set);
    cairo_move_to(cr, lx, ly);
    cairo_line_to(cr, lx + 32, ly);
    cairo_stroke(cr);
    if (set != "train" && set != "validation") {
      cairo_arc(cr, lx + 16, ly, 4, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    cairo_set_dash(cr, nullptr, 0, 0);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, lx + 38, ly, label, 0, 0.4, 12);
    lx += w;
  }
}
} // namespace

int plot(const Flags &flags) {
  const std::string &out = flags.output;
  auto extension = figureExtension("plot", out, {".svg", ".png", ".pdf"});
  if (!extension.ok())
    return fail(extension.status());
  const std::string &ext = *extension;
  if (Status s = runtime::checkOutputs(flags.file, {{"-o", out}});
      !s.ok())
    return fail(s);
  auto series = readRuns(flags.file);
  if (!series.ok())
    return fail(series.status());

  // Panels: the loss first, then the metrics in the order first seen.
  std::vector<std::string> quantities;
  std::vector<std::pair<std::string, std::string>> keys;
  for (const Series &s : *series) {
    if (std::find(quantities.begin(), quantities.end(), s.quantity) == quantities.end())
      quantities.insert(s.quantity == "loss" ? quantities.begin() : quantities.end(), s.quantity);
    auto key = std::make_pair(s.run, s.set);
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      keys.push_back(key);
  }
  // Sets in the order train, validation, test within each run.
  auto rank = [](const std::string &set) {
    return set == "train" ? 0 : set == "validation" ? 1 : set == "test" ? 2 : 3;
  };
  std::sort(keys.begin(), keys.end(), [&](const auto &a, const auto &b) {
    return a.first != b.first ? a.first < b.first : rank(a.second) < rank(b.second);
  });
  std::map<std::string, bool> logScale;
  for (const std::string &q : quantities) {
    double lo = INFINITY, hi = 0;
    for (const Series &s : *series)
      if (s.quantity == q)
        for (auto [x, y] : s.points)
          lo = std::min(lo, y), hi = std::max(hi, y);
    logScale[q] = q == "loss" && lo > 0 && hi / lo >= 100;
  }

  int cols = std::min<int>(quantities.size(), 3);
  int rows = (quantities.size() + cols - 1) / cols;
  double panelW = 460, panelH = 340;
  double legendH = 30 + 20 * ((keys.size() * 170) / (cols * panelW));
  double width = cols * panelW, height = rows * panelH + legendH;

  std::string tmp = out + ".tmp" + std::to_string(::getpid());
  cairo_surface_t *surface =
      ext == ".svg"   ? cairo_svg_surface_create(tmp.c_str(), width, height)
      : ext == ".pdf" ? cairo_pdf_surface_create(tmp.c_str(), width, height)
                      : cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(width),
                                                   static_cast<int>(height));
  cairo_t *cr = cairo_create(surface);
  draw(cr, *series, quantities, keys, logScale, width, height, cols, panelW, panelH, legendH);
  cairo_destroy(cr);
  cairo_surface_flush(surface);
  cairo_status_t status = ext == ".png" ? cairo_surface_write_to_png(surface, tmp.c_str())
                                        : CAIRO_STATUS_SUCCESS;
  cairo_surface_finish(surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  if (status != CAIRO_STATUS_SUCCESS) {
    llvm::sys::fs::remove(tmp);
    return fail(Status::error("cannot write '" + out + "': " + cairo_status_to_string(status)));
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, out)) {
    llvm::sys::fs::remove(tmp);
    return fail(Status::error("cannot write '" + out + "': " + ec.message()));
  }
  // What was drawn, for the reader and for tests.
  for (const std::string &q : quantities) {
    llvm::outs() << q << (logScale[q] ? " (log scale):" : ":");
    for (const Series &s : *series)
      if (s.quantity == q)
        llvm::outs() << " " << (keys.front().first == keys.back().first ? "" : s.run + "/")
                     << s.set << " " << s.points.size();
    llvm::outs() << "\n";
  }
  llvm::outs() << "wrote " << out << "\n";
  return 0;
}

} // namespace dlc::tool
