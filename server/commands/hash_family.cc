// Hash commands: HSET HSETNX HMSET HGET HMGET HGETALL HDEL HLEN HSTRLEN HEXISTS HKEYS HVALS
// HINCRBY HINCRBYFLOAT HRANDFIELD HSCAN. Semantics, replies, error texts, notifications and
// propagation follow Redis 7.0.15 (t_hash.c, db.c's scanGenericCommand): arguments are checked in
// Redis's order (some before the key lookup, some after), a write that creates the key creates
// it before anything else can fail, an emptied hash is deleted with a "del" event, and
// HINCRBYFLOAT propagates as HSET of its result.
//
// Encodings (hash_value.h) convert at the points Redis converts: HSET, HMSET and HSETNX look at
// the length of every field and value they are given before adding any (hashTypeTryConversion),
// and every addition checks the field count and, for HINCRBY*, the lengths (hashTypeSet).
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/hash_value.h"

namespace keyward {

namespace {

constexpr std::string_view kHashValueNotInteger = "ERR hash value is not an integer";
constexpr std::string_view kHashValueNotFloat = "ERR hash value is not a float";
constexpr std::string_view kIncrNanOrInfinity = "ERR value is NaN or Infinity";
constexpr std::string_view kValueOutOfRange = "ERR value is out of range";

// HRANDFIELD: with a positive count below the hash's size, a hash at most this many times the
// count is sampled by elimination (HRANDFIELD_SUB_STRATEGY_MUL), a larger one by random picks.
constexpr uint64_t kSubStrategyMul = 3;

HashValue* AsHash(Entry* e) { return e->value_as<HashValue>(); }

size_t MaxEntries(CommandContext& ctx) {
  return static_cast<size_t>(ctx.settings().hash_max_listpack_entries);
}
size_t MaxValue(CommandContext& ctx) {
  return static_cast<size_t>(ctx.settings().hash_max_listpack_value);
}

// The key's hash, nullptr when absent; false (WRONGTYPE sent) when it holds another type.
bool LookupHash(CommandContext& ctx, std::string_view key, LookupMode mode, HashValue** out) {
  Entry* e = ctx.db().Find(key, mode);
  *out = nullptr;
  if (e == nullptr) return true;
  if (e->type() != ObjType::kHash) {
    ctx.rb().SendError(errors::kWrongType);
    return false;
  }
  *out = AsHash(e);
  return true;
}

// hashTypeLookupWriteOrCreate: the key's hash, created empty when absent; nullptr (WRONGTYPE
// sent) when the key holds another type.
HashValue* LookupOrCreate(CommandContext& ctx, std::string_view key) {
  HashValue* hash;
  if (!LookupHash(ctx, key, LookupMode::kWrite, &hash)) return nullptr;
  if (hash != nullptr) return hash;
  Entry* e = Entry::NewValue(key, std::make_unique<HashValue>());
  ctx.db().Add(e);
  return AsHash(e);
}

void SendElement(ReplyBuilder& rb, const LpElement& e) {
  if (e.is_int) {
    char buf[21];
    rb.SendBulk(e.View(buf));
  } else {
    rb.SendBulk(e.str);
  }
}

uint64_t NextRandom(void* state) { return (*static_cast<std::mt19937_64*>(state))(); }

// --- Writes -----------------------------------------------------------------------------------

// HSET key field value [field value ...] and HMSET (which replies OK).
void SetFields(CmdArgs args, CommandContext& ctx, bool hmset) {
  if (args.size() % 2 == 1) return ctx.rb().SendError(errors::WrongArgs(ctx.cmd().full_name()));
  HashValue* hash = LookupOrCreate(ctx, args[1]);
  if (hash == nullptr) return;
  const size_t max_entries = MaxEntries(ctx), max_value = MaxValue(ctx);
  hash->TryConversion(args.subspan(2), max_value);
  int64_t created = 0;
  for (size_t i = 2; i < args.size(); i += 2) {
    created += hash->Set(args[i], args[i + 1], max_entries, max_value) ? 1 : 0;
  }
  if (hmset) {
    ctx.rb().SendOk();
  } else {
    ctx.rb().SendLong(created);
  }
  Database& db = ctx.db();
  ctx.KeyModified(db, args[1]);
  ctx.Notify(notify::kHash, "hset", args[1], db);
  ctx.AddDirty((args.size() - 2) / 2);
}

void CmdHSet(CmdArgs args, CommandContext& ctx) { SetFields(args, ctx, false); }
void CmdHMSet(CmdArgs args, CommandContext& ctx) { SetFields(args, ctx, true); }

// HSETNX key field value
void CmdHSetNx(CmdArgs args, CommandContext& ctx) {
  HashValue* hash = LookupOrCreate(ctx, args[1]);
  if (hash == nullptr) return;
  if (hash->Contains(args[2])) return ctx.rb().SendLong(0);
  const size_t max_value = MaxValue(ctx);
  hash->TryConversion(args.subspan(2, 2), max_value);
  hash->Set(args[2], args[3], MaxEntries(ctx), max_value);
  ctx.rb().SendLong(1);
  Database& db = ctx.db();
  ctx.KeyModified(db, args[1]);
  ctx.Notify(notify::kHash, "hset", args[1], db);
  ctx.AddDirty();
}

// HINCRBY key field increment: the increment is parsed before the lookup, the stored value
// after it (so a missing key is created before "hash value is not an integer" could be sent,
// which cannot happen on a new key).
void CmdHIncrBy(CmdArgs args, CommandContext& ctx) {
  int64_t incr;
  if (!GetLong(ctx, args[3], &incr)) return;
  HashValue* hash = LookupOrCreate(ctx, args[1]);
  if (hash == nullptr) return;
  int64_t value = 0;
  LpElement current;
  if (hash->Get(args[2], &current)) {
    if (current.is_int) {
      value = current.value;
    } else if (!ParseInt64(current.str, &value)) {
      return ctx.rb().SendError(kHashValueNotInteger);
    }
  }
  if ((incr < 0 && value < 0 && incr < INT64_MIN - value) ||
      (incr > 0 && value > 0 && incr > INT64_MAX - value)) {
    return ctx.rb().SendError(errors::kOverflow);
  }
  value += incr;
  hash->Set(args[2], FormatInt64(value), MaxEntries(ctx), MaxValue(ctx));
  ctx.rb().SendLong(value);
  Database& db = ctx.db();
  ctx.KeyModified(db, args[1]);
  ctx.Notify(notify::kHash, "hincrby", args[1], db);
  ctx.AddDirty();
}

// HINCRBYFLOAT key field increment: an infinite increment is refused before the lookup (so it
// never creates the key); the result is formatted as INCRBYFLOAT's and propagated as HSET, so
// that float precision and formatting cannot make replicas or the AOF diverge.
void CmdHIncrByFloat(CmdArgs args, CommandContext& ctx) {
  long double incr;
  if (!ParseLongDouble(args[3], &incr)) return ctx.rb().SendError(errors::kNotFloat);
  if (std::isnan(incr) || std::isinf(incr)) return ctx.rb().SendError(kIncrNanOrInfinity);
  HashValue* hash = LookupOrCreate(ctx, args[1]);
  if (hash == nullptr) return;
  long double value = 0;
  LpElement current;
  if (hash->Get(args[2], &current)) {
    if (current.is_int) {
      value = static_cast<long double>(current.value);
    } else if (!ParseLongDouble(current.str, &value)) {
      return ctx.rb().SendError(kHashValueNotFloat);
    }
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) return ctx.rb().SendError(errors::kIncrNanOrInf);
  std::string result = FormatLongDouble(value);
  hash->Set(args[2], result, MaxEntries(ctx), MaxValue(ctx));
  ctx.rb().SendBulk(result);
  Database& db = ctx.db();
  ctx.KeyModified(db, args[1]);
  ctx.Notify(notify::kHash, "hincrbyfloat", args[1], db);
  ctx.AddDirty();
  ctx.Propagate({"HSET", args[1], args[2], result});
}

// HDEL key field [field ...]: the key goes as soon as its last field does.
void CmdHDel(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kWrite, &hash)) return;
  if (hash == nullptr) return ctx.rb().SendLong(0);
  int64_t deleted = 0;
  bool key_removed = false;
  for (size_t i = 2; i < args.size(); i++) {
    if (!hash->Delete(args[i])) continue;
    deleted++;
    if (hash->empty()) {
      db.Delete(args[1]);  // frees the hash
      key_removed = true;
      break;
    }
  }
  if (deleted != 0) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kHash, "hdel", args[1], db);
    if (key_removed) ctx.Notify(notify::kGeneric, "del", args[1], db);
    ctx.AddDirty(static_cast<uint64_t>(deleted));
  }
  ctx.rb().SendLong(deleted);
}

