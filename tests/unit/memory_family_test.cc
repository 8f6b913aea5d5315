// MEMORY STATS, DOCTOR, MALLOC-STATS and HELP over the in-process fixture, and the doctor's
// decisions (memory_overhead.h) on figures made up for each of Redis's reports.
#include <map>

#include "server/commands/memory_overhead.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class MemoryFamilyTest : public CommandTest {};

// A map reply (RESP3, or RESP2's flat array) as name -> value, in order of names.
std::vector<std::pair<std::string, Resp>> Fields(const Resp& r) {
  std::vector<std::pair<std::string, Resp>> out;
  for (size_t i = 0; i + 1 < r.size(); i += 2) out.emplace_back(r[i].str, r[i + 1]);
  return out;
}

std::vector<std::string> Names(const Resp& r) {
  std::vector<std::string> names;
  for (const auto& [name, value] : Fields(r)) names.push_back(name);
  return names;
}

TEST_F(MemoryFamilyTest, StatsNamesInRedisOrder) {
  Run({"set", "a", "1"});
  Run({"expire", "a", "100"});
  Run({"select", "3"});
  Run({"set", "b", "2"});
  Run({"select", "0"});
  const Resp r = Run({"memory", "stats"});
  ASSERT_EQ(r.type, Resp::Type::kArray);
  EXPECT_THAT(
      Names(r),
      ElementsAre("peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
                  "clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches",
                  "functions.caches", "db.0", "db.3", "overhead.total", "keys.count",
                  "keys.bytes-per-key", "dataset.bytes", "dataset.percentage", "peak.percentage",
                  "allocator.allocated", "allocator.active", "allocator.resident",
                  "allocator-fragmentation.ratio", "allocator-fragmentation.bytes",
                  "allocator-rss.ratio", "allocator-rss.bytes", "rss-overhead.ratio",
                  "rss-overhead.bytes", "fragmentation", "fragmentation.bytes"));
  std::map<std::string, Resp> f;
  for (auto& [name, value] : Fields(r)) f[name] = value;
  EXPECT_EQ(f["keys.count"], 2);
  EXPECT_THAT(Names(f["db.0"]), ElementsAre("overhead.hashtable.main", "overhead.hashtable.expires",
                                            "overhead.hashtable.slot-to-keys"));
  EXPECT_GT(Fields(f["db.0"])[1].second.integer, 0);  // the key with a deadline
  EXPECT_EQ(Fields(f["db.3"])[1].second, 0);
  // RESP2: the ratios are bulk strings, "%.17g" of a float.
  EXPECT_EQ(f["dataset.percentage"].type, Resp::Type::kBulk);
  EXPECT_EQ(f["overhead.total"].integer,
            f["startup.allocated"].integer + f["clients.normal"].integer + f["lua.caches"].integer +
                f["functions.caches"].integer + Fields(f["db.0"])[0].second.integer +
                Fields(f["db.0"])[1].second.integer + Fields(f["db.3"])[0].second.integer +
                Fields(f["db.3"])[1].second.integer);
  EXPECT_EQ(f["dataset.bytes"].integer, f["total.allocated"].integer - f["overhead.total"].integer);
  EXPECT_GE(f["peak.allocated"].integer, f["total.allocated"].integer);
}

TEST_F(MemoryFamilyTest, StatsInResp3IsAMapOfDoubles) {
  Run({"hello", "3"});
  const Resp r = Run({"memory", "stats"});
  ASSERT_EQ(r.type, Resp::Type::kMap);
  EXPECT_EQ(r.size(), 2u * 27);  // no database has keys
  for (const auto& [name, value] : Fields(r)) {
    const bool ratio =
        name.ends_with(".ratio") || name.ends_with(".percentage") || name == "fragmentation";
    EXPECT_EQ(value.type, ratio ? Resp::Type::kDouble : Resp::Type::kInt) << name;
  }
}

