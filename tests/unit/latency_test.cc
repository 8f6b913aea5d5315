// The latency monitor's slots, the HDR histogram's arithmetic (values worked out by hand from
// HdrHistogram_c's algorithm for Redis's configuration: 1 ns to 1 s, 2 significant figures) and
// the LATENCY command family over the fixture's manual clock.
#include "server/engine/latency.h"

#include "server/engine/hdr_histogram.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

HdrHistogram RedisHistogram() {
  return HdrHistogram(LatencyMonitor::kHistogramMin, LatencyMonitor::kHistogramMax,
                      LatencyMonitor::kHistogramPrecision);
}

TEST(LatencyHistogramTest, BucketLayout) {
  HdrHistogram h = RedisHistogram();
  // 256 sub-buckets (2 * 10^2 rounded up to a power of two), 23 buckets to reach 1e9, stored as
  // (23 + 1) * 128 counts.
  EXPECT_EQ(h.counts_len(), 3072);
  // Exact below 256.
  EXPECT_EQ(h.LowestEquivalentValue(255), 255);
  EXPECT_EQ(h.HighestEquivalentValue(255), 255);
  EXPECT_EQ(h.HighestEquivalentValue(256), 257);
  // 1 µs: bucket 2, sub-bucket 250, ranges of 4.
  EXPECT_EQ(h.CountsIndexFor(1000), 506);
  EXPECT_EQ(h.LowestEquivalentValue(1003), 1000);
  EXPECT_EQ(h.HighestEquivalentValue(1000), 1003);
  // 10 ms: bucket 16, sub-bucket 152, ranges of 65536.
  EXPECT_EQ(h.CountsIndexFor(10000000), 2200);
  EXPECT_EQ(h.LowestEquivalentValue(10000000), 9961472);
  EXPECT_EQ(h.HighestEquivalentValue(10000000), 10027007);
  EXPECT_EQ(h.SizeOfEquivalentValueRange(10000000), 65536);
  // The top: 1 s is trackable, 2 s is not.
  EXPECT_EQ(h.CountsIndexFor(1000000000), 3054);
  EXPECT_EQ(h.ValueAtIndex(3054), 998244352);
  EXPECT_TRUE(h.Record(1000000000));
  EXPECT_FALSE(h.Record(2000000000));
  EXPECT_FALSE(h.Record(-1));
  EXPECT_EQ(h.total_count(), 1);
}

TEST(LatencyHistogramTest, Percentiles) {
  HdrHistogram h = RedisHistogram();
  for (int i = 0; i < 99; i++) h.Record(1000);
  h.Record(10000000);
  // count_at_percentile = (p / 100 * total + 0.5) truncated, at least 1.
  EXPECT_EQ(h.ValueAtPercentile(50), 1003);
  EXPECT_EQ(h.ValueAtPercentile(99), 1003);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 10027007);
  EXPECT_EQ(h.ValueAtPercentile(100), 10027007);
  EXPECT_EQ(h.ValueAtPercentile(150), 10027007);
  // Percentile 0 is the lowest equivalent value (HdrHistogram_c 0.11, as Redis 7.0 vendors).
  EXPECT_EQ(h.ValueAtPercentile(0), 1000);
  HdrHistogram empty = RedisHistogram();
  EXPECT_EQ(empty.ValueAtPercentile(50), 0);
}

TEST(LatencyHistogramTest, LogBucketsAsLatencyHistogramReadsThem) {
  HdrHistogram h = RedisHistogram();
  for (int i = 0; i < 99; i++) h.Record(1000);
  h.Record(10000000);
  const auto steps = h.LogBuckets(1024, 2);
  // Levels 1024, 2048, ... 2^24 ns: 15 steps, each keyed by the highest value of the sub-bucket
  // that reached the level.
  ASSERT_EQ(steps.size(), 15u);
  EXPECT_EQ(steps[0].highest_equivalent_value, 1031);
  EXPECT_EQ(steps[0].cumulative_count, 99);
  EXPECT_EQ(steps[13].highest_equivalent_value, 8454143);
  EXPECT_EQ(steps[13].cumulative_count, 99);
  EXPECT_EQ(steps[14].highest_equivalent_value, 16908287);
  EXPECT_EQ(steps[14].cumulative_count, 100);
}

