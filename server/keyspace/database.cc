#include "server/keyspace/database.h"

#include <algorithm>
#include <string>

#include "server/keyspace/lazy_free.h"
#include "server/keyspace/lfu.h"

namespace keyward {

Database::Database(int index, DatabaseContext ctx, uint64_t seed)
    : index_(index), ctx_(ctx), table_(seed) {}

Entry* Database::Find(std::string_view key, LookupMode mode) {
  Entry* e = Guarded(table_.Find(key));
  if (e != nullptr && IsExpired(e)) {
    if (ctx_.expire_disabled == nullptr || !*ctx_.expire_disabled) DeleteExpired(e);
    e = nullptr;
  }
  const bool read = mode == LookupMode::kRead || mode == LookupMode::kReadNoTouch ||
                    mode == LookupMode::kReadNoTouchNoNotify;
  if (read) {
    if (e != nullptr) {
      ctx_.stats->hits++;
    } else {
      ctx_.stats->misses++;
      if (mode != LookupMode::kReadNoTouchNoNotify && ctx_.listener != nullptr) {
        ctx_.listener->OnKeyMiss(*this, key);
      }
    }
  }
  if (e != nullptr && (mode == LookupMode::kRead || mode == LookupMode::kWrite)) Touch(e);
  return e;
}

Result<Entry*> Database::FindTyped(std::string_view key, ObjType type, LookupMode mode) {
  Entry* e = Find(key, mode);
  if (e == nullptr) return OpStatus::kKeyNotFound;
  if (e->type() != type) return OpStatus::kWrongType;
  return e;
}

void Database::Prefetch(std::span<const std::string_view> keys) const {
  constexpr size_t kMax = 32;
  uint64_t hashes[kMax];
  const size_t n = std::min(keys.size(), kMax);
  for (size_t i = 0; i < n; ++i) {
    hashes[i] = table_.Hash(keys[i]);
    table_.PrefetchSlot(hashes[i]);
  }
  for (size_t i = 0; i < n; ++i) table_.PrefetchHead(hashes[i]);
}

void Database::Add(Entry* e) { AddHashed(e, table_.Hash(e->key())); }

bool Database::AddLoaded(Entry* e) {
  const uint64_t hash = table_.Hash(e->key());
  if (table_.FindLink(e->key(), hash) != nullptr) return false;
  MarkNew(e);
  e->set_lru(NewAccessBits());
  table_.Insert(e, hash);
  if (e->has_expire()) expires_.Add(e);
  return true;
}

void Database::AddHashed(Entry* e, uint64_t hash) {
  MarkNew(e);
  e->set_lru(NewAccessBits());
  table_.Insert(e, hash);
  if (e->has_expire()) expires_.Add(e);
  if (ctx_.listener != nullptr) ctx_.listener->OnKeyAdded(*this, e->key());
}

void Database::Upsert(Entry* e) {
  uint64_t hash = table_.Hash(e->key());
  Entry** link = table_.FindLink(e->key(), hash);
  if (link == nullptr) return AddHashed(e, hash);
  Entry* old = Guarded(*link);
  MarkNew(e);
  // An overwritten key keeps its access frequency under LFU (Redis's dbSetValue).
  e->set_lru(LfuPolicy() ? old->lru() : LruClock());
  KeyTable::ReplaceAt(link, e);
  Unindex(old);
  if (e->has_expire()) expires_.Add(e);
  FreeRemoved(old, /*expired=*/false);
}

Entry* Database::Replace(Entry* old, Entry* replacement) {
  Guarded(old);
  MarkNew(replacement);
  Entry** link = table_.FindLink(old->key());
  KeyTable::ReplaceAt(link, replacement);
  replacement->set_lru(old->lru());
  if (old->has_expire() && replacement->has_expire()) {
    expires_.Moved(old, replacement);
    expires_.Update(replacement);
  } else {
    Unindex(old);
    if (replacement->has_expire()) expires_.Add(replacement);
  }
  FreeRemoved(old, /*expired=*/false);
  return replacement;
}

bool Database::Delete(std::string_view key) {
  Entry* e = Take(key);
  if (e == nullptr) return false;
  FreeRemoved(e, /*expired=*/false);
  return true;
}

void Database::FreeRemoved(Entry* e, bool expired) {
  const ServerSettings* s = ctx_.settings;
  const bool lazy =
      s != nullptr && (expired ? s->lazyfree_lazy_expire : s->lazyfree_lazy_server_del);
  FreeEntry(e, lazy, ctx_.freer);
}

Entry* Database::Take(std::string_view key) {
  // A running snapshot writes the entry before it leaves (a second lookup only then).
  if (SnapshotGuard* g = guard(); g != nullptr && g->active()) Guarded(table_.Find(key));
  Entry* e = table_.Remove(key);
  if (e == nullptr) return nullptr;
  Unindex(e);
  if (ctx_.listener != nullptr) ctx_.listener->OnKeyRemoved(*this, key);
  return e;
}

Entry* Database::SetExpire(Entry* e, int64_t ms) {
  Guarded(e);
  if (ms >= 0 && e->has_expire()) {
    e->set_expire_ms(ms);
    expires_.Update(e);
    return e;
  }
  if (ms < 0 && !e->has_expire()) return e;
  // The deadline slot appears or disappears: rebuild the entry around the same value.
  Entry* rebuilt = Entry::WithExpire(e, ms);
  rebuilt->set_snapshot_mark(e->snapshot_mark());
  Entry** link = table_.FindLink(e->key());
  KeyTable::ReplaceAt(link, rebuilt);
  if (ms >= 0) {
    expires_.Add(rebuilt);
  } else {
    expires_.Remove(e);
  }
  Entry::FreeShell(e);
  return rebuilt;
}

void Database::Unindex(Entry* e) {
  if (e->has_expire()) expires_.Remove(e);
}

void Database::DeleteExpired(Entry* e) {
  // Copy the key: the entry is freed before listeners hear of it.
  std::string key(e->key());
  FreeRemoved(Take(key), /*expired=*/true);
  ctx_.stats->expired++;
  if (ctx_.listener != nullptr) ctx_.listener->OnExpired(*this, key);
}

Entry* Database::RandomEntry(uint64_t (*rng)(void*), void* rng_state) {
  // Redis's dbRandomKey. A master deletes every expired key it draws, so the loop ends (the
  // table shrinks each time) with a live key or an empty table. A replica cannot delete: when
  // every key is volatile they may all be logically expired, so after 100 draws it returns one
  // anyway rather than loop forever.
  bool replica = ctx_.expire_disabled != nullptr && *ctx_.expire_disabled;
  bool all_volatile = table_.size() == expires_.size();
  int tries = 100;
  while (table_.size() > 0) {
    Entry* e = table_.Random(rng, rng_state);
    if (!IsExpired(e)) return Guarded(e);
    if (replica) {
      if (all_volatile && --tries == 0) return e;
      continue;
    }
    DeleteExpired(e);
  }
  return nullptr;
}

bool Database::LfuPolicy() const { return ctx_.settings != nullptr && ctx_.settings->lfu_policy(); }

uint32_t Database::NewAccessBits() const {
  return LfuPolicy() ? lfu::Initial(now_ms()) : LruClock();
}

void Database::Touch(Entry* e) {
  if (!LfuPolicy()) return e->set_lru(LruClock());
  const double random01 = static_cast<double>(lfu_rng_()) / static_cast<double>(lfu_rng_.max());
  e->set_lru(lfu::Accessed(e->lru(), now_ms(), ctx_.settings->lfu_decay_time,
                           ctx_.settings->lfu_log_factor, random01));
}

Entry* Database::SampleEntry(bool volatile_only, uint64_t (*rng)(void*), void* rng_state) {
  if (!volatile_only) return table_.Random(rng, rng_state);
  if (expires_.empty()) return nullptr;
  return expires_.entry_at(rng(rng_state) % expires_.size());
}

size_t Database::ActiveExpire(int64_t until_us, Clock& clock) {
  if (ctx_.expire_disabled != nullptr && *ctx_.expire_disabled) return 0;
  size_t deleted = 0;
  while (!expires_.empty() && expires_.top_deadline() <= now_ms()) {
    DeleteExpired(expires_.top());
    deleted++;
    // Checking the time is not free: do it every 16 keys.
    if ((deleted & 15) == 0 && clock.MonotonicUs() >= until_us) {
      if (!expires_.empty() && expires_.top_deadline() <= now_ms())
        ctx_.stats->expire_cycle_time_limit_hits++;
      break;
    }
  }
  return deleted;
}

void Database::Cron(int64_t rehash_us, Clock& clock) {
  table_.ShrinkIfSparse();
  if (rehash_us > 0 && table_.rehashing()) table_.RehashFor(rehash_us, clock);
}

KeyTable Database::TakeAllKeys() {
  if (guard() != nullptr && guard()->active()) guard()->BeforeReset(*this, nullptr);
  if (ctx_.listener != nullptr) ctx_.listener->OnDatabaseResetting(*this, nullptr);
  expires_.Clear();
  KeyTable all = table_.TakeAll();
  if (ctx_.listener != nullptr) ctx_.listener->OnDatabaseReset(*this);
  return all;
}

void Database::Swap(Database& other) {
  if (guard() != nullptr && guard()->active()) {
    guard()->BeforeReset(*this, &other);
    guard()->BeforeReset(other, this);
  }
  if (ctx_.listener != nullptr) {
    ctx_.listener->OnDatabaseResetting(*this, &other);
    ctx_.listener->OnDatabaseResetting(other, this);
  }
  std::swap(table_, other.table_);
  expires_.Swap(other.expires_);
  if (ctx_.listener != nullptr) {
    ctx_.listener->OnDatabaseReset(*this);
    ctx_.listener->OnDatabaseReset(other);
  }
}

int64_t Database::AverageTtlMs() const {
  if (expires_.empty()) return 0;
  // The heap's first nodes are the soonest deadlines; sample evenly across the array instead.
  size_t n = expires_.size();
  size_t step = n > 64 ? n / 64 : 1;
  int64_t sum = 0, count = 0;
  for (size_t i = 0; i < n; i += step) {
    int64_t ttl = expires_.deadline_at(i) - now_ms();
    sum += ttl > 0 ? ttl : 0;
    count++;
  }
  return sum / count;
}

}  // namespace keyward
