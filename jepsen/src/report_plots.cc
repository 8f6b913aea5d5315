// The run's SVG plots (report.h): latency, rate, locks. Hand-written SVG: a white page, a title,
// the plot area with the nemesis's faults shaded behind, axes with ticks, a legend on the right.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "lock_checker.h"
#include "report.h"

namespace keyward::jepsen {

namespace {

// The page and its plot area.
constexpr double kWidth = 1000;
constexpr double kLeft = 70, kRight = 810, kTop = 50;
constexpr double kLegend = kRight + 24;  // the legend's left
constexpr double kBelow = 50;            // under the plot area: the x axis's labels

// Each f's color (rate lines), in the order of the fs' names.
const char* FColor(size_t index) {
  static const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                   "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return kPalette[index % 8];
}

constexpr const char* kStyle =
    ".title{font-size:14px;font-weight:bold}.sub{fill:#555}.axis{stroke:#333;fill:none}"
    ".grid{stroke:#e6e6e6}.lab{fill:#333}.ok{fill:#2a2}.fail{fill:#d33}.info{fill:#e90}"
    ".pt{fill-opacity:.7}.line{fill:none;stroke-width:1.5}.band{fill-opacity:.4}"
    ".bl{font-size:9px;fill:#444}.event{stroke:#444;stroke-dasharray:4 "
    "2}.hold{fill:#a8c8ea;stroke:#4a7fb0;stroke-width:.6}"
    ".open{stroke-dasharray:3 2}.lease{fill:#1f4e8c}.lease-end{stroke:#000;stroke-width:1.5}"
    ".overrun{fill:#e33}.token{font-size:9px;fill:#123}";

// A step for `target` ticks or fewer over `range`: 1, 2 or 5 x 10^k.
double NiceStep(double range, int target) {
  if (!(range > 0)) return 1;
  const double raw = range / target;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

// The decimals a tick label needs at `step`.
int Decimals(double step) { return std::max(0, static_cast<int>(-std::floor(std::log10(step)))); }

// The page's start: its size, style, title and subtitle.
std::string Open(double height, const std::string& title, const std::string& subtitle) {
  const std::string w = Num(kWidth), h = Num(height);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h +
         "\" viewBox=\"0 0 " + w + " " + h + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  out += "<title>" + EscapeXml(title) + "</title>\n<style>" + kStyle + "</style>\n";
  out += "<rect width=\"" + w + "\" height=\"" + h + "\" fill=\"#fff\"/>\n";
  out +=
      "<text class=\"title\" x=\"" + Num(kLeft) + "\" y=\"20\">" + EscapeXml(title) + "</text>\n";
  out +=
      "<text class=\"sub\" x=\"" + Num(kLeft) + "\" y=\"36\">" + EscapeXml(subtitle) + "</text>\n";
  return out;
}

// The time axis: seconds from 0 to `x_hi`.
struct TimeAxis {
  double x_hi = 1;
  double X(int64_t ns) const { return X(ns / 1e9); }
  double X(double s) const { return kLeft + std::clamp(s / x_hi, 0.0, 1.0) * (kRight - kLeft); }
};

// The nemesis's faults, shaded from `top` to `bottom`, labelled downwards at their left.
void Bands(std::string& out, const std::vector<Band>& bands, const TimeAxis& t, double top,
           double bottom) {
  out += "<g class=\"bands\">\n";
  for (const Band& b : bands) {
    const double x0 = t.X(b.start_ns), x1 = std::max(t.X(b.end_ns), x0 + 1);
    if (b.start_ns / 1e9 > t.x_hi) continue;
    const std::string title =
        "<title>" + EscapeXml(b.label + ": " + Ms(b.start_ns) + " ms to " + Ms(b.end_ns) + " ms") +
        "</title>";
    if (b.ended_by == "event") {  // an instant: a line
      out += "<line class=\"event\" x1=\"" + Num(x0) + "\" y1=\"" + Num(top) + "\" x2=\"" +
             Num(x0) + "\" y2=\"" + Num(bottom) + "\">" + title + "</line>\n";
    } else {
      out += "<rect class=\"band\" fill=\"" + std::string(FaultFill(FaultColor(b.fault))) +
             "\" x=\"" + Num(x0) + "\" y=\"" + Num(top) + "\" width=\"" + Num(x1 - x0) +
             "\" height=\"" + Num(bottom - top) + "\">" + title + "</rect>\n";
    }
    if (x1 - x0 >= 8 || b.ended_by == "event") {
      out += "<text class=\"bl\" transform=\"translate(" + Num(x0 + 2) + "," + Num(top + 3) +
             ") rotate(90)\">" + EscapeXml(b.label) + "</text>\n";
    }
  }
  out += "</g>\n";
}

// The x axis under `bottom`, its grid up to `top`.
void XAxis(std::string& out, const TimeAxis& t, double top, double bottom) {
  const double step = NiceStep(t.x_hi, 10);
  for (int k = 0; k * step <= t.x_hi * (1 + 1e-9); k++) {
    const std::string x = Num(t.X(k * step));
    out += "<line class=\"grid\" x1=\"" + x + "\" y1=\"" + Num(top) + "\" x2=\"" + x + "\" y2=\"" +
           Num(bottom) + "\"/><text class=\"lab\" x=\"" + x + "\" y=\"" + Num(bottom + 15) +
           "\" text-anchor=\"middle\">" + Num(k * step, Decimals(step)) + "</text>\n";
  }
  out += "<line class=\"axis\" x1=\"" + Num(kLeft) + "\" y1=\"" + Num(bottom) + "\" x2=\"" +
         Num(kRight) + "\" y2=\"" + Num(bottom) + "\"/>\n";
  out += "<text class=\"lab\" x=\"" + Num((kLeft + kRight) / 2) + "\" y=\"" + Num(bottom + 34) +
         "\" text-anchor=\"middle\">time (s)</text>\n";
}

// A horizontal grid line with its label at the left (a y tick).
void YTick(std::string& out, double y, const std::string& label) {
  out += "<line class=\"grid\" x1=\"" + Num(kLeft) + "\" y1=\"" + Num(y) + "\" x2=\"" +
         Num(kRight) + "\" y2=\"" + Num(y) + "\"/><text class=\"lab\" x=\"" + Num(kLeft - 5) +
         "\" y=\"" + Num(y + 4) + "\" text-anchor=\"end\">" + EscapeXml(label) + "</text>\n";
}

// The y axis's line and its title (rotated), from `top` to `bottom`.
void YAxis(std::string& out, double top, double bottom, const std::string& title) {
  out += "<line class=\"axis\" x1=\"" + Num(kLeft) + "\" y1=\"" + Num(top) + "\" x2=\"" +
         Num(kLeft) + "\" y2=\"" + Num(bottom) + "\"/>\n";
  out += "<text class=\"lab\" transform=\"translate(18," + Num((top + bottom) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + EscapeXml(title) + "</text>\n";
}

// The legend, on the right: one entry a line, `swatch` drawn at (x, y) of its entry.
class Legend {
 public:
  explicit Legend(double top) : y_(top) { out_ = "<g class=\"legend\">\n"; }
  void Add(const std::string& swatch, const std::string& label) {
    out_ += swatch + "<text class=\"lab\" x=\"" + Num(kLegend + 16) + "\" y=\"" + Num(y_ + 4) +
            "\">" + EscapeXml(label) + "</text>\n";
    y_ += 16;
  }
  double y() const { return y_; }  // the next entry's middle
  // The faults shaded in the plot.
  void AddFaults(const std::vector<Band>& bands) {
    std::set<std::string> seen;
    for (const Band& b : bands) {
      if (!seen.insert(b.fault).second) continue;
      if (b.ended_by == "event") {
        Add("<line class=\"event\" x1=\"" + Num(kLegend + 5) + "\" y1=\"" + Num(y_ - 6) +
                "\" x2=\"" + Num(kLegend + 5) + "\" y2=\"" + Num(y_ + 6) + "\"/>",
            b.fault);
        continue;
      }
      Add("<rect class=\"band\" fill=\"" + std::string(FaultFill(FaultColor(b.fault))) + "\" x=\"" +
              Num(kLegend) + "\" y=\"" + Num(y_ - 5) + "\" width=\"10\" height=\"10\"/>",
          b.fault);
    }
  }
  std::string Close() { return out_ + "</g>\n"; }

 private:
  double y_;
  std::string out_;
};

// A marker of `shape` (one per f: circle, square, triangle up, diamond, triangle down, bar)
// centered at (x, y).
std::string Marker(size_t shape, double x, double y, const std::string& cls) {
  const std::string c = "class=\"" + cls + "\" ";
  switch (shape % 6) {
    case 0:
      return "<circle " + c + "cx=\"" + Num(x) + "\" cy=\"" + Num(y) + "\" r=\"2.6\"/>";
    case 1:
      return "<rect " + c + "x=\"" + Num(x - 2.3) + "\" y=\"" + Num(y - 2.3) +
             "\" width=\"4.6\" height=\"4.6\"/>";
    case 2:
      return "<path " + c + "d=\"M" + Num(x) + " " + Num(y - 3.2) + "l3 5.4h-6z\"/>";
    case 3:
      return "<path " + c + "d=\"M" + Num(x) + " " + Num(y - 3.4) + "l3 3.4l-3 3.4l-3-3.4z\"/>";
    case 4:
      return "<path " + c + "d=\"M" + Num(x) + " " + Num(y + 3.2) + "l3-5.4h-6z\"/>";
    default:
      return "<rect " + c + "x=\"" + Num(x - 4) + "\" y=\"" + Num(y - 1.5) +
             "\" width=\"8\" height=\"3\"/>";
  }
}

const char* Outcome(OpType type) {
  return type == OpType::kOk ? "ok" : type == OpType::kFail ? "fail" : "info";
}

// The time axis of a run: to its end, at least a millisecond.
TimeAxis RunAxis(const std::vector<Op>& ops) { return TimeAxis{std::max(RunEnd(ops) / 1e9, 1e-3)}; }

}  // namespace

std::string LatencySvg(const std::vector<Op>& ops, const ReportOptions& options) {
  constexpr double kBottom = 400;
  std::vector<Interval> done;
  size_t never = 0;
  std::set<std::string> fs;
  for (Interval& i : Intervals(ops)) {
    if (!i.completed()) {
      never++;
      continue;
    }
    fs.insert(i.f);
    done.push_back(std::move(i));
  }
  // Too many to draw: one in `stride`, over the whole run.
  const size_t cap = std::max<size_t>(options.max_points, 1);
  const size_t stride = std::max<size_t>(1, (done.size() + cap - 1) / cap);
  std::vector<const Interval*> drawn;
  for (size_t k = 0; k < done.size(); k += stride) drawn.push_back(&done[k]);
  // Latencies in ms on a log scale, whole decades; below a microsecond counts as one.
  auto latency = [](const Interval& i) {
    return std::max((i.complete_ns - i.invoke_ns) / 1e6, 1e-3);
  };
  double lo = 0, hi = 3;
  if (!drawn.empty()) {
    double min = latency(*drawn[0]), max = min;
    for (const Interval* i : drawn) {
      min = std::min(min, latency(*i));
      max = std::max(max, latency(*i));
    }
    lo = std::floor(std::log10(min));
    hi = std::max(std::ceil(std::log10(max)), lo + 1);
  }
  auto y = [&](double ms) {
    return kBottom - (std::log10(ms) - lo) / (hi - lo) * (kBottom - kTop);
  };

  std::string subtitle = std::to_string(done.size()) + " completed operations";
  if (stride > 1) {
    subtitle += " (one in " + std::to_string(stride) + " drawn, " + std::to_string(drawn.size()) +
                " points)";
  }
  if (never > 0) subtitle += ", " + std::to_string(never) + " never completed (not drawn)";
  subtitle += "; latency: completion - invocation, at the invocation";
  std::string out;
  const TimeAxis t = RunAxis(ops);
  const std::vector<Band> bands = NemesisBands(ops);
  Bands(out, bands, t, kTop, kBottom);
  XAxis(out, t, kTop, kBottom);
  // A tick at each decade; at 2 and 5 too when there are few.
  for (int e = static_cast<int>(lo); e <= static_cast<int>(hi); e++) {
    for (double m : {1.0, 2.0, 5.0}) {
      if ((m != 1 && hi - lo > 3) || (m != 1 && e == static_cast<int>(hi))) continue;
      YTick(out, y(m * std::pow(10, e)), Num(m * std::pow(10, e), std::max(0, -e)));
    }
  }
  YAxis(out, kTop, kBottom, "latency (ms)");

  // One point an operation: its outcome's color, its f's shape.
  const std::vector<std::string> f_list(fs.begin(), fs.end());
  auto shape = [&f_list](const std::string& f) {
    return static_cast<size_t>(std::find(f_list.begin(), f_list.end(), f) - f_list.begin());
  };
  out += "<g class=\"points\">\n";
  for (const Interval* i : drawn) {
    out += Marker(shape(i->f), t.X(i->invoke_ns), y(latency(*i)),
                  std::string("pt ") + Outcome(i->outcome)) +
           "\n";
  }
  out += "</g>\n";

  Legend legend(kTop + 4);
  for (OpType type : {OpType::kOk, OpType::kFail, OpType::kInfo}) {
    legend.Add(Marker(0, kLegend + 5, legend.y(), Outcome(type)), Outcome(type));
  }
  for (size_t k = 0; k < f_list.size(); k++) {
    legend.Add(Marker(k, kLegend + 5, legend.y(), "lab"), f_list[k]);
  }
  legend.AddFaults(bands);
  return Open(std::max(kBottom + kBelow, legend.y() + 8), "Latency", subtitle) + out +
         legend.Close() + "</svg>\n";
}

std::string RateSvg(const std::vector<Op>& ops) {
  constexpr double kBottom = 400;
  constexpr int64_t kBucket = 1'000'000'000;  // 1 s
  const size_t buckets = static_cast<size_t>(RunEnd(ops) / kBucket) + 1;
  // Completions in each second, per f and outcome.
  std::map<std::pair<std::string, OpType>, std::vector<int64_t>> counts;
  std::set<std::string> fs;
  for (const Interval& i : Intervals(ops)) {
    if (!i.completed()) continue;
    std::vector<int64_t>& c = counts[{i.f, i.outcome}];
    c.resize(buckets);
    c[static_cast<size_t>(i.complete_ns / kBucket)]++;
    fs.insert(i.f);
  }
  int64_t max = 0;
  for (const auto& [key, c] : counts) max = std::max(max, *std::max_element(c.begin(), c.end()));
  const double step = NiceStep(static_cast<double>(max), 6);
  const double y_hi = max == 0 ? 1 : std::ceil(max / step) * step;
  auto y = [&](double v) { return kBottom - v / y_hi * (kBottom - kTop); };

  std::string out;
  const TimeAxis t{static_cast<double>(buckets)};
  const std::vector<Band> bands = NemesisBands(ops);
  Bands(out, bands, t, kTop, kBottom);
  XAxis(out, t, kTop, kBottom);
  for (double v = 0; v <= y_hi * (1 + 1e-9); v += step) YTick(out, y(v), Num(v, Decimals(step)));
  YAxis(out, kTop, kBottom, "operations / s");

  // A line per f and outcome, a step a bucket: the f's color, the outcome's dashes.
  const std::vector<std::string> f_list(fs.begin(), fs.end());
  auto color = [&f_list](const std::string& f) {
    return FColor(static_cast<size_t>(std::find(f_list.begin(), f_list.end(), f) - f_list.begin()));
  };
  auto dashes = [](OpType type) {
    return type == OpType::kOk     ? ""
           : type == OpType::kFail ? " stroke-dasharray=\"6 3\""
                                   : " stroke-dasharray=\"2 2\"";
  };
  Legend legend(kTop + 4);
  out += "<g class=\"lines\">\n";
  for (const auto& [key, c] : counts) {
    const std::string name = key.first + " " + Outcome(key.second);
    std::string points, per_second;
    for (size_t b = 0; b < c.size(); b++) {
      const std::string yb = Num(y(static_cast<double>(c[b])));
      points += (b == 0 ? "" : " ") + Num(t.X(static_cast<double>(b))) + "," + yb + " " +
                Num(t.X(static_cast<double>(b + 1))) + "," + yb;
      per_second += (b == 0 ? "" : " ") + std::to_string(c[b]);
    }
    const std::string stroke =
        "stroke=\"" + std::string(color(key.first)) + "\"" + dashes(key.second);
    out += "<polyline class=\"line\" " + stroke + " points=\"" + points + "\"><title>" +
           EscapeXml(name) + " per second: " + per_second + "</title></polyline>\n";
    legend.Add("<line class=\"line\" " + stroke + " x1=\"" + Num(kLegend) + "\" y1=\"" +
                   Num(legend.y()) + "\" x2=\"" + Num(kLegend + 12) + "\" y2=\"" + Num(legend.y()) +
                   "\"/>",
               name);
  }
  out += "</g>\n";
  legend.AddFaults(bands);
  return Open(std::max(kBottom + kBelow, legend.y() + 8), "Throughput",
              "completions per second, per f and outcome (1 s buckets; the last one may be a part "
              "of a second)") +
         out + legend.Close() + "</svg>\n";
}

std::optional<std::string> LocksSvg(const std::vector<Op>& ops, const ReportOptions& options) {
  if (std::none_of(ops.begin(), ops.end(), [](const Op& op) { return op.f == "acquire"; })) {
    return std::nullopt;
  }
  constexpr double kRow = 18, kBar = 12, kLease = 4;
  const std::vector<Holding> all = Holdings(ops);
  const size_t drawn = std::min(all.size(), options.max_points);
  std::map<int, size_t> row;  // process -> its row
  for (size_t k = 0; k < drawn; k++) row.emplace(all[k].process, 0);
  size_t next = 0;
  for (auto& [process, r] : row) r = next++;
  const double bottom = kTop + std::max<double>(1, static_cast<double>(row.size())) * kRow + 4;
  const int64_t run_end = RunEnd(ops);

  size_t overruns = 0;
  for (size_t k = 0; k < drawn; k++) {
    if (all[k].valid_until_ns < std::min(all[k].release_ns, run_end)) overruns++;
  }
  std::string subtitle = std::to_string(all.size()) + " holdings";
  if (drawn < all.size()) subtitle += " (the first " + std::to_string(drawn) + " drawn)";
  subtitle += ": from the acquire's ok to the release's invocation, the lease (thin) within; " +
              std::to_string(overruns) + " held past the end of their lease (|, red)";
  std::string out;
  const TimeAxis t = RunAxis(ops);
  const std::vector<Band> bands = NemesisBands(ops);
  Bands(out, bands, t, kTop, bottom);
  XAxis(out, t, kTop, bottom);
  YAxis(out, kTop, bottom, "process");
  if (all.empty()) {
    out += "<text class=\"lab\" x=\"" + Num(kLeft + 10) + "\" y=\"" + Num(kTop + 13) +
           "\">no acquire completed ok</text>\n";
  }
  for (const auto& [process, r] : row) {
    out += "<text class=\"lab\" x=\"" + Num(kLeft - 5) + "\" y=\"" + Num(kTop + r * kRow + 13) +
           "\" text-anchor=\"end\">p" + std::to_string(process) + "</text>\n";
  }

  out += "<g class=\"holdings\">\n";
  for (size_t k = 0; k < drawn; k++) {
    const Holding& h = all[k];
    const double top = kTop + row[h.process] * kRow + (kRow - kBar) / 2;
    const bool open = h.release_ns == INT64_MAX;
    const int64_t end = std::min(h.release_ns, run_end);
    const double x0 = t.X(h.ok_ns), x1 = std::max(t.X(end), x0 + 1);
    const std::string token = h.token ? std::to_string(*h.token) : "";
    const std::string tip =
        "p" + std::to_string(h.process) + " " + h.resource + " token " +
        (h.token ? token : "none") + "\nacquire invoked " + Ms(h.invoke_ns) + " ms, ok " +
        Ms(h.ok_ns) + " ms\nlease until " + Ms(h.valid_until_ns) + " ms\n" +
        (open ? "never released" : "release invoked " + Ms(h.release_ns) + " ms");
    // The holding's parts share its tooltip.
    out += "<g><title>" + EscapeXml(tip) + "</title><rect class=\"hold" + (open ? " open" : "") +
           "\" x=\"" + Num(x0) + "\" y=\"" + Num(top) + "\" width=\"" + Num(x1 - x0) +
           "\" height=\"" + Num(kBar) + "\"/>";
    // The lease, thin, along the bottom of the hold (its token above). Where it ended before the
    // hold did (or with it): a mark at its end, and the rest of the hold red.
    const double xv = t.X(std::clamp(h.valid_until_ns, h.ok_ns, end));
    if (h.valid_until_ns < end) {
      out += "<rect class=\"overrun\" x=\"" + Num(xv) + "\" y=\"" + Num(top) + "\" width=\"" +
             Num(std::max(x1 - xv, 1.0)) + "\" height=\"" + Num(kBar) + "\"/>";
    }
    out += "<rect class=\"lease\" x=\"" + Num(x0) + "\" y=\"" + Num(top + kBar - kLease) +
           "\" width=\"" + Num(xv - x0) + "\" height=\"" + Num(kLease) + "\"/>";
    if (h.valid_until_ns <= end) {
      out += "<line class=\"lease-end\" x1=\"" + Num(xv) + "\" y1=\"" + Num(top - 2) + "\" x2=\"" +
             Num(xv) + "\" y2=\"" + Num(top + kBar + 2) + "\"/>";
    }
    out += "</g>\n";
    if (h.token && x1 - x0 >= 6.0 * static_cast<double>(token.size()) + 6) {
      out += "<text class=\"token\" x=\"" + Num(x0 + 2) + "\" y=\"" + Num(top + 8) + "\">" + token +
             "</text>\n";
    }
  }
  out += "</g>\n";

  Legend legend(kTop + 4);
  auto box = [&legend](const std::string& cls, double height) {
    return "<rect class=\"" + cls + "\" x=\"" + Num(kLegend) + "\" y=\"" +
           Num(legend.y() - height / 2) + "\" width=\"12\" height=\"" + Num(height) + "\"/>";
  };
  legend.Add(box("hold", kBar), "held");
  legend.Add(box("hold open", kBar), "never released");
  legend.Add(box("lease", kLease), "lease");
  legend.Add("<line class=\"lease-end\" x1=\"" + Num(kLegend + 6) + "\" y1=\"" +
                 Num(legend.y() - 7) + "\" x2=\"" + Num(kLegend + 6) + "\" y2=\"" +
                 Num(legend.y() + 7) + "\"/>",
             "lease ended (held on)");
  legend.Add(box("overrun", kBar), "held past the lease");
  legend.AddFaults(bands);
  return Open(std::max(bottom + kBelow, legend.y() + 8), "Lock holdings", subtitle) + out +
         legend.Close() + "</svg>\n";
}

}  // namespace keyward::jepsen