TEST(LatencyMonitorTest, OneSlotPerSecond) {
  LatencyMonitor m;
  m.AddSample("command", 5, 100);
  m.AddSample("command", 7, 100);  // same second, higher: raises the slot
  m.AddSample("command", 3, 100);  // same second, lower: kept out
  m.AddSample("command", 2, 101);
  const LatencyTimeSeries* ts = m.Find("command");
  ASSERT_NE(ts, nullptr);
  const auto samples = ts->InOrder();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples[0].time_sec, 100);
  EXPECT_EQ(samples[0].latency_ms, 7);
  EXPECT_EQ(samples[1].time_sec, 101);
  EXPECT_EQ(samples[1].latency_ms, 2);
  EXPECT_EQ(ts->latest().latency_ms, 2);
  EXPECT_EQ(ts->max, 7);
  EXPECT_EQ(m.Find("COMMAND"), nullptr);  // exact names, as Redis's event dictionary
}

TEST(LatencyMonitorTest, RingKeeps160AndTheAllTimeHigh) {
  LatencyMonitor m;
  m.AddSample("e", 50, 1);
  for (int64_t t = 2; t <= 161; t++) m.AddSample("e", 1, t);
  const auto samples = m.Find("e")->InOrder();
  ASSERT_EQ(samples.size(), 160u);
  EXPECT_EQ(samples.front().time_sec, 2);
  EXPECT_EQ(samples.back().time_sec, 161);
  EXPECT_EQ(m.Find("e")->max, 50);
}

TEST(LatencyMonitorTest, ThresholdAndReset) {
  LatencyMonitor m;
  m.AddSampleIfNeeded("command", 100, 0, 1);  // monitor off
  m.AddSampleIfNeeded("command", 4, 5, 1);    // under the threshold
  EXPECT_TRUE(m.events().empty());
  m.AddSampleIfNeeded("command", 5, 5, 1);
  m.AddSampleIfNeeded("fast-command", 9, 5, 1);
  EXPECT_EQ(m.events().size(), 2u);
  EXPECT_EQ(m.Reset(std::string_view("COMMAND")), 1);  // case-insensitive
  EXPECT_EQ(m.Reset(std::string_view("nope")), 0);
  EXPECT_EQ(m.Reset(std::nullopt), 1);
  EXPECT_TRUE(m.events().empty());
}

TEST(LatencyMonitorTest, PercentileNames) {
  EXPECT_EQ(FormatPercentile(50), "50");
  EXPECT_EQ(FormatPercentile(99.9), "99.9");
  EXPECT_EQ(FormatPercentile(-0.0), "-0");
  EXPECT_EQ(FormatPercentile(10), "10");
}

class LatencyFamilyTest : public CommandTest {
 protected:
  int64_t NowSec() { return clock().NowMs() / 1000; }
  LatencyMonitor& monitor() { return server().services().latency; }
};

TEST_F(LatencyFamilyTest, LatestHistoryResetOverTheClock) {
  const int64_t t0 = NowSec();
  monitor().AddSample("command", 10, NowSec());
  AdvanceMs(300);
  monitor().AddSample("command", 12, NowSec());  // the same second as t0, or the next
  AdvanceMs(1000);
  monitor().AddSample("command", 20, NowSec());
  const int64_t t2 = NowSec();
  Resp history = Run({"latency", "history", "command"});
  ASSERT_GE(history.elems.size(), 2u);
  EXPECT_EQ(history.elems.front().elems[0].integer, t0);
  EXPECT_EQ(history.elems.back().elems[0].integer, t2);
  EXPECT_EQ(history.elems.back().elems[1].integer, 20);
  Resp latest = Run({"latency", "latest"});
  ASSERT_EQ(latest.elems.size(), 1u);
  EXPECT_EQ(latest.elems[0].elems[0].str, "command");
  EXPECT_EQ(latest.elems[0].elems[1].integer, t2);
  EXPECT_EQ(latest.elems[0].elems[2].integer, 20);
  EXPECT_EQ(latest.elems[0].elems[3].integer, 20);
  EXPECT_EQ(Run({"latency", "history", "nothing"}).elems.size(), 0u);
  EXPECT_EQ(Run({"latency", "reset", "nothing", "Command"}).integer, 1);
  EXPECT_EQ(Run({"latency", "latest"}).elems.size(), 0u);
}

