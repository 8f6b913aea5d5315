// The replay check: a server rebuilt from nothing but the propagation stream of another must hold
// the same dataset (every key of every database, its type, value and deadline), the same fencing
// records and floor, and the same function libraries. This is what an AOF replay or a replica
// relies on; the in-process fixture (command_test.h) runs it after every test.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/engine/propagation.h"
#include "server/server.h"

namespace keyward::test {

// Records every command of a server's propagation stream.
class StreamRecorder : public PropagationConsumer {
 public:
  void OnCommand(const Argv& argv) override { commands_.push_back(argv); }
  const std::vector<Argv>& commands() const { return commands_; }
  void Clear() { commands_.clear(); }

 private:
  std::vector<Argv> commands_;
};

// Builds a fresh server that starts at `start_ms` (as `original` did, so the fencing floor is the
// same), applies `stream` to it as an AOF replay would (Executor::Apply, at `now_ms`), and
// compares it with `original`. Returns the differences, empty when none.
std::string ReplayAndCompare(Server& original, const std::vector<Argv>& stream, int64_t start_ms,
                             int64_t now_ms);

// A description of a server's whole dataset, fencing state and functions, one line per item,
// sorted: what ReplayAndCompare compares.
std::vector<std::string> DescribeState(Server& server);

}  // namespace keyward::test
