// The sorted-set value as a data structure: the order-statistic B+tree and the member table of
// the skiplist encoding against a std::set model under random operations, the listpack encoding
// byte for byte against Redis 7.0.15's DUMP payloads, the conversions, and the range walks of
// both encodings against the same model.
#include "server/keyspace/zset_value.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/keyspace/score_tree.h"

namespace keyward {
namespace {

using Item = std::pair<double, std::string>;

// The model's order is the sorted set's: score, then member bytes.
struct ItemLess {
  bool operator()(const Item& a, const Item& b) const {
    return ZLess(a.first, a.second, b.first, b.second);
  }
};
using Model = std::set<Item, ItemLess>;

class Bytes : public ValueSink {
 public:
  void Write(std::string_view bytes) override { out.append(bytes); }
  std::string out;
};

std::string Serialised(const ZSetValue& z) {
  Bytes b;
  z.Serialise(b);
  return b.out;
}

std::vector<Item> Contents(const ZSetValue& z) {
  std::vector<Item> out;
  z.ForEach([&out](std::string_view m, double s) { out.emplace_back(s, std::string(m)); });
  return out;
}

std::vector<Item> Contents(const ScoreTree& t) {
  std::vector<Item> out;
  for (auto c = t.First(); c.valid(); c = ScoreTree::Next(c)) {
    out.emplace_back(ScoreTree::Get(c).score, std::string(ScoreTree::Get(c).member()));
  }
  return out;
}

// --- The index (table + tree) against a model -------------------------------------------------

void CheckIndex(const ZSetIndex& index, const Model& model) {
  std::string why;
  ASSERT_TRUE(index.tree().Check(&why)) << why;
  ASSERT_EQ(index.size(), model.size());
  std::vector<Item> want(model.begin(), model.end());
  ASSERT_EQ(Contents(index.tree()), want);
  // Backwards too.
  std::vector<Item> back;
  for (auto c = index.tree().Last(); c.valid(); c = ScoreTree::Prev(c)) {
    back.emplace_back(ScoreTree::Get(c).score, std::string(ScoreTree::Get(c).member()));
  }
  std::reverse(back.begin(), back.end());
  ASSERT_EQ(back, want);
}

TEST(ZSetScoreTree, RandomOperationsAgainstAModel) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    std::mt19937_64 rng(seed);
    ZSetIndex index;
    Model model;
    std::map<std::string, double> scores;
    // Few distinct scores, so that ties (ordered by member) are frequent.
    auto random_score = [&] { return static_cast<double>(rng() % 50) / 4 - 3; };
    auto random_member = [&] { return "m" + std::to_string(rng() % 3000); };
    for (int op = 0; op < 40000; op++) {
      const int kind = static_cast<int>(rng() % 100);
      if (kind < 50) {
        const std::string m = random_member();
        const double s = random_score();
        auto it = scores.find(m);
        if (it == scores.end()) {
          index.Insert(m, s);
          scores[m] = s;
          model.emplace(s, m);
        } else {
          ZNode* n = index.Find(m);
          ASSERT_NE(n, nullptr);
          model.erase({it->second, m});
          index.UpdateScore(n, s);
          it->second = s;
          model.emplace(s, m);
        }
      } else if (kind < 75) {
        const std::string m = random_member();
        auto it = scores.find(m);
        ASSERT_EQ(index.Remove(m), it != scores.end());
        if (it != scores.end()) {
          model.erase({it->second, m});
          scores.erase(it);
        }
      } else if (kind < 78 && !model.empty()) {
        // A range of ranks, possibly across many leaves.
        const size_t start = rng() % model.size();
        const size_t n = rng() % 200;
        const size_t removed = index.EraseRange(start, n);
        ASSERT_EQ(removed, std::min(n, model.size() - start));
        auto first = std::next(model.begin(), static_cast<std::ptrdiff_t>(start));
        auto last = std::next(first, static_cast<std::ptrdiff_t>(removed));
        for (auto it = first; it != last; ++it) scores.erase(it->second);
        model.erase(first, last);
      } else if (!model.empty()) {
        // Ranks, positions and counts.
        const size_t r = rng() % model.size();
        auto it = std::next(model.begin(), static_cast<std::ptrdiff_t>(r));
        ZNode* n = index.Find(it->second);
        ASSERT_NE(n, nullptr);
        ASSERT_EQ(index.Rank(n), r);
        const ScoreEntry& e = ScoreTree::Get(index.tree().At(r));
        ASSERT_EQ(e.member(), it->second);
        ASSERT_EQ(e.score, it->first);
        const double s = random_score();
        const size_t below = static_cast<size_t>(
            std::count_if(model.begin(), model.end(), [s](const Item& i) { return i.first < s; }));
        ASSERT_EQ(index.tree().CountWhile([s](const ScoreEntry& x) { return x.score < s; }), below);
      }
      if (op % 4000 == 0) CheckIndex(index, model);
    }
    CheckIndex(index, model);
    // A copy is equal and independent.
    ZSetIndex copy(index);
    CheckIndex(copy, model);
    // Everything goes in one range.
    index.EraseRange(0, index.size());
    CheckIndex(index, {});
    CheckIndex(copy, model);
  }
}

