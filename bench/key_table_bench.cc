// Micro-benchmarks of the keyspace table, at 1k keys (fits in L1/L2: the cost of the code) and
// 1M keys (far beyond the caches: the cost of memory accesses, which is what a real server sees).
//
// Three stores run the same benchmarks, so each line has a reference point next to it:
//   KeyTableStore  the bare KeyTable (one Entry allocation per key, intrusive chaining);
//   DatabaseStore  Database on top of it, as commands use it: Upsert (SET's path: look up, then
//                  insert or replace), Find with LookupMode::kRead (expiry check, hit/miss
//                  statistics, LRU update), Delete, Scan;
//   StdMapStore    std::unordered_map<std::string, std::string>, no reserve(), like the others.
//
// Keys are "key:N" and values "value:N", as DEBUG POPULATE makes them; lookups and erasures visit
// the keys in a shuffled order so the hardware prefetcher cannot follow insertion order.
// Insert reports heap_bytes_per_key: the growth of malloc's in-use bytes (mallinfo2) divided by
// the number of keys, table and entries included; compare with compare_redis.py's RSS figure.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/core/clock.h"
#include "server/keyspace/database.h"
#include "server/keyspace/entry.h"
#include "server/keyspace/key_table.h"

namespace keyward {
namespace {

struct Dataset {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<std::string> missing;  // same shape as keys, never inserted
  std::vector<uint32_t> order;       // a shuffled permutation of [0, n)
};

const Dataset& GetDataset(size_t n) {
  static std::map<size_t, std::unique_ptr<Dataset>> cache;
  auto& slot = cache[n];
  if (slot == nullptr) {
    slot = std::make_unique<Dataset>();
    for (size_t i = 0; i < n; i++) {
      slot->keys.push_back("key:" + std::to_string(i));
      slot->values.push_back("value:" + std::to_string(i));
      slot->missing.push_back("kez:" + std::to_string(i));
    }
    slot->order.resize(n);
    std::iota(slot->order.begin(), slot->order.end(), 0u);
    std::shuffle(slot->order.begin(), slot->order.end(), std::mt19937_64(42));
  }
  return *slot;
}

size_t HeapInUse() { return mallinfo2().uordblks; }

class KeyTableStore {
 public:
  void Insert(std::string_view key, std::string_view value) {
    table_.Insert(Entry::NewString(key, value));
  }
  bool Find(std::string_view key) { return table_.Find(key) != nullptr; }
  void Erase(std::string_view key) { Entry::Free(table_.Remove(key)); }
  size_t ScanAll() {
    size_t seen = 0;
    uint64_t cursor = 0;
    do {
      cursor = table_.Scan(cursor, [&](Entry*) { seen++; });
    } while (cursor != 0);
    return seen;
  }
  // Lookups during an incremental rehash also move buckets; the server's cron finishes a rehash
  // soon after a burst of inserts, so lookups are measured on a settled table.
  void FinishRehash() {
    while (table_.RehashStep(1000)) {
    }
  }

 private:
  KeyTable table_{0x5eed};
};

class DatabaseStore {
 public:
  DatabaseStore() : db_(0, DatabaseContext{&now_ms_, &stats_, nullptr, nullptr}, 0x5eed) {}
  void Insert(std::string_view key, std::string_view value) {
    db_.Upsert(Entry::NewString(key, value));
  }
  bool Find(std::string_view key) { return db_.Find(key, LookupMode::kRead) != nullptr; }
  void Erase(std::string_view key) { db_.Delete(key); }
  size_t ScanAll() {
    size_t seen = 0;
    uint64_t cursor = 0;
    do {
      cursor = db_.Scan(cursor, [&](Entry*) { seen++; });
    } while (cursor != 0);
    return seen;
  }
  void FinishRehash() {
    ManualClock clock;  // never advances, so the cron's time budget never runs out
    db_.Cron(1, clock);
  }

 private:
  int64_t now_ms_ = 1'700'000'000'000;
  KeyspaceStats stats_;
  Database db_;
};

class StdMapStore {
 public:
  void Insert(std::string_view key, std::string_view value) {
    map_.insert_or_assign(std::string(key), std::string(value));
  }
  bool Find(const std::string& key) { return map_.find(key) != map_.end(); }
  void Erase(const std::string& key) { map_.erase(key); }
  size_t ScanAll() {
    size_t seen = 0;
    for (auto& kv : map_) {
      benchmark::DoNotOptimize(&kv);
      seen++;
    }
    return seen;
  }
  void FinishRehash() {}

 private:
  std::unordered_map<std::string, std::string> map_;
};

template <typename Store>
std::unique_ptr<Store> Filled(const Dataset& d) {
  auto store = std::make_unique<Store>();
  for (size_t i = 0; i < d.keys.size(); i++) store->Insert(d.keys[i], d.values[i]);
  store->FinishRehash();
  return store;
}

template <typename Store>
void BM_Insert(benchmark::State& state) {
  const Dataset& d = GetDataset(static_cast<size_t>(state.range(0)));
  double bytes_per_key = 0;
  size_t before = HeapInUse();  // read outside the timed part: mallinfo2 walks malloc's bins
  for (auto _ : state) {
    auto store = std::make_unique<Store>();
    for (size_t i = 0; i < d.keys.size(); i++) store->Insert(d.keys[i], d.values[i]);
    state.PauseTiming();
    bytes_per_key = static_cast<double>(HeapInUse() - before) / d.keys.size();
    store.reset();
    before = HeapInUse();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["heap_bytes_per_key"] = bytes_per_key;
}

template <typename Store>
void BM_FindHit(benchmark::State& state) {
  const Dataset& d = GetDataset(static_cast<size_t>(state.range(0)));
  auto store = Filled<Store>(d);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store->Find(d.keys[d.order[i]]));
    if (++i == d.order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Store>
void BM_FindMiss(benchmark::State& state) {
  const Dataset& d = GetDataset(static_cast<size_t>(state.range(0)));
  auto store = Filled<Store>(d);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(store->Find(d.missing[d.order[i]]));
    if (++i == d.order.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Store>
void BM_Erase(benchmark::State& state) {
  const Dataset& d = GetDataset(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    auto store = Filled<Store>(d);
    state.ResumeTiming();
    for (uint32_t k : d.order) store->Erase(d.keys[k]);
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

template <typename Store>
void BM_Scan(benchmark::State& state) {
  const Dataset& d = GetDataset(static_cast<size_t>(state.range(0)));
  auto store = Filled<Store>(d);
  for (auto _ : state) {
    size_t seen = store->ScanAll();
    if (seen != d.keys.size()) {
      state.SkipWithError("the scan did not see every key exactly once");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

#define KEYWARD_TABLE_BENCH(fn)                                   \
  BENCHMARK_TEMPLATE(fn, KeyTableStore)->Arg(1000)->Arg(1000000); \
  BENCHMARK_TEMPLATE(fn, DatabaseStore)->Arg(1000)->Arg(1000000); \
  BENCHMARK_TEMPLATE(fn, StdMapStore)->Arg(1000)->Arg(1000000)

KEYWARD_TABLE_BENCH(BM_Insert);
KEYWARD_TABLE_BENCH(BM_FindHit);
KEYWARD_TABLE_BENCH(BM_FindMiss);
KEYWARD_TABLE_BENCH(BM_Erase);
KEYWARD_TABLE_BENCH(BM_Scan);

}  // namespace
}  // namespace keyward

BENCHMARK_MAIN();
