#include "server/scripting/lua_convert.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
}

#include <charconv>
#include <cstdint>
#include <string>

#include "server/core/errors.h"
#include "server/protocol/reply_builder.h"

namespace keyward {
namespace {

// Replies nest no deeper than this when converted: about where Redis's Lua stack limit (8000
// slots) stops it. Deeper values get "reached lua stack limit", as there.
constexpr int kMaxDepth = 7000;

std::string_view Line(std::string_view resp, size_t* pos) {
  size_t end = resp.find("\r\n", *pos);
  std::string_view line = resp.substr(*pos + 1, end - *pos - 1);
  *pos = end + 2;
  return line;
}

int64_t ToInt(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

void SetField(lua_State* L, const char* name) {
  // Value on top, table below it.
  lua_setfield(L, -2, name);
}

void PushReply(lua_State* L, std::string_view resp, size_t* pos, int depth) {
  luaL_checkstack(L, 4, "reached lua stack limit");
  const char type = resp[*pos];
  std::string_view line = Line(resp, pos);
  switch (type) {
    case ':':
      lua_pushnumber(L, static_cast<lua_Number>(ToInt(line)));
      return;
    case '$':
    case '=': {
      const int64_t len = ToInt(line);
      if (len < 0) {
        lua_pushboolean(L, 0);  // RESP2 null bulk
        return;
      }
      std::string_view body = resp.substr(*pos, static_cast<size_t>(len));
      *pos += static_cast<size_t>(len) + 2;
      if (type == '$') {
        lua_pushlstring(L, body.data(), body.size());
        return;
      }
      // Verbatim: "txt:..." as {verbatim_string = {format = "txt", string = "..."}}.
      lua_newtable(L);
      lua_newtable(L);
      lua_pushlstring(L, body.data(), 3);
      SetField(L, "format");
      lua_pushlstring(L, body.data() + 4, body.size() - 4);
      SetField(L, "string");
      SetField(L, "verbatim_string");
      return;
    }
    case '+':
      lua_newtable(L);
      lua_pushlstring(L, line.data(), line.size());
      SetField(L, "ok");
      return;
    case '-':
      lua_newtable(L);
      lua_pushlstring(L, line.data(), line.size());
      SetField(L, "err");
      return;
    case '_':
      lua_pushnil(L);
      return;
    case '#':
      lua_pushboolean(L, line == "t");
      return;
    case ',': {
      lua_newtable(L);
      // Redis reads the double with strtod, which accepts inf/-inf/nan as RESP3 sends them.
      lua_pushnumber(L, std::strtod(std::string(line).c_str(), nullptr));
      SetField(L, "double");
      return;
    }
    case '(':
      lua_newtable(L);
      lua_pushlstring(L, line.data(), line.size());
      SetField(L, "big_number");
      return;
    case '*':
    case '>': {
      const int64_t n = ToInt(line);
      if (n < 0) {
        lua_pushboolean(L, 0);  // RESP2 null array
        return;
      }
      if (depth >= kMaxDepth)
        luaL_error(L, "%s", errors::WithoutCode(errors::kLuaStackLimit).data());
      // lua_newtable, not createtable(n): with nils inside (RESP3 nulls), the length operator
      // then sees what it sees on Redis.
      lua_newtable(L);
      for (int64_t i = 1; i <= n; i++) {
        PushReply(L, resp, pos, depth + 1);
        lua_rawseti(L, -2, static_cast<int>(i));
      }
      return;
    }
    case '%':
    case '~': {
      const int64_t n = ToInt(line);
      if (depth >= kMaxDepth)
        luaL_error(L, "%s", errors::WithoutCode(errors::kLuaStackLimit).data());
      lua_newtable(L);
      lua_newtable(L);
      for (int64_t i = 0; i < n; i++) {
        PushReply(L, resp, pos, depth + 1);
        if (type == '%') {
          PushReply(L, resp, pos, depth + 1);
        } else {
          lua_pushboolean(L, 1);
        }
        lua_settable(L, -3);
      }
      SetField(L, type == '%' ? "map" : "set");
      return;
    }
    case '|': {
      // Attributes annotate the next value and are dropped, as in Redis.
      const int64_t n = ToInt(line);
      for (int64_t i = 0; i < 2 * n; i++) {
        PushReply(L, resp, pos, depth + 1);
        lua_pop(L, 1);
      }
      PushReply(L, resp, pos, depth);
      return;
    }
    default:
      lua_pushnil(L);
  }
}

// t[name] of the table on top, pushed; returns its Lua type.
int GetField(lua_State* L, const char* name) {
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  return lua_type(L, -1);
}

// Status, error and big-number text for the wire: Redis reads it as a C string (so it ends at a
// NUL) and replaces CR and LF so the reply stays one line.
std::string OneLine(std::string_view s) {
  std::string out(s.substr(0, s.find('\0')));
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

void WriteValue(lua_State* L, ReplyBuilder& rb, int script_resp, int depth) {
  if (depth > kMaxDepth) {
    rb.SendError(errors::kLuaStackLimit);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      rb.SendBulk(std::string_view(s, len));
      return;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1)) {
          rb.SendLong(1);
        } else {
          rb.SendNull();
        }
      } else {
        rb.SendBool(lua_toboolean(L, -1) != 0);
      }
      return;
    case LUA_TNUMBER:
      rb.SendLong(static_cast<int64_t>(lua_tonumber(L, -1)));
      return;
    case LUA_TTABLE:
      break;
    default:
      rb.SendNull();
      return;
  }
  // lua_checkstack, not luaL_checkstack: this runs outside any protected call, where a raised
  // error would abort the process.
  if (!lua_checkstack(L, 4)) {
    rb.SendError(errors::kLuaStackLimit);
    return;
  }
  if (GetField(L, "err") == LUA_TSTRING) {
    // As given: {err="bad thing"} is "-bad thing", with no code added.
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    // Piece by piece: "-" + std::string + "\r\n" trips g++ 12's -Wrestrict false positive.
    rb.Raw("-");
    rb.Raw(OneLine(std::string_view(s, len)));
    rb.Raw("\r\n");
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (GetField(L, "ok") == LUA_TSTRING) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    rb.SendSimple(OneLine(std::string_view(s, len)));
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (GetField(L, "double") == LUA_TNUMBER) {
    rb.SendDouble(lua_tonumber(L, -1));
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (GetField(L, "big_number") == LUA_TSTRING) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    rb.SendBigNumber(OneLine(std::string_view(s, len)));
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (GetField(L, "verbatim_string") == LUA_TTABLE) {
    lua_getfield(L, -1, "string");
    lua_getfield(L, -2, "format");
    if (lua_isstring(L, -2) && lua_isstring(L, -1)) {
      size_t len;
      const char* text = lua_tolstring(L, -2, &len);
      rb.SendVerbatim(std::string_view(text, len), lua_tostring(L, -1));
      lua_pop(L, 3);
      return;
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  for (const char* aggregate : {"map", "set"}) {
    if (GetField(L, aggregate) == LUA_TTABLE) {
      const bool is_map = aggregate[0] == 'm';
      size_t n = 0;
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        n++;
      }
      if (is_map) {
        rb.StartMap(n);
      } else {
        rb.StartSet(n);
      }
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        // Key at -2, value at -1. The key is converted from a copy: lua_next needs the
        // original untouched (tolstring would turn a number key into a string in place).
        lua_pushvalue(L, -2);
        WriteValue(L, rb, script_resp, depth + 1);
        lua_pop(L, 1);
        if (is_map) WriteValue(L, rb, script_resp, depth + 1);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
      return;
    }
    lua_pop(L, 1);
  }
  // An array: t[1], t[2], ... up to the first nil.
  size_t n = 0;
  while (true) {
    lua_rawgeti(L, -1, static_cast<int>(n + 1));
    const bool end = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (end) break;
    n++;
  }
  rb.StartArray(n);
  for (size_t i = 1; i <= n; i++) {
    lua_rawgeti(L, -1, static_cast<int>(i));
    WriteValue(L, rb, script_resp, depth + 1);
    lua_pop(L, 1);
  }
}

}  // namespace

void PushReplyAsLua(lua_State* L, std::string_view resp, size_t* pos) {
  PushReply(L, resp, pos, 0);
}

void WriteLuaAsReply(lua_State* L, ReplyBuilder& rb, int script_resp) {
  WriteValue(L, rb, script_resp, 0);
}

}  // namespace keyward
