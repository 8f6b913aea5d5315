// What the sorted-set command files share (zset_family.cc, zset_setops_family.cc): typed
// lookups, the encoding limits from the settings, score parsing and the reply and store helpers
// that follow t_zset.c's replies.
#pragma once

#include <memory>
#include <string_view>

#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/keyspace/zset_value.h"

namespace keyward::zset {

using Pos = ZSetValue::Pos;

inline ZSetValue* AsZSet(Entry* e) { return e->value_as<ZSetValue>(); }

// The key's sorted set, nullptr when absent; false (WRONGTYPE sent) when it holds another type.
inline bool LookupZSet(CommandContext& ctx, std::string_view key, LookupMode mode,
                       ZSetValue** out) {
  Entry* e = ctx.db().Find(key, mode);
  *out = nullptr;
  if (e == nullptr) return true;
  if (e->type() != ObjType::kZSet) {
    ctx.rb().SendError(errors::kWrongType);
    return false;
  }
  *out = AsZSet(e);
  return true;
}

inline ZSetValue::Limits Limits(const CommandContext& ctx) {
  const ServerSettings& s = ctx.settings();
  return {static_cast<size_t>(s.zset_max_listpack_entries),
          static_cast<size_t>(s.zset_max_listpack_value)};
}

// getDoubleFromObjectOrReply.
inline bool GetDouble(CommandContext& ctx, std::string_view s, double* out,
                      std::string_view error = errors::kNotFloat) {
  if (ParseDouble(s, out)) return true;
  ctx.rb().SendError(error);
  return false;
}

inline uint64_t Random(CommandContext& ctx) { return ctx.services().rng(); }

inline void SendMember(ReplyBuilder& rb, const ZSetValue* z, Pos p) {
  char buf[21];
  rb.SendBulk(z->Member(p, buf));
}

// A member and its score as the range commands reply them: a flat pair in RESP2, a nested
// [member, score] pair in RESP3.
inline void SendScored(ReplyBuilder& rb, std::string_view member, double score, bool withscores) {
  if (withscores && rb.resp3()) rb.StartArray(2);
  rb.SendBulk(member);
  if (withscores) rb.SendDouble(score);
}

inline size_t ReplyLength(const ReplyBuilder& rb, size_t n, bool withscores) {
  return withscores && !rb.resp3() ? n * 2 : n;
}

// Deletes the key of a sorted set that was emptied, with its "del" event; true when deleted.
inline bool DeleteIfEmpty(CommandContext& ctx, Database& db, std::string_view key,
                          const ZSetValue* z) {
  if (!z->empty()) return false;
  db.Delete(key);
  ctx.Notify(notify::kGeneric, "del", key, db);
  return true;
}

// What a *STORE does with its result (setKey, or dbDelete for an empty one): a non-empty result
// replaces the destination whatever it held (the old TTL goes with it).
inline void StoreResult(CommandContext& ctx, std::string_view dst,
                        std::unique_ptr<ZSetValue> result, std::string_view event) {
  Database& db = ctx.db();
  if (result == nullptr || result->empty()) {
    ctx.rb().SendLong(0);
    if (db.Delete(dst)) {
      ctx.KeyModified(db, dst);
      ctx.Notify(notify::kGeneric, "del", dst, db);
      ctx.AddDirty();
    }
    return;
  }
  const auto size = static_cast<int64_t>(result->size());
  db.Find(dst, LookupMode::kWrite);  // setKey's lookup: an expired destination goes first
  db.Upsert(Entry::NewValue(dst, std::move(result)));
  ctx.KeyModified(db, dst);
  ctx.rb().SendLong(size);
  ctx.Notify(notify::kZSet, event, dst, db);
  ctx.AddDirty();
}

}  // namespace keyward::zset
