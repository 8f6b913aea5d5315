#include "server/persistence/rdb_codec.h"

extern "C" {
#include <liblzf/lzf.h>
}

#include <array>
#include <bit>
#include <charconv>
#include <cstring>

namespace keyward::rdb {
namespace {

// The reflected form of the Jones polynomial 0xad93d23594c935a9, and its byte table.
constexpr uint64_t kReflectedPoly = 0x95ac9329ac4bc9b5ULL;

// Slicing-by-8 tables (as Redis's crcspeed): table[0] is the classic byte table, table[k][i] the
// CRC of byte i followed by k zero bytes, so eight input bytes cost eight lookups and no loop.
using CrcTables = std::array<std::array<uint64_t, 256>, 8>;
constexpr CrcTables MakeTables() {
  CrcTables t{};
  for (uint64_t i = 0; i < 256; i++) {
    uint64_t crc = i;
    for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ kReflectedPoly : crc >> 1;
    t[0][i] = crc;
  }
  for (size_t k = 1; k < 8; k++) {
    for (size_t i = 0; i < 256; i++) t[k][i] = t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >> 8);
  }
  return t;
}
constexpr CrcTables kTables = MakeTables();

constexpr uint8_t kEncInt8 = 0, kEncInt16 = 1, kEncInt32 = 2, kEncLzf = 3;

// rdbTryIntegerEncoding: only the canonical text of an integer in the int32 range.
bool TryIntegerEncoding(std::string& out, std::string_view s) {
  if (s.empty() || s.size() > 11) return false;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return false;
  char canonical[24];
  auto [cend, cec] = std::to_chars(canonical, canonical + sizeof canonical, v);
  if (std::string_view(canonical, static_cast<size_t>(cend - canonical)) != s) return false;
  if (v >= -(1 << 7) && v <= (1 << 7) - 1) {
    out += static_cast<char>(0xC0 | kEncInt8);
    AppendLittleEndian(out, static_cast<uint64_t>(v), 1);
  } else if (v >= -(1 << 15) && v <= (1 << 15) - 1) {
    out += static_cast<char>(0xC0 | kEncInt16);
    AppendLittleEndian(out, static_cast<uint64_t>(v), 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    out += static_cast<char>(0xC0 | kEncInt32);
    AppendLittleEndian(out, static_cast<uint64_t>(v), 4);
  } else {
    return false;
  }
  return true;
}

}  // namespace

uint64_t Crc64(uint64_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    crc ^= word;
    crc = kTables[7][crc & 0xff] ^ kTables[6][(crc >> 8) & 0xff] ^ kTables[5][(crc >> 16) & 0xff] ^
          kTables[4][(crc >> 24) & 0xff] ^ kTables[3][(crc >> 32) & 0xff] ^
          kTables[2][(crc >> 40) & 0xff] ^ kTables[1][(crc >> 48) & 0xff] ^ kTables[0][crc >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = kTables[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

void AppendLittleEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void AppendLength(std::string& out, uint64_t length) {
  if (length < (1 << 6)) {
    out += static_cast<char>(length);
  } else if (length < (1 << 14)) {
    out += static_cast<char>(0x40 | (length >> 8));
    out += static_cast<char>(length & 0xff);
  } else if (length <= UINT32_MAX) {
    out += static_cast<char>(0x80);
    for (int i = 3; i >= 0; i--) out += static_cast<char>((length >> (8 * i)) & 0xff);
  } else {
    out += static_cast<char>(0x81);
    for (int i = 7; i >= 0; i--) out += static_cast<char>((length >> (8 * i)) & 0xff);
  }
}

void AppendString(std::string& out, std::string_view value, bool compress) {
  if (value.size() <= 11 && TryIntegerEncoding(out, value)) return;
  // Under 21 bytes LZF cannot win; it must save at least 4 bytes to be used (Redis's rules).
  if (compress && value.size() > 20) {
    std::string packed(value.size() - 4 + 1, '\0');
    unsigned int n = lzf_compress(value.data(), static_cast<unsigned int>(value.size()),
                                  packed.data(), static_cast<unsigned int>(value.size() - 4));
    if (n > 0) {
      out += static_cast<char>(0xC0 | kEncLzf);
      AppendLength(out, n);
      AppendLength(out, value.size());
      out.append(packed.data(), n);
      return;
    }
  }
  AppendLength(out, value.size());
  out.append(value);
}

bool Reader::Pull(size_t n) {
  if (!source_) return false;
  // Bytes already read leave the buffer (their checksum kept), so it holds about what one read
  // needs rather than the whole stream.
  if (pos_ > 0) {
    crc_ = Crc64(crc_, std::string_view(buf_).substr(0, pos_));
    buf_.erase(0, pos_);
    base_ += pos_;
    pos_ = 0;
  }
  while (buf_.size() < n) {
    if (!source_(buf_, n - buf_.size())) {
      data_ = buf_;
      return false;
    }
  }
  data_ = buf_;
  return true;
}

uint64_t Reader::Checksum() const { return Crc64(crc_, data_.substr(0, pos_)); }

std::optional<uint8_t> Reader::Byte() {
  if (!Ensure(1)) return std::nullopt;
  return static_cast<uint8_t>(data_[pos_++]);
}

std::optional<uint64_t> Reader::Length(bool* encoded) {
  *encoded = false;
  auto first = Byte();
  if (!first) return std::nullopt;
  const uint8_t type = *first >> 6;
  if (type == 0) return *first & 0x3f;
  if (type == 1) {
    auto second = Byte();
    if (!second) return std::nullopt;
    return (static_cast<uint64_t>(*first & 0x3f) << 8) | *second;
  }
  if (type == 3) {
    *encoded = true;
    return *first & 0x3f;
  }
  const int bytes = *first == 0x80 ? 4 : *first == 0x81 ? 8 : 0;
  if (bytes == 0 || !Ensure(static_cast<size_t>(bytes))) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v = (v << 8) | static_cast<uint8_t>(data_[pos_++]);
  return v;
}

std::optional<uint64_t> Reader::Len() {
  bool encoded;
  return Length(&encoded);
}

std::optional<std::string_view> Reader::Bytes(size_t n) {
  if (!Ensure(n)) return std::nullopt;
  std::string_view out = data_.substr(pos_, n);
  pos_ += n;
  return out;
}

std::optional<uint64_t> Reader::LittleEndian(int bytes) {
  if (!Ensure(static_cast<size_t>(bytes))) return std::nullopt;
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
  }
  pos_ += static_cast<size_t>(bytes);
  return v;
}

std::optional<std::string> Reader::String() {
  bool encoded;
  auto len = Length(&encoded);
  if (!len) return std::nullopt;
  if (!encoded) {
    if (!Ensure(*len)) return std::nullopt;
    std::string s(data_.substr(pos_, *len));
    pos_ += *len;
    return s;
  }
  if (*len <= kEncInt32) {
    const int bytes = 1 << *len;
    if (!Ensure(static_cast<size_t>(bytes))) return std::nullopt;
    uint64_t raw = 0;
    for (int i = 0; i < bytes; i++)
      raw |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i);
    pos_ += static_cast<size_t>(bytes);
    // Sign-extend from the encoded width.
    const int shift = 64 - 8 * bytes;
    const int64_t v = static_cast<int64_t>(raw << shift) >> shift;
    return std::to_string(v);
  }
  if (*len != kEncLzf) return std::nullopt;
  bool unused;
  auto packed_len = Length(&unused);
  auto plain_len = Length(&unused);
  if (!packed_len || !plain_len || !Ensure(*packed_len)) return std::nullopt;
  // A bounded claim: an announced length far beyond what LZF can expand to is garbage.
  if (*plain_len > *packed_len * 256 + 64) return std::nullopt;
  std::string plain(*plain_len, '\0');
  unsigned int n = lzf_decompress(data_.data() + pos_, static_cast<unsigned int>(*packed_len),
                                  plain.data(), static_cast<unsigned int>(*plain_len));
  if (n != *plain_len) return std::nullopt;
  pos_ += *packed_len;
  return plain;
}

void AppendPayloadFooter(std::string& payload) {
  AppendLittleEndian(payload, kVersion, 2);
  AppendLittleEndian(payload, Crc64(0, payload), 8);
}

std::optional<std::string_view> VerifyPayload(std::string_view payload) {
  if (payload.size() < 10) return std::nullopt;
  const size_t footer = payload.size() - 10;
  const uint16_t version = static_cast<uint8_t>(payload[footer]) |
                           (static_cast<uint16_t>(static_cast<uint8_t>(payload[footer + 1])) << 8);
  if (version > kVersion) return std::nullopt;
  uint64_t stored = 0;
  for (int i = 0; i < 8; i++) {
    stored |= static_cast<uint64_t>(static_cast<uint8_t>(payload[footer + 2 + i])) << (8 * i);
  }
  if (Crc64(0, payload.substr(0, footer + 2)) != stored) return std::nullopt;
  return payload.substr(0, footer);
}

}  // namespace keyward::rdb