// --- Reads ------------------------------------------------------------------------------------

void CmdHGet(CmdArgs args, CommandContext& ctx) {
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  LpElement value;
  if (hash == nullptr || !hash->Get(args[2], &value)) return ctx.rb().SendNull();
  SendElement(ctx.rb(), value);
}

// HMGET key field [field ...]: a missing key is an empty hash (a null per field).
void CmdHMGet(CmdArgs args, CommandContext& ctx) {
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  ctx.rb().StartArray(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    LpElement value;
    if (hash != nullptr && hash->Get(args[i], &value)) {
      SendElement(ctx.rb(), value);
    } else {
      ctx.rb().SendNull();
    }
  }
}

void CmdHLen(CmdArgs args, CommandContext& ctx) {
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  ctx.rb().SendLong(hash == nullptr ? 0 : static_cast<int64_t>(hash->size()));
}

// HSTRLEN key field: the length of the value's text (an integer's digits in a listpack).
void CmdHStrLen(CmdArgs args, CommandContext& ctx) {
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  LpElement value;
  if (hash == nullptr || !hash->Get(args[2], &value)) return ctx.rb().SendLong(0);
  char buf[21];
  ctx.rb().SendLong(static_cast<int64_t>(value.View(buf).size()));
}

void CmdHExists(CmdArgs args, CommandContext& ctx) {
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  ctx.rb().SendLong(hash != nullptr && hash->Contains(args[2]) ? 1 : 0);
}

