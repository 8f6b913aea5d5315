#include "server/keyspace/listpack.h"

#include <malloc.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <new>

#include "server/core/strings.h"

namespace keyward {

namespace {

constexpr size_t kHeaderSize = 6;  // total bytes (u32) + count (u16)
constexpr uint8_t kEof = 0xFF;
constexpr uint16_t kCountUnknown = 65535;

uint32_t Load32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
void Store32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// The size of the backlen that records an entry of `len` bytes (lpEncodeBacklen).
size_t BacklenSize(uint64_t len) {
  if (len <= 127) return 1;
  if (len < 16383) return 2;
  if (len < 2097151) return 3;
  if (len < 268435455) return 4;
  return 5;
}

void EncodeBacklen(std::string& out, uint64_t len) {
  size_t n = BacklenSize(len);
  // Most significant group first, every group but the first with its high bit set.
  for (size_t i = 0; i < n; i++) {
    uint64_t group = (len >> (7 * (n - 1 - i))) & 127;
    out.push_back(static_cast<char>(i == 0 ? group : group | 128));
  }
}

// Reads a backlen ending at p (its last byte), leftwards; returns the entry length.
uint64_t DecodeBacklen(const unsigned char* p, size_t* backlen_size) {
  uint64_t val = 0;
  unsigned shift = 0;
  size_t n = 0;
  while (true) {
    val |= static_cast<uint64_t>(p[0] & 127) << shift;
    n++;
    if (!(p[0] & 128)) break;
    shift += 7;
    p--;
  }
  *backlen_size = n;
  return val;
}

// Encoding and data of an element (without the backlen).
void EncodeInt(std::string& out, int64_t v) {
  if (v >= 0 && v <= 127) {
    out.push_back(static_cast<char>(v));
  } else if (v >= -4096 && v <= 4095) {
    uint64_t u = v < 0 ? (static_cast<uint64_t>(1) << 13) + v : v;
    out.push_back(static_cast<char>((u >> 8) | 0xC0));
    out.push_back(static_cast<char>(u & 0xff));
  } else {
    int bytes;
    uint8_t tag;
    if (v >= -32768 && v <= 32767) {
      bytes = 2, tag = 0xF1;
    } else if (v >= -8388608 && v <= 8388607) {
      bytes = 3, tag = 0xF2;
    } else if (v >= -2147483648LL && v <= 2147483647LL) {
      bytes = 4, tag = 0xF3;
    } else {
      bytes = 8, tag = 0xF4;
    }
    uint64_t u = static_cast<uint64_t>(v);
    if (bytes < 8 && v < 0) u = (static_cast<uint64_t>(1) << (8 * bytes)) + v;
    out.push_back(static_cast<char>(tag));
    for (int i = 0; i < bytes; i++) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
  }
}

void EncodeString(std::string& out, std::string_view s) {
  size_t len = s.size();
  if (len < 64) {
    out.push_back(static_cast<char>(len | 0x80));
  } else if (len < 4096) {
    out.push_back(static_cast<char>((len >> 8) | 0xE0));
    out.push_back(static_cast<char>(len & 0xff));
  } else {
    out.push_back(static_cast<char>(0xF0));
    for (int i = 0; i < 4; i++) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
  out.append(s);
}

// A whole entry for `s` appended to `out`: integer form when `s` is a canonical integer
// (lpEncodeGetType).
void AppendEntry(std::string& out, std::string_view s) {
  const size_t start = out.size();
  int64_t v;
  if (s.size() <= 20 && ParseInt64(s, &v)) {
    EncodeInt(out, v);
  } else {
    EncodeString(out, s);
  }
  EncodeBacklen(out, out.size() - start);
}

void AppendIntEntry(std::string& out, int64_t v) {
  const size_t start = out.size();
  EncodeInt(out, v);
  EncodeBacklen(out, out.size() - start);
}

std::string MakeEntry(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 11);
  AppendEntry(out, s);
  return out;
}

std::string MakeIntEntry(int64_t v) {
  std::string out;
  AppendIntEntry(out, v);
  return out;
}

// Size of encoding + data of the entry at p (lpCurrentEncodedSizeUnsafe).
uint32_t EncodedSize(const unsigned char* p) {
  uint8_t b = p[0];
  if ((b & 0x80) == 0) return 1;                                  // 7-bit uint
  if ((b & 0xC0) == 0x80) return 1 + (b & 0x3F);                  // 6-bit string
  if ((b & 0xE0) == 0xC0) return 2;                               // 13-bit int
  if ((b & 0xF0) == 0xE0) return 2 + (((b & 0x0F) << 8) | p[1]);  // 12-bit string
  switch (b) {
    case 0xF0:
      return 5 + Load32(p + 1);
    case 0xF1:
      return 3;
    case 0xF2:
      return 4;
    case 0xF3:
      return 5;
    case 0xF4:
      return 9;
  }
  return 1;  // 0xFF: the end marker
}

int64_t SignExtend(uint64_t u, int bits) {
  uint64_t sign = static_cast<uint64_t>(1) << (bits - 1);
  if (bits < 64 && (u & sign)) return static_cast<int64_t>(u) - (static_cast<int64_t>(1) << bits);
  return static_cast<int64_t>(u);
}

}  // namespace

std::string_view LpElement::View(char* buf) const {
  if (!is_int) return str;
  auto [end, ec] = std::to_chars(buf, buf + 21, value);
  return {buf, static_cast<size_t>(end - buf)};
}

std::string LpElement::ToString() const {
  char buf[21];
  return std::string(View(buf));
}

bool LpElement::Equals(std::string_view s) const {
  if (!is_int) return str == s;
  int64_t v;
  return s.size() <= 20 && ParseInt64(s, &v) && v == value;
}

Listpack::Listpack() {
  lp_ = static_cast<unsigned char*>(std::malloc(kHeaderSize + 1));
  if (lp_ == nullptr) throw std::bad_alloc();
  Store32(lp_, kHeaderSize + 1);
  lp_[4] = lp_[5] = 0;
  lp_[kHeaderSize] = kEof;
}

Listpack::~Listpack() { std::free(lp_); }

Listpack::Listpack(const Listpack& other) {
  size_t n = other.bytes();
  lp_ = static_cast<unsigned char*>(std::malloc(n));
  if (lp_ == nullptr) throw std::bad_alloc();
  std::memcpy(lp_, other.lp_, n);
}

Listpack& Listpack::operator=(const Listpack& other) {
  if (this != &other) *this = Listpack(other);
  return *this;
}

Listpack::Listpack(Listpack&& other) noexcept : lp_(other.lp_) { other.lp_ = nullptr; }

Listpack& Listpack::operator=(Listpack&& other) noexcept {
  if (this != &other) {
    std::free(lp_);
    lp_ = other.lp_;
    other.lp_ = nullptr;
  }
  return *this;
}

Listpack Listpack::Adopt(unsigned char* bytes) { return Listpack(bytes); }

std::optional<Listpack> Listpack::FromBytes(std::string_view blob) {
  const auto* lp = reinterpret_cast<const unsigned char*>(blob.data());
  const size_t size = blob.size();
  if (size < kHeaderSize + 1 || Load32(lp) != size || lp[size - 1] != kEof) return std::nullopt;
  // Offsets, not pointers: a length read from the blob may be anything, and offset arithmetic
  // in size_t cannot wrap for lengths below 2^32.
  size_t pos = kHeaderSize;
  size_t count = 0;
  while (lp[pos] != kEof) {
    const uint8_t b = lp[pos];
    // lpCurrentEncodedSizeBytes: 0xF5..0xFE are not encodings.
    size_t len_bytes;
    if ((b & 0x80) == 0 || (b & 0xC0) == 0x80 || (b & 0xE0) == 0xC0 || (b >= 0xF1 && b <= 0xF4)) {
      len_bytes = 1;
    } else if ((b & 0xF0) == 0xE0) {
      len_bytes = 2;
    } else if (b == 0xF0) {
      len_bytes = 5;
    } else {
      return std::nullopt;
    }
    // The length bytes, then the whole entry with its backlen, must end before the terminator.
    if (pos + len_bytes > size - 1) return std::nullopt;
    const size_t encoded = EncodedSize(lp + pos);
    const size_t backlen = BacklenSize(encoded);
    if (pos + encoded + backlen > size - 1) return std::nullopt;
    // The backlen, read leftwards from its last byte as Prev reads it, but never past its own
    // bytes: it must take exactly `backlen` bytes (Prev steps back by the bytes it decoded) and
    // say `encoded`.
    const unsigned char* p = lp + pos + encoded + backlen - 1;
    uint64_t value = 0;
    for (size_t i = 0;; i++, p--) {
      value |= static_cast<uint64_t>(p[0] & 127) << (7 * i);
      const bool last = !(p[0] & 128);
      if (last != (i + 1 == backlen)) return std::nullopt;
      if (last) break;
    }
    if (value != encoded) return std::nullopt;
    pos += encoded + backlen;
    count++;
  }
  if (pos != size - 1) return std::nullopt;
  const uint16_t header_count = lp[4] | (lp[5] << 8);
  if (header_count != kCountUnknown && header_count != count) return std::nullopt;
  auto* copy = static_cast<unsigned char*>(std::malloc(size));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, lp, size);
  return Listpack(copy);
}

