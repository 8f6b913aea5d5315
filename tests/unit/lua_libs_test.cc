// The struct and cmsgpack libraries of Redis scripts (server/scripting/lua_struct.*,
// lua_cmsgpack.*), in a bare Lua 5.1 state.
//
// Every expected value below was captured from Debian's redis-server 7.0.15: each expression was
// run by EVAL inside the same prelude (kPrelude, chunk name "@user_script"), and the reply
// recorded. The prelude describes the values an expression returns, or its error, as one line:
// strings in hex ("s:6162"), numbers with 17 digits ("n:0.10000000000000001"), tables as sorted
// key=value pairs, and errors as "ERR:<message>" with the script position removed.

#include <gtest/gtest.h>

#include <initializer_list>
#include <lua.hpp>
#include <string>
#include <string_view>

#include "server/scripting/lua_cmsgpack.h"
#include "server/scripting/lua_struct.h"

namespace keyward {
namespace {

constexpr std::string_view kPrelude = R"lua(
local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end
local function describe(v)
  local t = type(v)
  if t == "string" then return "s:" .. hex(v) end
  if t == "number" then return "n:" .. string.format("%.17g", v) end
  if t == "table" then
    local pairs_seen = {}
    for k, x in pairs(v) do pairs_seen[#pairs_seen + 1] = describe(k) .. "=" .. describe(x) end
    table.sort(pairs_seen)
    return "{" .. table.concat(pairs_seen, ",") .. "}"
  end
  return t .. ":" .. tostring(v)
end
local function P(f)
  local r = {pcall(f)}
  if not r[1] then return "ERR:" .. (tostring(r[2]):gsub("^user_script:%d+: ", "")) end
  local out = {}
  for i = 2, table.maxn(r) do out[#out + 1] = describe(r[i]) end
  return table.concat(out, " ")
end
)lua";

struct Case {
  std::string_view expr;
  std::string_view want;  // what redis-server 7.0.15 returned
};

class LuaLibsTest : public ::testing::Test {
 protected:
  LuaLibsTest() : L_(luaL_newstate()) {
    luaL_openlibs(L_);
    for (lua_CFunction open : {luaopen_struct, luaopen_cmsgpack}) {
      lua_pushcfunction(L_, open);
      lua_call(L_, 0, 0);
    }
  }
  ~LuaLibsTest() override { lua_close(L_); }

  // Runs `return <expr>` inside the prelude and returns its one-line description.
  std::string Eval(std::string_view expr) {
    std::string code(kPrelude);
    code.append("return P(function() return ").append(expr).append(" end)");
    if (luaL_loadbuffer(L_, code.data(), code.size(), "@user_script") != 0 ||
        lua_pcall(L_, 0, 1, 0) != 0) {
      std::string error = lua_tostring(L_, -1);
      lua_pop(L_, 1);
      return "lua error: " + error;
    }
    size_t len;
    const char* s = lua_tolstring(L_, -1, &len);
    std::string out(s, len);
    lua_pop(L_, 1);
    return out;
  }

  void ExpectAsRedis(std::initializer_list<Case> cases) {
    for (const Case& c : cases) EXPECT_EQ(Eval(c.expr), c.want) << c.expr;
    EXPECT_EQ(lua_gettop(L_), 0);
  }

  lua_State* L_;
};

// What the engine relies on when it opens the libraries like Lua's own: one table left on the
// stack, and the global set.
TEST_F(LuaLibsTest, OpenFunctionsLeaveTheirTableAndSetTheGlobal) {
  EXPECT_EQ(luaopen_struct(L_), 1);
  ASSERT_EQ(lua_gettop(L_), 1);
  EXPECT_TRUE(lua_istable(L_, -1));
  lua_getglobal(L_, "struct");
  EXPECT_TRUE(lua_rawequal(L_, -1, -2));
  lua_settop(L_, 0);

  EXPECT_EQ(luaopen_cmsgpack(L_), 1);
  ASSERT_EQ(lua_gettop(L_), 1);
  EXPECT_TRUE(lua_istable(L_, -1));
  lua_getglobal(L_, "cmsgpack");
  EXPECT_TRUE(lua_rawequal(L_, -1, -2));
  lua_settop(L_, 0);
}

TEST_F(LuaLibsTest, StructRegistersItsFunctions) {
  ExpectAsRedis({
      {R"lua(type(struct), type(struct.pack), type(struct.unpack), type(struct.size))lua",
       "s:7461626c65 s:66756e6374696f6e s:66756e6374696f6e s:66756e6374696f6e"},
  });
}

TEST_F(LuaLibsTest, StructPacksIntegers) {
  ExpectAsRedis({
      {R"lua(struct.pack('>b', -1), struct.pack('<B', 255), struct.pack('>B', -1))lua",
       "s:ff s:ff s:ff"},
      {R"lua(struct.pack('>h', -2), struct.pack('<H', 258), struct.pack('>H', 258))lua",
       "s:fffe s:0201 s:0102"},
      {R"lua(struct.pack('>l', -3), struct.pack('<L', 2^32), struct.pack('>T', 5))lua",
       "s:fffffffffffffffd s:0000000001000000 s:0000000000000005"},
      {R"lua(struct.pack('>i', -4), struct.pack('<I', 65536), struct.pack('i', 1))lua",
       "s:fffffffc s:00000100 s:01000000"},
      {R"lua(struct.pack('>i3', -2), struct.pack('<I5', 2^33+1), struct.pack('<i1', )lua"
       R"lua(300))lua",
       "s:fffffe s:0100000002 s:2c"},
      {R"lua(struct.pack('>i8', -2^63), struct.pack('>I8', 2^63+2048), )lua"
       R"lua(struct.pack('>I8', 2^53+1))lua",
       "s:8000000000000000 s:8000000000000800 s:0020000000000000"},
      {R"lua(struct.pack('>i16', -2), struct.pack('<I10', 258), struct.pack('>i0', 1))lua",
       "s:0000000000000000fffffffffffffffe s:02010000000000000000 s:"},
      {R"lua(struct.pack('>i4', 2.7), struct.pack('>i4', -2.7), struct.pack('b', )lua"
       R"lua('12'))lua",
       "s:00000002 s:fffffffe s:0c"},
      {R"lua(struct.pack('>I2<I2', 258, 258), struct.pack('> < >I2', 258))lua",
       "s:01020201 s:0102"},
  });
}

TEST_F(LuaLibsTest, StructPacksOutOfRangeNumbersAsRedisDoes) {
  ExpectAsRedis({
      {R"lua(struct.pack('>I8', 2^64), struct.pack('>I8', 2^70), struct.pack('>i8', )lua"
       R"lua(-2^70))lua",
       "s:0000000000000000 s:0000000000000000 s:8000000000000000"},
      {R"lua(struct.pack('>i8', 0/0), struct.pack('>i8', math.huge), )lua"
       R"lua(struct.pack('>i8', -math.huge))lua",
       "s:8000000000000000 s:0000000000000000 s:8000000000000000"},
  });
}

TEST_F(LuaLibsTest, StructUnpacksIntegers) {
  ExpectAsRedis({
      {R"lua(struct.unpack('>b', '\255'), struct.unpack('<B', '\255'))lua", "n:-1 n:255 n:2"},
      {R"lua(struct.unpack('>h', '\255\254'))lua", "n:-2 n:3"},
      {R"lua(struct.unpack('<H', '\1\2'))lua", "n:513 n:3"},
      {R"lua(struct.unpack('>l', string.rep('\255', 8)))lua", "n:-1 n:9"},
      {R"lua(struct.unpack('>L', string.rep('\255', 8)))lua", "n:1.8446744073709552e+19 n:9"},
      {R"lua(struct.unpack('>T', '\0\0\0\0\0\0\1\0'))lua", "n:256 n:9"},
      {R"lua(struct.unpack('<i3', '\254\255\255'))lua", "n:-2 n:4"},
      {R"lua(struct.unpack('<I3', '\254\255\255'))lua", "n:16777214 n:4"},
      {R"lua(struct.unpack('i', '\1\0\0\0'))lua", "n:1 n:5"},
      {R"lua(struct.unpack('>i8', struct.pack('>i8', -2^63)))lua", "n:-9.2233720368547758e+18 n:9"},
      {R"lua(struct.unpack('>I8', struct.pack('>I8', 2^64-2048)))lua",
       "n:1.844674407370955e+19 n:9"},
      {R"lua(struct.unpack('>i8', struct.pack('>I8', 2^64-2048)))lua", "n:-2048 n:9"},
      {R"lua(struct.unpack('>i16', struct.pack('>i16', -2)))lua", "n:-2 n:17"},
      {R"lua(struct.unpack('>i9', struct.pack('>i9', 200)))lua", "n:-56 n:10"},
      {R"lua(struct.unpack('>i9', struct.pack('>i9', 100)))lua", "n:100 n:10"},
      {R"lua(struct.unpack('>i12', struct.pack('>i12', 2^40)))lua", "n:-2147483648 n:13"},
      {R"lua(struct.unpack('i0', 'abc'))lua", "n:0 n:1"},
      {R"lua(struct.unpack('>I0i1', 'abc'))lua", "n:0 n:97 n:2"},
  });
}

TEST_F(LuaLibsTest, StructFloats) {
  ExpectAsRedis({
      {R"lua(struct.pack('>f', 1.5), struct.pack('<f', 0.1), struct.pack('f', 1))lua",
       "s:3fc00000 s:cdcccc3d s:0000803f"},
      {R"lua(struct.pack('>d', 0.1), struct.pack('<d', -2.5), struct.pack('>f', )lua"
       R"lua(1e300))lua",
       "s:3fb999999999999a s:00000000000004c0 s:7f800000"},
      {R"lua(struct.unpack('>f', struct.pack('>f', 0.1)))lua", "n:0.10000000149011612 n:5"},
      {R"lua(struct.unpack('<d', struct.pack('<d', 0.1)))lua", "n:0.10000000000000001 n:9"},
      {R"lua(struct.unpack('>f', '\127\128\0\0'))lua", "n:inf n:5"},
      {R"lua(struct.unpack('>d', '\255\240\0\0\0\0\0\0'))lua", "n:-inf n:9"},
  });
}

TEST_F(LuaLibsTest, StructStrings) {
  ExpectAsRedis({
      {R"lua(struct.pack('s', 'ab'), struct.pack('s', 12), struct.pack('s', 'a\0b'))lua",
       "s:616200 s:313200 s:61006200"},
      {R"lua(struct.pack('c0', 'ab'), struct.pack('c', 'ab'), struct.pack('c3', )lua"
       R"lua('abcd'))lua",
       "s:6162 s:61 s:616263"},
      {R"lua(struct.pack('c2s', 'ab', 'cd'))lua", "s:6162636400"},
      {R"lua(struct.unpack('s', 'ab\0cd'))lua", "s:6162 n:4"},
      {R"lua(struct.unpack('ss', 'ab\0cd\0'))lua", "s:6162 s:6364 n:7"},
      {R"lua(struct.unpack('c2', 'abc'))lua", "s:6162 n:3"},
      {R"lua(struct.unpack('bc0', '\3abcd'))lua", "s:616263 n:5"},
      {R"lua(struct.unpack('>Hc0', '\0\2xyz'))lua", "s:7879 n:5"},
      {R"lua(struct.unpack('c1c0', '3abcd'))lua", "s:616263 n:5"},
      {R"lua(struct.unpack('bc0s', struct.pack('bc0s', 2, 'hi', 'there')))lua",
       "s:6869 s:7468657265 n:10"},
  });
}

TEST_F(LuaLibsTest, StructPaddingAndAlignment) {
  ExpectAsRedis({
      {R"lua(struct.pack('bxb', 1, 2))lua", "s:010002"},
      {R"lua(struct.unpack('bxb', '\1\0\2'))lua", "n:1 n:2 n:4"},
      {R"lua(struct.pack('!4bi', 1, 2), struct.pack('!bd', 1, 2), )lua"
       R"lua(struct.pack('!2bdb', 1, 2, 3))lua",
       "s:0100000002000000 s:01000000000000000000000000000040 s:0100000000000000"
       "004003"},
      {R"lua(struct.pack('!4bi3b', 1, 2, 3), struct.pack('!4 b h', 1, 2), )lua"
       R"lua(struct.pack('!4bc2i', 1, 'xy', 3))lua",
       "s:01000002000003 s:01000200 s:0178790003000000"},
      {R"lua(struct.pack('!1bi', 1, 2), struct.pack('!8bfd', 1, 2, 3))lua",
       "s:0102000000 s:01000000000000400000000000000840"},
      {R"lua(struct.unpack('!4bi3', 'abcdefgh'))lua", "n:97 n:6710628 n:7"},
      {R"lua(struct.unpack('!4bi', struct.pack('!4bi', 1, 2)))lua", "n:1 n:2 n:9"},
  });
}

TEST_F(LuaLibsTest, StructSize) {
  ExpectAsRedis({
      {R"lua(struct.size('bhlTiI3fdxc5'), struct.size('!8bd'), struct.size('! 2 )lua"
       R"lua(bh'), struct.size('!4bi3'))lua",
       "n:44 n:16 n:4 n:6"},
      {R"lua(struct.size(''), struct.size('!'), struct.size('i0'), struct.size('z'), )lua"
       R"lua(struct.size('>9'))lua",
       "n:0 n:0 n:0 n:0 n:0"},
  });
}

TEST_F(LuaLibsTest, StructUnpackPositions) {
  ExpectAsRedis({
      {R"lua(struct.unpack('b', 'abc', 2))lua", "n:98 n:3"},
      {R"lua(struct.unpack('bb', 'abc', 2))lua", "n:98 n:99 n:4"},
      {R"lua(struct.unpack('', 'a', 5))lua", "n:5"},
      {R"lua(struct.unpack('', 'a', -5))lua", "n:-5"},
      {R"lua(struct.unpack('b', 12))lua", "n:49 n:2"},
      {R"lua(struct.unpack('>bBhHlLTiIfds', struct.pack('>bBhHlLTiIfds', -1, 255, )lua"
       R"lua(-300, 65000, -5, 7, 9, -10, 11, 0.5, 0.1, 'hi')))lua",
       "n:-1 n:255 n:-300 n:65000 n:-5 n:7 n:9 n:-10 n:11 n:0.5 n:0.100000000000"
       "00001 s:6869 n:54"},
      {R"lua(struct.unpack('<bBhHlLTiIfds', struct.pack('<bBhHlLTiIfds', -1, 255, )lua"
       R"lua(-300, 65000, -5, 7, 9, -10, 11, 0.5, 0.1, 'hi')))lua",
       "n:-1 n:255 n:-300 n:65000 n:-5 n:7 n:9 n:-10 n:11 n:0.5 n:0.100000000000"
       "00001 s:6869 n:54"},
      {R"lua(struct.unpack('!<bhbibdbf', struct.pack('!<bhbibdbf', 1, 2, 3, 4, 5, 6, )lua"
       R"lua(7, 8)))lua",
       "n:1 n:2 n:3 n:4 n:5 n:6 n:7 n:8 n:33"},
  });
}

TEST_F(LuaLibsTest, StructErrors) {
  ExpectAsRedis({
      {R"lua(struct.pack('=I2', 258))lua",
       "ERR:bad argument #1 to 'pack' (invalid format option '=')"},
      {R"lua(struct.pack('z', 1))lua", "ERR:bad argument #1 to 'pack' (invalid format option 'z')"},
      {R"lua(struct.pack(12, 1))lua", "ERR:bad argument #1 to 'pack' (invalid format option '1')"},
      {R"lua(struct.pack('\233', 1))lua",
       "ERR:bad argument #1 to 'pack' (invalid format option '\xe9')"},
      {R"lua(struct.pack('i33', 1))lua", "ERR:integral size 33 is larger than limit of 32"},
      {R"lua(struct.pack('I32', 1))lua",
       "s:0100000000000000000000000000000000000000000000000000000000000000"},
      {R"lua(struct.pack('i99999999999', 1))lua", "ERR:integral size overflow"},
      {R"lua(struct.pack('!3i', 1))lua", "ERR:alignment 3 is not a power of 2"},
      {R"lua(struct.pack('!0i', 1))lua", "ERR:alignment 0 is not a power of 2"},
      {R"lua(struct.pack('c3', 'ab'))lua", "ERR:bad argument #3 to 'pack' (string too short)"},
      {R"lua(struct.pack('bc3', 1, 'ab'))lua", "ERR:bad argument #4 to 'pack' (string too short)"},
      {R"lua(struct.pack('b'))lua", "ERR:bad argument #2 to 'pack' (number expected, got nil)"},
      {R"lua(struct.pack('b', 'x'))lua",
       "ERR:bad argument #2 to 'pack' (number expected, got string)"},
      {R"lua(struct.pack('s', {}))lua",
       "ERR:bad argument #2 to 'pack' (string expected, got table)"},
      {R"lua(struct.pack())lua", "ERR:bad argument #1 to 'pack' (string expected, got no value)"},
      {R"lua(struct.size('s'))lua", "ERR:bad argument #1 to 'size' (option 's' has no fixed size)"},
      {R"lua(struct.size('c0'))lua",
       "ERR:bad argument #1 to 'size' (option 'c0' has no fixed size)"},
      {R"lua(struct.size('='))lua", "ERR:bad argument #1 to 'size' (invalid format option '=')"},
      {R"lua(struct.size('!6'))lua", "ERR:alignment 6 is not a power of 2"},
      {R"lua(struct.unpack('b'))lua",
       "ERR:bad argument #2 to 'unpack' (string expected, got no value)"},
      {R"lua(struct.unpack('b', ''))lua",
       "ERR:bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(struct.unpack('>d', 'abc'))lua",
       "ERR:bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(struct.unpack('c0', 'a'))lua", "ERR:format 'c0' needs a previous size"},
      {R"lua(struct.unpack('c0', ''))lua", "ERR:format 'c0' needs a previous size"},
      {R"lua(struct.unpack('s', 'abc'))lua", "ERR:unfinished string in data"},
      {R"lua(struct.unpack('b', 'a', 0))lua",
       "ERR:bad argument #3 to 'unpack' (offset must be 1 or greater)"},
      {R"lua(struct.unpack('b', 'a', -1))lua",
       "ERR:bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(struct.unpack('b', 'a', 2))lua",
       "ERR:bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(struct.unpack(' ', 'a', 5))lua",
       "ERR:bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(struct.unpack('bc0', '\255abc'))lua",
       "ERR:bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(struct.unpack('bc0', '\5abc'))lua",
       "ERR:bad argument #2 to 'unpack' (data string too short)"},
      {R"lua(struct.unpack('z', 'abc'))lua",
       "ERR:bad argument #1 to 'unpack' (invalid format option 'z')"},
  });
}

TEST_F(LuaLibsTest, CmsgpackRegistersItsFunctions) {
  ExpectAsRedis({
      {R"lua(type(cmsgpack.pack), type(cmsgpack.unpack), type(cmsgpack.unpack_one), )lua"
       R"lua(type(cmsgpack.unpack_limit))lua",
       "s:66756e6374696f6e s:66756e6374696f6e s:66756e6374696f6e s:66756e6374696"
       "f6e"},
      {R"lua(cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, )lua"
       R"lua(cmsgpack._DESCRIPTION)lua",
       "s:636d73677061636b s:6c75612d636d73677061636b20302e342e30 s:436f70797269"
       "6768742028432920323031322c2053616c7661746f72652053616e66696c6970706f s:4"
       "d6573736167655061636b204320696d706c656d656e746174696f6e20666f72204c7561"},
  });
}

TEST_F(LuaLibsTest, CmsgpackPacksIntegersInTheSmallestForm) {
  ExpectAsRedis({
      {R"lua(cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, )lua"
       R"lua(2^53))lua",
       "s:00017fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf0020"
       "000000000000"},
      {R"lua(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1, )lua"
       R"lua(-2^53))lua",
       "s:ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffe000"
       "0000000000"},
      {R"lua(cmsgpack.pack(2^63-1024, -2^63, -0.0, 3.0))lua",
       "s:cf7ffffffffffffc00d380000000000000000003"},
  });
}

TEST_F(LuaLibsTest, CmsgpackPacksOtherNumbersAsFloats) {
  ExpectAsRedis({
      {R"lua(cmsgpack.pack(0.5, -0.5, 0.1, 1e300, 2^31+0.5))lua",
       "s:ca3f000000cabf000000cb3fb999999999999acb7e37e43c8800759ccb41e000000010"
       "0000"},
      {R"lua(cmsgpack.pack(2^63, 2^64, 1e19, -1e19))lua",
       "s:ca5f000000ca5f800000cb43e158e460913d00cbc3e158e460913d00"},
      {R"lua(cmsgpack.pack(math.huge, -math.huge, 0/0))lua",
       "s:ca7f800000caff800000cbfff8000000000000"},
      {R"lua(cmsgpack.pack(3.4028234663852886e38, 1e-45, 2^-149))lua",
       "s:ca7f7fffffcb3696d601ad376ab9ca00000001"},
  });
}

TEST_F(LuaLibsTest, CmsgpackPacksStringsNilAndBooleans) {
  ExpectAsRedis({
      {R"lua(cmsgpack.pack(nil, true, false, '', 'abc', 'a\0b'))lua", "s:c0c3c2a0a3616263a3610062"},
      {R"lua(cmsgpack.pack(string.rep('a', 31), string.rep('b', 32)))lua",
       "s:bf61616161616161616161616161616161616161616161616161616161616161d92062"
       "62626262626262626262626262626262626262626262626262626262626262"},
      {R"lua(#cmsgpack.pack(string.rep('a', 255)), #cmsgpack.pack(string.rep('a', )lua"
       R"lua(256)), #cmsgpack.pack(string.rep('a', 65535)), )lua"
       R"lua(#cmsgpack.pack(string.rep('a', 65536)))lua",
       "n:257 n:259 n:65538 n:65541"},
      {R"lua(cmsgpack.pack(string.rep('a', 255)):sub(1, 3), )lua"
       R"lua(cmsgpack.pack(string.rep('a', 256)):sub(1, 4), )lua"
       R"lua(cmsgpack.pack(string.rep('a', 65535)):sub(1, 4), )lua"
       R"lua(cmsgpack.pack(string.rep('a', 65536)):sub(1, 6))lua",
       "s:d9ff61 s:da010061 s:daffff61 s:db0001000061"},
      {R"lua(cmsgpack.pack(function() end), )lua"
       R"lua(cmsgpack.pack(coroutine.create(function() end)))lua",
       "s:c0 s:c0"},
  });
}

TEST_F(LuaLibsTest, CmsgpackPacksTables) {
  ExpectAsRedis({
      {R"lua(cmsgpack.pack({}), cmsgpack.pack({1, 2, 3}), cmsgpack.pack({1, {2, )lua"
       R"lua({3}}, 'x'}))lua",
       "s:90 s:93010203 s:930192029103a178"},
      {R"lua(cmsgpack.pack({a=1}), cmsgpack.pack({[1]=1, [3]=3}), )lua"
       R"lua(cmsgpack.pack({[2]=1, [1]=0}))lua",
       "s:81a16101 s:8201010303 s:920001"},
      {R"lua(cmsgpack.pack({[1.5]=1}), cmsgpack.pack({[0]=1}), )lua"
       R"lua(cmsgpack.pack({[-1]=1}), cmsgpack.pack({[2^40]=1}))lua",
       "s:81ca3fc0000001 s:810001 s:81ff01 s:81cf000001000000000001"},
      {R"lua(cmsgpack.pack({[true]=false}), cmsgpack.pack({1, 2, x='y'}), )lua"
       R"lua(cmsgpack.pack({[1]='a', ['1']='b'}))lua",
       "s:81c3c2 s:8301010202a178a179 s:8201a161a131a162"},
      {R"lua(cmsgpack.pack({a=1, b=2, c=3, d=4, hello='world', [10]=5, [true]=false}))lua",
       "s:87a16101c3c2a16303a16202a164040a05a568656c6c6fa5776f726c64"},
      {R"lua(cmsgpack.pack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}), )lua"
       R"lua(cmsgpack.pack({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))lua",
       "s:9f0102030405060708090a0b0c0d0e0f s:dc00100102030405060708090a0b0c0d0e0"
       "f10"},
      {R"lua((function() local t={} for i=1,16 do t['k'..i]=i end return )lua"
       R"lua(cmsgpack.pack(t):sub(1, 3) end)())lua",
       "s:de0010"},
      {R"lua((function() local t={} for i=1,65535 do t[i]=0 end return )lua"
       R"lua(cmsgpack.pack(t):sub(1, 4) end)())lua",
       "s:dcffff00"},
      {R"lua((function() local t={} for i=1,65536 do t[i]=0 end return )lua"
       R"lua(cmsgpack.pack(t):sub(1, 6) end)())lua",
       "s:dd0001000000"},
      {R"lua((function() local t={} for i=1,65536 do t['k'..i]=0 end return )lua"
       R"lua(cmsgpack.pack(t):sub(1, 6) end)())lua",
       "s:df00010000a6"},
      {R"lua(cmsgpack.pack(setmetatable({}, {__index=function() return 1 end})))lua", "s:90"},
  });
}

TEST_F(LuaLibsTest, CmsgpackStopsNestingAtSixteen) {
  ExpectAsRedis({
      {R"lua((function() local t={} local c=t for i=1,15 do c[1]={} c=c[1] end )lua"
       R"lua(return cmsgpack.pack(t) end)())lua",
       "s:91919191919191919191919191919190"},
      {R"lua((function() local t={} local c=t for i=1,20 do c[1]={} c=c[1] end )lua"
       R"lua(return cmsgpack.pack(t) end)())lua",
       "s:91919191919191919191919191919191c0"},
      {R"lua((function() local t={} t[1]=t return cmsgpack.pack(t) end)())lua",
       "s:91919191919191919191919191919191c0"},
      {R"lua((function() local t={} t.self=t return cmsgpack.pack(t) end)())lua",
       "s:81a473656c6681a473656c6681a473656c6681a473656c6681a473656c6681a473656c"
       "6681a473656c6681a473656c6681a473656c6681a473656c6681a473656c6681a473656c"
       "6681a473656c6681a473656c6681a473656c6681a473656c66c0"},
  });
}

TEST_F(LuaLibsTest, CmsgpackPackErrors) {
  ExpectAsRedis({
      {R"lua(cmsgpack.pack())lua", "ERR:bad argument #0 to 'pack' (MessagePack pack needs input.)"},
      {R"lua(#cmsgpack.pack(unpack((function() local t={} for i=1,4000 do t[i]=i end )lua"
       R"lua(return t end)())))lua",
       "n:11618"},
      {R"lua(#cmsgpack.pack(unpack((function() local t={} for i=1,4001 do t[i]=i end )lua"
       R"lua(return t end)())))lua",
       "ERR:bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"},
  });
}

TEST_F(LuaLibsTest, CmsgpackUnpacksEveryType) {
  ExpectAsRedis({
      {R"lua(cmsgpack.unpack(cmsgpack.pack(1, -1, 2^40, -2^40, 0.5, 0.1, 'abc', )lua"
       R"lua(true, false, {1, 2, {a='b'}})))lua",
       "n:1 n:-1 n:1099511627776 n:-1099511627776 n:0.5 n:0.10000000000000001 s:"
       "616263 boolean:true boolean:false {n:1=n:1,n:2=n:2,n:3={s:61=s:62}}"},
      {R"lua(cmsgpack.unpack(cmsgpack.pack(nil, 1, nil)))lua", "nil:nil n:1"},
      {R"lua(cmsgpack.unpack('\204\255\205\255\255\206\255\255\255\255'))lua",
       "n:255 n:65535 n:4294967295"},
      {R"lua(cmsgpack.unpack('\207' .. string.rep('\255', 8)))lua", "n:-1"},
      {R"lua(cmsgpack.unpack('\207\0\32\0\0\0\0\0\1'))lua", "n:9007199254740992"},
      {R"lua(cmsgpack.unpack('\208\128\209\128\0\210\128\0\0\0'))lua",
       "n:-128 n:-32768 n:-2147483648"},
      {R"lua(cmsgpack.unpack('\211' .. string.rep('\255', 7) .. '\254'))lua", "n:-2"},
      {R"lua(cmsgpack.unpack('\127\224\255'))lua", "n:127 n:-32 n:-1"},
      {R"lua(cmsgpack.unpack('\202\64\73\15\219\203\63\185\153\153\153\153\153\154'))lua",
       "n:3.1415927410125732 n:0.10000000000000001"},
      {R"lua(cmsgpack.unpack('\217\3abc\218\0\2de\219\0\0\0\1f'))lua", "s:616263 s:6465 s:66"},
      {R"lua(#cmsgpack.unpack(cmsgpack.pack(string.rep('a', 70000))))lua", "n:70000"},
      {R"lua(cmsgpack.unpack('\220\0\2\1\2\221\0\0\0\1\3'))lua", "{n:1=n:1,n:2=n:2} {n:1=n:3}"},
      {R"lua(cmsgpack.unpack('\222\0\1\161a\1\223\0\0\0\1\2\3'))lua", "{s:61=n:1} {n:2=n:3}"},
      {R"lua(cmsgpack.unpack('\144\128'))lua", "{} {}"},
      {R"lua((function() local t = cmsgpack.unpack(cmsgpack.pack({a=1, b=2, c=3, )lua"
       R"lua(d=4, hello='world', [10]=5, [true]=false})) return cmsgpack.pack(t) )lua"
       R"lua(end)())lua",
       "s:87a16101c3c2a16303a16202a16404a568656c6c6fa5776f726c640a05"},
      {R"lua(cmsgpack.unpack('\192'))lua", ""},
      {R"lua(cmsgpack.unpack(''))lua", ""},
      {R"lua(cmsgpack.unpack(12))lua", "n:49 n:50"},
      {R"lua(select('#', cmsgpack.unpack(string.rep('\1', 7000))))lua", "n:7000"},
      {R"lua(#cmsgpack.pack(cmsgpack.unpack(string.rep('\145', 3000) .. '\1')))lua", "n:17"},
  });
}

TEST_F(LuaLibsTest, CmsgpackUnpackErrors) {
  ExpectAsRedis({
      {R"lua(cmsgpack.unpack('\193'))lua", "ERR:Bad data format in input."},
      {R"lua(cmsgpack.unpack('\196\1a'))lua", "ERR:Bad data format in input."},
      {R"lua(cmsgpack.unpack('\212\1\1'))lua", "ERR:Bad data format in input."},
      {R"lua(cmsgpack.unpack('\199\1\1a'))lua", "ERR:Bad data format in input."},
      {R"lua(cmsgpack.unpack('\1\193'))lua", "ERR:Bad data format in input."},
      {R"lua(cmsgpack.unpack('\205\1'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack('\147\1'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack('\130\1'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack('\218\0'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack('\219\0\0\0\5ab'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack('\163ab'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack('\203\0\0'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack())lua",
       "ERR:bad argument #1 to 'unpack' (string expected, got no value)"},
      {R"lua(cmsgpack.unpack({}))lua",
       "ERR:bad argument #1 to 'unpack' (string expected, got table)"},
      {R"lua(cmsgpack.unpack('\129\192\1'))lua", "ERR:table index is nil"},
      {R"lua(cmsgpack.unpack('\129\203\255\248\0\0\0\0\0\0\1'))lua", "ERR:table index is NaN"},
      {R"lua(cmsgpack.unpack(string.rep('\145', 5000) .. '\1'))lua",
       "ERR:stack overflow (in function mp_decode_to_lua_array)"},
      {R"lua(cmsgpack.unpack(string.rep('\129\1', 5000) .. '\1'))lua",
       "ERR:stack overflow (too many return values at once; use unpack_one or un"
       "pack_limit instead.)"},
      {R"lua(cmsgpack.unpack(string.rep('\1', 9000)))lua",
       "ERR:stack overflow (too many return values at once; use unpack_one or un"
       "pack_limit instead.)"},
  });
}

TEST_F(LuaLibsTest, CmsgpackUnpackOneAndLimit) {
  ExpectAsRedis({
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3)))lua", "n:1 n:1"},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1))lua", "n:2 n:2"},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2))lua", "n:-1 n:3"},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3))lua", "n:-1"},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1.9))lua", "n:2 n:2"},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack({1, 2}, 'x')))lua", "n:3 {n:1=n:1,n:2=n:2}"},
      {R"lua(cmsgpack.unpack_one(''))lua", "n:-1"},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0, 'ignored'))lua", "n:1 n:1"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2))lua", "n:2 n:1 n:2"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2))lua", "n:-1 n:3"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5))lua", "n:-1 n:1 n:2 n:3"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0))lua", "n:1 n:2 n:3"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1))lua", "n:1"},
      {R"lua(cmsgpack.unpack_limit('', 5))lua", "n:-1"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2^31))lua", "n:-1 n:1 n:2 n:3"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2^32))lua", "n:-1 n:1 n:2 n:3"},
  });
}

