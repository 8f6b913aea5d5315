// The background snapshot (storage/snapshot.h) through BGSAVE on an in-process server: the file
// holds every key exactly once, as it was when BGSAVE started, whatever the commands run while it
// is written do to the keys (in-place changes, rebuilt entries, deletes, renames, moves, expiry,
// FLUSHDB, SWAPDB); keys created meanwhile are not in it. The file is read back with the loader
// into a fresh keyspace and compared, key by key, with the RDB form of the dataset taken at the
// moment BGSAVE started.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "server/persistence/rdb_codec.h"
#include "server/storage/rdb_format.h"
#include "server/storage/rdb_loader.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

// db:key -> the key's RDB record (expiry, type, key, value), uncompressed.
using Dataset = std::map<std::string, std::string>;

// A key's record; a hash table's elements (sets, type 2; hashes, type 4) come in table order,
// which depends on the table's seed and history, so they are sorted.
std::string Canonical(const Entry& e) {
  std::string record;
  rdb::AppendEntry(record, e, /*compress=*/false);
  rdb::Reader in(record);
  if (e.has_expire()) in.Bytes(9);
  const uint8_t type = *in.Byte();
  if (type != 2 && type != 4) return record;
  in.String();
  std::string out(record.substr(0, in.position()));
  const uint64_t n = *in.Len();
  std::vector<std::string> elements;
  for (uint64_t i = 0; i < n; i++) {
    std::string element = *in.String();
    if (type == 4) element += "=" + *in.String();
    elements.push_back(element);
  }
  std::sort(elements.begin(), elements.end());
  for (const auto& element : elements) out += element + "\n";
  return out;
}

Dataset Serialised(Keyspace& keyspace) {
  Dataset out;
  for (int i = 0; i < keyspace.db_count(); i++) {
    keyspace.db(i).ForEach(
        [&](Entry* e) { out[std::to_string(i) + ":" + std::string(e->key())] = Canonical(*e); });
  }
  return out;
}

