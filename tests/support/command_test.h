// The in-process fixture: a real Server (every family registered) with a ManualClock and no
// sockets. Commands go through the same path as network input (RESP encoding, parser,
// gatekeeper, executor, handler, reply builder).
//
//   TEST_F(StringFamilyTest, SetGet) {
//     EXPECT_EQ(Run({"set", "k", "v"}), "OK");
//     EXPECT_EQ(Run({"get", "k"}), "v");
//     AdvanceMs(1000);                                   // runs timers and cron ticks on the way
//     EXPECT_EQ(Run("other", {"get", "k"}), "v");        // a second, named connection
//   }
//
// Blocking: a command that blocks gets no reply (Resp::Type::kNone, never confused with a nil),
// IsBlocked(conn) says so, and Reply(conn) reads what arrived later.
//
// Every test is a replay test too: after it, a fresh server is rebuilt from the test's propagation
// stream alone and must hold the same dataset, fencing records and functions (replay.h). A test
// that changes the dataset behind the stream's back (DEBUG POPULATE, values made directly in the
// keyspace) says so with SkipReplayCheck.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/core/settings.h"
#include "server/server.h"
#include "tests/support/replay.h"
#include "tests/support/resp.h"

namespace keyward::test {

class TestTransport;

class CommandTest : public ::testing::Test {
 protected:
  CommandTest();
  ~CommandTest() override;
  // The replay check.
  void TearDown() override;

  // Runs a command on the default connection and returns its reply.
  Resp Run(std::vector<std::string> args);
  // Runs a command on the named connection (created on first use).
  Resp Run(const std::string& connection, std::vector<std::string> args);
  // The raw reply bytes (for byte-exact checks).
  std::string RunRaw(std::vector<std::string> args, const std::string& connection = "default");
  // Sends raw protocol bytes and returns everything the server wrote back.
  std::string Send(std::string_view bytes, const std::string& connection = "default");
  // What the connection received since its last command (a served wait's reply, pushes); a
  // Resp of type kNone when nothing arrived.
  Resp Reply(const std::string& connection = "default");
  // Whether the connection's client is blocked (waiting in the blocking registry).
  bool IsBlocked(const std::string& connection = "default");
  // Whether the named connection was closed by the server.
  bool Closed(const std::string& connection = "default");

  // Moves the server clock by `ms`, running every timer and cron tick that falls due on the way,
  // at its own moment, as the event loop would.
  void AdvanceMs(int64_t ms);
  ManualClock& clock() { return clock_; }
  Server& server() { return *server_; }
  Client& client(const std::string& connection = "default");
  ServerSettings& settings_for_test() { return settings_; }

  // A key of another type (a list), made directly in the keyspace for WRONGTYPE paths.
  void MakeList(const std::string& key, std::vector<std::string> items = {"x"}, int db = 0);
  // The test changes the dataset behind the propagation stream's back: no replay check.
  void SkipReplayCheck(std::string reason) { replay_skipped_ = std::move(reason); }
  // Closes every connection (a fixture whose handlers die before the server's clients do).
  void CloseConnections();
  // The propagation stream so far, as its consumers receive it.
  const std::vector<Argv>& stream() const { return recorder_.commands(); }
  // What was propagated since the last call (of either), without the SELECTs: each command, or
  // each with the database it applies to.
  std::vector<Argv> TakePropagated();
  std::vector<std::pair<int, Argv>> TakePropagatedWithDb();

 private:
  TestTransport& Connection(const std::string& name);
  // Lets connections resumed meanwhile (a served wait, the end of a pause) process what they
  // sent, as the event loop's posted reads do.
  void PumpResumed();

  int64_t start_ms_;
  ManualClock clock_;
  Config config_;
  ServerSettings settings_;
  std::unique_ptr<Server> server_;
  StreamRecorder recorder_;
  std::string replay_skipped_;
  size_t taken_ = 0;   // stream commands already returned by TakePropagated
  int taken_db_ = -1;  // the database selected at that point of the stream
  int64_t next_cron_ms_ = 0;
  std::map<std::string, std::unique_ptr<TestTransport>> connections_;
};

}  // namespace keyward::test
