// keyward-jepsen: fault-injection runs against real keyward-servers, shaped like Jepsen's command
// line (jepsen/README.md).
//
//   keyward-jepsen run --workload lock|fenced-lock --nemesis kill,pause,restart-empty
//                      --nodes 3 --time-limit 20 [--ttl-ms 1000] [--fence on|off] [--seed N]
//   keyward-jepsen check STORE-DIR      re-check a recorded run
//   keyward-jepsen clean [--store DIR]  kill nodes a crashed run left behind
//
// Exit codes, as Jepsen's: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 crash.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include "cli_workload.h"
#include "election_workload.h"
#include "history.h"
#include "incr_lock_workload.h"
#include "kv_workload.h"
#include "linear_checker.h"
#include "lock_checker.h"
#include "lock_workload.h"
#include "nemesis.h"
#include "network.h"
#include "nodes.h"
#include "replica_set.h"
#include "report.h"
#include "scenarios.h"
#include "set_checker.h"

namespace fs = std::filesystem;
using namespace keyward::jepsen;

namespace {

constexpr int kValid = 0, kInvalid = 1, kUnknown = 2, kBadArguments = 254, kCrash = 255;

struct RunArgs {
  std::string workload = "fenced-lock";
  std::string nemesis;
  int nodes = 3;
  double time_limit = 20;
  int ttl_ms = 1000;
  std::string fence = "on";
  uint64_t seed = 0;
  int concurrency = 5;
  int interval_ms = 2000;
  int duration_ms = 1500;
  std::string schedule = "serial";
  std::string store = "store";
  std::string server;
  const Scenario* scenario = nullptr;  // a preset scenario's run: its script and its fields
};

std::string Timestamp() {
  char buf[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%S", &tm);
  return buf;
}

// A new run's directory, `store/<name>/<time>`, which `store/latest` then points at.
fs::path NewRunDir(const std::string& store, const std::string& name) {
  const fs::path dir = fs::absolute(fs::path(store) / name / Timestamp());
  fs::create_directories(dir);
  std::error_code ec;
  fs::remove(fs::path(store) / "latest", ec);
  fs::create_directory_symlink(dir, fs::path(store) / "latest", ec);
  return dir;
}

// This binary, and `name` beside it.
std::string Self() {
  std::error_code ec;
  return fs::read_symlink("/proc/self/exe", ec).string();
}
std::string Beside(const std::string& name) {
  return (fs::path(Self()).parent_path() / name).string();
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// Checks the history of the run in `dir` (test.json says what it was); writes results.json and
// prints the verdict. The exit code.
int Check(const fs::path& dir) {
  std::ifstream test_in(dir / "test.json");
  nlohmann::json test = nlohmann::json::parse(test_in, nullptr, false);
  if (test.is_discarded() || !test.is_object()) {
    std::cerr << "keyward-jepsen: " << (dir / "test.json") << " is missing or not JSON\n";
    return kBadArguments;
  }
  std::string error;
  auto ops = LoadHistory((dir / "history.jsonl").string(), &error);
  if (!ops) {
    std::cerr << "keyward-jepsen: " << error << "\n";
    return kBadArguments;
  }
  const std::string workload = test.value("workload", "");
  nlohmann::json results;
  bool valid = true, unknown = false;
  if (workload == "register") {
    const LinearCheck check = CheckLinearizable(*ops);
    results["linearizable"] = check.ToJson();
    valid = check.valid != "false";
    // Nothing acknowledged, or a search out of budget: nothing proven.
    const bool any_ok = std::any_of(ops->begin(), ops->end(), [](const Op& op) {
      return op.type == OpType::kOk && op.process != kNemesis;
    });
    unknown = valid && (check.valid == "unknown" || !any_ok);
    std::cout << "register: " << check.operations << " operations on " << check.keys << " keys, "
              << check.states << " search states\n";
    for (const nlohmann::json& a : check.anomalies) {
      std::cout << "ANOMALY nonlinearizable: " << a.dump() << "\n";
    }
  } else if (workload != "set") {
    const bool fenced = test.value("fence", true);
    LockCheck check = CheckLocks(*ops, fenced);
    results = check.ToJson();
    // A scenario that breaks a documented assumption names the anomalies it explains.
    std::set<std::string> explainable;
    if (test.contains("explained") && test["explained"].is_array()) {
      for (const auto& k : test["explained"]) {
        if (k.is_string()) explainable.insert(k.get<std::string>());
      }
    }
    nlohmann::json explained = nlohmann::json::array();
    std::cout << "acquisitions " << check.acquisitions << " of " << check.attempts
              << " attempts, lease overruns " << check.overruns << ", store writes accepted "
              << check.writes_accepted << " refused " << check.writes_refused << "\n";
    for (const Anomaly& a : check.anomalies) {
      if (explainable.count(a.kind)) {
        explained.push_back({{"kind", a.kind}, {"detail", a.detail}});
        std::cout << "EXPLAINED " << a.kind
                  << " (assumption broken: " << test.value("assumption", "") << ")\n";
      } else {
        valid = false;
        std::cout << "ANOMALY " << a.kind << ": " << a.detail.dump() << "\n";
      }
    }
    results["explained"] = explained;
    if (!explained.empty()) results["assumption"] = test.value("assumption", "");
    // A run in which nothing was acquired proves nothing.
    unknown = valid && check.acquisitions == 0;
  }
  // A scenario's own expectations ("expect" operations).
  nlohmann::json failed = nlohmann::json::array();
  int expectations = 0;
  for (const Op& op : *ops) {
    if (op.f != "expect" || op.type == OpType::kInvoke) continue;
    expectations++;
    if (op.type != OpType::kOk) {
      failed.push_back(op.value);
      std::cout << "EXPECTATION FAILED: " << op.value.dump() << "\n";
    }
  }
  if (expectations > 0) {
    results["expectations"] = {{"checked", expectations}, {"failed", failed}};
    valid = valid && failed.empty();
    std::cout << "expectations: " << expectations - static_cast<int>(failed.size()) << " of "
              << expectations << " held\n";
  }
  if (workload == "set" || workload == "lock-set") {
    const SetCheck set = CheckSet(*ops);
    results["set"] = set.ToJson();
    valid = valid && set.valid;
    if (workload == "set") unknown = set.valid && (!set.read || set.acknowledged == 0);
    std::cout << "set: " << set.acknowledged << " adds acknowledged of " << set.attempted
              << ", lost " << set.lost.size() << ", unexpected " << set.unexpected.size()
              << (set.read ? "" : ", no final read") << "\n";
    if (!set.lost.empty()) {
      std::cout << "ANOMALY lost-updates: acknowledged adds missing from the final read\n";
    }
  }
  unknown = unknown && valid;
  results["valid"] = unknown ? nlohmann::json("unknown") : nlohmann::json(valid);
  results["workload"] = workload;
  results["nemesis"] = test.value("nemesis", nlohmann::json::array());
  std::ofstream(dir / "results.json") << results.dump(2) << '\n';
  if (auto error = WriteReports(dir, *ops, test, results)) {
    std::cerr << "keyward-jepsen: reports: " << *error << "\n";
  }
  const char* verdict = unknown ? "unknown" : valid ? "true" : "false";
  std::cout << "valid? " << verdict << "  (" << (dir / "results.json").string()
            << ", timeline.html)\n";
  return unknown ? kUnknown : valid ? kValid : kInvalid;
}

int Run(const RunArgs& a) {
  const std::vector<std::string> faults = Split(a.nemesis);
  std::vector<std::string> all_faults = faults;  // drawn and scripted
  if (a.scenario != nullptr) {
    for (const auto& step : a.scenario->preset->script) all_faults.push_back(step.fault);
  }
  for (const std::string& f : faults) {
    if (std::find(KnownFaults().begin(), KnownFaults().end(), f) == KnownFaults().end()) {
      std::string known;
      for (const std::string& k : KnownFaults()) known += (known.empty() ? "" : ", ") + k;
      std::cerr << "keyward-jepsen: unknown nemesis '" << f << "' (" << known << ")\n";
      return kBadArguments;
    }
  }
  // Client group g beside node g (network.h).
  const bool replicated = a.workload == "register" || a.workload == "set";
  if (!replicated && std::find(faults.begin(), faults.end(), "failover") != faults.end()) {
    std::cerr << "keyward-jepsen: the failover nemesis needs a replicated workload (register, "
                 "set)\n";
    return kBadArguments;
  }
  if (a.workload != "cli" &&
      std::find(faults.begin(), faults.end(), "client-kill") != faults.end()) {
    std::cerr << "keyward-jepsen: the client-kill nemesis needs the cli workload\n";
    return kBadArguments;
  }
  const std::string keyward = Beside("keyward");
  if (a.workload == "cli" && ::access(keyward.c_str(), X_OK) != 0) {
    std::cerr << "keyward-jepsen: the cli workload runs " << keyward << ", which is missing\n";
    return kBadArguments;
  }
  Network network(a.nodes);
  if (std::any_of(all_faults.begin(), all_faults.end(), IsNetworkFault)) {
    if (auto error = network.Setup()) {
      std::cerr << "keyward-jepsen: " << *error << "\n";
      return kBadArguments;
    }
  }
  const bool fence = a.fence == "on";
  const uint64_t seed = a.seed != 0 ? a.seed : static_cast<uint64_t>(std::time(nullptr));
  const fs::path dir = NewRunDir(a.store, a.scenario != nullptr ? a.scenario->name : a.workload);
  nlohmann::json test = {{"workload", a.workload},
                         {"nemesis", faults},
                         {"nodes", a.nodes},
                         {"time_limit", a.time_limit},
                         {"ttl_ms", a.ttl_ms},
                         {"fence", fence},
                         {"seed", seed},
                         {"concurrency", a.concurrency},
                         {"schedule", a.schedule},
                         {"interval_ms", a.interval_ms},
                         {"duration_ms", a.duration_ms}};
  if (network.ready()) test["iptables_chain"] = network.chain();
  if (a.scenario != nullptr) test.update(ScenarioFields(*a.scenario));
  std::ofstream(dir / "test.json") << test.dump(2) << '\n';
  std::cout << "keyward-jepsen: "
            << (a.scenario != nullptr ? "scenario " + a.scenario->name + ": " : std::string())
            << a.workload << ", nemesis " << (a.nemesis.empty() ? "scripted" : a.nemesis) << ", "
            << a.nodes << " nodes, " << a.time_limit << " s, seed " << seed << "\n  "
            << dir.string() << "\n";

  NodeOptions node_options;
  if (std::find(all_faults.begin(), all_faults.end(), "clock") != all_faults.end()) {
    if (LibFaketime().empty()) {
      std::cerr << "keyward-jepsen: the clock nemesis needs libfaketime (scripts/install-deps.sh "
                   "--test)\n";
      return kBadArguments;
    }
    node_options.faketime = true;
  }
  node_options.binary = a.server.empty() ? Beside("keyward-server") : a.server;
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < a.nodes; i++) {
    nodes.push_back(std::make_unique<Node>(i + 1, network.NodeAddress(i),
                                           (dir / ("n" + std::to_string(i + 1))).string(),
                                           node_options));
    if (auto error = nodes.back()->Start()) {
      std::cerr << "keyward-jepsen: " << *error << "\n";
      return kCrash;
    }
  }
  std::optional<ReplicaSet> replicas;
  if (replicated) {
    replicas.emplace(nodes);
    if (auto error = replicas->Form()) {
      std::cerr << "keyward-jepsen: " << *error << "\n";
      return kCrash;
    }
  }
  History history;
  LockWorkloadOptions wo;
  for (auto& n : nodes) wo.urls.push_back(n->url());
  for (int g = 0; g < network.client_groups(); g++) {
    wo.client_addresses.push_back(network.ClientAddress(g));
  }
  wo.concurrency = a.concurrency;
  wo.ttl = std::chrono::milliseconds(a.ttl_ms);
  wo.fence = fence;
  wo.workload = a.workload;
  wo.seed = seed;
  NemesisOptions no;
  no.faults = faults;
  no.interval = std::chrono::milliseconds(a.interval_ms);
  no.duration = std::chrono::milliseconds(a.duration_ms);
  no.ttl = std::chrono::milliseconds(a.ttl_ms);
  no.overlap = a.schedule == "overlapping";
  no.cli_clients = a.workload == "cli";
  if (a.scenario != nullptr) no.script = a.scenario->preset->script;
  ClientStalls stalls(a.concurrency);
  no.seed = seed;

  std::atomic<bool> stop_nemesis{false}, stop_clients{false};
  std::optional<std::string> nemesis_error;
  std::thread nemesis([&] {
    nemesis_error = RunNemesis(no, nodes, stalls, network, replicas ? &*replicas : nullptr, history,
                               stop_nemesis);
  });
  std::thread clients([&] {
    if (replicas) {
      RunKvWorkload(wo, *replicas, history, stop_clients);
    } else if (wo.workload == "cli") {
      RunCliWorkload(wo, keyward, Self(), (dir / "cli.log").string(), history, stalls,
                     stop_clients);
    } else if (wo.workload == "incr-lock") {
      RunIncrLockWorkload(wo, history, stalls, stop_clients);
    } else if (wo.workload == "election") {
      RunElectionWorkload(wo, history, stalls, stop_clients);
    } else {
      RunLockWorkload(wo, history, stalls, stop_clients);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(a.time_limit * 1000)));
  // Heal first, then let the clients run on the healed cluster for a moment (recovery), then
  // stop them.
  stop_nemesis = true;
  nemesis.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(a.ttl_ms));
  stop_clients = true;
  clients.join();
  if (wo.workload == "set") FinalSetRead(wo, *replicas, history);
  for (auto& n : nodes) n->Kill();
  if (auto error = SaveHistory(history.ops(), (dir / "history.jsonl").string())) {
    std::cerr << "keyward-jepsen: " << *error << "\n";
    return kCrash;
  }
  if (nemesis_error) std::cerr << "keyward-jepsen: nemesis: " << *nemesis_error << "\n";
  return Check(dir);
}

// A preset's run (seed 1), recorded under `store`.
RunArgs FromPreset(const Scenario::Preset& p, const std::string& store, const std::string& server) {
  RunArgs r;
  r.workload = p.workload;
  r.fence = p.fence ? "on" : "off";
  r.nemesis = p.nemesis;
  r.nodes = p.nodes;
  r.time_limit = p.time_limit_s;
  r.ttl_ms = p.ttl_ms;
  r.interval_ms = p.interval_ms;
  r.duration_ms = p.duration_ms;
  r.seed = 1;
  r.store = store;
  r.server = server;
  return r;
}

// The demos: known anomalies the checkers must find (each run exits 1).
struct Demo {
  std::string name;
  Scenario::Preset preset;
};
const std::vector<Demo>& Demos() {
  static const std::vector<Demo> demos = [] {
    std::vector<Demo> d;
    // A lock alone does not protect a read-modify-write from a holder that stalls past its
    // lease: without fencing, acknowledged adds are lost (with --fence on they are not).
    Scenario::Preset unfenced;
    unfenced.workload = "lock-set";
    unfenced.fence = false;
    unfenced.nemesis = "client-pause";
    unfenced.ttl_ms = 500;
    d.push_back({"unfenced-lock-set", unfenced});
    // A lock and an INCR token on one server that forgets everything when it restarts empty:
    // tokens start again below those handed out, and the lock is granted again while its
    // holder's lease runs.
    Scenario::Preset amnesia;
    amnesia.workload = "incr-lock";
    amnesia.nemesis = "restart-empty";
    amnesia.nodes = 1;
    amnesia.time_limit_s = 6;
    amnesia.duration_ms = 300;
    d.push_back({"amnesia-token-regression", amnesia});
    // Asynchronous replication and a failover (Jepsen's Redis Sentinel analysis): what the
    // cut-off master acknowledged after its last replication, and what it acknowledged until
    // its clients moved, is gone once it follows the promoted replica.
    Scenario::Preset failover;
    failover.workload = "set";
    failover.fence = false;
    failover.nemesis = "failover";
    failover.time_limit_s = 8;
    failover.duration_ms = 2000;
    failover.ttl_ms = 500;
    d.push_back({"async-failover-lost-writes", failover});
    return d;
  }();
  return demos;
}

// Runs scenario `name` (scenarios.h), recorded under `store`. The exit code.
int RunScenario(const Scenario& s, const std::string& store, const std::string& server) {
  if (s.preset) {
    RunArgs r = FromPreset(*s.preset, store, server);
    r.scenario = &s;
    return Run(r);
  }
  const fs::path dir = NewRunDir(store, s.name);
  nlohmann::json test = {{"workload", "scenario"}, {"fence", true}, {"nemesis", nullptr}};
  test.update(ScenarioFields(s));
  std::ofstream(dir / "test.json") << test.dump(2) << '\n';
  std::cout << "keyward-jepsen: scenario " << s.name << ": " << s.what << "\n  " << dir.string()
            << "\n";
  const ScenarioPaths paths{server.empty() ? Beside("keyward-server") : server, Beside("keyward"),
                            Self()};
  if (auto error = s.run(dir, paths)) {
    std::cerr << "keyward-jepsen: scenario " << s.name << ": " << *error << "\n";
    return kCrash;
  }
  return Check(dir);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"keyward-jepsen: fault injection and checkers for Keyward's locks"};
  app.require_subcommand(1);
  RunArgs run;
  CLI::App* run_cmd =
      app.add_subcommand("run", "run a workload against fresh nodes under a nemesis");
  run_cmd
      ->add_option("--workload", run.workload,
                   "lock | fenced-lock | lock-set | election | cli (`keyward lock` running a "
                   "process tree) | incr-lock (SET NX + INCR on the first node) | register | set "
                   "(the last two on a master and its replicas)")
      ->check(CLI::IsMember(
          {"lock", "fenced-lock", "lock-set", "election", "cli", "incr-lock", "register", "set"}));
  run_cmd->add_option(
      "--nemesis", run.nemesis,
      "comma-separated faults: kill, pause, restart-empty, partition, "
      "partition-halves, partition-ring, partition-bridge, loss, client-pause, client-kill, "
      "failover, clock "
      "(none: no faults)");
  run_cmd
      ->add_option("--schedule", run.schedule,
                   "serial: one fault at a time; overlapping: a fault begins every interval "
                   "whatever is in force")
      ->check(CLI::IsMember({"serial", "overlapping"}));
  run_cmd->add_option("--nodes", run.nodes, "instances (3 or 5)")->check(CLI::Range(1, 9));
  run_cmd->add_option("--time-limit", run.time_limit, "seconds of faults and load")
      ->check(CLI::Range(1.0, 86400.0));
  run_cmd->add_option("--ttl-ms", run.ttl_ms, "the locks' TTL")->check(CLI::Range(10, 3600000));
  run_cmd->add_option("--fence", run.fence, "on: fencing tokens, checked; off: none")
      ->check(CLI::IsMember({"on", "off"}));
  run_cmd->add_option("--seed", run.seed, "random seed (0: the time)");
  run_cmd->add_option("--concurrency", run.concurrency, "client processes")
      ->check(CLI::Range(1, 64));
  run_cmd->add_option("--interval-ms", run.interval_ms, "between two faults")
      ->check(CLI::Range(10, 3600000));
  run_cmd->add_option("--duration-ms", run.duration_ms, "how long a fault lasts")
      ->check(CLI::Range(10, 3600000));
  run_cmd->add_option("--store", run.store, "where runs are recorded");
  run_cmd->add_option("--server", run.server, "the server binary (default: beside this one)");
  std::string check_dir;
  CLI::App* check_cmd = app.add_subcommand("check", "check a recorded run again");
  check_cmd->add_option("store-dir", check_dir, "the run's directory")->required();
  std::string demo_name, demo_store = "store", demo_server;
  CLI::App* demo_cmd =
      app.add_subcommand("demo", "a known anomaly the checkers must find (exits 1 when found)");
  std::vector<std::string> demo_names;
  for (const Demo& d : Demos()) demo_names.push_back(d.name);
  demo_cmd
      ->add_option("name", demo_name,
                   "unfenced-lock-set | amnesia-token-regression | async-failover-lost-writes")
      ->required()
      ->check(CLI::IsMember(demo_names));
  demo_cmd->add_option("--store", demo_store, "where the run is recorded");
  demo_cmd->add_option("--server", demo_server, "the server binary (default: beside this one)");
  std::string scenario_name, scenario_store = "store", scenario_server;
  CLI::App* scenario_cmd = app.add_subcommand(
      "scenario", "a named scenario for Keyward's locks (docs/safety.md has their verdicts)");
  std::vector<std::string> scenario_names = {"all", "list"};
  for (const Scenario& sc : Scenarios()) scenario_names.push_back(sc.name);
  scenario_cmd
      ->add_option("name", scenario_name,
                   "a scenario's name, all (each in turn), or list (what each does)")
      ->required()
      ->check(CLI::IsMember(scenario_names));
  scenario_cmd->add_option("--store", scenario_store, "where the runs are recorded");
  scenario_cmd->add_option("--server", scenario_server,
                           "the server binary (default: beside this one)");
  // What the cli workload's `keyward lock` runs (cli_workload.h); not for people.
  std::vector<std::string> child_args;
  CLI::App* child_cmd = app.add_subcommand("cli-child", "");
  child_cmd->group("");
  child_cmd->add_option("args", child_args);
  std::string clean_store = "store";
  CLI::App* clean_cmd = app.add_subcommand("clean", "kill the nodes a crashed run left behind");
  clean_cmd->add_option("--store", clean_store, "the runs' store");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return e.get_exit_code() == 0 ? code : kBadArguments;
  }
  try {
    if (*run_cmd) return Run(run);
    if (*child_cmd) return RunCliChild(child_args);
    if (*scenario_cmd) {
      if (scenario_name == "list") {
        for (const Scenario& sc : Scenarios()) {
          std::cout << sc.name << "\n    " << sc.what << "\n";
          if (!sc.assumption.empty()) std::cout << "    breaks: " << sc.assumption << "\n";
        }
        return kValid;
      }
      if (scenario_name != "all") {
        return RunScenario(*FindScenario(scenario_name), scenario_store, scenario_server);
      }
      // Each in turn; the worst exit code (crash, invalid, unknown, valid).
      int worst = kValid;
      std::vector<std::pair<std::string, int>> verdicts;
      for (const Scenario& sc : Scenarios()) {
        const int code = RunScenario(sc, scenario_store, scenario_server);
        verdicts.emplace_back(sc.name, code);
        auto rank = [](int c) {
          return c == kCrash ? 3 : c == kInvalid ? 2 : c == kUnknown ? 1 : 0;
        };
        if (rank(code) > rank(worst)) worst = code;
      }
      for (const auto& [name, code] : verdicts) {
        std::cout << name << ": "
                  << (code == kValid     ? "valid"
                      : code == kInvalid ? "invalid"
                      : code == kUnknown ? "unknown"
                                         : "crash")
                  << "\n";
      }
      return worst;
    }
    if (*check_cmd) return Check(check_dir);
    if (*demo_cmd) {
      const auto demo = std::find_if(Demos().begin(), Demos().end(),
                                     [&](const Demo& d) { return d.name == demo_name; });
      return Run(FromPreset(demo->preset, demo_store, demo_server));
    }
    if (*clean_cmd) {
      std::cout << "killed " << KillLeftovers(clean_store) << " left-over node(s), removed "
                << RemoveLeftoverChains() << " left-over iptables chain(s)\n";
      return kValid;
    }
  } catch (const std::exception& e) {
    std::cerr << "keyward-jepsen: " << e.what() << "\n";
    return kCrash;
  }
  return kBadArguments;
}
