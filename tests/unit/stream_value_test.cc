// The stream structure (stream_value.h) and its RDB form (stream_decode.h): appends close nodes
// where Redis closes them, iterators walk both ways across nodes and tombstones, trimming and
// deletion keep the counts and the recorded first ID right, and the RDB form round-trips while
// every kind of malformed input (found by mutating valid payloads at every byte) is refused or
// decodes into a stream that is still consistent. tests/differential/test_streams.py compares
// the same behaviour with redis-server through the commands.
#include "server/keyspace/stream_value.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/keyspace/stream_decode.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {
namespace {

struct StringSink : ValueSink {
  void Write(std::string_view bytes) override { out.append(bytes); }
  bool compress() const override { return false; }
  std::string out;
};

std::string Serialised(const StreamValue& s) {
  StringSink sink;
  s.Serialise(sink);
  return sink.out;
}

std::vector<StreamID> Ids(const StreamValue& s, StreamID start = StreamID::Min(),
                          StreamID end = StreamID::Max(), bool rev = false) {
  StreamValue::Iterator it(s, start, end, rev);
  std::vector<StreamID> out;
  StreamID id;
  int64_t n;
  while (it.Next(&id, &n)) out.push_back(id);
  return out;
}

StreamID Add(StreamValue& s, StreamID id, std::vector<std::string_view> fv = {"f", "v"},
             StreamValue::NodeLimits limits = {}) {
  StreamID added;
  EXPECT_EQ(s.Append(fv, &id, true, 0, limits, &added), StreamValue::AppendResult::kOk);
  return added;
}

TEST(StreamValueTest, AppendsIdsAndRefusesOldOnes) {
  StreamValue s;
  StreamID id;
  // Auto IDs follow the clock, and never go back when the clock does.
  ASSERT_EQ(s.Append(std::vector<std::string_view>{"a", "1"}, nullptr, true, 1000, {}, &id),
            StreamValue::AppendResult::kOk);
  EXPECT_EQ(id, (StreamID{1000, 0}));
  ASSERT_EQ(s.Append(std::vector<std::string_view>{"a", "2"}, nullptr, true, 900, {}, &id),
            StreamValue::AppendResult::kOk);
  EXPECT_EQ(id, (StreamID{1000, 1}));
  // <ms>-*: the next sequence in the last ID's millisecond, or 0 in a later one.
  StreamID ms_only{1000, 0};
  ASSERT_EQ(s.Append(std::vector<std::string_view>{"a", "3"}, &ms_only, false, 0, {}, &id),
            StreamValue::AppendResult::kOk);
  EXPECT_EQ(id, (StreamID{1000, 2}));
  StreamID old{999, 5};
  EXPECT_EQ(s.Append(std::vector<std::string_view>{"a", "4"}, &old, true, 0, {}, &id),
            StreamValue::AppendResult::kIdTooSmall);
  EXPECT_EQ(s.length(), 3u);
  EXPECT_EQ(s.entries_added(), 3u);
  EXPECT_EQ(s.first_id(), (StreamID{1000, 0}));
  EXPECT_EQ(s.last_id(), (StreamID{1000, 2}));
}

TEST(StreamValueTest, NodesCloseAtTheLimits) {
  StreamValue s;
  StreamValue::NodeLimits by_entries{4096, 3};
  for (uint64_t i = 1; i <= 7; i++) Add(s, {i, 0}, {"f", "v"}, by_entries);
  EXPECT_EQ(s.nodes().size(), 3u);  // 3 + 3 + 1
  // By bytes: a node closes when its bytes plus the new entry's field and value lengths reach
  // the limit.
  StreamValue b;
  StreamValue::NodeLimits by_bytes{60, 0};
  for (uint64_t i = 1; i <= 6; i++) Add(b, {i, 0}, {"field", "value-xx"}, by_bytes);
  EXPECT_GT(b.nodes().size(), 1u);
  for (const auto& [master, lp] : b.nodes()) EXPECT_LT(lp.bytes(), 60u + 13u);
  EXPECT_EQ(Ids(b).size(), 6u);
}

TEST(StreamValueTest, IteratesBothWaysAcrossNodesAndTombstones) {
  StreamValue s;
  StreamValue::NodeLimits small{4096, 2};
  for (uint64_t i = 1; i <= 9; i++) Add(s, {i, i}, {"f", "v"}, small);
  EXPECT_TRUE(s.Delete({4, 4}));
  EXPECT_FALSE(s.Delete({4, 4}));
  EXPECT_FALSE(s.Delete({4, 5}));
  EXPECT_EQ(s.length(), 8u);
  std::vector<StreamID> fwd = Ids(s, {3, 0}, {7, 7});
  EXPECT_EQ(fwd, (std::vector<StreamID>{{3, 3}, {5, 5}, {6, 6}, {7, 7}}));
  std::vector<StreamID> rev = Ids(s, {3, 0}, {7, 7}, true);
  EXPECT_EQ(rev, (std::vector<StreamID>{{7, 7}, {6, 6}, {5, 5}, {3, 3}}));
  // A whole node's entries deleted: the node goes.
  const size_t nodes = s.nodes().size();
  EXPECT_TRUE(s.Delete({3, 3}));
  EXPECT_EQ(s.nodes().size(), nodes - 1);
  EXPECT_EQ(s.EdgeID(true, true), (StreamID{1, 1}));
  EXPECT_EQ(s.EdgeID(false, true), (StreamID{9, 9}));
  EXPECT_TRUE(s.Exists({5, 5}));
  EXPECT_FALSE(s.Exists({4, 4}));
}

TEST(StreamValueTest, FieldsComeFromTheMasterEntryOrTheEntry) {
  StreamValue s;
  Add(s, {1, 0}, {"a", "1", "b", "2"});
  Add(s, {2, 0}, {"a", "3", "b", "4"});  // same fields: stored as values only
  Add(s, {3, 0}, {"x", "5"});            // other fields: stored with them
  StreamValue::Iterator it(s, StreamID::Min(), StreamID::Max(), true);
  std::vector<std::string> seen;
  StreamID id;
  int64_t n;
  char fb[21], vb[21];
  while (it.Next(&id, &n)) {
    for (int64_t i = 0; i < n; i++) {
      LpElement f, v;
      it.Field(&f, &v);
      seen.push_back(std::string(f.View(fb)) + "=" + std::string(v.View(vb)));
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"x=5", "a=3", "b=4", "a=1", "b=2"}));
}

