// Set commands: SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SMOVE SINTER
// SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE SSCAN.
// Semantics, replies, error texts, notifications and propagation follow Redis 7.0 (t_set.c):
// every key is type-checked (sources of SINTER and friends included), an emptied set is deleted
// with a "del" event, a *STORE whose result is empty deletes its destination, and SPOP
// propagates as the SREMs (or the DEL) that replay it deterministically.
//
// The algorithms are Redis's own, not only their results, because the encoding a result gets
// depends on them: SINTERSTORE/SUNIONSTORE/SDIFFSTORE build their result from an empty intset
// in the order Redis visits members, and SPOP with a count that leaves few members rebuilds
// the set from the survivors (which may turn a hashtable back into an intset).
#include <algorithm>
#include <memory>
#include <optional>
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
#include "server/keyspace/set_value.h"

namespace keyward {

namespace {

SetValue* AsSet(Entry* e) { return e->value_as<SetValue>(); }

uint64_t MaxIntsetEntries(CommandContext& ctx) {
  int64_t n = ctx.settings().set_max_intset_entries;
  return n < 0 ? 0 : static_cast<uint64_t>(n);
}

uint64_t ServerRandom(void* state) { return (*static_cast<std::mt19937_64*>(state))(); }

SetMember RandomMember(CommandContext& ctx, SetValue* set) {
  return set->Random(ServerRandom, &ctx.services().rng);
}

// The key's set, nullptr when absent; false (WRONGTYPE sent) when it holds another type.
bool LookupSet(CommandContext& ctx, std::string_view key, LookupMode mode, SetValue** out) {
  Entry* e = ctx.db().Find(key, mode);
  *out = nullptr;
  if (e == nullptr) return true;
  if (e->type() != ObjType::kSet) {
    ctx.rb().SendError(errors::kWrongType);
    return false;
  }
  *out = AsSet(e);
  return true;
}

SetValue* AddSet(Database& db, std::string_view key, std::unique_ptr<SetValue> set) {
  Entry* e = Entry::NewValue(key, std::move(set));
  db.Add(e);
  return AsSet(e);
}

void SendMember(ReplyBuilder& rb, const SetMember& m) {
  if (m.is_int) {
    char buf[21];
    rb.SendBulk(m.View(buf));
  } else {
    rb.SendBulk(m.str);
  }
}

// Every member, as a set reply (RESP3 '~').
void SendSet(ReplyBuilder& rb, const SetValue& set) {
  rb.StartSet(set.size());
  set.ForEach([&rb](const SetMember& m) { SendMember(rb, m); });
}

// Deletes the key of a set that was emptied, with its "del" event.
void DeleteIfEmpty(CommandContext& ctx, Database& db, std::string_view key, const SetValue* set) {
  if (!set->empty()) return;
  db.Delete(key);
  ctx.Notify(notify::kGeneric, "del", key, db);
}

// What a *STORE does with its result (the tail of sinterGenericCommand and
// sunionDiffGenericCommand): a non-empty result replaces the destination whatever it held, as
// setKey does (the old value's TTL goes with it); an empty one deletes the destination.
void StoreResult(CommandContext& ctx, std::string_view dst, std::unique_ptr<SetValue> result,
                 std::string_view event) {
  Database& db = ctx.db();
  if (result->empty()) {
    ctx.rb().SendLong(0);
    if (db.Delete(dst)) {
      ctx.AddDirty();
      ctx.KeyModified(db, dst);
      ctx.Notify(notify::kGeneric, "del", dst, db);
    }
    return;
  }
  const auto size = static_cast<int64_t>(result->size());
  db.Find(dst, LookupMode::kWrite);  // setKey's lookup: an expired destination goes first
  db.Upsert(Entry::NewValue(dst, std::move(result)));
  ctx.KeyModified(db, dst);
  ctx.rb().SendLong(size);
  ctx.Notify(notify::kSet, event, dst, db);
  ctx.AddDirty();
}

// The sets named by `keys` (nullptr for a missing key), looked up for reading in order. False
// (WRONGTYPE sent) when one holds another type.
bool LookupSources(CommandContext& ctx, CmdArgs keys, std::vector<SetValue*>* sets) {
  sets->clear();
  sets->reserve(keys.size());
  for (std::string_view key : keys) {
    SetValue* set;
    if (!LookupSet(ctx, key, LookupMode::kRead, &set)) return false;
    sets->push_back(set);
  }
  return true;
}

// --- Membership -------------------------------------------------------------------------------

// SADD key member [member ...]
void CmdSAdd(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kWrite, &set)) return;
  if (set == nullptr) set = AddSet(db, args[1], SetValue::CreateFor(args[2]));
  const uint64_t max_entries = MaxIntsetEntries(ctx);
  int64_t added = 0;
  for (size_t i = 2; i < args.size(); i++) {
    if (set->Add(args[i], max_entries)) added++;
  }
  if (added != 0) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kSet, "sadd", args[1], db);
    ctx.AddDirty(static_cast<uint64_t>(added));
  }
  ctx.rb().SendLong(added);
}

