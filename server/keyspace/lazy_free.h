// Freeing in the background, as Redis's lazyfree: values made of many allocations are handed to
// a thread of their own so the event loop never stalls on free().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>

#include "server/keyspace/key_table.h"

namespace keyward {

// Redis's LAZYFREE_THRESHOLD: freeing fewer allocations than this is not worth the thread.
inline constexpr size_t kLazyFreeThreshold = 64;

// Frees large structures on a background thread (FLUSHALL ASYNC, UNLINK of big values), as
// Redis's lazyfree does, so the event loop never stalls on free().
class LazyFreer {
 public:
  LazyFreer();
  ~LazyFreer();
  void Free(KeyTable table);
  // Blocks until everything handed over so far was freed (tests, SHUTDOWN).
  void Drain();
  size_t pending() const;
  // Keys freed on the thread so far (INFO lazyfreed_objects).
  size_t freed() const { return freed_.load(std::memory_order_relaxed); }
  // CONFIG RESETSTAT (Redis's lazyfreeResetStats).
  void ResetStats() { freed_.store(0, std::memory_order_relaxed); }

 private:
  void Run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<KeyTable> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::atomic<size_t> freed_{0};
  std::thread thread_;
};

// Frees an entry that left its database: on `freer`'s thread when `lazy` and it is worth it
// (Redis's lazyfreeFreeObject), else here.
void FreeEntry(Entry* e, bool lazy, LazyFreer* freer);

}  // namespace keyward
