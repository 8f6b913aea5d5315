// The HyperLogLog commands of Redis 7.0 (hyperloglog.c): PFADD, PFCOUNT, PFMERGE, PFDEBUG and
// PFSELFTEST. The values are plain strings in Redis's byte format (keyspace/hyperloglog.h), so
// GET, SET, DUMP and replication see exactly what Redis would hold.
//
// What Redis does, and so what is done here:
// - A key that holds a string which is not an HLL gives "WRONGTYPE Key is not a valid
//   HyperLogLog string value."; a key of another type the usual WRONGTYPE. Sparse opcodes that do
//   not cover the 16384 registers exactly give "INVALIDOBJ Corrupted HLL object detected".
// - Every command that reaches an existing HLL first makes its string raw (dbUnshareStringValue),
//   even PFCOUNT answering from the cache; edits are then made in place.
// - PFCOUNT of one key stores a recomputed cardinality in the value: that is a change (WATCH sees
//   it, the command is propagated as received), though PFCOUNT is a read-only command. PFCOUNT of
//   several keys merges them into a scratch set of registers and changes nothing.
// - PFADD fails half way on a corrupt value keeping the registers it had already raised, with no
//   notification and no propagation (as Redis).
// - PFMERGE merges its destination too, creates it when absent, makes it dense when any input is,
//   and fires a "pfadd" event. PFDEBUG GETREG and TODENSE convert a sparse value to dense and
//   count that as a change (propagated) without signalling the key, as Redis.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/command.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/database.h"
#include "server/keyspace/entry.h"
#include "server/keyspace/hyperloglog.h"

