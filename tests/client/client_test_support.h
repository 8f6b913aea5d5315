// Fixtures shared by the client suites: every test runs once against keyward-server and once
// against Debian's redis-server (skipped when redis-server is not installed).
#pragma once

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "keyward/client/client.h"
#include "keyward/client/config.h"
#include "server_process.h"

namespace keyward::testing {

class ServerTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    if (GetParam() == ServerKind::kRedis && !RedisAvailable()) {
      GTEST_SKIP() << "redis-server is not installed";
    }
    server_ = std::make_unique<ServerProcess>(GetParam(), ServerArgs());
  }

  // Extra server arguments for a fixture (a password, TLS ...).
  virtual std::vector<std::string> ServerArgs() { return {}; }

  ServerProcess& server() { return *server_; }

  client::ClientOptions Options() {
    auto options = client::OptionsFromUrl(server_->url());
    EXPECT_TRUE(options);
    options->connection.connect_timeout = std::chrono::seconds(10);
    return *options;
  }

  // Skips the test when the server lacks `command` (keyward-server gains pub/sub in issue 5).
  std::unique_ptr<ServerProcess> server_;
};

inline std::string ParamName(const ::testing::TestParamInfo<ServerKind>& info) {
  return ToString(info.param);
}

#define KEYWARD_INSTANTIATE_SERVER_TEST(fixture)                                       \
  INSTANTIATE_TEST_SUITE_P(Servers, fixture,                                           \
                           ::testing::Values(::keyward::testing::ServerKind::kKeyward, \
                                             ::keyward::testing::ServerKind::kRedis),  \
                           ::keyward::testing::ParamName)

// Polls `condition` until it holds; fails the test after a 10 s deadline. The only way these
// tests wait (the interval is a polling period, not an ordering assumption).
template <typename Condition>
void WaitFor(Condition condition, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "timed out waiting for " << what;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// The value of `field` in INFO (over a raw connection), or "" when absent.
inline std::string InfoField(ServerProcess& server, const std::string& field) {
  client::Reply info = server.RawCommand({"INFO"});
  auto text = info.as_string();
  if (!text) return "";
  const std::string needle = field + ":";
  size_t at = text->find(needle);
  if (at == std::string_view::npos) return "";
  size_t end = text->find("\r\n", at);
  return std::string(text->substr(at + needle.size(), end - at - needle.size()));
}

// Runs a coroutine on `io` to completion and returns its result.
template <typename T>
T RunCoroutine(asio::io_context& io, asio::awaitable<T> operation) {
  std::optional<T> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result.emplace(co_await std::move(operation)); },
      [](std::exception_ptr failure) {
        if (failure) std::rethrow_exception(failure);
      });
  while (!result) {
    io.restart();
    io.run_one();
  }
  return std::move(*result);
}

}  // namespace keyward::testing