size_t Listpack::bytes() const { return Load32(lp_); }

size_t Listpack::size() const {
  uint16_t n = lp_[4] | (lp_[5] << 8);
  if (n != kCountUnknown) return n;
  size_t count = 0;
  for (uint32_t p = First(); p != kEnd; p = Next(p)) count++;
  return count;
}

size_t Listpack::MemoryUsage() const { return malloc_usable_size(lp_); }

uint32_t Listpack::EntryLen(uint32_t pos) const {
  uint32_t enc = EncodedSize(lp_ + pos);
  return enc + static_cast<uint32_t>(BacklenSize(enc));
}

uint32_t Listpack::First() const { return lp_[kHeaderSize] == kEof ? kEnd : kHeaderSize; }

uint32_t Listpack::Last() const {
  uint32_t end = static_cast<uint32_t>(bytes()) - 1;
  return end == kHeaderSize ? kEnd : Prev(end);
}

uint32_t Listpack::Next(uint32_t pos) const {
  uint32_t next = pos + EntryLen(pos);
  return lp_[next] == kEof ? kEnd : next;
}

uint32_t Listpack::Prev(uint32_t pos) const {
  if (pos == kHeaderSize) return kEnd;
  size_t backlen_size;
  uint64_t prev_len = DecodeBacklen(lp_ + pos - 1, &backlen_size);
  return static_cast<uint32_t>(pos - backlen_size - prev_len);
}