TEST(ZSetScoreTree, AscendingInsertsFillTheLeaves) {
  ZSetIndex index;
  for (int i = 0; i < 100000; i++) index.Insert("member:" + std::to_string(i), i);
  std::string why;
  ASSERT_TRUE(index.tree().Check(&why)) << why;
  // Full nodes: the tree costs about 17 bytes per member (1 KiB per 62 entries, plus inner
  // nodes).
  EXPECT_LT(index.tree().MemoryUsage(), 100000u * 35 / 2);
  // Descending inserts (prepends) too.
  ZSetIndex desc;
  for (int i = 0; i < 100000; i++) desc.Insert("member:" + std::to_string(i), -i);
  ASSERT_TRUE(desc.tree().Check(&why)) << why;
  EXPECT_LT(desc.tree().MemoryUsage(), 100000u * 35 / 2);
  // Deleting most members shrinks the tree with them.
  for (int i = 0; i < 100000; i++) {
    if (i % 10 != 0) {
      ASSERT_TRUE(index.Remove("member:" + std::to_string(i)));
    }
  }
  ASSERT_TRUE(index.tree().Check(&why)) << why;
  EXPECT_LT(index.tree().MemoryUsage(), 10000u * 70);
  EXPECT_EQ(index.Rank(index.Find("member:5000")), 500u);
}

TEST(ZSetScoreTree, MemberOrderIsBinary) {
  ZSetIndex index;
  const std::vector<std::string> members = {
      "", std::string("\0", 1), "a", std::string("a\0", 2), "ab", "b", "\xff", "\x7f"};
  for (const auto& m : members) index.Insert(m, 0);
  std::vector<std::string> got;
  for (auto c = index.tree().First(); c.valid(); c = ScoreTree::Next(c)) {
    got.emplace_back(ScoreTree::Get(c).member());
  }
  const std::vector<std::string> want = {
      "", std::string("\0", 1), "a", std::string("a\0", 2), "ab", "b", "\x7f", "\xff"};
  EXPECT_EQ(got, want);
}

// --- The listpack encoding, byte for byte -----------------------------------------------------

ZSetValue::Limits Big() { return {1u << 20, 1u << 20}; }

TEST(ZSetValue, ListpackBytesMatchRedis) {
  // ZADD k 1 a 2.5 b -3 c 1e19 d 100000 e -0 f inf g on Redis 7.0.15: DUMP without its type byte
  // and footer.
  ZSetValue z;
  const std::vector<std::pair<double, std::string>> adds = {
      {1, "a"},
      {2.5, "b"},
      {-3, "c"},
      {1e19, "d"},
      {100000, "e"},
      {-0.0, "f"},
      {std::numeric_limits<double>::infinity(), "g"}};
  for (const auto& [s, m] : adds) {
    EXPECT_EQ(z.Add(s, m, 0, nullptr, {128, 64}), ZSetValue::AddResult::kAdded);
  }
  EXPECT_TRUE(z.is_listpack());
  EXPECT_EQ(z.rdb_type(), 17);
  const std::string want(
      "99\x00\x00\x00\x0e\x00\x81"
      "c\x02\xdf\xfd\x02\x81"
      "f\x02\x00\x01\x81"
      "a\x02\x01\x01\x81"
      "b\x02\x83"
      "2.5\x04\x81"
      "e\x02\xf2\xa0\x86\x01\x04\x81"
      "d\x02\x85"
      "1e+19\x06\x81"
      "g\x02\x83"
      "inf\x04\xff",
      58);
  EXPECT_EQ(Serialised(z), want);
  // -0 is stored as the integer 0.
  double score;
  ASSERT_TRUE(z.Score("f", &score));
  EXPECT_FALSE(std::signbit(score));
  EXPECT_EQ(z.Rank("c", false), 0);
  EXPECT_EQ(z.Rank("g", true), 0);
  EXPECT_EQ(z.Rank("nope", false), -1);
}

