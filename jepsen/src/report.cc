// The run's reports (report.h): what they are drawn from, the timeline, and writing them all.
// The SVG plots are in report_plots.cc.
#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

namespace keyward::jepsen {

namespace {

// The nemesis ops that end a fault (nemesis.cc): a killed node started again, a paused one
// resumed, a network fault healed; and the likely names of the faults to come.
bool EndsAFault(const std::string& f) {
  static const std::set<std::string> kEnds = {"start",   "resume",  "heal",
                                              "restore", "recover", "reset"};
  return kEnds.count(f) > 0;
}

// The nemesis ops that are an instant, within a fault (a failover's promotion of a replica).
bool IsEvent(const std::string& f) { return f == "promote"; }

std::string Text(const nlohmann::json& j) {
  return j.is_string() ? j.get<std::string>() : j.is_null() ? "" : Dump(j);
}

// A grudge ({"n1":["n2","n3"],...}: who does not hear whom) in a few words: its sides when they
// are groups that hear each other and nothing across ("n1 | n2,n3"), else each node's grudge
// ("n1:n2 n2:n3 n3:n1").
std::string GrudgeText(const nlohmann::json& grudge) {
  if (!grudge.is_object()) return Text(grudge);
  std::map<std::string, std::set<std::string>> deaf;  // node -> the nodes it does not hear
  std::set<std::string> nodes;
  std::string each;
  for (auto& [to, froms] : grudge.items()) {
    nodes.insert(to);
    std::string list;
    for (const nlohmann::json& from : froms.is_array() ? froms : nlohmann::json::array()) {
      nodes.insert(Text(from));
      deaf[to].insert(Text(from));
      list += (list.empty() ? "" : ",") + Text(from);
    }
    each += (each.empty() ? "" : " ") + to + ":" + list;
  }
  auto hears = [&deaf](const std::string& to, const std::string& from) {
    return deaf[to].count(from) == 0;
  };
  // Each node joins the first group whose members it hears, and which hear it.
  std::vector<std::vector<std::string>> groups;
  for (const std::string& n : nodes) {
    auto g = std::find_if(groups.begin(), groups.end(), [&](const std::vector<std::string>& g) {
      return std::all_of(g.begin(), g.end(),
                         [&](const std::string& m) { return hears(n, m) && hears(m, n); });
    });
    if (g == groups.end()) g = groups.emplace(groups.end());
    g->push_back(n);
  }
  // Sides only if nothing is heard across.
  std::string sides;
  for (size_t i = 0; i < groups.size(); i++) {
    for (size_t k = 0; k < groups.size(); k++) {
      for (const std::string& a : groups[i]) {
        for (const std::string& b : groups[k]) {
          if (i != k && hears(a, b)) return each;
        }
      }
    }
    std::string members;
    for (const std::string& n : groups[i]) members += (members.empty() ? "" : ",") + n;
    sides += (sides.empty() ? "" : " | ") + members;
  }
  return sides;
}

// A fault's target in a few words: {"node":2,"port":7001} -> "n2", {"client":1,"ms":1500} ->
// "client 1 1500 ms", a grudge as GrudgeText; other fields as key=value (the port is left out:
// the node says it).
std::string Target(const nlohmann::json& v) {
  if (!v.is_object()) return Text(v);
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  for (auto& [key, x] : v.items()) {
    const std::string text = Text(x);
    if (key == "port") continue;
    if (key == "node") {
      add("n" + text);
    } else if (key == "master") {
      add("master n" + text);
    } else if (key == "client") {
      add("client " + text);
    } else if (key == "ms") {
      add(text + " ms");
    } else if (key == "grudge") {
      add(GrudgeText(x));
    } else {
      add(key + "=" + text);
    }
  }
  return out;
}

// The number of bytes of the UTF-8 sequence at `s[i]`, or 0 when it is not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; k++) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

// At most `max` bytes of `s`, cut at a character's boundary, "…" added when cut.
std::string Shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) end--;
  return s.substr(0, end) + "\u2026";
}

