// Sorted sets: Redis 7.0's two encodings and its rules for moving between them (t_zset.c).
//
//   listpack  member, score, member, score ... in one Listpack (listpack.h), ordered by score
//             and then member bytes, byte for byte as Redis lays it out: a score that is an
//             integer within +-2^62 is stored as an integer entry, any other as its %.17g text
//             ("inf", "1.5", "1e+19"). So -0 becomes 0 in a listpack, as in Redis.
//   skiplist  (the name Redis reports) a ZSetIndex (score_tree.h): a member table and an
//             order-statistic B+tree.
//
// A sorted set becomes a skiplist when it would hold more than zset-max-listpack-entries members
// or is given a member longer than zset-max-listpack-value bytes, and stays one; the only way
// back is ConvertToListpackIfNeeded, which ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE apply to their
// results (zsetConvertToListpackIfNeeded). The thresholds are passed in by the command layer.
//
// Ranges: ScoreRange and LexRange are ZRANGEBYSCORE's and ZRANGEBYLEX's intervals; the functions
// over them follow Redis's zzl* (listpack) and zsl* (skiplist) walks, so that even a lexicographic
// range over members of different scores gives Redis's answer for a listpack.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "server/keyspace/listpack.h"
#include "server/keyspace/score_tree.h"
#include "server/keyspace/value.h"

namespace keyward {

// zrangespec: [min, max] with either end exclusive.
struct ScoreRange {
  double min = 0;
  double max = 0;
  bool minex = false;
  bool maxex = false;

  bool GteMin(double v) const { return minex ? v > min : v >= min; }
  bool LteMax(double v) const { return maxex ? v < max : v <= max; }
  // Ranges that can hold nothing (min > max, or an empty point).
  bool Empty() const { return min > max || (min == max && (minex || maxex)); }
};

// zslParseRange: "1.5", "(1.5" (exclusive), "inf", "-inf". Parsed as Redis's strtod over a C
// string does: leading spaces are skipped, an embedded NUL ends the number, an empty string is 0;
// NaN is refused.
bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* out);

// One end of a zlexrangespec: "-" and "+" (the smallest and greatest strings), "[x" (x
// included) or "(x" (x excluded).
struct LexBound {
  enum class Kind : uint8_t { kMin, kMax, kValue };
  Kind kind = Kind::kValue;
  bool exclusive = false;
  std::string value;

  // sdscmplex(s, bound): the sign of s - bound.
  int Compare(std::string_view s) const;
};

struct LexRange {
  LexBound min, max;

  bool GteMin(std::string_view s) const {
    int c = min.Compare(s);
    return min.exclusive ? c > 0 : c >= 0;
  }
  bool LteMax(std::string_view s) const {
    int c = max.Compare(s);
    return max.exclusive ? c < 0 : c <= 0;
  }
  bool Empty() const;
};

// zslParseLexRange: both ends must start with '(' or '[', or be exactly "-" or "+".
bool ParseLexRange(std::string_view min, std::string_view max, LexRange* out);

class ZSetValue : public Value {
 public:
  // zset-max-listpack-entries and zset-max-listpack-value.
  struct Limits {
    size_t max_entries = 128;
    size_t max_value = 64;
  };

  // ZADD's flags (ZADD_IN_*).
  static constexpr int kIncr = 1;
  static constexpr int kNx = 2;
  static constexpr int kXx = 4;
  static constexpr int kGt = 8;
  static constexpr int kLt = 16;
  // What zsetAdd did (ZADD_OUT_*; kUnchanged: present with the same score).
  enum class AddResult { kNan, kAdded, kUpdated, kUnchanged, kNop };

  // An empty listpack (createZsetListpackObject).
  ZSetValue() = default;
  // An empty skiplist (createZsetObject).
  static std::unique_ptr<ZSetValue> NewSkiplist();
  // A listpack sorted set holding `lp` as it is (RESTORE keeps a payload's listpack), or nullptr
  // when `lp` is not one: an odd number of entries, a member twice, a score that is not a number
  // (or NaN), or pairs out of (score, member) order. The last two go beyond Redis's
  // sanitisation, which trusts the scores; every walk of a listpack set here relies on them.
  static std::unique_ptr<ZSetValue> FromListpack(Listpack lp);
  ZSetValue(const ZSetValue& other);
  ZSetValue& operator=(const ZSetValue&) = delete;

  ObjType type() const override { return ObjType::kZSet; }
  Encoding encoding() const override {
    return is_listpack() ? Encoding::kListPack : Encoding::kSkipList;
  }
  std::unique_ptr<Value> Clone() const override;
  size_t MemoryUsage() const override;
  // One allocation for a listpack, one per member for a skiplist.
  size_t FreeEffort() const override { return is_listpack() ? 1 : size(); }
  // RDB_TYPE_ZSET_LISTPACK (17) or RDB_TYPE_ZSET_2 (5).
  uint8_t rdb_type() const override { return is_listpack() ? 17 : 5; }
  void Serialise(ValueSink& out) const override;
  std::unique_ptr<ValueWriter> NewWriter() const override;