// The keys whose records differ, are missing or are extra (a readable failure message).
std::string Differences(const Dataset& got, const Dataset& want) {
  std::string out;
  for (const auto& [key, record] : want) {
    auto it = got.find(key);
    if (it == got.end()) {
      out += " missing:" + key;
    } else if (it->second != record) {
      out += " differs:" + key;
    }
  }
  for (const auto& [key, record] : got) {
    if (want.count(key) == 0) out += " extra:" + key;
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SnapshotTest : public CommandTest {
 protected:
  SnapshotTest() {
    dir_ = std::filesystem::temp_directory_path() /
           ("keyward-snapshot-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    old_cwd_ = std::filesystem::current_path();
    std::filesystem::current_path(dir_);
  }
  ~SnapshotTest() override {
    std::filesystem::current_path(old_cwd_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  bool InProgress(const std::string& connection = "default") {
    const std::string info = Run(connection, {"info", "persistence"}).str;
    return info.find("rdb_bgsave_in_progress:1") != std::string::npos;
  }
  // Runs the cron until the background save is over (the file is renamed by the writer thread,
  // which the cron polls).
  void WaitForBgsave() {
    while (InProgress()) AdvanceMs(100);
  }
  // The file on disk, loaded into a fresh keyspace at the server's time.
  Dataset Loaded(const std::string& file = "dump.rdb") {
    const std::string data = ReadFile(file);
    Keyspace keyspace(16, 1);
    keyspace.set_now_ms(server().now_ms());
    RdbLoadOptions options;
    options.drop_expired = false;
    RdbLoadResult result = LoadRdb(data, keyspace, server().settings(), options, {});
    EXPECT_FALSE(result.error) << *result.error;
    return Serialised(keyspace);
  }

  // A dataset with every type and encoding, in databases 0, 2, 3 and 4.
  void Populate() {
    Run({"set", "int", "12345"});
    Run({"set", "embstr", "hello"});
    Run({"set", "raw", std::string(100, 'r')});
    Run({"set", "volatile", "v", "px", "50000"});
    Run({"set", "short-lived", "v", "px", "5"});
    Run({"rpush", "list", "a", "b", "c"});
    std::vector<std::string> big = {"rpush", "biglist"};
    for (int i = 0; i < 500; i++) big.push_back("element-" + std::to_string(i));
    Run(big);
    Run({"hset", "hash", "f1", "v1", "f2", "v2"});
    std::vector<std::string> bighash = {"hset", "bighash"};
    for (int i = 0; i < 200; i++) {
      bighash.push_back("field-" + std::to_string(i));
      bighash.push_back("value-" + std::to_string(i));
    }
    Run(bighash);
    Run({"sadd", "intset", "1", "2", "3"});
    Run({"sadd", "set", "a", "b", "c"});
    Run({"zadd", "zset", "1", "a", "2.5", "b"});
    std::vector<std::string> bigzset = {"zadd", "bigzset"};
    for (int i = 0; i < 200; i++) {
      bigzset.push_back(std::to_string(i * 1.5));
      bigzset.push_back("member-" + std::to_string(i));
    }
    Run(bigzset);
    Run({"pfadd", "hll", "a", "b", "c"});
    for (int i = 0; i < 300; i++) Run({"set", "filler:" + std::to_string(i), std::to_string(i)});
    for (int db : {2, 3, 4}) {
      Run({"select", std::to_string(db)});
      for (int i = 0; i < 20; i++) {
        Run({"set", "db" + std::to_string(db) + ":" + std::to_string(i), "x"});
      }
      Run({"rpush", "dblist", "x", "y"});
    }
    Run({"select", "0"});
  }

  // `keys` string keys, then a BGSAVE that writes one key per millisecond of server time; the
  // dataset as it was when it started.
  Dataset StartSlowBgsaveOf(int keys) {
    for (int i = 0; i < keys; i++) Run({"set", "old:" + std::to_string(i), std::to_string(i)});
    Dataset before = Serialised(server().keyspace());
    EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "1000"}), "OK");
    EXPECT_EQ(Run({"bgsave"}), "Background saving started");
    return before;
  }

  // Values far bigger than what a step writes (16 elements a step under rdb-key-save-delay): a set
  // and a hash table, a skiplist, a list of many nodes, a stream of many nodes.
  void PopulateBigValues() {
    std::vector<std::string> sadd = {"sadd", "bigset"}, hset = {"hset", "bighash"},
                             zadd = {"zadd", "bigzset"}, rpush = {"rpush", "biglist"};
    for (int i = 0; i < 3000; i++) {
      const std::string n = std::to_string(i);
      sadd.push_back("member-" + n);
      hset.insert(hset.end(), {"field-" + n, "value-" + n});
      zadd.insert(zadd.end(), {n, "member-" + n});
      rpush.push_back("element-" + n);
    }
    Run(sadd);
    Run(hset);
    Run(zadd);
    Run(rpush);
    for (int i = 1; i <= 3000; i++) Run({"xadd", "bigstream", std::to_string(i) + "-0", "f", "v"});
    for (int i = 0; i < 50; i++) Run({"set", "small:" + std::to_string(i), "x"});
  }

  std::filesystem::path dir_;
  std::filesystem::path old_cwd_;
};

TEST_F(SnapshotTest, SaveWritesEveryTypeAndEncodingAndTheLoaderReadsThemBack) {
  Populate();
  const Dataset before = Serialised(server().keyspace());
  EXPECT_EQ(Run({"save"}), "OK");
  EXPECT_EQ(Differences(Loaded(), before), "");
  // The file is a valid RDB 10 file with Redis's AUX fields first.
  const std::string data = ReadFile("dump.rdb");
  EXPECT_EQ(data.substr(0, 9), "REDIS0010");
  EXPECT_NE(data.find("redis-ver"), std::string::npos);
  // The checksum covers everything before it.
  uint64_t stored = 0;
  for (int i = 0; i < 8; i++) {
    stored |= static_cast<uint64_t>(static_cast<uint8_t>(data[data.size() - 8 + i])) << (8 * i);
  }
  EXPECT_EQ(stored, rdb::Crc64(0, std::string_view(data).substr(0, data.size() - 8)));
}

TEST_F(SnapshotTest, BackgroundSaveHoldsTheDatasetAsItWasWhenItStarted) {
  Populate();
  const Dataset before = Serialised(server().keyspace());
  // One key per millisecond of server time: the snapshot lasts while the commands below run.
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "1000"}), "OK");
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  AdvanceMs(3);  // a few keys written by the walk
  EXPECT_TRUE(InProgress());
  EXPECT_EQ(Run({"bgsave"}).str, "ERR Background save already in progress");
  EXPECT_EQ(Run({"save"}).str, "ERR Background save already in progress");

  // Every kind of change, to keys the walk has or has not reached yet.
  Run({"set", "int", "changed"});
  Run({"append", "raw", "more"});  // in place
  Run({"incr", "filler:7"});       // in place (int encoding)
  Run({"rpush", "list", "d"});     // the value changes in place
  Run({"rpush", "biglist", "last"});
  Run({"hset", "hash", "f3", "v3"});
  Run({"hdel", "bighash", "field-3"});
  Run({"sadd", "intset", "4"});
  Run({"srem", "set", "a"});
  Run({"zadd", "zset", "9", "z"});
  Run({"zincrby", "bigzset", "100", "member-5"});
  Run({"pfadd", "hll", "d", "e"});
  Run({"expire", "embstr", "1000"});  // the entry is rebuilt with a deadline slot
  Run({"persist", "volatile"});       // and without
  Run({"del", "filler:1", "filler:2"});
  Run({"unlink", "filler:3"});
  Run({"rename", "filler:4", "renamed"});
  Run({"move", "filler:5", "6"});
  Run({"copy", "filler:6", "copied"});
  Run({"getdel", "filler:8"});
  Run({"set", "brand-new", "x"});  // not part of the snapshot
  Run({"restore", "filler:9", "0", Run({"dump", "filler:10"}).str, "replace"});
  AdvanceMs(10);  // short-lived expires (lazily or actively)
  Run({"get", "short-lived"});
  Run({"select", "2"});
  Run({"flushdb"});
  Run({"swapdb", "3", "4"});
  Run({"select", "3"});
  Run({"set", "db3-after-swap", "x"});
  Run({"select", "0"});
  EXPECT_TRUE(InProgress());

  // Finish quickly now.
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "0"}), "OK");
  WaitForBgsave();
  EXPECT_NE(Run({"info", "persistence"}).str.find("rdb_last_bgsave_status:ok"), std::string::npos);
  EXPECT_EQ(Differences(Loaded(), before), "");

  // The next snapshot starts from a consistent state: it holds the dataset as it is now.
  const Dataset now = Serialised(server().keyspace());
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  WaitForBgsave();
  EXPECT_EQ(Differences(Loaded(), now), "");
}

