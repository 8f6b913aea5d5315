// DUMP and RESTORE: a key's value in Redis's serialised form and back (cluster.c's dumpCommand,
// restoreCommand, createDumpPayload and verifyDumpPayload).
//
// A payload is the value's RDB type byte, its RDB encoding (Value::Serialise; rdb::AppendString
// for strings), then the RDB version (2 bytes) and a CRC64 of everything before it (8 bytes), as
// Redis 7.0 writes them, so payloads move between Keyward and Redis either way. The decoding side
// is keyspace/value_decode.*: every type Keyward has, in every RDB encoding Redis 7.0 reads.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/value_decode.h"
#include "server/persistence/rdb_codec.h"
#include "server/storage/rdb_format.h"

namespace keyward {

namespace {

// Redis's LRU clock: seconds, 24 bits (LRU_CLOCK_MAX), as Entry::lru holds it.
constexpr int64_t kLruClockMax = (1 << 24) - 1;

// An LFU maxmemory-policy keeps Redis's LFU data in the LRU bits (OBJECT FREQ's layout).
bool LfuPolicy(CommandContext& ctx) {
  std::optional<std::string> policy = ctx.services().config.GetValue("maxmemory-policy");
  return policy && policy->find("lfu") != std::string::npos;
}

// --- DUMP -------------------------------------------------------------------------------------

// createDumpPayload: type byte, value, version and checksum.
std::string OpDump(const Entry& e, bool compress) {
  std::string payload;
  rdb::AppendValue(payload, e, compress);
  rdb::AppendPayloadFooter(payload);
  return payload;
}

// DUMP key: a read lookup (it counts a hit or a miss and touches the key).
void CmdDump(CmdArgs args, CommandContext& ctx) {
  Entry* e = ctx.db().Find(args[1], LookupMode::kRead);
  if (e == nullptr) return ctx.rb().SendNull();
  ctx.rb().SendBulk(OpDump(*e, ctx.services().settings.rdbcompression));
}

// --- RESTORE ----------------------------------------------------------------------------------

struct RestoreOptions {
  bool replace = false;
  bool absttl = false;
  int64_t idle_seconds = -1;  // IDLETIME; -1: not given
  int64_t freq = -1;          // FREQ; -1: not given
};

// The options after the payload, in restoreCommand's order of checks: IDLETIME and FREQ exclude
// each other (the second is a syntax error), and a bad number is reported as soon as it is met.
bool ParseRestoreOptions(CmdArgs args, CommandContext& ctx, RestoreOptions* opts) {
  for (size_t j = 4; j < args.size(); j++) {
    const size_t additional = args.size() - j - 1;
    if (EqualsIgnoreCase(args[j], "replace")) {
      opts->replace = true;
    } else if (EqualsIgnoreCase(args[j], "absttl")) {
      opts->absttl = true;
    } else if (EqualsIgnoreCase(args[j], "idletime") && additional >= 1 && opts->freq == -1) {
      if (!ParseInt64(args[j + 1], &opts->idle_seconds)) {
        ctx.rb().SendError(errors::kNotInteger);
        return false;
      }
      if (opts->idle_seconds < 0) {
        ctx.rb().SendError(errors::kInvalidIdleTime);
        return false;
      }
      j++;
    } else if (EqualsIgnoreCase(args[j], "freq") && additional >= 1 && opts->idle_seconds == -1) {
      if (!ParseInt64(args[j + 1], &opts->freq)) {
        ctx.rb().SendError(errors::kNotInteger);
        return false;
      }
      if (opts->freq < 0 || opts->freq > 255) {
        ctx.rb().SendError(errors::kInvalidFreq);
        return false;
      }
      j++;
    } else {
      ctx.rb().SendError(errors::kSyntax);
      return false;
    }
  }
  return true;
}

// objectSetLRUOrLFU: under an LFU policy FREQ sets the counter (with the current time in minutes
// as its decrement time); otherwise IDLETIME dates the last access `idle` seconds back. The
// arithmetic is Redis's, wrap-arounds included: an idle time past the 24-bit clock wraps as it
// does there (and one too large to scale by 1000 wraps too), so OBJECT IDLETIME agrees.
void SetLruOrLfu(Entry* e, const RestoreOptions& opts, bool lfu_policy, int64_t now_ms) {
  if (lfu_policy) {
    if (opts.freq < 0) return;
    const int64_t minutes = (now_ms / 1000 / 60) & 0xFFFF;
    e->set_lru(static_cast<uint32_t>((minutes << 8) | opts.freq));
    return;
  }
  if (opts.idle_seconds < 0) return;
  const int64_t lru_clock = (now_ms / 1000) & kLruClockMax;
  // lru_idle * 1000 / LRU_CLOCK_RESOLUTION, in Redis's wrapping 64-bit arithmetic.
  const auto scaled = static_cast<int64_t>(static_cast<uint64_t>(opts.idle_seconds) * 1000u);
  int64_t lru_abs = lru_clock - scaled / 1000;
  if (lru_abs < 0) lru_abs += kLruClockMax;
  // The 24-bit field keeps the low bits of whatever the sum is.
  e->set_lru(static_cast<uint32_t>(static_cast<uint64_t>(lru_abs) & kLruClockMax));
}

// What RESTORE did to the keyspace.
enum class RestoreResult {
  kAdded,          // the key holds the value
  kExpiredNoop,    // the deadline had passed and there was nothing to delete
  kExpiredDeleted  // the deadline had passed; REPLACE deleted the old key
};

// The write itself, once everything is validated: the old key goes (REPLACE), then the new one
// is added unless its deadline (`when`, absolute; 0: none) has passed already.
RestoreResult OpRestore(Keyspace& keyspace, Database& db, std::string_view key, DecodedValue value,
                        int64_t when, bool replace, Entry** added) {
  // dbDelete, without a lookup: a key that expired but is still stored goes too.
  const bool deleted = replace && db.Delete(key);
  if (when != 0 && keyspace.AlreadyExpired(when)) {
    return deleted ? RestoreResult::kExpiredDeleted : RestoreResult::kExpiredNoop;
  }
  const int64_t expire_ms = when != 0 ? when : -1;
  Entry* e;
  if (auto* s = std::get_if<std::string>(&value)) {
    e = Entry::NewString(key, *s, expire_ms);
  } else {
    e = Entry::NewValue(key, std::move(std::get<std::unique_ptr<Value>>(value)), expire_ms);
  }
  db.Add(e);
  *added = e;
  return RestoreResult::kAdded;
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
void CmdRestore(CmdArgs args, CommandContext& ctx) {
  RestoreOptions opts;
  if (!ParseRestoreOptions(args, ctx, &opts)) return;

  Database& db = ctx.db();
  const std::string_view key = args[1];
  // Checked before the TTL and the payload, as in Redis.
  if (!opts.replace && db.Find(key) != nullptr) return ctx.rb().SendError(errors::kBusyKey);
  int64_t ttl;
  if (!ParseInt64(args[2], &ttl)) return ctx.rb().SendError(errors::kNotInteger);
  if (ttl < 0) return ctx.rb().SendError(errors::kInvalidTtl);

  if (!rdb::VerifyPayload(args[3])) return ctx.rb().SendError(errors::kBadPayload);
  // The value is read from the whole argument, footer included, as Redis reads it (its rio
  // covers the whole buffer): a value that ends early leaves bytes unread, and one that runs
  // into the footer reads those bytes as its own. Either way nothing past the argument is read.
  rdb::Reader in(args[3]);
  std::optional<uint8_t> type = in.Byte();
  std::optional<DecodedValue> value;
  if (type) value = DecodeValue(*type, in, ctx.settings());
  if (!value) return ctx.rb().SendError(errors::kBadDataFormat);

  // A relative TTL becomes a deadline. Redis adds in wrapping 64-bit arithmetic: a TTL so large
  // that the sum wraps negative reads as a deadline long past.
  int64_t when = ttl;
  if (ttl != 0 && !opts.absttl) {
    when = static_cast<int64_t>(static_cast<uint64_t>(ttl) + static_cast<uint64_t>(ctx.now_ms()));
  }

  Entry* e = nullptr;
  switch (OpRestore(ctx.keyspace(), db, key, std::move(*value), when, opts.replace, &e)) {
    case RestoreResult::kExpiredNoop:
      // Nothing changed: nothing is counted or propagated.
      return ctx.rb().SendOk();
    case RestoreResult::kExpiredDeleted:
      // The old value is gone and the new one was never there: replicas and the AOF get a DEL.
      ctx.Propagate({"DEL", key});
      ctx.KeyModified(db, key);
      ctx.Notify(notify::kGeneric, "del", key, db);
      ctx.AddDirty();
      return ctx.rb().SendOk();
    case RestoreResult::kAdded:
      break;
  }
  if (ttl != 0 && !opts.absttl) {
    // Propagated with the absolute deadline (the TTL argument rewritten, ABSTTL appended), so a
    // replica or an AOF replay sets the same deadline whenever it runs.
    Argv propagated(args.begin(), args.end());
    propagated[2] = std::to_string(when);
    propagated.emplace_back("ABSTTL");
    ctx.Propagate(std::move(propagated));
  }
  SetLruOrLfu(e, opts, LfuPolicy(ctx), ctx.now_ms());
  ctx.KeyModified(db, key);
  ctx.Notify(notify::kGeneric, "restore", key, db);
  ctx.rb().SendOk();
  ctx.AddDirty();
}

}  // namespace

void RegisterDumpFamily(CommandRegistry& r) {
  // clang-format off
  r << CommandSpec{"dump", 2, CO::kReadOnly, 1, 1, 1, Acl::kKeyspace, CmdDump,
                   {"Return a serialized version of the value stored at the specified key.",
                    "2.6.0", "generic",
                    "O(1) to access the key and additional O(N*M) to serialize it, where N is the "
                    "number of Redis objects composing the value and M their average size. For "
                    "small string values the time complexity is thus O(1)+O(1*M) where M is "
                    "small, so simply O(1).",
                    "key"}}
    << CommandSpec{"restore", -4, CO::kWrite | CO::kDenyOom, 1, 1, 1,
                   Acl::kKeyspace | Acl::kDangerous, CmdRestore,
                   {"Create a key using the provided serialized value, previously obtained using "
                    "DUMP.",
                    "2.6.0", "generic",
                    "O(1) to create the new key and additional O(N*M) to reconstruct the "
                    "serialized value, where N is the number of Redis objects composing the value "
                    "and M their average size. For small string values the time complexity is "
                    "thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set "
                    "values the complexity is O(N*M*log(N)) because inserting values into sorted "
                    "sets is O(log(N)).",
                    "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] "
                    "[FREQ frequency]"}};
  // clang-format on
}

}  // namespace keyward