TEST(ZSetValue, SkiplistSerialisesFromTheHighestScore) {
  // ZADD s 1 a 2.5 b -0 c -inf d as a skiplist on Redis 7.0.15.
  auto z = ZSetValue::NewSkiplist();
  z->Add(1, "a", 0, nullptr, Big());
  z->Add(2.5, "b", 0, nullptr, Big());
  z->Add(-0.0, "c", 0, nullptr, Big());
  z->Add(-std::numeric_limits<double>::infinity(), "d", 0, nullptr, Big());
  EXPECT_FALSE(z->is_listpack());
  EXPECT_EQ(z->encoding(), Encoding::kSkipList);
  EXPECT_EQ(z->rdb_type(), 5);
  const std::string want(
      "\x04\x01"
      "b\x00\x00\x00\x00\x00\x00\x04@\x01"
      "a\x00\x00\x00\x00\x00\x00\xf0?\x01"
      "c\x00\x00\x00\x00\x00\x00\x00\x80\x01"
      "d\x00\x00\x00\x00\x00\x00\xf0\xff",
      41);
  EXPECT_EQ(Serialised(*z), want);
  // A skiplist keeps -0.
  double score;
  ASSERT_TRUE(z->Score("c", &score));
  EXPECT_TRUE(std::signbit(score));
}

TEST(ZSetValue, AddFlagsAndConversions) {
  ZSetValue z;
  const ZSetValue::Limits limits{3, 5};
  double ns = 0;
  EXPECT_EQ(z.Add(1, "a", 0, &ns, limits), ZSetValue::AddResult::kAdded);
  EXPECT_EQ(z.Add(1, "a", 0, &ns, limits), ZSetValue::AddResult::kUnchanged);
  EXPECT_EQ(z.Add(2, "a", ZSetValue::kNx, &ns, limits), ZSetValue::AddResult::kNop);
  EXPECT_EQ(z.Add(2, "b", ZSetValue::kXx, &ns, limits), ZSetValue::AddResult::kNop);
  EXPECT_EQ(z.Add(0, "a", ZSetValue::kGt, &ns, limits), ZSetValue::AddResult::kNop);
  EXPECT_EQ(z.Add(5, "a", ZSetValue::kGt, &ns, limits), ZSetValue::AddResult::kUpdated);
  EXPECT_EQ(z.Add(2, "a", ZSetValue::kIncr, &ns, limits), ZSetValue::AddResult::kUpdated);
  EXPECT_EQ(ns, 7);
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(z.Add(inf, "a", ZSetValue::kIncr, &ns, limits), ZSetValue::AddResult::kUpdated);
  EXPECT_EQ(z.Add(-inf, "a", ZSetValue::kIncr, &ns, limits), ZSetValue::AddResult::kNan);
  EXPECT_EQ(z.Add(std::nan(""), "b", 0, &ns, limits), ZSetValue::AddResult::kNan);
  EXPECT_TRUE(z.is_listpack());
  // Three members fit; a fourth converts for good.
  z.Add(1, "b", 0, nullptr, limits);
  z.Add(1, "c", 0, nullptr, limits);
  EXPECT_TRUE(z.is_listpack());
  z.Add(1, "d", 0, nullptr, limits);
  EXPECT_FALSE(z.is_listpack());
  z.Remove("d");
  z.Remove("c");
  EXPECT_FALSE(z.is_listpack());
  // Back only when asked (the *STORE results).
  z.ConvertToListpackIfNeeded(1, 2, limits);
  EXPECT_TRUE(z.is_listpack());
  EXPECT_EQ(Contents(z), (std::vector<Item>{{1, "b"}, {inf, "a"}}));
  // A long member converts before it is added.
  ZSetValue y;
  y.Add(1, "12345", 0, nullptr, limits);
  EXPECT_TRUE(y.is_listpack());
  y.Add(1, "123456", 0, nullptr, limits);
  EXPECT_FALSE(y.is_listpack());
  EXPECT_EQ(Contents(y), (std::vector<Item>{{1, "12345"}, {1, "123456"}}));
  // Clones are deep and keep the encoding.
  auto c = y.Clone();
  y.Remove("12345");
  EXPECT_EQ(static_cast<ZSetValue*>(c.get())->size(), 2u);
  EXPECT_EQ(c->encoding(), Encoding::kSkipList);
}