TEST_F(SnapshotTest, BigValuesAreWrittenInPiecesAndFinishedBeforeAnyChange) {
  PopulateBigValues();
  const Dataset before = Serialised(server().keyspace());
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "1000"}), "OK");
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  const Snapshot& snapshot = server().snapshots().snapshot();
  for (int i = 0; i < 100000 && !snapshot.value_in_progress(); i++) AdvanceMs(1);
  // A step ended with a value half written: the event loop runs between its pieces.
  ASSERT_TRUE(snapshot.value_in_progress());
  EXPECT_TRUE(InProgress());
  // Touch every big value (whichever is half written is finished first, as it was) and write
  // other keys (a record of theirs must not land inside the half-written one).
  Run({"set", "small:3", "changed"});
  Run({"sadd", "bigset", "new"});
  Run({"hset", "bighash", "field-1", "changed"});
  Run({"zincrby", "bigzset", "5000", "member-7"});
  Run({"lpop", "biglist"});
  Run({"xadd", "bigstream", "5000-0", "f", "v"});
  Run({"xtrim", "bigstream", "maxlen", "10"});
  Run({"del", "small:4"});
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "0"}), "OK");
  WaitForBgsave();
  EXPECT_EQ(Differences(Loaded(), before), "");
}

TEST_F(SnapshotTest, AWatchedKeyFlushedDuringABackgroundSaveLeavesTheCountsRight) {
  // FLUSHALL abandons the snapshot; WATCH then looks at the flushed keys on their way out, which
  // the snapshot sees as lookups of pending entries. The next snapshots must still complete.
  for (int i = 0; i < 200; i++) Run({"set", "k" + std::to_string(i), "v"});
  // Watched before the save starts: the keys are pending when the flush touches them.
  EXPECT_EQ(Run("watcher", {"watch", "k150", "k151"}), "OK");
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "1000"}), "OK");
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  AdvanceMs(3);
  EXPECT_EQ(Run({"flushall"}), "OK");
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "0"}), "OK");
  WaitForBgsave();
  Run({"set", "after", "x"});
  const Dataset now = Serialised(server().keyspace());
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  WaitForBgsave();
  EXPECT_EQ(Differences(Loaded(), now), "");
  EXPECT_EQ(Run({"save"}), "OK");
  EXPECT_EQ(Differences(Loaded(), now), "");
}

