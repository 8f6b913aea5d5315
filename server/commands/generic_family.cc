// Keyspace commands that work on keys of any type: DEL, UNLINK, EXISTS, TYPE, RENAME, RENAMENX,
// KEYS, SCAN, RANDOMKEY, TOUCH, COPY, OBJECT, MOVE, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.
// Semantics, replies and error texts follow Redis 7.0 (db.c, object.c).
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/lfu.h"
#include "server/storage/rdb_persistence.h"

namespace keyward {

namespace {

// Redis's OBJ_SHARED_INTEGERS: SET k 0..9999 stores a pointer to a shared object whose
// OBJECT REFCOUNT is OBJ_SHARED_REFCOUNT (INT_MAX).
constexpr int64_t kSharedIntegers = 10000;
constexpr int64_t kSharedRefcount = INT_MAX;

// Redis's getIntFromObjectOrReply: a strict integer that fits in a C int. The error, if any,
// is `msg`, or else the generic one (not an integer / not in int range).
bool ParseIntArgOrReply(CommandContext& ctx, std::string_view s, int* out,
                        std::string_view msg = {}) {
  int64_t v;
  if (!ParseInt64(s, &v)) {
    ctx.rb().SendError(msg.empty() ? errors::kNotInteger : msg);
    return false;
  }
  if (v < INT_MIN || v > INT_MAX) {
    ctx.rb().SendError(msg.empty() ? errors::kIntOutOfRange : msg);
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

// Redis's parseScanCursorOrReply uses strtoul: leading '+' or '-' (negation modulo 2^64) and
// leading zeros are accepted, and so is the empty string (cursor 0); leading space, trailing
// garbage and values past 2^64-1 are not.
bool ParseScanCursor(std::string_view s, uint64_t* cursor) {
  if (!s.empty() && std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  char* end;
  errno = 0;
  unsigned long long v = std::strtoull(buf.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  *cursor = v;
  return true;
}

std::optional<std::string> ConfigValue(CommandContext& ctx, std::string_view name) {
  return ctx.services().config.GetValue(name);
}

bool LfuPolicy(CommandContext& ctx) {
  auto policy = ConfigValue(ctx, "maxmemory-policy");
  return policy && policy->find("lfu") != std::string::npos;
}

// Redis stops sharing small integers when maxmemory is set with an LRU or LFU policy (each key
// then needs its own object to carry its access data).
bool SharesIntegers(CommandContext& ctx) {
  auto maxmemory = ConfigValue(ctx, "maxmemory");
  if (!maxmemory || *maxmemory == "0") return true;
  auto policy = ConfigValue(ctx, "maxmemory-policy");
  return !policy ||
         (policy->find("lru") == std::string::npos && policy->find("lfu") == std::string::npos);
}

// --- DEL, UNLINK, EXISTS, TOUCH, TYPE ---------------------------------------------------------

// Deletes the key; false when it did not exist. An expired key is deleted as expired first (with
// its "expired" event and propagated DEL) and does not count. On a replica, where expired keys
// are only hidden, the master's DEL still removes the hidden entry.
bool OpDelete(Keyspace& keyspace, Database& db, std::string_view key, bool lazy) {
  db.Find(key);
  Entry* e = db.Take(key);
  if (e == nullptr) return false;
  keyspace.FreeEntry(e, lazy);
  return true;
}

void DeleteKeys(CmdArgs args, CommandContext& ctx, bool lazy) {
  Database& db = ctx.db();
  int64_t deleted = 0;
  for (size_t i = 1; i < args.size(); i++) {
    if (!OpDelete(ctx.keyspace(), db, args[i], lazy)) continue;
    ctx.KeyModified(db, args[i]);
    ctx.Notify(notify::kGeneric, "del", args[i], db);
    ctx.AddDirty();
    deleted++;
  }
  ctx.rb().SendLong(deleted);
}

// DEL key [key ...]
void CmdDel(CmdArgs args, CommandContext& ctx) {
  DeleteKeys(args, ctx, ctx.settings().lazyfree_lazy_user_del);
}

// UNLINK key [key ...]
void CmdUnlink(CmdArgs args, CommandContext& ctx) { DeleteKeys(args, ctx, true); }

// EXISTS key [key ...]: a key named twice counts twice.
void CmdExists(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  int64_t count = 0;
  for (size_t i = 1; i < args.size(); i++) {
    if (db.Find(args[i], LookupMode::kReadNoTouch) != nullptr) count++;
  }
  ctx.rb().SendLong(count);
}

// TOUCH key [key ...]: a read lookup that updates the LRU clock.
void CmdTouch(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  int64_t count = 0;
  for (size_t i = 1; i < args.size(); i++) {
    if (db.Find(args[i], LookupMode::kRead) != nullptr) count++;
  }
  ctx.rb().SendLong(count);
}

// TYPE key
void CmdType(CmdArgs args, CommandContext& ctx) {
  Entry* e = ctx.db().Find(args[1], LookupMode::kReadNoTouch);
  ctx.rb().SendSimple(e == nullptr ? "none" : TypeName(e->type()));
}

// --- RENAME, RENAMENX, MOVE, COPY -------------------------------------------------------------

enum class RenameResult { kNoSuchKey, kSameKey, kTargetExists, kRenamed };

RenameResult OpRename(Database& db, std::string_view from, std::string_view to, bool nx) {
  Entry* src = db.Find(from);
  if (src == nullptr) return RenameResult::kNoSuchKey;
  // Same name: nothing to do, but the key still had to exist.
  if (from == to) return RenameResult::kSameKey;
  if (db.Find(to) != nullptr) {
    if (nx) return RenameResult::kTargetExists;
    db.Delete(to);
  }
  // The value and its deadline move to an entry built under the new name.
  Entry* taken = db.Take(from);
  Entry* renamed = Entry::WithKey(taken, to, taken->expire_ms());
  Entry::FreeShell(taken);
  db.Add(renamed);
  return RenameResult::kRenamed;
}

void RenameGeneric(CmdArgs args, CommandContext& ctx, bool nx) {
  Database& db = ctx.db();
  switch (OpRename(db, args[1], args[2], nx)) {
    case RenameResult::kNoSuchKey:
      return ctx.rb().SendError(errors::kNoSuchKey);
    case RenameResult::kSameKey:
      return nx ? ctx.rb().SendLong(0) : ctx.rb().SendOk();
    case RenameResult::kTargetExists:
      return ctx.rb().SendLong(0);
    case RenameResult::kRenamed:
      break;
  }
  ctx.KeyModified(db, args[1]);
  ctx.KeyModified(db, args[2]);
  ctx.Notify(notify::kGeneric, "rename_from", args[1], db);
  ctx.Notify(notify::kGeneric, "rename_to", args[2], db);
  ctx.AddDirty();
  nx ? ctx.rb().SendLong(1) : ctx.rb().SendOk();
}

// RENAME key newkey
void CmdRename(CmdArgs args, CommandContext& ctx) { RenameGeneric(args, ctx, false); }

// RENAMENX key newkey
void CmdRenameNx(CmdArgs args, CommandContext& ctx) { RenameGeneric(args, ctx, true); }

// MOVE key db: false when the key is missing or already in the target database.
bool OpMove(Database& src, Database& dst, std::string_view key) {
  if (src.Find(key) == nullptr) return false;
  if (dst.Find(key) != nullptr) return false;
  dst.Add(src.Take(key));  // the entry keeps its deadline; Add indexes it in dst's heap
  return true;
}

void CmdMove(CmdArgs args, CommandContext& ctx) {
  Keyspace& keyspace = ctx.keyspace();
  int index;
  if (!ParseIntArgOrReply(ctx, args[2], &index)) return;
  if (index < 0 || index >= keyspace.db_count()) {
    return ctx.rb().SendError(errors::kDbIndexOutOfRange);
  }
  Database& src = ctx.db();
  if (index == src.index()) return ctx.rb().SendError(errors::kSameObject);
  Database& dst = keyspace.db(index);
  if (!OpMove(src, dst, args[1])) return ctx.rb().SendLong(0);
  ctx.KeyModified(src, args[1]);
  ctx.KeyModified(dst, args[1]);
  ctx.Notify(notify::kGeneric, "move_from", args[1], src);
  ctx.Notify(notify::kGeneric, "move_to", args[1], dst);
  ctx.AddDirty();
  ctx.rb().SendLong(1);
}

// COPY source destination [DB destination-db] [REPLACE]
void CmdCopy(CmdArgs args, CommandContext& ctx) {
  Keyspace& keyspace = ctx.keyspace();
  Database& src = ctx.db();
  Database* dst = &src;
  bool replace = false;
  for (size_t i = 3; i < args.size(); i++) {
    size_t more = args.size() - i - 1;
    if (EqualsIgnoreCase(args[i], "replace")) {
      replace = true;
    } else if (EqualsIgnoreCase(args[i], "db") && more >= 1) {
      int index;
      if (!ParseIntArgOrReply(ctx, args[i + 1], &index)) return;
      if (index < 0 || index >= keyspace.db_count()) {
        return ctx.rb().SendError(errors::kDbIndexOutOfRange);
      }
      dst = &keyspace.db(index);
      i++;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  std::string_view key = args[1], newkey = args[2];
  if (dst == &src && key == newkey) return ctx.rb().SendError(errors::kSameObject);

  Entry* e = src.Find(key, LookupMode::kRead);
  if (e == nullptr) return ctx.rb().SendLong(0);
  bool existed = dst->Find(newkey) != nullptr;
  if (existed && !replace) return ctx.rb().SendLong(0);
  Entry* copy = Entry::Duplicate(e, newkey, e->expire_ms());
  if (existed) dst->Delete(newkey);
  dst->Add(copy);

  ctx.KeyModified(*dst, newkey);
  ctx.Notify(notify::kGeneric, "copy_to", newkey, *dst);
  ctx.AddDirty();
  ctx.rb().SendLong(1);
}

// --- KEYS, SCAN, RANDOMKEY, DBSIZE ------------------------------------------------------------

// KEYS pattern: expired keys are skipped but not deleted (Redis's keyIsExpired).
void CmdKeys(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  std::string_view pattern = args[1];
  bool all = pattern == "*";
  std::vector<std::string_view> keys;
  db.ForEach([&](Entry* e) {
    if (db.IsExpired(e)) return;
    std::string_view key = e->key();
    if (all || GlobMatch(pattern, key)) keys.push_back(key);
  });
  ctx.rb().StartArray(keys.size());
  for (std::string_view k : keys) ctx.rb().SendBulk(k);
}

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
void CmdScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!ParseScanCursor(args[1], &cursor)) return ctx.rb().SendError(errors::kInvalidCursor);
  int64_t count = 10;
  std::optional<std::string_view> pattern, type;
  for (size_t i = 2; i < args.size(); i += 2) {
    size_t left = args.size() - i;
    if (EqualsIgnoreCase(args[i], "count") && left >= 2) {
      if (!ParseInt64(args[i + 1], &count)) return ctx.rb().SendError(errors::kNotInteger);
      if (count < 1) return ctx.rb().SendError(errors::kSyntax);
    } else if (EqualsIgnoreCase(args[i], "match") && left >= 2) {
      pattern = args[i + 1];
    } else if (EqualsIgnoreCase(args[i], "type") && left >= 2) {
      type = args[i + 1];
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  if (pattern == "*") pattern.reset();  // "*" matches everything: skip the matching

  // Collect names first: filtering may delete expired keys, which the table walk must not see.
  // Bucket visits are capped at 10 x COUNT so a sparse table cannot stall the server; the
  // reply may then hold fewer than COUNT keys (or none) with a non-zero cursor.
  Database& db = ctx.db();
  std::vector<std::string> keys;
  int64_t visits = (count > INT64_MAX / 10 ? INT64_MAX / 10 : count) * 10;
  do {
    cursor = db.Scan(cursor, [&](Entry* e) { keys.emplace_back(e->key()); });
  } while (cursor != 0 && visits-- > 0 && keys.size() < static_cast<uint64_t>(count));

  std::vector<std::string_view> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) {
    if (pattern && !GlobMatch(*pattern, key)) continue;
    // Expired keys are deleted here (Redis's expireIfNeeded) and never returned.
    Entry* e = type ? db.Find(key, LookupMode::kReadNoTouch) : db.Find(key, LookupMode::kNoTouch);
    if (e == nullptr) continue;
    if (type && !EqualsIgnoreCase(*type, TypeName(e->type()))) continue;
    out.push_back(key);
  }
  ctx.rb().StartArray(2);
  ctx.rb().SendBulk(std::to_string(cursor));
  ctx.rb().StartArray(out.size());
  for (std::string_view k : out) ctx.rb().SendBulk(k);
}

uint64_t ServerRandom(void* state) { return (*static_cast<std::mt19937_64*>(state))(); }

// RANDOMKEY
void CmdRandomKey(CmdArgs args, CommandContext& ctx) {
  Entry* e = ctx.db().RandomEntry(ServerRandom, &ctx.services().rng);
  if (e == nullptr) return ctx.rb().SendNull();
  ctx.rb().SendBulk(e->key());
}

// DBSIZE: keys whose deadline passed but that were not deleted yet still count, as in Redis.
void CmdDbSize(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(static_cast<int64_t>(ctx.db().size()));
}

// --- FLUSHDB, FLUSHALL, SWAPDB ----------------------------------------------------------------

// [ASYNC|SYNC]; with neither, lazyfree-lazy-user-flush decides. nullopt on a syntax error.
std::optional<bool> ParseFlushAsync(CmdArgs args, CommandContext& ctx) {
  if (args.size() == 1) return ctx.settings().lazyfree_lazy_user_flush;
  if (args.size() == 2 && EqualsIgnoreCase(args[1], "sync")) return false;
  if (args.size() == 2 && EqualsIgnoreCase(args[1], "async")) return true;
  return std::nullopt;
}

// Redis propagates a flush even when nothing was removed (forceCommandPropagation), so that a
// replica or the AOF that holds keys the master does not still ends up empty.
void PropagateAsReceived(CmdArgs args, CommandContext& ctx) {
  ctx.Propagate(std::vector<std::string>(args.begin(), args.end()));
}

// FLUSHDB [ASYNC|SYNC]
void CmdFlushDb(CmdArgs args, CommandContext& ctx) {
  std::optional<bool> async = ParseFlushAsync(args, ctx);
  if (!async) return ctx.rb().SendError(errors::kSyntax);
  Database& db = ctx.db();
  ctx.AddDirty(db.size());
  ctx.keyspace().Flush(db.index(), *async);
  // Caching clients drop everything: tracking does not know databases apart.
  ctx.services().tracking.InvalidateAllOnFlush();
  PropagateAsReceived(args, ctx);
  ctx.rb().SendOk();
}

// FLUSHALL [ASYNC|SYNC]
void CmdFlushAll(CmdArgs args, CommandContext& ctx) {
  std::optional<bool> async = ParseFlushAsync(args, ctx);
  if (!async) return ctx.rb().SendError(errors::kSyntax);
  Keyspace& keyspace = ctx.keyspace();
  // Redis counts the removed keys plus one for the command itself.
  ctx.AddDirty(keyspace.TotalKeys() + 1);
  // A background save of the old data is abandoned, and with save points the empty dataset is
  // saved at once (Redis's flushAllDataAndResetRDB).
  ctx.services().rdb.AbandonBackgroundSave();
  keyspace.FlushAll(*async);
  ctx.services().rdb.OnFlushAll();
  ctx.services().tracking.InvalidateAllOnFlush();
  PropagateAsReceived(args, ctx);
  ctx.rb().SendOk();
}

// SWAPDB index1 index2
void CmdSwapDb(CmdArgs args, CommandContext& ctx) {
  Keyspace& keyspace = ctx.keyspace();
  int a, b;
  if (!ParseIntArgOrReply(ctx, args[1], &a, errors::kInvalidFirstDbIndex)) return;
  if (!ParseIntArgOrReply(ctx, args[2], &b, errors::kInvalidSecondDbIndex)) return;
  if (a < 0 || a >= keyspace.db_count() || b < 0 || b >= keyspace.db_count()) {
    return ctx.rb().SendError(errors::kDbIndexOutOfRange);
  }
  keyspace.SwapDb(a, b);
  ctx.AddDirty();  // even SWAPDB 0 0 is counted and propagated
  ctx.rb().SendOk();
}

// --- OBJECT -----------------------------------------------------------------------------------

// OBJECT's lookups count hits and misses but neither touch the key nor fire "keymiss"
// (LOOKUP_NOTOUCH | LOOKUP_NONOTIFY). A missing key is a null reply, before any policy error.
Entry* ObjectLookup(CommandContext& ctx, std::string_view key) {
  Entry* e = ctx.db().Find(key, LookupMode::kReadNoTouchNoNotify);
  if (e == nullptr) ctx.rb().SendNull();
  return e;
}

// OBJECT ENCODING key
void CmdObjectEncoding(CmdArgs args, CommandContext& ctx) {
  if (Entry* e = ObjectLookup(ctx, args[2])) ctx.rb().SendBulk(EncodingName(e->encoding()));
}

// OBJECT FREQ key
void CmdObjectFreq(CmdArgs args, CommandContext& ctx) {
  Entry* e = ObjectLookup(ctx, args[2]);
  if (e == nullptr) return;
  if (!LfuPolicy(ctx)) return ctx.rb().SendError(errors::kLfuNotSelected);
  // Under an LFU policy the 24 LRU bits hold Redis's LFU layout (keyspace/lfu.h): the counter
  // as decayed by now.
  ctx.rb().SendLong(lfu::Decayed(e->lru(), ctx.now_ms(), ctx.services().settings.lfu_decay_time));
}

// OBJECT IDLETIME key: seconds since the last access, from the 24-bit LRU clock (which wraps
// about every 194 days, as Redis's does).
void CmdObjectIdleTime(CmdArgs args, CommandContext& ctx) {
  Entry* e = ObjectLookup(ctx, args[2]);
  if (e == nullptr) return;
  if (LfuPolicy(ctx)) return ctx.rb().SendError(errors::kLfuSelected);
  constexpr int64_t kLruClockMax = (1 << 24) - 1;
  int64_t clock = (ctx.now_ms() / 1000) & kLruClockMax;
  int64_t lru = e->lru();
  ctx.rb().SendLong(clock >= lru ? clock - lru : clock + (kLruClockMax - lru));
}

// OBJECT REFCOUNT key: Keyward never shares values, but Redis shares the integers 0..9999 and
// reports them with a huge count; clients and tests look at that.
void CmdObjectRefCount(CmdArgs args, CommandContext& ctx) {
  Entry* e = ObjectLookup(ctx, args[2]);
  if (e == nullptr) return;
  int64_t v;
  bool shared = e->type() == ObjType::kString && e->encoding() == Encoding::kInt &&
                ParseInt64(e->string_value(), &v) && v >= 0 && v < kSharedIntegers &&
                SharesIntegers(ctx);
  ctx.rb().SendLong(shared ? kSharedRefcount : 1);
}

void CmdObjectHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
  };
  ctx.rb().SendHelp("OBJECT", kLines);
}

}  // namespace

void RegisterGenericFamily(CommandRegistry& r) {
  constexpr uint64_t kKs = Acl::kKeyspace;
  constexpr uint64_t kKsDangerous = Acl::kKeyspace | Acl::kDangerous;
  // clang-format off
  r << CommandSpec{"del", -2, CO::kWrite, 1, -1, 1, kKs, CmdDel,
                   {"Delete a key", "1.0.0", "generic",
                    "O(N) where N is the number of keys that will be removed.", "key [key ...]"}}
    << CommandSpec{"unlink", -2, CO::kWrite | CO::kFast, 1, -1, 1, kKs, CmdUnlink,
                   {"Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
                    "but non blocking.",
                    "4.0.0", "generic", "O(1) for each key removed regardless of its size.",
                    "key [key ...]"}}
    << CommandSpec{"exists", -2, CO::kReadOnly | CO::kFast, 1, -1, 1, kKs, CmdExists,
                   {"Determine if a key exists", "1.0.0", "generic",
                    "O(N) where N is the number of keys to check.", "key [key ...]"}}
    << CommandSpec{"type", 2, CO::kReadOnly | CO::kFast, 1, 1, 1, kKs, CmdType,
                   {"Determine the type stored at key", "1.0.0", "generic", "O(1)", "key"}}
    << CommandSpec{"rename", 3, CO::kWrite, 1, 2, 1, kKs, CmdRename,
                   {"Rename a key", "1.0.0", "generic", "O(1)", "key newkey"}}
    << CommandSpec{"renamenx", 3, CO::kWrite | CO::kFast, 1, 2, 1, kKs, CmdRenameNx,
                   {"Rename a key, only if the new key does not exist", "1.0.0", "generic", "O(1)",
                    "key newkey"}}
    << CommandSpec{"keys", 2, CO::kReadOnly, 0, 0, 0, kKsDangerous, CmdKeys,
                   {"Find all keys matching the given pattern", "1.0.0", "generic",
                    "O(N) with N being the number of keys in the database", "pattern"}}
    << CommandSpec{"scan", -2, CO::kReadOnly, 0, 0, 0, kKs, CmdScan,
                   {"Incrementally iterate the keys space", "2.8.0", "generic",
                    "O(1) for every call. O(N) for a complete iteration.",
                    "cursor [MATCH pattern] [COUNT count] [TYPE type]"}}
    << CommandSpec{"randomkey", 1, CO::kReadOnly, 0, 0, 0, kKs, CmdRandomKey,
                   {"Return a random key from the keyspace", "1.0.0", "generic", "O(1)", ""}}
    << CommandSpec{"touch", -2, CO::kReadOnly | CO::kFast, 1, -1, 1, kKs, CmdTouch,
                   {"Alters the last access time of a key(s). Returns the number of existing "
                    "keys specified.",
                    "3.2.1", "generic", "O(N) where N is the number of keys that will be touched.",
                    "key [key ...]"}}
    << CommandSpec{"copy", -3, CO::kWrite | CO::kDenyOom, 1, 2, 1, kKs, CmdCopy,
                   {"Copy a key", "6.2.0", "generic",
                    "O(N) worst case for collections, where N is the number of nested items. "
                    "O(1) for string values.",
                    "source destination [DB destination-db] [REPLACE]"}}
    << CommandSpec{"move", 3, CO::kWrite | CO::kFast, 1, 1, 1, kKs, CmdMove,
                   {"Move a key to another database", "1.0.0", "generic", "O(1)", "key db"}}
    << CommandSpec{"dbsize", 1, CO::kReadOnly | CO::kFast, 0, 0, 0, kKs, CmdDbSize,
                   {"Return the number of keys in the selected database", "1.0.0", "server",
                    "O(1)", ""}}
    << CommandSpec{"flushdb", -1, CO::kWrite, 0, 0, 0, kKsDangerous, CmdFlushDb,
                   {"Remove all keys from the current database", "1.0.0", "server",
                    "O(N) where N is the number of keys in the selected database", "[ASYNC|SYNC]"}}
    << CommandSpec{"flushall", -1, CO::kWrite, 0, 0, 0, kKsDangerous, CmdFlushAll,
                   {"Remove all keys from all databases", "1.0.0", "server",
                    "O(N) where N is the total number of keys in all databases", "[ASYNC|SYNC]"}}
    << CommandSpec{"swapdb", 3, CO::kWrite | CO::kFast, 0, 0, 0, kKsDangerous, CmdSwapDb,
                   {"Swaps two Redis databases", "4.0.0", "server",
                    "O(N) where N is the count of clients watching or blocking on keys from both "
                    "databases.",
                    "index1 index2"}};

  // OBJECT's container row has no flags and no category but @slow, as in Redis.
  CommandSpec object{"object", -2, 0, 0, 0, 0, 0, nullptr,
                     {"A container for object introspection commands", "2.2.3", "generic",
                      "Depends on subcommand.", ""}};
  object
      .AddSubcommand({"encoding", 3, CO::kReadOnly, 2, 2, 1, kKs, CmdObjectEncoding,
                      {"Inspect the internal encoding of a Redis object", "2.2.3", "generic",
                       "O(1)", "key"}})
      .AddSubcommand({"freq", 3, CO::kReadOnly, 2, 2, 1, kKs, CmdObjectFreq,
                      {"Get the logarithmic access frequency counter of a Redis object", "4.0.0",
                       "generic", "O(1)", "key"}})
      .AddSubcommand({"idletime", 3, CO::kReadOnly, 2, 2, 1, kKs, CmdObjectIdleTime,
                      {"Get the time since a Redis object was last accessed", "2.2.3", "generic",
                       "O(1)", "key"}})
      .AddSubcommand({"refcount", 3, CO::kReadOnly, 2, 2, 1, kKs, CmdObjectRefCount,
                      {"Get the number of references to the value of the key", "2.2.3",
                       "generic", "O(1)", "key"}})
      .AddSubcommand({"help", 2, CO::kLoading | CO::kStale, 0, 0, 0, kKs, CmdObjectHelp,
                      {"Show helpful text about the different subcommands", "6.2.0", "generic",
                       "O(1)", ""}});
  r << std::move(object);
  // clang-format on
}

}  // namespace keyward