// A value in words: an object's fields as key=value (strings unquoted, the rest as JSON).
std::string Fields(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (!v.is_object()) return v.is_null() ? "" : Dump(v);
  std::string s;
  for (auto& [key, x] : v.items()) {
    s += (s.empty() ? "" : " ") + key + "=" + (x.is_string() ? x.get<std::string>() : Dump(x));
  }
  return s;
}

// Every field of `part` (an invocation's value) is in `whole` (its completion's) as it is.
bool Within(const nlohmann::json& part, const nlohmann::json& whole) {
  if (part.is_null() || part == whole) return true;
  if (!part.is_object() || !whole.is_object()) return false;
  for (auto& [key, x] : part.items()) {
    if (!whole.contains(key) || whole[key] != x) return false;
  }
  return true;
}

// The outcome's name as the history writes it; "pending" for an operation never completed.
const char* OutcomeClass(OpType outcome) {
  return outcome == OpType::kInvoke ? "pending" : OpTypeName(outcome);
}

// The anomaly kinds results.json reports, with their counts: every "anomalies" list (the lock
// checker's [{kind, detail}], or kinds), or object (kind -> its cases), at any depth; a nested
// checker's "lost" and "unexpected" elements (the set's).
void CollectAnomalies(const nlohmann::json& j, std::map<std::string, size_t>& kinds, int depth) {
  if (!j.is_object() || depth > 4) return;
  for (auto& [key, v] : j.items()) {
    if (key == "anomalies" && v.is_array()) {
      for (const nlohmann::json& a : v) {
        if (a.is_object() && a.contains("kind")) kinds[Text(a["kind"])]++;
        if (a.is_string()) kinds[a.get<std::string>()]++;
      }
    } else if (key == "anomalies" && v.is_object()) {
      for (auto& [kind, cases] : v.items()) kinds[kind] += cases.is_array() ? cases.size() : 1;
    } else if ((key == "lost" || key == "unexpected") && v.is_array() && !v.empty()) {
      kinds[key] += v.size();
    } else if (v.is_object()) {
      CollectAnomalies(v, kinds, depth + 1);
    }
  }
}

// results.json's counts (its numbers, and those of its nested objects, one level down).
std::string Counts(const nlohmann::json& results) {
  std::string out;
  auto add = [&out](const std::string& key, const nlohmann::json& v) {
    if (v.is_number() || v.is_boolean()) out += (out.empty() ? "" : ", ") + key + " " + Dump(v);
  };
  if (!results.is_object()) return out;
  for (auto& [key, v] : results.items()) {
    if (key == "valid") continue;
    add(key, v);
    if (v.is_object()) {
      for (auto& [inner, x] : v.items()) add(key + "." + inner, x);
    }
  }
  return out;
}

// The header: the test, the verdict, the anomalies.
void Header(std::string& out, const nlohmann::json& test, const nlohmann::json& results) {
  const nlohmann::json t = test.is_object() ? test : nlohmann::json::object();
  auto field = [&t](const char* key) {
    if (!t.contains(key)) return std::string("?");
    const nlohmann::json& v = t[key];
    if (!v.is_array()) return Text(v);
    std::string s;
    for (const nlohmann::json& x : v) s += (s.empty() ? "" : ",") + Text(x);
    return s.empty() ? std::string("none") : s;
  };
  out += "<h1>" + EscapeXml(field("workload")) + "</h1>\n<table class=\"test\">";
  for (const char* key : {"workload", "nemesis", "nodes", "seed"}) {
    out += "<tr><th>" + std::string(key) + "</th><td>" + EscapeXml(field(key)) + "</td></tr>";
  }
  std::string rest;
  for (auto& [key, v] : t.items()) {
    if (key == "workload" || key == "nemesis" || key == "nodes" || key == "seed") continue;
    rest += (rest.empty() ? "" : ", ") + key + " " + Text(v);
  }
  if (!rest.empty()) out += "<tr><th>options</th><td>" + EscapeXml(rest) + "</td></tr>";
  out += "</table>\n";

  const nlohmann::json valid =
      results.is_object() && results.contains("valid") ? results["valid"] : nlohmann::json();
  const char* verdict = valid == true ? "valid" : valid == false ? "invalid" : "unknown";
  out += std::string("<p class=\"verdict ") + verdict + "\">valid? " +
         (valid == true    ? "true"
          : valid == false ? "false"
                           : "unknown") +
         "</p>\n";
  std::map<std::string, size_t> kinds;
  CollectAnomalies(results, kinds, 0);
  out += "<p class=\"anomalies\">anomalies: ";
  if (kinds.empty()) out += "none";
  bool first = true;
  for (const auto& [kind, n] : kinds) {
    out += std::string(first ? "" : ", ") + "<b>" + EscapeXml(kind) + "</b> (" + std::to_string(n) +
           ")";
    first = false;
  }
  out += "</p>\n";
  if (const std::string counts = Counts(results); !counts.empty()) {
    out += "<p class=\"counts\">" + EscapeXml(counts) + "</p>\n";
  }
}

