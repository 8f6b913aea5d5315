// The RDB encoding shared by DUMP payloads: CRC64, lengths, strings (integer, LZF, raw) and the
// payload footer. FUNCTION DUMP's bytes are compared with Redis's in
// tests/differential/test_scripting.py; here each piece is checked on its own.
#include "server/persistence/rdb_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace keyward::rdb {
namespace {

TEST(RdbCodecTest, Crc64IsRedisJonesCrc) {
  // The check value Redis's crc64.c tests itself with.
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
  // Incremental use gives the same result as one call.
  EXPECT_EQ(Crc64(Crc64(0, "12345"), "6789"), Crc64(0, "123456789"));
}

TEST(RdbCodecTest, LengthEncodings) {
  auto encode = [](uint64_t n) {
    std::string out;
    AppendLength(out, n);
    return out;
  };
  EXPECT_EQ(encode(0), std::string("\x00", 1));
  EXPECT_EQ(encode(63), "\x3f");
  EXPECT_EQ(encode(64), "\x40\x40");
  EXPECT_EQ(encode(16383), "\x7f\xff");
  EXPECT_EQ(encode(16384), std::string("\x80\x00\x00\x40\x00", 5));
  EXPECT_EQ(encode(1ULL << 32), std::string("\x81\x00\x00\x00\x01\x00\x00\x00\x00", 9));
}

TEST(RdbCodecTest, StringsRoundTripInEveryEncoding) {
  const std::string cases[] = {"",
                               "a",
                               "12",
                               "-128",
                               "300",
                               "-40000",
                               "2147483647",
                               "007",
                               "12345678901",
                               "hello world, hello world, hello world, hello world",
                               std::string(1000, 'x'),
                               std::string("bin\0ary", 7)};
  for (const std::string& value : cases) {
    for (bool compress : {true, false}) {
      std::string out;
      AppendString(out, value, compress);
      Reader reader(out);
      auto back = reader.String();
      ASSERT_TRUE(back) << value;
      EXPECT_EQ(*back, value);
      EXPECT_EQ(reader.position(), out.size());
    }
  }
}

// A reader pulling from a source (a replica parsing its master's RDB from the socket) reads
// what an in-memory one reads, however the bytes arrive, and checksums the same bytes.
TEST(RdbCodecTest, ASourcedReaderReadsWhatAnInMemoryOneReads) {
  std::string data;
  const std::string values[] = {"12", std::string(5000, 'y'), "hello hello hello hello hello",
                                std::string("bin\0ary", 7)};
  for (const std::string& v : values) AppendString(data, v);
  AppendLength(data, 1ULL << 20);
  AppendLittleEndian(data, 0x0102030405060708ULL, 8);
  data += "tail";
  for (size_t step : {size_t{1}, size_t{3}, size_t{4096}}) {
    size_t at = 0;
    size_t pulls = 0;
    Reader sourced([&](std::string& buf, size_t want) {
      if (at == data.size()) return false;
      // At most `step` bytes a pull, whatever was wanted: the reader must ask again.
      const size_t n = std::min(step, data.size() - at);
      buf.append(data, at, n);
      at += n;
      pulls++;
      return true;
    });
    Reader memory(data);
    for (const std::string& v : values) {
      auto got = sourced.String();
      ASSERT_TRUE(got) << step;
      EXPECT_EQ(*got, v);
      EXPECT_EQ(*memory.String(), v);
    }
    EXPECT_EQ(*sourced.Len(), 1ULL << 20);
    EXPECT_EQ(*sourced.LittleEndian(8), 0x0102030405060708ULL);
    EXPECT_EQ(sourced.position(), data.size() - 4);
    EXPECT_EQ(sourced.Checksum(), Crc64(0, std::string_view(data).substr(0, data.size() - 4)));
    EXPECT_EQ(*sourced.Bytes(4), "tail");
    // Past the end: the source says so, and the reader reports a short read.
    EXPECT_FALSE(sourced.Byte());
    if (step == 1) {
      EXPECT_GE(pulls, data.size());
    }
  }
}

TEST(RdbCodecTest, IntegersAndCompressionAreUsedWhereRedisUsesThem) {
  std::string out;
  AppendString(out, "-128");
  EXPECT_EQ(out, std::string("\xc0\x80", 2));  // int8
  out.clear();
  AppendString(out, "007");  // not canonical: stays a string
  EXPECT_EQ(out,
            "\x03"
            "007");
  out.clear();
  AppendString(out, std::string(100, 'a'));
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0xc3);  // LZF
  EXPECT_LT(out.size(), 100u);
  out.clear();
  AppendString(out, std::string(100, 'a'), /*compress=*/false);
  EXPECT_EQ(out.size(), 102u);  // a 2-byte length, then the bytes
}

TEST(RdbCodecTest, PayloadFooterIsVerified) {
  std::string payload = "body";
  AppendPayloadFooter(payload);
  ASSERT_EQ(payload.size(), 14u);
  EXPECT_EQ(VerifyPayload(payload), std::optional<std::string_view>("body"));
  std::string corrupted = payload;
  corrupted[1] ^= 1;
  EXPECT_FALSE(VerifyPayload(corrupted));
  EXPECT_FALSE(VerifyPayload("short"));
  // A newer RDB version than this server writes is refused.
  std::string newer = "body";
  newer += static_cast<char>(kVersion + 1);
  newer += '\0';
  uint64_t crc = Crc64(0, newer);
  for (int i = 0; i < 8; i++) newer += static_cast<char>((crc >> (8 * i)) & 0xff);
  EXPECT_FALSE(VerifyPayload(newer));
}

TEST(RdbCodecTest, TruncatedOrHostileInputIsRefused) {
  for (const std::string& bad :
       {std::string("\x05"
                    "abc"),
        std::string("\x80\x00"), std::string("\xc3\x05\x7f\xff\xff", 5), std::string("\xc1\x01")}) {
    Reader reader(bad);
    EXPECT_FALSE(reader.String()) << bad.size();
  }
}

}  // namespace
}  // namespace keyward::rdb
