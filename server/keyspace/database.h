// One numbered database: the key table, the expiry index, lazy expiry on access and the active
// expiry cycle. A Database knows nothing of clients, commands or the network; what the server must
// hear about (a key expired) it reports through KeyspaceListener.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string_view>
#include <utility>

#include "server/core/settings.h"
#include "server/core/status.h"
#include "server/keyspace/entry.h"
#include "server/keyspace/expire_heap.h"
#include "server/keyspace/key_table.h"

namespace keyward {

class Database;
class LazyFreer;

// Hooks for the layers above: keyspace notifications, propagation of expiry as DEL, waking
// waiters. The default does nothing.
class KeyspaceListener {
 public:
  virtual ~KeyspaceListener() = default;
  // Called after an expired key was deleted (lazily or by the active cycle).
  virtual void OnExpired(Database& db, std::string_view key) {}
  // Called when a key that did not exist is added (Redis's dbAdd), before the command that
  // added it reports its own event: keyspace notifications' "new".
  virtual void OnKeyAdded(Database& db, std::string_view key) {}
  // Called when a read lookup finds no key (after deleting it if it had expired).
  virtual void OnKeyMiss(Database& db, std::string_view key) {}
  // Called when a key leaves the database in any way but a flush: DEL, expiry, RENAME, MOVE.
  virtual void OnKeyRemoved(Database& db, std::string_view key) {}
  // Called before the database is emptied (FLUSHDB, FLUSHALL; replaced_with null) or swapped
  // with `replaced_with` (SWAPDB, called for both), while its keys are still there.
  virtual void OnDatabaseResetting(Database& db, Database* replaced_with) {}
  // Called after the database was emptied (FLUSHDB, FLUSHALL) or swapped (SWAPDB).
  virtual void OnDatabaseReset(Database& db) {}
};

// A point-in-time snapshot of the keyspace written while the server keeps serving (persistence's
// background save, without fork). Every entry carries a mark bit; while a snapshot runs, an entry
// whose mark differs from mark() existed when the snapshot started and has not been written yet.
// Before such an entry is changed, replaced, removed or handed out by a lookup, the database calls
// SaveBefore, which writes it as it still is and flips its mark; entries added meanwhile get the
// current mark (they are not part of the snapshot). Outside a snapshot every entry has the mark,
// so starting one is just flipping it.
class SnapshotGuard {
 public:
  virtual ~SnapshotGuard() = default;
  bool active() const { return active_; }
  bool mark() const { return mark_; }
  // Whether `e` still has to be written by the running snapshot.
  bool Pending(const Entry* e) const { return active_ && e->snapshot_mark() != mark_; }
  // Writes `e` of `db` as it is now, and gives it the current mark.
  virtual void SaveBefore(Database& db, Entry* e) = 0;
  // The database is about to be emptied (FLUSHDB, FLUSHALL: other is null) or swapped with
  // `other` (SWAPDB): its pending entries must be dealt with first.
  virtual void BeforeReset(Database& db, Database* other) = 0;

 protected:
  bool active_ = false;
  bool mark_ = false;
};

struct KeyspaceStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t expired = 0;
  // Expired keys found but not yet deleted when the active cycle ran out of time.
  uint64_t expire_cycle_time_limit_hits = 0;
};

// What the database needs from the keyspace it belongs to.
struct DatabaseContext {
  const int64_t* now_ms = nullptr;  // the command-time snapshot (server time, unix ms)
  KeyspaceStats* stats = nullptr;
  KeyspaceListener* listener = nullptr;
  // Expired keys are hidden from reads but not deleted: on a replica (it waits for the master's
  // DEL), and while writes are paused (a deletion is a write).
  const bool* expire_disabled = nullptr;
  // Applying the AOF or the master's stream: no key counts as expired.
  const bool* ignore_expiry = nullptr;
  // lazyfree-lazy-expire and lazyfree-lazy-server-del, and the thread that frees lazily.
  const ServerSettings* settings = nullptr;
  LazyFreer* freer = nullptr;
  // The background snapshot's guard (never null once the keyspace built the database).
  SnapshotGuard* const* snapshot = nullptr;
};

enum class LookupMode {
  kWrite,    // no statistics
  kRead,     // counts keyspace hits and misses
  kNoTouch,  // no statistics, LRU not updated (SCAN's expiry filter, DEBUG tools)
  // Counts hits and misses but leaves the LRU alone: Redis's LOOKUP_NOTOUCH reads (EXISTS, TYPE,
  // TTL), which keyspace_hits/keyspace_misses do count.
  kReadNoTouch,
  // kReadNoTouch without the "keymiss" event: OBJECT (Redis's LOOKUP_NOTOUCH|LOOKUP_NONOTIFY).
  kReadNoTouchNoNotify,
};
// The read lookups (kRead, kReadNoTouch) report a miss to the listener (keyspace notifications'
// "keymiss"), as Redis's lookupKeyRead does; write lookups never do.

class Database {
 public:
  Database(int index, DatabaseContext ctx, uint64_t seed);

  int index() const { return index_; }
  size_t size() const { return table_.size(); }
  size_t expires_count() const { return expires_.size(); }

  // The key's live entry, or nullptr. An expired key is deleted on the way (lazy expiry).
  Entry* Find(std::string_view key, LookupMode mode = LookupMode::kWrite);
  // As Find, but kKeyNotFound / kWrongType when absent or of another type.
  Result<Entry*> FindTyped(std::string_view key, ObjType type,
                           LookupMode mode = LookupMode::kWrite);
  bool Exists(std::string_view key) { return Find(key) != nullptr; }
  // The key's entry as stored, expired or not, with no side effect on the key or the statistics
  // (what WATCH looks at: Redis's dictFind).
  Entry* Peek(std::string_view key) { return Guarded(table_.Find(key)); }

