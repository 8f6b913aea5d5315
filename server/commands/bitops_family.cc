// Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO.
//
// A bitmap is an ordinary string value. Bits are numbered as Redis numbers them: bit 0 is the most
// significant bit of byte 0, so "\x80" has bit 0 set. Reads treat a missing key, and every byte
// past the end of the string, as zero bits. Writes grow the string with zero bytes; they first
// turn the value into a raw string (Encoding::kRaw), whose buffer can then be changed in place, as
// Redis's dbUnshareStringValue does.
//
// Several quirks of Redis 7.0 are kept on purpose because clients can observe them: BITCOUNT and
// BITPOS look the key up before they parse their range (a missing key answers 0 / -1 whatever the
// range says), BITFIELD's "#N" offsets multiply with wrap-around, and its overflow checks are
// ported as they are (for instance SET with OVERFLOW SAT saturates a negative value of an unsigned
// field to the maximum, not to 0).
#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
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

// ---------------------------------------------------------------------------------------------
// Pure bit arithmetic on byte strings.

uint8_t ByteAt(std::string_view s, uint64_t i) {
  return i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
}

uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}

void Store64(char* p, uint64_t w) { std::memcpy(p, &w, sizeof(w)); }

// Number of set bits in n bytes; byte order does not matter for a population count, so whole
// 64-bit words are counted as they lie in memory.
uint64_t Popcount(const char* p, size_t n) {
  uint64_t count = 0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    count += std::popcount(Load64(p + i)) + std::popcount(Load64(p + i + 8)) +
             std::popcount(Load64(p + i + 16)) + std::popcount(Load64(p + i + 24));
  }
  for (; i + 8 <= n; i += 8) count += std::popcount(Load64(p + i));
  for (; i < n; ++i) count += std::popcount(static_cast<uint8_t>(p[i]));
  return count;
}

// Set bits among bits [first, last] (inclusive) of s; both lie inside the string.
uint64_t CountBits(std::string_view s, uint64_t first, uint64_t last) {
  uint64_t first_byte = first >> 3, last_byte = last >> 3;
  uint64_t count = Popcount(s.data() + first_byte, last_byte - first_byte + 1);
  // Take back the bits of the edge bytes that lie outside the range.
  uint8_t before_first = static_cast<uint8_t>(s[first_byte]) & ~(0xff >> (first & 7));
  uint8_t after_last = static_cast<uint8_t>(s[last_byte]) & (0xff >> ((last & 7) + 1));
  return count - std::popcount(before_first) - std::popcount(after_last);
}

// Position of the first bit equal to `bit` among bits [first, last] of s (both inside the
// string), or -1 when there is none.
int64_t FindBit(std::string_view s, uint64_t first, uint64_t last, bool bit) {
  // Looking for a clear bit is looking for a set bit in the complemented bytes.
  const uint8_t byte_flip = bit ? 0 : 0xff;
  const uint64_t word_flip = bit ? 0 : ~uint64_t{0};
  const uint64_t first_byte = first >> 3, last_byte = last >> 3;
  // Byte i complemented as needed, with the bits outside [first, last] cleared.
  auto candidates = [&](uint64_t i) -> uint8_t {
    uint8_t v = static_cast<uint8_t>(s[i]) ^ byte_flip;
    if (i == first_byte) v &= 0xff >> (first & 7);
    if (i == last_byte) v &= 0xff << (7 - (last & 7));
    return v;
  };
  uint64_t i = first_byte;
  if (uint8_t v = candidates(i)) return static_cast<int64_t>(i * 8 + std::countl_zero(v));
  if (i == last_byte) return -1;
  ++i;
  // Skip whole words without a candidate; the byte loop below finds the bit inside the word.
  while (i + 8 <= last_byte && (Load64(s.data() + i) ^ word_flip) == 0) i += 8;
  for (; i <= last_byte; ++i) {
    if (uint8_t v = candidates(i)) return static_cast<int64_t>(i * 8 + std::countl_zero(v));
  }
  return -1;
}

