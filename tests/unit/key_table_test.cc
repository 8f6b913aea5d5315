// KeyTable: the keyspace's incrementally rehashed hash table and its SCAN cursor.
#include "server/keyspace/key_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace keyward {
namespace {

uint64_t NextRandom(void* state) { return (*static_cast<std::mt19937_64*>(state))(); }

std::string Key(int i) { return "key:" + std::to_string(i); }

void InsertKey(KeyTable& t, const std::string& key) { t.Insert(Entry::NewString(key, "v")); }

bool RemoveKey(KeyTable& t, const std::string& key) {
  Entry* e = t.Remove(key);
  if (e == nullptr) return false;
  Entry::Free(e);
  return true;
}

std::multiset<std::string> AllKeys(const KeyTable& t) {
  std::multiset<std::string> keys;
  t.ForEach([&](Entry* e) { keys.emplace(e->key()); });
  return keys;
}

// Finishes any rehash in progress.
void FinishRehash(KeyTable& t) {
  while (t.RehashStep(100)) {
  }
}

// A clock whose monotonic time moves 1 us each time it is read.
class TickingClock : public Clock {
 public:
  int64_t NowMs() override { return 0; }
  int64_t NowUs() override { return 0; }
  int64_t MonotonicUs() override { return now_us_++; }

 private:
  int64_t now_us_ = 0;
};

TEST(KeyTableTest, EmptyTable) {
  KeyTable t(1);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.bucket_count(), 0u);
  EXPECT_EQ(t.Find("a"), nullptr);
  EXPECT_EQ(t.FindLink("a"), nullptr);
  EXPECT_EQ(t.Remove("a"), nullptr);
  EXPECT_EQ(t.Scan(0, [](Entry*) { ADD_FAILURE(); }), 0u);
  std::mt19937_64 rng(1);
  EXPECT_EQ(t.Random(NextRandom, &rng), nullptr);
  EXPECT_FALSE(t.RehashStep(1));
  t.ShrinkIfSparse();
  EXPECT_FALSE(t.rehashing());
}

TEST(KeyTableTest, InsertFindRemove) {
  KeyTable t(7);
  InsertKey(t, "a");
  InsertKey(t, "b");
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.bucket_count(), 4u);
  ASSERT_NE(t.Find("a"), nullptr);
  EXPECT_EQ(t.Find("a")->key(), "a");
  EXPECT_EQ(t.Find("c"), nullptr);
  EXPECT_TRUE(RemoveKey(t, "a"));
  EXPECT_FALSE(RemoveKey(t, "a"));
  EXPECT_EQ(t.Find("a"), nullptr);
  EXPECT_NE(t.Find("b"), nullptr);
  EXPECT_EQ(t.size(), 1u);
}

TEST(KeyTableTest, ReplaceAtKeepsTheChain) {
  KeyTable t(3);
  // Enough keys that chains hold several entries, so the replaced one has a successor.
  for (int i = 0; i < 64; i++) InsertKey(t, Key(i));
  for (int i = 0; i < 64; i += 3) {
    Entry** link = t.FindLink(Key(i));
    ASSERT_NE(link, nullptr);
    Entry* old = *link;
    KeyTable::ReplaceAt(link, Entry::NewString(Key(i), "new"));
    Entry::Free(old);
  }
  EXPECT_EQ(t.size(), 64u);
  for (int i = 0; i < 64; i++) {
    Entry* e = t.Find(Key(i));
    ASSERT_NE(e, nullptr) << i;
    EXPECT_EQ(e->string_value(), i % 3 == 0 ? "new" : "v");
  }
}

TEST(KeyTableTest, GrowsByPowersOfTwoWithLoadFactorOne) {
  KeyTable t(11);
  for (int i = 0; i < 4; i++) InsertKey(t, Key(i));
  EXPECT_EQ(t.bucket_count(), 4u);
  EXPECT_FALSE(t.rehashing());
  InsertKey(t, Key(4));  // used == size: the next insert starts a rehash to 8 buckets
  EXPECT_TRUE(t.rehashing());
  FinishRehash(t);
  EXPECT_EQ(t.bucket_count(), 8u);
  for (int i = 5; i < 1000; i++) InsertKey(t, Key(i));
  FinishRehash(t);
  EXPECT_EQ(t.bucket_count(), 1024u);
  EXPECT_EQ(t.size(), 1000u);
  for (int i = 0; i < 1000; i++) EXPECT_NE(t.Find(Key(i)), nullptr) << i;
}