uint32_t Listpack::Seek(int64_t index) const {
  size_t n = size();
  if (index < 0) index += static_cast<int64_t>(n);
  if (index < 0 || static_cast<size_t>(index) >= n) return kEnd;
  // Walk from the nearer end.
  if (static_cast<size_t>(index) <= n / 2) {
    uint32_t p = First();
    while (index-- > 0) p = Next(p);
    return p;
  }
  uint32_t p = Last();
  for (size_t back = n - 1 - index; back > 0; back--) p = Prev(p);
  return p;
}

LpElement Listpack::Get(uint32_t pos) const {
  const unsigned char* p = lp_ + pos;
  uint8_t b = p[0];
  LpElement e;
  if ((b & 0x80) == 0) {
    e.is_int = true;
    e.value = b & 0x7F;
  } else if ((b & 0xC0) == 0x80) {
    e.str = {reinterpret_cast<const char*>(p + 1), static_cast<size_t>(b & 0x3F)};
  } else if ((b & 0xE0) == 0xC0) {
    e.is_int = true;
    e.value = SignExtend(((b & 0x1F) << 8) | p[1], 13);
  } else if ((b & 0xF0) == 0xE0) {
    e.str = {reinterpret_cast<const char*>(p + 2), static_cast<size_t>(((b & 0x0F) << 8) | p[1])};
  } else if (b == 0xF0) {
    e.str = {reinterpret_cast<const char*>(p + 5), Load32(p + 1)};
  } else {
    int bytes = b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8;
    uint64_t u = 0;
    for (int i = 0; i < bytes; i++) u |= static_cast<uint64_t>(p[1 + i]) << (8 * i);
    e.is_int = true;
    e.value = SignExtend(u, 8 * bytes);
  }
  return e;
}

void Listpack::SetBytes(uint32_t n) { Store32(lp_, n); }

void Listpack::SetCount(int64_t delta) {
  uint16_t n = lp_[4] | (lp_[5] << 8);
  if (n == kCountUnknown) {
    // Recount once the walk is cheap enough to be recorded again.
    size_t count = size();
    if (count >= kCountUnknown) return;
    n = static_cast<uint16_t>(count);
  } else {
    int64_t next = static_cast<int64_t>(n) + delta;
    n = next >= kCountUnknown ? kCountUnknown : static_cast<uint16_t>(next);
  }
  lp_[4] = n & 0xff;
  lp_[5] = n >> 8;
}