// Applies `op` to dst[0, n) and src[0, n), a word at a time.
template <typename Op>
void CombineInto(char* dst, const char* src, size_t n, Op op) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) Store64(dst + i, op(Load64(dst + i), Load64(src + i)));
  for (; i < n; ++i) {
    dst[i] = static_cast<char>(op(static_cast<uint8_t>(dst[i]), static_cast<uint8_t>(src[i])));
  }
}

// An unsigned field of `bits` bits (1..64) at bit `offset`, most significant bit first.
uint64_t GetUnsignedField(std::string_view s, uint64_t offset, int bits) {
  uint64_t value = 0;
  for (int j = 0; j < bits; ++j, ++offset) {
    uint64_t bitval = (ByteAt(s, offset >> 3) >> (7 - (offset & 7))) & 1;
    value = (value << 1) | bitval;
  }
  return value;
}

int64_t GetSignedField(std::string_view s, uint64_t offset, int bits) {
  uint64_t value = GetUnsignedField(s, offset, bits);
  // Two's complement: extend the field's sign bit over the higher bits.
  if (bits < 64 && (value >> (bits - 1)) & 1) value |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(value);
}

// Writes the low `bits` bits of value at bit `offset`; the string already covers the field.
void SetField(std::string& s, uint64_t offset, int bits, uint64_t value) {
  for (int j = bits - 1; j >= 0; --j, ++offset) {
    auto& byte = reinterpret_cast<uint8_t&>(s[offset >> 3]);
    uint8_t mask = static_cast<uint8_t>(1 << (7 - (offset & 7)));
    if ((value >> j) & 1) {
      byte |= mask;
    } else {
      byte &= ~mask;
    }
  }
}

enum class Overflow { kWrap, kSat, kFail };

// Redis's checkUnsignedBitfieldOverflow: whether value + incr leaves [0, 2^bits - 1]. On overflow
// *limit receives the wrapped (WRAP) or saturated (SAT) result; FAIL leaves it alone. Note that
// `value` may itself be out of range (SET passes the new value with incr 0): a negative SET value
// arrives here as a huge unsigned number and so saturates to the maximum.
bool UnsignedOverflow(uint64_t value, int64_t incr, int bits, Overflow ow, uint64_t* limit) {
  const uint64_t max = (uint64_t{1} << bits) - 1;  // unsigned fields have at most 63 bits
  auto wrap = [&] { *limit = (value + static_cast<uint64_t>(incr)) & max; };
  // Both differences are only used when value <= max, where they are exact.
  const auto maxincr = static_cast<int64_t>(max - value);
  const auto minincr = static_cast<int64_t>(uint64_t{0} - value);
  if (value > max || (incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = max;
    return true;
  }
  if (incr < 0 && incr < minincr) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = 0;
    return true;
  }
  return false;
}

