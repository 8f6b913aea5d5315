// SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD and BITFIELD_RO. Expected replies were taken
// from redis-server 7.0.15; the random cross-checks compare BITCOUNT, BITPOS, BITOP and BITFIELD
// GET with naive bit-by-bit models (the BITCOUNT/BITPOS models were themselves checked against
// redis-server on thousands of random strings and ranges).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using namespace std::string_literals;

constexpr char kBitOffsetErr[] = "ERR bit offset is not an integer or out of range";
constexpr char kBitValueErr[] = "ERR bit is not an integer or out of range";
constexpr char kNotIntegerErr[] = "ERR value is not an integer or out of range";
constexpr char kSyntaxErr[] = "ERR syntax error";
constexpr char kWrongTypeErr[] =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
constexpr char kFieldTypeErr[] =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 "
    "is.";

struct BitfieldCase {
  std::vector<std::string> args;   // after "bitfield"
  std::vector<std::string> reply;  // "(nil)" for a write refused by OVERFLOW FAIL
};

class BitopsFamilyTest : public CommandTest {
 protected:
  std::string Bytes(std::initializer_list<uint8_t> bytes) {
    return std::string(bytes.begin(), bytes.end());
  }
  // The raw value of a key, read from the keyspace (independent of the string family).
  std::optional<std::string> Value(const std::string& key) {
    Entry* e = server().keyspace().db(0).Find(key, LookupMode::kNoTouch);
    if (e == nullptr) return std::nullopt;
    return std::string(e->string_value());
  }
  Entry* Find(const std::string& key) {
    return server().keyspace().db(0).Find(key, LookupMode::kNoTouch);
  }
  void SetValue(const std::string& key, const std::string& value) {
    ASSERT_EQ(Run({"set", key, value}), "OK");
  }
  // Runs BITFIELD commands in order and compares every reply with redis-server's.
  void CheckSequence(const std::vector<BitfieldCase>& cases) {
    for (const auto& c : cases) {
      std::vector<std::string> args = {"bitfield"};
      args.insert(args.end(), c.args.begin(), c.args.end());
      Resp r = Run(args);
      std::string shown;
      for (const auto& a : args) shown += a + " ";
      ASSERT_TRUE(r.is_array()) << shown << "-> " << r;
      EXPECT_EQ(r.strings(), c.reply) << shown;
    }
  }
  uint64_t Dirty() { return server().propagation().dirty(); }
};

// ---------------------------------------------------------------------------------------------
// SETBIT / GETBIT

TEST_F(BitopsFamilyTest, SetBitAndGetBit) {
  EXPECT_EQ(Run({"setbit", "k", "7", "1"}), 0);
  EXPECT_EQ(Value("k"), Bytes({0x01}));
  EXPECT_EQ(Run({"getbit", "k", "7"}), 1);
  EXPECT_EQ(Run({"getbit", "k", "6"}), 0);
  EXPECT_EQ(Run({"setbit", "k", "0", "1"}), 0);
  EXPECT_EQ(Value("k"), Bytes({0x81}));
  EXPECT_EQ(Run({"setbit", "k", "7", "0"}), 1);
  EXPECT_EQ(Value("k"), Bytes({0x80}));
  // Writing past the end zero-extends the string.
  EXPECT_EQ(Run({"setbit", "k", "23", "1"}), 0);
  EXPECT_EQ(Value("k"), Bytes({0x80, 0x00, 0x01}));
  // Reads past the end, and of missing keys, are zero.
  EXPECT_EQ(Run({"getbit", "k", "1000"}), 0);
  EXPECT_EQ(Run({"getbit", "nokey", "0"}), 0);
  EXPECT_EQ(Run({"getbit", "k", "4294967295"}), 0);
  EXPECT_EQ(Find("nokey"), nullptr);
}

TEST_F(BitopsFamilyTest, SetBitMakesTheValueRaw) {
  ASSERT_EQ(Run({"set", "n", "123", "px", "100000"}), "OK");
  ASSERT_EQ(Find("n")->encoding(), Encoding::kInt);
  int64_t deadline = Find("n")->expire_ms();
  // Bit 2 of '1' (0x31) is already 1: nothing changes but the encoding.
  EXPECT_EQ(Run({"setbit", "n", "2", "1"}), 1);
  EXPECT_EQ(Find("n")->encoding(), Encoding::kRaw);
  EXPECT_EQ(Value("n"), "123");
  EXPECT_EQ(Find("n")->expire_ms(), deadline);   // the TTL survives the conversion
  EXPECT_EQ(Run({"setbit", "n", "6", "1"}), 0);  // '1' -> '3'
  EXPECT_EQ(Value("n"), "323");

  SetValue("e", "embedded");
  ASSERT_EQ(Find("e")->encoding(), Encoding::kEmbStr);
  EXPECT_EQ(Run({"setbit", "e", "2", "0"}), 1);  // 'e' 0x65 -> 'E' 0x45
  EXPECT_EQ(Find("e")->encoding(), Encoding::kRaw);
  EXPECT_EQ(Value("e"), "Embedded");

  EXPECT_EQ(Run({"setbit", "new", "0", "0"}), 0);
  EXPECT_EQ(Find("new")->encoding(), Encoding::kRaw);
  EXPECT_EQ(Value("new"), Bytes({0x00}));
}

TEST_F(BitopsFamilyTest, GetBitOnIntegerEncodedValue) {
  SetValue("n", "12345");  // "1" is 0x31 = 00110001
  EXPECT_EQ(Run({"getbit", "n", "2"}), 1);
  EXPECT_EQ(Run({"getbit", "n", "3"}), 1);
  EXPECT_EQ(Run({"getbit", "n", "4"}), 0);
  EXPECT_EQ(Run({"getbit", "n", "40"}), 0);
  EXPECT_EQ(Find("n")->encoding(), Encoding::kInt);  // reads do not convert
}