TEST_F(SnapshotTest, AHalfWrittenValueLeftByFlushAllDoesNotSpoilTheNextSnapshot) {
  PopulateBigValues();
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "1000"}), "OK");
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  const Snapshot& snapshot = server().snapshots().snapshot();
  for (int i = 0; i < 100000 && !snapshot.value_in_progress(); i++) AdvanceMs(1);
  ASSERT_TRUE(snapshot.value_in_progress());
  Run({"select", "1"});
  PopulateBigValues();  // another database, which the flush below empties too
  Run({"select", "0"});
  EXPECT_EQ(Run({"flushall"}), "OK");
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "0"}), "OK");
  WaitForBgsave();
  PopulateBigValues();
  const Dataset now = Serialised(server().keyspace());
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  WaitForBgsave();
  EXPECT_EQ(Differences(Loaded(), now), "");
}

TEST_F(SnapshotTest, TheWalkFindsEveryKeyWhileTheTableGrowsAndShrinksUnderIt) {
  const Dataset before = StartSlowBgsaveOf(2000);
  // The table doubles several times (new keys), then shrinks (the new keys go, and half of the
  // old ones), while the walk is in its first pass.
  for (int round = 0; round < 4; round++) {
    AdvanceMs(5);
    for (int i = 0; i < 5000; i++) {
      Run({"set", "new:" + std::to_string(round) + ":" + std::to_string(i), "x"});
    }
  }
  AdvanceMs(5);
  Run({"flushdb"});  // drains what is pending, then empties the table
  for (int i = 0; i < 3000; i++) Run({"set", "again:" + std::to_string(i), "x"});
  AdvanceMs(200);  // the cron shrinks and rehashes
  EXPECT_TRUE(InProgress());
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "0"}), "OK");
  WaitForBgsave();
  EXPECT_EQ(Differences(Loaded(), before), "");
}

TEST_F(SnapshotTest, ResizesDuringTheWalkMakeItPassAgainNotMissKeys) {
  const Dataset before = StartSlowBgsaveOf(3000);
  // Grow the table while the walk is half way through its slots, so entries it has not
  // reached yet move to slots it has passed.
  for (int step = 0; step < 40; step++) {
    AdvanceMs(20);
    for (int i = 0; i < 500; i++) {
      Run({"set", "grow:" + std::to_string(step) + ":" + std::to_string(i), "x"});
    }
  }
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "0"}), "OK");
  WaitForBgsave();
  EXPECT_EQ(Differences(Loaded(), before), "");
}

TEST_F(SnapshotTest, FlushAllAbandonsTheBackgroundSaveAndTheNextOneIsConsistent) {
  Populate();
  settings_for_test().save_params = {{3600, 1}};
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "1000"}), "OK");
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  AdvanceMs(3);
  Run({"set", "int", "changed"});
  // FLUSHALL with save points: the background save stops, the empty dataset is saved at once.
  EXPECT_EQ(Run({"flushall"}), "OK");
  EXPECT_FALSE(InProgress());
  EXPECT_TRUE(Loaded().empty());
  EXPECT_TRUE(std::filesystem::exists("dump.rdb"));
  // No temp file is left behind.
  for (const auto& f : std::filesystem::directory_iterator(".")) {
    EXPECT_EQ(f.path().filename().string().rfind("temp-", 0), std::string::npos) << f.path();
  }
  Populate();
  const Dataset now = Serialised(server().keyspace());
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "0"}), "OK");
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  WaitForBgsave();
  EXPECT_EQ(Differences(Loaded(), now), "");
}