// Redis's checkSignedBitfieldOverflow, with the same arithmetic: the differences wrap around
// exactly as they do in Redis (computed unsigned here, which is defined behaviour), so
// out-of-range SET values take the same branch (e.g. SAT of INT64_MIN into an i63 gives the
// maximum).
bool SignedOverflow(int64_t value, int64_t incr, int bits, Overflow ow, int64_t* limit) {
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  const auto maxincr = static_cast<int64_t>(static_cast<uint64_t>(max) - value);
  const auto minincr = static_cast<int64_t>(static_cast<uint64_t>(min) - value);
  auto wrap = [&] {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      // Sign-extend the field's top bit over the higher bits, or clear them.
      uint64_t high = ~uint64_t{0} << bits;
      c = (c >> (bits - 1)) & 1 ? c | high : c & ~high;
    }
    *limit = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = max;
    return true;
  }
  if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) {
    if (ow == Overflow::kWrap) wrap();
    if (ow == Overflow::kSat) *limit = min;
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Argument parsing.

// Redis's getBitOffsetFromArgument. With `field_bits` > 0 (BITFIELD), "#N" means the N-th field
// of that width; the multiplication wraps around as it does in Redis. The offset's byte must be
// below proto-max-bulk-len, which bounds every string a bit write can create.
bool ParseBitOffset(std::string_view arg, int field_bits, int64_t max_bulk_len, uint64_t* offset) {
  bool positional = field_bits > 0 && !arg.empty() && arg[0] == '#';
  int64_t v;
  if (!ParseInt64(positional ? arg.substr(1) : arg, &v)) return false;
  if (positional) v = static_cast<int64_t>(static_cast<uint64_t>(v) * field_bits);
  if (v < 0 || (v >> 3) >= max_bulk_len) return false;
  *offset = static_cast<uint64_t>(v);
  return true;
}

// Redis's getBitfieldTypeFromArgument: "i1".."i64" or "u1".."u63" (lower-case only).
bool ParseFieldType(std::string_view arg, bool* is_signed, int* bits) {
  if (arg.empty() || (arg[0] != 'i' && arg[0] != 'u')) return false;
  *is_signed = arg[0] == 'i';
  int64_t n;
  if (!ParseInt64(arg.substr(1), &n) || n < 1 || n > (*is_signed ? 64 : 63)) return false;
  *bits = static_cast<int>(n);
  return true;
}

// BITCOUNT / BITPOS range unit.
std::optional<bool> ParseBitUnit(std::string_view arg) {
  if (EqualsIgnoreCase(arg, "bit")) return true;
  if (EqualsIgnoreCase(arg, "byte")) return false;
  return std::nullopt;
}

struct BitSpan {
  uint64_t first;  // inclusive bit positions inside the string
  uint64_t last;
};

// Redis's start/end normalisation of BITCOUNT and BITPOS over a string of `len` bytes: negative
// indexes count from the end, and both ends are clamped into the string. Returns the bits covered,
// or nullopt for an empty range.
std::optional<BitSpan> NormalizeRange(int64_t start, int64_t end, size_t len, bool in_bits) {
  const int64_t total = static_cast<int64_t>(len) * (in_bits ? 8 : 1);
  if (start < 0) start += total;
  if (end < 0) end += total;
  start = std::max<int64_t>(start, 0);
  end = std::max<int64_t>(end, 0);
  end = std::min(end, total - 1);
  if (start > end) return std::nullopt;
  if (in_bits) return BitSpan{static_cast<uint64_t>(start), static_cast<uint64_t>(end)};
  return BitSpan{static_cast<uint64_t>(start) * 8, static_cast<uint64_t>(end) * 8 + 7};
}

// ---------------------------------------------------------------------------------------------
// Keyspace operations.

// The value of a string key for a read command (counts keyspace hits and misses).
Result<std::string_view> OpReadString(Database& db, std::string_view key) {
  Result<Entry*> e = db.FindTyped(key, ObjType::kString, LookupMode::kRead);
  if (!e) return e.status();
  return (*e)->string_value();
}

struct BitWriteTarget {
  std::string* str;  // the raw string buffer, covering at least the requested bit
  bool grown;        // the key was created or lengthened: the write changes it whatever it sets
};

// Redis's lookupStringForBitCommand: the key's raw string, created or zero-extended so that bit
// `max_bit` exists.
Result<BitWriteTarget> OpStringForBitWrite(Database& db, std::string_view key, uint64_t max_bit) {
  const size_t needed = static_cast<size_t>(max_bit >> 3) + 1;
  Result<Entry*> found = db.FindTyped(key, ObjType::kString, LookupMode::kWrite);
  if (found.status() == OpStatus::kWrongType) return OpStatus::kWrongType;
  if (!found) {
    Entry* e = Entry::NewStringWithEncoding(key, "", Encoding::kRaw, -1);
    e->raw_string()->resize(needed, '\0');
    db.Add(e);
    return BitWriteTarget{e->raw_string(), true};
  }
  Entry* e = *found;
  if (!e->has_raw_string()) {
    // int and embstr values live inside the entry: move the value to a growable buffer.
    e = db.Replace(
        e, Entry::NewStringWithEncoding(key, e->string_value(), Encoding::kRaw, e->expire_ms()));
  }
  std::string* s = e->raw_string();
  bool grown = s->size() < needed;
  if (grown) s->resize(needed, '\0');  // std::string grows its capacity geometrically
  return BitWriteTarget{s, grown};
}

struct SetBitResult {
  bool old_bit;
  bool changed;  // the key was created, lengthened or the bit flipped
};

Result<SetBitResult> OpSetBit(Database& db, std::string_view key, uint64_t offset, bool on) {
  Result<BitWriteTarget> target = OpStringForBitWrite(db, key, offset);
  if (!target) return target.status();
  auto& byte = reinterpret_cast<uint8_t&>((*target->str)[offset >> 3]);
  const uint8_t mask = static_cast<uint8_t>(1 << (7 - (offset & 7)));
  const bool old_bit = (byte & mask) != 0;
  if (on) {
    byte |= mask;
  } else {
    byte &= ~mask;
  }
  return SetBitResult{old_bit, target->grown || old_bit != on};
}

enum class BitOp { kAnd, kOr, kXor, kNot };

enum class BitopWrite { kNone, kSet, kDeleted };

struct BitopResult {
  size_t len;  // bytes of the result (0: the destination was deleted, or nothing happened)
  BitopWrite write;
};

Result<BitopResult> OpBitop(Database& db, BitOp op, std::string_view dest,
                            std::span<const std::string_view> keys) {
  // Missing keys act as empty strings, i.e. zero bytes. The views stay valid until the result is
  // stored, even when a source is the destination itself.
  std::vector<std::string_view> srcs;
  srcs.reserve(keys.size());
  size_t maxlen = 0;
  for (std::string_view key : keys) {
    Result<std::string_view> s = OpReadString(db, key);
    if (s.status() == OpStatus::kWrongType) return OpStatus::kWrongType;
    srcs.push_back(s ? *s : std::string_view());
    maxlen = std::max(maxlen, srcs.back().size());
  }

  if (maxlen == 0) {
    // An empty result deletes the destination (even one that expired but was not reclaimed yet,
    // as Redis's dbDelete does).
    return BitopResult{0, db.Delete(dest) ? BitopWrite::kDeleted : BitopWrite::kNone};
  }

  // Bytes past the end of a shorter source count as zero: they clear AND's result and leave OR's
  // and XOR's alone.
  std::string res(maxlen, '\0');
  if (!srcs[0].empty()) std::memcpy(res.data(), srcs[0].data(), srcs[0].size());
  if (op == BitOp::kNot) {
    CombineInto(res.data(), res.data(), maxlen, [](auto a, auto) { return ~a; });
  }
  for (size_t i = 1; i < srcs.size(); ++i) {
    std::string_view s = srcs[i];
    switch (op) {
      case BitOp::kAnd:
        CombineInto(res.data(), s.data(), s.size(), [](auto a, auto b) { return a & b; });
        std::memset(res.data() + s.size(), 0, maxlen - s.size());
        break;
      case BitOp::kOr:
        CombineInto(res.data(), s.data(), s.size(), [](auto a, auto b) { return a | b; });
        break;
      case BitOp::kXor:
        CombineInto(res.data(), s.data(), s.size(), [](auto a, auto b) { return a ^ b; });
        break;
      case BitOp::kNot:
        break;  // a single source
    }
  }

  // As Redis's setKey: lazily expire the old destination, then overwrite it whatever its type,
  // dropping its TTL. The result is always a raw string; the buffer moves into the entry.
  db.Find(dest);
  Entry* e = Entry::NewStringWithEncoding(dest, "", Encoding::kRaw, -1);
  e->raw_string()->swap(res);
  db.Upsert(e);
  return BitopResult{maxlen, BitopWrite::kSet};
}

struct FieldOp {
  enum Kind { kGet, kSet, kIncrBy } kind;
  bool is_signed;
  int bits;
  uint64_t offset;
  int64_t value;  // SET value or INCRBY increment
  Overflow overflow;
};

struct BitfieldResult {
  std::vector<std::optional<int64_t>> replies;  // nullopt: refused by OVERFLOW FAIL
  uint64_t changes = 0;
  bool grown = false;  // the key was created or lengthened, whatever the writes did
};

// Runs a SET or INCRBY on the string; returns the reply, or nullopt for OVERFLOW FAIL. *changed is
// set when the field's value changed.
std::optional<int64_t> ApplyFieldWrite(std::string& s, const FieldOp& op, bool* changed) {
  const bool incr = op.kind == FieldOp::kIncrBy;
  if (op.is_signed) {
    int64_t old_value = GetSignedField(s, op.offset, op.bits);
    int64_t new_value = incr ? static_cast<int64_t>(static_cast<uint64_t>(old_value) +
                                                    static_cast<uint64_t>(op.value))
                             : op.value;
    int64_t limit = 0;
    bool overflow = incr ? SignedOverflow(old_value, op.value, op.bits, op.overflow, &limit)
                         : SignedOverflow(new_value, 0, op.bits, op.overflow, &limit);
    if (overflow && op.overflow == Overflow::kFail) return std::nullopt;
    if (overflow) new_value = limit;
    SetField(s, op.offset, op.bits, static_cast<uint64_t>(new_value));
    *changed = old_value != new_value;
    return incr ? new_value : old_value;
  }
  uint64_t old_value = GetUnsignedField(s, op.offset, op.bits);
  uint64_t new_value =
      incr ? old_value + static_cast<uint64_t>(op.value) : static_cast<uint64_t>(op.value);
  uint64_t limit = 0;
  bool overflow = incr ? UnsignedOverflow(old_value, op.value, op.bits, op.overflow, &limit)
                       : UnsignedOverflow(new_value, 0, op.bits, op.overflow, &limit);
  if (overflow && op.overflow == Overflow::kFail) return std::nullopt;
  if (overflow) new_value = limit;
  SetField(s, op.offset, op.bits, new_value);
  *changed = old_value != new_value;
  // Unsigned fields have at most 63 bits, so every value fits in an int64.
  return static_cast<int64_t>(incr ? new_value : old_value);
}

int64_t ApplyFieldGet(std::string_view s, const FieldOp& op) {
  if (op.is_signed) return GetSignedField(s, op.offset, op.bits);
  return static_cast<int64_t>(GetUnsignedField(s, op.offset, op.bits));
}

// Executes parsed BITFIELD operations in order. `max_bit` is the highest bit any SET or INCRBY
// touches, or nullopt when all are GETs (then a missing key reads as zeros and is not created).
Result<BitfieldResult> OpBitfield(Database& db, std::string_view key,
                                  const std::vector<FieldOp>& ops,
                                  std::optional<uint64_t> max_bit) {
  BitfieldResult result;
  result.replies.reserve(ops.size());
  if (!max_bit) {
    Result<std::string_view> s = OpReadString(db, key);
    if (s.status() == OpStatus::kWrongType) return OpStatus::kWrongType;
    std::string_view value = s ? *s : std::string_view();
    for (const FieldOp& op : ops) result.replies.emplace_back(ApplyFieldGet(value, op));
    return result;
  }
  // The string is grown once, up front, to cover every write (even writes OVERFLOW FAIL then
  // refuses: Redis creates the key in that case too, without counting a change).
  Result<BitWriteTarget> target = OpStringForBitWrite(db, key, *max_bit);
  if (!target) return target.status();
  std::string& s = *target->str;
  result.grown = target->grown;
  for (const FieldOp& op : ops) {
    if (op.kind == FieldOp::kGet) {
      result.replies.emplace_back(ApplyFieldGet(s, op));
      continue;
    }
    bool changed = false;
    result.replies.push_back(ApplyFieldWrite(s, op, &changed));
    if (result.replies.back() && (changed || target->grown)) result.changes++;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Command handlers.

int64_t MaxBulkLen(CommandContext& ctx) { return ctx.settings().proto_max_bulk_len; }

// SETBIT key offset value
void CmdSetBit(CmdArgs args, CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(args[2], 0, MaxBulkLen(ctx), &offset)) {
    return ctx.rb().SendError(errors::kBitOffset);
  }
  int64_t on;
  if (!ParseInt64(args[3], &on) || (on & ~int64_t{1}) != 0) {
    return ctx.rb().SendError(errors::kBitValue);
  }
  Database& db = ctx.db();
  Result<SetBitResult> res = OpSetBit(db, args[1], offset, on != 0);
  if (!res) return ctx.SendStatus(res.status());
  // Rewriting a bit with its own value is not a change: no notification, nothing propagated.
  if (res->changed) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kString, "setbit", args[1], db);
    ctx.AddDirty();
  }
  ctx.rb().SendLong(res->old_bit ? 1 : 0);
}

