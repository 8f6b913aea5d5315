// Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT.
#include "server/acl/access_control.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

void CmdPing(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 2) return ctx.rb().SendError(errors::WrongArgs("ping"));
  // A RESP2 subscriber reads only arrays: PING answers ["pong", message] there.
  if (ctx.client().resp == 2 && ctx.client().subscribed()) {
    ctx.rb().StartArray(2);
    ctx.rb().SendBulk("pong");
    return ctx.rb().SendBulk(args.size() == 2 ? args[1] : "");
  }
  if (args.size() == 2) return ctx.rb().SendBulk(args[1]);
  ctx.rb().SendSimple("PONG");
}

void CmdEcho(CmdArgs args, CommandContext& ctx) { ctx.rb().SendBulk(args[1]); }

void CmdQuit(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendOk();
  ctx.services().clients.Close(ctx.client(), /*after_reply=*/true);
}

void SetAuthenticated(Client& c, bool authenticated) {
  c.authenticated = authenticated;
  c.parser().set_authenticated(authenticated);
}

// AUTH [username] password: `default` when the name is left out, refused while the default
// user needs no password (the old form would then always succeed).
void CmdAuth(CmdArgs args, CommandContext& ctx) {
  if (args.size() > 3) return ctx.rb().SendError(errors::kSyntax);
  acl::AccessControl& acl = ctx.services().acl;
  if (args.size() == 2 && acl.default_user_nopass()) {
    return ctx.rb().SendError(errors::kAuthNoPassword);
  }
  std::string_view user = args.size() == 3 ? args[1] : "default";
  if (!acl.Authenticate(ctx.client(), user, args.back(), args[0])) {
    return ctx.rb().SendError(errors::kWrongPass);
  }
  SetAuthenticated(ctx.client(), true);
  ctx.rb().SendOk();
}

void CmdSelect(CmdArgs args, CommandContext& ctx) {
  int64_t index;
  if (!ParseInt64(args[1], &index)) return ctx.rb().SendError(errors::kNotInteger);
  if (index < INT32_MIN || index > INT32_MAX) return ctx.rb().SendError(errors::kIntOutOfRange);
  if (index < 0 || index >= ctx.keyspace().db_count()) {
    return ctx.rb().SendError(errors::kDbIndexOutOfRange);
  }
  ctx.client().db = static_cast<int>(index);
  ctx.rb().SendOk();
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
void CmdHello(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  int64_t version = c.resp;
  size_t next = 1;
  if (args.size() >= 2) {
    if (!ParseInt64(args[1], &version)) return ctx.rb().SendError(errors::kProtocolVersion);
    if (version < 2 || version > 3) return ctx.rb().SendError(errors::kNoProto);
    next = 2;
  }
  // Options take effect as they are read, as in Redis 7.0: "AUTH u p SETNAME bad" has
  // authenticated by the time SETNAME fails, "SETNAME x AUTH u bad" keeps the name.
  for (size_t j = next; j < args.size(); j++) {
    size_t more = args.size() - j - 1;
    if (EqualsIgnoreCase(args[j], "AUTH") && more >= 2) {
      if (!ctx.services().acl.Authenticate(c, args[j + 1], args[j + 2], args[0])) {
        return ctx.rb().SendError(errors::kWrongPass);
      }
      SetAuthenticated(c, true);
      j += 2;
    } else if (EqualsIgnoreCase(args[j], "SETNAME") && more >= 1) {
      for (char ch : args[j + 1]) {
        if (ch < '!' || ch > '~') return ctx.rb().SendError(errors::kClientNameSpaces);
      }
      c.name = std::string(args[j + 1]);
      j += 1;
    } else {
      return ctx.rb().SendError(errors::HelloSyntax(args[j]));
    }
  }
  // Without AUTH, HELLO is refused to unauthenticated clients like any other command.
  if (!c.authenticated) {
    return ctx.rb().SendError(errors::kHelloNoAuth);
  }
  c.set_resp(static_cast<int>(version));
  ReplyBuilder& rb = ctx.rb();
  rb.StartMap(7);
  rb.SendBulk("server");
  rb.SendBulk("redis");
  rb.SendBulk("version");
  rb.SendBulk(KEYWARD_REDIS_VERSION);
  rb.SendBulk("proto");
  rb.SendLong(version);
  rb.SendBulk("id");
  rb.SendLong(static_cast<int64_t>(c.id()));
  rb.SendBulk("mode");
  rb.SendBulk("standalone");
  rb.SendBulk("role");
  rb.SendBulk(ctx.services().state.replica ? "replica" : "master");
  rb.SendBulk("modules");
  rb.StartArray(0);
}

// RESET: back to a fresh connection's state (RESP2, db 0, no name, reply on, unauthenticated
// when a password is required).
void CmdReset(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  c.db = 0;
  c.set_resp(2);
  c.name.clear();
  c.reply_mode = Client::ReplyMode::kOn;
  c.flags &= ~(Client::kNoEvict);
  // A transaction in progress is discarded and nothing stays watched.
  ctx.services().transactions.End(c);
  ctx.services().tracking.Disable(c);
  // A monitor that resets is a normal client again.
  if (c.has(Client::kMonitor)) ctx.services().monitors.Remove(c);
  // Subscriptions go without confirmations.
  ctx.services().pubsub.UnsubscribeAll(c);
  // Back to the default user, authenticated only if it needs no password.
  const acl::AccessControl& acl = ctx.services().acl;
  c.user = acl.default_user();
  SetAuthenticated(c, acl.default_user_open());
  ctx.rb().SendSimple("RESET");
}

}  // namespace

