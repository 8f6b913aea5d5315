// The value layer: a key of a type other than string goes through every keyspace path with its
// type's table of operations (value.h): TYPE, OBJECT ENCODING, MEMORY USAGE, COPY (a deep copy),
// RENAME (the value moves), DEL and FLUSHALL (it is freed), UNLINK (freed in the background when
// it is made of many allocations). The sanitizer build checks that nothing leaks or is freed
// twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/command_test.h"
#include "tests/support/test_values.h"

namespace keyward::test {
namespace {

class ValueLayerTest : public CommandTest {
 protected:
  TestList* ListAt(const std::string& key, int db = 0) {
    Entry* e = server().keyspace().db(db).Find(key, LookupMode::kNoTouch);
    return e != nullptr && e->type() == ObjType::kList ? e->value_as<TestList>() : nullptr;
  }
};

TEST_F(ValueLayerTest, TypeAndEncodingComeFromTheValue) {
  MakeList("l", {"a", "b"});
  EXPECT_EQ(Run({"type", "l"}), "list");
  EXPECT_EQ(Run({"object", "encoding", "l"}), "quicklist");
  EXPECT_EQ(Run({"exists", "l"}), 1);
  EXPECT_THAT(Run({"scan", "0", "type", "list"})[1].strings(), ::testing::ElementsAre("l"));
  // The entry's own bytes plus the value's (what MEMORY USAGE and INFO memory will report).
  const Entry* e = server().keyspace().db(0).Find("l", LookupMode::kNoTouch);
  EXPECT_GT(e->MemoryUsage(), ListAt("l")->MemoryUsage());
  EXPECT_EQ(e->FreeEffort(), 2u);
}

TEST_F(ValueLayerTest, CopyIsDeep) {
  MakeList("l", {"a", "b"});
  EXPECT_EQ(Run({"copy", "l", "c"}), 1);
  ASSERT_NE(ListAt("c"), nullptr);
  EXPECT_NE(ListAt("c"), ListAt("l"));
  EXPECT_EQ(ListAt("c")->items(), ListAt("l")->items());
  Run({"del", "l"});  // the copy survives its source
  EXPECT_EQ(ListAt("c")->items(), (std::deque<std::string>{"a", "b"}));
  EXPECT_EQ(Run({"copy", "c", "c2", "db", "3"}), 1);
  EXPECT_NE(ListAt("c2", 3), nullptr);
}

TEST_F(ValueLayerTest, RenameAndMoveCarryTheValue) {
  MakeList("l", {"a"});
  TestList* value = ListAt("l");
  EXPECT_EQ(Run({"rename", "l", "m"}), "OK");
  EXPECT_EQ(ListAt("m"), value);  // moved, not copied
  EXPECT_EQ(Run({"move", "m", "2"}), 1);
  EXPECT_EQ(ListAt("m", 2), value);
  EXPECT_EQ(Run({"pexpire", "m", "1000"}), 0);  // in db 2 now
}

TEST_F(ValueLayerTest, DeletedOverwrittenAndFlushedValuesAreFreed) {
  MakeList("a");
  MakeList("b");
  MakeList("c");
  EXPECT_EQ(Run({"del", "a"}), 1);
  EXPECT_EQ(Run({"set", "b", "string now"}), "OK");  // SET overwrites any type
  EXPECT_EQ(Run({"type", "b"}), "string");
  MakeList("d", {}, 4);
  EXPECT_EQ(Run({"flushall", "async"}), "OK");
  server().keyspace().lazy_freer().Drain();
  EXPECT_EQ(Run({"dbsize"}), 0);
}

// A list that records the thread it was freed on.
class WatchedList : public TestList {
 public:
  WatchedList(std::vector<std::string> items, std::thread::id* freed_on)
      : TestList(std::move(items)), freed_on_(freed_on) {}
  ~WatchedList() override { *freed_on_ = std::this_thread::get_id(); }

 private:
  std::thread::id* freed_on_;
};

TEST_F(ValueLayerTest, UnlinkFreesBigValuesInTheBackground) {
  SkipReplayCheck("values made directly in the keyspace");
  std::thread::id big_freed_on, small_freed_on;
  Database& db = server().keyspace().db(0);
  db.Upsert(Entry::NewValue(
      "big", std::make_unique<WatchedList>(
                 std::vector<std::string>(Keyspace::kLazyFreeThreshold + 1, "x"), &big_freed_on)));
  db.Upsert(Entry::NewValue(
      "small", std::make_unique<WatchedList>(std::vector<std::string>{"x"}, &small_freed_on)));
  EXPECT_EQ(Run({"unlink", "big", "small"}), 2);
  server().keyspace().lazy_freer().Drain();
  // Only the big one was worth the background thread (Redis's lazyfree threshold).
  EXPECT_NE(big_freed_on, std::this_thread::get_id());
  EXPECT_NE(big_freed_on, std::thread::id());
  EXPECT_EQ(small_freed_on, std::this_thread::get_id());
  EXPECT_EQ(Run({"exists", "big", "small"}), 0);
}

TEST_F(ValueLayerTest, ValuesSerialiseThemselves) {
  MakeList("l", {"a", "bc"});
  class Bytes : public ValueSink {
   public:
    void Write(std::string_view b) override { out.append(b); }
    std::string out;
  } bytes;
  ListAt("l")->Serialise(bytes);
  // RDB's plain list: the length, then each string with its length.
  EXPECT_EQ(bytes.out, std::string("\x02\x01"
                                   "a"
                                   "\x02"
                                   "bc",
                                   6));
  EXPECT_EQ(ListAt("l")->rdb_type(), 1);
}

}  // namespace
}  // namespace keyward::test