// The timeline's geometry, in CSS pixels.
constexpr int kGutter = 64;   // the time labels, left of the columns
constexpr int kColumn = 150;  // a process's column
constexpr int kGap = 4;       // between columns
constexpr double kMinBox = 14;
constexpr double kMaxHeight = 200000;  // the whole timeline at most (browsers cope)

int ColumnLeft(size_t column) { return kGutter + static_cast<int>(column) * (kColumn + kGap); }

// Pixels a millisecond: a process's usual step (the median time between its successive
// invocations) gets about two lines of text, within [0.01, 50] and kMaxHeight in all.
double PixelsPerMs(const std::vector<Interval>& drawn, int64_t range_end_ns) {
  std::map<int, int64_t> last;
  std::vector<int64_t> gaps;
  for (const Interval& i : drawn) {
    auto it = last.find(i.process);
    if (it != last.end() && i.invoke_ns > it->second) gaps.push_back(i.invoke_ns - it->second);
    last[i.process] = i.invoke_ns;
  }
  double scale = 1;
  if (!gaps.empty()) {
    std::nth_element(gaps.begin(), gaps.begin() + gaps.size() / 2, gaps.end());
    scale = std::clamp(24.0 / (gaps[gaps.size() / 2] / 1e6), 0.01, 50.0);
  }
  const double range_ms = range_end_ns / 1e6;
  if (range_ms * scale > kMaxHeight) scale = kMaxHeight / range_ms;
  return scale;
}

// A step between time ticks (ms: 1, 2, 5 x 10^k) at least `min_px` apart.
double TickStepMs(double px_per_ms, double min_px) {
  double step = 1e-3;
  for (int i = 0; step * px_per_ms < min_px && i < 60; i++) {
    step *= (i % 3 == 1) ? 2.5 : 2;  // 1, 2, 5, 10, 20, 50, ...
  }
  return step;
}