// GETBIT key offset
void CmdGetBit(CmdArgs args, CommandContext& ctx) {
  uint64_t offset;
  if (!ParseBitOffset(args[2], 0, MaxBulkLen(ctx), &offset)) {
    return ctx.rb().SendError(errors::kBitOffset);
  }
  Result<std::string_view> s = OpReadString(ctx.db(), args[1]);
  if (s.status() == OpStatus::kWrongType) return ctx.SendStatus(s.status());
  if (!s) return ctx.rb().SendLong(0);
  ctx.rb().SendLong((ByteAt(*s, offset >> 3) >> (7 - (offset & 7))) & 1);
}

// BITCOUNT key [start end [BYTE|BIT]]
void CmdBitCount(CmdArgs args, CommandContext& ctx) {
  // Redis 7.0 looks the key up before it reads the range: a missing key answers 0 even to a
  // malformed range.
  Result<std::string_view> s = OpReadString(ctx.db(), args[1]);
  if (s.status() == OpStatus::kWrongType) return ctx.SendStatus(s.status());
  if (!s) return ctx.rb().SendLong(0);

  std::optional<BitSpan> span;
  if (args.size() == 2) {
    if (!s->empty()) span = BitSpan{0, s->size() * 8 - 1};
  } else if (args.size() == 4 || args.size() == 5) {
    int64_t start, end;
    if (!ParseInt64(args[2], &start) || !ParseInt64(args[3], &end)) {
      return ctx.rb().SendError(errors::kNotInteger);
    }
    // Two negative indexes in the wrong order mean an empty range, even when clamping both to
    // the start of the string would have made them meet. Redis answers this before it reads the
    // unit, so even a malformed unit gets 0.
    if (start < 0 && end < 0 && start > end) return ctx.rb().SendLong(0);
    bool in_bits = false;
    if (args.size() == 5) {
      std::optional<bool> unit = ParseBitUnit(args[4]);
      if (!unit) return ctx.rb().SendError(errors::kSyntax);
      in_bits = *unit;
    }
    span = NormalizeRange(start, end, s->size(), in_bits);
  } else {
    return ctx.rb().SendError(errors::kSyntax);
  }
  ctx.rb().SendLong(span ? static_cast<int64_t>(CountBits(*s, span->first, span->last)) : 0);
}

