// The HyperLogLog value (keyspace/hyperloglog.h) on its own: Redis's byte format, the sparse
// edits, promotion to dense, the estimator, and corrupt values. Expected bytes and registers come
// from redis-server 7.0.15 (PFDEBUG DECODE / GET of the same PFADDs) and from the worked example
// in hyperloglog.c's header comment. The fuzz test is meant for the sanitizer build: hundreds of
// corrupt values through every operation, which must agree on what is valid and never read or
// write out of bounds.
#include "server/keyspace/hyperloglog.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace keyward::hll {
namespace {

using namespace std::string_literals;

std::string Header(uint8_t encoding = kSparse) {
  std::string h = "HYLL"s + static_cast<char>(encoding) + std::string(11, '\0');
  return h;
}
std::string XZero(int n) {
  return {static_cast<char>(((n - 1) >> 8) | 0x40), static_cast<char>((n - 1) & 0xff)};
}
std::string Zero(int n) { return std::string(1, static_cast<char>(n - 1)); }
std::string Val(int v, int n) {
  return std::string(1, static_cast<char>(0x80 | ((v - 1) << 2) | (n - 1)));
}

// Adds `elements` through an editor; returns how many calls changed a register.
int AddAll(std::string& value, const std::vector<std::string>& elements, int64_t max_bytes = 3000) {
  Editor editor(value, max_bytes);
  int changed = 0;
  for (const auto& e : elements) {
    int r = editor.Add(e);
    EXPECT_GE(r, 0) << e;
    changed += r;
  }
  return changed;
}

std::vector<std::string> Elements(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; i++) out.push_back(prefix + std::to_string(i));
  return out;
}

TEST(HyperLogLogTest, HashPatternsMatchRedis) {
  // PFADD t <element>; PFDEBUG DECODE t on redis-server: "Z:<index> v:<count>,1 ...".
  struct Case {
    std::string element;
    uint32_t index;
    uint8_t count;
  };
  for (const Case& c : std::vector<Case>{{"a", 12711, 2},
                                         {"", 5938, 2},
                                         {"hello", 9216, 1},
                                         {"12345678", 10579, 3},
                                         {"123456789", 9293, 2},
                                         {"the quick brown fox jumps over", 11963, 1},
                                         {"big6209776902", 2711, 33}}) {
    Pattern p = PatternOf(c.element);
    EXPECT_EQ(p.index, c.index) << c.element;
    EXPECT_EQ(p.count, c.count) << c.element;
  }
}

TEST(HyperLogLogTest, NewValueIsAnEmptySparseHll) {
  std::string v = NewSparse();
  EXPECT_EQ(v, Header() + "\x7f\xff"s);
  EXPECT_TRUE(LooksLikeHll(v));
  EXPECT_EQ(CachedCardinality(v), 0u);
  EXPECT_EQ(Count(v), 0u);
  EXPECT_EQ(DecodeSparse(v), "Z:16384");
}

TEST(HyperLogLogTest, SixteenElementsGiveRedisBytes) {
  // GET after PFADD t a b ... p and PFCOUNT t on redis-server.
  std::string v = NewSparse();
  std::vector<std::string> elements;
  for (char c = 'a'; c <= 'p'; c++) elements.emplace_back(1, c);
  AddAll(v, elements);
  EXPECT_EQ(CachedCardinality(v), std::nullopt);  // invalidated by the edits
  ASSERT_EQ(Count(v), 16u);
  StoreCardinality(v, 16);
  const std::string expected =
      "HYLL\x01\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00"
      "DE\x8c\x42\x26\x80\x40\x89\x88\x48\x5f\x84\x40\xfc\x80\x40"
      "\xc4\x84\x4b\x5c\x80\x44\x3c\x84\x38\x80\x42\x3d\x80\x4b\x83\x80"
      "\x42\xed\x84\x41\xfc\x8c\x43\x93\x84\x43\xf9\x80\x42\x6d\x80\x42"
      "\x5a"s;
  EXPECT_EQ(v, expected);
}