TEST(KeyTableTest, RehashIsIncremental) {
  KeyTable t(5);
  for (int i = 0; i < 512; i++) InsertKey(t, Key(i));
  FinishRehash(t);
  ASSERT_EQ(t.bucket_count(), 512u);
  InsertKey(t, Key(512));
  ASSERT_TRUE(t.rehashing());
  EXPECT_EQ(t.bucket_count(), 512u + 1024u);  // both tables while rehashing
  // Every operation moves a bucket across; everything stays reachable meanwhile.
  int ops = 0;
  while (t.rehashing()) {
    ASSERT_NE(t.Find(Key(ops % 513)), nullptr) << ops;
    if (ops == 100) {
      EXPECT_EQ(AllKeys(t).size(), 513u);
    }
    ops++;
  }
  EXPECT_GT(ops, 100);  // one bucket per operation, not the whole table at once
  for (int i = 0; i <= 512; i++) ASSERT_NE(t.Find(Key(i)), nullptr) << i;
  EXPECT_EQ(t.bucket_count(), 1024u);
  EXPECT_EQ(AllKeys(t).size(), 513u);
}

TEST(KeyTableTest, InsertDuringRehashGoesToTheNewTable) {
  KeyTable t(5);
  for (int i = 0; i < 65; i++) InsertKey(t, Key(i));
  ASSERT_TRUE(t.rehashing());
  for (int i = 65; i < 100; i++) InsertKey(t, Key(i));
  EXPECT_EQ(t.size(), 100u);
  std::multiset<std::string> expected;
  for (int i = 0; i < 100; i++) expected.insert(Key(i));
  EXPECT_EQ(AllKeys(t), expected);
  FinishRehash(t);
  EXPECT_EQ(AllKeys(t), expected);
}

TEST(KeyTableTest, RemoveDuringRehash) {
  KeyTable t(9);
  for (int i = 0; i < 257; i++) InsertKey(t, Key(i));
  ASSERT_TRUE(t.rehashing());
  // Remove keys from both tables (already moved and not yet moved) while the rehash goes on.
  std::set<int> left;
  for (int i = 0; i < 257; i++) left.insert(i);
  for (int i = 0; i < 257; i += 2) {
    EXPECT_TRUE(RemoveKey(t, Key(i))) << i;
    left.erase(i);
  }
  EXPECT_EQ(t.size(), left.size());
  for (int i = 0; i < 257; i++) EXPECT_EQ(t.Find(Key(i)) != nullptr, left.count(i) == 1) << i;
  // Remove everything, including the last key of the old table mid-rehash.
  for (int i : left) EXPECT_TRUE(RemoveKey(t, Key(i)));
  EXPECT_EQ(t.size(), 0u);
  FinishRehash(t);
  EXPECT_FALSE(t.rehashing());
  InsertKey(t, "again");
  EXPECT_NE(t.Find("again"), nullptr);
}

TEST(KeyTableTest, ShrinksWhenSparse) {
  KeyTable t(13);
  for (int i = 0; i < 4000; i++) InsertKey(t, Key(i));
  FinishRehash(t);
  ASSERT_EQ(t.bucket_count(), 4096u);
  // 10% fill is the threshold.
  for (int i = 410; i < 4000; i++) RemoveKey(t, Key(i));
  t.ShrinkIfSparse();
  EXPECT_FALSE(t.rehashing());
  for (int i = 40; i < 410; i++) RemoveKey(t, Key(i));
  t.ShrinkIfSparse();
  ASSERT_TRUE(t.rehashing());
  // Lookups while shrinking find keys in either table.
  for (int i = 0; i < 40; i++) EXPECT_NE(t.Find(Key(i)), nullptr) << i;
  FinishRehash(t);
  EXPECT_EQ(t.bucket_count(), 64u);
  EXPECT_EQ(t.size(), 40u);
  // The smallest table is 4 buckets.
  for (int i = 0; i < 40; i++) RemoveKey(t, Key(i));
  t.ShrinkIfSparse();
  FinishRehash(t);
  EXPECT_EQ(t.bucket_count(), 4u);
  t.ShrinkIfSparse();
  EXPECT_FALSE(t.rehashing());
}

TEST(KeyTableTest, RehashStepBoundsEmptyBucketVisits) {
  KeyTable t(17);
  for (int i = 0; i < 4000; i++) InsertKey(t, Key(i));
  FinishRehash(t);
  for (int i = 10; i < 4000; i++) RemoveKey(t, Key(i));
  t.ShrinkIfSparse();
  ASSERT_TRUE(t.rehashing());
  // One step visits at most 10 empty buckets: 10 keys spread over 4096 buckets take many steps.
  int steps = 0;
  while (t.RehashStep(1)) steps++;
  EXPECT_GT(steps, 10);
  EXPECT_EQ(t.bucket_count(), 16u);
  for (int i = 0; i < 10; i++) EXPECT_NE(t.Find(Key(i)), nullptr);
}