TEST_F(MemoryFamilyTest, DoctorOnAnEmptyInstance) {
  const Resp r = Run({"memory", "doctor"});
  EXPECT_EQ(r.type, Resp::Type::kBulk);
  EXPECT_EQ(r.str,
            "Hi Sam, this instance is empty or is using very little memory, my issues detector "
            "can't be used in these conditions. Please, leave for your mission on Earth and fill "
            "it with some data. The new Sam and I will be back to our programming as soon as I "
            "finished rebooting.\n");
  Run({"hello", "3"});
  EXPECT_EQ(Run({"memory", "doctor"}).type, Resp::Type::kVerbatim);
}

TEST_F(MemoryFamilyTest, MallocStats) {
  const Resp r = Run({"memory", "malloc-stats"});
  // glibc's report, or (a sanitizer build) Redis's answer for an allocator without statistics.
  if (r.type == Resp::Type::kBulk && r.str == "Stats not supported for the current allocator") {
    SUCCEED();
  } else {
    EXPECT_THAT(r.str, StartsWith("<malloc version=\""));
  }
}

TEST_F(MemoryFamilyTest, HelpAndErrors) {
  const Resp help = Run({"memory", "help"});
  EXPECT_THAT(
      help.strings(),
      ElementsAre("MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", "DOCTOR",
                  "    Return memory problems reports.", "MALLOC-STATS",
                  "    Return internal statistics report from the memory allocator.", "PURGE",
                  "    Attempt to purge dirty pages for reclamation by the allocator.", "STATS",
                  "    Return information about the memory usage of the server.",
                  "USAGE <key> [SAMPLES <count>]",
                  "    Return memory in bytes used by <key> and its value. Nested values are",
                  "    sampled up to <count> times (default: 5, 0 means sample all).", "HELP",
                  "    Prints this help."));
  EXPECT_THAT(Run({"memory", "stats", "x"}),
              ErrorIs("ERR wrong number of arguments for 'memory|stats' command"));
  EXPECT_THAT(Run({"memory", "doctor", "x"}),
              ErrorIs("ERR wrong number of arguments for 'memory|doctor' command"));
}

// --- the doctor's decisions ----------------------------------------------------------------

constexpr size_t kMb = 1024 * 1024;

// An instance of 100 MB with nothing wrong: every ratio 1.
MemoryOverhead Healthy() {
  MemoryOverhead mh;
  mh.total_allocated = mh.peak_allocated = 100 * kMb;
  mh.total_frag = mh.allocator_frag = mh.allocator_rss = mh.rss_extra = 1;
  return mh;
}

std::string Report(const MemoryOverhead& mh, DoctorInputs in = {1, 0, 0}) {
  return MemoryDoctorReport(mh, in);
}

TEST(MemoryDoctorTest, EmptyBelowFiveMegabytes) {
  MemoryOverhead mh = Healthy();
  mh.total_allocated = 5 * kMb - 1;
  mh.peak_allocated = 100 * kMb;  // not judged: the instance is too empty
  EXPECT_THAT(Report(mh), StartsWith("Hi Sam, this instance is empty"));
  mh.total_allocated = 5 * kMb;
  EXPECT_THAT(Report(mh), StartsWith("Sam, I detected a few issues"));
}

TEST(MemoryDoctorTest, NothingWrong) {
  EXPECT_EQ(Report(Healthy()),
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
            "occurs on this base.\n");
}

