// Sorted-set commands: ZADD ... ZSCAN and the blocking BZPOPMIN BZPOPMAX BZMPOP (ZUNION, ZINTER,
// ZDIFF and their relatives are in zset_setops_family.cc). Semantics,
// replies, error texts, notifications and propagation follow Redis 7.0 (t_zset.c, blocked.c):
// arguments are checked in Redis's order (some before the key lookup, some after), an emptied
// sorted set is deleted with a "del" event, and ZMPOP and the blocking pops propagate as
// ZPOPMIN/ZPOPMAX. Sets are accepted wherever ZUNION and its relatives read, with score 1.
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/commands/zset_support.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/set_value.h"
#include "server/keyspace/zset_value.h"

namespace keyward {

namespace {

// t_zset.c's own error texts.
constexpr std::string_view kNotFloatRange = "ERR min or max is not a float";
constexpr std::string_view kNotLexRange = "ERR min or max not valid string range item";
constexpr std::string_view kNanResult = "ERR resulting score is not a number (NaN)";
constexpr std::string_view kXxAndNx = "ERR XX and NX options at the same time are not compatible";
constexpr std::string_view kGtLtNx =
    "ERR GT, LT, and/or NX options at the same time are not compatible";
constexpr std::string_view kIncrPairs = "ERR INCR option supports a single increment-element pair";
constexpr std::string_view kLimitNeedsRange =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
constexpr std::string_view kWithscoresLex =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";

using zset::AsZSet;
using zset::DeleteIfEmpty;
using zset::GetDouble;
using zset::Limits;
using zset::LookupZSet;
using zset::Pos;
using zset::Random;
using zset::ReplyLength;
using zset::SendMember;
using zset::SendScored;
using zset::StoreResult;

// --- ZADD, ZINCRBY, ZREM ----------------------------------------------------------------------

// zaddGenericCommand: ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ...; ZINCRBY is ZADD
// with INCR.
void AddGeneric(CmdArgs args, CommandContext& ctx, int flags) {
  size_t scoreidx = 2;
  bool ch = false;
  for (; scoreidx < args.size(); scoreidx++) {
    std::string_view opt = args[scoreidx];
    if (EqualsIgnoreCase(opt, "nx")) {
      flags |= ZSetValue::kNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      flags |= ZSetValue::kXx;
    } else if (EqualsIgnoreCase(opt, "ch")) {
      ch = true;
    } else if (EqualsIgnoreCase(opt, "incr")) {
      flags |= ZSetValue::kIncr;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      flags |= ZSetValue::kGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      flags |= ZSetValue::kLt;
    } else {
      break;
    }
  }
  const bool incr = flags & ZSetValue::kIncr, nx = flags & ZSetValue::kNx,
             xx = flags & ZSetValue::kXx, gt = flags & ZSetValue::kGt, lt = flags & ZSetValue::kLt;
  size_t elements = args.size() - scoreidx;
  if (elements % 2 != 0 || elements == 0) return ctx.rb().SendError(errors::kSyntax);
  elements /= 2;
  if (nx && xx) return ctx.rb().SendError(kXxAndNx);
  if ((gt && nx) || (lt && nx) || (gt && lt)) return ctx.rb().SendError(kGtLtNx);
  if (incr && elements > 1) return ctx.rb().SendError(kIncrPairs);
  // Every score is parsed before anything changes: the command runs fully or not at all.
  std::vector<double> scores(elements);
  for (size_t j = 0; j < elements; j++) {
    if (!GetDouble(ctx, args[scoreidx + j * 2], &scores[j])) return;
  }

  Database& db = ctx.db();
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kWrite, &z)) return;
  const ZSetValue::Limits limits = Limits(ctx);
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  if (z == nullptr && !xx) {
    // createZsetObject when the first member is too long for a listpack (or none may be).
    std::unique_ptr<ZSetValue> value;
    if (limits.max_entries == 0 || limits.max_value < args[scoreidx + 1].size()) {
      value = ZSetValue::NewSkiplist();
    } else {
      value = std::make_unique<ZSetValue>();
    }
    Entry* e = Entry::NewValue(args[1], std::move(value));
    db.Add(e);
    z = AsZSet(e);
  }
  bool failed = false;
  if (z != nullptr) {
    for (size_t j = 0; j < elements; j++) {
      double new_score = 0;
      const auto r = z->Add(scores[j], args[scoreidx + 1 + j * 2], flags, &new_score, limits);
      if (r == ZSetValue::AddResult::kNan) {
        ctx.rb().SendError(kNanResult);
        failed = true;
        break;
      }
      if (r == ZSetValue::AddResult::kAdded) added++;
      if (r == ZSetValue::AddResult::kUpdated) updated++;
      if (r != ZSetValue::AddResult::kNop) processed++;
      score = new_score;
    }
    ctx.AddDirty(static_cast<uint64_t>(added + updated));
  }
  if (!failed) {
    if (incr) {
      if (processed != 0) {
        ctx.rb().SendDouble(score);
      } else {
        ctx.rb().SendNull();
      }
    } else {
      ctx.rb().SendLong(ch ? added + updated : added);
    }
  }
  if (added != 0 || updated != 0) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kZSet, incr ? "zincr" : "zadd", args[1], db);
  }
}

