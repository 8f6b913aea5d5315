// ZUNION, ZINTER, ZDIFF, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE and ZINTERCARD (t_zset.c's
// zunionInterDiffGenericCommand): weights, AGGREGATE, sets read as members of score 1, the
// result's encoding chosen as Redis chooses it, and a stored result that replaces its
// destination (an empty one deletes it).
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
#include "server/commands/zset_support.h"
#include "server/engine/registry.h"
#include "server/keyspace/set_value.h"

namespace keyward {

namespace {

using zset::AsZSet;
using zset::GetDouble;
using zset::Limits;
using zset::ReplyLength;
using zset::SendScored;
using zset::StoreResult;

// --- ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD -------------------------------------

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input: a sorted set, a set (every member scores 1), or nothing (a missing key).
struct Source {
  ZSetValue* zset = nullptr;
  SetValue* set = nullptr;
  double weight = 1;

  size_t size() const { return zset ? zset->size() : set ? set->size() : 0; }
  const void* object() const {
    return zset ? static_cast<const void*>(zset) : static_cast<const void*>(set);
  }
  bool Find(std::string_view member, double* score) const {
    if (zset != nullptr) return zset->Score(member, score);
    if (set != nullptr && set->Contains(member)) {
      *score = 1.0;
      return true;
    }
    return false;
  }
  void ForEach(const std::function<void(std::string_view, double)>& fn) const {
    if (zset != nullptr) {
      zset->ForEach(fn, true);  // zuiNext walks a sorted set from its tail
    } else if (set != nullptr) {
      char buf[21];
      set->ForEach([&](const SetMember& m) { fn(m.View(buf), 1.0); });
    }
  }
};

// zunionInterAggregate: inf + -inf sums to 0, not NaN.
void AggregateInto(double* target, double value, Aggregate aggregate) {
  switch (aggregate) {
    case Aggregate::kSum:
      *target += value;
      if (std::isnan(*target)) *target = 0.0;
      break;
    case Aggregate::kMin:
      *target = value < *target ? value : *target;
      break;
    case Aggregate::kMax:
      *target = value > *target ? value : *target;
      break;
  }
}

using Scored = std::pair<std::string, double>;

// zunionInterDiffGenericCommand: `numkeys_idx` is where numkeys is, `dst` the destination of the
// STORE forms, `cardinality_only` ZINTERCARD.
void SetOperation(CmdArgs args, CommandContext& ctx, size_t numkeys_idx,
                  std::optional<std::string_view> dst, SetOp op, bool cardinality_only) {
  ReplyBuilder& rb = ctx.rb();
  int64_t setnum;
  if (!GetLong(ctx, args[numkeys_idx], &setnum)) return;
  if (setnum < 1) {
    return rb.SendError("ERR at least 1 input key is needed for '" + ctx.cmd().full_name() +
                        "' command");
  }
  if (static_cast<uint64_t>(setnum) > args.size() - (numkeys_idx + 1)) {
    return rb.SendError(errors::kSyntax);
  }
  std::vector<Source> src(static_cast<size_t>(setnum));
  size_t j = numkeys_idx + 1;
  for (Source& s : src) {
    Entry* e = ctx.db().Find(args[j++], LookupMode::kRead);
    if (e == nullptr) continue;
    if (e->type() == ObjType::kZSet) {
      s.zset = AsZSet(e);
    } else if (e->type() == ObjType::kSet) {
      s.set = e->value_as<SetValue>();
    } else {
      return rb.SendError(errors::kWrongType);
    }
  }
  Aggregate aggregate = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;  // ZINTERCARD: stop counting there; 0: no limit
  while (j < args.size()) {
    const size_t remaining = args.size() - j;
    const bool weighted = op != SetOp::kDiff && !cardinality_only;
    if (weighted && remaining >= src.size() + 1 && EqualsIgnoreCase(args[j], "weights")) {
      j++;
      for (Source& s : src) {
        if (!GetDouble(ctx, args[j++], &s.weight, "ERR weight value is not a float")) return;
      }
    } else if (weighted && remaining >= 2 && EqualsIgnoreCase(args[j], "aggregate")) {
      const std::string_view a = args[j + 1];
      if (EqualsIgnoreCase(a, "sum")) {
        aggregate = Aggregate::kSum;
      } else if (EqualsIgnoreCase(a, "min")) {
        aggregate = Aggregate::kMin;
      } else if (EqualsIgnoreCase(a, "max")) {
        aggregate = Aggregate::kMax;
      } else {
        return rb.SendError(errors::kSyntax);
      }
      j += 2;
    } else if (!dst && !cardinality_only && EqualsIgnoreCase(args[j], "withscores")) {
      j++;
      withscores = true;
    } else if (cardinality_only && remaining >= 2 && EqualsIgnoreCase(args[j], "limit")) {
      if (!GetPositiveLong(ctx, args[j + 1], &limit, "LIMIT can't be negative")) return;
      j += 2;
    } else {
      return rb.SendError(errors::kSyntax);
    }
  }
  // Smallest first (glibc's qsort is a stable merge sort here): the order sums are taken in.
  if (op != SetOp::kDiff) {
    std::stable_sort(src.begin(), src.end(),
                     [](const Source& a, const Source& b) { return a.size() < b.size(); });
  }

  std::vector<Scored> result;
  uint64_t cardinality = 0;
  if (op == SetOp::kInter) {
    if (src[0].size() > 0) {
      bool stop = false;
      src[0].ForEach([&](std::string_view member, double zscore) {
        if (stop) return;
        double score = src[0].weight * zscore;
        if (std::isnan(score)) score = 0;
        size_t k = 1;
        for (; k < src.size(); k++) {
          double value;
          // The input being iterated is never looked up (a lookup moves a table's rehash
          // along under the iteration): the same key given twice scores its own score.
          if (src[k].object() == src[0].object()) {
            value = zscore;
          } else if (!src[k].Find(member, &value)) {
            break;
          }
          AggregateInto(&score, value * src[k].weight, aggregate);
        }
        if (k != src.size()) return;
        if (cardinality_only) {
          cardinality++;
          if (limit != 0 && cardinality >= static_cast<uint64_t>(limit)) stop = true;
        } else {
          result.emplace_back(member, score);
        }
      });
    }
  } else if (op == SetOp::kUnion) {
    std::unordered_map<std::string, double> acc;
    acc.reserve(src.back().size());
    for (const Source& s : src) {
      s.ForEach([&](std::string_view member, double zscore) {
        double score = s.weight * zscore;
        if (std::isnan(score)) score = 0;
        auto [it, inserted] = acc.try_emplace(std::string(member), score);
        if (!inserted) AggregateInto(&it->second, score, aggregate);
      });
    }
    result.reserve(acc.size());
    for (auto& [member, score] : acc) result.emplace_back(member, score);
  } else if (src[0].size() > 0) {
    // The first input minus the others; nothing at all when one of them is the first itself.
    bool self = false;
    for (size_t k = 1; k < src.size(); k++) self |= src[k].object() == src[0].object();
    if (!self) {
      src[0].ForEach([&](std::string_view member, double score) {
        double unused;
        for (size_t k = 1; k < src.size(); k++) {
          if (src[k].Find(member, &unused)) return;
        }
        result.emplace_back(member, score);
      });
    }
  }

  if (cardinality_only) return rb.SendLong(static_cast<int64_t>(cardinality));
  std::sort(result.begin(), result.end(), [](const Scored& a, const Scored& b) {
    return ZLess(a.second, a.first, b.second, b.first);
  });
  if (dst) {
    if (result.empty()) return StoreResult(ctx, *dst, nullptr, "");
    // A skiplist result, back to a listpack when small enough (zsetConvertToListpackIfNeeded).
    // Inserted in order, every member lands at the end of the last leaf: full leaves.
    auto value = ZSetValue::NewSkiplist();
    size_t maxelelen = 0, totelelen = 0;
    for (const auto& [member, score] : result) {
      value->InsertNew(member, score);
      maxelelen = std::max(maxelelen, member.size());
      totelelen += member.size();
    }
    value->ConvertToListpackIfNeeded(maxelelen, totelelen, Limits(ctx));
    const std::string_view event = op == SetOp::kUnion   ? "zunionstore"
                                   : op == SetOp::kInter ? "zinterstore"
                                                         : "zdiffstore";
    return StoreResult(ctx, *dst, std::move(value), event);
  }
  rb.StartArray(ReplyLength(rb, result.size(), withscores));
  for (const auto& [member, score] : result) SendScored(rb, member, score, withscores);
}

void CmdZUnion(CmdArgs args, CommandContext& ctx) {
  SetOperation(args, ctx, 1, std::nullopt, SetOp::kUnion, false);
}
void CmdZInter(CmdArgs args, CommandContext& ctx) {
  SetOperation(args, ctx, 1, std::nullopt, SetOp::kInter, false);
}
void CmdZDiff(CmdArgs args, CommandContext& ctx) {
  SetOperation(args, ctx, 1, std::nullopt, SetOp::kDiff, false);
}
void CmdZInterCard(CmdArgs args, CommandContext& ctx) {
  SetOperation(args, ctx, 1, std::nullopt, SetOp::kInter, true);
}
void CmdZUnionStore(CmdArgs args, CommandContext& ctx) {
  SetOperation(args, ctx, 2, args[1], SetOp::kUnion, false);
}
void CmdZInterStore(CmdArgs args, CommandContext& ctx) {
  SetOperation(args, ctx, 2, args[1], SetOp::kInter, false);
}
void CmdZDiffStore(CmdArgs args, CommandContext& ctx) {
  SetOperation(args, ctx, 2, args[1], SetOp::kDiff, false);
}

}  // namespace

void RegisterZSetOpsFamily(CommandRegistry& r) {
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kMK = CO::kMovableKeys;
  constexpr uint64_t kZ = Acl::kSortedSet;
  constexpr std::string_view kG = "sorted-set";
  constexpr std::string_view kUnionCost =
      "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
      "the number of elements in the resulting sorted set.";
  constexpr std::string_view kInterCost =
      "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
      "number of input sorted sets and M being the number of elements in the resulting sorted "
      "set.";
  constexpr std::string_view kDiffCost =
      "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
      "is the size of the first set, and K is the size of the result set.";
  // clang-format off
  r << CommandSpec{"zunion", -3, kRO | kMK, 0, 0, 0, kZ, CmdZUnion,
                   {"Add multiple sorted sets", "6.2.0", kG, kUnionCost,
                    "numkeys key [key ...] [WEIGHTS weight [weight ...]] "
                    "[AGGREGATE SUM|MIN|MAX] [WITHSCORES]"}}
    << CommandSpec{"zinter", -3, kRO | kMK, 0, 0, 0, kZ, CmdZInter,
                   {"Intersect multiple sorted sets", "6.2.0", kG, kInterCost,
                    "numkeys key [key ...] [WEIGHTS weight [weight ...]] "
                    "[AGGREGATE SUM|MIN|MAX] [WITHSCORES]"}}
    << CommandSpec{"zdiff", -3, kRO | kMK, 0, 0, 0, kZ, CmdZDiff,
                   {"Subtract multiple sorted sets", "6.2.0", kG, kDiffCost,
                    "numkeys key [key ...] [WITHSCORES]"}}
    << CommandSpec{"zunionstore", -4, kWD | kMK, 1, 1, 1, kZ, CmdZUnionStore,
                   {"Add multiple sorted sets and store the resulting sorted set in a new key",
                    "2.0.0", kG,
                    "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted "
                    "sets, and M being the number of elements in the resulting sorted set.",
                    "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
                    "[AGGREGATE SUM|MIN|MAX]"}}
    << CommandSpec{"zinterstore", -4, kWD | kMK, 1, 1, 1, kZ, CmdZInterStore,
                   {"Intersect multiple sorted sets and store the resulting sorted set in a new "
                    "key", "2.0.0", kG, kInterCost,
                    "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
                    "[AGGREGATE SUM|MIN|MAX]"}}
    << CommandSpec{"zdiffstore", -4, kWD | kMK, 1, 1, 1, kZ, CmdZDiffStore,
                   {"Subtract multiple sorted sets and store the resulting sorted set in a new "
                    "key", "6.2.0", kG, kDiffCost, "destination numkeys key [key ...]"}}
    << CommandSpec{"zintercard", -3, kRO | kMK, 0, 0, 0, kZ, CmdZInterCard,
                   {"Intersect multiple sorted sets and return the cardinality of the result",
                    "7.0.0", kG,
                    "O(N*K) worst case with N being the smallest input sorted set, K being the "
                    "number of input sorted sets.", "numkeys key [key ...] [LIMIT limit]"}};
  // clang-format on
}

}  // namespace keyward