// SREM key member [member ...]: stops at the member that empties the set.
void CmdSRem(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kWrite, &set)) return;
  if (set == nullptr) return ctx.rb().SendLong(0);
  int64_t deleted = 0;
  bool key_removed = false;
  for (size_t i = 2; i < args.size(); i++) {
    if (!set->Remove(args[i])) continue;
    deleted++;
    if (set->empty()) {
      db.Delete(args[1]);
      key_removed = true;
      break;
    }
  }
  if (deleted != 0) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kSet, "srem", args[1], db);
    if (key_removed) ctx.Notify(notify::kGeneric, "del", args[1], db);
    ctx.AddDirty(static_cast<uint64_t>(deleted));
  }
  ctx.rb().SendLong(deleted);
}

// SMOVE source destination member
void CmdSMove(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  std::string_view src_key = args[1], dst_key = args[2], member = args[3];
  // Both keys are looked up before either is type-checked; a missing source wins over a
  // destination of the wrong type.
  Entry* src_entry = db.Find(src_key, LookupMode::kWrite);
  Entry* dst_entry = db.Find(dst_key, LookupMode::kWrite);
  if (src_entry == nullptr) return ctx.rb().SendLong(0);
  if (src_entry->type() != ObjType::kSet ||
      (dst_entry != nullptr && dst_entry->type() != ObjType::kSet)) {
    return ctx.rb().SendError(errors::kWrongType);
  }
  SetValue* src = AsSet(src_entry);
  SetValue* dst = dst_entry != nullptr ? AsSet(dst_entry) : nullptr;
  // The same set: nothing moves, the reply says whether the member is there.
  if (src == dst) return ctx.rb().SendLong(src->Contains(member) ? 1 : 0);
  if (!src->Remove(member)) return ctx.rb().SendLong(0);
  ctx.Notify(notify::kSet, "srem", src_key, db);
  DeleteIfEmpty(ctx, db, src_key, src);
  if (dst == nullptr) dst = AddSet(db, dst_key, SetValue::CreateFor(member));
  ctx.KeyModified(db, src_key);
  ctx.AddDirty();
  // The destination changed only if it did not hold the member already.
  if (dst->Add(member, MaxIntsetEntries(ctx))) {
    ctx.AddDirty();
    ctx.KeyModified(db, dst_key);
    ctx.Notify(notify::kSet, "sadd", dst_key, db);
  }
  ctx.rb().SendLong(1);
}

// SISMEMBER key member
void CmdSIsMember(CmdArgs args, CommandContext& ctx) {
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kRead, &set)) return;
  ctx.rb().SendLong(set != nullptr && set->Contains(args[2]) ? 1 : 0);
}

// SMISMEMBER key member [member ...]: a missing key is an empty set (all zeros).
void CmdSMIsMember(CmdArgs args, CommandContext& ctx) {
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kRead, &set)) return;
  ctx.rb().StartArray(args.size() - 2);
  for (size_t i = 2; i < args.size(); i++) {
    ctx.rb().SendLong(set != nullptr && set->Contains(args[i]) ? 1 : 0);
  }
}