TEST(StreamValueTest, TrimsExactlyOrByWholeNodes) {
  StreamValue::NodeLimits small{4096, 3};
  StreamValue s;
  for (uint64_t i = 1; i <= 10; i++) Add(s, {i, 0}, {"f", "v"}, small);
  StreamTrim approx{StreamTrim::Strategy::kMaxLen, true, 0, 5, {}};
  // Only whole nodes go: 10 - 3 = 7 >= 5, 7 - 3 = 4 < 5.
  EXPECT_EQ(s.Trim(approx), 3);
  EXPECT_EQ(s.length(), 7u);
  StreamTrim exact{StreamTrim::Strategy::kMaxLen, false, 0, 5, {}};
  EXPECT_EQ(s.Trim(exact), 2);
  EXPECT_EQ(s.length(), 5u);
  EXPECT_EQ(s.first_id(), (StreamID{6, 0}));
  StreamTrim minid{StreamTrim::Strategy::kMinId, false, 0, 0, {8, 0}};
  EXPECT_EQ(s.Trim(minid), 2);
  EXPECT_EQ(Ids(s), (std::vector<StreamID>{{8, 0}, {9, 0}, {10, 0}}));
  // LIMIT stops before a node that would pass it.
  StreamTrim limited{StreamTrim::Strategy::kMaxLen, true, 1, 0, {}};
  EXPECT_EQ(s.Trim(limited), 0);
  StreamTrim all{StreamTrim::Strategy::kMaxLen, false, 0, 0, {}};
  EXPECT_EQ(s.Trim(all), 3);
  EXPECT_EQ(s.length(), 0u);
  EXPECT_EQ(s.first_id(), StreamID::Min());
  EXPECT_EQ(s.last_id(), (StreamID{10, 0}));
}

