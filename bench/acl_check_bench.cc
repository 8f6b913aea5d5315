// The ACL check's cost per command (AccessControl::Check, what the gatekeeper asks before every
// command): for the default user (`+@all ~* &*`: it returns at once) and for a user with 20 rules
// whose allowed key pattern is the last of several (the command bitmap, the key specs, the
// pattern search), on GET and SET as redis-benchmark sends them. Compare the difference with the
// server's CPU per command (compare_redis.py: about 1 µs at -P 16) for the throughput cost.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/engine/capture_transport.h"
#include "server/server.h"

namespace keyward {
namespace {

// The same 20 rules as bench/compare_acl.py.
const std::vector<std::string> kLimitedRules = {
    "on",      ">bench-pass", "~a:*",   "~b:*",        "~c:*",       "%R~r:*",   "%W~w:*",
    "~jobs:*", "~locks:*",    "~key:*", "&events:*",   "-@all",      "+@string", "+@read",
    "-keys",   "-@dangerous", "+ping",  "+config|get", "+client|id", "+select|0"};

struct Fixture {
  ManualClock clock;
  Config config;
  ServerSettings settings;
  std::unique_ptr<Server> server;
  CaptureTransport transport;
  std::unique_ptr<Client> client;

  Fixture() {
    Server::DeclareOptions(config, settings);
    server = std::make_unique<Server>(&clock, &config, &settings);
    if (server->acl().SetUser("bench", kLimitedRules, nullptr)) std::abort();
    client = std::make_unique<Client>(1, &transport, clock.NowMs());
    client->authenticated = true;
  }
};

Fixture& TheFixture() {
  static Fixture f;
  return f;
}

void CheckLoop(benchmark::State& state, std::string_view user, std::vector<std::string_view> args) {
  Fixture& f = TheFixture();
  f.client->user = f.server->acl().Find(user);
  const CommandSpec* cmd = f.server->registry().FindFor(args);
  for (auto _ : state) {
    auto denied = f.server->acl().Check(CallerKind::kClient, *f.client, *cmd, args);
    if (denied) state.SkipWithError(denied->c_str());
    benchmark::DoNotOptimize(denied);
  }
}

void BM_GetDefault(benchmark::State& s) { CheckLoop(s, "default", {"GET", "key:000012345"}); }
void BM_GetLimited(benchmark::State& s) { CheckLoop(s, "bench", {"GET", "key:000012345"}); }
void BM_SetDefault(benchmark::State& s) {
  CheckLoop(s, "default", {"SET", "key:000012345", "xxx"});
}
void BM_SetLimited(benchmark::State& s) { CheckLoop(s, "bench", {"SET", "key:000012345", "xxx"}); }
void BM_MsetLimited(benchmark::State& s) {
  CheckLoop(s, "bench", {"MSET", "key:1", "a", "key:2", "b", "key:3", "c", "key:4", "d"});
}
BENCHMARK(BM_GetDefault);
BENCHMARK(BM_GetLimited);
BENCHMARK(BM_SetDefault);
BENCHMARK(BM_SetLimited);
BENCHMARK(BM_MsetLimited);

}  // namespace
}  // namespace keyward

BENCHMARK_MAIN();