// SCARD key
void CmdSCard(CmdArgs args, CommandContext& ctx) {
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kRead, &set)) return;
  ctx.rb().SendLong(set == nullptr ? 0 : static_cast<int64_t>(set->size()));
}

// --- Algebra ----------------------------------------------------------------------------------

// sinterGenericCommand: SINTER and SMEMBERS (no destination, a set reply), SINTERSTORE (`dst`),
// SINTERCARD (`cardinality_only`, stopping at `limit` unless 0).
void Inter(CommandContext& ctx, CmdArgs keys, std::optional<std::string_view> dst,
           bool cardinality_only, uint64_t limit) {
  std::vector<SetValue*> sets;
  if (!LookupSources(ctx, keys, &sets)) return;
  // A missing key is an empty set, and so is the intersection.
  if (std::find(sets.begin(), sets.end(), nullptr) != sets.end()) {
    if (dst) return StoreResult(ctx, *dst, std::make_unique<SetValue>(), "");
    if (cardinality_only) return ctx.rb().SendLong(0);
    return ctx.rb().StartSet(0);
  }
  // The smallest set drives the iteration (a stable sort, as glibc's qsort is for small arrays:
  // which of two equal sets comes first decides the reply's order and the result's encoding).
  std::stable_sort(sets.begin(), sets.end(),
                   [](SetValue* a, SetValue* b) { return a->size() < b->size(); });
  SetValue* first = sets[0];
  auto in_all = [&](const SetMember& m) {
    for (size_t j = 1; j < sets.size(); j++) {
      if (sets[j] != first && !sets[j]->Contains(m)) return false;
    }
    return true;
  };

  if (cardinality_only) {
    uint64_t cardinality = 0;
    // ForEach cannot stop early: the limit is honoured by skipping the remaining work.
    first->ForEach([&](const SetMember& m) {
      if (limit != 0 && cardinality >= limit) return;
      if (in_all(m)) cardinality++;
    });
    return ctx.rb().SendLong(static_cast<int64_t>(cardinality));
  }
  if (dst) {
    // The result starts as an empty intset (createIntsetObject) and converts as members come.
    auto result = std::make_unique<SetValue>();
    const uint64_t max_entries = MaxIntsetEntries(ctx);
    first->ForEach([&](const SetMember& m) {
      if (!in_all(m)) return;
      if (m.is_int) {
        result->AddInt(m.value, max_entries);
      } else {
        result->Add(m.str, max_entries);
      }
    });
    return StoreResult(ctx, *dst, std::move(result), "sinterstore");
  }
  // The members are collected first: the reply's length (a deferred one in Redis) comes first.
  std::vector<SetMember> members;
  first->ForEach([&](const SetMember& m) {
    if (in_all(m)) members.push_back(m);
  });
  ctx.rb().StartSet(members.size());
  for (const SetMember& m : members) SendMember(ctx.rb(), m);
}

enum class SetOp { kUnion, kDiff };

