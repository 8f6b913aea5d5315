#include "server/scripting/lua_cmsgpack.h"

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <lua.hpp>
#include <new>
#include <string>

// Lua reports errors with longjmp (Debian builds it as C), which skips C++ destructors. So the
// only object with a destructor, the encoder's output buffer, lives in a Lua userdata that the
// garbage collector destroys, and nothing else here owns memory.

namespace keyward {
namespace {

// Tables nested this deep are encoded as nil (Redis's LUACMSGPACK_MAX_NESTING).
constexpr int kMaxNesting = 16;

constexpr char kBufferMetatable[] = "keyward.cmsgpack.buffer";

// MessagePack stores floats big endian.
void StoreBigEndian(unsigned char* out, const void* in, size_t len) {
  const auto* bytes = static_cast<const unsigned char*>(in);
  const uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  for (size_t i = 0; i < len; i++) out[i] = bytes[first == 1 ? len - 1 - i : i];
}

// ------------------------------------------------------------------------------------------------
// Encoding

std::string* NewBuffer(lua_State* L) {
  void* memory = lua_newuserdata(L, sizeof(std::string));
  auto* buf = new (memory) std::string();
  luaL_getmetatable(L, kBufferMetatable);
  lua_setmetatable(L, -2);
  return buf;
}

int BufferGc(lua_State* L) {
  static_cast<std::string*>(lua_touserdata(L, 1))->~basic_string();
  return 0;
}

// Appends the low `bytes` bytes of `v`, big endian, after the type byte.
void AppendTyped(std::string* buf, unsigned char type, uint64_t v, int bytes) {
  buf->push_back(static_cast<char>(type));
  for (int i = bytes - 1; i >= 0; i--) buf->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void EncodeBytes(std::string* buf, const char* s, size_t len) {
  if (len < 32) {
    buf->push_back(static_cast<char>(0xa0 | len));  // fixstr
  } else if (len <= 0xff) {
    AppendTyped(buf, 0xd9, len, 1);  // str 8
  } else if (len <= 0xffff) {
    AppendTyped(buf, 0xda, len, 2);  // str 16
  } else {
    AppendTyped(buf, 0xdb, len, 4);  // str 32
  }
  buf->append(s, len);
}

// Doubles that a float represents exactly take 5 bytes instead of 9 (0.5 does, 0.1 does not).
void EncodeDouble(std::string* buf, double d) {
  // Converting a finite double beyond the float range is undefined; such a value is never exact.
  bool fits = !std::isfinite(d) || std::fabs(d) <= FLT_MAX;
  float f = fits ? static_cast<float>(d) : 0.0f;
  unsigned char bytes[8];
  if (fits && d == static_cast<double>(f)) {
    buf->push_back(static_cast<char>(0xca));  // float 32
    StoreBigEndian(bytes, &f, 4);
    buf->append(reinterpret_cast<char*>(bytes), 4);
  } else {
    buf->push_back(static_cast<char>(0xcb));  // float 64
    StoreBigEndian(bytes, &d, 8);
    buf->append(reinterpret_cast<char*>(bytes), 8);
  }
}

// The smallest form: positive values use the uint types, negative ones the int types.
void EncodeInt(std::string* buf, int64_t n) {
  if (n >= 0) {
    if (n <= 127) {
      buf->push_back(static_cast<char>(n));  // positive fixint
    } else if (n <= 0xff) {
      AppendTyped(buf, 0xcc, n, 1);
    } else if (n <= 0xffff) {
      AppendTyped(buf, 0xcd, n, 2);
    } else if (n <= 0xffffffffLL) {
      AppendTyped(buf, 0xce, n, 4);
    } else {
      AppendTyped(buf, 0xcf, n, 8);
    }
  } else {
    uint64_t u = static_cast<uint64_t>(n);
    if (n >= -32) {
      buf->push_back(static_cast<char>(u & 0xff));  // negative fixint
    } else if (n >= -128) {
      AppendTyped(buf, 0xd0, u, 1);
    } else if (n >= -32768) {
      AppendTyped(buf, 0xd1, u, 2);
    } else if (n >= -2147483648LL) {
      AppendTyped(buf, 0xd2, u, 4);
    } else {
      AppendTyped(buf, 0xd3, u, 8);
    }
  }
}

void EncodeArrayHeader(std::string* buf, uint64_t n) {
  if (n <= 15) {
    buf->push_back(static_cast<char>(0x90 | n));
  } else if (n <= 0xffff) {
    AppendTyped(buf, 0xdc, n, 2);
  } else {
    AppendTyped(buf, 0xdd, n, 4);
  }
}

void EncodeMapHeader(std::string* buf, uint64_t n) {
  if (n <= 15) {
    buf->push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    AppendTyped(buf, 0xde, n, 2);
  } else {
    AppendTyped(buf, 0xdf, n, 4);
  }
}

// Lua 5.1 numbers are doubles: those equal to an int64 go out as integers (-0.0 as 0), the rest
// (fractions, NaN, infinities, 2^63 and beyond) as floats.
void EncodeNumber(std::string* buf, lua_Number n) {
  constexpr lua_Number kTwo63 = 9223372036854775808.0;
  if (n >= -kTwo63 && n < kTwo63 && static_cast<lua_Number>(static_cast<int64_t>(n)) == n) {
    EncodeInt(buf, static_cast<int64_t>(n));
  } else {
    EncodeDouble(buf, n);
  }
}

void EncodeValue(lua_State* L, std::string* buf, int level);

// True when the table on the top of the stack has exactly the keys 1..n (raw, by lua_next).
bool TableIsArray(lua_State* L) {
  int count = 0;
  int max = 0;
  int top = lua_gettop(L);
  luaL_checkstack(L, 2, "in function table_is_an_array");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);  // keep the key for the next round
    // Keys must be positive numbers that fit an int (Redis compares (int)n with n).
    lua_Number n;
    if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || n >= 2147483648.0 ||
        static_cast<lua_Number>(static_cast<int>(n)) != n) {
      lua_settop(L, top);
      return false;
    }
    if (n > max) max = static_cast<int>(n);
    count++;
  }
  // Keys are distinct and all in 1..max, so count == max means none is missing.
  lua_settop(L, top);
  return max == count;
}

