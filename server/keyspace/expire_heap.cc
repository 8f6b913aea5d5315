#include "server/keyspace/expire_heap.h"

namespace keyward {

void ExpireHeap::Add(Entry* e) {
  nodes_.push_back({e->expire_ms(), e});
  e->set_heap_index(static_cast<uint32_t>(nodes_.size() - 1));
  SiftUp(nodes_.size() - 1);
}

void ExpireHeap::Remove(Entry* e) {
  size_t i = e->heap_index();
  Node last = nodes_.back();
  nodes_.pop_back();
  if (i == nodes_.size()) return;
  Place(i, last);
  SiftUp(i);
  SiftDown(last.entry->heap_index());
}

void ExpireHeap::Update(Entry* e) {
  size_t i = e->heap_index();
  nodes_[i].deadline = e->expire_ms();
  SiftUp(i);
  SiftDown(e->heap_index());
}

void ExpireHeap::Moved(Entry* from, Entry* to) {
  size_t i = from->heap_index();
  nodes_[i].entry = to;
  to->set_heap_index(static_cast<uint32_t>(i));
}

void ExpireHeap::SiftUp(size_t i) {
  Node n = nodes_[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (nodes_[parent].deadline <= n.deadline) break;
    Place(i, nodes_[parent]);
    i = parent;
  }
  Place(i, n);
}

void ExpireHeap::SiftDown(size_t i) {
  Node n = nodes_[i];
  size_t count = nodes_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= count) break;
    if (child + 1 < count && nodes_[child + 1].deadline < nodes_[child].deadline) child++;
    if (nodes_[child].deadline >= n.deadline) break;
    Place(i, nodes_[child]);
    i = child;
  }
  Place(i, n);
}

}  // namespace keyward
