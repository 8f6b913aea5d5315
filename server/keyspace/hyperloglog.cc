#include "server/keyspace/hyperloglog.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace keyward::hll {

namespace {

constexpr int kRegisterMax = (1 << kBits) - 1;  // 63
constexpr size_t kDenseBytes = kDenseSize - kHeaderSize;
constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)

// Sparse opcodes.
constexpr uint8_t kXZeroBit = 0x40;  // 01xxxxxx
constexpr uint8_t kValBit = 0x80;    // 1vvvvvxx
constexpr int kSparseValMaxValue = 32;
constexpr int kSparseValMaxLen = 4;
constexpr int kSparseZeroMaxLen = 64;

bool IsZero(uint8_t b) { return (b & 0xc0) == 0; }
bool IsXZero(uint8_t b) { return (b & 0xc0) == kXZeroBit; }
bool IsVal(uint8_t b) { return (b & kValBit) != 0; }
int ZeroLen(uint8_t b) { return (b & 0x3f) + 1; }
// `next` is the byte after the opcode's first one: past the end of the value, Redis reads the
// sds terminator, a zero.
int XZeroLen(uint8_t b, uint8_t next) { return (((b & 0x3f) << 8) | next) + 1; }
int ValValue(uint8_t b) { return ((b >> 2) & 0x1f) + 1; }
int ValLen(uint8_t b) { return (b & 0x3) + 1; }
uint8_t ValOp(int value, int len) {
  return static_cast<uint8_t>(((value - 1) << 2 | (len - 1)) | kValBit);
}
uint8_t ZeroOp(int len) { return static_cast<uint8_t>(len - 1); }
void PutXZero(uint8_t* p, int len) {
  const int l = len - 1;
  p[0] = static_cast<uint8_t>((l >> 8) | kXZeroBit);
  p[1] = static_cast<uint8_t>(l & 0xff);
}

// The byte at `i` of `v`, or the zero terminator Redis's sds would have there.
uint8_t ByteAt(std::string_view v, size_t i) {
  return i < v.size() ? static_cast<uint8_t>(v[i]) : 0;
}

// Dense registers: register i starts at bit 6i, counted from the LSB of each byte. `len` is the
// size of the register area; the last register never needs the byte after it (its bits all fit),
// which Redis reads from the sds terminator and which is not read here.
uint8_t GetRegister(const uint8_t* regs, size_t len, uint32_t i) {
  const size_t byte = static_cast<size_t>(i) * kBits / 8;
  const unsigned fb = (i * kBits) & 7;
  const unsigned b0 = regs[byte];
  const unsigned b1 = byte + 1 < len ? regs[byte + 1] : 0;
  return static_cast<uint8_t>(((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax);
}

void SetRegister(uint8_t* regs, size_t len, uint32_t i, uint8_t val) {
  const size_t byte = static_cast<size_t>(i) * kBits / 8;
  const unsigned fb = (i * kBits) & 7;
  const unsigned fb8 = 8 - fb;
  const unsigned v = val;
  regs[byte] = static_cast<uint8_t>((regs[byte] & ~(kRegisterMax << fb)) | (v << fb));
  if (byte + 1 < len) {
    regs[byte + 1] = static_cast<uint8_t>((regs[byte + 1] & ~(kRegisterMax >> fb8)) | (v >> fb8));
  }
}

// hllDenseSet: 1 if the register was raised.
int DenseSet(uint8_t* regs, uint32_t index, uint8_t count) {
  if (count <= GetRegister(regs, kDenseBytes, index)) return 0;
  SetRegister(regs, kDenseBytes, index, count);
  return 1;
}

const uint8_t* RegistersOf(std::string_view value) {
  return reinterpret_cast<const uint8_t*>(value.data()) + kHeaderSize;
}

using Histogram = std::array<int, 64>;

// Calls fn(i, value) for every dense register in order. Every 3 bytes hold 4 registers, so they
// are read four at a time, without GetRegister's per-register index arithmetic and bound check.
template <typename Fn>
void ForEachDenseRegister(const uint8_t* r, Fn&& fn) {
  for (uint32_t i = 0; i < static_cast<uint32_t>(kRegisters); i += 4, r += 3) {
    fn(i, static_cast<uint8_t>(r[0] & 63));
    fn(i + 1, static_cast<uint8_t>((r[0] >> 6 | r[1] << 2) & 63));
    fn(i + 2, static_cast<uint8_t>((r[1] >> 4 | r[2] << 4) & 63));
    fn(i + 3, static_cast<uint8_t>((r[2] >> 2) & 63));
  }
}

void DenseHistogram(const uint8_t* r, Histogram& h) {
  ForEachDenseRegister(r, [&h](uint32_t, uint8_t v) { h[v]++; });
}

// False when the opcodes overflow or do not cover all registers (Redis's fix for CVE-2025-32023,
// which Debian's 7.0.15 carries, treats any overflow as corruption).
bool SparseHistogram(std::string_view value, Histogram& h) {
  int64_t idx = 0;
  for (size_t p = kHeaderSize; p < value.size();) {
    const uint8_t b = static_cast<uint8_t>(value[p]);
    int runlen, regval = 0;
    if (IsZero(b)) {
      runlen = ZeroLen(b);
      p++;
    } else if (IsXZero(b)) {
      runlen = XZeroLen(b, ByteAt(value, p + 1));
      p += 2;
    } else {
      runlen = ValLen(b);
      regval = ValValue(b);
      p++;
    }
    if (runlen + idx > kRegisters) return false;
    idx += runlen;
    h[regval] += runlen;
  }
  return idx == kRegisters;
}

double Sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prime;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prime = z;
    z += x * y;
    y += y;
  } while (z_prime != z);
  return z;
}

double Tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prime;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prime = z;
    y *= 0.5;
    // Redis writes pow(1 - x, 2), which GCC compiles to this exact product.
    const double d = 1 - x;
    z -= d * d * y;
  } while (z_prime != z);
  return z / 3;
}

// What `(uint64_t)(double)llroundl(v)` gives on x86-64, as Redis computes it: out-of-range and
// infinite values round to LLONG_MIN (the x87 "integer indefinite"), whose conversion to an
// unsigned 64-bit integer gives 2^63. An all-63 dense HLL (only a SET makes one) estimates +inf.
uint64_t RoundLikeRedis(double v) {
  constexpr double kTwo63 = 9223372036854775808.0;
  int64_t r;
  if (!(v >= -kTwo63 && v < kTwo63)) {
    r = std::numeric_limits<int64_t>::min();
  } else {
    r = std::llround(v);
  }
  const double e = static_cast<double>(r);
  if (e >= kTwo63) return static_cast<uint64_t>(static_cast<int64_t>(e - kTwo63)) ^ (1ULL << 63);
  return static_cast<uint64_t>(static_cast<int64_t>(e));
}

uint64_t Estimate(const Histogram& h) {
  const double m = kRegisters;
  double z = m * Tau((m - h[kQ + 1]) / m);
  for (int j = kQ; j >= 1; --j) {
    z += h[j];
    z *= 0.5;
  }
  z += m * Sigma(h[0] / m);
  return RoundLikeRedis(kAlphaInf * m * m / z);
}

}  // namespace

