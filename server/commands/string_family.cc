// The string commands of Redis 7.0 (t_string.c), bitmaps aside (bitops_family.cc).
//
// Encodings follow Redis so that OBJECT ENCODING answers the same: a freshly set value is int,
// embstr or raw as tryObjectEncoding would pick (Entry::NewString); INCR and friends always leave
// an int; INCRBYFLOAT leaves embstr or raw (createStringObject, never int); APPEND and SETRANGE
// on an existing key leave raw, whose growable buffer is then edited in place.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/coordination/lock_manager.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/command.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/database.h"
#include "server/keyspace/entry.h"

namespace keyward {

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// ---------------------------------------------------------------------------------------------
// Shared helpers

// Redis's checkStringLength: would a string of `size` + `append` bytes exceed proto-max-bulk-len?
// Both are non-negative; the unsigned sum cannot wrap for any size that fits in memory.
bool ExceedsMaxLen(uint64_t size, uint64_t append, CommandContext& ctx) {
  return size + append > static_cast<uint64_t>(ctx.settings().proto_max_bulk_len);
}

// An existing string entry converted to the raw encoding (Redis's dbUnshareStringValue), so that
// APPEND and SETRANGE can grow its buffer in place. Keeps the key's deadline.
std::string* UnshareRaw(Database& db, Entry*& e) {
  if (!e->has_raw_string()) {
    std::string value(e->string_value());
    Entry* raw = Entry::NewStringWithEncoding(e->key(), {}, Encoding::kRaw, e->expire_ms());
    raw->raw_string()->swap(value);
    e = db.Replace(e, raw);
  }
  return e->raw_string();
}

// Replaces the value of `old` (nullptr: the key is absent) by `fresh`, keeping nothing of `old`.
void Store(Database& db, Entry* old, Entry* fresh) {
  if (old != nullptr) {
    db.Replace(old, fresh);
  } else {
    db.Add(fresh);
  }
}

// The options of SET and GETEX (Redis's parseExtendedStringArgumentsOrReply).
enum ExtFlags : uint32_t {
  kNx = 1 << 0,
  kXx = 1 << 1,
  kGet = 1 << 2,
  kKeepTtl = 1 << 3,
  kPersist = 1 << 4,
  kEx = 1 << 5,
  kPx = 1 << 6,
  kExAt = 1 << 7,
  kPxAt = 1 << 8,
};
constexpr uint32_t kTimeFlags = kEx | kPx | kExAt | kPxAt;

enum class ExtCommand { kSet, kGetEx };

struct ExtArgs {
  uint32_t flags = 0;
  std::optional<std::string_view> expire;  // the argument of EX/PX/EXAT/PXAT
};

// Parses the options after the key (GETEX) or the value (SET). As in Redis, repeating an option
// is allowed (the last time wins), but two different time options, or a time option with
// KEEPTTL or PERSIST, are a syntax error.
Result<ExtArgs> ParseExtArgs(CmdArgs args, ExtCommand cmd) {
  ExtArgs out;
  const bool is_set = cmd == ExtCommand::kSet;
  for (size_t i = is_set ? 3 : 2; i < args.size(); i++) {
    std::string_view opt = args[i];
    const bool has_next = i + 1 < args.size();
    uint32_t time_flag = 0;
    if (EqualsIgnoreCase(opt, "ex")) {
      time_flag = kEx;
    } else if (EqualsIgnoreCase(opt, "px")) {
      time_flag = kPx;
    } else if (EqualsIgnoreCase(opt, "exat")) {
      time_flag = kExAt;
    } else if (EqualsIgnoreCase(opt, "pxat")) {
      time_flag = kPxAt;
    }
    if (time_flag != 0) {
      uint32_t conflicts = kKeepTtl | kPersist | (kTimeFlags & ~time_flag);
      if ((out.flags & conflicts) || !has_next) return OpStatus::kSyntaxError;
      out.flags |= time_flag;
      out.expire = args[++i];
    } else if (is_set && EqualsIgnoreCase(opt, "nx") && !(out.flags & kXx)) {
      out.flags |= kNx;
    } else if (is_set && EqualsIgnoreCase(opt, "xx") && !(out.flags & kNx)) {
      out.flags |= kXx;
    } else if (is_set && EqualsIgnoreCase(opt, "get")) {
      out.flags |= kGet;
    } else if (is_set && EqualsIgnoreCase(opt, "keepttl") &&
               !(out.flags & (kPersist | kTimeFlags))) {
      out.flags |= kKeepTtl;
    } else if (!is_set && EqualsIgnoreCase(opt, "persist") &&
               !(out.flags & (kKeepTtl | kTimeFlags))) {
      out.flags |= kPersist;
    } else {
      return OpStatus::kSyntaxError;
    }
  }
  return out;
}

// Redis's getExpireMillisecondsOrReply: the absolute deadline in unix ms of an expire argument.
// kNotAnInteger for a malformed number, kOutOfRange for a time that is <= 0 or overflows.
Result<int64_t> ExpireDeadline(std::string_view arg, bool seconds, bool relative, int64_t now) {
  int64_t v;
  if (!ParseInt64(arg, &v)) return OpStatus::kNotAnInteger;
  if (v <= 0 || (seconds && v > kInt64Max / 1000)) return OpStatus::kOutOfRange;
  if (seconds) v *= 1000;
  if (relative) {
    // Redis lets the addition wrap and then sees a result <= 0; say the same without UB.
    if (now > 0 && v > kInt64Max - now) return OpStatus::kOutOfRange;
    v += now;
  }
  if (v <= 0) return OpStatus::kOutOfRange;
  return v;
}

void SendExpireError(OpStatus status, CommandContext& ctx) {
  if (status == OpStatus::kOutOfRange) {
    ctx.rb().SendError(errors::InvalidExpireTime(ctx.cmd().full_name()));
  } else {
    ctx.SendStatus(status);
  }
}

// ---------------------------------------------------------------------------------------------
// Op* functions: keyspace work only.

// The string value of a key; kKeyNotFound or kWrongType. The view lives until the next write.
Result<std::string_view> OpGet(Database& db, std::string_view key) {
  Result<Entry*> e = db.FindTyped(key, ObjType::kString, LookupMode::kRead);
  if (!e) return e.status();
  return (*e)->string_value();
}

// Sets the key unless NX/XX say otherwise (kSkipped). `deadline` is the absolute expiry (-1:
// none); KEEPTTL keeps the old one. Any previous value, of any type, is replaced.
OpStatus OpSet(Database& db, std::string_view key, std::string_view value, uint32_t flags,
               int64_t deadline) {
  Entry* old = db.Find(key);
  if (((flags & kNx) && old != nullptr) || ((flags & kXx) && old == nullptr)) {
    return OpStatus::kSkipped;
  }
  if ((flags & kKeepTtl) && old != nullptr) deadline = old->expire_ms();
  Store(db, old, Entry::NewString(key, value, deadline));
  return OpStatus::kOk;
}

// The new length after appending. A missing key is created with the encoding a SET would give.
Result<size_t> OpAppend(Database& db, std::string_view key, std::string_view value,
                        CommandContext& ctx) {
  Entry* e = db.Find(key);
  if (e == nullptr) {
    db.Add(Entry::NewString(key, value));
    return value.size();
  }
  if (e->type() != ObjType::kString) return OpStatus::kWrongType;
  if (ExceedsMaxLen(e->string_value().size(), value.size(), ctx)) return OpStatus::kTooLarge;
  // std::string grows geometrically, which keeps repeated APPENDs amortised O(1) as sds does.
  std::string* s = UnshareRaw(db, e);
  s->append(value);
  return s->size();
}

// Writes `value` at `offset`, zero-padding as needed; returns the new length. An empty value
// changes nothing (and creates nothing): the caller then skips the write's bookkeeping.
Result<size_t> OpSetRange(Database& db, std::string_view key, int64_t offset,
                          std::string_view value, CommandContext& ctx) {
  Entry* e = db.Find(key);
  if (e == nullptr) {
    if (value.empty()) return size_t{0};
    if (ExceedsMaxLen(offset, value.size(), ctx)) return OpStatus::kTooLarge;
    // Redis builds this one with createObject: raw, whatever its length.
    e = Entry::NewStringWithEncoding(key, {}, Encoding::kRaw, -1);
    db.Add(e);
  } else {
    if (e->type() != ObjType::kString) return OpStatus::kWrongType;
    if (value.empty()) return e->string_value().size();
    if (ExceedsMaxLen(offset, value.size(), ctx)) return OpStatus::kTooLarge;
    UnshareRaw(db, e);
  }
  std::string* s = e->raw_string();
  size_t end = static_cast<size_t>(offset) + value.size();
  if (s->size() < end) s->resize(end, '\0');
  std::memcpy(s->data() + offset, value.data(), value.size());
  return s->size();
}

// INCR, DECR, INCRBY, DECRBY. The result is always int-encoded; the deadline is kept.
Result<int64_t> OpIncrBy(Database& db, std::string_view key, int64_t incr) {
  Entry* e = db.Find(key);
  int64_t value = 0;
  if (e != nullptr) {
    if (e->type() != ObjType::kString) return OpStatus::kWrongType;
    if (!ParseInt64(e->string_value(), &value)) return OpStatus::kNotAnInteger;
  }
  if ((incr < 0 && value < 0 && incr < kInt64Min - value) ||
      (incr > 0 && value > 0 && incr > kInt64Max - value)) {
    return OpStatus::kOverflow;
  }
  value += incr;
  const std::string text = FormatInt64(value);
  // An int-encoded value whose digits keep their count is rewritten where it lies (the result
  // stays int-encoded, as Redis's in-place update of an unshared integer object does).
  if (e != nullptr && e->encoding() == Encoding::kInt && e->OverwriteInline(text)) return value;
  int64_t deadline = e != nullptr ? e->expire_ms() : -1;
  Store(db, e, Entry::NewString(key, text, deadline));
  return value;
}

// INCRBYFLOAT: the new value's text. Checked in Redis's order: type, stored value, increment.
Result<std::string> OpIncrByFloat(Database& db, std::string_view key, std::string_view incr_arg) {
  Entry* e = db.Find(key);
  long double value = 0;
  if (e != nullptr) {
    if (e->type() != ObjType::kString) return OpStatus::kWrongType;
    if (!ParseLongDouble(e->string_value(), &value)) return OpStatus::kNotAFloat;
  }
  long double incr;
  if (!ParseLongDouble(incr_arg, &incr)) return OpStatus::kNotAFloat;
  value += incr;
  if (std::isnan(value) || std::isinf(value)) return OpStatus::kNanOrInfinity;
  std::string text = FormatLongDouble(value);
  // createStringObjectFromLongDouble never produces an int encoding, even for "3".
  Encoding enc = text.size() <= kEmbStrMaxLen ? Encoding::kEmbStr : Encoding::kRaw;
  int64_t deadline = e != nullptr ? e->expire_ms() : -1;
  Store(db, e, Entry::NewStringWithEncoding(key, text, enc, deadline));
  return text;
}

// ---------------------------------------------------------------------------------------------
// GET, SET and its variants

void CmdGet(CmdArgs args, CommandContext& ctx) {
  Result<std::string_view> value = OpGet(ctx.db(), args[1]);
  if (value) return ctx.rb().SendBulk(*value);
  if (value.status() == OpStatus::kKeyNotFound) return ctx.rb().SendNull();
  ctx.SendStatus(value.status());
}

// How SET-like commands answer: SET says OK or null, SETNX says 1 or 0.
enum class SetReply { kOkOrNull, kOneOrZero };

// During the restart delay (lock-restart-delay) an instance that restarted without its data may
// not grant locks: it cannot know which ones it granted before. SET ... NX and SETNX are how
// node-redlock, redis-py's Lock and redsync take a lock, so for clients they do nothing then and
// answer as if the key existed (someone may hold it), which those libraries count as a refusal
// (SET ... NX GET, whose nil would mean "set", is refused with the RESTARTING error instead).
// What replays a stream (the AOF, a master) is not held back.
bool HeldBackByRestart(CommandContext& ctx, uint32_t flags) {
  if (!(flags & kNx)) return false;
  if (ctx.caller() == CallerKind::kAofReplay || ctx.caller() == CallerKind::kMaster) return false;
  return ctx.services().locks.RestartDelayLeft(ctx.now_ms()) > 0;
}

// Redis's setGenericCommand, shared by SET, SETNX, SETEX and PSETEX.
void SetGeneric(CmdArgs args, CommandContext& ctx, uint32_t flags, std::string_view value,
                std::optional<std::string_view> expire, bool seconds, SetReply reply) {
  std::string_view key = args[1];
  Database& db = ctx.db();
  int64_t deadline = -1;
  if (expire) {
    Result<int64_t> ms = ExpireDeadline(*expire, seconds, (flags & (kEx | kPx)) != 0, ctx.now_ms());
    if (!ms) return SendExpireError(ms.status(), ctx);
    deadline = *ms;
  }
  if ((flags & kGet) && HeldBackByRestart(ctx, flags)) {
    // With GET a nil reply would say "was absent, now set": not an answer a lock may count.
    LockManager& locks = ctx.services().locks;
    return ctx.rb().SendError(
        errors::Restarting(locks.RestartDelayLeft(ctx.now_ms()), locks.DelayOption(ctx.now_ms())));
  }
  if (flags & kGet) {
    // The old value is the reply; it is sent before the write replaces it.
    Result<std::string_view> old = OpGet(db, key);
    if (old) {
      ctx.rb().SendBulk(*old);
    } else if (old.status() == OpStatus::kKeyNotFound) {
      ctx.rb().SendNull();
    } else {
      return ctx.SendStatus(old.status());
    }
  }
  if (HeldBackByRestart(ctx, flags) ||
      OpSet(db, key, value, flags, deadline) == OpStatus::kSkipped) {
    if (flags & kGet) return;
    if (reply == SetReply::kOneOrZero) return ctx.rb().SendLong(0);
    return ctx.rb().SendNull();
  }
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kString, "set", key, db);
  ctx.AddDirty();
  if (deadline >= 0) {
    ctx.Notify(notify::kGeneric, "expire", key, db);
    // Relative or not, the deadline travels as an absolute time so replicas and the AOF agree.
    ctx.Propagate({"SET", std::string(key), std::string(value), "PXAT", FormatInt64(deadline)});
  } else if (flags & kGet) {
    // GET means nothing to a replica: propagate the command without it.
    std::vector<std::string> rewritten;
    for (size_t i = 0; i < args.size(); i++) {
      if (i >= 3 && EqualsIgnoreCase(args[i], "get")) continue;
      rewritten.emplace_back(args[i]);
    }
    ctx.Propagate(std::move(rewritten));
  }
  if (flags & kGet) return;
  if (reply == SetReply::kOneOrZero) return ctx.rb().SendLong(1);
  ctx.rb().SendOk();
}