TEST(MemoryDoctorTest, EachIssueByItsThresholds) {
  struct Case {
    const char* paragraph;
    void (*make)(MemoryOverhead&, DoctorInputs&);
    void (*just_under)(MemoryOverhead&, DoctorInputs&);
  };
  const Case cases[] = {
      {" * Peak memory: In the past this instance used more than 150%",
       [](MemoryOverhead& m, DoctorInputs&) { m.peak_allocated = 151 * kMb; },
       [](MemoryOverhead& m, DoctorInputs&) { m.peak_allocated = 150 * kMb; }},
      {" * High total RSS: This instance has a memory fragmentation and RSS overhead greater "
       "than 1.4",
       [](MemoryOverhead& m, DoctorInputs&) {
         m.total_frag = 1.5f;
         m.total_frag_bytes = 10 * kMb + 1;
       },
       [](MemoryOverhead& m, DoctorInputs&) {
         m.total_frag = 1.5f;
         m.total_frag_bytes = 10 * kMb;
       }},
      {" * High allocator fragmentation: This instance has an allocator external fragmentation "
       "greater than 1.1",
       [](MemoryOverhead& m, DoctorInputs&) {
         m.allocator_frag = 1.2f;
         m.allocator_frag_bytes = 11 * kMb;
       },
       [](MemoryOverhead& m, DoctorInputs&) {
         // (1.1f itself is above the double 1.1, in Redis's comparison as here.)
         m.allocator_frag = 1.09f;
         m.allocator_frag_bytes = 11 * kMb;
       }},
      {" * High allocator RSS overhead: This instance has an RSS memory overhead is greater than "
       "1.1",
       [](MemoryOverhead& m, DoctorInputs&) {
         m.allocator_rss = 1.2f;
         m.allocator_rss_bytes = 11 * kMb;
       },
       [](MemoryOverhead& m, DoctorInputs&) {
         m.allocator_rss = 1.05f;
         m.allocator_rss_bytes = 11 * kMb;
       }},
      {" * High process RSS overhead: This instance has non-allocator RSS memory overhead is "
       "greater than 1.1",
       [](MemoryOverhead& m, DoctorInputs&) {
         m.rss_extra = 1.2f;
         m.rss_extra_bytes = 11 * kMb;
       },
       [](MemoryOverhead& m, DoctorInputs&) {
         m.rss_extra = 1.2f;
         m.rss_extra_bytes = 9 * kMb;
       }},
      {" * Big replica buffers: The replica output buffers in this instance are greater than "
       "10MB",
       [](MemoryOverhead& m, DoctorInputs& in) {
         in.replicas = 2;
         m.clients_slaves = 21 * kMb;
       },
       [](MemoryOverhead& m, DoctorInputs& in) {
         in.replicas = 2;
         m.clients_slaves = 20 * kMb;
       }},
      {" * Big client buffers: The clients output buffers in this instance are greater than "
       "200K per client",
       [](MemoryOverhead& m, DoctorInputs& in) {
         in.clients = 3;
         m.clients_normal = 3 * (200 * 1024 + 1);
       },
       [](MemoryOverhead& m, DoctorInputs& in) {
         in.clients = 3;
         m.clients_normal = 3 * 200 * 1024 + 2;
       }},
      {" * Many scripts: There seem to be many cached scripts in this instance (more than 1000)",
       [](MemoryOverhead&, DoctorInputs& in) { in.cached_scripts = 1001; },
       [](MemoryOverhead&, DoctorInputs& in) { in.cached_scripts = 1000; }},
  };
  for (const Case& c : cases) {
    MemoryOverhead mh = Healthy();
    DoctorInputs in{1, 0, 0};
    c.make(mh, in);
    const std::string report = Report(mh, in);
    EXPECT_THAT(report, StartsWith("Sam, I detected a few issues in this Redis instance memory "
                                   "implants:\n\n" +
                                   std::string(c.paragraph)))
        << c.paragraph;
    EXPECT_TRUE(report.ends_with(".\n\nI'm here to keep you safe, Sam. I want to help you.\n"))
        << report;
    mh = Healthy();
    in = {1, 0, 0};
    c.just_under(mh, in);
    EXPECT_THAT(Report(mh, in), StartsWith("Hi Sam, I can't find any memory issue")) << c.paragraph;
  }
}

TEST(MemoryDoctorTest, IssuesInRedisOrderWithTheAllocatorsName) {
  MemoryOverhead mh = Healthy();
  mh.peak_allocated = 200 * kMb;
  mh.total_frag = 2;
  mh.total_frag_bytes = 100 * kMb;
  const std::string report = Report(mh, {1, 0, 2000});
  const size_t peak = report.find(" * Peak memory");
  const size_t rss = report.find(" * High total RSS");
  const size_t scripts = report.find(" * Many scripts");
  EXPECT_LT(peak, rss);
  EXPECT_LT(rss, scripts);
  EXPECT_NE(scripts, std::string::npos);
  EXPECT_THAT(report, HasSubstr("Note: The currently used allocator is \"libc\".\n\n"));
}

}  // namespace
}  // namespace keyward::test