uint64_t MurmurHash64A(std::string_view data, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  // Redis takes the length as an int; the product is of its sign-extended value.
  const int len = static_cast<int>(data.size());
  uint64_t h = seed ^ (static_cast<uint64_t>(static_cast<int64_t>(len)) * m);
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  const size_t words = data.size() / 8;
  for (size_t i = 0; i < words; i++, p += 8) {
    uint64_t k = 0;
    for (int b = 7; b >= 0; b--) k = (k << 8) | p[b];  // little endian on every host
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
  }
  switch (data.size() & 7) {
    case 7:
      h ^= static_cast<uint64_t>(p[6]) << 48;
      [[fallthrough]];
    case 6:
      h ^= static_cast<uint64_t>(p[5]) << 40;
      [[fallthrough]];
    case 5:
      h ^= static_cast<uint64_t>(p[4]) << 32;
      [[fallthrough]];
    case 4:
      h ^= static_cast<uint64_t>(p[3]) << 24;
      [[fallthrough]];
    case 3:
      h ^= static_cast<uint64_t>(p[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint64_t>(p[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint64_t>(p[0]);
      h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

Pattern PatternOf(std::string_view element) {
  uint64_t hash = MurmurHash64A(element, kHashSeed);
  const auto index = static_cast<uint32_t>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;  // the run ends by bit Q at the latest: count <= Q + 1
  return {index, static_cast<uint8_t>(std::countr_zero(hash) + 1)};
}

bool LooksLikeHll(std::string_view value) {
  if (value.size() < kHeaderSize || value.substr(0, 4) != "HYLL") return false;
  const uint8_t enc = EncodingOf(value);
  if (enc > kSparse) return false;
  return enc != kDense || value.size() == kDenseSize;
}

std::string NewSparse() {
  std::string v(kHeaderSize + 2, '\0');
  std::memcpy(v.data(), "HYLL", 4);
  v[4] = static_cast<char>(kSparse);
  PutXZero(reinterpret_cast<uint8_t*>(v.data()) + kHeaderSize, kRegisters);
  return v;
}

std::optional<uint64_t> CachedCardinality(std::string_view value) {
  if (static_cast<uint8_t>(value[15]) & 0x80) return std::nullopt;
  uint64_t card = 0;
  for (int i = 7; i >= 0; i--) card = (card << 8) | static_cast<uint8_t>(value[8 + i]);
  return card;
}

void StoreCardinality(std::string& value, uint64_t card) {
  for (int i = 0; i < 8; i++) value[8 + i] = static_cast<char>((card >> (8 * i)) & 0xff);
}

std::optional<uint64_t> Count(std::string_view value) {
  Histogram h{};
  if (EncodingOf(value) == kDense) {
    DenseHistogram(RegistersOf(value), h);
  } else if (!SparseHistogram(value, h)) {
    return std::nullopt;
  }
  return Estimate(h);
}

uint64_t Count(const Registers& registers) {
  Histogram h{};
  for (uint8_t r : registers) h[r & 63]++;
  return Estimate(h);
}

bool MergeInto(Registers& max, std::string_view value) {
  if (EncodingOf(value) == kDense) {
    ForEachDenseRegister(RegistersOf(value), [&max](uint32_t i, uint8_t v) {
      if (v > max[i]) max[i] = v;
    });
    return true;
  }
  int64_t i = 0;
  for (size_t p = kHeaderSize; p < value.size();) {
    const uint8_t b = static_cast<uint8_t>(value[p]);
    if (IsZero(b) || IsXZero(b)) {
      const int runlen = IsZero(b) ? ZeroLen(b) : XZeroLen(b, ByteAt(value, p + 1));
      if (runlen + i > kRegisters) return false;
      i += runlen;
      p += IsZero(b) ? 1 : 2;
    } else {
      const int runlen = ValLen(b);
      const auto regval = static_cast<uint8_t>(ValValue(b));
      if (runlen + i > kRegisters) return false;
      for (int k = 0; k < runlen; k++, i++) {
        if (regval > max[i]) max[i] = regval;
      }
      p++;
    }
  }
  return i == kRegisters;
}

uint8_t DenseRegister(std::string_view value, uint32_t index) {
  return GetRegister(RegistersOf(value), kDenseBytes, index);
}

std::string DecodeSparse(std::string_view value) {
  std::string out;
  for (size_t p = kHeaderSize; p < value.size();) {
    const uint8_t b = static_cast<uint8_t>(value[p]);
    if (IsZero(b)) {
      out += "z:" + std::to_string(ZeroLen(b)) + " ";
      p++;
    } else if (IsXZero(b)) {
      out += "Z:" + std::to_string(XZeroLen(b, ByteAt(value, p + 1))) + " ";
      p += 2;
    } else {
      out += "v:" + std::to_string(ValValue(b)) + "," + std::to_string(ValLen(b)) + " ";
      p++;
    }
  }
  if (!out.empty()) out.pop_back();  // sdstrim(" "): only the last separator is a space
  return out;
}

// ---------------------------------------------------------------------------------------------
// Editor

namespace {
// Room past the logical end: a split grows the value by up to 3 bytes, and the copy of a split
// sequence over a cut-short last opcode writes one byte past even that.
constexpr size_t kSlack = 8;
}  // namespace

Editor::Editor(std::string& value, int64_t sparse_max_bytes)
    : value_(value), len_(value.size()), sparse_max_bytes_(sparse_max_bytes) {
  if (encoding() == kSparse) MakeRoom();
}

Editor::~Editor() { value_.resize(len_); }

void Editor::MakeRoom() {
  if (value_.size() < len_ + kSlack) value_.resize(len_ + kSlack, '\0');
}

void Editor::IncrLen(long delta) {
  len_ = static_cast<size_t>(static_cast<long>(len_) + delta);
  bytes()[len_] = 0;
}

void Editor::InvalidateCache() { bytes()[15] |= 0x80; }

int Editor::Add(std::string_view element) {
  const Pattern pat = PatternOf(element);
  return Set(pat.index, pat.count);
}

int Editor::Set(uint32_t index, uint8_t count) {
  if (encoding() == kDense) return DenseSet(bytes() + kHeaderSize, index, count);
  return SparseSet(index, count);
}

bool Editor::ToDense() {
  if (encoding() == kDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), value_.data(), kHeaderSize);  // magic, unused bytes, cached card
  dense[4] = static_cast<char>(kDense);
  auto* regs = reinterpret_cast<uint8_t*>(dense.data()) + kHeaderSize;
  const uint8_t* s = bytes();
  int64_t idx = 0;
  for (size_t p = kHeaderSize; p < len_;) {
    const uint8_t b = s[p];
    if (IsZero(b) || IsXZero(b)) {
      const int runlen = IsZero(b) ? ZeroLen(b) : XZeroLen(b, s[p + 1]);
      if (runlen + idx > kRegisters) return false;
      idx += runlen;
      p += IsZero(b) ? 1 : 2;
    } else {
      const int runlen = ValLen(b);
      const auto regval = static_cast<uint8_t>(ValValue(b));
      if (runlen + idx > kRegisters) return false;
      for (int k = 0; k < runlen; k++, idx++) {
        SetRegister(regs, kDenseBytes, static_cast<uint32_t>(idx), regval);
      }
      p++;
    }
  }
  if (idx != kRegisters) return false;
  value_ = std::move(dense);
  len_ = kDenseSize;
  return true;
}

// hllSparseSet, step by step. Offsets stand for Redis's pointers; `npos` for NULL.
int Editor::SparseSet(uint32_t index, uint8_t count) {
  constexpr size_t npos = static_cast<size_t>(-1);
  // A value the sparse encoding cannot hold: promote, then set the register in the dense one.
  if (count > kSparseValMaxValue) {
    return ToDense() ? DenseSet(bytes() + kHeaderSize, index, count) : -1;
  }
  MakeRoom();

  // Step 1: find the opcode that covers register `index`.
  uint8_t* s = bytes();
  const size_t sparse = kHeaderSize;
  size_t end = len_;
  size_t p = sparse;
  size_t prev = npos;
  int64_t first = 0, span = 0;
  while (p < end) {
    size_t oplen = 1;
    if (IsZero(s[p])) {
      span = ZeroLen(s[p]);
    } else if (IsVal(s[p])) {
      span = ValLen(s[p]);
    } else {
      span = XZeroLen(s[p], s[p + 1]);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return -1;  // corrupt: the opcodes end before the register

  size_t next = IsXZero(s[p]) ? p + 2 : p + 1;
  if (next >= end) next = npos;
  const bool is_zero = IsZero(s[p]);
  const bool is_xzero = IsXZero(s[p]);
  const bool is_val = !is_zero && !is_xzero;
  const int64_t runlen = span;

  // Step 2: the cases that need no split. A VAL already >= count changes nothing; a VAL or ZERO
  // covering only this register is rewritten in place.
  bool updated = false;
  if (is_val) {
    if (ValValue(s[p]) >= count) return 0;
    if (runlen == 1) {
      s[p] = ValOp(count, 1);
      updated = true;
    }
  }
  if (!updated && is_zero && runlen == 1) {
    s[p] = ValOp(count, 1);
    updated = true;
  }

  if (!updated) {
    // The general case: split the opcode in up to three (XZERO-VAL-XZERO at worst, 5 bytes).
    uint8_t seq[5];
    uint8_t* n = seq;
    const auto last = static_cast<int>(first + span - 1);
    const auto idx = static_cast<int>(index);
    const auto first_reg = static_cast<int>(first);
    if (is_zero || is_xzero) {
      auto zeros = [&n](int len) {
        if (len > kSparseZeroMaxLen) {
          PutXZero(n, len);
          n += 2;
        } else {
          *n++ = ZeroOp(len);
        }
      };
      if (idx != first_reg) zeros(idx - first_reg);
      *n++ = ValOp(count, 1);
      if (idx != last) zeros(last - idx);
    } else {
      const int curval = ValValue(s[p]);
      if (idx != first_reg) *n++ = ValOp(curval, idx - first_reg);
      *n++ = ValOp(count, 1);
      if (idx != last) *n++ = ValOp(curval, last - idx);
    }

    // Step 3: put the new sequence in place of the old opcode, or go dense if the value would
    // grow past hll-sparse-max-bytes.
    const long seqlen = n - seq;
    const long oldlen = is_xzero ? 2 : 1;
    const long deltalen = seqlen - oldlen;
    if (deltalen > 0 && static_cast<int64_t>(len_) + deltalen > sparse_max_bytes_) {
      return ToDense() ? DenseSet(bytes() + kHeaderSize, index, count) : -1;
    }
    if (deltalen != 0 && next != npos) std::memmove(s + next + deltalen, s + next, end - next);
    IncrLen(deltalen);
    std::memcpy(s + p, seq, seqlen);
    end += deltalen;
  }

  // Step 4: merge adjacent VALs of the same value, scanning up to 5 opcodes from the previous.
  p = prev != npos ? prev : sparse;
  int scanlen = 5;
  while (p < end && scanlen--) {
    if (IsXZero(s[p])) {
      p += 2;
      continue;
    }
    if (IsZero(s[p])) {
      p++;
      continue;
    }
    if (p + 1 < end && IsVal(s[p + 1])) {
      const int v1 = ValValue(s[p]);
      const int v2 = ValValue(s[p + 1]);
      if (v1 == v2) {
        const int len = ValLen(s[p]) + ValLen(s[p + 1]);
        if (len <= kSparseValMaxLen) {
          s[p + 1] = ValOp(v1, len);
          std::memmove(s + p, s + p + 1, end - p);
          IncrLen(-1);
          end--;
          continue;  // try the merged opcode with its right neighbour too
        }
      }
    }
    p++;
  }
  InvalidateCache();
  return 1;
}

// ---------------------------------------------------------------------------------------------
// PFSELFTEST

std::optional<std::string> SelfTest(std::mt19937_64& rng, int64_t sparse_max_bytes, int cycles,
                                    uint32_t elements) {
  // Test 1: every register keeps its value and leaves its neighbours alone.
  std::string bitcounters(kDenseSize, '\0');
  auto* regs = reinterpret_cast<uint8_t*>(bitcounters.data()) + kHeaderSize;
  Registers bytecounters;
  for (int j = 0; j < cycles; j++) {
    for (uint32_t i = 0; i < kRegisters; i++) {
      const auto r = static_cast<uint8_t>(rng() & kRegisterMax);
      bytecounters[i] = r;
      SetRegister(regs, kDenseBytes, i, r);
    }
    for (uint32_t i = 0; i < kRegisters; i++) {
      const uint8_t val = GetRegister(regs, kDenseBytes, i);
      if (val != bytecounters[i]) {
        return "TESTFAILED Register " + std::to_string(i) + " should be " +
               std::to_string(bytecounters[i]) + " but is " + std::to_string(val);
      }
    }
  }

  // Test 2: the estimate of n distinct elements, dense and sparse side by side.
  std::memset(regs, 0, kDenseBytes);
  std::string sparse = NewSparse();
  Editor editor(sparse, sparse_max_bytes);
  const double relerr = 1.04 / std::sqrt(static_cast<double>(kRegisters));
  int64_t checkpoint = 1;
  const uint64_t seed = rng();
  for (uint32_t j = 1; j <= elements; j++) {
    const uint64_t ele = j ^ seed;
    char buf[8];
    for (int b = 0; b < 8; b++) buf[b] = static_cast<char>((ele >> (8 * b)) & 0xff);
    const Pattern pat = PatternOf(std::string_view(buf, 8));
    DenseSet(regs, pat.index, pat.count);
    editor.Set(pat.index, pat.count);
    if (j != checkpoint) continue;

    if (j < sparse_max_bytes / 2 && editor.encoding() != kSparse) {
      return "TESTFAILED sparse encoding not used";
    }
    const uint64_t dense_card = Count(bitcounters).value_or(0);
    if (dense_card != Count(editor.value()).value_or(0)) {
      return "TESTFAILED dense/sparse disagree";
    }
    int64_t abserr = checkpoint - static_cast<int64_t>(dense_card);
    auto maxerr = static_cast<uint64_t>(std::ceil(relerr * 6 * checkpoint));
    // At 10 a collision is likely enough to make a larger error a false alarm.
    if (j == 10) maxerr = 1;
    if (abserr < 0) abserr = -abserr;
    if (abserr > static_cast<int64_t>(maxerr)) {
      return "TESTFAILED Too big error. card:" + std::to_string(checkpoint) +
             " abserr:" + std::to_string(abserr);
    }
    checkpoint *= 10;
  }
  return std::nullopt;
}

}  // namespace keyward::hll