TEST(HyperLogLogTest, SparseSplitsAndMergesAsInRedisExample) {
  // hyperloglog.c: registers 1000, 1020, 1021 set to 2, 3, 3 are
  // XZERO:1000 VAL:2,1 ZERO:19 VAL:3,2 XZERO:15362.
  std::string v = NewSparse();
  {
    Editor editor(v, 3000);
    EXPECT_EQ(editor.Set(1000, 2), 1);
    EXPECT_EQ(editor.Set(1021, 3), 1);
    EXPECT_EQ(editor.Set(1020, 3), 1);
    EXPECT_EQ(editor.Set(1020, 3), 0);  // not larger: nothing changes
    EXPECT_EQ(editor.Set(1020, 1), 0);
  }
  EXPECT_EQ(v.substr(kHeaderSize), XZero(1000) + Val(2, 1) + Zero(19) + Val(3, 2) + XZero(15362));
  EXPECT_EQ(DecodeSparse(v), "Z:1000 v:2,1 z:19 v:3,2 Z:15362");
  {
    Editor editor(v, 3000);
    EXPECT_EQ(editor.Set(1021, 4), 1);  // splits the VAL run
  }
  EXPECT_EQ(DecodeSparse(v), "Z:1000 v:2,1 z:19 v:3,1 v:4,1 Z:15362");
  {
    Editor editor(v, 3000);
    EXPECT_EQ(editor.Set(0, 1), 1);
    EXPECT_EQ(editor.Set(16383, 1), 1);
    EXPECT_EQ(editor.Set(1, 1), 1);  // ZERO of one register becomes a VAL, merged with its left
  }
  EXPECT_EQ(DecodeSparse(v), "v:1,2 Z:998 v:2,1 z:19 v:3,1 v:4,1 Z:15361 v:1,1");
  EXPECT_EQ(Count(v), 6u);
}

TEST(HyperLogLogTest, EditsInvalidateTheCacheOnlyWhenTheyChangeSomething) {
  std::string v = NewSparse();
  {
    Editor editor(v, 3000);
    EXPECT_EQ(editor.Set(5, 3), 1);
  }
  StoreCardinality(v, 1);
  {
    Editor editor(v, 3000);
    EXPECT_EQ(editor.Set(5, 2), 0);
    EXPECT_EQ(editor.Set(5, 3), 0);
  }
  EXPECT_EQ(CachedCardinality(v), 1u);
  {
    Editor editor(v, 3000);
    EXPECT_EQ(editor.Set(5, 4), 1);
  }
  EXPECT_EQ(CachedCardinality(v), std::nullopt);
  EXPECT_EQ(static_cast<uint8_t>(v[15]), 0x80);
}

TEST(HyperLogLogTest, ValueAbove32TurnsDense) {
  std::string v = NewSparse();
  {
    Editor editor(v, 3000);
    ASSERT_EQ(editor.Set(7, 32), 1);
    EXPECT_EQ(editor.encoding(), kSparse);
  }
  // The conversion copies the header, cached cardinality included (the dense edit that follows
  // does not invalidate it: PFADD does, once done).
  StoreCardinality(v, 42);
  Editor editor(v, 3000);
  ASSERT_EQ(editor.Set(9, 33), 1);
  EXPECT_EQ(editor.encoding(), kDense);
  EXPECT_EQ(editor.value().size(), kDenseSize);
  EXPECT_EQ(CachedCardinality(editor.value()), 42u);
  EXPECT_EQ(DenseRegister(editor.value(), 7), 32);
  EXPECT_EQ(DenseRegister(editor.value(), 9), 33);
  EXPECT_EQ(DenseRegister(editor.value(), 8), 0);
  EXPECT_EQ(editor.Set(9, 33), 0);
  EXPECT_EQ(editor.Set(16383, 63), 1);
  EXPECT_EQ(DenseRegister(editor.value(), 16383), 63);
  EXPECT_EQ(DenseRegister(editor.value(), 16382), 0);
}

TEST(HyperLogLogTest, TurnsDenseWhenAnEditWouldPassTheSizeLimit) {
  // The empty value is 18 bytes. Splitting its XZERO at register 5 gives ZERO:5 VAL XZERO: 20
  // bytes, within a limit of 20; the next split would need 22.
  std::string v = NewSparse();
  Editor editor(v, 20);
  ASSERT_EQ(editor.Set(5, 3), 1);
  EXPECT_EQ(editor.encoding(), kSparse);
  EXPECT_EQ(editor.value().size(), 20u);
  // Raising a VAL of one register does not grow the value: allowed at the limit.
  ASSERT_EQ(editor.Set(5, 5), 1);
  EXPECT_EQ(editor.encoding(), kSparse);
  ASSERT_EQ(editor.Set(9000, 4), 1);
  EXPECT_EQ(editor.encoding(), kDense);
  EXPECT_EQ(DenseRegister(editor.value(), 5), 5);
  EXPECT_EQ(DenseRegister(editor.value(), 9000), 4);
  // With a limit of 0 the first split already turns the value dense.
  std::string w = NewSparse();
  Editor small(w, 0);
  ASSERT_EQ(small.Set(100, 1), 1);
  EXPECT_EQ(small.encoding(), kDense);
}