void CmdZAdd(CmdArgs args, CommandContext& ctx) { AddGeneric(args, ctx, 0); }
void CmdZIncrBy(CmdArgs args, CommandContext& ctx) { AddGeneric(args, ctx, ZSetValue::kIncr); }

// ZREM key member [member ...]
void CmdZRem(CmdArgs args, CommandContext& ctx) {
  Database& db = ctx.db();
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kWrite, &z)) return;
  if (z == nullptr) return ctx.rb().SendLong(0);
  int64_t deleted = 0;
  bool key_removed = false;
  for (size_t j = 2; j < args.size(); j++) {
    if (z->Remove(args[j])) deleted++;
    if (z->empty()) {
      db.Delete(args[1]);
      key_removed = true;
      break;
    }
  }
  if (deleted != 0) {
    ctx.Notify(notify::kZSet, "zrem", args[1], db);
    if (key_removed) ctx.Notify(notify::kGeneric, "del", args[1], db);
    ctx.KeyModified(db, args[1]);
    ctx.AddDirty(static_cast<uint64_t>(deleted));
  }
  ctx.rb().SendLong(deleted);
}

// --- ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX ----------------------------------------

enum class RangeType { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

// zremrangeGenericCommand: the range is parsed before the key is looked up.
void RemRangeGeneric(CmdArgs args, CommandContext& ctx, RangeType type) {
  int64_t start = 0, end = 0;
  ScoreRange range;
  LexRange lex;
  std::string_view event;
  if (type == RangeType::kRank) {
    event = "zremrangebyrank";
    if (!GetLong(ctx, args[2], &start) || !GetLong(ctx, args[3], &end)) return;
  } else if (type == RangeType::kScore) {
    event = "zremrangebyscore";
    if (!ParseScoreRange(args[2], args[3], &range)) return ctx.rb().SendError(kNotFloatRange);
  } else {
    event = "zremrangebylex";
    if (!ParseLexRange(args[2], args[3], &lex)) return ctx.rb().SendError(kNotLexRange);
  }
  Database& db = ctx.db();
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kWrite, &z)) return;
  if (z == nullptr) return ctx.rb().SendLong(0);
  size_t deleted;
  if (type == RangeType::kRank) {
    const auto llen = static_cast<int64_t>(z->size());
    if (start < 0) start += llen;
    if (end < 0) end += llen;
    if (start < 0) start = 0;
    if (start > end || start >= llen) return ctx.rb().SendLong(0);
    if (end >= llen) end = llen - 1;
    deleted = z->DeleteRangeByRank(static_cast<size_t>(start), static_cast<size_t>(end));
  } else if (type == RangeType::kScore) {
    deleted = z->DeleteRangeByScore(range);
  } else {
    deleted = z->DeleteRangeByLex(lex);
  }
  const bool key_removed = z->empty();
  if (key_removed) db.Delete(args[1]);
  if (deleted != 0) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kZSet, event, args[1], db);
    if (key_removed) ctx.Notify(notify::kGeneric, "del", args[1], db);
  }
  ctx.AddDirty(deleted);
  ctx.rb().SendLong(static_cast<int64_t>(deleted));
}

void CmdZRemRangeByRank(CmdArgs args, CommandContext& ctx) {
  RemRangeGeneric(args, ctx, RangeType::kRank);
}
void CmdZRemRangeByScore(CmdArgs args, CommandContext& ctx) {
  RemRangeGeneric(args, ctx, RangeType::kScore);
}
void CmdZRemRangeByLex(CmdArgs args, CommandContext& ctx) {
  RemRangeGeneric(args, ctx, RangeType::kLex);
}

// --- Reads of one member or a count -----------------------------------------------------------

void CmdZCard(CmdArgs args, CommandContext& ctx) {
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  ctx.rb().SendLong(z == nullptr ? 0 : static_cast<int64_t>(z->size()));
}

void CmdZScore(CmdArgs args, CommandContext& ctx) {
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  double score;
  if (z == nullptr || !z->Score(args[2], &score)) return ctx.rb().SendNull();
  ctx.rb().SendDouble(score);
}

// ZMSCORE key member [member ...]: a missing key is an empty set.
void CmdZMScore(CmdArgs args, CommandContext& ctx) {
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  ctx.rb().StartArray(args.size() - 2);
  for (size_t j = 2; j < args.size(); j++) {
    double score;
    if (z == nullptr || !z->Score(args[j], &score)) {
      ctx.rb().SendNull();
    } else {
      ctx.rb().SendDouble(score);
    }
  }
}

void RankGeneric(CmdArgs args, CommandContext& ctx, bool reverse) {
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  if (z == nullptr) return ctx.rb().SendNull();
  const int64_t rank = z->Rank(args[2], reverse);
  if (rank < 0) return ctx.rb().SendNull();
  ctx.rb().SendLong(rank);
}

void CmdZRank(CmdArgs args, CommandContext& ctx) { RankGeneric(args, ctx, false); }
void CmdZRevRank(CmdArgs args, CommandContext& ctx) { RankGeneric(args, ctx, true); }