TEST_F(BitopsFamilyTest, SetBitCountsOnlyRealChanges) {
  uint64_t d0 = Dirty();
  EXPECT_EQ(Run({"setbit", "k", "7", "1"}), 0);  // created
  EXPECT_EQ(Dirty(), d0 + 1);
  EXPECT_EQ(Run({"setbit", "k", "7", "1"}), 1);  // same bit: no change
  EXPECT_EQ(Run({"setbit", "k", "6", "0"}), 0);
  EXPECT_EQ(Dirty(), d0 + 1);
  EXPECT_EQ(Run({"setbit", "k", "20", "0"}), 0);  // lengthened, even though it sets a 0
  EXPECT_EQ(Dirty(), d0 + 2);
  EXPECT_EQ(Run({"setbit", "k", "20", "1"}), 0);  // flipped
  EXPECT_EQ(Dirty(), d0 + 3);
  EXPECT_THAT(TakePropagated(), ElementsAre(ElementsAre("setbit", "k", "7", "1"),
                                            ElementsAre("setbit", "k", "20", "0"),
                                            ElementsAre("setbit", "k", "20", "1")));
}

TEST_F(BitopsFamilyTest, SetBitErrors) {
  for (const char* offset :
       {"-1", "x", "", "1.5", "+1", "01", "#1", "4294967296", "9223372036854775808"}) {
    EXPECT_THAT(Run({"setbit", "k", offset, "1"}), ErrorIs(kBitOffsetErr)) << offset;
    EXPECT_THAT(Run({"getbit", "k", offset}), ErrorIs(kBitOffsetErr)) << offset;
  }
  for (const char* value : {"2", "-1", "x", "01", "", "1.0", "9223372036854775808"}) {
    EXPECT_THAT(Run({"setbit", "k", "0", value}), ErrorIs(kBitValueErr)) << value;
  }
  EXPECT_EQ(Find("k"), nullptr);
  EXPECT_THAT(Run({"setbit", "k", "0"}),
              ErrorIs("ERR wrong number of arguments for 'setbit' command"));
  EXPECT_THAT(Run({"getbit", "k"}), ErrorIs("ERR wrong number of arguments for 'getbit' command"));
  EXPECT_EQ(Dirty(), 0u);
}

TEST_F(BitopsFamilyTest, SetBitWrongType) {
  MakeList("l");
  // The arguments are checked before the key's type.
  EXPECT_THAT(Run({"setbit", "l", "x", "1"}), ErrorIs(kBitOffsetErr));
  EXPECT_THAT(Run({"setbit", "l", "0", "2"}), ErrorIs(kBitValueErr));
  EXPECT_THAT(Run({"setbit", "l", "0", "1"}), ErrorIs(kWrongTypeErr));
  EXPECT_THAT(Run({"getbit", "l", "x"}), ErrorIs(kBitOffsetErr));
  EXPECT_THAT(Run({"getbit", "l", "0"}), ErrorIs(kWrongTypeErr));
}

TEST_F(BitopsFamilyTest, OffsetsAreLimitedByProtoMaxBulkLen) {
  server().settings().proto_max_bulk_len = 1024 * 1024;
  EXPECT_EQ(Run({"setbit", "k", "8388607", "1"}), 0);
  EXPECT_EQ(Value("k")->size(), 1024u * 1024);
  EXPECT_THAT(Run({"setbit", "k", "8388608", "1"}), ErrorIs(kBitOffsetErr));
  EXPECT_EQ(Run({"getbit", "k", "8388607"}), 1);
  EXPECT_THAT(Run({"getbit", "k", "8388608"}), ErrorIs(kBitOffsetErr));
  EXPECT_THAT(Run({"bitfield", "k", "get", "u8", "#1048575", "get", "u1", "8388607"}).strings(),
              ElementsAre("1", "1"));
  EXPECT_THAT(Run({"bitfield", "k", "get", "u8", "#1048576"}), ErrorIs(kBitOffsetErr));
  EXPECT_THAT(Run({"bitfield", "k", "get", "u8", "8388608"}), ErrorIs(kBitOffsetErr));
  // The limit applies to the offset: a field that starts below it may end past it.
  EXPECT_THAT(Run({"bitfield", "b", "set", "u8", "8388607", "1"}).strings(), ElementsAre("0"));
  EXPECT_EQ(Value("b")->size(), 1024u * 1024 + 1);
}

// ---------------------------------------------------------------------------------------------
// BITCOUNT

TEST_F(BitopsFamilyTest, BitCount) {
  SetValue("k", "foobar");
  EXPECT_EQ(Run({"bitcount", "k"}), 26);
  EXPECT_EQ(Run({"bitcount", "k", "0", "0"}), 4);
  EXPECT_EQ(Run({"bitcount", "k", "1", "1"}), 6);
  EXPECT_EQ(Run({"bitcount", "k", "1", "1", "BYTE"}), 6);
  EXPECT_EQ(Run({"bitcount", "k", "1", "-1"}), 22);
  EXPECT_EQ(Run({"bitcount", "k", "-5", "-1"}), 22);
  EXPECT_EQ(Run({"bitcount", "k", "-1", "-5"}), 0);
  EXPECT_EQ(Run({"bitcount", "k", "-20", "-10"}), 4);  // both clamp to byte 0
  EXPECT_EQ(Run({"bitcount", "k", "-10", "-20"}), 0);  // reversed negatives: empty
  EXPECT_EQ(Run({"bitcount", "k", "5", "30", "bit"}), 17);
  EXPECT_EQ(Run({"bitcount", "k", "-100", "100", "BIT"}), 26);
  EXPECT_EQ(Run({"bitcount", "k", "9223372036854775807", "-9223372036854775808"}), 0);
  EXPECT_EQ(Run({"bitcount", "k", "-9223372036854775808", "9223372036854775807", "bit"}), 26);
  EXPECT_EQ(Run({"bitcount", "k", "6", "100"}), 0);

  SetValue("f", Bytes({0xff, 0xff}));
  EXPECT_EQ(Run({"bitcount", "f", "0", "-1", "bit"}), 16);
  EXPECT_EQ(Run({"bitcount", "f", "3", "12", "bit"}), 10);
  EXPECT_EQ(Run({"bitcount", "f", "3", "3", "bit"}), 1);

  SetValue("n", "12345");  // integer encoded: counted on its text
  EXPECT_EQ(Run({"bitcount", "n"}), 17);

  SetValue("e", "");
  EXPECT_EQ(Run({"bitcount", "e"}), 0);
  EXPECT_EQ(Run({"bitcount", "e", "0", "-1"}), 0);
  EXPECT_EQ(Run({"bitcount", "e", "0", "0", "bit"}), 0);
  EXPECT_EQ(Run({"bitcount", "nokey"}), 0);
}