void CmdSet(CmdArgs args, CommandContext& ctx) {
  Result<ExtArgs> ext = ParseExtArgs(args, ExtCommand::kSet);
  if (!ext) return ctx.SendStatus(ext.status());
  bool seconds = (ext->flags & (kEx | kExAt)) != 0;
  SetGeneric(args, ctx, ext->flags, args[2], ext->expire, seconds, SetReply::kOkOrNull);
}

void CmdSetNx(CmdArgs args, CommandContext& ctx) {
  SetGeneric(args, ctx, kNx, args[2], std::nullopt, false, SetReply::kOneOrZero);
}

// SETEX key seconds value
void CmdSetEx(CmdArgs args, CommandContext& ctx) {
  SetGeneric(args, ctx, kEx, args[3], args[2], true, SetReply::kOkOrNull);
}

// PSETEX key milliseconds value
void CmdPSetEx(CmdArgs args, CommandContext& ctx) {
  SetGeneric(args, ctx, kPx, args[3], args[2], false, SetReply::kOkOrNull);
}

void CmdGetSet(CmdArgs args, CommandContext& ctx) {
  std::string_view key = args[1];
  Database& db = ctx.db();
  Result<std::string_view> old = OpGet(db, key);
  if (old) {
    ctx.rb().SendBulk(*old);
  } else if (old.status() == OpStatus::kKeyNotFound) {
    ctx.rb().SendNull();
  } else {
    return ctx.SendStatus(old.status());
  }
  OpSet(db, key, args[2], 0, -1);  // drops any deadline, as a plain SET does
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kString, "set", key, db);
  ctx.AddDirty();
  ctx.Propagate({"SET", std::string(key), std::string(args[2])});
}