TEST_F(SnapshotTest, ShutdownDuringABackgroundSaveWritesTheWholeDatasetAsItIsNow) {
  Populate();
  settings_for_test().save_params = {{3600, 1}};
  EXPECT_EQ(Run({"config", "set", "rdb-key-save-delay", "1000"}), "OK");
  EXPECT_EQ(Run({"bgsave"}), "Background saving started");
  AdvanceMs(3);
  Run({"set", "int", "changed"});
  Run({"del", "raw"});
  const Dataset now = Serialised(server().keyspace());
  // SHUTDOWN abandons the background save and writes the final snapshot in the foreground; the
  // connection closes without a reply.
  Run({"shutdown"});
  EXPECT_TRUE(Closed());
  EXPECT_FALSE(InProgress("other"));
  EXPECT_EQ(Differences(Loaded(), now), "");
  for (const auto& f : std::filesystem::directory_iterator(".")) {
    EXPECT_EQ(f.path().filename().string().rfind("temp-", 0), std::string::npos) << f.path();
  }
}

TEST_F(SnapshotTest, SavePointsStartABackgroundSaveAndResetTheDirtyCounter) {
  settings_for_test().save_params = {{60, 3}};
  Run({"set", "a", "1"});
  Run({"set", "b", "2"});
  AdvanceMs(61000);  // 2 changes: not enough
  EXPECT_FALSE(std::filesystem::exists("dump.rdb"));
  Run({"set", "c", "3"});
  AdvanceMs(200);  // the cron sees 3 changes in more than 60 s
  WaitForBgsave();
  EXPECT_EQ(Loaded().size(), 3u);
  EXPECT_NE(Run({"info", "persistence"}).str.find("rdb_changes_since_last_save:0"),
            std::string::npos);
  EXPECT_EQ(Run({"lastsave"}).integer, server().now_ms() / 1000);
}

TEST_F(SnapshotTest, DebugReloadSavesFlushesAndLoadsTheSameDataset) {
  Populate();
  EXPECT_EQ(Run({"function", "load",
                 "#!lua name=lib\nredis.register_function('f', function() "
                 "return 1 end)"}),
            "lib");
  const Dataset before = Serialised(server().keyspace());
  EXPECT_EQ(Run({"debug", "reload"}), "OK");
  EXPECT_EQ(Differences(Serialised(server().keyspace()), before), "");
  EXPECT_EQ(Run({"fcall", "f", "0"}), 1);
  // NOSAVE: the file as it is; NOFLUSH MERGE: the file's keys over the ones in memory.
  Run({"set", "int", "changed"});
  Run({"set", "only-in-memory", "x"});
  EXPECT_EQ(Run({"debug", "reload", "nosave", "noflush", "merge"}), "OK");
  EXPECT_EQ(Run({"get", "int"}), "12345");
  EXPECT_EQ(Run({"get", "only-in-memory"}), "x");
  // NOFLUSH without MERGE meets its own keys: an error (Redis panics), nothing lost.
  EXPECT_EQ(Run({"debug", "reload", "nosave", "noflush"}).str,
            "ERR Error trying to load the RDB dump, check server logs.");
  EXPECT_EQ(Run({"get", "only-in-memory"}), "x");
  EXPECT_EQ(Run({"debug", "reload", "bogus"}).str,
            "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
  SkipReplayCheck("DEBUG RELOAD MERGE puts the file's values back behind the stream's back");
}

TEST(RdbCodecTest, SlicedCrc64MatchesTheBytewiseDefinition) {
  // Redis's crc64 one byte at a time, from the polynomial.
  auto bytewise = [](uint64_t crc, std::string_view data) {
    for (unsigned char c : data) {
      crc ^= c;
      for (int bit = 0; bit < 8; bit++)
        crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
    }
    return crc;
  };
  std::string data;
  for (int i = 0; i < 1000; i++) data += static_cast<char>((i * 131 + 7) & 0xff);
  for (size_t len : {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000}) {
    for (size_t offset : {0, 1, 3}) {
      if (offset + len > data.size()) continue;
      std::string_view part = std::string_view(data).substr(offset, len);
      EXPECT_EQ(rdb::Crc64(0, part), bytewise(0, part)) << len << " " << offset;
      EXPECT_EQ(rdb::Crc64(12345, part), bytewise(12345, part)) << len << " " << offset;
    }
  }
}

}  // namespace
}  // namespace keyward::test