TEST(KeyTableTest, RehashForStopsAtTheDeadline) {
  KeyTable t(19);
  for (int i = 0; i < 20000; i++) InsertKey(t, Key(i));
  FinishRehash(t);
  ASSERT_EQ(t.bucket_count(), 32768u);
  for (int i = 0; i < 20000; i++) RemoveKey(t, Key(i));
  for (int i = 0; i < 100; i++) InsertKey(t, Key(i));
  t.ShrinkIfSparse();
  ASSERT_TRUE(t.rehashing());
  TickingClock clock;
  t.RehashFor(1, clock);  // one round of 100 buckets, then the deadline has passed
  EXPECT_TRUE(t.rehashing());
  t.RehashFor(1000000, clock);
  EXPECT_FALSE(t.rehashing());
  EXPECT_EQ(t.size(), 100u);
}

TEST(KeyTableTest, ScanVisitsEveryKeyOnce) {
  KeyTable t(23);
  std::multiset<std::string> expected;
  for (int i = 0; i < 3000; i++) {
    InsertKey(t, Key(i));
    expected.insert(Key(i));
  }
  FinishRehash(t);
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = t.Scan(cursor, [&](Entry* e) { seen.emplace(e->key()); });
  } while (cursor != 0);
  EXPECT_EQ(seen, expected);
}

TEST(KeyTableTest, ScanWhileRehashingVisitsEveryKeyOnce) {
  KeyTable t(29);
  std::multiset<std::string> expected;
  for (int i = 0; i < 1025; i++) {
    InsertKey(t, Key(i));
    expected.insert(Key(i));
  }
  ASSERT_TRUE(t.rehashing());
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = t.Scan(cursor, [&](Entry* e) { seen.emplace(e->key()); });
  } while (cursor != 0);
  EXPECT_TRUE(t.rehashing());  // Scan itself never moves buckets
  EXPECT_EQ(seen, expected);
}

// The SCAN guarantee under resizing: a key present for the whole iteration is returned at least
// once, whatever the table does between two cursor steps (grow, shrink, stop mid-rehash).
class ScanGuaranteeTest : public ::testing::TestWithParam<int> {};

TEST_P(ScanGuaranteeTest, KeysPresentThroughoutAreReturned) {
  std::mt19937_64 rng(GetParam());
  KeyTable t(GetParam());
  std::set<std::string> stable;
  int stable_count = 50 + static_cast<int>(rng() % 500);
  for (int i = 0; i < stable_count; i++) {
    stable.insert("stable:" + std::to_string(i));
    InsertKey(t, "stable:" + std::to_string(i));
  }
  std::set<std::string> temp;
  int next_temp = 0;
  std::set<std::string> seen;
  int rehashing_steps = 0;
  uint64_t cursor = 0;
  int steps = 0;
  do {
    if (t.rehashing()) rehashing_steps++;
    cursor = t.Scan(cursor, [&](Entry* e) { seen.emplace(e->key()); });
    // Between some cursor steps: a random change of the table's size.
    if (rng() % 16 != 0) continue;
    switch (rng() % 5) {
      case 0: {  // grow by thousands (several doublings, the last one left mid-rehash)
        int n = 500 + static_cast<int>(rng() % 2500);
        for (int i = 0; i < n; i++) {
          std::string k = "temp:" + std::to_string(next_temp++);
          InsertKey(t, k);
          temp.insert(k);
        }
        break;
      }
      case 1: {  // delete most temporary keys and start a shrink
        for (auto it = temp.begin(); it != temp.end();) {
          if (rng() % 10 != 0) {
            RemoveKey(t, *it);
            it = temp.erase(it);
          } else {
            ++it;
          }
        }
        t.ShrinkIfSparse();
        break;
      }
      case 2:  // advance a rehash partway
        t.RehashStep(1 + static_cast<int>(rng() % 64));
        break;
      case 3:  // finish any rehash
        FinishRehash(t);
        break;
      default:  // leave the table alone
        break;
    }
  } while (cursor != 0 && ++steps < 1000000);
  ASSERT_EQ(cursor, 0u);
  for (const auto& k : stable) EXPECT_TRUE(seen.count(k)) << k;
  RecordProperty("rehashing_steps", rehashing_steps);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ScanGuaranteeTest, ::testing::Range(1, 13));