void CmdGetDel(CmdArgs args, CommandContext& ctx) {
  std::string_view key = args[1];
  Database& db = ctx.db();
  Result<std::string_view> value = OpGet(db, key);
  if (!value) {
    if (value.status() == OpStatus::kKeyNotFound) return ctx.rb().SendNull();
    return ctx.SendStatus(value.status());
  }
  // The reply is copied out before the entry goes away.
  ctx.rb().SendBulk(*value);
  db.Delete(key);
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kGeneric, "del", key, db);
  ctx.AddDirty();
  ctx.Propagate({"DEL", std::string(key)});
}

// GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST]. Never propagated as itself: as
// PEXPIREAT, PERSIST or DEL, and not at all when nothing changed.
void CmdGetEx(CmdArgs args, CommandContext& ctx) {
  Result<ExtArgs> ext = ParseExtArgs(args, ExtCommand::kGetEx);
  if (!ext) return ctx.SendStatus(ext.status());
  std::string_view key = args[1];
  Database& db = ctx.db();
  Result<Entry*> found = db.FindTyped(key, ObjType::kString, LookupMode::kRead);
  if (!found) {
    if (found.status() == OpStatus::kKeyNotFound) return ctx.rb().SendNull();
    return ctx.SendStatus(found.status());
  }
  Entry* e = *found;
  // Unlike SET, the time is checked only once the key is known to exist.
  int64_t deadline = -1;
  if (ext->expire) {
    bool seconds = (ext->flags & (kEx | kExAt)) != 0;
    bool relative = (ext->flags & (kEx | kPx)) != 0;
    Result<int64_t> ms = ExpireDeadline(*ext->expire, seconds, relative, ctx.now_ms());
    if (!ms) return SendExpireError(ms.status(), ctx);
    deadline = *ms;
  }
  ctx.rb().SendBulk(e->string_value());

  if ((ext->flags & (kExAt | kPxAt)) && ctx.keyspace().AlreadyExpired(deadline)) {
    // An absolute time already in the past deletes the key (Redis's checkAlreadyExpired).
    db.Delete(key);
    ctx.Propagate({"DEL", std::string(key)});
    ctx.KeyModified(db, key);
    ctx.Notify(notify::kGeneric, "del", key, db);
    ctx.AddDirty();
  } else if (ext->expire) {
    db.SetExpire(e, deadline);
    ctx.Propagate({"PEXPIREAT", std::string(key), FormatInt64(deadline)});
    ctx.KeyModified(db, key);
    ctx.Notify(notify::kGeneric, "expire", key, db);
    ctx.AddDirty();
  } else if ((ext->flags & kPersist) && e->has_expire()) {
    db.SetExpire(e, -1);
    ctx.KeyModified(db, key);
    ctx.Propagate({"PERSIST", std::string(key)});
    ctx.Notify(notify::kGeneric, "persist", key, db);
    ctx.AddDirty();
  }
}

