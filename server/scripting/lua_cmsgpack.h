// The `cmsgpack` library of Redis scripts: Salvatore Sanfilippo's lua-cmsgpack 0.4.0 as Redis 7.0
// vendors it (deps/lua/src/lua_cmsgpack.c), re-implemented with the same behaviour, byte for byte.
//
//   cmsgpack.pack(v1, v2, ...)              -> the encodings of v1, v2, ... concatenated
//   cmsgpack.unpack(s)                      -> every value encoded in s
//   cmsgpack.unpack_one(s [, offset])       -> next offset, value
//   cmsgpack.unpack_limit(s, n [, offset])  -> next offset, up to n values
// Offsets count bytes from 0; the next offset is -1 once the whole string has been read.
//
// Encoding: nil (and functions, userdata, threads) -> nil; booleans; strings -> fixstr, str8,
// str16 or str32 (never bin); numbers that are integers in int64 range -> the smallest int or
// uint form; other numbers -> float32 when that is exact, else float64; a table whose keys are
// exactly 1..n -> array, any other table -> map (in lua_next order). Tables nested 16 deep are
// encoded as nil, which also ends circular references.
// Decoding knows exactly the types the encoder writes: bin, ext and the never-used 0xc1 are
// "Bad data format in input.". uint64 values past 2^63 come back negative, as in Redis.
#pragma once

struct lua_State;

namespace keyward {

// Registers the global table `cmsgpack` and leaves it on the stack (a lua_CFunction).
int luaopen_cmsgpack(lua_State* L);

}  // namespace keyward