TEST(HyperLogLogTest, SparseAndDenseEstimatesAgree) {
  std::mt19937_64 rng(1);
  for (int n : {0, 1, 10, 100, 1000, 3000, 10000}) {
    std::string sparse = NewSparse();
    std::string dense = NewSparse();
    { Editor(dense, 3000).ToDense(); }
    std::vector<std::string> elements;
    for (int i = 0; i < n; i++) elements.push_back(std::to_string(rng()));
    AddAll(sparse, elements, 1 << 20);  // stays sparse however many
    AddAll(dense, elements);
    ASSERT_EQ(EncodingOf(sparse), kSparse);
    ASSERT_EQ(EncodingOf(dense), kDense);
    std::optional<uint64_t> a = Count(sparse), b = Count(dense);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b) << n;
    Registers merged{};
    ASSERT_TRUE(MergeInto(merged, sparse));
    EXPECT_EQ(Count(merged), *a) << n;
    for (uint32_t i = 0; i < kRegisters; i++) {
      ASSERT_EQ(merged[i], DenseRegister(dense, i));
    }
    // Within 5% (the standard error is 0.81%).
    EXPECT_NEAR(static_cast<double>(*a), n, n * 0.05 + 1) << n;
  }
}

TEST(HyperLogLogTest, EstimateOfImpossibleRegistersIsRedisOverflow) {
  // Every register at 63 (only a SET makes such a value): the estimator divides by zero and
  // Redis's llroundl(inf) conversion gives 2^63; redis-server answers PFCOUNT with
  // -9223372036854775808 (and stores 2^63, whose top bit then reads as a stale cache).
  std::string v = Header(kDense) + std::string(kDenseSize - kHeaderSize, '\xff');
  EXPECT_EQ(Count(v), uint64_t{1} << 63);
}

// Dense register bytes: `groups` times the four registers r0..r3 (3 bytes), then zeros.
std::string DenseRegs(int r0, int r1, int r2, int r3, int groups = kRegisters / 4) {
  std::string group = {static_cast<char>((r0 | r1 << 6) & 0xff),
                       static_cast<char>((r1 >> 2 | r2 << 4) & 0xff),
                       static_cast<char>((r2 >> 4 | r3 << 2) & 0xff)};
  std::string out;
  for (int i = 0; i < groups; i++) out += group;
  return out + std::string(3 * (kRegisters / 4 - groups), '\0');
}

TEST(HyperLogLogTest, EstimatesWithRegistersAt51MatchRedis) {
  // Registers at Q + 1 = 51 go through hllTau; only hand-made values have them. PFCOUNT of the
  // same values on redis-server.
  EXPECT_EQ(Count(Header(kDense) + DenseRegs(51, 0, 51, 7)), 36666u);
  EXPECT_EQ(Count(Header(kDense) + DenseRegs(51, 3, 12, 60, 100)), 405u);
  // hllTau's term is halved 50 times: it shows only when every other register is high too
  // (without it: 25380159564675 and 25989283394227192).
  EXPECT_EQ(Count(Header(kDense) + DenseRegs(51, 30, 51, 30)), 25380152306768u);
  EXPECT_EQ(Count(Header(kDense) + DenseRegs(51, 40, 51, 40)), 25981675153099444u);
}

TEST(HyperLogLogTest, LooksLikeHllChecksTheHeaderOnly) {
  EXPECT_FALSE(LooksLikeHll(""));
  EXPECT_FALSE(LooksLikeHll(Header().substr(0, 15)));
  EXPECT_TRUE(LooksLikeHll(Header()));  // no opcodes at all: corrupt, but an HLL string
  EXPECT_FALSE(LooksLikeHll("HYLX" + Header().substr(4) + XZero(16384)));
  EXPECT_FALSE(LooksLikeHll(Header(2) + XZero(16384)));
  EXPECT_FALSE(LooksLikeHll(Header(kDense) + XZero(16384)));
  EXPECT_TRUE(LooksLikeHll(Header(kDense) + std::string(kDenseSize - kHeaderSize, '\0')));
  EXPECT_FALSE(LooksLikeHll(Header(kDense) + std::string(kDenseSize - kHeaderSize + 1, '\0')));
}

