#include "server/metrics/exposition.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "server/commands/families.h"
#include "server/coordination/lock_manager.h"
#include "server/core/strings.h"

namespace keyward {

namespace {

// Label values escaped as the text format wants (backslash, double quote, newline).
std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// A metric name from an INFO field: [a-zA-Z0-9_], prefixed.
std::string Name(std::string_view field) {
  std::string out = "keyward_";
  for (char c : field) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

bool IsNumber(std::string_view v) {
  if (v.empty()) return false;
  long double d = 0;
  return ParseLongDouble(v, &d);
}

// "a=1,b=x" -> {a: 1, b: x}
std::map<std::string, std::string, std::less<>> Pairs(std::string_view v) {
  std::map<std::string, std::string, std::less<>> out;
  for (std::string_view item : Split(v, ",")) {
    const size_t eq = item.find('=');
    if (eq != std::string_view::npos) out[std::string(item.substr(0, eq))] = item.substr(eq + 1);
  }
  return out;
}

class Writer {
 public:
  // A metric family; its samples follow.
  void Family(const std::string& name, std::string_view type, std::string_view help) {
    if (!declared_.insert(name).second) return;
    out_ += "# HELP " + name + " ";
    out_ += help;
    out_ += "\n# TYPE " + name + " ";
    out_ += type;
    out_ += "\n";
  }
  void Sample(const std::string& name, const std::string& labels, std::string_view value) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += " ";
    out_ += value;
    out_ += "\n";
  }
  void Sample(const std::string& name, const std::string& labels, uint64_t value) {
    Sample(name, labels, std::to_string(value));
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
  std::set<std::string> declared_;
};

std::string Label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + Escape(value) + "\"";
}

std::string Seconds(int64_t us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(us) / 1e6);
  return buf;
}

void Histogram(Writer& w, const std::string& name, std::string_view help,
               const LatencyHistogram& h) {
  w.Family(name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < LatencyHistogram::kBoundsUs.size(); i++) {
    cumulative += h.bucket(i);
    w.Sample(name + "_bucket", Label("le", Seconds(LatencyHistogram::kBoundsUs[i])), cumulative);
  }
  w.Sample(name + "_bucket", Label("le", "+Inf"), h.count());
  w.Sample(name + "_sum", "", Seconds(h.sum_us()));
  w.Sample(name + "_count", "", h.count());
}

// Lines of INFO with labels, grouped by family so that each family's samples are contiguous.
struct Grouped {
  struct Family {
    std::string type, help;
    std::vector<std::pair<std::string, std::string>> samples;  // labels, value
  };
  std::map<std::string, Family> families;
  void Add(const std::string& name, std::string_view type, std::string_view help,
           std::string labels, std::string value) {
    Family& f = families[name];
    f.type = type;
    f.help = help;
    f.samples.emplace_back(std::move(labels), std::move(value));
  }
  void WriteTo(Writer& w) {
    for (auto& [name, f] : families) {
      w.Family(name, f.type, f.help);
      for (auto& [labels, value] : f.samples) w.Sample(name, labels, value);
    }
  }
};

void InfoFigures(Writer& w, Services& s) {
  const std::string info = RenderInfo(s, {"everything"});
  std::string section;
  std::map<std::string, std::string> strings;  // the server's identity, as labels
  // The master's offset (INFO lists it after the replicas it is compared with).
  int64_t master_offset = -1;
  const std::vector<std::string_view> lines = Split(info, "\r\n");
  for (std::string_view line : lines) {
    if (line.rfind("master_repl_offset:", 0) == 0) {
      master_offset = std::atoll(std::string(line.substr(19)).c_str());
    }
  }
  Grouped grouped;
  for (std::string_view line : lines) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      section = ToLower(line.size() > 2 ? line.substr(2) : line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string field(line.substr(0, colon));
    const std::string_view value = line.substr(colon + 1);
    if (section == "keyspace" && field.rfind("db", 0) == 0) {
      auto p = Pairs(value);
      const std::string db = Label("db", field.substr(2));
      grouped.Add("keyward_db_keys", "gauge", "Keys in the database (INFO keyspace)", db,
                  p["keys"]);
      grouped.Add("keyward_db_expiring_keys", "gauge", "Keys with a TTL (INFO keyspace)", db,
                  p["expires"]);
      grouped.Add("keyward_db_avg_ttl_milliseconds", "gauge",
                  "Average TTL of the keys with one (INFO keyspace)", db, p["avg_ttl"]);
      continue;
    }
    if (section == "commandstats" && field.rfind("cmdstat_", 0) == 0) {
      auto p = Pairs(value);
      const std::string cmd = Label("command", field.substr(8));
      grouped.Add("keyward_command_calls_total", "counter", "Calls per command", cmd, p["calls"]);
      grouped.Add("keyward_command_usec_total", "counter", "Microseconds spent per command", cmd,
                  p["usec"]);
      grouped.Add("keyward_command_rejected_calls_total", "counter",
                  "Calls refused before running, per command", cmd, p["rejected_calls"]);
      grouped.Add("keyward_command_failed_calls_total", "counter",
                  "Calls that ran and failed, per command", cmd, p["failed_calls"]);
      continue;
    }
    if (section == "errorstats" && field.rfind("errorstat_", 0) == 0) {
      grouped.Add("keyward_errors_total", "counter", "Error replies per error code",
                  Label("error", field.substr(10)), Pairs(value)["count"]);
      continue;
    }
    if (section == "replication" && field.rfind("slave", 0) == 0 && value.find("ip=") == 0) {
      auto p = Pairs(value);
      const std::string replica =
          Label("replica", p["ip"] + ":" + p["port"]) + "," + Label("state", p["state"]);
      grouped.Add("keyward_replica_offset", "gauge",
                  "Replication offset a replica acknowledged (INFO replication)", replica,
                  p["offset"]);
      grouped.Add("keyward_replica_lag_seconds", "gauge",
                  "Seconds since a replica's last acknowledgement (INFO replication)", replica,
                  p["lag"]);
      if (master_offset >= 0) {
        grouped.Add(
            "keyward_replica_lag_bytes", "gauge",
            "Bytes of the stream a replica has not acknowledged yet", replica,
            std::to_string(std::max<int64_t>(0, master_offset - std::atoll(p["offset"].c_str()))));
      }
      continue;
    }
    if (section == "sentinel" && field.rfind("master", 0) == 0 && value.find("name=") == 0) {
      auto p = Pairs(value);
      const std::string master = Label("master", p["name"]) + "," + Label("address", p["address"]) +
                                 "," + Label("status", p["status"]);
      grouped.Add("keyward_sentinel_master", "gauge",
                  "A monitored master and its status (1 per master)", master, "1");
      grouped.Add("keyward_sentinel_master_replicas", "gauge", "Replicas of a monitored master",
                  Label("master", p["name"]), p["slaves"]);
      grouped.Add("keyward_sentinel_master_sentinels", "gauge",
                  "Sentinels monitoring a master, this one included", Label("master", p["name"]),
                  p["sentinels"]);
      continue;
    }
    if (section == "latencystats") continue;  // percentiles: the command histograms say more
    if (IsNumber(value)) {
      grouped.Add(Name(field), "gauge", "INFO " + section + " " + field, "", std::string(value));
    } else if (field == "redis_version" || field == "keyward_version" || field == "role" ||
               field == "redis_mode" || field == "run_id") {
      strings[field] = value;
    }
  }
  std::string labels;
  for (const auto& [k, v] : strings) labels += (labels.empty() ? "" : ",") + Label(k, v);
  w.Family("keyward_info", "gauge", "The server's identity, as labels (always 1)");
  w.Sample("keyward_info", labels, "1");
  grouped.WriteTo(w);
}

void LockFigures(Writer& w, Services& s) {
  const LockMetrics& m = s.locks.metrics();
  const std::string acq = "keyward_lock_acquisitions_total";
  w.Family(acq, "counter", "LOCK.ACQUIRE outcomes (granted at once or to a waiter, or refused)");
  w.Sample(acq, Label("result", "granted"), m.granted);
  w.Sample(acq, Label("result", "busy"), m.busy);
  w.Sample(acq, Label("result", "restarting"), m.restarting);
  auto counter = [&](const std::string& name, std::string_view help, uint64_t value) {
    w.Family(name, "counter", help);
    w.Sample(name, "", value);
  };
  counter("keyward_lock_reentries_total", "Grants to the owner already holding the lock",
          m.reentries);
  counter("keyward_lock_fencing_tokens_total", "Fencing tokens issued", m.tokens);
  counter("keyward_lock_releases_total", "Owner-checked releases that deleted the lock",
          m.releases);
  counter("keyward_lock_extensions_total", "Owner-checked lease extensions", m.extensions);
  counter("keyward_lock_lease_expiries_total",
          "Locks whose lease ran out while held: a holder lost its lease", m.lease_expiries);
  counter("keyward_lock_catch_ups_total",
          "Times this instance was caught up with its peers after it started without its "
          "fencing counters",
          m.catch_ups);
  const std::string waits = "keyward_lock_waits_total";
  w.Family(waits, "counter", "LOCK.ACQUIRE ... WAIT waits, by outcome");
  w.Sample(waits, Label("result", "started"), m.waits_started);
  w.Sample(waits, Label("result", "granted"), m.waits_granted);
  w.Sample(waits, Label("result", "timeout"), m.waits_timed_out);
  counter("keyward_lock_wait_wakeups_total",
          "LOCK.WAIT waiters woken by their resource becoming free (with HANDOFF, one per release)",
          m.free_wakes);
  Histogram(w, "keyward_lock_wait_seconds", "Time from a wait's start to its grant",
            m.wait_latency);
  Histogram(w, "keyward_lock_handoff_seconds",
            "Time from a lock's removal (release or expiry) to the next waiter's grant",
            m.handoff_latency);
  w.Family("keyward_fencing_records", "gauge",
           "Fencing records held (bounded by lock-max-records)");
  w.Sample("keyward_fencing_records", "", static_cast<uint64_t>(s.locks.fences().size()));
  w.Family("keyward_lock_epoch", "gauge", "Fencing epoch: promotions this history went through");
  w.Sample("keyward_lock_epoch", "", static_cast<uint64_t>(s.locks.epoch()));
}

}  // namespace

std::string RenderMetrics(Services& s) {
  Writer w;
  InfoFigures(w, s);
  if (s.sentinel == nullptr) LockFigures(w, s);
  return std::move(w.out());
}

}  // namespace keyward