// sunionDiffGenericCommand: SUNION/SDIFF reply with the result as a set, the *STORE forms store
// it in `dst`. The result is built in an intset-first set whichever way it is computed.
void UnionDiff(CommandContext& ctx, CmdArgs keys, std::optional<std::string_view> dst, SetOp op) {
  std::vector<SetValue*> sets;
  if (!LookupSources(ctx, keys, &sets)) return;
  const uint64_t max_entries = MaxIntsetEntries(ctx);
  auto result = std::make_unique<SetValue>();
  auto add = [&](const SetMember& m) {
    return m.is_int ? result->AddInt(m.value, max_entries) : result->Add(m.str, max_entries);
  };

  if (op == SetOp::kUnion) {
    for (SetValue* set : sets) {
      if (set != nullptr) set->ForEach(add);
    }
  } else if (sets[0] != nullptr) {
    // Algorithm 1 checks each member of the first set against the others (about N*M work);
    // algorithm 2 adds the first set and removes every other set's members (the total size).
    // Redis picks by estimated work, favouring 1; the choice shows in the result's encoding.
    int64_t algo_one_work = 0, algo_two_work = 0;
    for (SetValue* set : sets) {
      if (set == nullptr) continue;
      algo_one_work += static_cast<int64_t>(sets[0]->size());
      algo_two_work += static_cast<int64_t>(set->size());
    }
    algo_one_work /= 2;
    if (algo_one_work <= algo_two_work) {
      // Larger sets first are likelier to hold a member: fewer checks.
      std::stable_sort(sets.begin() + 1, sets.end(), [](SetValue* a, SetValue* b) {
        return (a == nullptr ? 0 : a->size()) > (b == nullptr ? 0 : b->size());
      });
      SetValue* first = sets[0];
      first->ForEach([&](const SetMember& m) {
        for (size_t j = 1; j < sets.size(); j++) {
          if (sets[j] == nullptr) continue;
          if (sets[j] == first || sets[j]->Contains(m)) return;
        }
        add(m);
      });
    } else {
      int64_t cardinality = 0;
      for (size_t j = 0; j < sets.size(); j++) {
        if (sets[j] == nullptr) continue;
        if (j == 0) {
          sets[j]->ForEach([&](const SetMember& m) { cardinality += add(m) ? 1 : 0; });
        } else {
          sets[j]->ForEach([&](const SetMember& m) {
            char buf[21];
            cardinality -= result->Remove(m.View(buf)) ? 1 : 0;
          });
        }
        if (cardinality == 0) break;  // nothing left to remove from
      }
    }
  }

  if (dst) {
    return StoreResult(ctx, *dst, std::move(result),
                       op == SetOp::kUnion ? "sunionstore" : "sdiffstore");
  }
  SendSet(ctx.rb(), *result);
}

// SINTER key [key ...] (and SMEMBERS key, which Redis 7.0 serves with the same function)
void CmdSInter(CmdArgs args, CommandContext& ctx) {
  Inter(ctx, args.subspan(1), std::nullopt, false, 0);
}

