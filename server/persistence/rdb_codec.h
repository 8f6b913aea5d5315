// The pieces of Redis's RDB encoding that serialised payloads share: length prefixes, strings
// (integer-encoded and LZF-compressed forms included), and the CRC64 (Jones) checksum with the
// version footer that DUMP and FUNCTION DUMP payloads end with. FUNCTION DUMP/RESTORE and
// DUMP/RESTORE of keys use it (values read back through keyspace/value_decode.h), and so do the
// RDB files of server/storage/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace keyward::rdb {

// The RDB format version this server writes (Redis 7.0's).
constexpr uint16_t kVersion = 10;
// The opcodes of an RDB stream (RDB_OPCODE_*): a function library (and its pre-7.0-GA form), a
// module's AUX data, an LRU idle time, an LFU frequency, an AUX field, the RESIZEDB hint, expiry
// in milliseconds (and in seconds, before RDB 3), SELECTDB, and the end of the file.
constexpr uint8_t kOpcodeFunction2 = 0xf5;
constexpr uint8_t kOpcodeFunctionPreGa = 0xf6;
constexpr uint8_t kOpcodeModuleAux = 0xf7;
constexpr uint8_t kOpcodeIdle = 0xf8;
constexpr uint8_t kOpcodeFreq = 0xf9;
constexpr uint8_t kOpcodeAux = 0xfa;
constexpr uint8_t kOpcodeResizeDb = 0xfb;
constexpr uint8_t kOpcodeExpireTimeMs = 0xfc;
constexpr uint8_t kOpcodeExpireTime = 0xfd;
constexpr uint8_t kOpcodeSelectDb = 0xfe;
constexpr uint8_t kOpcodeEof = 0xff;

// Redis's crc64: Jones polynomial, reflected, initial value `crc` (0 for a fresh checksum).
uint64_t Crc64(uint64_t crc, std::string_view data);

void AppendLength(std::string& out, uint64_t length);
// `bytes` bytes of v, least significant first (expiry times, checksums, the payload version).
void AppendLittleEndian(std::string& out, uint64_t v, int bytes);
// A string as rdbSaveRawString writes it: integers of up to 11 characters as integers, longer
// strings LZF-compressed when `compress` and that saves at least 4 bytes, otherwise raw.
void AppendString(std::string& out, std::string_view value, bool compress = true);

// Sequential reads over an RDB byte stream; nullopt on truncated or malformed input. The bytes
// are either all in memory (a file, a DUMP payload) or pulled from a source as they are needed
// (a replica loading its master's RDB straight from the socket). A view a read returns is
// valid until the next read.
class Reader {
 public:
  // Appends at least `want` more bytes to `buf` (blocking as long as it must); false at the end
  // of the stream or on an error.
  using Source = std::function<bool(std::string& buf, size_t want)>;
  explicit Reader(std::string_view data) : data_(data) {}
  explicit Reader(Source source) : source_(std::move(source)) {}
  std::optional<uint8_t> Byte();
  std::optional<std::string> String();
  // A length as rdbLoadLen reads one: the 6, 14, 32 and 64-bit forms, and (as Redis does when
  // no encoding is expected) the low 6 bits of a special-encoding byte.
  std::optional<uint64_t> Len();
  // The next `n` raw bytes (binary doubles, string-encoded doubles).
  std::optional<std::string_view> Bytes(size_t n);
  // An unsigned little-endian integer of `bytes` bytes (expiry times, checksums).
  std::optional<uint64_t> LittleEndian(int bytes);
  // Bytes read so far, from the start of the stream.
  size_t position() const { return base_ + pos_; }
  // Bytes known to follow (for a source, only those already pulled).
  size_t remaining() const { return data_.size() - pos_; }
  // The CRC64 of every byte read so far (an RDB's trailer checks it).
  uint64_t Checksum() const;
  // What a source delivered beyond what was read (the stream after an RDB).
  std::string_view Unread() const { return data_.substr(pos_); }

 private:
  // A length, or with *encoded set, the special encoding (0 int8, 1 int16, 2 int32, 3 LZF).
  std::optional<uint64_t> Length(bool* encoded);
  // Whether `n` bytes follow, pulling them from the source when there is one.
  bool Ensure(size_t n) { return data_.size() - pos_ >= n || Pull(n); }
  bool Pull(size_t n);
  std::string_view data_;
  size_t pos_ = 0;
  // With a source: `data_` views `buf_`; bytes dropped from its front are counted in `base_`
  // and their checksum in `crc_`.
  Source source_;
  std::string buf_;
  size_t base_ = 0;
  uint64_t crc_ = 0;
};

// Appends the footer of a DUMP payload: the RDB version (2 bytes, little-endian) and the CRC64
// of everything before it, the footer's version included (8 bytes, little-endian).
void AppendPayloadFooter(std::string& payload);
// Checks a DUMP payload's footer (version not newer than ours, checksum right); the body
// without the footer, or nullopt.
std::optional<std::string_view> VerifyPayload(std::string_view payload);

}  // namespace keyward::rdb