TEST_F(BitopsFamilyTest, BitCountErrors) {
  SetValue("k", "foobar");
  EXPECT_THAT(Run({"bitcount", "k", "0"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitcount", "k", "0", "1", "bit", "x"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitcount", "k", "0", "1", "bad"}), ErrorIs(kSyntaxErr));
  // Reversed negative indexes answer 0 before the unit is read.
  EXPECT_EQ(Run({"bitcount", "k", "-1", "-2", "bad"}), 0);
  EXPECT_THAT(Run({"bitcount", "k", "-2", "-1", "bad"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitcount", "k", "a", "b"}), ErrorIs(kNotIntegerErr));
  EXPECT_THAT(Run({"bitcount", "k", "0", "b", "bad"}), ErrorIs(kNotIntegerErr));
  for (const char* bad : {"-0", "+1", " 1", "1.0", "9223372036854775808"}) {
    EXPECT_THAT(Run({"bitcount", "k", bad, "1"}), ErrorIs(kNotIntegerErr)) << bad;
  }
  // Redis 7.0 looks the key up first: a missing key answers 0 whatever the arguments.
  EXPECT_EQ(Run({"bitcount", "nokey", "a", "b"}), 0);
  EXPECT_EQ(Run({"bitcount", "nokey", "0"}), 0);
  EXPECT_EQ(Run({"bitcount", "nokey", "0", "1", "bad", "x"}), 0);
  EXPECT_THAT(Run({"bitcount"}), ErrorIs("ERR wrong number of arguments for 'bitcount' command"));
}

TEST_F(BitopsFamilyTest, BitCountWrongType) {
  MakeList("l");
  EXPECT_THAT(Run({"bitcount", "l"}), ErrorIs(kWrongTypeErr));
  EXPECT_THAT(Run({"bitcount", "l", "x", "y"}), ErrorIs(kWrongTypeErr));
}

// ---------------------------------------------------------------------------------------------
// BITPOS

TEST_F(BitopsFamilyTest, BitPos) {
  SetValue("k", Bytes({0xff, 0xf0, 0x00}));
  EXPECT_EQ(Run({"bitpos", "k", "0"}), 12);
  SetValue("k", Bytes({0x00, 0xff, 0xf0}));
  EXPECT_EQ(Run({"bitpos", "k", "1", "0"}), 8);
  EXPECT_EQ(Run({"bitpos", "k", "1", "2"}), 16);
  EXPECT_EQ(Run({"bitpos", "k", "1", "2", "-1", "byte"}), 16);
  EXPECT_EQ(Run({"bitpos", "k", "1", "7", "15", "bit"}), 8);
  EXPECT_EQ(Run({"bitpos", "k", "0", "7", "15", "BIT"}), 7);
  EXPECT_EQ(Run({"bitpos", "k", "0", "8", "19", "bit"}), -1);
  EXPECT_EQ(Run({"bitpos", "k", "0", "8", "20", "bit"}), 20);
  EXPECT_EQ(Run({"bitpos", "k", "0", "1"}), 20);
  EXPECT_EQ(Run({"bitpos", "k", "0", "1", "1"}), -1);
  EXPECT_EQ(Run({"bitpos", "k", "0", "1", "2"}), 20);
  SetValue("z", Bytes({0x00, 0x00, 0x00}));
  EXPECT_EQ(Run({"bitpos", "z", "1"}), -1);
  EXPECT_EQ(Run({"bitpos", "z", "1", "7", "-3", "bit"}), -1);
  SetValue("s", "foobar");
  EXPECT_EQ(Run({"bitpos", "s", "1", "-10", "-20"}), 1);  // both clamp to byte 0
  EXPECT_EQ(Run({"bitpos", "s", "1", "0", "-1", "bit"}), 1);
  SetValue("n", "12345");
  EXPECT_EQ(Run({"bitpos", "n", "1"}), 2);
  EXPECT_EQ(Run({"bitpos", "n", "0", "1", "1"}), 8);
}

TEST_F(BitopsFamilyTest, BitPosClearBitPastTheEnd) {
  SetValue("f", Bytes({0xff, 0xff, 0xff}));
  // Without an explicit end the string is padded with zeros on the right...
  EXPECT_EQ(Run({"bitpos", "f", "0"}), 24);
  EXPECT_EQ(Run({"bitpos", "f", "0", "0"}), 24);
  EXPECT_EQ(Run({"bitpos", "f", "0", "1"}), 24);
  EXPECT_EQ(Run({"bitpos", "f", "0", "-1"}), 24);
  EXPECT_EQ(Run({"bitpos", "f", "0", "-100"}), 24);
  // ... but not with one, nor when the start lies past the end.
  EXPECT_EQ(Run({"bitpos", "f", "0", "0", "-1"}), -1);
  EXPECT_EQ(Run({"bitpos", "f", "0", "0", "-1", "bit"}), -1);
  EXPECT_EQ(Run({"bitpos", "f", "0", "23", "23", "bit"}), -1);
  EXPECT_EQ(Run({"bitpos", "f", "0", "24", "30", "bit"}), -1);
  EXPECT_EQ(Run({"bitpos", "f", "0", "3"}), -1);
  EXPECT_EQ(Run({"bitpos", "f", "0", "100"}), -1);
  EXPECT_EQ(Run({"bitpos", "f", "1", "3"}), -1);
  // An empty string has no bits at all.
  SetValue("e", "");
  EXPECT_EQ(Run({"bitpos", "e", "0"}), -1);
  EXPECT_EQ(Run({"bitpos", "e", "1"}), -1);
  EXPECT_EQ(Run({"bitpos", "e", "0", "0"}), -1);
  // A missing key is an endless run of zeros.
  EXPECT_EQ(Run({"bitpos", "nokey", "0"}), 0);
  EXPECT_EQ(Run({"bitpos", "nokey", "1"}), -1);
}

TEST_F(BitopsFamilyTest, BitPosErrors) {
  SetValue("k", "foobar");
  EXPECT_THAT(Run({"bitpos", "k", "2"}), ErrorIs("ERR The bit argument must be 1 or 0."));
  EXPECT_THAT(Run({"bitpos", "k", "-1"}), ErrorIs("ERR The bit argument must be 1 or 0."));
  for (const char* bad : {"x", "01", "-0", ""}) {
    EXPECT_THAT(Run({"bitpos", "k", bad}), ErrorIs(kNotIntegerErr)) << bad;
  }
  EXPECT_THAT(Run({"bitpos", "k", "1", "x"}), ErrorIs(kNotIntegerErr));
  EXPECT_THAT(Run({"bitpos", "k", "1", "0", "x"}), ErrorIs(kNotIntegerErr));
  // The unit is read before the end.
  EXPECT_THAT(Run({"bitpos", "k", "1", "0", "x", "bad"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitpos", "k", "1", "0", "x", "bit"}), ErrorIs(kNotIntegerErr));
  EXPECT_THAT(Run({"bitpos", "k", "1", "x", "y", "bad"}), ErrorIs(kNotIntegerErr));
  EXPECT_THAT(Run({"bitpos", "k", "1", "0", "1", "bit", "7"}), ErrorIs(kSyntaxErr));
  // The bit is checked even for a missing key; the range is not.
  EXPECT_THAT(Run({"bitpos", "nokey", "2"}), ErrorIs("ERR The bit argument must be 1 or 0."));
  EXPECT_THAT(Run({"bitpos", "nokey", "x"}), ErrorIs(kNotIntegerErr));
  EXPECT_EQ(Run({"bitpos", "nokey", "1", "a"}), -1);
  EXPECT_EQ(Run({"bitpos", "nokey", "0", "0", "0", "foo"}), 0);
  EXPECT_EQ(Run({"bitpos", "nokey", "0", "0", "1", "bit", "7"}), 0);
  EXPECT_THAT(Run({"bitpos", "k"}), ErrorIs("ERR wrong number of arguments for 'bitpos' command"));
}

TEST_F(BitopsFamilyTest, BitPosWrongType) {
  MakeList("l");
  EXPECT_THAT(Run({"bitpos", "l", "2"}), ErrorIs("ERR The bit argument must be 1 or 0."));
  EXPECT_THAT(Run({"bitpos", "l", "1"}), ErrorIs(kWrongTypeErr));
  EXPECT_THAT(Run({"bitpos", "l", "1", "x"}), ErrorIs(kWrongTypeErr));
}

// ---------------------------------------------------------------------------------------------
// BITOP

TEST_F(BitopsFamilyTest, BitopOperations) {
  SetValue("a", Bytes({0xf0, 0x0f, 0xaa}));
  SetValue("b", Bytes({0xff, 0x01}));
  EXPECT_EQ(Run({"bitop", "and", "d", "a", "b"}), 3);
  EXPECT_EQ(Value("d"), Bytes({0xf0, 0x01, 0x00}));
  EXPECT_EQ(Run({"bitop", "OR", "d", "a", "b"}), 3);
  EXPECT_EQ(Value("d"), Bytes({0xff, 0x0f, 0xaa}));
  EXPECT_EQ(Run({"bitop", "Xor", "d", "a", "b"}), 3);
  EXPECT_EQ(Value("d"), Bytes({0x0f, 0x0e, 0xaa}));
  EXPECT_EQ(Run({"bitop", "nOt", "d", "a"}), 3);
  EXPECT_EQ(Value("d"), Bytes({0x0f, 0xf0, 0x55}));
  // A missing source is an empty string: it clears AND and leaves OR alone.
  EXPECT_EQ(Run({"bitop", "and", "d", "a", "nokey"}), 3);
  EXPECT_EQ(Value("d"), Bytes({0x00, 0x00, 0x00}));
  EXPECT_EQ(Run({"bitop", "or", "d", "nokey", "b"}), 2);
  EXPECT_EQ(Value("d"), Bytes({0xff, 0x01}));
  EXPECT_EQ(Run({"bitop", "and", "d", "a"}), 3);
  EXPECT_EQ(Value("d"), Value("a"));
  // The result is always a raw string, whatever its length.
  EXPECT_EQ(Find("d")->encoding(), Encoding::kRaw);

  SetValue("k", "foobar");
  EXPECT_EQ(Run({"bitop", "not", "d", "k"}), 6);
  EXPECT_EQ(Value("d"), Bytes({0x99, 0x90, 0x90, 0x9d, 0x9e, 0x8d}));
  SetValue("n", "12345");  // integer encoded sources are read as their text
  EXPECT_EQ(Run({"bitop", "xor", "d", "k", "n", "d"}), 6);
  EXPECT_EQ(Value("d"), Bytes({0xce, 0xcd, 0xcc, 0xcb, 0xca, 0xff}));
}

TEST_F(BitopsFamilyTest, BitopDestination) {
  ASSERT_EQ(Run({"set", "a", "abc", "px", "100000"}), "OK");
  ASSERT_GE(Find("a")->expire_ms(), 0);
  // The destination may be a source; it loses its TTL.
  EXPECT_EQ(Run({"bitop", "and", "a", "a", "nokey"}), 3);
  EXPECT_EQ(Value("a"), Bytes({0, 0, 0}));
  EXPECT_EQ(Find("a")->expire_ms(), -1);

  // An empty result deletes the destination.
  SetValue("b", "xyz");
  SetValue("e", "");
  uint64_t d0 = Dirty();
  EXPECT_EQ(Run({"bitop", "or", "b", "nokey"}), 0);
  EXPECT_EQ(Find("b"), nullptr);
  EXPECT_EQ(Dirty(), d0 + 1);
  // Nothing to delete: no change at all.
  EXPECT_EQ(Run({"bitop", "or", "b", "nokey"}), 0);
  EXPECT_EQ(Run({"bitop", "xor", "b", "e", "nokey"}), 0);
  EXPECT_EQ(Dirty(), d0 + 1);
  EXPECT_EQ(Find("b"), nullptr);
}

TEST_F(BitopsFamilyTest, BitopOverwritesAnyType) {
  SetValue("k", "foobar");
  MakeList("l");
  EXPECT_EQ(Run({"bitop", "not", "l", "k"}), 6);
  EXPECT_EQ(Find("l")->type(), ObjType::kString);
  MakeList("m");
  EXPECT_EQ(Run({"bitop", "or", "m", "nokey"}), 0);
  EXPECT_EQ(Find("m"), nullptr);
}

TEST_F(BitopsFamilyTest, BitopDirtyAndPropagation) {
  SetValue("a", "x");
  TakePropagated();
  uint64_t d0 = Dirty();
  EXPECT_EQ(Run({"bitop", "or", "d", "a"}), 1);
  EXPECT_EQ(Dirty(), d0 + 1);
  EXPECT_EQ(Run({"bitop", "or", "d", "nokey"}), 0);  // deletes d
  EXPECT_EQ(Run({"bitop", "or", "d", "nokey"}), 0);  // nothing
  EXPECT_EQ(Dirty(), d0 + 2);
  EXPECT_THAT(TakePropagated(), ElementsAre(ElementsAre("bitop", "or", "d", "a"),
                                            ElementsAre("bitop", "or", "d", "nokey")));
}

TEST_F(BitopsFamilyTest, BitopErrors) {
  SetValue("a", "x");
  EXPECT_THAT(Run({"bitop", "not", "d", "a", "b"}),
              ErrorIs("ERR BITOP NOT must be called with a single source key."));
  EXPECT_THAT(Run({"bitop", "foo", "d", "a"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitop", "nand", "d", "a"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitop", "an", "d", "a"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitop", "and", "d"}),
              ErrorIs("ERR wrong number of arguments for 'bitop' command"));
  EXPECT_EQ(Find("d"), nullptr);
}

TEST_F(BitopsFamilyTest, BitopWrongType) {
  SetValue("a", "x");
  MakeList("l");
  EXPECT_THAT(Run({"bitop", "and", "d", "a", "l"}), ErrorIs(kWrongTypeErr));
  EXPECT_THAT(Run({"bitop", "not", "d", "l"}), ErrorIs(kWrongTypeErr));
  EXPECT_EQ(Find("d"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// BITFIELD

TEST_F(BitopsFamilyTest, BitfieldOverflowModes) {
  const std::string kI64Max = "9223372036854775807", kI64Min = "-9223372036854775808";
  const std::vector<BitfieldCase> cases = {
      {{"k", "set", "i8", "0", "127", "incrby", "i8", "0", "1"}, {"0", "-128"}},
      {{"k", "overflow", "sat", "incrby", "i8", "0", "-300", "incrby", "i8", "0", "500"},
       {"-128", "127"}},
      {{"k", "overflow", "fail", "incrby", "i8", "0", "1", "incrby", "i8", "0", "-1"},
       {"(nil)", "126"}},
      {{"u", "set", "u8", "0", "255", "incrby", "u8", "0", "1", "incrby", "u8", "0", "-1"},
       {"0", "0", "255"}},
      {{"u", "overflow", "sat", "incrby", "u8", "0", "1000", "incrby", "u8", "0", "-1000"},
       {"255", "0"}},
      {{"u", "overflow", "fail", "incrby", "u8", "0", "1", "set", "u8", "0", "256", "set", "u8",
        "0", "-1"},
       {"1", "(nil)", "(nil)"}},
      // SAT of a negative SET value into an unsigned field gives the maximum, as in Redis.
      {{"u", "overflow", "sat", "set", "u8", "0", "-1", "set", "u8", "0", "256"}, {"1", "255"}},
      {{"u", "overflow", "wrap", "set", "u8", "0", "-1", "set", "u8", "0", "257", "set", "i8", "0",
        "200", "set", "i8", "0", "-129"},
       {"255", "255", "1", "-56"}},
      {{"u", "overflow", "sat", "set", "i8", "0", "200", "set", "i8", "0", "-129"}, {"127", "127"}},
      {{"s", "set", "i64", "0", kI64Max, "incrby", "i64", "0", "1", "get", "i64", "0"},
       {"0", kI64Min, kI64Min}},
      {{"s", "overflow", "sat", "incrby", "i64", "0", kI64Min, "incrby", "i64", "0", "-1", "incrby",
        "i64", "0", "-5"},
       {kI64Min, kI64Min, kI64Min}},
      {{"s", "overflow", "sat", "set", "i64", "0", kI64Max, "incrby", "i64", "0", kI64Max},
       {kI64Min, kI64Max}},
      {{"s", "overflow", "fail", "incrby", "i64", "0", "1", "incrby", "i64", "0", "-1", "incrby",
        "i64", "0", kI64Min},
       {"(nil)", "9223372036854775806", "-2"}},
      {{"s", "overflow", "wrap", "incrby", "i64", "0", kI64Max, "incrby", "i64", "0", kI64Max},
       {"9223372036854775805", "-4"}},
      {{"v", "set", "u63", "0", "-1", "overflow", "sat", "set", "u63", "0", "-1", "incrby", "u63",
        "0", kI64Min},
       {"0", kI64Max, "0"}},
      {{"z", "OvErFlOw", "Sat", "InCrBy", "u8", "0", "-1", "GeT", "u8", "0"}, {"0", "0"}},
      {{"z", "overflow", "wrap", "incrby", "i8", "0", kI64Max}, {"-1"}},
      {{"z", "overflow", "wrap", "incrby", "i8", "0", kI64Min}, {"-1"}},
      {{"z", "overflow", "wrap", "incrby", "u8", "0", kI64Min}, {"255"}},
      {{"z", "overflow", "sat", "incrby", "u8", "0", kI64Min}, {"0"}},
      {{"z", "overflow", "sat", "incrby", "u8", "0", kI64Max}, {"255"}},
      {{"z", "overflow", "sat", "incrby", "i8", "0", kI64Max}, {"127"}},
      {{"z", "overflow", "sat", "incrby", "i8", "0", kI64Min}, {"-128"}},
      {{"z", "overflow", "wrap", "incrby", "u63", "0", "-1"}, {"4611686018427387903"}},
      {{"z", "overflow", "sat", "incrby", "u63", "0", "-1", "incrby", "u63", "0", kI64Max, "incrby",
        "u63", "0", "1"},
       {"4611686018427387902", kI64Max, kI64Max}},
      {{"z", "overflow", "sat", "incrby", "i63", "0", kI64Max, "incrby", "i63", "0", kI64Min},
       {"4611686018427387903", "-4611686018427387904"}},
      {{"z", "overflow", "wrap", "set", "i63", "0", kI64Max, "set", "i63", "0", kI64Min, "get",
        "i63", "0"},
       {"-4611686018427387904", "-1", "0"}},
      // Out-of-range SET values take Redis's (wrapping) comparison path under SAT.
      {{"q", "overflow", "sat", "set", "i63", "0", kI64Min, "get", "i63", "0"},
       {"0", "4611686018427387903"}},
      {{"q2", "overflow", "sat", "set", "i8", "0", kI64Min, "get", "i8", "0", "set", "i8", "0",
        kI64Max},
       {"0", "127", "127"}},
  };
  CheckSequence(cases);
}

TEST_F(BitopsFamilyTest, BitfieldLayout) {
  const std::vector<BitfieldCase> cases = {
      // clang-format off
      {{"w", "set", "u4", "3", "15", "set", "i5", "100", "-3", "get", "u4", "3", "get", "i5", "100",
        "get", "u16", "0", "get", "i3", "#4"},
       // clang-format on
       {"0", "0", "15", "-3", "7680", "0"}},
  };
  CheckSequence(cases);
  EXPECT_EQ(Value("w"), Bytes({0x1e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0e, 0x80}));
  EXPECT_EQ(Find("w")->encoding(), Encoding::kRaw);

  const std::vector<BitfieldCase> more = {
      // clang-format off
      {{"w", "incrby", "u2", "#0", "5", "incrby", "i1", "1", "1", "incrby", "i1", "1", "1",
        "incrby", "i1", "1", "-1", "set", "u1", "0", "3"},
       // clang-format on
       {"1", "0", "-1", "0", "0"}},
      {{"x", "set", "i1", "0", "1", "set", "i1", "1", "-1", "set", "i1", "2", "-2", "get", "i1",
        "0", "get", "i2", "0"},
       {"0", "0", "0", "-1", "-1"}},
      {{"x", "overflow", "sat", "set", "i1", "3", "5", "set", "i1", "4", "-5", "get", "i8", "0"},
       {"0", "0", "-56"}},
      {{"y", "set", "i16", "#2", "-2", "get", "u32", "0", "get", "i64", "0", "get", "u63", "1"},
       {"0", "0", "4294836224", "4294836224"}},
      {{"y", "set", "u8", "0", "0", "incrby", "u8", "100", "-1"}, {"0", "255"}},
      // "#N" multiplies with wrap-around, as in Redis: 2^58 fields of 64 bits is offset 0.
      {{"y", "get", "i64", "#288230376151711744", "get", "i64", "#288230376151711745", "get", "i64",
        "64"},
       {"4294836224", "267386880", "267386880"}},
      {{"y"}, {}},
      {{"y", "overflow", "fail"}, {}},
  };
  CheckSequence(more);
  EXPECT_EQ(Value("y")->size(), 14u);
}

TEST_F(BitopsFamilyTest, BitfieldGetDoesNotCreate) {
  EXPECT_THAT(Run({"bitfield", "nokey", "get", "u8", "0", "get", "i64", "100"}).strings(),
              ElementsAre("0", "0"));
  EXPECT_THAT(Run({"bitfield_ro", "nokey", "get", "u8", "0"}).strings(), ElementsAre("0"));
  EXPECT_EQ(Run({"bitfield", "nokey"}).size(), 0u);
  EXPECT_TRUE(Run({"bitfield", "nokey"}).is_array());
  EXPECT_EQ(Run({"bitfield_ro", "nokey"}).size(), 0u);
  EXPECT_EQ(Find("nokey"), nullptr);
  EXPECT_EQ(Dirty(), 0u);

  SetValue("n", "12345");  // GET reads an integer-encoded value as its text
  EXPECT_THAT(
      Run({"bitfield_ro", "n", "get", "u8", "0", "get", "u16", "#2", "get", "u8", "36"}).strings(),
      ElementsAre("49", "13568", "80"));
  EXPECT_EQ(Find("n")->encoding(), Encoding::kInt);
}

TEST_F(BitopsFamilyTest, BitfieldFailStillCreatesTheKey) {
  uint64_t d0 = Dirty();
  EXPECT_EQ(RunRaw({"bitfield", "c", "overflow", "fail", "incrby", "u2", "0", "10"}),
            "*1\r\n$-1\r\n");
  // As in Redis, the key was grown before the write was refused, and nothing counts as a change;
  // unlike Redis, the command is propagated, so a replica or the AOF holds the grown key too (the
  // replay check after the test proves it).
  EXPECT_EQ(Value("c"), Bytes({0}));
  EXPECT_EQ(Dirty(), d0);
  EXPECT_THAT(TakePropagated(), ElementsAre(ElementsAre("bitfield", "c", "overflow", "fail",
                                                        "incrby", "u2", "0", "10")));
  Run({"hello", "3"});
  EXPECT_EQ(RunRaw({"bitfield", "c", "overflow", "fail", "incrby", "u2", "0", "10"}),
            "*1\r\n_\r\n");
}

TEST_F(BitopsFamilyTest, BitfieldDirtyAndPropagation) {
  uint64_t d0 = Dirty();
  EXPECT_THAT(Run({"bitfield", "b", "set", "u8", "0", "0"}).strings(), ElementsAre("0"));
  EXPECT_EQ(Dirty(), d0 + 1);  // created
  EXPECT_THAT(Run({"bitfield", "b", "set", "u8", "0", "0"}).strings(), ElementsAre("0"));
  EXPECT_EQ(Dirty(), d0 + 1);  // same value
  EXPECT_THAT(
      Run({"bitfield", "b", "set", "u8", "0", "5", "incrby", "u8", "0", "1", "get", "u8", "0"})
          .strings(),
      ElementsAre("0", "6", "6"));
  EXPECT_EQ(Dirty(), d0 + 3);  // one per changing write
  // A newly grown string counts every write as a change, even one that writes zeros.
  EXPECT_THAT(Run({"bitfield", "b", "set", "u8", "8", "0", "set", "u8", "8", "0"}).strings(),
              ElementsAre("0", "0"));
  EXPECT_EQ(Dirty(), d0 + 5);
  EXPECT_THAT(Run({"bitfield", "b", "get", "u8", "0"}).strings(), ElementsAre("6"));
  EXPECT_EQ(Dirty(), d0 + 5);
  EXPECT_THAT(TakePropagated(), ElementsAre(ElementsAre("bitfield", "b", "set", "u8", "0", "0"),
                                            ElementsAre("bitfield", "b", "set", "u8", "0", "5",
                                                        "incrby", "u8", "0", "1", "get", "u8", "0"),
                                            ElementsAre("bitfield", "b", "set", "u8", "8", "0",
                                                        "set", "u8", "8", "0")));
}

TEST_F(BitopsFamilyTest, BitfieldKeepsTtl) {
  ASSERT_EQ(Run({"set", "k", "v", "px", "100000"}), "OK");
  int64_t deadline = Find("k")->expire_ms();
  EXPECT_THAT(Run({"bitfield", "k", "set", "u8", "16", "1"}).strings(), ElementsAre("0"));
  EXPECT_EQ(Value("k"), "v\0\x01"s);
  EXPECT_EQ(Find("k")->expire_ms(), deadline);
}

TEST_F(BitopsFamilyTest, BitfieldErrors) {
  const char* kRoErr = "ERR BITFIELD_RO only supports the GET subcommand";
  EXPECT_THAT(Run({"bitfield", "k", "overflow"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitfield", "k", "overflow", "foo"}),
              ErrorIs("ERR Invalid OVERFLOW type specified"));
  EXPECT_THAT(Run({"bitfield", "k", "get", "u8"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitfield", "k", "set", "u8", "0"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitfield", "k", "incrby", "u8", "0"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitfield", "k", "foo", "u8", "0"}), ErrorIs(kSyntaxErr));
  EXPECT_THAT(Run({"bitfield", "k", "get", "u8", "0", "extra"}), ErrorIs(kSyntaxErr));
  for (const char* type :
       {"u64", "i65", "u0", "i0", "U8", "I8", "x8", "u", "", "u-1", "u08", "u+8", "i8 "}) {
    EXPECT_THAT(Run({"bitfield", "k", "get", type, "0"}), ErrorIs(kFieldTypeErr)) << type;
  }
  for (const char* offset :
       {"-1", "#-1", "#a", "#", "", "x", "4294967296", "#536870912", "#144115188075855872"}) {
    EXPECT_THAT(Run({"bitfield", "k", "get", "i8", offset}), ErrorIs(kBitOffsetErr)) << offset;
  }
  for (const char* value : {"x", "1.5", "99999999999999999999", ""}) {
    EXPECT_THAT(Run({"bitfield", "k", "set", "i8", "0", value}), ErrorIs(kNotIntegerErr));
    EXPECT_THAT(Run({"bitfield", "k", "incrby", "i8", "0", value}), ErrorIs(kNotIntegerErr));
  }
  // Every operation is parsed first: a late error leaves earlier writes undone.
  EXPECT_THAT(Run({"bitfield", "k", "set", "u8", "0", "1", "get", "u64", "0"}),
              ErrorIs(kFieldTypeErr));
  EXPECT_EQ(Find("k"), nullptr);

  SetValue("b", "x");
  EXPECT_THAT(Run({"bitfield_ro", "b", "get", "u8", "0", "set", "u8", "0", "1"}), ErrorIs(kRoErr));
  EXPECT_THAT(Run({"bitfield_ro", "b", "incrby", "u8", "0", "1"}), ErrorIs(kRoErr));
  // ... and parse errors come before BITFIELD_RO's refusal.
  EXPECT_THAT(Run({"bitfield_ro", "b", "get", "u8", "0", "set", "x8", "0", "1"}),
              ErrorIs(kFieldTypeErr));
  EXPECT_EQ(Run({"bitfield_ro", "b", "overflow", "sat"}).size(), 0u);
  EXPECT_EQ(Value("b"), "x");
  EXPECT_THAT(Run({"bitfield"}), ErrorIs("ERR wrong number of arguments for 'bitfield' command"));
  EXPECT_THAT(Run({"bitfield_ro"}),
              ErrorIs("ERR wrong number of arguments for 'bitfield_ro' command"));
}

TEST_F(BitopsFamilyTest, BitfieldWrongType) {
  MakeList("l");
  EXPECT_THAT(Run({"bitfield", "l", "get", "i8", "x"}), ErrorIs(kBitOffsetErr));
  EXPECT_THAT(Run({"bitfield", "l", "get", "i8", "0"}), ErrorIs(kWrongTypeErr));
  EXPECT_THAT(Run({"bitfield", "l"}), ErrorIs(kWrongTypeErr));
  EXPECT_THAT(Run({"bitfield", "l", "set", "i8", "0", "1"}), ErrorIs(kWrongTypeErr));
  EXPECT_THAT(Run({"bitfield_ro", "l", "get", "i8", "0"}), ErrorIs(kWrongTypeErr));
}

// ---------------------------------------------------------------------------------------------
// Random cross-checks against naive models.

std::vector<int> BitsOf(const std::string& s) {
  std::vector<int> bits;
  for (unsigned char c : s) {
    for (int i = 7; i >= 0; --i) bits.push_back((c >> i) & 1);
  }
  return bits;
}

// Redis's range rules, written out one bit at a time.
struct NaiveRange {
  bool empty;
  int64_t first, last;  // bit positions
};

NaiveRange NaiveNormalize(int64_t start, int64_t end, int64_t len, bool in_bits) {
  int64_t total = in_bits ? len * 8 : len;
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
  if (start > end) return {true, 0, 0};
  if (!in_bits) return {false, start * 8, end * 8 + 7};
  return {false, start, end};
}

int64_t NaiveBitCount(const std::string& s, std::optional<std::tuple<int64_t, int64_t, bool>> r) {
  std::vector<int> bits = BitsOf(s);
  int64_t first = 0, last = static_cast<int64_t>(bits.size()) - 1;
  if (r) {
    auto [start, end, in_bits] = *r;
    if (start < 0 && end < 0 && start > end) return 0;
    NaiveRange nr = NaiveNormalize(start, end, s.size(), in_bits);
    if (nr.empty) return 0;
    first = nr.first;
    last = nr.last;
  }
  int64_t n = 0;
  for (int64_t i = first; i <= last; ++i) n += bits[i];
  return n;
}

int64_t NaiveBitPos(const std::string& s, int bit, std::optional<int64_t> start,
                    std::optional<int64_t> end, bool in_bits) {
  std::vector<int> bits = BitsOf(s);
  NaiveRange nr = NaiveNormalize(start.value_or(0), end.value_or(-1), s.size(), in_bits);
  if (nr.empty) return -1;
  for (int64_t i = nr.first; i <= nr.last; ++i) {
    if (bits[i] == bit) return i;
  }
  return bit == 0 && !end ? nr.last + 1 : -1;
}

std::string RandomBitmap(std::mt19937_64& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  int style = static_cast<int>(rng() % 3);
  for (auto& c : s) {
    if (style == 0) {
      c = static_cast<char>(rng() % 2 ? 0xff : 0x00);  // long runs stress the word scans
    } else if (style == 1) {
      const uint8_t picks[] = {0x00, 0xff, 0x80, 0x01, 0x7f, 0xfe};
      c = static_cast<char>(picks[rng() % 6]);
    } else {
      c = static_cast<char>(rng());
    }
  }
  return s;
}

TEST_F(BitopsFamilyTest, BitCountAndBitPosMatchNaiveModel) {
  std::mt19937_64 rng(20240611);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = RandomBitmap(rng, iter % 10 == 0 ? 200 : 40);
    SetValue("k", s);
    const int64_t lim = static_cast<int64_t>(s.size()) * 8 + 10;
    auto pick = [&] { return static_cast<int64_t>(rng() % (2 * lim + 1)) - lim; };
    int64_t a = pick(), b = pick();
    int unit = static_cast<int>(rng() % 3);  // 0: none, 1: BYTE, 2: BIT
    const char* unit_name = unit == 1 ? "byte" : "bit";
    std::string where = "iter " + std::to_string(iter) + " len " + std::to_string(s.size()) +
                        " a " + std::to_string(a) + " b " + std::to_string(b);

    EXPECT_EQ(Run({"bitcount", "k"}), NaiveBitCount(s, std::nullopt)) << where;
    std::vector<std::string> count_args = {"bitcount", "k", std::to_string(a), std::to_string(b)};
    if (unit) count_args.push_back(unit_name);
    EXPECT_EQ(Run(count_args), NaiveBitCount(s, std::make_tuple(a, b, unit == 2))) << where;

    for (int bit = 0; bit <= 1; ++bit) {
      std::string bs = std::to_string(bit);
      EXPECT_EQ(Run({"bitpos", "k", bs}), NaiveBitPos(s, bit, std::nullopt, std::nullopt, false))
          << where;
      EXPECT_EQ(Run({"bitpos", "k", bs, std::to_string(a)}),
                NaiveBitPos(s, bit, a, std::nullopt, false))
          << where;
      std::vector<std::string> pos_args = {"bitpos", "k", bs, std::to_string(a), std::to_string(b)};
      if (unit) pos_args.push_back(unit_name);
      EXPECT_EQ(Run(pos_args), NaiveBitPos(s, bit, a, b, unit == 2)) << where;
    }
    if (HasFailure()) break;
  }
}

TEST_F(BitopsFamilyTest, BitopMatchesNaiveModel) {
  std::mt19937_64 rng(77);
  const char* ops[] = {"and", "or", "xor", "not"};
  for (int iter = 0; iter < 500; ++iter) {
    size_t n = 1 + rng() % 4;
    std::vector<std::string> values;
    std::vector<std::string> args = {"bitop", ops[rng() % 4], "dest"};
    if (args[1] == "not") n = 1;
    size_t maxlen = 0;
    for (size_t i = 0; i < n; ++i) {
      std::string key = "src" + std::to_string(i);
      values.push_back(RandomBitmap(rng, 40));
      if (values.back().empty()) {
        server().keyspace().db(0).Delete(key);  // a missing key acts as an empty string
      } else {
        SetValue(key, values.back());
      }
      maxlen = std::max(maxlen, values.back().size());
      args.push_back(key);
    }
    std::string expected(maxlen, '\0');
    for (size_t j = 0; j < maxlen; ++j) {
      auto byte = [&](size_t i) -> uint8_t {
        return j < values[i].size() ? static_cast<uint8_t>(values[i][j]) : 0;
      };
      uint8_t out = byte(0);
      for (size_t i = 1; i < n; ++i) {
        if (args[1] == "and") out &= byte(i);
        if (args[1] == "or") out |= byte(i);
        if (args[1] == "xor") out ^= byte(i);
      }
      if (args[1] == "not") out = ~out;
      expected[j] = static_cast<char>(out);
    }
    ASSERT_EQ(Run(args), static_cast<int64_t>(maxlen)) << iter;
    if (maxlen == 0) {
      EXPECT_EQ(Find("dest"), nullptr) << iter;
    } else {
      EXPECT_EQ(Value("dest"), expected) << iter;
    }
  }
}

TEST_F(BitopsFamilyTest, SetBitAndBitfieldMatchNaiveModel) {
  std::mt19937_64 rng(4242);
  std::vector<int> model;  // the bits of key "k"
  auto model_bit = [&](uint64_t i) { return i < model.size() ? model[i] : 0; };
  for (int iter = 0; iter < 2000; ++iter) {
    uint64_t offset = rng() % 300;
    if (rng() % 2) {
      int value = static_cast<int>(rng() % 2);
      ASSERT_EQ(Run({"setbit", "k", std::to_string(offset), std::to_string(value)}),
                model_bit(offset));
      if (offset >= model.size()) model.resize((offset / 8 + 1) * 8, 0);
      model[offset] = value;
    } else {
      bool is_signed = rng() % 2;
      int bits = 1 + static_cast<int>(rng() % (is_signed ? 64 : 63));
      uint64_t raw = 0;
      for (int j = 0; j < bits; ++j) raw = (raw << 1) | model_bit(offset + j);
      int64_t expected = static_cast<int64_t>(raw);
      if (is_signed && bits < 64 && (raw >> (bits - 1)) & 1) {
        expected = static_cast<int64_t>(raw | (~uint64_t{0} << bits));
      }
      std::string type = (is_signed ? "i" : "u") + std::to_string(bits);
      Resp r = Run({"bitfield_ro", "k", "get", type, std::to_string(offset)});
      ASSERT_EQ(r.size(), 1u);
      ASSERT_EQ(r[0], expected) << type << " at " << offset;
    }
  }
  EXPECT_EQ(Run({"bitcount", "k"}), std::count(model.begin(), model.end(), 1));
}

}  // namespace
}  // namespace keyward::test
