// The linearizability checker of the register workload (Jepsen's linearizable checker on a
// cas-register model, the algorithm of Porcupine).
//
// The history: `read`, `write` and `cas` operations on integer registers, one register a key
// (../shared/HARNESS.md, "register"). The register's initial value is null (the key absent).
//   read   invoke {"key": k}                ok {"key": k, "value": V}   V integer or null
//   write  invoke {"key": k, "value": V}    ok the same
//   cas    invoke {"key": k, "from": A, "to": B}: ok = it took effect (the register was A and
//          became B); fail = it did not take effect
// An invocation's completion is the next register operation of the same process. A `fail` did not
// happen. An `info` (or an invocation never completed) may have happened or not, at any time after
// its invocation: its completion is at infinity. An info read tells nothing and is dropped. Other
// operations (the nemesis's, other workloads' `f`, an operation without a key, a read answered
// without a "value" like the set's final read) are ignored.
//
// What the checker guarantees, for each key and so for the history (linearizability is local:
// a history is linearizable iff each key's is, Herlihy & Wing):
// - "true": there is an order of the acknowledged operations and some of the info ones,
//   consistent with real time, in which each result is what a register would have answered. Real
//   time is `time_ns`; an operation precedes another only if it completed strictly before the other
//   was invoked (equal times count as concurrent: the conservative reading).
// - "false": no such order exists; the anomaly names the key and a witness (below).
// - "unknown": the search of some key visited more than `max_states_per_key` distinct states
//   before deciding (and no key was "false").
// The search is exact: Wing & Gong's backtracking over the operations that may take effect next,
// with Lowe's memoisation (a state is the set of operations taken effect, a bitset, plus the
// register's value; a state seen before is not explored again), as Porcupine's checkSingle. Three
// reductions, each exact (linear_checker.cc argues why), keep the states few: a read that may
// return the register now is taken at once; an info write or cas is taken only right before an
// operation that observes its value (otherwise it may as well happen last, or never); identical
// info operations are taken in the order of their calls. Memory: about (operations / 8 + 16)
// bytes a visited state, 400 MB at 5M states of 500 operations (more while its array grows).
//
// The witness of a key that is not linearizable, as Knossos and Porcupine report it, from the
// deepest point the search reached: the operations taken effect last there (oldest first), the
// register's value after them, the operation whose completion came while it had not taken effect,
// and every operation that could not take effect next (a wrong result from that value, or a
// state already found to be a dead end).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "history.h"

namespace keyward::jepsen {

inline constexpr int64_t kDefaultMaxStatesPerKey = 5'000'000;

struct LinearCheck {
  std::string valid = "true";  // "true", "false" or "unknown"
  int64_t keys = 0;            // registers operated on
  int64_t operations = 0;      // register operations invoked (read, write, cas of a key)
  int64_t states = 0;          // distinct search states visited, all keys together
  // One a key that is not linearizable: {"key", "last_linearized": [op...], "state": V,
  // "completed": op, "unlinearizable": [op...]}, each op {"index", "process", "f", "type",
  // "value"} (the invocation's index and process, the completion's type and value; type null for
  // an operation never completed).
  std::vector<nlohmann::json> anomalies;
  std::vector<std::string> unknown_keys;  // keys whose search ran out of budget
  // {"valid": true | false | "unknown", ...}: Jepsen's `valid?`.
  nlohmann::json ToJson() const;
};

LinearCheck CheckLinearizable(const std::vector<Op>& ops,
                              int64_t max_states_per_key = kDefaultMaxStatesPerKey);

}  // namespace keyward::jepsen