TEST_F(LatencyFamilyTest, GraphOfTwoSeconds) {
  monitor().AddSample("command", 10, NowSec());
  AdvanceMs(1000);
  monitor().AddSample("command", 20, NowSec());
  EXPECT_EQ(Run({"latency", "graph", "command"}).str,
            "command - high 20 ms, low 10 ms (all time high 20 ms)\n" + std::string(80, '-') +
                "\n #\n |\n |\n_|\n  \n10\nss\n");
  EXPECT_EQ(Run({"latency", "graph", "other"}).str, "ERR No samples available for event 'other'");
}

TEST_F(LatencyFamilyTest, DoctorWithAndWithoutEvents) {
  EXPECT_THAT(Run({"latency", "doctor"}).str, HasSubstr("I'm sorry, Dave, I can't do that."));
  Run({"config", "set", "latency-monitor-threshold", "5"});
  monitor().AddSample("command", 10, NowSec());
  const std::string report = Run({"latency", "doctor"}).str;
  EXPECT_THAT(report, HasSubstr("1. command: 1 latency spikes (average 10ms, mean deviation 0ms, "
                                "period 1.00 sec). Worst all time event 10ms.\n"));
  EXPECT_THAT(report, HasSubstr("'CONFIG SET slowlog-log-slower-than 5000'"));
}

TEST_F(LatencyFamilyTest, HistogramsFollowTheCalls) {
  Run({"set", "k", "v"});
  Run({"set", "k", "v"});
  Run({"config", "get", "maxmemory"});
  // The manual clock stands still: every run lasts 0 µs, recorded as 1 ns.
  Resp h = Run({"latency", "histogram", "set", "config", "nosuch"});
  ASSERT_EQ(h.elems.size(), 4u);
  EXPECT_EQ(h.elems[0].str, "set");
  EXPECT_EQ(h.elems[1].elems[1].integer, 2);  // calls
  EXPECT_EQ(h.elems[1].elems[3].elems.size(), 2u);
  EXPECT_EQ(h.elems[1].elems[3].elems[0].integer, 1);
  EXPECT_EQ(h.elems[1].elems[3].elems[1].integer, 2);
  EXPECT_EQ(h.elems[2].str, "config|get");
  EXPECT_THAT(Run({"info", "latencystats"}).str,
              HasSubstr("latency_percentiles_usec_set:p50=0.001,p99=0.001,p99.9=0.001\r\n"));
  Run({"config", "set", "latency-tracking-info-percentiles", "0 100"});
  EXPECT_THAT(Run({"info", "latencystats"}).str,
              HasSubstr("latency_percentiles_usec_set:p0=0.001,p100=0.001\r\n"));
  Run({"config", "resetstat"});
  EXPECT_THAT(Run({"info", "latencystats"}).str, Not(HasSubstr("usec_set:")));
  Run({"config", "set", "latency-tracking", "no"});
  Run({"set", "k", "v"});
  EXPECT_EQ(Run({"latency", "histogram", "set"}).elems.size(), 0u);
}

TEST_F(LatencyFamilyTest, PercentileOptionErrors) {
  EXPECT_EQ(Run({"config", "set", "latency-tracking-info-percentiles", "50 abc"}).str,
            "ERR CONFIG SET failed (possibly related to argument "
            "'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles "
            "parameters");
  EXPECT_EQ(Run({"config", "set", "latency-tracking-info-percentiles", "101"}).str,
            "ERR CONFIG SET failed (possibly related to argument "
            "'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters "
            "should sit between [0.0,100.0]");
  EXPECT_EQ(Run({"config", "get", "latency-tracking-info-percentiles"}).elems[1].str, "50 99 99.9");
  Run({"config", "set", "latency-tracking-info-percentiles", ""});
  EXPECT_EQ(Run({"config", "get", "latency-tracking-info-percentiles"}).elems[1].str, "");
}

}  // namespace
}  // namespace keyward::test
