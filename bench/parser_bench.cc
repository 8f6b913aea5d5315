// Micro-benchmarks of RequestParser, driven the way a connection drives it: parse at the start of
// the unconsumed input, drop consumed() bytes, repeat until the buffer is empty.
//
//   PipelinedSet/<commands>/<value bytes>: a buffer of RESP "SET key:<12 digits> <value>"
//     commands, as redis-benchmark -P <commands> sends them. items/s is commands per second.
//   InlineSet/<commands>: the same commands in the inline (telnet) form, which the parser splits
//     with sdssplitargs rules and copies into owned strings.
//   BigBulk/<bytes>: one SET whose value is a single big bulk string, parsed whole. Arguments
//     are views into the caller's buffer and a bulk is skipped by its length, so the time should
//     not depend on the size: no bytes/s is reported, it would only measure that skip.
//   BigBulkChunked/<bytes>: the same command arriving 16 KiB at a time (Redis's read size); the
//     parser is called again after every chunk with the same start and more bytes. The time
//     should grow linearly with the number of calls (reported as items/s): growth with the
//     square of the size would mean each call rescans what earlier calls already saw.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>

#include "server/protocol/request_parser.h"

namespace keyward {
namespace {

using Status = RequestParser::Status;

std::string Key(int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key:%012lld", static_cast<long long>(i));
  return buf;
}

std::string Bulk(std::string_view s) {
  std::string out = "$";
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
  return out;
}

std::string RespSet(std::string_view key, std::string_view value) {
  return "*3\r\n" + Bulk("SET") + Bulk(key) + Bulk(value);
}

// Parses every command of `input`; returns how many there were. Aborts the benchmark on a
// protocol error or a truncated buffer, which would make the numbers meaningless.
int64_t ParseAll(RequestParser& parser, std::string_view input, benchmark::State& state) {
  int64_t commands = 0;
  while (!input.empty()) {
    Status st = parser.Parse(input);
    if (st == Status::kOk) {
      benchmark::DoNotOptimize(parser.args().data());
      commands++;
    } else if (st != Status::kEmpty) {
      state.SkipWithError(st == Status::kError ? parser.error().c_str() : "incomplete input");
      return commands;
    }
    input.remove_prefix(parser.consumed());
  }
  return commands;
}

void BM_PipelinedSet(benchmark::State& state) {
  const int64_t count = state.range(0);
  const std::string value(static_cast<size_t>(state.range(1)), 'x');
  std::string input;
  for (int64_t i = 0; i < count; i++) input += RespSet(Key(i * 7919 % 1000000), value);
  RequestParser parser;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseAll(parser, input, state));
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}
BENCHMARK(BM_PipelinedSet)
    ->ArgNames({"commands", "value"})
    ->Args({1, 3})
    ->Args({16, 3})
    ->Args({1000, 3})
    ->Args({1000, 100})
    ->Args({100, 4096});

void BM_InlineSet(benchmark::State& state) {
  const int64_t count = state.range(0);
  std::string input;
  for (int64_t i = 0; i < count; i++) input += "SET " + Key(i * 7919 % 1000000) + " xxx\r\n";
  RequestParser parser;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseAll(parser, input, state));
  }
  state.SetItemsProcessed(state.iterations() * count);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(input.size()));
}
BENCHMARK(BM_InlineSet)->ArgName("commands")->Arg(1)->Arg(16)->Arg(1000);

std::string BigSet(int64_t bytes) {
  return RespSet("big", std::string(static_cast<size_t>(bytes), 'v'));
}

void BM_BigBulk(benchmark::State& state) {
  const std::string input = BigSet(state.range(0));
  RequestParser parser;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ParseAll(parser, input, state));
  }
}
BENCHMARK(BM_BigBulk)->ArgName("bytes")->Arg(1 << 20)->Arg(64 << 20);

void BM_BigBulkChunked(benchmark::State& state) {
  constexpr size_t kChunk = 16 * 1024;
  const std::string input = BigSet(state.range(0));
  RequestParser parser;
  int64_t calls = 0;
  for (auto _ : state) {
    size_t available = 0;
    Status st = Status::kNeedMore;
    while (st == Status::kNeedMore && available < input.size()) {
      available = std::min(input.size(), available + kChunk);
      st = parser.Parse(std::string_view(input).substr(0, available));
      calls++;
    }
    if (st != Status::kOk || parser.consumed() != input.size()) {
      state.SkipWithError("the big command did not parse as one command");
      break;
    }
    benchmark::DoNotOptimize(parser.args().data());
  }
  state.SetItemsProcessed(calls);
}
BENCHMARK(BM_BigBulkChunked)->ArgName("bytes")->Arg(1 << 20)->Arg(64 << 20);

}  // namespace
}  // namespace keyward

BENCHMARK_MAIN();