// BITPOS key bit [start [end [BYTE|BIT]]]
void CmdBitPos(CmdArgs args, CommandContext& ctx) {
  int64_t bit;
  if (!ParseInt64(args[2], &bit)) return ctx.rb().SendError(errors::kNotInteger);
  if (bit != 0 && bit != 1) return ctx.rb().SendError(errors::kBitposBit);

  // A missing key is an endless run of zeros; Redis 7.0 answers before it reads the range.
  Result<std::string_view> s = OpReadString(ctx.db(), args[1]);
  if (s.status() == OpStatus::kWrongType) return ctx.SendStatus(s.status());
  if (!s) return ctx.rb().SendLong(bit ? -1 : 0);

  // Argument order as Redis reads them: start, then the unit, then end.
  int64_t start = 0, end = -1;
  bool in_bits = false;
  bool end_given = args.size() >= 5;
  if (args.size() > 6) return ctx.rb().SendError(errors::kSyntax);
  if (args.size() >= 4 && !ParseInt64(args[3], &start)) {
    return ctx.rb().SendError(errors::kNotInteger);
  }
  if (args.size() == 6) {
    std::optional<bool> unit = ParseBitUnit(args[5]);
    if (!unit) return ctx.rb().SendError(errors::kSyntax);
    in_bits = *unit;
  }
  if (end_given && !ParseInt64(args[4], &end)) return ctx.rb().SendError(errors::kNotInteger);

  std::optional<BitSpan> span = NormalizeRange(start, end, s->size(), in_bits);
  // An empty range holds neither a 0 nor a 1.
  if (!span) return ctx.rb().SendLong(-1);
  int64_t pos = FindBit(*s, span->first, span->last, bit != 0);
  // With no explicit end, the string is seen as padded with zeros on the right: the first clear
  // bit after a run of ones that reaches the end is the one just past the string.
  if (pos < 0 && bit == 0 && !end_given) pos = static_cast<int64_t>(span->last + 1);
  ctx.rb().SendLong(pos);
}

