// The run's reports, drawn from its recorded history (as Jepsen's timeline and perf plots), for
// a person to see what happened: files beside history.jsonl, self-contained (no script, no
// library, nothing fetched), readable in any browser.
//
// - timeline.html: one column per process (the nemesis first), time downwards; each operation a
//   box from its invocation to its completion, colored by outcome (ok green, fail pink, info
//   orange, never completed grey and dashed), its f and value in the box, everything in its
//   tooltip; the nemesis's faults as shaded bands across every process. Only the first
//   `max_boxes` operations are drawn (the page says so).
// - latency.svg: each completed operation's latency (ms, log scale) at its invocation (s), colored
//   by outcome, a marker shape per f (one in k past `max_points`, the page says so).
// - rate.svg: completions per second, per f and outcome, in 1 s buckets.
// - locks.svg (histories with acquire operations): each holding (lock_checker.h) as a bar on its
//   process's row, from the acquire's ok to the release's invocation, its lease (to
//   `valid_until`) a thinner bar with a mark at its end; the hold past the lease is red.
// Each plot shades the nemesis's faults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "history.h"

namespace keyward::jepsen {

struct ReportOptions {
  size_t max_boxes = 10000;   // timeline boxes: the first operations (by invocation)
  size_t max_points = 50000;  // latency points (one in k when more), lock bars (the first)
};

// Writes timeline.html, latency.svg, rate.svg and, when `ops` has acquire operations, locks.svg
// into `dir` (created if missing; a locks.svg already there is removed otherwise). `test` is
// test.json (workload, nemesis, nodes, seed...), `results` results.json (valid, anomalies...).
// The error text, or nullopt.
std::optional<std::string> WriteReports(const std::filesystem::path& dir,
                                        const std::vector<Op>& ops, const nlohmann::json& test,
                                        const nlohmann::json& results,
                                        const ReportOptions& options = {});

// The reports themselves, as text.
std::string TimelineHtml(const std::vector<Op>& ops, const nlohmann::json& test,
                         const nlohmann::json& results, const ReportOptions& options = {});
std::string LatencySvg(const std::vector<Op>& ops, const ReportOptions& options = {});
std::string RateSvg(const std::vector<Op>& ops);
// nullopt when `ops` has no acquire operation.
std::optional<std::string> LocksSvg(const std::vector<Op>& ops, const ReportOptions& options = {});

// ---- What the reports are drawn from (shared by report.cc and report_plots.cc).

// One client operation: its invocation and its completion (a process has one operation
// outstanding at a time, as in Jepsen).
struct Interval {
  int process = 0;
  std::string f;
  OpType outcome = OpType::kInvoke;  // kOk, kFail, kInfo; kInvoke: never completed
  int64_t invoke_ns = 0;
  int64_t complete_ns = 0;  // never completed: the run's end
  nlohmann::json invoke_value, complete_value;
  bool completed() const { return outcome != OpType::kInvoke; }
};
// The client operations of `ops`, in the order of their invocations. A completion without an
// invocation (a hand-edited history) counts as invoked when it completed.
std::vector<Interval> Intervals(const std::vector<Op>& ops);

// One fault of the nemesis: from the info op that began it (f the fault: "kill", "pause",
// "partition", ...) to the op that ended it (f "start", "resume", "heal"..., or any other f
// with the same value; faults may overlap), or for a fault whose value has "ms" and no end op
// (client-pause), `ms` later; a fault never ended lasts to the run's end. A "promote" (a
// failover's) is an instant.
struct Band {
  std::string fault;  // "kill", ...
  std::string label;  // "kill n2", "client-pause client 1 1500 ms", "partition n1 | n2,n3"
  nlohmann::json value;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::string ended_by;  // the end op's f; "ms" (its duration); "event" (an instant); "" (the
                         // run's end)
};
std::vector<Band> NemesisBands(const std::vector<Op>& ops);

// The time of the history's last operation (0 for an empty one).
int64_t RunEnd(const std::vector<Op>& ops);

// Text for XML and HTML (text and attribute values): & < > " ' escaped, control characters
// (invalid in XML 1.0) dropped.
std::string EscapeXml(std::string_view text);
// `j` as compact JSON, invalid UTF-8 replaced (never throws).
std::string Dump(const nlohmann::json& j);
// Nanoseconds as milliseconds, 3 decimals: "12.345".
std::string Ms(int64_t ns);
// A number for a coordinate or a label, at most `decimals` decimals, without trailing zeros.
std::string Num(double v, int decimals = 1);
// The index of a nemesis fault's color (the same in every report): 0..7 by name.
int FaultColor(const std::string& fault);
// The fill of a fault's band (index from FaultColor).
const char* FaultFill(int color);

}  // namespace keyward::jepsen
