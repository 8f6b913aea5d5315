// The synchronous client: connect from a URL, run commands, read typed replies, pipeline,
// transaction, time limits. Run: example_sync_basics redis://127.0.0.1:6379
#include <cstdio>
#include <string>

#include "keyward/client/client.h"

using keyward::client::Client;
using keyward::client::ClientError;
using keyward::client::OptionsFromUrl;
using keyward::client::Request;

int main(int argc, char** argv) {
  // [connect]
  auto options = OptionsFromUrl(argc > 1 ? argv[1] : "redis://127.0.0.1:6379/0");
  if (!options) {
    std::fprintf(stderr, "bad URL: %s\n", options.error().message().c_str());
    return 2;
  }
  options->connection.client_name = "example";
  Client client(*options);
  if (std::error_code error = client.Connect()) {
    std::fprintf(stderr, "cannot connect: %s\n", error.message().c_str());
    return 1;
  }
  // [connect]

  // [commands]
  client.Command("SET", "visits", 41);             // any argument that converts to a string
  auto visits = client.Command("INCR", "visits");  // Expected<Reply>
  if (!visits) {                                   // transport failure: no reply at all
    std::fprintf(stderr, "INCR failed: %s\n", visits.error().message().c_str());
    return 1;
  }
  auto count = visits->as_integer();  // Expected<int64_t>
  std::printf("visits = %lld\n", static_cast<long long>(count.value()));

  auto missing = client.Command("GET", "no-such-key");
  if (missing && missing->is_null()) std::printf("no-such-key is not set\n");

  auto refused = client.Command("INCR", "visits", "extra-argument");
  if (refused && refused->is_error()) {  // the server said no: a reply, not a failure
    std::printf("server error: %s\n", std::string(refused->as_error().value()).c_str());
  }
  // [commands]

  // [pipeline]
  Request pipeline;  // one write, one round trip
  for (int i = 0; i < 3; ++i) pipeline.Push("RPUSH", "jobs", "job-" + std::to_string(i));
  pipeline.Push("LRANGE", "jobs", 0, -1);
  if (auto replies = client.Exec(std::move(pipeline))) {
    std::printf("pipeline: %zu replies\n", replies->size());
  }
  // [pipeline]

  // [transaction]
  Request transfer;
  transfer.Push("DECRBY", "account:a", 10);
  transfer.Push("INCRBY", "account:b", 10);
  auto exec = client.Transaction(transfer);  // MULTI ... EXEC in one round trip
  if (exec && exec->as_array()) std::printf("transfer applied atomically\n");
  // [transaction]

  // [timeout]
  Request slow;
  slow.Push("BLPOP", "empty-queue", 0);  // blocks until something is pushed
  auto waited = client.Exec(std::move(slow), std::chrono::milliseconds(100));
  if (!waited && waited.error() == ClientError::kTimeout) {
    std::printf("BLPOP timed out; its connection was closed, the next call reconnects\n");
  }
  // [timeout]
  client.Command("DEL", "visits", "jobs", "account:a", "account:b");
  return 0;
}