void Listpack::Splice(uint32_t pos, size_t old_len, std::string_view entry, int64_t count_delta) {
  if (entry.size() == old_len && count_delta == 0) {
    // A replacement of the same size (a stream node's counters, a flag): nothing moves.
    std::memcpy(lp_ + pos, entry.data(), entry.size());
    return;
  }
  size_t total = bytes();
  size_t new_total = total - old_len + entry.size();
  size_t tail = total - pos - old_len;
  if (entry.size() > old_len) {
    auto* grown = static_cast<unsigned char*>(std::realloc(lp_, new_total));
    if (grown == nullptr) throw std::bad_alloc();
    lp_ = grown;
    std::memmove(lp_ + pos + entry.size(), lp_ + pos + old_len, tail);
  } else {
    std::memmove(lp_ + pos + entry.size(), lp_ + pos + old_len, tail);
    if (new_total != total) {
      auto* shrunk = static_cast<unsigned char*>(std::realloc(lp_, new_total));
      if (shrunk != nullptr) lp_ = shrunk;
    }
  }
  if (!entry.empty()) std::memcpy(lp_ + pos, entry.data(), entry.size());
  SetBytes(static_cast<uint32_t>(new_total));
  if (count_delta != 0) {
    // A count read back as unknown needs a walk, which must see the final bytes.
    SetCount(count_delta);
  }
}

uint32_t Listpack::InsertBefore(uint32_t pos, std::string_view s) {
  if (pos == kEnd) pos = static_cast<uint32_t>(bytes()) - 1;
  Splice(pos, 0, MakeEntry(s), 1);
  return pos;
}

uint32_t Listpack::InsertInt(uint32_t pos, int64_t v) {
  if (pos == kEnd) pos = static_cast<uint32_t>(bytes()) - 1;
  Splice(pos, 0, MakeIntEntry(v), 1);
  return pos;
}

uint32_t Listpack::Replace(uint32_t pos, std::string_view s) {
  Splice(pos, EntryLen(pos), MakeEntry(s), 0);
  return pos;
}

uint32_t Listpack::ReplaceInt(uint32_t pos, int64_t v) {
  Splice(pos, EntryLen(pos), MakeIntEntry(v), 0);
  return pos;
}

void Listpack::AppendEncoded(std::string_view entries, size_t count) {
  Splice(static_cast<uint32_t>(bytes()) - 1, 0, entries, static_cast<int64_t>(count));
}

void Listpack::EncodeElement(std::string& out, std::string_view s) { AppendEntry(out, s); }

void Listpack::EncodeInt(std::string& out, int64_t v) { AppendIntEntry(out, v); }

uint32_t Listpack::Delete(uint32_t pos) { return DeleteRange(pos, 1); }

uint32_t Listpack::DeleteRange(uint32_t pos, size_t n) {
  if (n == 0 || pos == kEnd) return pos;
  uint32_t end = pos;
  size_t removed = 0;
  while (removed < n && lp_[end] != kEof) {
    end += EntryLen(end);
    removed++;
  }
  Splice(pos, end - pos, {}, -static_cast<int64_t>(removed));
  return lp_[pos] == kEof ? kEnd : pos;
}

uint32_t Listpack::Find(uint32_t pos, std::string_view s, size_t skip) const {
  int64_t v = 0;
  bool s_is_int = s.size() <= 20 && ParseInt64(s, &v);
  while (pos != kEnd) {
    LpElement e = Get(pos);
    if (e.is_int ? (s_is_int && e.value == v) : (!s_is_int && e.str == s)) return pos;
    pos = Next(pos);
    for (size_t i = 0; i < skip && pos != kEnd; i++) pos = Next(pos);
  }
  return kEnd;
}

size_t Listpack::EntrySize(std::string_view s) {
  int64_t v;
  size_t enc;
  if (s.size() <= 20 && ParseInt64(s, &v)) {
    enc = (v >= 0 && v <= 127)                        ? 1
          : (v >= -4096 && v <= 4095)                 ? 2
          : (v >= -32768 && v <= 32767)               ? 3
          : (v >= -8388608 && v <= 8388607)           ? 4
          : (v >= -2147483648LL && v <= 2147483647LL) ? 5
                                                      : 9;
  } else {
    enc = s.size() + (s.size() < 64 ? 1 : s.size() < 4096 ? 2 : 5);
  }
  return enc + BacklenSize(enc);
}

}  // namespace keyward