TEST(KeyTableTest, ScanAcrossAGrowthLeftMidRehash) {
  KeyTable t(53);
  std::set<std::string> stable;
  for (int i = 0; i < 512; i++) {
    stable.insert(Key(i));
    InsertKey(t, Key(i));
  }
  FinishRehash(t);
  ASSERT_EQ(t.bucket_count(), 512u);
  std::set<std::string> seen;
  auto collect = [&](Entry* e) { seen.emplace(e->key()); };
  uint64_t cursor = 0;
  for (int i = 0; i < 200; i++) cursor = t.Scan(cursor, collect);
  // Grow to 1024 buckets and continue the scan in the two-table state, moving buckets between
  // steps, then across the end of the rehash, then across a second growth.
  InsertKey(t, "extra:0");
  ASSERT_TRUE(t.rehashing());
  for (int i = 0; i < 100 && cursor != 0; i++) {
    cursor = t.Scan(cursor, collect);
    t.RehashStep(1);
  }
  ASSERT_TRUE(t.rehashing());
  FinishRehash(t);
  for (int i = 0; i < 100 && cursor != 0; i++) cursor = t.Scan(cursor, collect);
  for (int i = 1; i < 1100; i++) InsertKey(t, "extra:" + std::to_string(i));
  while (cursor != 0) cursor = t.Scan(cursor, collect);
  for (const auto& k : stable) EXPECT_TRUE(seen.count(k)) << k;
}

TEST(KeyTableTest, ScanAcrossAShrinkThatFinishes) {
  // Deterministic: cursor taken in a 4096-bucket table, continued in a 64-bucket one.
  KeyTable t(31);
  std::set<std::string> stable;
  for (int i = 0; i < 40; i++) {
    stable.insert(Key(i));
    InsertKey(t, Key(i));
  }
  for (int i = 40; i < 4000; i++) InsertKey(t, Key(i));
  FinishRehash(t);
  std::set<std::string> seen;
  auto collect = [&](Entry* e) { seen.emplace(e->key()); };
  uint64_t cursor = 0;
  for (int i = 0; i < 1500; i++) cursor = t.Scan(cursor, collect);
  ASSERT_NE(cursor, 0u);
  for (int i = 40; i < 4000; i++) RemoveKey(t, Key(i));
  t.ShrinkIfSparse();
  FinishRehash(t);
  ASSERT_EQ(t.bucket_count(), 64u);
  while (cursor != 0) cursor = t.Scan(cursor, collect);
  for (const auto& k : stable) EXPECT_TRUE(seen.count(k)) << k;
}

TEST(KeyTableTest, RandomReturnsEveryKeyEventually) {
  KeyTable t(37);
  for (int i = 0; i < 50; i++) InsertKey(t, Key(i));
  FinishRehash(t);
  std::mt19937_64 rng(42);
  std::map<std::string, int> counts;
  for (int i = 0; i < 20000; i++) {
    Entry* e = t.Random(NextRandom, &rng);
    ASSERT_NE(e, nullptr);
    counts[std::string(e->key())]++;
  }
  EXPECT_EQ(counts.size(), 50u);
}

TEST(KeyTableTest, RandomDuringRehash) {
  KeyTable t(41);
  for (int i = 0; i < 257; i++) InsertKey(t, Key(i));
  std::mt19937_64 rng(7);
  std::set<std::string> drawn;
  // Random steps the rehash too; draws before and after it finished are all valid keys.
  for (int i = 0; i < 20000; i++) {
    Entry* e = t.Random(NextRandom, &rng);
    ASSERT_NE(e, nullptr);
    ASSERT_NE(t.Find(e->key()), nullptr);
    drawn.emplace(e->key());
  }
  EXPECT_EQ(drawn.size(), 257u);
  // A single key in a large, sparse, shrinking table is still found.
  for (int i = 1; i < 257; i++) RemoveKey(t, Key(i));
  t.ShrinkIfSparse();
  for (int i = 0; i < 10; i++) EXPECT_EQ(t.Random(NextRandom, &rng)->key(), Key(0));
}

TEST(KeyTableTest, TakeAllAndMove) {
  KeyTable t(43);
  for (int i = 0; i < 100; i++) InsertKey(t, Key(i));
  KeyTable taken = t.TakeAll();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Find(Key(1)), nullptr);
  EXPECT_EQ(taken.size(), 100u);
  EXPECT_NE(taken.Find(Key(1)), nullptr);
  // The emptied table is usable again.
  InsertKey(t, "fresh");
  EXPECT_NE(t.Find("fresh"), nullptr);
  KeyTable moved(std::move(taken));
  EXPECT_EQ(moved.size(), 100u);
  EXPECT_EQ(taken.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  moved = std::move(t);         // frees moved's entries, takes t's
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_NE(moved.Find("fresh"), nullptr);
  moved.Clear();
  EXPECT_EQ(moved.size(), 0u);
  EXPECT_EQ(moved.bucket_count(), 0u);
}

TEST(KeyTableTest, ForEachVisitsBothTables) {
  KeyTable t(47);
  std::multiset<std::string> expected;
  for (int i = 0; i < 129; i++) {
    InsertKey(t, Key(i));
    expected.insert(Key(i));
  }
  ASSERT_TRUE(t.rehashing());
  EXPECT_EQ(AllKeys(t), expected);
  EXPECT_GT(t.MemoryUsage(), 0u);
}

}  // namespace
}  // namespace keyward