// BITOP AND|OR|XOR|NOT destkey key [key ...]
void CmdBitop(CmdArgs args, CommandContext& ctx) {
  BitOp op;
  if (EqualsIgnoreCase(args[1], "and")) {
    op = BitOp::kAnd;
  } else if (EqualsIgnoreCase(args[1], "or")) {
    op = BitOp::kOr;
  } else if (EqualsIgnoreCase(args[1], "xor")) {
    op = BitOp::kXor;
  } else if (EqualsIgnoreCase(args[1], "not")) {
    op = BitOp::kNot;
  } else {
    return ctx.rb().SendError(errors::kSyntax);
  }
  if (op == BitOp::kNot && args.size() != 4) return ctx.rb().SendError(errors::kBitopNotArity);

  Database& db = ctx.db();
  std::string_view dest = args[2];
  Result<BitopResult> res = OpBitop(db, op, dest, args.subspan(3));
  if (!res) return ctx.SendStatus(res.status());
  if (res->write == BitopWrite::kSet) {
    ctx.KeyModified(db, dest);
    ctx.Notify(notify::kString, "set", dest, db);
    ctx.AddDirty();
  } else if (res->write == BitopWrite::kDeleted) {
    ctx.KeyModified(db, dest);
    ctx.Notify(notify::kGeneric, "del", dest, db);
    ctx.AddDirty();
  }
  ctx.rb().SendLong(static_cast<int64_t>(res->len));
}

// BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value |
//               INCRBY type offset increment] ...
// BITFIELD_RO key [GET type offset] ...
void BitfieldGeneric(CmdArgs args, CommandContext& ctx, bool read_only_command) {
  std::vector<FieldOp> ops;
  std::optional<uint64_t> max_bit;  // highest bit written by a SET or INCRBY
  Overflow overflow = Overflow::kWrap;
  // Every operation is parsed before anything runs: an error anywhere leaves the key untouched.
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t remaining = args.size() - j - 1;
    std::string_view sub = args[j];
    FieldOp op{};
    if (EqualsIgnoreCase(sub, "get") && remaining >= 2) {
      op.kind = FieldOp::kGet;
    } else if (EqualsIgnoreCase(sub, "set") && remaining >= 3) {
      op.kind = FieldOp::kSet;
    } else if (EqualsIgnoreCase(sub, "incrby") && remaining >= 3) {
      op.kind = FieldOp::kIncrBy;
    } else if (EqualsIgnoreCase(sub, "overflow") && remaining >= 1) {
      std::string_view type = args[++j];
      if (EqualsIgnoreCase(type, "wrap")) {
        overflow = Overflow::kWrap;
      } else if (EqualsIgnoreCase(type, "sat")) {
        overflow = Overflow::kSat;
      } else if (EqualsIgnoreCase(type, "fail")) {
        overflow = Overflow::kFail;
      } else {
        return ctx.rb().SendError(errors::kBitfieldOverflowType);
      }
      continue;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }

    if (!ParseFieldType(args[j + 1], &op.is_signed, &op.bits)) {
      return ctx.rb().SendError(errors::kBitfieldType);
    }
    if (!ParseBitOffset(args[j + 2], op.bits, MaxBulkLen(ctx), &op.offset)) {
      return ctx.rb().SendError(errors::kBitOffset);
    }
    if (op.kind != FieldOp::kGet) {
      max_bit = std::max(max_bit.value_or(0), op.offset + op.bits - 1);
      if (!ParseInt64(args[j + 3], &op.value)) return ctx.rb().SendError(errors::kNotInteger);
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.kind == FieldOp::kGet ? 2 : 3;
  }
  if (max_bit && read_only_command) return ctx.rb().SendError(errors::kBitfieldRoGetOnly);

  Database& db = ctx.db();
  Result<BitfieldResult> res = OpBitfield(db, args[1], ops, max_bit);
  if (!res) return ctx.SendStatus(res.status());
  ctx.rb().StartArray(res->replies.size());
  for (const std::optional<int64_t>& reply : res->replies) {
    if (reply) {
      ctx.rb().SendLong(*reply);
    } else {
      ctx.rb().SendNull();
    }
  }
  // As in Redis, the bookkeeping follows the reply here; one notification covers every change.
  if (res->changes > 0) {
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kString, "setbit", args[1], db);
    ctx.AddDirty(res->changes);
  } else if (res->grown) {
    // Every write refused by OVERFLOW FAIL, yet the key was created or lengthened: Redis counts no
    // change and propagates nothing, so its replicas and AOF lose the key. Keyward propagates the
    // command (replaying it grows the key the same way), still counting no change.
    ctx.Propagate(Argv(args.begin(), args.end()));
  }
}

