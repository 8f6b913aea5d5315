// The asynchronous client: many coroutines share one connection; per-request timeouts;
// reconnection events. Run: example_async_concurrency redis://127.0.0.1:6379
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <string>

#include "keyward/client/async_client.h"

using keyward::client::AsyncClient;
using keyward::client::ConnectionEvent;
using keyward::client::OptionsFromUrl;
using keyward::client::Request;

// [worker]
asio::awaitable<void> CountVisits(AsyncClient& client, int worker, int& done) {
  for (int i = 0; i < 100; ++i) {
    // Each call suspends this coroutine only; the others keep the connection busy, and the
    // client writes everything queued meanwhile in one batch.
    auto reply = co_await client.Command("INCR", "visits:" + std::to_string(worker % 4));
    if (!reply) {
      std::fprintf(stderr, "worker %d: %s\n", worker, reply.error().message().c_str());
      co_return;
    }
  }
  ++done;
}
// [worker]

int main(int argc, char** argv) {
  // [setup]
  auto options = OptionsFromUrl(argc > 1 ? argv[1] : "redis://127.0.0.1:6379");
  if (!options) return 2;
  options->reconnect.max_delay = std::chrono::milliseconds(1000);
  options->health_check_interval = std::chrono::milliseconds(1000);  // PING when idle
  asio::io_context io;
  AsyncClient client(io.get_executor(), *options);
  client.SetConnectionHandler([](const ConnectionEvent& event) {
    if (event.kind == ConnectionEvent::Kind::kDisconnected) {
      std::fprintf(stderr, "connection lost (%s), reconnecting\n", event.error.message().c_str());
    }
  });
  // [setup]

  int done = 0;
  int exit_code = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        if (auto error = co_await client.Connect()) {
          std::fprintf(stderr, "cannot connect: %s\n", error.message().c_str());
          exit_code = 1;
          co_return;
        }
        // [spawn]
        for (int worker = 0; worker < 50; ++worker) {
          asio::co_spawn(io, CountVisits(client, worker, done), asio::detached);
        }
        // [spawn]
        // [timeout]
        // A blocking command on a shared connection carries its own server-side timeout
        // (50 ms here); the client's limit is the guard against a server that stopped answering.
        Request wait;
        wait.Push("BLPOP", "empty-queue", 0.05);
        auto result = co_await client.Exec(std::move(wait), std::chrono::seconds(2));
        if (result && result->front().is_null()) std::printf("BLPOP: nothing to pop\n");
        if (!result) std::printf("BLPOP: %s\n", result.error().message().c_str());
        // [timeout]
      },
      asio::detached);
  // The client's own loop never runs out of work; stop once the workers are finished.
  while (exit_code == 0 && done < 50) io.run_one();
  if (exit_code == 0) std::printf("50 workers x 100 INCR done on one connection\n");
  client.Close();
  io.poll();
  return exit_code;
}
