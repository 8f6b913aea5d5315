#include "server/keyspace/ziplist.h"

#include <cstdint>
#include <cstring>

namespace keyward {

namespace {

constexpr size_t kZiplistHeaderSize = 10;  // zlbytes, zltail, zllen
constexpr uint8_t kZiplistEnd = 0xFF;
constexpr uint8_t kBigPrevlen = 0xFE;
constexpr uint16_t kZiplistCountUnknown = UINT16_MAX;
constexpr uint8_t kZipmapBigLen = 254;
constexpr uint8_t kZipmapEnd = 0xFF;

uint32_t Load32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

uint64_t LoadLittleEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

int64_t SignExtend(uint64_t u, int bits) {
  if (bits == 64) return static_cast<int64_t>(u);
  const uint64_t sign = uint64_t{1} << (bits - 1);
  return (u & sign) ? static_cast<int64_t>(u) - (int64_t{1} << bits) : static_cast<int64_t>(u);
}

// An entry's encoding byte: how many bytes the encoding takes (with the string length it holds)
// and how many data bytes follow. False for an unknown encoding (zipEncodingLenSize's invalid).
struct ZipEncoding {
  size_t len_bytes = 0;
  size_t data_bytes = 0;  // for integers; strings read their length from the encoding
  bool is_string = false;
};

bool ReadEncoding(uint8_t b, ZipEncoding* enc) {
  if (b < 0xC0) {
    // Strings: the two high bits give the width of the length (ZIP_STR_06B/14B/32B); the rest
    // of a 32-bit string's first byte is ignored, as ZIP_ENTRY_ENCODING masks it.
    enc->is_string = true;
    enc->len_bytes = (b & 0xC0) == 0x00 ? 1 : (b & 0xC0) == 0x40 ? 2 : 5;
    return true;
  }
  enc->len_bytes = 1;
  switch (b) {
    case 0xC0:  // int16
      enc->data_bytes = 2;
      return true;
    case 0xD0:  // int32
      enc->data_bytes = 4;
      return true;
    case 0xE0:  // int64
      enc->data_bytes = 8;
      return true;
    case 0xF0:  // int24
      enc->data_bytes = 3;
      return true;
    case 0xFE:  // int8
      enc->data_bytes = 1;
      return true;
    default:
      // 0xF1..0xFD: an immediate 0..12 in the low nibble.
      enc->data_bytes = 0;
      return b >= 0xF1 && b <= 0xFD;
  }
}

// The value of an integer entry whose encoding byte is `b` and data starts at `p`.
int64_t ReadInteger(uint8_t b, const unsigned char* p) {
  switch (b) {
    case 0xC0:
      return SignExtend(LoadLittleEndian(p, 2), 16);
    case 0xD0:
      return SignExtend(LoadLittleEndian(p, 4), 32);
    case 0xE0:
      return SignExtend(LoadLittleEndian(p, 8), 64);
    case 0xF0:
      return SignExtend(LoadLittleEndian(p, 3), 24);
    case 0xFE:
      return SignExtend(LoadLittleEndian(p, 1), 8);
    default:
      return (b & 0x0F) - 1;
  }
}

}  // namespace

bool ZiplistForEach(std::string_view blob, const std::function<bool(const LpElement&)>& fn) {
  const auto* zl = reinterpret_cast<const unsigned char*>(blob.data());
  const size_t size = blob.size();
  if (size < kZiplistHeaderSize + 1) return false;
  if (Load32(zl) != size || zl[size - 1] != kZiplistEnd) return false;
  const size_t tail = Load32(zl + 4);
  if (tail > size - 1) return false;
  const uint16_t header_count = static_cast<uint16_t>(zl[8] | (zl[9] << 8));

  // Every offset below is checked against `last`, the terminator's offset, before it is read:
  // the same bounds as zipEntrySafe's OUT_OF_RANGE (an entry may end right at the terminator).
  const size_t last = size - 1;
  size_t pos = kZiplistHeaderSize;
  size_t prev = 0, prev_raw_size = 0;
  bool have_prev = false;
  size_t count = 0;
  while (zl[pos] != kZiplistEnd) {
    const size_t prevlen_size = zl[pos] < kBigPrevlen ? 1 : 5;
    if (pos + prevlen_size > last) return false;
    const uint8_t b = zl[pos + prevlen_size];
    ZipEncoding enc;
    if (!ReadEncoding(b, &enc)) return false;
    if (pos + prevlen_size + enc.len_bytes > last) return false;
    const size_t prevlen = prevlen_size == 1 ? zl[pos] : Load32(zl + pos + 1);
    const unsigned char* e = zl + pos + prevlen_size;
    size_t data_len = enc.data_bytes;
    if (enc.is_string) {
      if (enc.len_bytes == 1) {
        data_len = b & 0x3F;
      } else if (enc.len_bytes == 2) {
        data_len = (static_cast<size_t>(b & 0x3F) << 8) | e[1];
      } else {
        data_len = (static_cast<size_t>(e[1]) << 24) | (static_cast<size_t>(e[2]) << 16) |
                   (static_cast<size_t>(e[3]) << 8) | e[4];
      }
    }
    const size_t header_size = prevlen_size + enc.len_bytes;
    if (pos + header_size + data_len > last) return false;
    // The previous entry's recorded size must be its real one (the first entry's is 0), so that
    // a walk backwards would land on entry starts.
    if (prevlen != prev_raw_size) return false;

    LpElement element;
    const unsigned char* data = zl + pos + header_size;
    if (enc.is_string) {
      element.str = {reinterpret_cast<const char*>(data), data_len};
    } else {
      element.is_int = true;
      element.value = ReadInteger(b, data);
    }
    if (!fn(element)) return false;

    prev = pos;
    have_prev = true;
    prev_raw_size = header_size + data_len;
    pos += prev_raw_size;
    count++;
  }
  if (pos != last) return false;
  if (have_prev && prev != tail) return false;
  if (header_count != kZiplistCountUnknown && count != header_count) return false;
  return true;
}

bool ZipmapForEach(std::string_view blob,
                   const std::function<bool(std::string_view field, std::string_view value)>& fn) {
  const auto* zm = reinterpret_cast<const unsigned char*>(blob.data());
  const size_t size = blob.size();
  if (size < 2 || zm[size - 1] != kZipmapEnd) return false;
  const size_t last = size - 1;

  // A length at `pos` (which must be readable): its size in bytes and its value.
  auto length_at = [&](size_t pos, size_t* len_size, size_t* len) {
    *len_size = zm[pos] < kZipmapBigLen ? 1 : 5;
    if (pos + *len_size > last) return false;
    *len = *len_size == 1 ? zm[pos] : Load32(zm + pos + 1);
    return true;
  };

  size_t pos = 1;  // past the count
  size_t count = 0;
  while (zm[pos] != kZipmapEnd) {
    size_t len_size, len;
    if (!length_at(pos, &len_size, &len)) return false;
    const size_t field_at = pos + len_size;
    pos = field_at + len;
    if (pos > last) return false;
    const std::string_view field(reinterpret_cast<const char*>(zm + field_at), len);

    if (!length_at(pos, &len_size, &len)) return false;
    pos += len_size;
    const size_t free = zm[pos++];  // readable: length_at kept pos + len_size within the blob
    const size_t value_at = pos;
    pos = value_at + len + free;
    if (pos > last) return false;
    const std::string_view value(reinterpret_cast<const char*>(zm + value_at), len);
    if (!fn(field, value)) return false;
    count++;
  }
  if (count == 0) return false;
  if (zm[0] != kZipmapBigLen && zm[0] != count) return false;
  return true;
}

}  // namespace keyward