// genericHgetallCommand: HGETALL is a map in RESP3 (an empty one for a missing key), HKEYS and
// HVALS flat arrays.
void GetAll(CmdArgs args, CommandContext& ctx, bool fields, bool values) {
  ReplyBuilder& rb = ctx.rb();
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  const size_t n = hash == nullptr ? 0 : hash->size();
  if (fields && values) {
    rb.StartMap(n);
  } else {
    rb.StartArray(n);
  }
  if (hash == nullptr) return;
  hash->ForEach([&](const LpElement& field, const LpElement& value) {
    if (fields) SendElement(rb, field);
    if (values) SendElement(rb, value);
  });
}

void CmdHGetAll(CmdArgs args, CommandContext& ctx) { GetAll(args, ctx, true, true); }
void CmdHKeys(CmdArgs args, CommandContext& ctx) { GetAll(args, ctx, true, false); }
void CmdHVals(CmdArgs args, CommandContext& ctx) { GetAll(args, ctx, false, true); }

// HSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is checked before the lookup, the
// options after it (a missing key answers an empty scan whatever they are). A listpack is
// returned whole with cursor 0. A table is walked until about COUNT fields are collected (Redis
// doubles COUNT for hashes and counts fields and values both) or 20 x COUNT buckets were
// visited; MATCH filters on fields afterwards.
void CmdHScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!GetScanCursor(ctx, args[2], &cursor)) return;
  ReplyBuilder& rb = ctx.rb();
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  if (hash == nullptr) {
    rb.StartArray(2);
    rb.SendBulk("0");
    return rb.SendEmptyArray();
  }
  ScanOptions opts;
  if (!GetScanOptions(ctx, args, 3, false, &opts)) return;

  std::vector<std::string> items;  // field, value, field, value ...
  auto collect = [&items](const LpElement& field, const LpElement& value) {
    items.push_back(field.ToString());
    items.push_back(value.ToString());
  };
  ReplyPairScan(ctx, opts, cursor, hash->is_listpack(), items,
                [&](uint64_t c) { return hash->Scan(c, collect); });
}

// --- HRANDFIELD -------------------------------------------------------------------------------

using Pair = std::pair<LpElement, LpElement>;

std::vector<Pair> Snapshot(const HashValue& hash) {
  std::vector<Pair> pairs;
  pairs.reserve(hash.size());
  hash.ForEach([&pairs](const LpElement& f, const LpElement& v) { pairs.emplace_back(f, v); });
  return pairs;
}

