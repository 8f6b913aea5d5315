// The `struct` library of Redis scripts: Roberto Ierusalimschy's struct 0.2 as Redis 7.0 vendors
// it (deps/lua/src/lua_struct.c), re-implemented with the same behaviour, byte for byte.
//
//   struct.pack(fmt, v1, v2, ...)    -> binary string
//   struct.unpack(fmt, s [, pos])    -> v1, v2, ..., next position (1-based)
//   struct.size(fmt)                 -> size of the fixed-size format
//
// Format options:
//   '>' big endian, '<' little endian, '![n]' maximum alignment n (a power of 2; 8 when omitted),
//   ' ' ignored. Alignment starts at 1 (packed) and the byte order at the machine's.
//   'b'/'B' signed/unsigned char, 'h'/'H' short, 'l'/'L' long, 'T' size_t,
//   'i[n]'/'I[n]' n-byte integer (default sizeof(int), n <= 32), 'f' float, 'd' double,
//   'x' one zero byte of padding, 's' zero-terminated string,
//   'c[n]' n chars (default 1): packing 'c0' takes the whole string, unpacking 'c0' takes the
//   previous value unpacked as the length.
// There is no '=' option (it is an error, as in Redis), and every other character is an
// "invalid format option" error, except in struct.size, which ignores unknown letters and digits.
#pragma once

struct lua_State;

namespace keyward {

// Registers the global table `struct` and leaves it on the stack (a lua_CFunction).
int luaopen_struct(lua_State* L);

}  // namespace keyward