void RegisterConnectionFamily(CommandRegistry& r) {
  constexpr uint64_t kConn = Acl::kConnection;
  r << CommandSpec{"ping", -1,      CO::kFast | CO::kSentinel,
                   0,      0,       0,
                   kConn,  CmdPing, {"Ping the server", "1.0.0", "connection", "O(1)", "[message]"}}
    << CommandSpec{"echo",
                   2,
                   CO::kFast | CO::kLoading | CO::kStale,
                   0,
                   0,
                   0,
                   kConn,
                   CmdEcho,
                   {"Echo the given string", "1.0.0", "connection", "O(1)", "message"}}
    << CommandSpec{"quit",
                   -1,
                   CO::kAllowBusy | CO::kNoAuth | CO::kNoScript | CO::kLoading | CO::kStale |
                       CO::kFast,
                   0,
                   0,
                   0,
                   kConn,
                   CmdQuit,
                   {"Close the connection", "1.0.0", "connection", "O(1)", ""}}
    << CommandSpec{"reset",
                   1,
                   CO::kNoScript | CO::kLoading | CO::kStale | CO::kFast | CO::kNoAuth |
                       CO::kAllowBusy,
                   0,
                   0,
                   0,
                   kConn,
                   CmdReset,
                   {"Reset the connection", "6.2.0", "connection", "O(1)", ""}}
    << CommandSpec{"hello",
                   -1,
                   CO::kNoScript | CO::kLoading | CO::kStale | CO::kFast | CO::kNoAuth |
                       CO::kSentinel | CO::kAllowBusy,
                   0,
                   0,
                   0,
                   kConn,
                   CmdHello,
                   {"Handshake with Redis", "6.0.0", "connection", "O(1)",
                    "[protover [AUTH username password] [SETNAME clientname]]"}}
    << CommandSpec{"auth",
                   -2,
                   CO::kNoScript | CO::kLoading | CO::kStale | CO::kFast | CO::kNoAuth |
                       CO::kSentinel | CO::kAllowBusy,
                   0,
                   0,
                   0,
                   kConn,
                   CmdAuth,
                   {"Authenticate to the server", "1.0.0", "connection",
                    "O(N) where N is the number of passwords defined for the user",
                    "[username] password"}}
    << CommandSpec{"select",
                   2,
                   CO::kLoading | CO::kStale | CO::kFast,
                   0,
                   0,
                   0,
                   kConn,
                   CmdSelect,
                   {"Change the selected database for the current connection", "1.0.0",
                    "connection", "O(1)", "index"}};
}

}  // namespace keyward