TEST(ZSetValue, RangeParsing) {
  ScoreRange r;
  EXPECT_TRUE(ParseScoreRange("(1.5", "inf", &r));
  EXPECT_TRUE(r.minex);
  EXPECT_FALSE(r.maxex);
  EXPECT_EQ(r.min, 1.5);
  EXPECT_TRUE(std::isinf(r.max));
  // strtod over a C string: spaces first, an empty number, bytes after a NUL.
  EXPECT_TRUE(ParseScoreRange(" 1", "", &r));
  EXPECT_EQ(r.max, 0);
  EXPECT_TRUE(ParseScoreRange("(", std::string("2\0x", 3), &r));
  EXPECT_TRUE(r.minex);
  EXPECT_EQ(r.max, 2);
  EXPECT_FALSE(ParseScoreRange("nan", "1", &r));
  EXPECT_FALSE(ParseScoreRange("1", "1x", &r));
  EXPECT_FALSE(ParseScoreRange("[1", "2", &r));
  LexRange l;
  EXPECT_TRUE(ParseLexRange("-", "+", &l));
  EXPECT_FALSE(l.Empty());
  EXPECT_TRUE(ParseLexRange("+", "-", &l));
  EXPECT_TRUE(l.Empty());
  EXPECT_TRUE(ParseLexRange("[a", "(a", &l));
  EXPECT_TRUE(l.Empty());
  EXPECT_TRUE(ParseLexRange("[a", "[a", &l));
  EXPECT_FALSE(l.Empty());
  EXPECT_TRUE(ParseLexRange("(", "[", &l));
  EXPECT_FALSE(ParseLexRange("a", "[b", &l));
  EXPECT_FALSE(ParseLexRange("-x", "+", &l));
  EXPECT_FALSE(ParseLexRange("", "+", &l));
}

// --- Both encodings against the model ----------------------------------------------------------

std::vector<Item> Walk(const ZSetValue& z, ZSetValue::Pos p, bool reverse,
                       const std::function<bool(const Item&)>& keep) {
  std::vector<Item> out;
  char buf[21];
  for (; p.valid(); p = reverse ? z.Prev(p) : z.Next(p)) {
    Item i{z.ScoreAt(p), std::string(z.Member(p, buf))};
    if (!keep(i)) break;
    out.push_back(i);
  }
  return out;
}