void EncodeTableAsArray(lua_State* L, std::string* buf, int level) {
  size_t len = lua_objlen(L, -1);
  EncodeArrayHeader(buf, len);
  luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
  for (size_t j = 1; j <= len; j++) {
    lua_pushnumber(L, j);
    lua_gettable(L, -2);  // not raw: Redis honours __index here
    EncodeValue(L, buf, level + 1);
  }
}

void EncodeTableAsMap(lua_State* L, std::string* buf, int level) {
  size_t len = 0;
  luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
  // The header comes first, so count the pairs in a first pass.
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    len++;
  }
  EncodeMapHeader(buf, len);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2);  // ... key value key: encoding pops the copy, then the value
    EncodeValue(L, buf, level + 1);
    EncodeValue(L, buf, level + 1);
  }
}

// Encodes the value on the top of the stack and pops it.
void EncodeValue(lua_State* L, std::string* buf, int level) {
  int type = lua_type(L, -1);
  if (type == LUA_TTABLE && level == kMaxNesting) type = LUA_TNIL;
  switch (type) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      EncodeBytes(buf, s, len);
      break;
    }
    case LUA_TBOOLEAN:
      buf->push_back(static_cast<char>(lua_toboolean(L, -1) ? 0xc3 : 0xc2));
      break;
    case LUA_TNUMBER:
      EncodeNumber(buf, lua_tonumber(L, -1));
      break;
    case LUA_TTABLE:
      if (TableIsArray(L)) {
        EncodeTableAsArray(L, buf, level);
      } else {
        EncodeTableAsMap(L, buf, level);
      }
      break;
    default:  // nil, functions, userdata, threads
      buf->push_back(static_cast<char>(0xc0));
  }
  lua_pop(L, 1);
}

int Pack(lua_State* L) {
  int nargs = lua_gettop(L);
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  // Redis pushes one string per argument before concatenating them; it checks for that room.
  if (!lua_checkstack(L, nargs)) {
    return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  }
  std::string* buf = NewBuffer(L);
  for (int i = 1; i <= nargs; i++) {
    luaL_checkstack(L, 1, "in function mp_check");
    lua_pushvalue(L, i);
    EncodeValue(L, buf, 0);
  }
  lua_pushlstring(L, buf->data(), buf->size());
  return 1;
}

// ------------------------------------------------------------------------------------------------
// Decoding

enum class CursorError { kNone, kEof, kBadFormat };

struct Cursor {
  const unsigned char* p;
  size_t left;
  CursorError err = CursorError::kNone;

