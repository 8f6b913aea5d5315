// The in-process fixture: a real Server (every family registered) with a ManualClock and no
// sockets. Commands go through the same path as network input (RESP encoding, parser,
// gatekeeper, handler, reply builder).
//
//   TEST_F(StringFamilyTest, SetGet) {
//     EXPECT_EQ(Run({"set", "k", "v"}), "OK");
//     EXPECT_EQ(Run({"get", "k"}), "v");
//     AdvanceMs(1000);                                  // moves the server clock
//     EXPECT_EQ(Run("other", {"get", "k"}), "v");       // a second, named connection
//   }
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
#include "tests/support/resp.h"

namespace keyward::test {

class TestTransport;

class CommandTest : public ::testing::Test {
 protected:
  CommandTest();
  ~CommandTest() override;

  // Runs a command on the default connection and returns its reply.
  Resp Run(std::vector<std::string> args);
  // Runs a command on the named connection (created on first use).
  Resp Run(const std::string& connection, std::vector<std::string> args);
  // The raw reply bytes (for byte-exact checks).
  std::string RunRaw(std::vector<std::string> args, const std::string& connection = "default");
  // Sends raw protocol bytes and returns everything the server wrote back.
  std::string Send(std::string_view bytes, const std::string& connection = "default");
  // Whether the named connection was closed by the server.
  bool Closed(const std::string& connection = "default");

  void AdvanceMs(int64_t ms);
  ManualClock& clock() { return clock_; }
  Server& server() { return *server_; }
  Client& client(const std::string& connection = "default");
  ServerSettings& settings_for_test() { return settings_; }

 private:
  TestTransport& Connection(const std::string& name);

  ManualClock clock_;
  Config config_;
  ServerSettings settings_;
  std::unique_ptr<Server> server_;
  std::map<std::string, std::unique_ptr<TestTransport>> connections_;
};

}  // namespace keyward::test
