// Keys with a time to live, ordered by deadline (a binary min-heap).
//
// Redis samples random volatile keys to find expired ones, so a key can outlive its deadline by a
// while when few keys are expiring. Keyward keeps the deadlines ordered and deletes each key in the
// first cron tick after its deadline: a released lease disappears on time, which is what lock
// waiters (and their keyspace notifications) depend on. Each entry remembers its position here
// (Entry::heap_index) so changing or removing a deadline is O(log n).
#pragma once

#include <cstdint>
#include <vector>

#include "server/keyspace/entry.h"

namespace keyward {

class ExpireHeap {
 public:
  size_t size() const { return nodes_.size(); }
  bool empty() const { return nodes_.empty(); }
  Entry* top() const { return nodes_.front().entry; }
  int64_t top_deadline() const { return nodes_.front().deadline; }

  void Add(Entry* e);                  // e->has_expire()
  void Remove(Entry* e);               // e is in the heap
  void Update(Entry* e);               // e's deadline changed
  void Moved(Entry* from, Entry* to);  // the entry was rebuilt at another address
  void Clear() { nodes_.clear(); }
  void Swap(ExpireHeap& other) { nodes_.swap(other.nodes_); }
  // Deadline of the i-th node in heap order (for sampling statistics).
  int64_t deadline_at(size_t i) const { return nodes_[i].deadline; }
  Entry* entry_at(size_t i) const { return nodes_[i].entry; }
  size_t MemoryUsage() const { return nodes_.capacity() * sizeof(Node); }

 private:
  struct Node {
    int64_t deadline;
    Entry* entry;
  };
  void Place(size_t i, Node n) {
    nodes_[i] = n;
    n.entry->set_heap_index(static_cast<uint32_t>(i));
  }
  void SiftUp(size_t i);
  void SiftDown(size_t i);

  std::vector<Node> nodes_;
};

}  // namespace keyward