  // False (and an EOF error) when fewer than `n` bytes are left.
  bool Need(size_t n) {
    if (left >= n) return true;
    err = CursorError::kEof;
    return false;
  }
  void Consume(size_t n) {
    p += n;
    left -= n;
  }
  // The `bytes`-byte big-endian number after the type byte.
  uint64_t Read(int bytes) const {
    uint64_t v = 0;
    for (int i = 1; i <= bytes; i++) v = (v << 8) | p[i];
    return v;
  }
};

void DecodeValue(lua_State* L, Cursor* c);

void DecodeArray(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
  for (lua_Number index = 1; len > 0; len--, index++) {
    lua_pushnumber(L, index);
    DecodeValue(L, c);
    if (c->err != CursorError::kNone) return;
    lua_settable(L, -3);
  }
}

void DecodeMap(lua_State* L, Cursor* c, size_t len) {
  lua_newtable(L);
  for (; len > 0; len--) {
    DecodeValue(L, c);  // key
    if (c->err != CursorError::kNone) return;
    DecodeValue(L, c);  // value
    if (c->err != CursorError::kNone) return;
    lua_settable(L, -3);  // a nil or NaN key raises "table index is nil" / "... NaN"
  }
}

// Pushes the value at the cursor, or sets c->err (possibly after pushing part of it).
void DecodeValue(lua_State* L, Cursor* c) {
  if (!c->Need(1)) return;
  // Unpacking pushes every top-level value, so the stack grows one slot at a time.
  luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
  unsigned char type = c->p[0];
  switch (type) {
    case 0xc0:
      lua_pushnil(L);
      c->Consume(1);
      return;
    case 0xc2:
      lua_pushboolean(L, 0);
      c->Consume(1);
      return;
    case 0xc3:
      lua_pushboolean(L, 1);
      c->Consume(1);
      return;
    case 0xcc:    // uint 8
    case 0xcd:    // uint 16
    case 0xce:    // uint 32
    case 0xcf: {  // uint 64: Redis pushes it as a lua_Integer, so past 2^63 it turns negative
      int bytes = 1 << (type - 0xcc);
      if (!c->Need(1 + bytes)) return;
      lua_pushinteger(L, static_cast<lua_Integer>(c->Read(bytes)));
      c->Consume(1 + bytes);
      return;
    }
    case 0xd0:  // int 8
      if (!c->Need(2)) return;
      lua_pushinteger(L, static_cast<int8_t>(c->Read(1)));
      c->Consume(2);
      return;
    case 0xd1:  // int 16
      if (!c->Need(3)) return;
      lua_pushinteger(L, static_cast<int16_t>(c->Read(2)));
      c->Consume(3);
      return;
    case 0xd2:  // int 32
      if (!c->Need(5)) return;
      lua_pushinteger(L, static_cast<int32_t>(c->Read(4)));
      c->Consume(5);
      return;
    case 0xd3:  // int 64
      if (!c->Need(9)) return;
      lua_pushnumber(L, static_cast<lua_Number>(static_cast<int64_t>(c->Read(8))));
      c->Consume(9);
      return;
    case 0xca: {  // float 32
      if (!c->Need(5)) return;
      float f;
      unsigned char bytes[4];
      StoreBigEndian(bytes, c->p + 1, 4);  // its own inverse
      std::memcpy(&f, bytes, 4);
      lua_pushnumber(L, f);
      c->Consume(5);
      return;
    }
    case 0xcb: {  // float 64
      if (!c->Need(9)) return;
      double d;
      unsigned char bytes[8];
      StoreBigEndian(bytes, c->p + 1, 8);
      std::memcpy(&d, bytes, 8);
      lua_pushnumber(L, d);
      c->Consume(9);
      return;
    }
    case 0xd9:    // str 8
    case 0xda:    // str 16
    case 0xdb: {  // str 32
      int bytes = 1 << (type - 0xd9);
      if (!c->Need(1 + bytes)) return;
      size_t len = c->Read(bytes);
      c->Consume(1 + bytes);
      if (!c->Need(len)) return;
      lua_pushlstring(L, reinterpret_cast<const char*>(c->p), len);
      c->Consume(len);
      return;
    }
    case 0xdc:    // array 16
    case 0xdd:    // array 32
    case 0xde:    // map 16
    case 0xdf: {  // map 32
      int bytes = (type == 0xdc || type == 0xde) ? 2 : 4;
      if (!c->Need(1 + bytes)) return;
      size_t len = c->Read(bytes);
      c->Consume(1 + bytes);
      if (type <= 0xdd) {
        DecodeArray(L, c, len);
      } else {
        DecodeMap(L, c, len);
      }
      return;
    }
    default:
      break;
  }
  // The types whose first byte also carries the value or the length.
  if ((type & 0x80) == 0) {  // positive fixint
    lua_pushinteger(L, type);
    c->Consume(1);
  } else if ((type & 0xe0) == 0xe0) {  // negative fixint
    lua_pushinteger(L, static_cast<int8_t>(type));
    c->Consume(1);
  } else if ((type & 0xe0) == 0xa0) {  // fixstr
    size_t len = type & 0x1f;
    if (!c->Need(1 + len)) return;
    lua_pushlstring(L, reinterpret_cast<const char*>(c->p) + 1, len);
    c->Consume(1 + len);
  } else if ((type & 0xf0) == 0x90) {  // fixarray
    c->Consume(1);
    DecodeArray(L, c, type & 0xf);
  } else if ((type & 0xf0) == 0x80) {  // fixmap
    c->Consume(1);
    DecodeMap(L, c, type & 0xf);
  } else {  // 0xc1, bin, ext
    c->err = CursorError::kBadFormat;
  }
}

