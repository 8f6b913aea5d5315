// Key expiry: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX/XX/GT/LT), EXPIRETIME, PEXPIRETIME,
// TTL, PTTL, PERSIST. Semantics, replies and error texts follow Redis 7.0 (expire.c).
//
// Deadlines are absolute unix milliseconds judged against the command-time snapshot
// (ctx.now_ms()), never the system clock, so one command sees one fixed time.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// The conditions of EXPIRE's optional arguments.
enum ExpireFlag : uint32_t { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// Redis's parseExtendedExpireArgumentsOrReply. Options are checked before the time argument, so
// EXPIRE k abc FOO is an option error. An option may be repeated.
bool ParseExpireFlags(CmdArgs args, CommandContext& ctx, uint32_t* flags) {
  for (size_t i = 3; i < args.size(); i++) {
    if (EqualsIgnoreCase(args[i], "nx")) {
      *flags |= kNx;
    } else if (EqualsIgnoreCase(args[i], "xx")) {
      *flags |= kXx;
    } else if (EqualsIgnoreCase(args[i], "gt")) {
      *flags |= kGt;
    } else if (EqualsIgnoreCase(args[i], "lt")) {
      *flags |= kLt;
    } else {
      // addReplyErrorFormat turns CR and LF of the echoed option into spaces.
      ctx.rb().SendError(errors::UnsupportedOption(args[i]));
      return false;
    }
  }
  if ((*flags & kNx) && (*flags & (kXx | kGt | kLt))) {
    ctx.rb().SendError(errors::kMultipleModes);
    return false;
  }
  if ((*flags & kGt) && (*flags & kLt)) {
    ctx.rb().SendError(errors::kGtLtNx);
    return false;
  }
  return true;
}

enum class ExpireResult {
  kSkipped,  // no key, or NX/XX/GT/LT not met: reply 0
  kSet,      // deadline stored
  kDeleted,  // the deadline had passed: the key was deleted
};

// Whether the NX/XX/GT/LT conditions let a deadline `when` replace `current` (-1: none, which
// GT treats as infinite and LT as later than anything).
bool ConditionsMet(uint32_t flags, int64_t current, int64_t when) {
  if ((flags & kNx) && current != -1) return false;
  if ((flags & kXx) && current == -1) return false;
  if ((flags & kGt) && (current == -1 || when <= current)) return false;
  if ((flags & kLt) && current != -1 && when >= current) return false;
  return true;
}

// A past deadline deletes the key, unless `already_expired` is false (a replica, or the stream
// being applied: keys are deleted only by the stream's DEL, so the deadline is stored and the key
// waits, logically expired, for it; Redis's checkAlreadyExpired).
ExpireResult OpExpire(Database& db, std::string_view key, int64_t when, uint32_t flags,
                      bool already_expired) {
  Entry* e = db.Find(key);
  if (e == nullptr) return ExpireResult::kSkipped;
  if (!ConditionsMet(flags, e->expire_ms(), when)) return ExpireResult::kSkipped;
  if (already_expired) {
    db.Delete(key);
    return ExpireResult::kDeleted;
  }
  // Entries use -1 for "no deadline": a negative deadline (EXPIREAT in the distant past, on a
  // replica) is stored as 0, which is just as expired.
  db.SetExpire(e, when < 0 ? 0 : when);
  return ExpireResult::kSet;
}

// EXPIRE/PEXPIRE (basetime = now) and EXPIREAT/PEXPIREAT (basetime = 0).
void ExpireGeneric(CmdArgs args, CommandContext& ctx, int64_t basetime, bool seconds) {
  uint32_t flags = 0;
  if (!ParseExpireFlags(args, ctx, &flags)) return;
  int64_t when;
  if (!ParseInt64(args[2], &when)) return ctx.rb().SendError(errors::kNotInteger);
  // Negative times are allowed (they delete the key); only overflow is an error.
  if (seconds) {
    if (when > kInt64Max / 1000 || when < kInt64Min / 1000) {
      return ctx.rb().SendError(errors::InvalidExpireTime(ctx.cmd().full_name()));
    }
    when *= 1000;
  }
  if (when > kInt64Max - basetime) {
    return ctx.rb().SendError(errors::InvalidExpireTime(ctx.cmd().full_name()));
  }
  when += basetime;

  Database& db = ctx.db();
  std::string_view key = args[1];
  switch (OpExpire(db, key, when, flags, ctx.keyspace().AlreadyExpired(when))) {
    case ExpireResult::kSkipped:
      return ctx.rb().SendLong(0);
    case ExpireResult::kDeleted:
      // Replicas and the AOF must not replay a relative or past deadline: they get the DEL.
      ctx.Propagate({"DEL", std::string(key)});
      ctx.KeyModified(db, key);
      ctx.Notify(notify::kGeneric, "del", key, db);
      ctx.AddDirty();
      return ctx.rb().SendLong(1);
    case ExpireResult::kSet:
      break;
  }
  // Propagated as PEXPIREAT with the absolute deadline, keeping the NX/XX/GT/LT arguments (a
  // replica re-checks them against the same state).
  std::vector<std::string> propagated(args.begin(), args.end());
  if (!EqualsIgnoreCase(args[0], "pexpireat")) propagated[0] = "PEXPIREAT";
  if (basetime != 0 || seconds) propagated[2] = std::to_string(when);
  ctx.Propagate(std::move(propagated));
  // Redis replies before it notifies here (unlike most commands): a RESP3 client subscribed to
  // its own key's events sees :1 before the pushes.
  ctx.rb().SendLong(1);
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kGeneric, "expire", key, db);
  ctx.AddDirty();
}