// ---------------------------------------------------------------------------------------------
// Several keys

void CmdMGet(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  ctx.rb().StartArray(args.size() - 1);
  for (size_t i = 1; i < args.size(); i++) {
    Entry* e = db.Find(args[i], LookupMode::kRead);
    // A key of another type reads as missing rather than failing the whole command.
    if (e == nullptr || e->type() != ObjType::kString) {
      ctx.rb().SendNull();
    } else {
      ctx.rb().SendBulk(e->string_value());
    }
  }
}

// MSET and MSETNX. MSETNX sets nothing (and answers 0) if any of the keys exists.
void MSetGeneric(CmdArgs args, CommandContext& ctx, bool nx) {
  if (args.size() % 2 == 0) return ctx.rb().SendError(errors::WrongArgs(ctx.cmd().full_name()));
  Database& db = ctx.db();
  if (nx) {
    for (size_t i = 1; i < args.size(); i += 2) {
      if (db.Find(args[i]) != nullptr) return ctx.rb().SendLong(0);
    }
  }
  for (size_t i = 1; i < args.size(); i += 2) {
    OpSet(db, args[i], args[i + 1], 0, -1);
    ctx.KeyModified(db, args[i]);
    ctx.Notify(notify::kString, "set", args[i], db);
  }
  ctx.AddDirty((args.size() - 1) / 2);
  if (nx) return ctx.rb().SendLong(1);
  ctx.rb().SendOk();
}