TEST_F(LuaLibsTest, CmsgpackUnpackOneAndLimitErrors) {
  ExpectAsRedis({
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4))lua",
       "ERR:Start offset 4 greater than input length 3."},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1))lua",
       "ERR:Invalid request to unpack with offset of -1 and limit of 3."},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1), 'x'))lua",
       "ERR:bad argument #2 to 'unpack_one' (number expected, got string)"},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2^32 + 1))lua",
       "ERR:Start offset 1 greater than input length 3."},
      {R"lua(cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -2^32 - 1))lua",
       "ERR:Invalid request to unpack with offset of -1 and limit of 3."},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -2^32))lua",
       "ERR:Invalid request to unpack with offset of 0 and limit of 3."},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2^32, 2^32))lua",
       "ERR:Start offset 0 greater than input length 3."},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1))lua",
       "ERR:Invalid request to unpack with offset of 0 and limit of 3."},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3)))lua",
       "ERR:bad argument #2 to 'unpack_limit' (number expected, got no value)"},
      {R"lua(cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 7))lua",
       "ERR:Start offset 7 greater than input length 3."},
      {R"lua(cmsgpack.unpack_one('\205\1'))lua", "ERR:Missing bytes in input."},
      {R"lua(cmsgpack.unpack_limit('\1\193', 2))lua", "ERR:Bad data format in input."},
  });
}

}  // namespace
}  // namespace keyward