void CmdBitfield(CmdArgs args, CommandContext& ctx) { BitfieldGeneric(args, ctx, false); }

void CmdBitfieldRo(CmdArgs args, CommandContext& ctx) { BitfieldGeneric(args, ctx, true); }

}  // namespace

void RegisterBitopsFamily(CommandRegistry& r) {
  constexpr uint64_t kBitmap = Acl::kBitmap;
  // One row per command reads better than one argument per line.
  // clang-format off
  r << CommandSpec{"setbit", 4, CO::kWrite | CO::kDenyOom, 1, 1, 1, kBitmap, CmdSetBit,
                   {"Sets or clears the bit at offset in the string value stored at key", "2.2.0",
                    "bitmap", "O(1)", "key offset value"}}
    << CommandSpec{"getbit", 3, CO::kReadOnly | CO::kFast, 1, 1, 1, kBitmap, CmdGetBit,
                   {"Returns the bit value at offset in the string value stored at key", "2.2.0",
                    "bitmap", "O(1)", "key offset"}}
    << CommandSpec{"bitcount", -2, CO::kReadOnly, 1, 1, 1, kBitmap, CmdBitCount,
                   {"Count set bits in a string", "2.6.0", "bitmap", "O(N)",
                    "key [start end [BYTE|BIT]]"}}
    << CommandSpec{"bitpos", -3, CO::kReadOnly, 1, 1, 1, kBitmap, CmdBitPos,
                   {"Find first bit set or clear in a string", "2.8.7", "bitmap", "O(N)",
                    "key bit [start [end [BYTE|BIT]]]"}}
    << CommandSpec{"bitop", -4, CO::kWrite | CO::kDenyOom, 2, -1, 1, kBitmap, CmdBitop,
                   {"Perform bitwise operations between strings", "2.6.0", "bitmap", "O(N)",
                    "AND|OR|XOR|NOT destkey key [key ...]"}}
    << CommandSpec{"bitfield", -2, CO::kWrite | CO::kDenyOom, 1, 1, 1, kBitmap, CmdBitfield,
                   {"Perform arbitrary bitfield integer operations on strings", "3.2.0", "bitmap",
                    "O(1) for each subcommand specified",
                    "key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset "
                    "value|INCRBY encoding offset increment ...]"}}
    << CommandSpec{"bitfield_ro", -2, CO::kReadOnly | CO::kFast, 1, 1, 1, kBitmap, CmdBitfieldRo,
                   {"Perform arbitrary bitfield integer operations on strings. Read-only variant "
                    "of BITFIELD",
                    "6.0.0", "bitmap", "O(1) for each subcommand specified",
                    "key [GET encoding offset ...]"}};
  // clang-format on
}

}  // namespace keyward