// SINTERSTORE destination key [key ...]
void CmdSInterStore(CmdArgs args, CommandContext& ctx) {
  Inter(ctx, args.subspan(2), args[1], false, 0);
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void CmdSInterCard(CmdArgs args, CommandContext& ctx) {
  int64_t numkeys, limit = 0;
  if (!GetRangeLong(ctx, args[1], 1, INT64_MAX, &numkeys, "numkeys should be greater than 0")) {
    return;
  }
  if (numkeys > static_cast<int64_t>(args.size()) - 2) {
    return ctx.rb().SendError(errors::kNumKeysTooMany);
  }
  for (size_t j = 2 + static_cast<size_t>(numkeys); j < args.size(); j++) {
    if (EqualsIgnoreCase(args[j], "limit") && j + 1 < args.size()) {
      if (!GetPositiveLong(ctx, args[++j], &limit, "LIMIT can't be negative")) return;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  Inter(ctx, args.subspan(2, static_cast<size_t>(numkeys)), std::nullopt, true,
        static_cast<uint64_t>(limit));
}

// SUNION key [key ...]
void CmdSUnion(CmdArgs args, CommandContext& ctx) {
  UnionDiff(ctx, args.subspan(1), std::nullopt, SetOp::kUnion);
}

// SUNIONSTORE destination key [key ...]
void CmdSUnionStore(CmdArgs args, CommandContext& ctx) {
  UnionDiff(ctx, args.subspan(2), args[1], SetOp::kUnion);
}

// SDIFF key [key ...]
void CmdSDiff(CmdArgs args, CommandContext& ctx) {
  UnionDiff(ctx, args.subspan(1), std::nullopt, SetOp::kDiff);
}

// SDIFFSTORE destination key [key ...]
void CmdSDiffStore(CmdArgs args, CommandContext& ctx) {
  UnionDiff(ctx, args.subspan(2), args[1], SetOp::kDiff);
}

// --- Random members ---------------------------------------------------------------------------

// SPOP's strategies (spopWithCountCommand): popping at random while the set stays more than a
// fifth of the count; past that, rebuilding the set from the survivors drawn at random.
constexpr uint64_t kSpopMoveStrategyMul = 5;

// SPOP key count
void SPopWithCount(CmdArgs args, CommandContext& ctx) {
  int64_t count_arg;
  if (!GetPositiveLong(ctx, args[2], &count_arg)) return;
  const auto count = static_cast<uint64_t>(count_arg);
  Database& db = ctx.db();
  std::string_view key = args[1];
  SetValue* set;
  if (!LookupSet(ctx, key, LookupMode::kWrite, &set)) return;
  if (set == nullptr || count == 0) return ctx.rb().StartSet(0);

  const uint64_t size = set->size();
  ctx.Notify(notify::kSet, "spop", key, db);
  ctx.AddDirty(std::min(count, size));

  // The whole set: replied as SUNION of the one key would (a rebuilt copy, so a hashtable of
  // integers replies in intset order), then deleted and propagated as DEL.
  if (count >= size) {
    UnionDiff(ctx, args.subspan(1, 1), std::nullopt, SetOp::kUnion);
    db.Delete(key);
    ctx.Notify(notify::kGeneric, "del", key, db);
    ctx.Propagate({"DEL", key});
    ctx.KeyModified(db, key);
    return;
  }

  ctx.rb().StartSet(count);
  const uint64_t remaining = size - count;
  if (remaining * kSpopMoveStrategyMul > count) {
    for (uint64_t i = 0; i < count; i++) {
      std::string member = RandomMember(ctx, set).ToString();
      ctx.rb().SendBulk(member);
      set->Remove(member);
      ctx.Propagate({"SREM", key, member});
    }
  } else {
    // The survivors move to a new set (created for its first member, as setTypeCreate does);
    // what is left of the old one is the reply, and the new set takes its place under the key
    // (dbOverwrite: the TTL stays).
    const uint64_t max_entries = MaxIntsetEntries(ctx);
    std::unique_ptr<SetValue> survivors;
    for (uint64_t i = 0; i < remaining; i++) {
      std::string member = RandomMember(ctx, set).ToString();
      if (survivors == nullptr) survivors = SetValue::CreateFor(member);
      survivors->Add(member, max_entries);
      set->Remove(member);
    }
    set->ForEach([&](const SetMember& m) {
      SendMember(ctx.rb(), m);
      ctx.Propagate({"SREM", key, m.ToString()});
    });
    set->Swap(*survivors);
  }
  ctx.KeyModified(db, key);
}

// SPOP key [count]
void CmdSPop(CmdArgs args, CommandContext& ctx) {
  if (args.size() == 3) return SPopWithCount(args, ctx);
  if (args.size() > 3) return ctx.rb().SendError(errors::kSyntax);
  Database& db = ctx.db();
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kWrite, &set)) return;
  if (set == nullptr) return ctx.rb().SendNull();
  std::string member = RandomMember(ctx, set).ToString();
  set->Remove(member);
  ctx.Notify(notify::kSet, "spop", args[1], db);
  ctx.Propagate({"SREM", args[1], member});
  ctx.rb().SendBulk(member);
  DeleteIfEmpty(ctx, db, args[1], set);
  ctx.KeyModified(db, args[1]);
  ctx.AddDirty();
}

// SRANDMEMBER's strategies for a positive count below the set's size
// (srandmemberWithCountCommand): when the count is more than a third of the set, a copy of the
// whole set loses random members until `count` are left; otherwise random draws are kept until
// `count` distinct ones came up.
constexpr uint64_t kSrandmemberSubStrategyMul = 3;

// SRANDMEMBER key count: distinct members for a positive count, independent draws (repeats
// allowed, `count` of them) for a negative one. An array reply even in RESP3.
void SRandMemberWithCount(CmdArgs args, CommandContext& ctx) {
  int64_t l;
  if (!GetRangeLong(ctx, args[2], -INT64_MAX, INT64_MAX, &l)) return;
  const bool unique = l >= 0;
  const uint64_t count = unique ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kRead, &set)) return;
  ReplyBuilder& rb = ctx.rb();
  if (set == nullptr || count == 0) return rb.SendEmptyArray();
  const uint64_t size = set->size();

  if (!unique || count == 1) {
    rb.StartArray(count);
    for (uint64_t i = 0; i < count; i++) SendMember(rb, RandomMember(ctx, set));
    return;
  }
  if (count >= size) {
    rb.StartArray(size);
    set->ForEach([&rb](const SetMember& m) { SendMember(rb, m); });
    return;
  }
  std::vector<std::string> chosen;
  chosen.reserve(count);
  if (count * kSrandmemberSubStrategyMul > size) {
    // Drop random members from a copy: a partial Fisher-Yates shuffle that keeps `count`.
    std::vector<std::string> all;
    all.reserve(size);
    set->ForEach([&all](const SetMember& m) { all.push_back(m.ToString()); });
    for (uint64_t i = 0; i < count; i++) {
      uint64_t j = i + ServerRandom(&ctx.services().rng) % (size - i);
      std::swap(all[i], all[j]);
    }
    all.resize(count);
    chosen = std::move(all);
  } else {
    std::unordered_set<std::string> seen;
    while (chosen.size() < count) {
      std::string member = RandomMember(ctx, set).ToString();
      if (seen.insert(member).second) chosen.push_back(std::move(member));
    }
  }
  rb.StartArray(count);
  for (const std::string& m : chosen) rb.SendBulk(m);
}