TEST(StreamValueTest, NodesStayInOrderThroughHeadTrimsAndMiddleDeletes) {
  // One entry a node: every trim and delete removes nodes, from the head (the vector's start
  // moves, then it is compacted) and from the middle, while appends keep coming.
  StreamValue s;
  StreamValue::NodeLimits one{4096, 1};
  std::vector<StreamID> model;
  uint64_t next = 1;
  std::mt19937 rng(3);
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < 50; i++) {
      model.push_back(Add(s, {next, 0}, {"f", "v"}, one));
      next++;
    }
    StreamTrim trim{StreamTrim::Strategy::kMaxLen, false, 0, 60, {}};
    s.Trim(trim);
    if (model.size() > 60) model.erase(model.begin(), model.end() - 60);
    for (int d = 0; d < 5 && !model.empty(); d++) {
      size_t victim = rng() % model.size();
      EXPECT_TRUE(s.Delete(model[victim]));
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(victim));
    }
    ASSERT_EQ(Ids(s), model) << "round " << round;
    EXPECT_EQ(s.nodes().size(), model.size());
    std::vector<StreamID> reversed(model.rbegin(), model.rend());
    EXPECT_EQ(Ids(s, StreamID::Min(), StreamID::Max(), true), reversed);
  }
  auto copy = s.Clone();
  EXPECT_EQ(Ids(*static_cast<StreamValue*>(copy.get())), model);
}

// The radix-tree node count by brute force: every root, key, branching prefix and child of a
// branching prefix is a node of Redis's tree, counted once (what RaxNodeCount computes in O(n)).
size_t ReferenceRaxNodes(const StreamValue& s) {
  std::vector<std::string> keys;
  for (const auto& [master, lp] : s.nodes()) {
    char k[16];
    master.Encode(k);
    keys.emplace_back(k, 16);
  }
  std::set<std::string> nodes = {std::string()};
  for (size_t i = 0; i < keys.size(); i++) {
    nodes.insert(keys[i]);
    if (i + 1 == keys.size()) break;
    size_t l = 0;
    while (l < 16 && keys[i][l] == keys[i + 1][l]) l++;
    nodes.insert(keys[i].substr(0, l));
    nodes.insert(keys[i].substr(0, l + 1));
    nodes.insert(keys[i + 1].substr(0, l + 1));
  }
  return nodes.size();
}

TEST(StreamValueTest, RadixTreeNodeCountAgreesWithTheDefinition) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 200; round++) {
    StreamValue s;
    StreamValue::NodeLimits one{4096, 1};
    uint64_t ms = rng() % 4 == 0 ? rng() : rng() % 1000;
    uint64_t seq = 0;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; i++) {
      switch (rng() % 4) {
        case 0:
          seq++;
          break;
        case 1:
          seq += rng() % 100000;
          break;
        case 2:
          ms++;
          seq = 0;
          break;
        default:
          ms += rng() % (uint64_t{1} << (rng() % 40));
          seq = rng() % 3;
      }
      StreamID id{ms, seq};
      if (!s.nodes().empty() && id <= s.last_id()) continue;
      Add(s, id, {"f", "v"}, one);
    }
    ASSERT_EQ(s.RaxNodeCount(), ReferenceRaxNodes(s)) << "round " << round;
  }
}