void CmdMSet(CmdArgs args, CommandContext& ctx) { MSetGeneric(args, ctx, false); }
void CmdMSetNx(CmdArgs args, CommandContext& ctx) { MSetGeneric(args, ctx, true); }

// ---------------------------------------------------------------------------------------------
// Editing and measuring strings

void CmdAppend(CmdArgs args, CommandContext& ctx) {
  std::string_view key = args[1];
  Database& db = ctx.db();
  Result<size_t> len = OpAppend(db, key, args[2], ctx);
  if (!len) return ctx.SendStatus(len.status());
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kString, "append", key, db);
  ctx.AddDirty();
  ctx.rb().SendLong(static_cast<int64_t>(*len));
}

void CmdSetRange(CmdArgs args, CommandContext& ctx) {
  int64_t offset;
  if (!ParseInt64(args[2], &offset)) return ctx.SendStatus(OpStatus::kNotAnInteger);
  if (offset < 0) return ctx.rb().SendError(errors::kOffsetOutOfRange);
  std::string_view key = args[1];
  Database& db = ctx.db();
  Result<size_t> len = OpSetRange(db, key, offset, args[3], ctx);
  if (!len) return ctx.SendStatus(len.status());
  if (!args[3].empty()) {
    ctx.KeyModified(db, key);
    ctx.Notify(notify::kString, "setrange", key, db);
    ctx.AddDirty();
  }
  ctx.rb().SendLong(static_cast<int64_t>(*len));
}

// GETRANGE and its old name SUBSTR: inclusive offsets, negative ones from the end.
void CmdGetRange(CmdArgs args, CommandContext& ctx) {
  int64_t start, end;
  if (!ParseInt64(args[2], &start) || !ParseInt64(args[3], &end)) {
    return ctx.SendStatus(OpStatus::kNotAnInteger);
  }
  Result<std::string_view> value = OpGet(ctx.db(), args[1]);
  if (!value) {
    if (value.status() == OpStatus::kKeyNotFound) return ctx.rb().SendBulk("");
    return ctx.SendStatus(value.status());
  }
  const int64_t len = static_cast<int64_t>(value->size());
  if (start < 0 && end < 0 && start > end) return ctx.rb().SendBulk("");
  if (start < 0) start += len;  // cannot overflow: start < 0 <= len
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (len == 0 || start > end) return ctx.rb().SendBulk("");
  ctx.rb().SendBulk(value->substr(start, end - start + 1));
}