// Decodes up to `limit` values of argument 1 from byte `offset`. unpack (limit and offset both 0)
// returns just the values; the others return the next offset (-1 at the end) first.
int UnpackFull(lua_State* L, lua_Integer limit, lua_Integer offset) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  // Redis prints the length where it means the limit, and prints the offset and the length
  // through an int cast (2^32 + 1 shows as 1); the texts are kept.
  if (offset < 0 || limit < 0) {
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                      static_cast<int>(offset), static_cast<int>(len));
  }
  if (static_cast<size_t>(offset) > len) {
    return luaL_error(L, "Start offset %d greater than input length %d.", static_cast<int>(offset),
                      static_cast<int>(len));
  }
  bool decode_all = limit == 0 && offset == 0;
  if (decode_all) limit = INT_MAX;

  Cursor c{reinterpret_cast<const unsigned char*>(s) + offset, len - offset};
  int count = 0;
  for (; c.left > 0 && count < limit; count++) {
    DecodeValue(L, &c);
    if (c.err == CursorError::kEof) return luaL_error(L, "Missing bytes in input.");
    if (c.err == CursorError::kBadFormat) return luaL_error(L, "Bad data format in input.");
  }
  if (!decode_all) {
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, c.left == 0 ? -1 : static_cast<lua_Integer>(len - c.left));
    lua_insert(L, 2);  // after the input string, before the values
    count++;
  }
  return count;
}

int Unpack(lua_State* L) { return UnpackFull(L, 0, 0); }

int UnpackOne(lua_State* L) {
  lua_Integer offset = luaL_optinteger(L, 2, 0);
  lua_settop(L, 1);
  return UnpackFull(L, 1, offset);
}

int UnpackLimit(lua_State* L) {
  lua_Integer limit = luaL_checkinteger(L, 2);
  lua_Integer offset = luaL_optinteger(L, 3, 0);
  lua_settop(L, 1);
  return UnpackFull(L, limit, offset);
}

constexpr luaL_Reg kFunctions[] = {
    {"pack", Pack},
    {"unpack", Unpack},
    {"unpack_one", UnpackOne},
    {"unpack_limit", UnpackLimit},
};

}  // namespace

int luaopen_cmsgpack(lua_State* L) {
  luaL_newmetatable(L, kBufferMetatable);
  lua_pushcfunction(L, BufferGc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);

  lua_newtable(L);
  for (const luaL_Reg& f : kFunctions) {
    lua_pushcfunction(L, f.func);
    lua_setfield(L, -2, f.name);
  }
  // Redis's metadata fields, visible to scripts.
  lua_pushliteral(L, "cmsgpack");
  lua_setfield(L, -2, "_NAME");
  lua_pushliteral(L, "lua-cmsgpack 0.4.0");
  lua_setfield(L, -2, "_VERSION");
  lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
  lua_setfield(L, -2, "_COPYRIGHT");
  lua_pushliteral(L, "MessagePack C implementation for Lua");
  lua_setfield(L, -2, "_DESCRIPTION");
  // Lua 5.1 modules also set their global.
  lua_pushvalue(L, -1);
  lua_setglobal(L, "cmsgpack");
  return 1;
}

}  // namespace keyward