TEST(StreamValueTest, RadixTreeNodeCountsAsRedisReports) {
  // Counts read from redis-server 7.0.15's XINFO STREAM for the same node keys.
  StreamValue s;
  EXPECT_EQ(s.RaxNodeCount(), 1u);
  StreamValue::NodeLimits one{4096, 1};
  Add(s, {1, 1}, {"f", "v"}, one);
  EXPECT_EQ(s.RaxNodeCount(), 2u);
  Add(s, {1, 2}, {"f", "v"}, one);
  // Keys differ in their last byte: root (compressed), a branch node, two leaves.
  EXPECT_EQ(s.RaxNodeCount(), 4u);
  Add(s, {2, 0}, {"f", "v"}, one);
  EXPECT_EQ(s.RaxNodeCount(), 8u);
}

std::unique_ptr<StreamValue> GroupedStream() {
  auto owned = std::make_unique<StreamValue>();
  StreamValue& s = *owned;
  StreamValue::NodeLimits small{4096, 2};
  for (uint64_t i = 1; i <= 5; i++) Add(s, {i, 0}, {"f", std::to_string(i)}, small);
  s.Delete({2, 0});
  s.set_max_deleted_id({2, 0});
  StreamGroup* g = s.CreateGroup("g", {4, 0}, 3);
  StreamConsumer* alice = g->CreateConsumer("alice", 111);
  g->CreateConsumer("idle", 222);
  for (uint64_t i : {1, 3, 4}) {
    auto nack = std::make_unique<StreamNack>();
    nack->delivery_time = 1000 + static_cast<int64_t>(i);
    nack->delivery_count = i;
    nack->consumer = alice;
    alice->pel[{i, 0}] = nack.get();
    g->pel.emplace(StreamID{i, 0}, std::move(nack));
  }
  s.CreateGroup("empty", StreamID::Min(), StreamGroup::kInvalidEntriesRead);
  return owned;
}