// EXPIRE key seconds [NX|XX|GT|LT]
void CmdExpire(CmdArgs args, CommandContext& ctx) { ExpireGeneric(args, ctx, ctx.now_ms(), true); }

// PEXPIRE key milliseconds [NX|XX|GT|LT]
void CmdPExpire(CmdArgs args, CommandContext& ctx) {
  ExpireGeneric(args, ctx, ctx.now_ms(), false);
}

// EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
void CmdExpireAt(CmdArgs args, CommandContext& ctx) { ExpireGeneric(args, ctx, 0, true); }

// PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
void CmdPExpireAt(CmdArgs args, CommandContext& ctx) { ExpireGeneric(args, ctx, 0, false); }

// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 when the key does not exist, -1 when it has no
// deadline. Seconds are rounded to the nearest (Redis's (ttl+500)/1000).
void TtlGeneric(CmdArgs args, CommandContext& ctx, bool ms, bool absolute) {
  Database& db = ctx.db();
  // A read that counts keyspace hits/misses but does not touch the key (LOOKUP_NOTOUCH).
  Entry* e = db.Find(args[1], LookupMode::kReadNoTouch);
  if (e == nullptr) return ctx.rb().SendLong(-2);
  int64_t expire = e->expire_ms();
  if (expire == -1) return ctx.rb().SendLong(-1);
  int64_t ttl = absolute ? expire : expire - ctx.now_ms();
  if (ttl < 0) ttl = 0;
  // ttl / 1000 + the rounding of the remainder: (ttl + 500) / 1000 without overflow near 2^63.
  ctx.rb().SendLong(ms ? ttl : ttl / 1000 + (ttl % 1000 + 500) / 1000);
}

// TTL key
void CmdTtl(CmdArgs args, CommandContext& ctx) { TtlGeneric(args, ctx, false, false); }

// PTTL key
void CmdPTtl(CmdArgs args, CommandContext& ctx) { TtlGeneric(args, ctx, true, false); }

// EXPIRETIME key
void CmdExpireTime(CmdArgs args, CommandContext& ctx) { TtlGeneric(args, ctx, false, true); }

// PEXPIRETIME key
void CmdPExpireTime(CmdArgs args, CommandContext& ctx) { TtlGeneric(args, ctx, true, true); }

// PERSIST key: 1 when a deadline was removed.
bool OpPersist(Database& db, std::string_view key) {
  Entry* e = db.Find(key);
  if (e == nullptr || !e->has_expire()) return false;
  db.SetExpire(e, -1);
  return true;
}

void CmdPersist(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  if (!OpPersist(db, args[1])) return ctx.rb().SendLong(0);
  ctx.KeyModified(db, args[1]);
  ctx.Notify(notify::kGeneric, "persist", args[1], db);
  ctx.AddDirty();
  ctx.rb().SendLong(1);
}

}  // namespace

void RegisterExpireFamily(CommandRegistry& r) {
  constexpr uint32_t kWriteFast = CO::kWrite | CO::kFast;
  constexpr uint32_t kReadFast = CO::kReadOnly | CO::kFast;
  constexpr uint64_t kKs = Acl::kKeyspace;
  // clang-format off
  r << CommandSpec{"expire", -3, kWriteFast, 1, 1, 1, kKs, CmdExpire,
                   {"Set a key's time to live in seconds", "1.0.0", "generic", "O(1)",
                    "key seconds [NX|XX|GT|LT]"}}
    << CommandSpec{"pexpire", -3, kWriteFast, 1, 1, 1, kKs, CmdPExpire,
                   {"Set a key's time to live in milliseconds", "2.6.0", "generic", "O(1)",
                    "key milliseconds [NX|XX|GT|LT]"}}
    << CommandSpec{"expireat", -3, kWriteFast, 1, 1, 1, kKs, CmdExpireAt,
                   {"Set the expiration for a key as a UNIX timestamp", "1.2.0", "generic", "O(1)",
                    "key unix-time-seconds [NX|XX|GT|LT]"}}
    << CommandSpec{"pexpireat", -3, kWriteFast, 1, 1, 1, kKs, CmdPExpireAt,
                   {"Set the expiration for a key as a UNIX timestamp specified in milliseconds",
                    "2.6.0", "generic", "O(1)", "key unix-time-milliseconds [NX|XX|GT|LT]"}}
    << CommandSpec{"expiretime", 2, kReadFast, 1, 1, 1, kKs, CmdExpireTime,
                   {"Get the expiration Unix timestamp for a key", "7.0.0", "generic", "O(1)",
                    "key"}}
    << CommandSpec{"pexpiretime", 2, kReadFast, 1, 1, 1, kKs, CmdPExpireTime,
                   {"Get the expiration Unix timestamp for a key in milliseconds", "7.0.0",
                    "generic", "O(1)", "key"}}
    << CommandSpec{"ttl", 2, kReadFast, 1, 1, 1, kKs, CmdTtl,
                   {"Get the time to live for a key in seconds", "1.0.0", "generic", "O(1)",
                    "key"}}
    << CommandSpec{"pttl", 2, kReadFast, 1, 1, 1, kKs, CmdPTtl,
                   {"Get the time to live for a key in milliseconds", "2.6.0", "generic", "O(1)",
                    "key"}}
    << CommandSpec{"persist", 2, kWriteFast, 1, 1, 1, kKs, CmdPersist,
                   {"Remove the expiration from a key", "2.2.0", "generic", "O(1)", "key"}};
  // clang-format on
}

}  // namespace keyward