  bool is_listpack() const { return std::holds_alternative<Listpack>(rep_); }
  size_t size() const;
  bool empty() const { return size() == 0; }

  // zsetAdd: adds `member` or updates its score by `flags` (kIncr adds `score` to the current
  // one). *new_score gets the resulting score when the member was added or processed. A listpack
  // becomes a skiplist before a new member would make it too long or the member is too long.
  AddResult Add(double score, std::string_view member, int flags, double* new_score,
                const Limits& limits);
  // Adds a member known to be absent, without conversion checks (building a skiplist result).
  void InsertNew(std::string_view member, double score);
  bool Remove(std::string_view member);
  // The member's score; false when absent. Not const: a table lookup moves its rehash along.
  bool Score(std::string_view member, double* score);
  // zsetRank: 0-based from the lowest score (from the highest when `reverse`); -1 when absent.
  int64_t Rank(std::string_view member, bool reverse);

  // --- Ordered access ---------------------------------------------------------------------
  // A position in the order, valid until the set changes.
  struct Pos {
    uint32_t lp = Listpack::kEnd;  // listpack: the member entry's offset
    ScoreTree::Cursor tree;        // skiplist
    bool valid() const { return lp != Listpack::kEnd || tree.valid(); }
  };
  Pos First() const;
  Pos Last() const;
  Pos AtRank(size_t rank) const;  // invalid when rank >= size()
  Pos Next(Pos p) const;
  Pos Prev(Pos p) const;
  // The member at `p`; `buf` (at least 21 bytes) holds a listpack integer's digits.
  std::string_view Member(Pos p, char* buf) const;
  double ScoreAt(Pos p) const;

  // zzl/zsl First/LastInRange and First/LastInLexRange: the first (last) element in the range,
  // invalid when none.
  Pos FirstInRange(const ScoreRange& r) const;
  Pos LastInRange(const ScoreRange& r) const;
  Pos FirstInLexRange(const LexRange& r) const;
  Pos LastInLexRange(const LexRange& r) const;
  // Removes the member with the lowest (highest when `max`) score, returning it and its score.
  // The set must not be empty.
  void Pop(bool max, std::string* member, double* score);

  // ZCOUNT and ZLEXCOUNT.
  size_t Count(const ScoreRange& r) const;
  size_t LexCount(const LexRange& r) const;

  // ZREMRANGEBY*: ranks `start`..`end` (inclusive, already clamped), or a range. Return how many
  // members went.
  size_t DeleteRangeByRank(size_t start, size_t end);
  size_t DeleteRangeByScore(const ScoreRange& r);
  size_t DeleteRangeByLex(const LexRange& r);

  // Calls fn(member, score) for every member, from the lowest score up (from the highest down
  // when `reverse`). fn must not change the set.
  void ForEach(const std::function<void(std::string_view, double)>& fn, bool reverse = false) const;
  // ZSCAN's step: a skiplist scans its member table with Redis's cursor; a listpack gives every
  // member and returns 0. Scores come as Redis's scan prints them: a skiplist's as %.17g, a
  // listpack's as the entry holds them.
  uint64_t Scan(uint64_t cursor, const std::function<void(std::string_view, std::string_view)>& fn);

  // zsetConvert to the skiplist encoding (no-op if already).
  void ConvertToSkiplist();
  // zsetConvertToListpackIfNeeded: back to a listpack when small enough.
  void ConvertToListpackIfNeeded(size_t maxelelen, size_t totelelen, const Limits& limits);

  // The structures, for tests.
  const Listpack* listpack() const { return std::get_if<Listpack>(&rep_); }
  const ZSetIndex* index() const {
    auto* p = std::get_if<std::unique_ptr<ZSetIndex>>(&rep_);
    return p ? p->get() : nullptr;
  }

 private:
  class TreeWriter;  // the skiplist's RDB form, a piece at a time

  Listpack& lp() { return std::get<Listpack>(rep_); }
  const Listpack& lp() const { return std::get<Listpack>(rep_); }
  ZSetIndex& sl() { return *std::get<std::unique_ptr<ZSetIndex>>(rep_); }
  const ZSetIndex& sl() const { return *std::get<std::unique_ptr<ZSetIndex>>(rep_); }

  // Listpack helpers (zzl*): the member entry at `eptr`, its score is the next entry.
  double LpScore(uint32_t eptr) const;
  uint32_t LpFind(std::string_view member, double* score) const;
  void LpInsert(std::string_view member, double score);
  bool LpIsInRange(const ScoreRange& r) const;
  bool LpIsInLexRange(const LexRange& r) const;
  Pos TreePos(ScoreTree::Cursor c) const;

  std::variant<Listpack, std::unique_ptr<ZSetIndex>> rep_;
};

// Whether a listpack stores `score` as an integer entry, and which (Redis's double2ll: an
// integral value within +-2^62; -0 is the integer 0). Other scores are stored as d2string text.
bool ZScoreAsInteger(double score, int64_t* ll);

}  // namespace keyward