TEST(StreamValueTest, RdbFormRoundTrips) {
  std::unique_ptr<StreamValue> owned = GroupedStream();
  const StreamValue& s = *owned;
  const std::string bytes = Serialised(s);
  rdb::Reader in(bytes);
  std::unique_ptr<StreamValue> back = DecodeStream(19, in);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(in.remaining(), 0u);
  EXPECT_EQ(Serialised(*back), bytes);
  EXPECT_EQ(back->length(), 4u);
  StreamGroup* g = back->FindGroup("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->entries_read, 3);
  ASSERT_EQ(g->pel.size(), 3u);
  EXPECT_EQ(g->pel.at({3, 0})->consumer->name(), "alice");
  EXPECT_EQ(g->pel.at({3, 0})->delivery_count, 3u);
  EXPECT_EQ(g->FindConsumer("idle")->seen_time, 222);
  // Clone (COPY) is the same value.
  auto copy = s.Clone();
  EXPECT_EQ(Serialised(*static_cast<StreamValue*>(copy.get())), bytes);
}

TEST(StreamValueTest, MalformedRdbFormsAreRefused) {
  const std::string good = Serialised(*GroupedStream());
  // Every truncation.
  for (size_t n = 0; n < good.size(); n++) {
    rdb::Reader in(std::string_view(good).substr(0, n));
    EXPECT_EQ(DecodeStream(19, in), nullptr) << "truncated at " << n;
  }
  // Every single-byte change either is refused or decodes into a stream whose walk, trims and
  // serialisation stay inside its bytes (ASan watches) and agree with its length.
  std::mt19937 rng(7);
  for (size_t pos = 0; pos < good.size(); pos++) {
    for (int k = 0; k < 4; k++) {
      std::string bad = good;
      bad[pos] = static_cast<char>(rng());
      rdb::Reader in(bad);
      std::unique_ptr<StreamValue> s = DecodeStream(19, in);
      if (s == nullptr) continue;
      EXPECT_EQ(Ids(*s).size(), s->length()) << "byte " << pos;
      EXPECT_EQ(Ids(*s, StreamID::Min(), StreamID::Max(), true).size(), s->length());
      Serialised(*s);
      StreamTrim all{StreamTrim::Strategy::kMaxLen, false, 0, 0, {}};
      s->Trim(all);
      EXPECT_EQ(s->length(), 0u);
    }
  }
}

TEST(StreamValueTest, InconsistentStreamsAreRefused) {
  StreamValue s;
  Add(s, {5, 0});
  Add(s, {6, 0});
  std::string bytes = Serialised(s);
  {
    // The length says 3 where the node holds 2 live entries.
    StreamValue probe;
    Add(probe, {5, 0});
    Add(probe, {6, 0});
    probe.set_length(3);
    const std::string bytes_of_probe = Serialised(probe);
    rdb::Reader in(bytes_of_probe);
    EXPECT_EQ(DecodeStream(19, in), nullptr);
  }
  {
    // A last ID below the last entry would let XADD go backwards.
    StreamValue probe;
    Add(probe, {5, 0});
    probe.set_last_id({4, 0});
    const std::string bytes_of_probe = Serialised(probe);
    rdb::Reader in(bytes_of_probe);
    EXPECT_EQ(DecodeStream(19, in), nullptr);
  }
  {
    // A pending entry nobody owns.
    StreamValue probe;
    Add(probe, {5, 0});
    StreamGroup* g = probe.CreateGroup("g", {5, 0}, 1);
    g->pel.emplace(StreamID{5, 0}, std::make_unique<StreamNack>());
    const std::string bytes_of_probe = Serialised(probe);
    rdb::Reader in(bytes_of_probe);
    EXPECT_EQ(DecodeStream(19, in), nullptr);
  }
  rdb::Reader in(bytes);
  EXPECT_NE(DecodeStream(19, in), nullptr);
}

TEST(StreamValueTest, PreSevenZeroFormsCountFromWhatTheyHold) {
  // RDB_TYPE_STREAM_LISTPACKS (15): no first ID, tombstone ID, added count or group read
  // counters; Redis 7.0 starts them from what the stream holds.
  StreamValue s;
  Add(s, {5, 0});
  Add(s, {6, 0});
  Add(s, {7, 0});
  s.Delete({5, 0});
  std::string v15;
  rdb::AppendLength(v15, s.nodes().size());
  for (const auto& [master, lp] : s.nodes()) {
    char key[16];
    master.Encode(key);
    rdb::AppendString(v15, std::string_view(key, 16), false);
    rdb::AppendString(v15, lp.raw(), false);
  }
  rdb::AppendLength(v15, s.length());
  rdb::AppendLength(v15, 7);
  rdb::AppendLength(v15, 0);
  rdb::AppendLength(v15, 1);  // one group: name, last ID, no PEL, no consumers
  rdb::AppendString(v15, "g", false);
  rdb::AppendLength(v15, 6);
  rdb::AppendLength(v15, 0);
  rdb::AppendLength(v15, 0);
  rdb::AppendLength(v15, 0);
  rdb::Reader in(v15);
  std::unique_ptr<StreamValue> back = DecodeStream(15, in);
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->entries_added(), 2u);
  EXPECT_EQ(back->first_id(), (StreamID{6, 0}));
  // 6-0 is the first entry and no tombstone is after it: read counter 2 - 2 + 1.
  EXPECT_EQ(back->FindGroup("g")->entries_read, 1);
}

// A node's listpack from entries given as raw encodings (each without its backlen), so that a
// test can store numbers in forms Redis does not write.
std::string RawListpack(const std::vector<std::string>& encodings) {
  std::string body;
  for (const std::string& e : encodings) {
    body += e;
    body += static_cast<char>(e.size());  // backlen (entries here are under 128 bytes)
  }
  std::string lp(6, '\0');
  lp += body;
  lp += static_cast<char>(0xFF);
  const uint32_t total = static_cast<uint32_t>(lp.size());
  for (int i = 0; i < 4; i++) lp[i] = static_cast<char>(total >> (8 * i));
  lp[4] = static_cast<char>(encodings.size() & 0xff);
  lp[5] = static_cast<char>(encodings.size() >> 8);
  return lp;
}