void CmdStrLen(CmdArgs args, CommandContext& ctx) {
  Result<std::string_view> value = OpGet(ctx.db(), args[1]);
  if (value) return ctx.rb().SendLong(static_cast<int64_t>(value->size()));
  if (value.status() == OpStatus::kKeyNotFound) return ctx.rb().SendLong(0);
  ctx.SendStatus(value.status());
}

// ---------------------------------------------------------------------------------------------
// Counters

void IncrDecr(CmdArgs args, CommandContext& ctx, int64_t incr) {
  std::string_view key = args[1];
  Database& db = ctx.db();
  Result<int64_t> value = OpIncrBy(db, key, incr);
  if (!value) return ctx.SendStatus(value.status());
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kString, "incrby", key, db);
  ctx.AddDirty();
  ctx.rb().SendLong(*value);
}

void CmdIncr(CmdArgs args, CommandContext& ctx) { IncrDecr(args, ctx, 1); }
void CmdDecr(CmdArgs args, CommandContext& ctx) { IncrDecr(args, ctx, -1); }

void CmdIncrBy(CmdArgs args, CommandContext& ctx) {
  int64_t incr;
  if (!ParseInt64(args[2], &incr)) return ctx.SendStatus(OpStatus::kNotAnInteger);
  IncrDecr(args, ctx, incr);
}

void CmdDecrBy(CmdArgs args, CommandContext& ctx) {
  int64_t decr;
  if (!ParseInt64(args[2], &decr)) return ctx.SendStatus(OpStatus::kNotAnInteger);
  // Negating INT64_MIN would overflow before the usual overflow check could see it.
  if (decr == kInt64Min) return ctx.rb().SendError(errors::kDecrementOverflow);
  IncrDecr(args, ctx, -decr);
}

void CmdIncrByFloat(CmdArgs args, CommandContext& ctx) {
  std::string_view key = args[1];
  Database& db = ctx.db();
  Result<std::string> value = OpIncrByFloat(db, key, args[2]);
  if (!value) return ctx.SendStatus(value.status());
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kString, "incrbyfloat", key, db);
  ctx.AddDirty();
  ctx.rb().SendBulk(*value);
  // Replicas get the result, not the increment, so float precision and formatting cannot make
  // them diverge; KEEPTTL because INCRBYFLOAT keeps the deadline.
  ctx.Propagate({"SET", std::string(key), std::move(*value), "KEEPTTL"});
}

// ---------------------------------------------------------------------------------------------
// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]

struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
};

