// Pub/sub with the asynchronous client: subscribe, receive messages as an awaitable stream, and
// keep the subscription across reconnections. Run: example_async_pubsub redis://127.0.0.1:6379
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <string>

#include "keyward/client/async_client.h"

using keyward::client::AsyncClient;
using keyward::client::OptionsFromUrl;
using keyward::client::Reply;
using keyward::client::Request;

int main(int argc, char** argv) {
  auto options = OptionsFromUrl(argc > 1 ? argv[1] : "redis://127.0.0.1:6379");
  if (!options) return 2;
  asio::io_context io;
  AsyncClient subscriber(io.get_executor(), *options);
  AsyncClient publisher(io.get_executor(), *options);
  int received = 0;
  bool failed = false;

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // [subscribe]
        Request subscribe;
        subscribe.Push("SUBSCRIBE", "news");
        subscribe.Push("PSUBSCRIBE", "alerts.*");
        // Subscribe-family commands have no reply of their own: their confirmations arrive as
        // push messages, like the messages themselves.
        if (auto done = co_await subscriber.Exec(std::move(subscribe)); !done) {
          std::fprintf(stderr, "subscribe: %s\n", done.error().message().c_str());
          failed = true;
          co_return;
        }
        // [subscribe]
        // [receive]
        while (received < 2) {
          auto push = co_await subscriber.ReceivePush();  // Expected<Reply>
          if (!push) {
            failed = true;
            co_return;
          }
          auto fields = push->as_array().value();  // ["message", channel, payload] or
                                                   // ["pmessage", pattern, channel, payload]
          std::string kind(fields[0].as_string().value());
          if (kind == "message" || kind == "pmessage") {
            std::printf("%s on %s: %s\n", kind.c_str(),
                        std::string(fields[fields.size() - 2].as_string().value()).c_str(),
                        std::string(fields.back().as_string().value()).c_str());
            ++received;
          } else if (kind == "psubscribe") {
            // The last confirmation: both subscriptions are active, publish now.
            co_await publisher.Command("PUBLISH", "news", "hello");
            co_await publisher.Command("PUBLISH", "alerts.disk", "90% full");
          }
        }
        // [receive]
      },
      asio::detached);
  while (!failed && received < 2) io.run_one();
  subscriber.Close();
  publisher.Close();
  io.poll();
  return failed ? 1 : 0;
}