  // Loads the buckets and first entries of `keys` into the cache, their misses overlapping, so
  // that the lookups of a pipelined batch that follow find them there. Changes nothing.
  void Prefetch(std::span<const std::string_view> keys) const;

  // Adds an entry whose key is absent.
  void Add(Entry* e);
  // The loader's add (Redis's dbAddRDBLoad): no listener hears of it; false, and nothing
  // added, when the key is already there (a duplicate in the file).
  bool AddLoaded(Entry* e);
  // Room for about `keys` keys (RESIZEDB).
  void Reserve(size_t keys) { table_.Reserve(keys); }
  // Adds or overwrites; the previous entry (if any) is freed.
  void Upsert(Entry* e);
  // Puts `replacement` (same key) in place of the live entry `old`, which is freed. Returns it.
  Entry* Replace(Entry* old, Entry* replacement);
  bool Delete(std::string_view key);
  // Unlinks the key and hands its entry to the caller (MOVE, RENAME); nullptr when absent.
  Entry* Take(std::string_view key);

  // Sets (ms >= 0) or removes (ms < 0) the key's deadline. Entries may be rebuilt to make room
  // for the deadline: the returned pointer replaces `e`.
  Entry* SetExpire(Entry* e, int64_t ms);

  // Whether an entry's deadline has passed (the key is dead even if not yet deleted).
  bool IsExpired(const Entry* e) const {
    return e->has_expire() && e->expire_ms() <= now_ms() &&
           (ctx_.ignore_expiry == nullptr || !*ctx_.ignore_expiry);
  }

  // Scan and ForEach hand out entries for reading only (SCAN, KEYS, the snapshot itself).
  uint64_t Scan(uint64_t cursor, const std::function<void(Entry*)>& fn) {
    return table_.Scan(cursor, fn);
  }
  void ForEach(const std::function<void(Entry*)>& fn) const { table_.ForEach(fn); }
  // The key table's buckets in memory order (the snapshot's walk): see IntrusiveTable.
  size_t slot_count() const { return table_.slot_count(); }
  template <typename Fn>
  size_t VisitSlot(size_t slot, Fn&& fn) {
    return table_.VisitSlot(slot, std::forward<Fn>(fn));
  }
  // A random live key; nullptr when the database is empty (or holds only expired keys).
  Entry* RandomEntry(uint64_t (*rng)(void*), void* rng_state);
  // A key drawn at random for eviction, among every key or (`volatile_only`) those with a
  // deadline; nullptr when there is none. Nothing is expired, touched or counted.
  Entry* SampleEntry(bool volatile_only, uint64_t (*rng)(void*), void* rng_state);

  // Deletes keys whose deadline passed, in deadline order, until none is left or the monotonic
  // deadline `until_us` (as measured by `now_us`) is reached. Returns the number deleted.
  size_t ActiveExpire(int64_t until_us, Clock& clock);
  // Shrinking and incremental rehashing (for up to `rehash_us`; 0: none), from the server cron.
  void Cron(int64_t rehash_us, Clock& clock);
  // A resize is in progress (lookups and the cron move buckets across).
  bool rehashing() const { return table_.rehashing(); }

  // Removes every key. The entries are returned in a table the caller may free elsewhere.
  KeyTable TakeAllKeys();
  void Swap(Database& other);

  // Average remaining TTL of volatile keys (INFO keyspace avg_ttl), estimated from a sample.
  int64_t AverageTtlMs() const;
  size_t MemoryUsage() const { return TableMemoryUsage() + ExpiresMemoryUsage(); }
  // The key table's buckets and the expiry index (MEMORY STATS' overhead.hashtable.main and
  // overhead.hashtable.expires).
  size_t TableMemoryUsage() const { return table_.MemoryUsage(); }
  size_t ExpiresMemoryUsage() const { return expires_.MemoryUsage(); }

  int64_t now_ms() const { return *ctx_.now_ms; }

 private:
  // Lets a running snapshot write `e` before anyone may change it; returns e.
  Entry* Guarded(Entry* e) {
    SnapshotGuard* g = guard();
    if (e != nullptr && g != nullptr && g->Pending(e)) g->SaveBefore(*this, e);
    return e;
  }
  // A new entry is not part of a running snapshot.
  void MarkNew(Entry* e) const {
    const SnapshotGuard* g = guard();
    e->set_snapshot_mark(g != nullptr && g->mark());
  }
  SnapshotGuard* guard() const { return ctx_.snapshot != nullptr ? *ctx_.snapshot : nullptr; }
  uint32_t LruClock() const { return static_cast<uint32_t>(now_ms() / 1000) & 0xFFFFFF; }
  // The access bits of an entry: the LRU clock, or LFU counters (lfu.h) under an LFU policy.
  bool LfuPolicy() const;
  uint32_t NewAccessBits() const;
  void Touch(Entry* e);
  void AddHashed(Entry* e, uint64_t hash);
  void Unindex(Entry* e);  // removes e from the expiry heap if it has a deadline
  void DeleteExpired(Entry* e);
  // Frees an entry the server itself removed (an overwrite, a DEL of the server's), lazily when
  // lazyfree-lazy-server-del says so; an expired one by lazyfree-lazy-expire.
  void FreeRemoved(Entry* e, bool expired);

  int index_;
  DatabaseContext ctx_;
  KeyTable table_;
  ExpireHeap expires_;
  std::minstd_rand lfu_rng_{0x5eed};  // LFU's probabilistic increments
};

}  // namespace keyward