// hrandfieldWithCountCommand. A negative count may repeat fields (CASE 1); a positive one returns
// distinct fields: the whole hash when it is not larger than the count (CASE 2, in the hash's
// order), else a random subset (CASE 3 and 4). WITHVALUES replies are flat in RESP2 and
// [field, value] pairs in RESP3.
void RandFieldWithCount(CommandContext& ctx, std::string_view key, int64_t l, bool withvalues) {
  ReplyBuilder& rb = ctx.rb();
  HashValue* hash;
  if (!LookupHash(ctx, key, LookupMode::kRead, &hash)) return;
  if (hash == nullptr) return rb.SendEmptyArray();
  const uint64_t size = hash->size();
  const bool unique = l >= 0;
  uint64_t count = unique ? static_cast<uint64_t>(l) : 0 - static_cast<uint64_t>(l);
  if (count == 0) return rb.SendEmptyArray();

  const bool resp3 = rb.resp3();
  auto start = [&](uint64_t n) { rb.StartArray(withvalues && !resp3 ? n * 2 : n); };
  auto send = [&](const LpElement& field, const LpElement& value) {
    if (withvalues && resp3) rb.StartArray(2);
    SendElement(rb, field);
    if (withvalues) SendElement(rb, value);
  };
  std::mt19937_64& rng = ctx.services().rng;

  // CASE 1: independent picks (a listpack is snapshot once rather than walked per pick).
  if (!unique || count == 1) {
    start(count);
    if (hash->is_listpack()) {
      std::vector<Pair> pairs = Snapshot(*hash);
      while (count-- > 0) {
        const Pair& p = pairs[rng() % pairs.size()];
        send(p.first, p.second);
      }
    } else {
      while (count-- > 0) {
        LpElement field, value;
        hash->Random(NextRandom, &rng, &field, &value);
        send(field, value);
      }
    }
    return;
  }

  start(std::min(count, size));
  // CASE 2: everything.
  if (count >= size) return hash->ForEach(send);

  // CASE 4 on a table: random picks, duplicates skipped, replied in the order found.
  if (count * kSubStrategyMul <= size && !hash->is_listpack()) {
    std::unordered_set<std::string_view> seen;
    seen.reserve(count);
    while (seen.size() < count) {
      LpElement field, value;
      hash->Random(NextRandom, &rng, &field, &value);
      if (!seen.insert(field.str).second) continue;
      send(field, value);
    }
    return;
  }

  // CASE 3 (the hash is at most 3x the count), and CASE 4 on a listpack: a random subset by a
  // partial shuffle. A listpack's subset keeps the listpack's order, as lpRandomPairsUnique's
  // does; CASE 3 replies in random order, as Redis's temporary dict does.
  std::vector<Pair> pairs = Snapshot(*hash);
  std::vector<uint32_t> order(pairs.size());
  for (uint32_t i = 0; i < order.size(); i++) order[i] = i;
  for (uint64_t i = 0; i < count; i++) {
    uint64_t j = i + rng() % (order.size() - i);
    std::swap(order[i], order[j]);
  }
  order.resize(count);
  if (count * kSubStrategyMul <= size) std::sort(order.begin(), order.end());
  for (uint32_t i : order) send(pairs[i].first, pairs[i].second);
}

// HRANDFIELD key [count [WITHVALUES]]: the count is checked before the lookup; with WITHVALUES
// it must stay within half the long range (the reply's length is twice it).
void CmdHRandField(CmdArgs args, CommandContext& ctx) {
  if (args.size() >= 3) {
    int64_t l;
    if (!GetRangeLong(ctx, args[2], -INT64_MAX, INT64_MAX, &l)) return;
    if (args.size() > 4 || (args.size() == 4 && !EqualsIgnoreCase(args[3], "withvalues"))) {
      return ctx.rb().SendError(errors::kSyntax);
    }
    const bool withvalues = args.size() == 4;
    if (withvalues && (l < -INT64_MAX / 2 || l > INT64_MAX / 2)) {
      return ctx.rb().SendError(kValueOutOfRange);
    }
    return RandFieldWithCount(ctx, args[1], l, withvalues);
  }
  HashValue* hash;
  if (!LookupHash(ctx, args[1], LookupMode::kRead, &hash)) return;
  if (hash == nullptr) return ctx.rb().SendNull();
  LpElement field, value;
  hash->Random(NextRandom, &ctx.services().rng, &field, &value);
  SendElement(ctx.rb(), field);
}

}  // namespace

void RegisterHashFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint64_t kH = Acl::kHash;
  // clang-format off
  r << CommandSpec{"hset", -4, kWD | kF, 1, 1, 1, kH, CmdHSet,
                   {"Set the string value of a hash field", "2.0.0", "hash",
                    "O(1) for each field/value pair added, so O(N) to add N field/value pairs "
                    "when the command is called with multiple field/value pairs.",
                    "key field value [field value ...]"}}
    << CommandSpec{"hsetnx", 4, kWD | kF, 1, 1, 1, kH, CmdHSetNx,
                   {"Set the value of a hash field, only if the field does not exist", "2.0.0",
                    "hash", "O(1)", "key field value"}}
    << CommandSpec{"hmset", -4, kWD | kF, 1, 1, 1, kH, CmdHMSet,
                   {"Set multiple hash fields to multiple values", "2.0.0", "hash",
                    "O(N) where N is the number of fields being set.",
                    "key field value [field value ...]"}}
    << CommandSpec{"hget", 3, kRO | kF, 1, 1, 1, kH, CmdHGet,
                   {"Get the value of a hash field", "2.0.0", "hash", "O(1)", "key field"}}
    << CommandSpec{"hmget", -3, kRO | kF, 1, 1, 1, kH, CmdHMGet,
                   {"Get the values of all the given hash fields", "2.0.0", "hash",
                    "O(N) where N is the number of fields being requested.",
                    "key field [field ...]"}}
    << CommandSpec{"hgetall", 2, kRO, 1, 1, 1, kH, CmdHGetAll,
                   {"Get all the fields and values in a hash", "2.0.0", "hash",
                    "O(N) where N is the size of the hash.", "key"}}
    << CommandSpec{"hdel", -3, kW | kF, 1, 1, 1, kH, CmdHDel,
                   {"Delete one or more hash fields", "2.0.0", "hash",
                    "O(N) where N is the number of fields to be removed.",
                    "key field [field ...]"}}
    << CommandSpec{"hlen", 2, kRO | kF, 1, 1, 1, kH, CmdHLen,
                   {"Get the number of fields in a hash", "2.0.0", "hash", "O(1)", "key"}}
    << CommandSpec{"hstrlen", 3, kRO | kF, 1, 1, 1, kH, CmdHStrLen,
                   {"Get the length of the value of a hash field", "3.2.0", "hash", "O(1)",
                    "key field"}}
    << CommandSpec{"hexists", 3, kRO | kF, 1, 1, 1, kH, CmdHExists,
                   {"Determine if a hash field exists", "2.0.0", "hash", "O(1)", "key field"}}
    << CommandSpec{"hkeys", 2, kRO, 1, 1, 1, kH, CmdHKeys,
                   {"Get all the fields in a hash", "2.0.0", "hash",
                    "O(N) where N is the size of the hash.", "key"}}
    << CommandSpec{"hvals", 2, kRO, 1, 1, 1, kH, CmdHVals,
                   {"Get all the values in a hash", "2.0.0", "hash",
                    "O(N) where N is the size of the hash.", "key"}}
    << CommandSpec{"hincrby", 4, kWD | kF, 1, 1, 1, kH, CmdHIncrBy,
                   {"Increment the integer value of a hash field by the given number", "2.0.0",
                    "hash", "O(1)", "key field increment"}}
    << CommandSpec{"hincrbyfloat", 4, kWD | kF, 1, 1, 1, kH, CmdHIncrByFloat,
                   {"Increment the float value of a hash field by the given amount", "2.6.0",
                    "hash", "O(1)", "key field increment"}}
    << CommandSpec{"hrandfield", -2, kRO, 1, 1, 1, kH, CmdHRandField,
                   {"Get one or multiple random fields from a hash", "6.2.0", "hash",
                    "O(N) where N is the number of fields returned",
                    "key [count [WITHVALUES]]"}}
    << CommandSpec{"hscan", -3, kRO, 1, 1, 1, kH, CmdHScan,
                   {"Incrementally iterate hash fields and associated values", "2.8.0", "hash",
                    "O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
                    "key cursor [MATCH pattern] [COUNT count]"}};
  // clang-format on
}

}  // namespace keyward