// ZCOUNT key min max
void CmdZCount(CmdArgs args, CommandContext& ctx) {
  ScoreRange range;
  if (!ParseScoreRange(args[2], args[3], &range)) return ctx.rb().SendError(kNotFloatRange);
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  ctx.rb().SendLong(z == nullptr ? 0 : static_cast<int64_t>(z->Count(range)));
}

// ZLEXCOUNT key min max
void CmdZLexCount(CmdArgs args, CommandContext& ctx) {
  LexRange range;
  if (!ParseLexRange(args[2], args[3], &range)) return ctx.rb().SendError(kNotLexRange);
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  ctx.rb().SendLong(z == nullptr ? 0 : static_cast<int64_t>(z->LexCount(range)));
}

// --- ZRANGE and its relatives -----------------------------------------------------------------

// genericZrangebyrankCommand: the positions of ranks start..end (negative from the end).
void CollectByRank(const ZSetValue* z, int64_t start, int64_t end, bool reverse,
                   std::vector<Pos>* out) {
  const auto llen = static_cast<int64_t>(z->size());
  if (start < 0) start += llen;
  if (end < 0) end += llen;
  if (start < 0) start = 0;
  if (start > end || start >= llen) return;
  if (end >= llen) end = llen - 1;
  int64_t n = end - start + 1;
  out->reserve(static_cast<size_t>(n));
  Pos p = z->AtRank(static_cast<size_t>(reverse ? llen - 1 - start : start));
  while (n-- > 0 && p.valid()) {
    out->push_back(p);
    p = reverse ? z->Prev(p) : z->Next(p);
  }
}

// Skips `offset` elements from p (towards lower scores when `reverse`). A negative offset walks
// off the end, as Redis's `while (ln && offset--)` does.
Pos Skip(const ZSetValue* z, Pos p, int64_t offset, bool reverse) {
  if (offset < 0) return {};
  if (!z->is_listpack() && offset > 0 && p.valid()) {
    // Rank arithmetic instead of a walk: the same element, in O(log n).
    const ScoreEntry& e = ScoreTree::Get(p.tree);
    const size_t rank = z->index()->tree().CountLess(e.score, e.member());
    if (reverse) {
      return static_cast<uint64_t>(offset) > rank ? Pos{}
                                                  : z->AtRank(rank - static_cast<size_t>(offset));
    }
    return static_cast<uint64_t>(offset) >= z->size() - rank
               ? Pos{}
               : z->AtRank(rank + static_cast<size_t>(offset));
  }
  while (p.valid() && offset-- > 0) p = reverse ? z->Prev(p) : z->Next(p);
  return p;
}

// genericZrangebyscoreCommand. A negative limit means no limit.
void CollectByScore(const ZSetValue* z, const ScoreRange& r, int64_t offset, int64_t limit,
                    bool reverse, std::vector<Pos>* out) {
  if (offset > 0 && static_cast<uint64_t>(offset) >= z->size()) return;
  Pos p = Skip(z, reverse ? z->LastInRange(r) : z->FirstInRange(r), offset, reverse);
  while (p.valid() && limit != 0) {
    if (limit > 0) limit--;
    const double s = z->ScoreAt(p);
    if (reverse ? !r.GteMin(s) : !r.LteMax(s)) break;
    out->push_back(p);
    p = reverse ? z->Prev(p) : z->Next(p);
  }
}

// genericZrangebylexCommand.
void CollectByLex(const ZSetValue* z, const LexRange& r, int64_t offset, int64_t limit,
                  bool reverse, std::vector<Pos>* out) {
  Pos p = Skip(z, reverse ? z->LastInLexRange(r) : z->FirstInLexRange(r), offset, reverse);
  char buf[21];
  while (p.valid() && limit != 0) {
    if (limit > 0) limit--;
    const std::string_view m = z->Member(p, buf);
    if (reverse ? !r.GteMin(m) : !r.LteMax(m)) break;
    out->push_back(p);
    p = reverse ? z->Prev(p) : z->Next(p);
  }
}

void SendPositions(ReplyBuilder& rb, const ZSetValue* z, const std::vector<Pos>& items,
                   bool withscores) {
  rb.StartArray(ReplyLength(rb, items.size(), withscores));
  char buf[21];
  for (const Pos& p : items) {
    SendScored(rb, z->Member(p, buf), withscores ? z->ScoreAt(p) : 0, withscores);
  }
}

// ZRANGESTORE's result: the members added one by one, converting as ZADD would
// (zrangeResultEmitCBufferForStore), to the sorted set zsetTypeCreate(size_hint, 0) makes
// (zrangeResultBeginStore): a skiplist from the start when a range of ranks is known to hold more
// than zset-max-listpack-entries members (its -0 scores stay -0 then), else a listpack. Score
// and lex ranges do not know their length in advance: their hint is 0.
void StorePositions(CommandContext& ctx, std::string_view dst, const ZSetValue* z,
                    const std::vector<Pos>& items, size_t size_hint) {
  if (items.empty()) return StoreResult(ctx, dst, nullptr, "zrangestore");
  const ZSetValue::Limits limits = Limits(ctx);
  auto result =
      size_hint <= limits.max_entries ? std::make_unique<ZSetValue>() : ZSetValue::NewSkiplist();
  char buf[21];
  for (const Pos& p : items) {
    result->Add(z->ScoreAt(p), z->Member(p, buf), 0, nullptr, limits);
  }
  StoreResult(ctx, dst, std::move(result), "zrangestore");
}

