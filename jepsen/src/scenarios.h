// The named scenarios for Keyward's own locks (issue 12; docs/safety.md has their verdicts):
// `keyward-jepsen scenario NAME`. Each is a fixed choreography of clients and faults, recorded as
// a run is (test.json, history.jsonl, results.json, the reports) and checked by the lock
// checkers, plus the scenario's own expectations (operations "expect", ok or fail). Expected:
// valid. Where a scenario breaks an assumption the docs state, test.json names the assumption and
// the anomaly kinds it explains: those are reported as explained, not as violations, and the
// report says which assumption was broken.
//
// Some scenarios are a workload under a scripted nemesis (`preset`: main.cc's run with these
// arguments); the others run their own choreography here (`run`).
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nemesis.h"

namespace keyward::jepsen {

struct ScenarioPaths {
  std::string server;   // keyward-server
  std::string keyward;  // the CLI
  std::string self;     // this harness (the cli workload's child)
};

struct Scenario {
  std::string name;
  std::string what;  // one line: the choreography
  // The documented assumption the scenario breaks ("": none) and the anomaly kinds it explains.
  std::string assumption;
  std::vector<std::string> explained;
  // A preset: main.cc's run of this workload under these faults (a script, or drawn).
  struct Preset {
    std::string workload;
    bool fence = true;
    std::string nemesis;  // drawn faults ("": none)
    std::vector<NemesisOptions::Step> script;
    int nodes = 3;
    int time_limit_s = 10;
    int ttl_ms = 1000;
    int interval_ms = 1000;
    int duration_ms = 1500;
  };
  std::optional<Preset> preset;
  // Otherwise: the choreography, recording into `dir` (test.json is written for it). The error
  // (a fault the harness could not inject, a node that did not start), or nullopt.
  std::function<std::optional<std::string>(const std::filesystem::path& dir,
                                           const ScenarioPaths& paths)>
      run;
};

const std::vector<Scenario>& Scenarios();
const Scenario* FindScenario(const std::string& name);

// test.json's fields naming the scenario (scenario, assumption, explained).
nlohmann::json ScenarioFields(const Scenario& s);

}  // namespace keyward::jepsen