constexpr const char* kStyle = R"(body{font:12px sans-serif;margin:8px;color:#222}
h1{font-size:18px;margin:4px 0}
table.test{border-collapse:collapse}table.test th,table.test td{padding:1px 8px;text-align:left}
.verdict{font-size:16px;font-weight:bold;margin:6px 0}.verdict.valid{color:#1a7f1a}
.verdict.invalid{color:#c00}.verdict.unknown{color:#b60}.counts{color:#555}
.cap{color:#c00;font-weight:bold}
.legend span{display:inline-block;padding:0 6px;margin-right:6px;border:1px solid #888}
.heads{position:sticky;top:0;z-index:5;height:20px;background:#fff;border-bottom:1px solid #999}
.heads div{position:absolute;top:3px;width:150px;text-align:center;font-weight:bold}
.tl{position:relative}
.tick{position:absolute;left:0;right:0;border-top:1px solid #eee;font-size:10px;color:#888}
.band{position:absolute;z-index:1;border-top:1px solid #999;border-bottom:1px solid #999;
font-size:10px;overflow:hidden}
.band span{display:inline-block;width:146px;padding:1px 2px;font-weight:bold}
.band.event{border:0;background:#555;overflow:visible}
.op{position:absolute;z-index:2;width:150px;box-sizing:border-box;padding:0 2px;font-size:10px;
line-height:12px;overflow:hidden;border:1px solid rgba(0,0,0,.4);border-radius:2px;
word-break:break-all}
.op:hover{z-index:4;outline:2px solid #000}
.ok{background:#9e9}.fail{background:#fab}.info{background:#fc7}
.pending{background:#ddd;border-style:dashed}
.cut{position:absolute;left:0;right:0;z-index:3;border-top:2px dashed #c00;color:#c00;
font-weight:bold})";

}  // namespace

std::string EscapeXml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += "\uFFFD";  // not UTF-8
      i++;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\n':
        out += "&#10;";  // kept in attributes (a tooltip's lines)
        break;
      default:
        if (n > 1 || static_cast<unsigned char>(c) >= 0x20 || c == '\t') out.append(text, i, n);
    }
    i += n;
  }
  return out;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Ms(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ns / 1e6);
  return buf;
}

std::string Num(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

int FaultColor(const std::string& fault) {
  static const std::vector<std::string> kKnown = {
      "kill", "pause", "partition", "restart-empty", "client-pause", "clock", "loss", "failover"};
  auto it = std::find(kKnown.begin(), kKnown.end(), fault);
  if (it != kKnown.end()) return static_cast<int>(it - kKnown.begin());
  return static_cast<int>(std::hash<std::string>{}(fault) % kKnown.size());
}

const char* FaultFill(int color) {
  static const char* kFills[] = {"#e8a0a0", "#a0b8e8", "#c8a0e8", "#e8c890",
                                 "#a0d8c8", "#d8d890", "#b8b8b8", "#e8a0d0"};
  return kFills[color % 8];
}

int64_t RunEnd(const std::vector<Op>& ops) {
  int64_t end = 0;
  for (const Op& op : ops) end = std::max(end, op.time_ns);
  return end;
}

std::vector<Interval> Intervals(const std::vector<Op>& ops) {
  const int64_t run_end = RunEnd(ops);
  std::vector<Interval> out;
  std::map<int, size_t> pending;  // process -> its outstanding operation in `out`
  for (const Op& op : ops) {
    if (op.process == kNemesis) continue;
    if (op.type == OpType::kInvoke) {
      // An earlier invocation still outstanding stays never completed.
      pending[op.process] = out.size();
      out.push_back(Interval{op.process, op.f, OpType::kInvoke, op.time_ns, run_end, op.value,
                             nlohmann::json()});
      continue;
    }
    auto it = pending.find(op.process);
    if (it == pending.end()) {
      out.push_back(Interval{op.process, op.f, op.type, op.time_ns, op.time_ns, nullptr, op.value});
      continue;
    }
    Interval& i = out[it->second];
    i.outcome = op.type;
    i.complete_ns = op.time_ns;
    i.complete_value = op.value;
    pending.erase(it);
  }
  return out;
}

std::vector<Band> NemesisBands(const std::vector<Op>& ops) {
  const int64_t run_end = RunEnd(ops);
  std::vector<Band> out;
  std::vector<size_t> open;  // faults not ended yet, indexes in `out`
  // A fault that has "ms" ends then, unless an end op comes first.
  auto planned_end = [&out](size_t b) -> std::optional<int64_t> {
    const nlohmann::json& v = out[b].value;
    if (!v.is_object() || !v.contains("ms") || !v["ms"].is_number()) return std::nullopt;
    return out[b].start_ns + static_cast<int64_t>(v["ms"].get<double>() * 1e6);
  };
  for (const Op& op : ops) {
    // Only what the nemesis did (an invocation says only what it was about to do).
    if (op.process != kNemesis || op.type == OpType::kInvoke) continue;
    std::erase_if(open, [&](size_t b) {
      const std::optional<int64_t> end = planned_end(b);
      if (!end || *end > op.time_ns) return false;
      out[b].end_ns = *end;
      out[b].ended_by = "ms";
      return true;
    });
    // The fault this op ends: the open one with the same value, else on the same node.
    auto match = std::find_if(open.begin(), open.end(), [&](size_t b) {
      return out[b].value == op.value && out[b].fault != op.f;
    });
    if (match == open.end() && EndsAFault(op.f) && op.value.is_object() &&
        op.value.contains("node")) {
      match = std::find_if(open.begin(), open.end(), [&](size_t b) {
        return out[b].value.is_object() &&
               out[b].value.value("node", nlohmann::json()) == op.value["node"];
      });
    }
    if (match != open.end()) {
      out[*match].end_ns = op.time_ns;
      out[*match].ended_by = op.f;
      open.erase(match);
      continue;
    }
    if (EndsAFault(op.f)) continue;  // ends nothing known (a history cut short at its start)
    const std::string target = Target(op.value);
    const std::string label = target.empty() ? op.f : op.f + " " + target;
    if (IsEvent(op.f)) {
      out.push_back(Band{op.f, label, op.value, op.time_ns, op.time_ns, "event"});
      continue;
    }
    open.push_back(out.size());
    out.push_back(Band{op.f, label, op.value, op.time_ns, run_end, ""});
  }
  for (size_t b : open) {
    if (const std::optional<int64_t> end = planned_end(b)) {
      out[b].end_ns = *end;
      out[b].ended_by = "ms";
    }
  }
  return out;
}

std::string TimelineHtml(const std::vector<Op>& ops, const nlohmann::json& test,
                         const nlohmann::json& results, const ReportOptions& options) {
  const std::vector<Interval> all = Intervals(ops);
  const std::vector<Band> bands = NemesisBands(ops);
  const size_t drawn = std::min(all.size(), options.max_boxes);
  const bool capped = drawn < all.size();
  // The time drawn: the whole run, or when capped up to the first operation left out (and the
  // completions of those drawn).
  int64_t range_end = RunEnd(ops);
  if (capped) {
    range_end = all[drawn].invoke_ns;
    for (size_t k = 0; k < drawn; k++) {
      if (all[k].completed()) range_end = std::max(range_end, all[k].complete_ns);
    }
  }
  const std::vector<Interval> boxes(all.begin(), all.begin() + static_cast<ptrdiff_t>(drawn));
  const double px_per_ms = PixelsPerMs(boxes, range_end);
  auto y = [px_per_ms](int64_t ns) { return ns / 1e6 * px_per_ms; };

  // The columns: the nemesis, then the processes drawn, in order.
  std::set<int> processes;
  for (const Interval& i : boxes) processes.insert(i.process);
  std::map<int, size_t> column;
  column[kNemesis] = 0;
  for (int p : processes) column.emplace(p, column.size());
  const int width = ColumnLeft(column.size());
  const double height = y(range_end) + 2 * kMinBox;

  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>";
  out += EscapeXml(Text(test.is_object() ? test.value("workload", nlohmann::json("run"))
                                         : nlohmann::json("run")));
  out += " timeline</title>\n<style>\n";
  out += kStyle;
  for (int c = 0; c < 8; c++) {
    out += std::string("\n.f") + std::to_string(c) + "{background:" + FaultFill(c) + "80}";
  }
  out += "\n</style></head>\n<body>\n<header>\n";
  Header(out, test, results);
  out +=
      "<p class=\"legend\"><span class=\"ok\">ok</span><span class=\"fail\">fail</span>"
      "<span class=\"info\">info (unknown)</span><span class=\"pending\">never completed"
      "</span> shaded bands: the nemesis's faults. Hover for the values and times (ms).</p>\n";
  if (capped) {
    out += "<p class=\"cap\">Showing the first " + std::to_string(drawn) + " of " +
           std::to_string(all.size()) + " operations (invoked before " + Ms(all[drawn].invoke_ns) +
           " ms); the later ones are not drawn (history.jsonl has them all).</p>\n";
  }
  if (all.empty()) out += "<p>No client operations in the history.</p>\n";
  out += "</header>\n";

  out += "<div class=\"heads\" style=\"width:" + std::to_string(width) + "px\">";
  for (const auto& [p, c] : column) {
    out += "<div style=\"left:" + std::to_string(ColumnLeft(c)) + "px\">" +
           (p == kNemesis ? std::string("nemesis") : "p" + std::to_string(p)) + "</div>";
  }
  out += "</div>\n<div class=\"tl\" style=\"width:" + std::to_string(width) +
         "px;height:" + Num(height) + "px\">\n";

  const double step_ms = TickStepMs(px_per_ms, 80);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step_ms / 1000))));
  for (double t = 0; t * 1e6 <= range_end; t += step_ms) {
    out += "<div class=\"tick\" style=\"top:" + Num(t * px_per_ms) + "px\">" +
           Num(t / 1000, decimals) + " s</div>\n";
  }

  for (const Band& b : bands) {
    if (b.start_ns > range_end) continue;
    const int64_t end = std::min(b.end_ns, range_end);
    const std::string how = b.ended_by.empty()      ? "not ended in the history"
                            : b.ended_by == "ms"    ? "its duration"
                            : b.ended_by == "event" ? "an instant"
                                                    : b.ended_by;
    // An instant (a promotion) is a dark line.
    const std::string cls =
        b.ended_by == "event" ? "event" : "f" + std::to_string(FaultColor(b.fault));
    out += "<div class=\"band " + cls + "\" style=\"left:" + std::to_string(kGutter) +
           "px;width:" + std::to_string(width - kGutter) + "px;top:" + Num(y(b.start_ns)) +
           "px;height:" + Num(std::max(2.0, y(end) - y(b.start_ns))) + "px\" title=\"" +
           EscapeXml(b.label + "\nfrom " + Ms(b.start_ns) + " ms to " + Ms(b.end_ns) + " ms (" +
                     how + ")\n" + Dump(b.value)) +
           "\"><span>" + EscapeXml(b.label) + "</span></div>\n";
  }

  for (const Interval& i : boxes) {
    const int64_t end = i.completed() ? i.complete_ns : range_end;
    const nlohmann::json& shown =
        i.completed() && !i.complete_value.is_null() ? i.complete_value : i.invoke_value;
    std::string tip = "p" + std::to_string(i.process) + " " + i.f + " " + OutcomeClass(i.outcome) +
                      "\ninvoked " + Ms(i.invoke_ns) + " ms, ";
    tip += i.completed() ? "completed " + Ms(i.complete_ns) +
                               " ms: " + Ms(i.complete_ns - i.invoke_ns) + " ms"
                         : std::string("never completed");
    // The values in words (smaller than JSON once escaped); the invocation's when the
    // completion does not repeat it.
    if (!i.completed() || !Within(i.invoke_value, i.complete_value)) {
      tip += "\ninvoke: " + Fields(i.invoke_value);
    }
    if (i.completed()) tip += "\n" + std::string(OutcomeClass(i.outcome)) + ": " + Fields(shown);
    out += std::string("<div class=\"op ") + OutcomeClass(i.outcome) +
           "\" style=\"left:" + std::to_string(ColumnLeft(column[i.process])) +
           "px;top:" + Num(y(i.invoke_ns)) +
           "px;height:" + Num(std::max(kMinBox, y(end) - y(i.invoke_ns))) + "px\" title=\"" +
           EscapeXml(tip) + "\">" + EscapeXml(Shorten(i.f + " " + Fields(shown), 80)) + "</div>\n";
  }
  if (capped) {
    out += "<div class=\"cut\" style=\"top:" + Num(y(all[drawn].invoke_ns)) +
           "px\">operations invoked from here on are not drawn</div>\n";
  }
  out += "</div>\n</body></html>\n";
  return out;
}

namespace {

std::optional<std::string> WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  if (!f) return "cannot write " + path.string();
  return std::nullopt;
}

}  // namespace

std::optional<std::string> WriteReports(const std::filesystem::path& dir,
                                        const std::vector<Op>& ops, const nlohmann::json& test,
                                        const nlohmann::json& results,
                                        const ReportOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  if (auto e = WriteFile(dir / "timeline.html", TimelineHtml(ops, test, results, options))) {
    return e;
  }
  if (auto e = WriteFile(dir / "latency.svg", LatencySvg(ops, options))) return e;
  if (auto e = WriteFile(dir / "rate.svg", RateSvg(ops))) return e;
  if (std::optional<std::string> locks = LocksSvg(ops, options))
    return WriteFile(dir / "locks.svg", *locks);
  std::filesystem::remove(dir / "locks.svg", ec);  // a previous check's, of another history
  return std::nullopt;
}

}  // namespace keyward::jepsen