// zrangeGenericCommand: ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|BYLEX]. `src` is
// the index of the source key; min, max and the options follow it.
void RangeGeneric(CmdArgs args, CommandContext& ctx, size_t src, bool store, RangeType type,
                  Direction direction) {
  size_t minidx = src + 1, maxidx = src + 2;
  bool withscores = false;
  int64_t offset = 0, limit = -1;
  for (size_t j = src + 3; j < args.size(); j++) {
    const size_t left = args.size() - j - 1;
    if (!store && EqualsIgnoreCase(args[j], "withscores")) {
      withscores = true;
    } else if (EqualsIgnoreCase(args[j], "limit") && left >= 2) {
      if (!GetLong(ctx, args[j + 1], &offset) || !GetLong(ctx, args[j + 2], &limit)) return;
      j += 2;
    } else if (direction == Direction::kAuto && EqualsIgnoreCase(args[j], "rev")) {
      direction = Direction::kReverse;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(args[j], "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && EqualsIgnoreCase(args[j], "byscore")) {
      type = RangeType::kScore;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  if (direction == Direction::kAuto) direction = Direction::kForward;
  if (type == RangeType::kAuto) type = RangeType::kRank;
  if (limit != -1 && type == RangeType::kRank) return ctx.rb().SendError(kLimitNeedsRange);
  if (withscores && type == RangeType::kLex) return ctx.rb().SendError(kWithscoresLex);
  const bool reverse = direction == Direction::kReverse;
  // A reversed score or lex range is given as max, min.
  if (reverse && type != RangeType::kRank) std::swap(minidx, maxidx);

  int64_t start = 0, end = 0;
  ScoreRange range;
  LexRange lex;
  if (type == RangeType::kRank) {
    if (!GetLong(ctx, args[minidx], &start) || !GetLong(ctx, args[maxidx], &end)) return;
  } else if (type == RangeType::kScore) {
    if (!ParseScoreRange(args[minidx], args[maxidx], &range)) {
      return ctx.rb().SendError(kNotFloatRange);
    }
  } else if (!ParseLexRange(args[minidx], args[maxidx], &lex)) {
    return ctx.rb().SendError(kNotLexRange);
  }

  ZSetValue* z;
  if (!LookupZSet(ctx, args[src], LookupMode::kRead, &z)) return;
  std::vector<Pos> items;
  if (z != nullptr) {
    if (type == RangeType::kRank) {
      CollectByRank(z, start, end, reverse, &items);
    } else if (type == RangeType::kScore) {
      CollectByScore(z, range, offset, limit, reverse, &items);
    } else {
      CollectByLex(z, lex, offset, limit, reverse, &items);
    }
  }
  if (store) {
    return StorePositions(ctx, args[1], z, items, type == RangeType::kRank ? items.size() : 0);
  }
  if (z == nullptr) return ctx.rb().SendEmptyArray();
  SendPositions(ctx.rb(), z, items, withscores);
}

void CmdZRange(CmdArgs args, CommandContext& ctx) {
  RangeGeneric(args, ctx, 1, false, RangeType::kAuto, Direction::kAuto);
}
void CmdZRangeStore(CmdArgs args, CommandContext& ctx) {
  RangeGeneric(args, ctx, 2, true, RangeType::kAuto, Direction::kAuto);
}
void CmdZRevRange(CmdArgs args, CommandContext& ctx) {
  RangeGeneric(args, ctx, 1, false, RangeType::kRank, Direction::kReverse);
}
void CmdZRangeByScore(CmdArgs args, CommandContext& ctx) {
  RangeGeneric(args, ctx, 1, false, RangeType::kScore, Direction::kForward);
}
void CmdZRevRangeByScore(CmdArgs args, CommandContext& ctx) {
  RangeGeneric(args, ctx, 1, false, RangeType::kScore, Direction::kReverse);
}
void CmdZRangeByLex(CmdArgs args, CommandContext& ctx) {
  RangeGeneric(args, ctx, 1, false, RangeType::kLex, Direction::kForward);
}
void CmdZRevRangeByLex(CmdArgs args, CommandContext& ctx) {
  RangeGeneric(args, ctx, 1, false, RangeType::kLex, Direction::kReverse);
}

// --- Pops -------------------------------------------------------------------------------------

// genericZpopCommand over the first of `keys` that exists. `count` -1 is a plain single pop;
// `emitkey` puts the key first; `nested` gives [member, score] pairs (ZMPOP's [key, [pairs]]
// with emitkey); `nil_when_empty` answers a null array rather than an empty one when no key
// exists. Returns the number popped (0 also on WRONGTYPE, which is sent) and sets *popped_key.
int64_t GenericZPop(CommandContext& ctx, CmdArgs keys, bool max, bool emitkey, int64_t count,
                    bool nested, bool nil_when_empty, std::string_view* popped_key = nullptr) {
  Database& db = ctx.db();
  ReplyBuilder& rb = ctx.rb();
  ZSetValue* z = nullptr;
  std::string_view key;
  for (std::string_view k : keys) {
    Entry* e = db.Find(k, LookupMode::kWrite);
    if (e == nullptr) continue;
    if (e->type() != ObjType::kZSet) {
      rb.SendError(errors::kWrongType);
      return 0;
    }
    z = AsZSet(e);
    key = k;
    break;
  }
  if (z == nullptr) {
    nil_when_empty ? rb.SendNullArray() : rb.SendEmptyArray();
    return 0;
  }
  if (count == 0) {
    rb.SendEmptyArray();
    return 0;
  }
  if (count == -1) count = 1;
  const auto llen = static_cast<int64_t>(z->size());
  const int64_t n = count > llen ? llen : count;
  const auto un = static_cast<size_t>(n);
  if (!nested && !emitkey) {
    rb.StartArray(un * 2);
  } else if (nested && !emitkey) {
    rb.StartArray(un);
  } else if (!nested) {
    rb.StartArray(un * 2 + 1);
    rb.SendBulk(key);
  } else {
    rb.StartArray(2);
    rb.SendBulk(key);
    rb.StartArray(un);
  }
  std::string member;
  for (int64_t i = 0; i < n; i++) {
    double score;
    z->Pop(max, &member, &score);
    ctx.AddDirty();
    if (i == 0) {
      ctx.Notify(notify::kZSet, max ? "zpopmax" : "zpopmin", key, db);
      ctx.KeyModified(db, key);
    }
    if (nested) rb.StartArray(2);
    rb.SendBulk(member);
    rb.SendDouble(score);
  }
  DeleteIfEmpty(ctx, db, key, z);
  if (popped_key != nullptr) *popped_key = key;
  return n;
}

// ZPOPMIN/ZPOPMAX key [count]
void PopMinMax(CmdArgs args, CommandContext& ctx, bool max) {
  if (args.size() > 3) return ctx.rb().SendError(errors::kSyntax);
  int64_t count = -1;
  if (args.size() == 3 && !GetPositiveLong(ctx, args[2], &count)) return;
  // RESP3 nests the pairs when a count is given; a single pop stays flat.
  const bool nested = ctx.rb().resp3() && count != -1;
  GenericZPop(ctx, args.subspan(1, 1), max, false, count, nested, false);
}

void CmdZPopMin(CmdArgs args, CommandContext& ctx) { PopMinMax(args, ctx, false); }
void CmdZPopMax(CmdArgs args, CommandContext& ctx) { PopMinMax(args, ctx, true); }

std::string_view PopName(bool max) { return max ? "zpopmax" : "zpopmin"; }

// A pop with a count is propagated as ZPOPMIN/ZPOPMAX key n, n the number popped.
void PropagatePop(CommandContext& ctx, bool max, std::string_view key, int64_t count,
                  int64_t popped) {
  if (count == -1) {
    ctx.Propagate({PopName(max), key});
  } else {
    ctx.Propagate({PopName(max), key, FormatInt64(popped)});
  }
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]
void CmdZMPop(CmdArgs args, CommandContext& ctx) {
  MPopArgs m;
  if (!GetMPopArgs(ctx, args, 1, "min", "max", &m)) return;
  std::string_view key;
  const int64_t n = GenericZPop(ctx, m.keys, m.second_end, true, m.count, true, true, &key);
  if (n > 0) PropagatePop(ctx, m.second_end, key, m.count, n);
}

// --- Blocking ---------------------------------------------------------------------------------

struct ZSetWait : WaitState {
  bool max = false;
  int64_t count = -1;   // BZMPOP: up to count members; -1: BZPOPMIN/BZPOPMAX's single one
  bool nested = false;  // BZMPOP's [key, [[member, score] ...]] reply
};

// Serves the clients blocked on sorted sets (serveClientsBlockedOnSortedSetKey).
class ZSetBlockHandler : public BlockHandler {
 public:
  bool TryServe(CommandContext& ctx, WaitState* state, std::string_view key) override {
    auto& w = *static_cast<ZSetWait*>(state);
    Entry* e = ctx.db().Find(key, LookupMode::kWrite);
    // Absent, or replaced by another type: Redis 7.0 keeps such waiters waiting.
    if (e == nullptr || e->type() != ObjType::kZSet) return false;
    const std::string_view keys[] = {key};
    const int64_t n = GenericZPop(ctx, keys, w.max, true, w.count, w.nested, w.nested);
    PropagatePop(ctx, w.max, key, w.count, n);
    return true;
  }

  bool PassesOver(CommandContext& ctx, WaitState*, std::string_view key) override {
    Entry* e = ctx.db().Find(key, LookupMode::kNoTouch);
    return e != nullptr && e->type() != ObjType::kZSet;
  }

  void OnTimeout(Client& c, WaitState*) override { c.rb().SendNullArray(); }
};

ZSetBlockHandler& Handler() {
  static ZSetBlockHandler handler;  // stateless: one serves every server in the process
  return handler;
}

// blockingGenericZpopCommand once the timeout is known: pops from the first non-empty key, or
// blocks on them all.
void BlockingPop(CommandContext& ctx, CmdArgs keys, bool max, int64_t deadline, int64_t count,
                 bool nested) {
  for (std::string_view key : keys) {
    ZSetValue* z;
    if (!LookupZSet(ctx, key, LookupMode::kWrite, &z)) return;
    if (z == nullptr) continue;
    const std::string_view one[] = {key};
    const int64_t n = GenericZPop(ctx, one, max, true, count, nested, nested);
    PropagatePop(ctx, max, key, count, n);
    return;
  }
  // A client that may not block (a script, MULTI) gets the timeout reply at once.
  if (!ctx.may_block()) return ctx.rb().SendNullArray();
  auto wait = std::make_unique<ZSetWait>();
  wait->max = max;
  wait->count = count;
  wait->nested = nested;
  BlockRequest request;
  request.db = ctx.client().db;
  for (std::string_view key : keys) request.keys.emplace_back(key);
  request.deadline_ms = deadline;
  request.handler = &Handler();
  request.command = &ctx.cmd();
  request.state = std::move(wait);
  ctx.services().blocking.Block(ctx.client(), std::move(request));
}

// BZPOPMIN/BZPOPMAX key [key ...] timeout
void BlockingPopMinMax(CmdArgs args, CommandContext& ctx, bool max) {
  int64_t deadline;
  if (!GetBlockTimeout(ctx, args.back(), &deadline)) return;
  BlockingPop(ctx, args.subspan(1, args.size() - 2), max, deadline, -1, false);
}

void CmdBZPopMin(CmdArgs args, CommandContext& ctx) { BlockingPopMinMax(args, ctx, false); }
void CmdBZPopMax(CmdArgs args, CommandContext& ctx) { BlockingPopMinMax(args, ctx, true); }

// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]
void CmdBZMPop(CmdArgs args, CommandContext& ctx) {
  MPopArgs m;
  if (!GetMPopArgs(ctx, args, 2, "min", "max", &m)) return;
  int64_t deadline;
  if (!GetBlockTimeout(ctx, args[1], &deadline)) return;
  BlockingPop(ctx, m.keys, m.second_end, deadline, m.count, true);
}

// --- ZRANDMEMBER ------------------------------------------------------------------------------

// zrandmemberWithCountCommand.
void RandMemberWithCount(CommandContext& ctx, std::string_view key, int64_t l, bool withscores) {
  ReplyBuilder& rb = ctx.rb();
  ZSetValue* z;
  if (!LookupZSet(ctx, key, LookupMode::kRead, &z)) return;
  if (z == nullptr) return rb.SendEmptyArray();
  const size_t size = z->size();
  const bool uniq = l >= 0;
  const auto count = static_cast<uint64_t>(uniq ? l : -l);
  if (count == 0) return rb.SendEmptyArray();
  char buf[21];
  auto send = [&](Pos p) { SendScored(rb, z->Member(p, buf), z->ScoreAt(p), withscores); };

  // Case 1: a negative count (or 1): independent draws, repeats allowed.
  if (!uniq || count == 1) {
    rb.StartArray(ReplyLength(rb, count, withscores));
    if (z->is_listpack()) {
      std::vector<Pos> all;
      for (Pos p = z->First(); p.valid(); p = z->Next(p)) all.push_back(p);
      for (uint64_t i = 0; i < count; i++) send(all[Random(ctx) % all.size()]);
    } else {
      for (uint64_t i = 0; i < count; i++) send(z->AtRank(Random(ctx) % size));
    }
    return;
  }
  rb.StartArray(ReplyLength(rb, std::min<uint64_t>(count, size), withscores));
  // Case 2: the whole set, in the order Redis iterates it (from the highest score down).
  if (count >= size) {
    for (Pos p = z->Last(); p.valid(); p = z->Prev(p)) send(p);
    return;
  }
  std::vector<size_t> ranks;
  if (count * 3 > size) {
    // Case 3: most of the set: a random subset by a partial shuffle of the ranks.
    ranks.resize(size);
    for (size_t i = 0; i < size; i++) ranks[i] = i;
    for (size_t i = 0; i < count; i++) {
      std::swap(ranks[i], ranks[i + Random(ctx) % (size - i)]);
    }
    ranks.resize(count);
  } else {
    // Case 4: few of many: distinct random ranks.
    std::unordered_set<size_t> seen;
    while (ranks.size() < count) {
      const size_t r = Random(ctx) % size;
      if (seen.insert(r).second) ranks.push_back(r);
    }
    // lpRandomPairsUnique gives a listpack's picks in listpack order.
    if (z->is_listpack()) std::sort(ranks.begin(), ranks.end());
  }
  for (size_t r : ranks) send(z->AtRank(r));
}

// ZRANDMEMBER key [count [WITHSCORES]]
void CmdZRandMember(CmdArgs args, CommandContext& ctx) {
  if (args.size() >= 3) {
    int64_t l;
    if (!GetRangeLong(ctx, args[2], -INT64_MAX, INT64_MAX, &l)) return;
    if (args.size() > 4 || (args.size() == 4 && !EqualsIgnoreCase(args[3], "withscores"))) {
      return ctx.rb().SendError(errors::kSyntax);
    }
    const bool withscores = args.size() == 4;
    // The reply would hold 2|count| elements.
    if (withscores && (l < -INT64_MAX / 2 || l > INT64_MAX / 2)) {
      return ctx.rb().SendError("ERR value is out of range");
    }
    return RandMemberWithCount(ctx, args[1], l, withscores);
  }
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  if (z == nullptr) return ctx.rb().SendNull();
  SendMember(ctx.rb(), z, z->AtRank(Random(ctx) % z->size()));
}

// --- ZSCAN ------------------------------------------------------------------------------------

// ZSCAN key cursor [MATCH pattern] [COUNT count]: the cursor is checked first, the options only
// once the key is known to exist.
void CmdZScan(CmdArgs args, CommandContext& ctx) {
  uint64_t cursor;
  if (!GetScanCursor(ctx, args[2], &cursor)) return;
  ReplyBuilder& rb = ctx.rb();
  ZSetValue* z;
  if (!LookupZSet(ctx, args[1], LookupMode::kRead, &z)) return;
  if (z == nullptr) {
    rb.StartArray(2);
    rb.SendBulk("0");
    return rb.SendEmptyArray();
  }
  ScanOptions opts;
  if (!GetScanOptions(ctx, args, 3, false, &opts)) return;
  std::vector<std::string> items;  // member, score, member, score ...
  auto collect = [&items](std::string_view member, std::string_view score) {
    items.emplace_back(member);
    items.emplace_back(score);
  };
  ReplyPairScan(ctx, opts, cursor, z->is_listpack(), items,
                [&](uint64_t c) { return z->Scan(c, collect); });
}

}  // namespace

void RegisterZSetFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint32_t kB = CO::kBlocking;
  constexpr uint32_t kMK = CO::kMovableKeys;
  constexpr uint64_t kZ = Acl::kSortedSet;
  constexpr std::string_view kG = "sorted-set";
  constexpr std::string_view kRangeCost =
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
      "elements being returned. If M is constant (e.g. always asking for the first 10 elements "
      "with LIMIT), you can consider it O(log(N)).";
  constexpr std::string_view kRemRangeCost =
      "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
      "elements removed by the operation.";
  constexpr std::string_view kPopCost =
      "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
      "number of elements popped.";
  constexpr std::string_view kMPopCost =
      "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements "
      "in the sorted set, and M being the number of elements popped.";
  constexpr std::string_view kBPopCost =
      "O(log(N)) with N being the number of elements in the sorted set.";
  // clang-format off
  r << CommandSpec{"zadd", -4, kWD | kF, 1, 1, 1, kZ, CmdZAdd,
                   {"Add one or more members to a sorted set, or update its score if it already "
                    "exists", "1.2.0", kG,
                    "O(log(N)) for each item added, where N is the number of elements in the "
                    "sorted set.", "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]"}}
    << CommandSpec{"zincrby", 4, kWD | kF, 1, 1, 1, kZ, CmdZIncrBy,
                   {"Increment the score of a member in a sorted set", "1.2.0", kG,
                    "O(log(N)) where N is the number of elements in the sorted set.",
                    "key increment member"}}
    << CommandSpec{"zrem", -3, kW | kF, 1, 1, 1, kZ, CmdZRem,
                   {"Remove one or more members from a sorted set", "1.2.0", kG,
                    "O(M*log(N)) with N being the number of elements in the sorted set and M the "
                    "number of elements to be removed.", "key member [member ...]"}}
    << CommandSpec{"zcard", 2, kRO | kF, 1, 1, 1, kZ, CmdZCard,
                   {"Get the number of members in a sorted set", "1.2.0", kG, "O(1)", "key"}}
    << CommandSpec{"zcount", 4, kRO | kF, 1, 1, 1, kZ, CmdZCount,
                   {"Count the members in a sorted set with scores within the given values",
                    "2.0.0", kG,
                    "O(log(N)) with N being the number of elements in the sorted set.",
                    "key min max"}}
    << CommandSpec{"zlexcount", 4, kRO | kF, 1, 1, 1, kZ, CmdZLexCount,
                   {"Count the number of members in a sorted set between a given "
                    "lexicographical range", "2.8.9", kG,
                    "O(log(N)) with N being the number of elements in the sorted set.",
                    "key min max"}}
    << CommandSpec{"zscore", 3, kRO | kF, 1, 1, 1, kZ, CmdZScore,
                   {"Get the score associated with the given member in a sorted set", "1.2.0",
                    kG, "O(1)", "key member"}}
    << CommandSpec{"zmscore", -3, kRO | kF, 1, 1, 1, kZ, CmdZMScore,
                   {"Get the score associated with the given members in a sorted set", "6.2.0",
                    kG, "O(N) where N is the number of members being requested.",
                    "key member [member ...]"}}
    << CommandSpec{"zrank", 3, kRO | kF, 1, 1, 1, kZ, CmdZRank,
                   {"Determine the index of a member in a sorted set", "2.0.0", kG, "O(log(N))",
                    "key member"}}
    << CommandSpec{"zrevrank", 3, kRO | kF, 1, 1, 1, kZ, CmdZRevRank,
                   {"Determine the index of a member in a sorted set, with scores ordered from "
                    "high to low", "2.0.0", kG, "O(log(N))", "key member"}}
    << CommandSpec{"zrange", -4, kRO, 1, 1, 1, kZ, CmdZRange,
                   {"Return a range of members in a sorted set", "1.2.0", kG,
                    "O(log(N)+M) with N being the number of elements in the sorted set and M the "
                    "number of elements returned.",
                    "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]"}}
    << CommandSpec{"zrangestore", -5, kWD, 1, 2, 1, kZ, CmdZRangeStore,
                   {"Store a range of members from sorted set into another key", "6.2.0", kG,
                    "O(log(N)+M) with N being the number of elements in the sorted set and M the "
                    "number of elements stored into the destination key.",
                    "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]"}}
    << CommandSpec{"zrangebyscore", -4, kRO, 1, 1, 1, kZ, CmdZRangeByScore,
                   {"Return a range of members in a sorted set, by score", "1.0.5", kG,
                    kRangeCost, "key min max [WITHSCORES] [LIMIT offset count]"}}
    << CommandSpec{"zrevrangebyscore", -4, kRO, 1, 1, 1, kZ, CmdZRevRangeByScore,
                   {"Return a range of members in a sorted set, by score, with scores ordered "
                    "from high to low", "2.2.0", kG, kRangeCost,
                    "key max min [WITHSCORES] [LIMIT offset count]"}}
    << CommandSpec{"zrangebylex", -4, kRO, 1, 1, 1, kZ, CmdZRangeByLex,
                   {"Return a range of members in a sorted set, by lexicographical range",
                    "2.8.9", kG, kRangeCost, "key min max [LIMIT offset count]"}}
    << CommandSpec{"zrevrangebylex", -4, kRO, 1, 1, 1, kZ, CmdZRevRangeByLex,
                   {"Return a range of members in a sorted set, by lexicographical range, "
                    "ordered from higher to lower strings.", "2.8.9", kG, kRangeCost,
                    "key max min [LIMIT offset count]"}}
    << CommandSpec{"zrevrange", -4, kRO, 1, 1, 1, kZ, CmdZRevRange,
                   {"Return a range of members in a sorted set, by index, with scores ordered "
                    "from high to low", "1.2.0", kG,
                    "O(log(N)+M) with N being the number of elements in the sorted set and M the "
                    "number of elements returned.", "key start stop [WITHSCORES]"}}
    << CommandSpec{"zremrangebyrank", 4, kW, 1, 1, 1, kZ, CmdZRemRangeByRank,
                   {"Remove all members in a sorted set within the given indexes", "2.0.0", kG,
                    kRemRangeCost, "key start stop"}}
    << CommandSpec{"zremrangebyscore", 4, kW, 1, 1, 1, kZ, CmdZRemRangeByScore,
                   {"Remove all members in a sorted set within the given scores", "1.2.0", kG,
                    kRemRangeCost, "key min max"}}
    << CommandSpec{"zremrangebylex", 4, kW, 1, 1, 1, kZ, CmdZRemRangeByLex,
                   {"Remove all members in a sorted set between the given lexicographical "
                    "range", "2.8.9", kG, kRemRangeCost, "key min max"}}
    << CommandSpec{"zpopmin", -2, kW | kF, 1, 1, 1, kZ, CmdZPopMin,
                   {"Remove and return members with the lowest scores in a sorted set", "5.0.0",
                    kG, kPopCost, "key [count]"}}
    << CommandSpec{"zpopmax", -2, kW | kF, 1, 1, 1, kZ, CmdZPopMax,
                   {"Remove and return members with the highest scores in a sorted set",
                    "5.0.0", kG, kPopCost, "key [count]"}}
    << CommandSpec{"zmpop", -4, kW | kMK, 0, 0, 0, kZ, CmdZMPop,
                   {"Remove and return members with scores in a sorted set", "7.0.0", kG,
                    kMPopCost, "numkeys key [key ...] MIN|MAX [COUNT count]"}}
    << CommandSpec{"zrandmember", -2, kRO, 1, 1, 1, kZ, CmdZRandMember,
                   {"Get one or multiple random elements from a sorted set", "6.2.0", kG,
                    "O(N) where N is the number of elements returned",
                    "key [count [WITHSCORES]]"}}
    << CommandSpec{"zscan", -3, kRO, 1, 1, 1, kZ, CmdZScan,
                   {"Incrementally iterate sorted sets elements and associated scores", "2.8.0",
                    kG,
                    "O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..", "key cursor [MATCH pattern] [COUNT count]"}}
    << CommandSpec{"bzpopmin", -3, kW | CO::kNoScript | kB | kF, 1, -2, 1, kZ, CmdBZPopMin,
                   {"Remove and return the member with the lowest score from one or more "
                    "sorted sets, or block until one is available", "5.0.0", kG, kBPopCost,
                    "key [key ...] timeout"}}
    << CommandSpec{"bzpopmax", -3, kW | CO::kNoScript | kB | kF, 1, -2, 1, kZ, CmdBZPopMax,
                   {"Remove and return the member with the highest score from one or more "
                    "sorted sets, or block until one is available", "5.0.0", kG, kBPopCost,
                    "key [key ...] timeout"}}
    << CommandSpec{"bzmpop", -5, kW | kB | kMK, 0, 0, 0, kZ, CmdBZMPop,
                   {"Remove and return members with scores in a sorted set or block until one "
                    "is available", "7.0.0", kG, kMPopCost,
                    "timeout numkeys key [key ...] MIN|MAX [COUNT count]"}};
  // clang-format on
}

}  // namespace keyward