TEST(HyperLogLogTest, CorruptSparseValuesAreReported) {
  const std::string full = XZero(16384);
  for (const std::string& body :
       {full + "hello"s, full + Val(3, 1), full + Zero(1), XZero(16000), ""s,
        XZero(16383) + Val(2, 4), XZero(16383) + Zero(2), full + full, XZero(16384).substr(0, 1)}) {
    std::string v = Header() + body;
    EXPECT_EQ(Count(v), std::nullopt) << DecodeSparse(v);
    Registers max{};
    EXPECT_FALSE(MergeInto(max, v)) << DecodeSparse(v);
    std::string copy = v;
    Editor editor(copy, 3000);
    EXPECT_FALSE(editor.ToDense()) << DecodeSparse(v);
    EXPECT_EQ(editor.value(), v);  // left as it was
  }
  // A last XZERO cut short reads its second byte as zero: "\x40" alone is one register.
  std::string v = Header() + XZero(16383) + "\x40"s;
  EXPECT_EQ(Count(v), 0u);
  EXPECT_EQ(DecodeSparse(v), "Z:16383 Z:1");
  // A register past the opcodes cannot be set.
  std::string w = Header() + XZero(100);
  Editor editor(w, 3000);
  EXPECT_EQ(editor.Set(50, 1), 1);
  EXPECT_EQ(editor.Set(100, 1), -1);
}

TEST(HyperLogLogTest, FuzzedCorruptValuesAreSafeAndConsistent) {
  std::mt19937_64 rng(20260401);
  std::vector<std::string> bases;
  for (int n : {0, 1, 5, 30, 200, 800, 3000}) {
    std::string v = NewSparse();
    AddAll(v, Elements("f", n));
    bases.push_back(v);
  }
  auto byte = [&rng] { return static_cast<char>(rng() & 0xff); };
  for (int iter = 0; iter < 600; iter++) {
    std::string v = bases[rng() % bases.size()];
    for (int m = 0, mutations = 1 + rng() % 3; m < mutations; m++) {
      switch (rng() % 6) {
        case 0:
          if (v.size() > kHeaderSize) v[kHeaderSize + rng() % (v.size() - kHeaderSize)] = byte();
          break;
        case 1:
          v.resize(rng() % (v.size() + 1));
          break;
        case 2:
          for (int k = 1 + rng() % 4; k > 0; k--) v.push_back(byte());
          break;
        case 3:
          if (v.size() > kHeaderSize) {
            v.insert(v.begin() + kHeaderSize + rng() % (v.size() - kHeaderSize), byte());
          }
          break;
        case 4:
          if (v.size() > kHeaderSize) v.erase(kHeaderSize + rng() % (v.size() - kHeaderSize), 1);
          break;
        case 5:
          if (v.size() > 4) v[4] = static_cast<char>(rng() % 3);
          break;
      }
    }
    SCOPED_TRACE("iteration " + std::to_string(iter));
    if (!LooksLikeHll(v)) continue;
    // Every reader agrees on whether the value is valid.
    std::optional<uint64_t> card = Count(v);
    Registers max{};
    const bool merged = MergeInto(max, v);
    ASSERT_EQ(card.has_value(), merged);
    if (EncodingOf(v) == kSparse) (void)DecodeSparse(v);
    std::string dense = v;
    {
      Editor editor(dense, 3000);
      ASSERT_EQ(editor.ToDense(), merged);
    }
    if (merged) {
      ASSERT_EQ(Count(dense), card);
      for (uint32_t i = 0; i < kRegisters; i++) {
        ASSERT_EQ(DenseRegister(dense, i), max[i]);
      }
    }
    // Edits never go out of bounds, whatever the value; on a valid value they keep it valid.
    std::string edited = v;
    {
      Editor editor(edited, rng() % 2 ? 3000 : 40);
      for (const std::string& e : Elements("x" + std::to_string(iter), 1 + rng() % 40)) {
        int r = editor.Add(e);
        ASSERT_TRUE(!merged || r >= 0);
        if (r < 0) break;
      }
    }
    if (merged) {
      ASSERT_TRUE(Count(edited).has_value());
    }
  }
}

TEST(HyperLogLogTest, SelfTestPasses) {
  std::mt19937_64 rng(3);
  EXPECT_EQ(SelfTest(rng, 3000, 20, 200000), std::nullopt);
}

}  // namespace
}  // namespace keyward::hll
