// ExpireHeap: volatile keys ordered by deadline, with O(log n) update and removal through the
// position each entry remembers.
#include "server/keyspace/expire_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace keyward {
namespace {

// Owns the entries of a test (the heap does not).
class Entries {
 public:
  ~Entries() {
    for (Entry* e : all_) Entry::Free(e);
  }
  Entry* New(const std::string& key, int64_t deadline) {
    all_.push_back(Entry::NewString(key, "v", deadline));
    return all_.back();
  }
  // Rebuilds `e` at another address, as Database::Replace does (WithExpire takes the value).
  // The caller frees the old shell once the heap has heard of the move.
  Entry* Rebuild(Entry* e) {
    Entry* copy = Entry::WithExpire(e, e->expire_ms());
    std::replace(all_.begin(), all_.end(), e, copy);
    return copy;
  }

 private:
  std::vector<Entry*> all_;
};

// Every entry's remembered position points at a node with its deadline, and the heap property
// holds (no child earlier than its parent).
void ExpectConsistent(const ExpireHeap& heap, const std::vector<Entry*>& members) {
  ASSERT_EQ(heap.size(), members.size());
  for (Entry* e : members) {
    ASSERT_LT(e->heap_index(), heap.size()) << e->key();
    EXPECT_EQ(heap.deadline_at(e->heap_index()), e->expire_ms()) << e->key();
  }
  for (size_t i = 1; i < heap.size(); i++) {
    EXPECT_LE(heap.deadline_at((i - 1) / 2), heap.deadline_at(i)) << i;
  }
}

TEST(ExpireHeapTest, Empty) {
  ExpireHeap heap;
  EXPECT_TRUE(heap.empty());
  EXPECT_EQ(heap.size(), 0u);
}

TEST(ExpireHeapTest, TopIsTheEarliestDeadline) {
  Entries entries;
  ExpireHeap heap;
  heap.Add(entries.New("c", 300));
  heap.Add(entries.New("a", 100));
  heap.Add(entries.New("b", 200));
  EXPECT_EQ(heap.size(), 3u);
  EXPECT_EQ(heap.top()->key(), "a");
  EXPECT_EQ(heap.top_deadline(), 100);
}

TEST(ExpireHeapTest, PopsInDeadlineOrder) {
  Entries entries;
  ExpireHeap heap;
  std::mt19937_64 rng(1);
  std::vector<int64_t> deadlines;
  for (int i = 0; i < 1000; i++) {
    int64_t d = static_cast<int64_t>(rng() % 500);  // many equal deadlines too
    deadlines.push_back(d);
    heap.Add(entries.New("k" + std::to_string(i), d));
  }
  std::sort(deadlines.begin(), deadlines.end());
  std::vector<int64_t> popped;
  while (!heap.empty()) {
    popped.push_back(heap.top_deadline());
    EXPECT_EQ(heap.top()->expire_ms(), heap.top_deadline());
    heap.Remove(heap.top());
  }
  EXPECT_EQ(popped, deadlines);
}

TEST(ExpireHeapTest, RemoveAnyMember) {
  Entries entries;
  ExpireHeap heap;
  std::vector<Entry*> members;
  for (int i = 0; i < 100; i++) {
    members.push_back(entries.New("k" + std::to_string(i), (i * 37) % 101));
    heap.Add(members.back());
  }
  // Remove from the middle, the last node and the top.
  for (size_t pick : {50u, 98u, 0u, 10u, 10u}) {
    Entry* e = members[pick];
    heap.Remove(e);
    members.erase(members.begin() + static_cast<long>(pick));
    ExpectConsistent(heap, members);
  }
  Entry* last = nullptr;
  for (Entry* e : members) {
    if (e->heap_index() == heap.size() - 1) last = e;
  }
  ASSERT_NE(last, nullptr);
  heap.Remove(last);
  members.erase(std::find(members.begin(), members.end(), last));
  ExpectConsistent(heap, members);
}

TEST(ExpireHeapTest, UpdateMovesEitherWay) {
  Entries entries;
  ExpireHeap heap;
  std::vector<Entry*> members;
  for (int i = 0; i < 64; i++) {
    members.push_back(entries.New("k" + std::to_string(i), 1000 + i));
    heap.Add(members.back());
  }
  Entry* e = members[40];
  e->set_expire_ms(1);  // earlier than all: becomes the top
  heap.Update(e);
  EXPECT_EQ(heap.top(), e);
  ExpectConsistent(heap, members);
  e->set_expire_ms(5000);  // later than all: sinks
  heap.Update(e);
  EXPECT_EQ(heap.top(), members[0]);
  ExpectConsistent(heap, members);
  heap.Update(e);  // unchanged deadline
  ExpectConsistent(heap, members);
}

TEST(ExpireHeapTest, MovedEntryKeepsItsPlace) {
  Entries entries;
  ExpireHeap heap;
  std::vector<Entry*> members;
  for (int i = 0; i < 20; i++) {
    members.push_back(entries.New("k" + std::to_string(i), 100 - i));
    heap.Add(members.back());
  }
  Entry* old = members[7];
  uint32_t index = old->heap_index();
  Entry* rebuilt = entries.Rebuild(old);
  heap.Moved(old, rebuilt);
  Entry::FreeShell(old);
  members[7] = rebuilt;
  EXPECT_EQ(rebuilt->heap_index(), index);
  ExpectConsistent(heap, members);
  heap.Remove(rebuilt);
  members.erase(members.begin() + 7);
  ExpectConsistent(heap, members);
}

TEST(ExpireHeapTest, RandomOperationsMatchAReferenceModel) {
  Entries entries;
  ExpireHeap heap;
  std::vector<Entry*> members;
  std::mt19937_64 rng(99);
  int next = 0;
  for (int step = 0; step < 10000; step++) {
    switch (rng() % 4) {
      case 0:
      case 1:
        members.push_back(
            entries.New("k" + std::to_string(next++), static_cast<int64_t>(rng() % 100000)));
        heap.Add(members.back());
        break;
      case 2:
        if (!members.empty()) {
          size_t i = rng() % members.size();
          heap.Remove(members[i]);
          members[i] = members.back();
          members.pop_back();
        }
        break;
      default:
        if (!members.empty()) {
          Entry* e = members[rng() % members.size()];
          e->set_expire_ms(static_cast<int64_t>(rng() % 100000));
          heap.Update(e);
        }
        break;
    }
    if (step % 5 == 0 && !members.empty()) {
      int64_t earliest = members[0]->expire_ms();
      for (Entry* e : members) earliest = std::min(earliest, e->expire_ms());
      ASSERT_EQ(heap.top_deadline(), earliest) << step;
    }
    if (step % 1000 == 0) ExpectConsistent(heap, members);
  }
  ExpectConsistent(heap, members);
}

TEST(ExpireHeapTest, ClearAndSwap) {
  Entries entries;
  ExpireHeap a, b;
  a.Add(entries.New("a1", 10));
  a.Add(entries.New("a2", 5));
  b.Add(entries.New("b1", 7));
  a.Swap(b);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(a.top()->key(), "b1");
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.top()->key(), "a2");
  EXPECT_GT(b.MemoryUsage(), 0u);
  b.Clear();
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace keyward
