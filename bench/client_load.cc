// Load generator for the client benchmark (compare_client.py): the Keyward client's side of the
// comparison with redis-benchmark and redis-py. It runs one workload on one connection and prints
// one JSON line: requests, seconds, requests per second, and round-trip latency percentiles.
//
//   keyward_client_load --url redis://127.0.0.1:6379 --mode sync --command ping --depth 1 -n 100000
//
// Workloads (`--command`): ping (PING), set (SET key:__rand_int__ xxx, a 3-byte value as
// redis-benchmark's default), get (GET key:__rand_int__), tx10 (one transaction: MULTI, ten
// SET key:__rand_int__ xxx, EXEC; counted as one request, --depth transactions per batch).
// Modes:
//   sync   Client::Exec of a Request holding `depth` commands, back to back: the same pattern as
//          redis-benchmark -c 1 -P depth (send a batch, wait for all its replies, repeat).
//   async  AsyncClient with `--concurrency C` coroutines, each awaiting one Request of `depth`
//          commands at a time: C * depth commands in flight. C = 1 is the pipeline pattern above;
//          depth = 1 with C callers shows the cost of independent concurrent requests, which the
//          client batches into writes itself.
// Latency is measured per request (a batch of `depth`), from before the call to after its
// result, as redis-benchmark measures it.
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "keyward/client/async_client.h"
#include "keyward/client/client.h"
#include "load_flags.h"

namespace {

using keyward::client::AsyncClient;
using keyward::client::Client;
using keyward::client::Request;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string url = "redis://127.0.0.1:6379";
  std::string mode = "sync";
  std::string command = "ping";
  int depth = 1;
  int concurrency = 1;
  long requests = 100000;
  long keyspace = 100000;
};

constexpr const char* kUsage =
    "usage: keyward_client_load [--url URL] [--mode sync|async] [--command ping|set|get|tx10] "
    "[--depth N] [--concurrency C] [-n REQUESTS] [--keyspace N]\n";

Args Parse(int argc, char** argv) {
  Args args;
  keyward::bench::ParseFlags(argc, argv,
                             {{"--url", &args.url},
                              {"--mode", &args.mode},
                              {"--command", &args.command},
                              {"--depth", &args.depth},
                              {"--concurrency", &args.concurrency},
                              {"-n", &args.requests},
                              {"--keyspace", &args.keyspace}},
                             kUsage);
  args.depth = std::max(1, args.depth);
  args.concurrency = std::max(1, args.concurrency);
  args.keyspace = std::max(1L, args.keyspace);
  if (args.command != "ping" && args.command != "set" && args.command != "get" &&
      args.command != "tx10")
    keyward::bench::Usage(kUsage);
  if (args.mode != "sync" && args.mode != "async") keyward::bench::Usage(kUsage);
  return args;
}

// A pseudo-random key as redis-benchmark -r picks them: key:<12 digits>, written by hand into
// `name` (redis-benchmark patches the digits in place, and an snprintf per command would make
// this driver, not the client library, the thing measured).
std::string_view RandomKey(char (&name)[16], long keyspace, uint64_t& rng) {
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  long rest = static_cast<long>((rng >> 33) % static_cast<uint64_t>(keyspace));
  name[0] = 'k', name[1] = 'e', name[2] = 'y', name[3] = ':';
  for (int i = 15; i >= 4; --i) {
    name[i] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  return std::string_view(name, sizeof name);
}

// One request of the workload: a command, or for tx10 a whole transaction.
void PushRequest(Request& request, const Args& args, uint64_t& rng) {
  char name[16];
  if (args.command == "ping") {
    request.Push("PING");
  } else if (args.command == "set") {
    request.Push("SET", RandomKey(name, args.keyspace, rng), "xxx");
  } else if (args.command == "get") {
    request.Push("GET", RandomKey(name, args.keyspace, rng));
  } else {
    request.Push("MULTI");
    for (int i = 0; i < 10; ++i) request.Push("SET", RandomKey(name, args.keyspace, rng), "xxx");
    request.Push("EXEC");
  }
}

double Percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<long>(k), samples.end());
  return samples[k];
}

void Report(const Args& args, long done, double seconds, std::vector<double>& latencies_us) {
  std::printf(
      "{\"mode\":\"%s\",\"command\":\"%s\",\"depth\":%d,\"concurrency\":%d,\"requests\":%ld,"
      "\"seconds\":%.6f,\"rps\":%.1f,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
      args.mode.c_str(), args.command.c_str(), args.depth, args.concurrency, done, seconds,
      done / seconds, Percentile(latencies_us, 50), Percentile(latencies_us, 99));
}

int RunSync(const Args& args, const keyward::client::ClientOptions& options) {
  Client client(options);
  if (auto error = client.Connect()) {
    std::fprintf(stderr, "connect: %s\n", error.message().c_str());
    return 1;
  }
  uint64_t rng = 42;
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(args.requests / args.depth + 1));
  long done = 0;
  const auto start = Clock::now();
  while (done < args.requests) {
    Request batch;
    for (int i = 0; i < args.depth; ++i) PushRequest(batch, args, rng);
    const auto sent = Clock::now();
    auto replies = client.Exec(std::move(batch));
    if (!replies) {
      std::fprintf(stderr, "exec: %s\n", replies.error().message().c_str());
      return 1;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
    done += args.depth;
  }
  Report(args, done, std::chrono::duration<double>(Clock::now() - start).count(), latencies);
  return 0;
}

// One of the `depth` concurrent workers of the async mode.
asio::awaitable<void> Worker(AsyncClient& client, const Args& args, long& remaining, uint64_t seed,
                             std::vector<double>& latencies, bool& failed) {
  uint64_t rng = seed;
  while (remaining > 0 && !failed) {
    remaining -= args.depth;
    Request request;
    for (int i = 0; i < args.depth; ++i) PushRequest(request, args, rng);
    const auto sent = Clock::now();
    auto replies = co_await client.Exec(std::move(request));
    if (!replies) {
      std::fprintf(stderr, "exec: %s\n", replies.error().message().c_str());
      failed = true;
      co_return;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
  }
}

int RunAsync(const Args& args, const keyward::client::ClientOptions& options) {
  asio::io_context io(1);
  AsyncClient client(io.get_executor(), options);
  std::vector<double> latencies;
  latencies.reserve(static_cast<size_t>(args.requests / args.depth + args.concurrency));
  long remaining = args.requests;
  long done = 0;
  bool failed = false;
  Clock::time_point start;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        if (auto error = co_await client.Connect()) {
          std::fprintf(stderr, "connect: %s\n", error.message().c_str());
          failed = true;
          co_return;
        }
        start = Clock::now();
        for (int i = 0; i < args.concurrency; ++i) {
          asio::co_spawn(
              io, Worker(client, args, remaining, 42 + static_cast<uint64_t>(i), latencies, failed),
              asio::detached);
        }
      },
      asio::detached);
  // Runs until every worker has finished; the client's own loop keeps the context busy, so stop
  // on the count instead of waiting for run() to return.
  const auto batches = [&] { return static_cast<long>(latencies.size()) * args.depth; };
  while (!failed && batches() < args.requests) io.run_one();
  done = batches();
  if (failed) return 1;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  client.Close();
  io.poll();
  Report(args, done, seconds, latencies);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = Parse(argc, argv);
  auto options = keyward::client::OptionsFromUrl(args.url);
  if (!options) {
    std::fprintf(stderr, "bad url: %s\n", args.url.c_str());
    return 2;
  }
  return args.mode == "sync" ? RunSync(args, *options) : RunAsync(args, *options);
}
