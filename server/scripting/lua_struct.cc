#include "server/scripting/lua_struct.h"

#include <cctype>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <lua.hpp>

// Every function here may leave through lua_error (a longjmp in Debian's C build of Lua), so none
// of them holds an object with a destructor.

namespace keyward {
namespace {

// Redis builds struct with STRUCT_INT = long: integers are packed from and unpacked into 64 bits.
using Int = int64_t;
using Uint = uint64_t;

constexpr int kMaxIntSize = 32;  // the largest n of 'i<n>' / 'I<n>'

// The default of '!': the strictest alignment of the platform (struct's MAXALIGN, from the
// padding of a double after a char, at least sizeof(int)).
struct CharDouble {
  char c;
  double d;
};
constexpr int kMaxAlign = sizeof(CharDouble) - sizeof(double) > sizeof(int)
                              ? static_cast<int>(sizeof(CharDouble) - sizeof(double))
                              : static_cast<int>(sizeof(int));

enum Endian { kBig = 0, kLittle = 1 };

Endian NativeEndian() {
  const uint16_t one = 1;
  unsigned char first;
  std::memcpy(&first, &one, 1);
  return first == 1 ? kLittle : kBig;
}

struct Header {
  Endian endian = NativeEndian();
  int align = 1;
};

bool IsPowerOf2(int x) { return x > 0 && (x & (x - 1)) == 0; }

// Redis converts a Lua number to an integer with a plain C cast, undefined outside the target
// range; its x86-64 build gives 0x8000000000000000 for NaN and for anything below -2^63, and 0
// for 2^64 and above (gcc's unsigned conversion subtracts 2^63, converts, then flips the top
// bit). Scripts can observe that, so the same values are produced here without the undefined
// behaviour.
Uint NumberToUint(lua_Number n) {
  constexpr lua_Number kTwo63 = 9223372036854775808.0;
  constexpr lua_Number kTwo64 = 18446744073709551616.0;
  constexpr Uint kIndefinite = Uint{1} << 63;
  if (n >= kTwo63) return n < kTwo64 ? static_cast<Uint>(n) : 0;
  if (n >= -kTwo63) return static_cast<Uint>(static_cast<Int>(n));
  return kIndefinite;  // below -2^63, or NaN
}

// Reads the decimal number at *fmt, or returns `df` when there is none.
int GetNum(lua_State* L, const char** fmt, int df) {
  if (!std::isdigit(static_cast<unsigned char>(**fmt))) return df;
  int a = 0;
  do {
    if (a > INT_MAX / 10 || a * 10 > INT_MAX - (**fmt - '0')) {
      luaL_error(L, "integral size overflow");
    }
    a = a * 10 + *((*fmt)++) - '0';
  } while (std::isdigit(static_cast<unsigned char>(**fmt)));
  return a;
}

// The size of option `opt` (reading its count from *fmt); 0 for options that take no room or
// whose size is known only from the data ('s').
size_t OptSize(lua_State* L, char opt, const char** fmt) {
  switch (opt) {
    case 'B':
    case 'b':
      return sizeof(char);
    case 'H':
    case 'h':
      return sizeof(short);
    case 'L':
    case 'l':
      return sizeof(long);
    case 'T':
      return sizeof(size_t);
    case 'f':
      return sizeof(float);
    case 'd':
      return sizeof(double);
    case 'x':
      return 1;
    case 'c':
      return GetNum(L, fmt, 1);
    case 'i':
    case 'I': {
      int size = GetNum(L, fmt, sizeof(int));
      if (size > kMaxIntSize) {
        luaL_error(L, "integral size %d is larger than limit of %d", size, kMaxIntSize);
      }
      return size;
    }
    default:
      return 0;
  }
}

// Padding needed before an element of `size` bytes at offset `len`. Like the original, it
// assumes the size (capped by the alignment) is a power of 2; 'i3' under '!4' aligns by the
// same odd arithmetic.
size_t GetToAlign(size_t len, const Header& h, int opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > static_cast<size_t>(h.align)) size = h.align;
  return (size - (len & (size - 1))) & (size - 1);
}

// Options that change the header rather than the data.
void ControlOptions(lua_State* L, int opt, const char** fmt, Header* h) {
  switch (opt) {
    case ' ':
      return;
    case '>':
      h->endian = kBig;
      return;
    case '<':
      h->endian = kLittle;
      return;
    case '!': {
      int a = GetNum(L, fmt, kMaxAlign);
      if (!IsPowerOf2(a)) luaL_error(L, "alignment %d is not a power of 2", a);
      h->align = a;
      return;
    }
    default: {
      const char* msg = lua_pushfstring(L, "invalid format option '%c'", opt);
      luaL_argerror(L, 1, msg);
    }
  }
}

void PutInteger(lua_State* L, luaL_Buffer* b, int arg, Endian endian, int size) {
  Uint value = NumberToUint(luaL_checknumber(L, arg));
  // Beyond 8 bytes the value has been shifted out: wide integers get zero bytes, never a sign
  // extension ('>i16' of -2 is eight 00 bytes, then eight ff..fe).
  char buff[kMaxIntSize];
  if (endian == kLittle) {
    for (int i = 0; i < size; i++) {
      buff[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
  } else {
    for (int i = size - 1; i >= 0; i--) {
      buff[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
  }
  luaL_addlstring(b, buff, size);
}

// Turns native-order bytes of a float or double into `endian` order, or back.
void CorrectBytes(char* b, int size, Endian endian) {
  if (endian == NativeEndian()) return;
  int i = 0;
  while (i < --size) {
    char temp = b[i];
    b[i++] = b[size];
    b[size] = temp;
  }
}

lua_Number GetInteger(const char* buff, Endian endian, bool is_signed, int size) {
  Uint l = 0;
  if (endian == kBig) {
    for (int i = 0; i < size; i++) {
      l <<= 8;
      l |= static_cast<unsigned char>(buff[i]);
    }
  } else {
    for (int i = size - 1; i >= 0; i--) {
      l <<= 8;
      l |= static_cast<unsigned char>(buff[i]);
    }
  }
  if (!is_signed) return static_cast<lua_Number>(l);
  // The sign bit is found with `~0 << (size*8 - 1)`, a shift that is undefined from 9 bytes on
  // (and for 'i0'); x86 uses the count modulo 64, which Redis's results show ('>i9' of 200
  // unpacks as -56, '>i12' of 2^40 as -2^31). That is reproduced here.
  Uint mask = ~Uint{0} << ((size * 8 - 1) & 63);
  if (l & mask) l |= mask;
  return static_cast<lua_Number>(static_cast<Int>(l));
}

int Pack(lua_State* L) {
  const char* fmt = luaL_checkstring(L, 1);
  Header h;
  int arg = 2;
  size_t total_size = 0;
  lua_pushnil(L);  // separates the arguments from the buffer's stack slots
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = OptSize(L, opt, &fmt);
    size_t to_align = GetToAlign(total_size, h, opt, size);
    total_size += to_align;
    while (to_align-- > 0) luaL_addchar(&b, '\0');
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I':
        PutInteger(L, &b, arg++, h.endian, static_cast<int>(size));
        break;
      case 'x':
        luaL_addchar(&b, '\0');
        break;
      case 'f': {
        float f = static_cast<float>(luaL_checknumber(L, arg++));
        CorrectBytes(reinterpret_cast<char*>(&f), size, h.endian);
        luaL_addlstring(&b, reinterpret_cast<char*>(&f), size);
        break;
      }
      case 'd': {
        double d = luaL_checknumber(L, arg++);
        CorrectBytes(reinterpret_cast<char*>(&d), size, h.endian);
        luaL_addlstring(&b, reinterpret_cast<char*>(&d), size);
        break;
      }
      case 'c':
      case 's': {
        size_t l;
        const char* s = luaL_checklstring(L, arg++, &l);
        if (size == 0) size = l;
        // `arg` has already moved on: Redis names the argument after the short string.
        luaL_argcheck(L, l >= size, arg, "string too short");
        luaL_addlstring(&b, s, size);
        if (opt == 's') {
          luaL_addchar(&b, '\0');
          size++;
        }
        break;
      }
      default:
        ControlOptions(L, opt, &fmt, &h);
    }
    total_size += size;
  }
  luaL_pushresult(&b);
  return 1;
}

int Unpack(lua_State* L) {
  Header h;
  const char* fmt = luaL_checkstring(L, 1);
  size_t ld;
  const char* data = luaL_checklstring(L, 2, &ld);
  // A negative position wraps to a huge one and fails as "data string too short".
  size_t pos = luaL_optinteger(L, 3, 1);
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  pos--;
  int n = 0;  // results pushed
  while (*fmt) {
    int opt = *fmt++;
    size_t size = OptSize(L, opt, &fmt);
    pos += GetToAlign(pos, h, opt, size);
    luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
    luaL_checkstack(L, 2, "too many results");  // the item and the next position
    switch (opt) {
      case 'b':
      case 'B':
      case 'h':
      case 'H':
      case 'l':
      case 'L':
      case 'T':
      case 'i':
      case 'I': {
        bool is_signed = std::islower(static_cast<unsigned char>(opt));
        lua_pushnumber(L, GetInteger(data + pos, h.endian, is_signed, static_cast<int>(size)));
        n++;
        break;
      }
      case 'x':
        break;
      case 'f': {
        float f;
        std::memcpy(&f, data + pos, size);
        CorrectBytes(reinterpret_cast<char*>(&f), sizeof(f), h.endian);
        lua_pushnumber(L, f);
        n++;
        break;
      }
      case 'd': {
        double d;
        std::memcpy(&d, data + pos, size);
        CorrectBytes(reinterpret_cast<char*>(&d), sizeof(d), h.endian);
        lua_pushnumber(L, d);
        n++;
        break;
      }
      case 'c': {
        if (size == 0) {
          // The length is the previous result, which may also be a numeric string ('c1c0').
          if (n == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
          size = NumberToUint(lua_tonumber(L, -1));
          lua_pop(L, 1);
          n--;
          luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        }
        lua_pushlstring(L, data + pos, size);
        n++;
        break;
      }
      case 's': {
        const char* e = static_cast<const char*>(std::memchr(data + pos, '\0', ld - pos));
        if (e == nullptr) luaL_error(L, "unfinished string in data");
        size = (e - (data + pos)) + 1;
        lua_pushlstring(L, data + pos, size - 1);
        n++;
        break;
      }
      default:
        ControlOptions(L, opt, &fmt, &h);
    }
    pos += size;
  }
  lua_pushinteger(L, pos + 1);  // the next position, 1-based
  return n + 1;
}

int Size(lua_State* L) {
  Header h;
  const char* fmt = luaL_checkstring(L, 1);
  size_t pos = 0;
  while (*fmt) {
    int opt = *fmt++;
    size_t size = OptSize(L, opt, &fmt);
    pos += GetToAlign(pos, h, opt, size);
    if (opt == 's') {
      luaL_argerror(L, 1, "option 's' has no fixed size");
    } else if (opt == 'c' && size == 0) {
      luaL_argerror(L, 1, "option 'c0' has no fixed size");
    }
    // Only punctuation goes through the option check: unknown letters and digits count 0.
    if (!std::isalnum(static_cast<unsigned char>(opt))) ControlOptions(L, opt, &fmt, &h);
    pos += size;
  }
  lua_pushinteger(L, pos);
  return 1;
}

constexpr luaL_Reg kFunctions[] = {
    {"pack", Pack},
    {"unpack", Unpack},
    {"size", Size},
    {nullptr, nullptr},
};

}  // namespace

int luaopen_struct(lua_State* L) {
  luaL_register(L, "struct", kFunctions);
  return 1;
}

}  // namespace keyward