std::string Int7(int v) { return std::string(1, static_cast<char>(v)); }
std::string Str(std::string_view s) { return static_cast<char>(0x80 | s.size()) + std::string(s); }
std::string Int64(int64_t v) {
  std::string out(1, static_cast<char>(0xF4));
  for (int i = 0; i < 8; i++) out += static_cast<char>(static_cast<uint64_t>(v) >> (8 * i));
  return out;
}

// A stream RDB form of one node of `lp`, master 5-0, with `length` live entries.
std::string OneNodeStream(const std::string& lp, uint64_t length, StreamID last) {
  std::string out;
  rdb::AppendLength(out, 1);
  char key[16];
  StreamID{5, 0}.Encode(key);
  rdb::AppendString(out, std::string_view(key, 16), false);
  rdb::AppendString(out, lp, false);
  rdb::AppendLength(out, length);
  rdb::AppendLength(out, last.ms);
  rdb::AppendLength(out, last.seq);
  for (int i = 0; i < 4; i++) rdb::AppendLength(out, 0);  // first ID, max deleted ID
  rdb::AppendLength(out, length);                         // entries added
  rdb::AppendLength(out, 0);                              // no groups
  return out;
}

TEST(StreamValueTest, FieldCountsThatCannotFitTheNodeAreRefused) {
  // An entry claiming 2^62 fields: 2 x 2^62 wraps, so a check that multiplies first would pass
  // an entry with no fields at all (and a read of it would run off the node).
  const int64_t huge = int64_t{1} << 62;
  const std::string lp =
      RawListpack({Int7(1), Int7(0), Int7(0), Int7(0),  // master, no fields
                   Int7(0), Int7(0), Int7(0), Int64(huge),
                   Int64(static_cast<int64_t>(static_cast<uint64_t>(huge) * 2 + 4))});
  const std::string bytes = OneNodeStream(lp, 1, {5, 0});
  rdb::Reader in(bytes);
  EXPECT_EQ(DecodeStream(19, in), nullptr);
}

TEST(StreamValueTest, FlagsStoredInAWiderFormSurviveATrim) {
  // Redis stores a flag as a 7-bit integer; a payload may store it as a 16-bit one or as a
  // string. Marking such an entry deleted shrinks it: the trim must walk on from where it is.
  const std::string wide_flags = std::string("\xF1\x02\x00", 3);  // 2 (SAMEFIELDS), 16-bit
  const std::string lp =
      RawListpack({Int7(3),    Int7(0), Int7(1), Str("f"), Int7(0),  // master: 3 live, field f
                   wide_flags, Int7(0), Int7(0), Str("a"), Int7(4),
                   Str("2"),   Int7(0), Int7(1), Str("b"), Int7(4),  // flags as the string "2"
                   Int7(2),    Int7(0), Int7(2), Str("c"), Int7(4)});
  const std::string bytes = OneNodeStream(lp, 3, {5, 2});
  rdb::Reader in(bytes);
  std::unique_ptr<StreamValue> s = DecodeStream(19, in);
  ASSERT_NE(s, nullptr);
  StreamTrim trim{StreamTrim::Strategy::kMinId, false, 0, 0, {5, 2}};
  EXPECT_EQ(s->Trim(trim), 2);
  EXPECT_EQ(Ids(*s), (std::vector<StreamID>{{5, 2}}));
  EXPECT_EQ(Ids(*s, StreamID::Min(), StreamID::Max(), true), (std::vector<StreamID>{{5, 2}}));
  // And it still serialises into something that decodes.
  const std::string again = Serialised(*s);
  rdb::Reader in2(again);
  EXPECT_NE(DecodeStream(19, in2), nullptr);
}

}  // namespace
}  // namespace keyward
