// Conversions between RESP replies and Lua values, as Redis 7.0 does them (script_lua.c):
//
// Reply -> Lua (what redis.call returns), by the script's protocol (redis.setresp):
//   integer -> number; bulk -> string; null bulk / null array -> false (RESP2) or nil (RESP3
//   null); status -> {ok=...}; error -> {err=...}; array -> table (1..n);
//   RESP3 only: map -> {map={k=v}}, set -> {set={m=true}}, double -> {double=n},
//   boolean -> true/false, big number -> {big_number="..."},
//   verbatim -> {verbatim_string={format=..., string=...}}; attributes are skipped.
//
// Lua -> reply (what the script returns), written with the caller's ReplyBuilder:
//   string -> bulk; number -> integer (truncated); nil -> null;
//   boolean -> :1 / null under RESP2 scripts, a boolean under redis.setresp(3);
//   table with err -> error (as given, no code added); ok -> status; double -> double;
//   big_number -> big number; map -> map; set -> set; otherwise an array of t[1], t[2], ...
//   up to the first nil.
#pragma once

#include <cstddef>
#include <string_view>

struct lua_State;

namespace keyward {

class ReplyBuilder;

// Pushes the reply starting at `resp[*pos]` onto the Lua stack as a Lua value and advances
// `*pos` past it. `resp` must hold complete replies (it comes from the server's own builder).
void PushReplyAsLua(lua_State* L, std::string_view resp, size_t* pos);

// Writes the Lua value on the top of the stack as a reply. `script_resp` is the script's
// protocol (redis.setresp), which decides how booleans convert.
void WriteLuaAsReply(lua_State* L, ReplyBuilder& rb, int script_resp);

}  // namespace keyward