void CmdLcs(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  // Both keys are looked up (and counted as hits or misses) before the options are parsed.
  Entry* ea = db.Find(args[1], LookupMode::kRead);
  Entry* eb = db.Find(args[2], LookupMode::kRead);
  if ((ea != nullptr && ea->type() != ObjType::kString) ||
      (eb != nullptr && eb->type() != ObjType::kString)) {
    return ctx.rb().SendError(errors::kLcsNotStrings);
  }
  // A missing key is an empty string. The views stay valid: nothing below writes.
  std::string_view a = ea != nullptr ? ea->string_value() : std::string_view();
  std::string_view b = eb != nullptr ? eb->string_value() : std::string_view();

  bool get_len = false, get_idx = false, with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t i = 3; i < args.size(); i++) {
    if (EqualsIgnoreCase(args[i], "idx")) {
      get_idx = true;
    } else if (EqualsIgnoreCase(args[i], "len")) {
      get_len = true;
    } else if (EqualsIgnoreCase(args[i], "withmatchlen")) {
      with_match_len = true;
    } else if (EqualsIgnoreCase(args[i], "minmatchlen") && i + 1 < args.size()) {
      if (!ParseInt64(args[i + 1], &min_match_len)) {
        return ctx.SendStatus(OpStatus::kNotAnInteger);
      }
      if (min_match_len < 0) min_match_len = 0;
      i++;
    } else {
      return ctx.SendStatus(OpStatus::kSyntaxError);
    }
  }
  if (get_idx && get_len) return ctx.rb().SendError(errors::kLcsLenAndIdx);
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    return ctx.rb().SendError(errors::kLcsTooLong);
  }

  // The classic dynamic programming table: lcs[i][j] is the LCS length of a[0..i) and b[0..j).
  const uint32_t alen = static_cast<uint32_t>(a.size());
  const uint32_t blen = static_cast<uint32_t>(b.size());
  const uint64_t cells = static_cast<uint64_t>(alen + 1) * (blen + 1);
  const uint64_t bytes = cells * sizeof(uint32_t);
  // Redis bounds the transient table by proto-max-bulk-len rather than risk exhausting memory.
  if (bytes > static_cast<uint64_t>(ctx.settings().proto_max_bulk_len)) {
    return ctx.rb().SendError(errors::kLcsMemoryLimit);
  }
  std::unique_ptr<uint32_t[]> table(new (std::nothrow) uint32_t[cells]);
  if (!table) return ctx.rb().SendError(errors::kLcsAllocFailed);
  auto lcs = [&](uint32_t i, uint32_t j) -> uint32_t& { return table[j + i * (blen + 1)]; };
  for (uint32_t i = 0; i <= alen; i++) {
    for (uint32_t j = 0; j <= blen; j++) {
      if (i == 0 || j == 0) {
        lcs(i, j) = 0;
      } else if (a[i - 1] == b[j - 1]) {
        lcs(i, j) = lcs(i - 1, j - 1) + 1;
      } else {
        lcs(i, j) = std::max(lcs(i - 1, j), lcs(i, j - 1));
      }
    }
  }
  const uint32_t total = lcs(alen, blen);
  if (get_len) return ctx.rb().SendLong(total);

  // Walk back from the end, building the common string and, for IDX, the contiguous ranges
  // (emitted in the order found: from the end of the strings towards the start).
  std::string result(total, '\0');
  std::vector<LcsMatch> matches;
  uint32_t idx = total;
  uint32_t a_start = alen, a_end = 0, b_start = 0, b_end = 0;  // a_start == alen: no range
  uint32_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      result[idx - 1] = a[i - 1];
      if (a_start == alen) {
        a_start = a_end = i - 1;
        b_start = b_end = j - 1;
      } else if (a_start == i && b_start == j) {
        a_start--;  // the range extends backwards
        b_start--;
      } else {
        emit = true;
      }
      if (a_start == 0 || b_start == 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (lcs(i - 1, j) > lcs(i, j - 1)) {
        i--;
      } else {
        j--;
      }
      if (a_start != alen) emit = true;
    }
    if (emit) {
      uint32_t match_len = a_end - a_start + 1;
      if (get_idx && (min_match_len == 0 || match_len >= min_match_len)) {
        matches.push_back({a_start, a_end, b_start, b_end});
      }
      a_start = alen;
    }
  }
  if (!get_idx) return ctx.rb().SendBulk(result);

  ReplyBuilder& rb = ctx.rb();
  rb.StartMap(2);
  rb.SendBulk("matches");
  rb.StartArray(matches.size());
  for (const LcsMatch& m : matches) {
    rb.StartArray(with_match_len ? 3 : 2);
    rb.StartArray(2);
    rb.SendLong(m.a_start);
    rb.SendLong(m.a_end);
    rb.StartArray(2);
    rb.SendLong(m.b_start);
    rb.SendLong(m.b_end);
    if (with_match_len) rb.SendLong(m.a_end - m.a_start + 1);
  }
  rb.SendBulk("len");
  rb.SendLong(total);
}

}  // namespace

void RegisterStringFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint64_t kStr = Acl::kString;
  constexpr std::string_view kRangeComplexity =
      "O(N) where N is the length of the returned string. The complexity is ultimately "
      "determined by the returned length, but because creating a substring from an existing "
      "string is very cheap, it can be considered O(1) for small strings.";
  // clang-format off
  r << CommandSpec{"get", 2, kRO | kF, 1, 1, 1, kStr, CmdGet,
                   {"Get the value of a key", "1.0.0", "string", "O(1)", "key"}}
    << CommandSpec{"set", -3, kWD, 1, 1, 1, kStr, CmdSet,
                   {"Set the string value of a key", "1.0.0", "string", "O(1)",
                    "key value [NX|XX] [GET] [EX seconds|PX milliseconds|"
                    "EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]"}}
    << CommandSpec{"setnx", 3, kWD | kF, 1, 1, 1, kStr, CmdSetNx,
                   {"Set the value of a key, only if the key does not exist", "1.0.0", "string",
                    "O(1)", "key value"}}
    << CommandSpec{"setex", 4, kWD, 1, 1, 1, kStr, CmdSetEx,
                   {"Set the value and expiration of a key", "2.0.0", "string", "O(1)",
                    "key seconds value"}}
    << CommandSpec{"psetex", 4, kWD, 1, 1, 1, kStr, CmdPSetEx,
                   {"Set the value and expiration in milliseconds of a key", "2.6.0", "string",
                    "O(1)", "key milliseconds value"}}
    << CommandSpec{"getset", 3, kWD | kF, 1, 1, 1, kStr, CmdGetSet,
                   {"Set the string value of a key and return its old value", "1.0.0", "string",
                    "O(1)", "key value"}}
    << CommandSpec{"getdel", 2, kW | kF, 1, 1, 1, kStr, CmdGetDel,
                   {"Get the value of a key and delete the key", "6.2.0", "string", "O(1)",
                    "key"}}
    << CommandSpec{"getex", -2, kW | kF, 1, 1, 1, kStr, CmdGetEx,
                   {"Get the value of a key and optionally set its expiration", "6.2.0", "string",
                    "O(1)",
                    "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
                    "PXAT unix-time-milliseconds|PERSIST]"}}
    << CommandSpec{"mget", -2, kRO | kF, 1, -1, 1, kStr, CmdMGet,
                   {"Get the values of all the given keys", "1.0.0", "string",
                    "O(N) where N is the number of keys to retrieve.", "key [key ...]"}}
    << CommandSpec{"mset", -3, kWD, 1, -1, 2, kStr, CmdMSet,
                   {"Set multiple keys to multiple values", "1.0.1", "string",
                    "O(N) where N is the number of keys to set.", "key value [key value ...]"}}
    << CommandSpec{"msetnx", -3, kWD, 1, -1, 2, kStr, CmdMSetNx,
                   {"Set multiple keys to multiple values, only if none of the keys exist",
                    "1.0.1", "string", "O(N) where N is the number of keys to set.",
                    "key value [key value ...]"}}
    << CommandSpec{"append", 3, kWD | kF, 1, 1, 1, kStr, CmdAppend,
                   {"Append a value to a key", "2.0.0", "string",
                    "O(1). The amortized time complexity is O(1) assuming the appended value is "
                    "small and the already present value is of any size, since the dynamic "
                    "string library used by Redis will double the free space available on every "
                    "reallocation.",
                    "key value"}}
    << CommandSpec{"strlen", 2, kRO | kF, 1, 1, 1, kStr, CmdStrLen,
                   {"Get the length of the value stored in a key", "2.2.0", "string", "O(1)",
                    "key"}}
    << CommandSpec{"incr", 2, kWD | kF, 1, 1, 1, kStr, CmdIncr,
                   {"Increment the integer value of a key by one", "1.0.0", "string", "O(1)",
                    "key"}}
    << CommandSpec{"decr", 2, kWD | kF, 1, 1, 1, kStr, CmdDecr,
                   {"Decrement the integer value of a key by one", "1.0.0", "string", "O(1)",
                    "key"}}
    << CommandSpec{"incrby", 3, kWD | kF, 1, 1, 1, kStr, CmdIncrBy,
                   {"Increment the integer value of a key by the given amount", "1.0.0",
                    "string", "O(1)", "key increment"}}
    << CommandSpec{"decrby", 3, kWD | kF, 1, 1, 1, kStr, CmdDecrBy,
                   {"Decrement the integer value of a key by the given number", "1.0.0",
                    "string", "O(1)", "key decrement"}}
    << CommandSpec{"incrbyfloat", 3, kWD | kF, 1, 1, 1, kStr, CmdIncrByFloat,
                   {"Increment the float value of a key by the given amount", "2.6.0", "string",
                    "O(1)", "key increment"}}
    << CommandSpec{"getrange", 4, kRO, 1, 1, 1, kStr, CmdGetRange,
                   {"Get a substring of the string stored at a key", "2.4.0", "string",
                    kRangeComplexity, "key start end"}}
    << CommandSpec{"setrange", 4, kWD, 1, 1, 1, kStr, CmdSetRange,
                   {"Overwrite part of a string at key starting at the specified offset", "2.2.0",
                    "string",
                    "O(1), not counting the time taken to copy the new string in place. Usually, "
                    "this string is very small so the amortized complexity is O(1). Otherwise, "
                    "complexity is O(M) with M being the length of the value argument.",
                    "key offset value"}}
    << CommandSpec{"substr", 4, kRO, 1, 1, 1, kStr, CmdGetRange,
                   {"Get a substring of the string stored at a key", "1.0.0", "string",
                    kRangeComplexity, "key start end"}}
    << CommandSpec{"lcs", -3, kRO, 1, 2, 1, kStr, CmdLcs,
                   {"Find longest common substring", "7.0.0", "string",
                    "O(N*M) where N and M are the lengths of s1 and s2, respectively",
                    "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]"}};
  // clang-format on
}

}  // namespace keyward