// SRANDMEMBER key [count]
void CmdSRandMember(CmdArgs args, CommandContext& ctx) {
  if (args.size() == 3) return SRandMemberWithCount(args, ctx);
  if (args.size() > 3) return ctx.rb().SendError(errors::kSyntax);
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kRead, &set)) return;
  if (set == nullptr) return ctx.rb().SendNull();
  SendMember(ctx.rb(), RandomMember(ctx, set));
}

// --- Iteration --------------------------------------------------------------------------------

// SSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is checked first, then the key
// (a missing one gives an empty scan before the options are read), then the options.
void CmdSScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!GetScanCursor(ctx, args[2], &cursor)) return;
  SetValue* set;
  if (!LookupSet(ctx, args[1], LookupMode::kRead, &set)) return;
  ReplyBuilder& rb = ctx.rb();
  if (set == nullptr) {
    rb.StartArray(2);
    rb.SendBulk("0");
    return rb.SendEmptyArray();
  }
  ScanOptions opts;
  if (!GetScanOptions(ctx, args, 3, /*allow_type=*/false, &opts)) return;
  // Bucket visits are capped at 10 x COUNT, as in Redis: a sparse table may then give fewer
  // members than COUNT (or none) with a non-zero cursor.
  std::vector<std::string> members;
  auto collect = [&members](const SetMember& m) { members.push_back(m.ToString()); };
  int64_t visits = (opts.count > INT64_MAX / 10 ? INT64_MAX / 10 : opts.count) * 10;
  do {
    cursor = set->Scan(cursor, collect);
  } while (cursor != 0 && visits-- > 0 && members.size() < static_cast<uint64_t>(opts.count));
  std::erase_if(members, [&opts](const std::string& m) { return !opts.Matches(m); });
  rb.StartArray(2);
  rb.SendBulk(std::to_string(cursor));
  rb.StartArray(members.size());
  for (const std::string& m : members) rb.SendBulk(m);
}

}  // namespace

void RegisterSetFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint64_t kS = Acl::kSet;
  // clang-format off
  r << CommandSpec{"sadd", -3, kWD | kF, 1, 1, 1, kS, CmdSAdd,
                   {"Add one or more members to a set", "1.0.0", "set",
                    "O(1) for each element added, so O(N) to add N elements when the command is "
                    "called with multiple arguments.", "key member [member ...]"}}
    << CommandSpec{"srem", -3, kW | kF, 1, 1, 1, kS, CmdSRem,
                   {"Remove one or more members from a set", "1.0.0", "set",
                    "O(N) where N is the number of members to be removed.",
                    "key member [member ...]"}}
    << CommandSpec{"smembers", 2, kRO, 1, 1, 1, kS, CmdSInter,
                   {"Get all the members in a set", "1.0.0", "set",
                    "O(N) where N is the set cardinality.", "key"}}
    << CommandSpec{"sismember", 3, kRO | kF, 1, 1, 1, kS, CmdSIsMember,
                   {"Determine if a given value is a member of a set", "1.0.0", "set", "O(1)",
                    "key member"}}
    << CommandSpec{"smismember", -3, kRO | kF, 1, 1, 1, kS, CmdSMIsMember,
                   {"Returns the membership associated with the given elements for a set",
                    "6.2.0", "set", "O(N) where N is the number of elements being checked for "
                    "membership", "key member [member ...]"}}
    << CommandSpec{"scard", 2, kRO | kF, 1, 1, 1, kS, CmdSCard,
                   {"Get the number of members in a set", "1.0.0", "set", "O(1)", "key"}}
    << CommandSpec{"spop", -2, kW | kF, 1, 1, 1, kS, CmdSPop,
                   {"Remove and return one or multiple random members from a set", "1.0.0",
                    "set", "Without the count argument O(1), otherwise O(N) where N is the value "
                    "of the passed count.", "key [count]"}}
    << CommandSpec{"srandmember", -2, kRO, 1, 1, 1, kS, CmdSRandMember,
                   {"Get one or multiple random members from a set", "1.0.0", "set",
                    "Without the count argument O(1), otherwise O(N) where N is the absolute "
                    "value of the passed count.", "key [count]"}}
    << CommandSpec{"smove", 4, kW | kF, 1, 2, 1, kS, CmdSMove,
                   {"Move a member from one set to another", "1.0.0", "set", "O(1)",
                    "source destination member"}}
    << CommandSpec{"sinter", -2, kRO, 1, -1, 1, kS, CmdSInter,
                   {"Intersect multiple sets", "1.0.0", "set",
                    "O(N*M) worst case where N is the cardinality of the smallest set and M is "
                    "the number of sets.", "key [key ...]"}}
    << CommandSpec{"sintercard", -3, kRO | CO::kMovableKeys, 0, 0, 0, kS, CmdSInterCard,
                   {"Intersect multiple sets and return the cardinality of the result", "7.0.0",
                    "set", "O(N*M) worst case where N is the cardinality of the smallest set and "
                    "M is the number of sets.", "numkeys key [key ...] [LIMIT limit]"}}
    << CommandSpec{"sinterstore", -3, kWD, 1, -1, 1, kS, CmdSInterStore,
                   {"Intersect multiple sets and store the resulting set in a key", "1.0.0",
                    "set", "O(N*M) worst case where N is the cardinality of the smallest set and "
                    "M is the number of sets.", "destination key [key ...]"}}
    << CommandSpec{"sunion", -2, kRO, 1, -1, 1, kS, CmdSUnion,
                   {"Add multiple sets", "1.0.0", "set",
                    "O(N) where N is the total number of elements in all given sets.",
                    "key [key ...]"}}
    << CommandSpec{"sunionstore", -3, kWD, 1, -1, 1, kS, CmdSUnionStore,
                   {"Add multiple sets and store the resulting set in a key", "1.0.0", "set",
                    "O(N) where N is the total number of elements in all given sets.",
                    "destination key [key ...]"}}
    << CommandSpec{"sdiff", -2, kRO, 1, -1, 1, kS, CmdSDiff,
                   {"Subtract multiple sets", "1.0.0", "set",
                    "O(N) where N is the total number of elements in all given sets.",
                    "key [key ...]"}}
    << CommandSpec{"sdiffstore", -3, kWD, 1, -1, 1, kS, CmdSDiffStore,
                   {"Subtract multiple sets and store the resulting set in a key", "1.0.0", "set",
                    "O(N) where N is the total number of elements in all given sets.",
                    "destination key [key ...]"}}
    << CommandSpec{"sscan", -3, kRO, 1, 1, 1, kS, CmdSScan,
                   {"Incrementally iterate Set elements", "2.8.0", "set",
                    "O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..",
                    "key cursor [MATCH pattern] [COUNT count]"}};
  // clang-format on
}

}  // namespace keyward