namespace keyward {

namespace {

// What an HLL operation found, beyond the keyspace's OpStatus vocabulary.
enum class HllStatus {
  kOk,
  kWrongType,  // not a string
  kNotHll,     // a string, but not an HLL header (or a dense one of the wrong size)
  kCorrupt,    // an HLL whose sparse opcodes do not cover the registers exactly
};

void SendHllStatus(HllStatus status, CommandContext& ctx) {
  switch (status) {
    case HllStatus::kOk:
      return ctx.rb().SendOk();
    case HllStatus::kWrongType:
      return ctx.SendStatus(OpStatus::kWrongType);
    case HllStatus::kNotHll:
      return ctx.rb().SendError(errors::kHllNotHll);
    case HllStatus::kCorrupt:
      return ctx.rb().SendError(errors::kHllCorrupt);
  }
}

// Redis's isHLLObjectOrReply on an existing key.
HllStatus CheckHll(const Entry* e) {
  if (e->type() != ObjType::kString) return HllStatus::kWrongType;
  return hll::LooksLikeHll(e->string_value()) ? HllStatus::kOk : HllStatus::kNotHll;
}

// dbUnshareStringValue: the entry with its string in an editable (raw) buffer, deadline kept.
Entry* Unshare(Database& db, Entry* e) {
  if (e->has_raw_string()) return e;
  return db.Replace(
      e, Entry::NewStringWithEncoding(e->key(), e->string_value(), Encoding::kRaw, e->expire_ms()));
}

// createHLLObject + dbAdd: a new, empty sparse HLL (raw, as Redis's createObject makes it).
Entry* AddEmpty(Database& db, std::string_view key) {
  Entry* e = Entry::NewStringWithEncoding(key, hll::NewSparse(), Encoding::kRaw, -1);
  db.Add(e);
  return e;
}

int64_t SparseMaxBytes(CommandContext& ctx) { return ctx.settings().hll_sparse_max_bytes; }

// ---------------------------------------------------------------------------------------------
// Op* functions: keyspace work only.

struct AddResult {
  HllStatus status;
  uint64_t updated;  // registers raised, plus one if the key was created
};

AddResult OpPfAdd(Database& db, std::string_view key, CmdArgs elements, int64_t max_bytes) {
  Entry* e = db.Find(key, LookupMode::kWrite);
  uint64_t updated = 0;
  if (e == nullptr) {
    e = AddEmpty(db, key);
    updated++;
  } else {
    if (HllStatus st = CheckHll(e); st != HllStatus::kOk) return {st, 0};
    e = Unshare(db, e);
  }
  hll::Editor editor(*e->raw_string(), max_bytes);
  for (std::string_view element : elements) {
    int r = editor.Add(element);
    if (r < 0) return {HllStatus::kCorrupt, 0};  // the registers raised so far stay raised
    updated += r;
  }
  if (updated > 0) editor.InvalidateCache();
  return {HllStatus::kOk, updated};
}

struct CountResult {
  HllStatus status;
  uint64_t card;
  bool cache_refreshed;  // the value changed: its cached cardinality was recomputed
};

// PFCOUNT of one key: the cached cardinality, or a fresh estimate stored as the new cache.
CountResult OpPfCountOne(Database& db, std::string_view key) {
  Entry* e = db.Find(key, LookupMode::kRead);
  if (e == nullptr) return {HllStatus::kOk, 0, false};
  if (HllStatus st = CheckHll(e); st != HllStatus::kOk) return {st, 0, false};
  e = Unshare(db, e);
  std::string& value = *e->raw_string();
  if (std::optional<uint64_t> cached = hll::CachedCardinality(value)) {
    return {HllStatus::kOk, *cached, false};
  }
  std::optional<uint64_t> card = hll::Count(value);
  if (!card) return {HllStatus::kCorrupt, 0, false};
  hll::StoreCardinality(value, *card);
  return {HllStatus::kOk, *card, true};
}

struct MergeResult {
  HllStatus status;
  bool any_dense;  // one of the inputs was dense
};

// Merges the HLLs at `keys` into `max` (absent keys are empty HLLs). Each key is looked up for
// reading, as Redis's lookupKeyRead.
MergeResult OpMergeKeys(Database& db, CmdArgs keys, hll::Registers& max) {
  bool any_dense = false;
  for (std::string_view key : keys) {
    Entry* e = db.Find(key, LookupMode::kRead);
    if (e == nullptr) continue;
    if (HllStatus st = CheckHll(e); st != HllStatus::kOk) return {st, any_dense};
    if (hll::EncodingOf(e->string_value()) == hll::kDense) any_dense = true;
    if (!hll::MergeInto(max, e->string_value())) return {HllStatus::kCorrupt, any_dense};
  }
  return {HllStatus::kOk, any_dense};
}

// PFMERGE: `sources` includes the destination itself (Redis merges from argv[1] on).
HllStatus OpPfMerge(Database& db, std::string_view dest, CmdArgs sources, int64_t max_bytes) {
  hll::Registers max{};
  MergeResult merged = OpMergeKeys(db, sources, max);
  if (merged.status != HllStatus::kOk) return merged.status;

  // The destination was checked as a source: it is absent or an HLL.
  Entry* e = db.Find(dest, LookupMode::kWrite);
  e = e == nullptr ? AddEmpty(db, dest) : Unshare(db, e);
  hll::Editor editor(*e->raw_string(), max_bytes);
  if (merged.any_dense && !editor.ToDense()) return HllStatus::kCorrupt;
  // Register by register, in the destination's current encoding (a sparse one may turn dense
  // half way, when it outgrows hll-sparse-max-bytes or meets a value above 32).
  for (uint32_t i = 0; i < hll::kRegisters; i++) {
    if (max[i] != 0) editor.Set(i, max[i]);
  }
  editor.InvalidateCache();
  return HllStatus::kOk;
}

// ---------------------------------------------------------------------------------------------
// PFADD key [element ...]

void CmdPfAdd(CmdArgs args, CommandContext& ctx) {
  std::string_view key = args[1];
  Database& db = ctx.db();
  AddResult r = OpPfAdd(db, key, args.subspan(2), SparseMaxBytes(ctx));
  if (r.status != HllStatus::kOk) return SendHllStatus(r.status, ctx);
  if (r.updated > 0) {
    ctx.KeyModified(db, key);
    ctx.Notify(notify::kString, "pfadd", key, db);
    ctx.AddDirty(r.updated);
  }
  ctx.rb().SendLong(r.updated > 0 ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// PFCOUNT key [key ...]

void CmdPfCount(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  if (args.size() > 2) {
    hll::Registers max{};
    HllStatus st = OpMergeKeys(db, args.subspan(1), max).status;
    if (st != HllStatus::kOk) return SendHllStatus(st, ctx);
    // addReplyLongLong of an unsigned estimate: one of 2^63 or more reads as negative.
    return ctx.rb().SendLong(static_cast<int64_t>(hll::Count(max)));
  }
  std::string_view key = args[1];
  CountResult r = OpPfCountOne(db, key);
  if (r.status != HllStatus::kOk) return SendHllStatus(r.status, ctx);
  if (r.cache_refreshed) {
    // No keyspace event, as Redis: only the cache changed.
    ctx.KeyModified(db, key);
    ctx.AddDirty();
  }
  ctx.rb().SendLong(static_cast<int64_t>(r.card));
}

// ---------------------------------------------------------------------------------------------
// PFMERGE destkey [sourcekey ...]

void CmdPfMerge(CmdArgs args, CommandContext& ctx) {
  std::string_view dest = args[1];
  Database& db = ctx.db();
  HllStatus st = OpPfMerge(db, dest, args.subspan(1), SparseMaxBytes(ctx));
  if (st != HllStatus::kOk) return SendHllStatus(st, ctx);
  ctx.KeyModified(db, dest);
  // Redis fires "pfadd" for a merge: in effect it adds many elements at once.
  ctx.Notify(notify::kString, "pfadd", dest, db);
  ctx.AddDirty();
  ctx.rb().SendOk();
}

// ---------------------------------------------------------------------------------------------
// PFDEBUG <GETREG | DECODE | ENCODING | TODENSE> key

enum class Conversion { kDone, kAlreadyDense, kCorrupt };

// GETREG and TODENSE: a sparse value becomes dense. Redis counts the conversion as a change
// (so that replicas convert too) without signalling the key.
Conversion DebugToDense(std::string& value, CommandContext& ctx) {
  if (hll::EncodingOf(value) != hll::kSparse) return Conversion::kAlreadyDense;
  hll::Editor editor(value, SparseMaxBytes(ctx));
  if (!editor.ToDense()) return Conversion::kCorrupt;
  ctx.AddDirty();
  return Conversion::kDone;
}

void CmdPfDebug(CmdArgs args, CommandContext& ctx) {
  // Redis compares the subcommand as a C string: it ends at the first NUL byte.
  std::string_view sub = args[1].substr(0, args[1].find('\0'));
  std::string_view key = args[2];
  Database& db = ctx.db();
  // The key is looked up and checked before the subcommand is.
  Entry* e = db.Find(key, LookupMode::kWrite);
  if (e == nullptr) return ctx.rb().SendError(errors::kHllNoKey);
  if (HllStatus st = CheckHll(e); st != HllStatus::kOk) return SendHllStatus(st, ctx);
  e = Unshare(db, e);
  std::string& value = *e->raw_string();
  ReplyBuilder& rb = ctx.rb();

  if (EqualsIgnoreCase(sub, "getreg")) {
    if (DebugToDense(value, ctx) == Conversion::kCorrupt) return rb.SendError(errors::kHllCorrupt);
    rb.StartArray(hll::kRegisters);
    for (uint32_t i = 0; i < hll::kRegisters; i++) rb.SendLong(hll::DenseRegister(value, i));
  } else if (EqualsIgnoreCase(sub, "decode")) {
    if (hll::EncodingOf(value) != hll::kSparse) return rb.SendError(errors::kHllNotSparse);
    rb.SendBulk(hll::DecodeSparse(value));
  } else if (EqualsIgnoreCase(sub, "encoding")) {
    rb.SendSimple(hll::EncodingOf(value) == hll::kDense ? "dense" : "sparse");
  } else if (EqualsIgnoreCase(sub, "todense")) {
    Conversion c = DebugToDense(value, ctx);
    if (c == Conversion::kCorrupt) return rb.SendError(errors::kHllCorrupt);
    rb.SendLong(c == Conversion::kDone ? 1 : 0);
  } else {
    rb.SendError("ERR Unknown PFDEBUG subcommand '" + std::string(sub) + "'");
  }
}

// ---------------------------------------------------------------------------------------------
// PFSELFTEST

void CmdPfSelfTest(CmdArgs args, CommandContext& ctx) {
  std::optional<std::string> failure = hll::SelfTest(ctx.services().rng, SparseMaxBytes(ctx));
  if (failure) return ctx.rb().SendError(*failure);
  ctx.rb().SendOk();
}

}  // namespace

void RegisterHyperLogLogFamily(CommandRegistry& r) {
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint64_t kHll = Acl::kHyperLogLog;
  // clang-format off
  r << CommandSpec{"pfadd", -2, kWD | CO::kFast, 1, 1, 1, kHll, CmdPfAdd,
                   {"Adds the specified elements to the specified HyperLogLog.", "2.8.9",
                    "hyperloglog", "O(1) to add every element.", "key [element [element ...]]"}}
    // may_replicate, as in Redis: refreshing the cache writes (CLIENT PAUSE WRITE holds PFCOUNT,
    // read-only scripts refuse it).
    << CommandSpec{"pfcount", -2, CO::kReadOnly | CO::kMayReplicate, 1, -1, 1, kHll, CmdPfCount,
                   {"Return the approximated cardinality of the set(s) observed by the "
                    "HyperLogLog at key(s).", "2.8.9", "hyperloglog",
                    "O(1) with a very small average constant time when called with a single key. "
                    "O(N) with N being the number of keys, and much bigger constant times, when "
                    "called with multiple keys.", "key [key ...]"}}
    << CommandSpec{"pfmerge", -2, kWD, 1, -1, 1, kHll, CmdPfMerge,
                   {"Merge N different HyperLogLogs into a single one.", "2.8.9", "hyperloglog",
                    "O(N) to merge N HyperLogLogs, but with high constant times.",
                    "destkey sourcekey [sourcekey ...]"}}
    << CommandSpec{"pfdebug", 3, kWD | CO::kAdmin, 2, 2, 1, kHll, CmdPfDebug,
                   {"Internal commands for debugging HyperLogLog values", "2.8.9", "hyperloglog",
                    "N/A", "subcommand key"}}
    << CommandSpec{"pfselftest", 1, CO::kAdmin, 0, 0, 0, kHll, CmdPfSelfTest,
                   {"An internal command for testing HyperLogLog values", "2.8.9", "hyperloglog",
                    "N/A", ""}};
  // clang-format on
}

}  // namespace keyward