TEST(ZSetValue, RangesOnBothEncodingsMatchTheModel) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 60; round++) {
    const bool large = round % 2 == 1;
    ZSetValue lp;
    auto sl = ZSetValue::NewSkiplist();
    ZSetValue& z = large ? *sl : lp;
    Model model;
    std::map<std::string, double> scores;
    const int n = large ? 300 : 60;
    // Lexicographic ranges need equal scores to be meaningful: every other round has them.
    const bool same_score = round % 4 < 2;
    for (int i = 0; i < n; i++) {
      const std::string m = std::to_string(rng() % 500);  // some are listpack integers
      const double s = same_score ? 0 : static_cast<double>(rng() % 20) - 5;
      z.Add(s, m, 0, nullptr, Big());
      if (scores.count(m) != 0) model.erase({scores[m], m});
      scores[m] = s;
      model.emplace(s, m);
    }
    ASSERT_EQ(z.is_listpack(), !large);
    ASSERT_EQ(Contents(z), std::vector<Item>(model.begin(), model.end()));
    for (int q = 0; q < 50; q++) {
      ScoreRange r;
      r.min = static_cast<double>(rng() % 24) - 7;
      r.max = static_cast<double>(rng() % 24) - 7;
      r.minex = rng() % 2;
      r.maxex = rng() % 2;
      std::vector<Item> want;
      for (const Item& i : model) {
        if (r.GteMin(i.first) && r.LteMax(i.first)) want.push_back(i);
      }
      auto in_max = [&r](const Item& i) { return r.LteMax(i.first); };
      auto in_min = [&r](const Item& i) { return r.GteMin(i.first); };
      EXPECT_EQ(Walk(z, z.FirstInRange(r), false, in_max), want);
      std::vector<Item> rev(want.rbegin(), want.rend());
      EXPECT_EQ(Walk(z, z.LastInRange(r), true, in_min), rev);
      EXPECT_EQ(z.Count(r), want.size());
      if (same_score) {
        LexRange l;
        auto bound = [&rng](LexBound* b) {
          const int k = static_cast<int>(rng() % 10);
          if (k == 0) {
            b->kind = LexBound::Kind::kMin;
            b->exclusive = true;
          } else if (k == 1) {
            b->kind = LexBound::Kind::kMax;
            b->exclusive = true;
          } else {
            b->kind = LexBound::Kind::kValue;
            b->exclusive = rng() % 2;
            b->value = std::to_string(rng() % 500);
          }
        };
        bound(&l.min);
        bound(&l.max);
        std::vector<Item> lwant;
        for (const Item& i : model) {
          if (!l.Empty() && l.GteMin(i.second) && l.LteMax(i.second)) lwant.push_back(i);
        }
        auto lex_max = [&l](const Item& i) { return l.LteMax(i.second); };
        auto lex_min = [&l](const Item& i) { return l.GteMin(i.second); };
        EXPECT_EQ(Walk(z, z.FirstInLexRange(l), false, lex_max), lwant);
        std::vector<Item> lrev(lwant.rbegin(), lwant.rend());
        EXPECT_EQ(Walk(z, z.LastInLexRange(l), true, lex_min), lrev);
        EXPECT_EQ(z.LexCount(l), lwant.size());
      }
      const size_t rank = rng() % model.size();
      char buf[21];
      EXPECT_EQ(z.Member(z.AtRank(rank), buf),
                std::next(model.begin(), static_cast<std::ptrdiff_t>(rank))->second);
    }
    // Deleting ranges on a copy of each (a range that leaves some members).
    if (same_score) continue;
    ZSetValue copy(z);
    ScoreRange r{-2, 3, false, true};
    const size_t removed = copy.DeleteRangeByScore(r);
    size_t expected = 0;
    for (const Item& i : model) expected += r.GteMin(i.first) && r.LteMax(i.first);
    EXPECT_EQ(removed, expected);
    EXPECT_EQ(copy.Count(r), 0u);
    EXPECT_EQ(copy.size(), model.size() - expected);
    const size_t before = copy.size();
    EXPECT_EQ(copy.DeleteRangeByRank(1, 3), 3u);
    EXPECT_EQ(copy.size(), before - 3);
    std::string m;
    double s;
    copy.Pop(true, &m, &s);
    EXPECT_EQ(m, std::prev(model.end())->second);
    copy.Pop(false, &m, &s);
    EXPECT_EQ(m, model.begin()->second);
  }
}

TEST(ZSetValue, ScanGivesScoresAsEachEncodingStoresThem) {
  ZSetValue lp;
  lp.Add(1e18, "a", 0, nullptr, Big());
  lp.Add(1.5, "b", 0, nullptr, Big());
  std::vector<std::string> got;
  EXPECT_EQ(lp.Scan(0,
                    [&got](std::string_view m, std::string_view s) {
                      got.emplace_back(m);
                      got.emplace_back(s);
                    }),
            0u);
  EXPECT_EQ(got, (std::vector<std::string>{"b", "1.5", "a", "1000000000000000000"}));
  auto sl = ZSetValue::NewSkiplist();
  sl->Add(1e18, "a", 0, nullptr, Big());
  got.clear();
  uint64_t cursor = 0;
  do {
    cursor = sl->Scan(cursor, [&got](std::string_view m, std::string_view s) {
      got.emplace_back(m);
      got.emplace_back(s);
    });
  } while (cursor != 0);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "1e+18"}));
}

}  // namespace
}  // namespace keyward
