// CLIENT: ID, SETNAME, GETNAME, LIST, INFO, KILL, PAUSE, UNPAUSE, REPLY, NO-EVICT, UNBLOCK, HELP.
#include <algorithm>

#include "server/acl/access_control.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

// TYPE filters go by Redis's getClientType (Client::type).
bool HasType(const Client& c, std::string_view type) {
  const Client::Type t = c.type();
  if (EqualsIgnoreCase(type, "pubsub")) return t == Client::Type::kPubSub;
  if (EqualsIgnoreCase(type, "normal")) return t == Client::Type::kNormal;
  if (EqualsIgnoreCase(type, "master")) return t == Client::Type::kMaster;
  return t == Client::Type::kReplica;  // "replica" or "slave"
}

}  // namespace

// One CLIENT LIST / CLIENT INFO line, with Redis's field names and order.
std::string DescribeClient(Services& services, const Client& c) {
  // Flag letters in Redis's order (S or O, M, P, x, b, t, R, B, d, c, A, U, e), as CLIENT
  // LIST prints them.
  std::string flags;
  if (c.has(Client::kMonitor)) {
    flags += 'O';
  } else if (c.has(Client::kReplica)) {
    flags += 'S';
  }
  if (c.has(Client::kMaster)) flags += 'M';
  if (c.subscribed()) flags += 'P';
  if (c.has(Client::kMulti)) flags += 'x';
  // Blocked (waiting for a lock), or held by CLIENT PAUSE (which Redis shows as blocked too).
  if (c.has(Client::kPaused | Client::kBlocked)) flags += 'b';
  if (c.has(Client::kTracking)) flags += 't';
  if (c.has(Client::kTrackingBrokenRedir)) flags += 'R';
  if (c.has(Client::kTrackingBcast)) flags += 'B';
  if (c.has(Client::kDirtyCas)) flags += 'd';
  if (c.has(Client::kCloseAfterReply)) flags += 'c';
  if (c.has(Client::kCloseAsap)) flags += 'A';
  if (c.has(Client::kUnixSocket)) flags += 'U';
  if (c.has(Client::kNoEvict)) flags += 'e';
  if (flags.empty()) flags = "N";
  int64_t now = services.keyspace.now_ms();
  size_t qbuf = c.transport()->buffered_input();
  size_t obl = c.transport()->pending_output();
  // Built by appending, not in a fixed buffer: a client name has no length limit and Redis
  // prints it whole.
  auto num = [](auto v) { return std::to_string(v); };
  std::string line;
  line.reserve(320 + c.name.size());
  line += "id=" + num(c.id());
  line += " addr=" + c.transport()->peer_address();
  line += " laddr=" + c.transport()->local_address();
  line += " fd=" + num(c.transport()->fd());
  line += " name=" + c.name;
  line += " age=" + num((now - c.created_ms) / 1000);
  line += " idle=" + num((now - c.last_interaction_ms) / 1000);
  line += " flags=" + flags;
  line += " db=" + num(c.db);
  line += " sub=" + num(c.subscriptions.channels.size());
  line += " psub=" + num(c.subscriptions.patterns.size());
  line += " ssub=" + num(c.subscriptions.shard_channels.size());
  line += " multi=" + num(services.transactions.QueuedCount(c));
  line += " qbuf=" + num(qbuf);
  line += " qbuf-free=" + num(c.transport()->input_capacity() - qbuf);
  line += " argv-mem=0 multi-mem=0 rbs=16384";
  line += " rbp=" + num(std::min<size_t>(c.reply_peak, 16384));
  line += " obl=" + num(obl);
  line += " oll=0";
  line += " omem=" + num(obl);
  line += " tot-mem=" + num(obl + c.transport()->input_capacity() + sizeof(Client));
  line += " events=r";
  line += " cmd=" + c.last_command;
  // The master link and the server's own clients run as no user at all (Redis's
  // "(superuser)").
  line += " user=" + (c.user != nullptr ? c.user->name() : std::string("(superuser)"));
  line += " redir=" + num(services.tracking.Redirect(c));
  line += " resp=" + num(c.resp);
  return line;
}

namespace {

void CmdClientId(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(static_cast<int64_t>(ctx.client().id()));
}

void CmdClientSetName(CmdArgs args, CommandContext& ctx) {
  // Redis allows printable ASCII without spaces (0x21..0x7e); empty clears the name.
  for (char ch : args[2]) {
    if (ch < '!' || ch > '~') return ctx.rb().SendError(errors::kClientNameSpaces);
  }
  ctx.client().name = std::string(args[2]);
  ctx.rb().SendOk();
}

void CmdClientGetName(CmdArgs args, CommandContext& ctx) {
  if (ctx.client().name.empty()) return ctx.rb().SendNull();
  ctx.rb().SendBulk(ctx.client().name);
}

void CmdClientList(CmdArgs args, CommandContext& ctx) {
  std::vector<uint64_t> ids;
  bool filter_ids = false;
  std::string_view type_filter;
  if (args.size() >= 4 && EqualsIgnoreCase(args[2], "TYPE")) {
    std::string_view type = args[3];
    if (args.size() != 4) return ctx.rb().SendError(errors::kSyntax);
    if (!EqualsIgnoreCase(type, "normal") && !EqualsIgnoreCase(type, "master") &&
        !EqualsIgnoreCase(type, "replica") && !EqualsIgnoreCase(type, "slave") &&
        !EqualsIgnoreCase(type, "pubsub")) {
      return ctx.rb().SendError(errors::UnknownClientType(type));
    }
    type_filter = type;
  } else if (args.size() >= 4 && EqualsIgnoreCase(args[2], "ID")) {
    filter_ids = true;
    for (size_t j = 3; j < args.size(); j++) {
      int64_t id;
      // A number that is no client's id (0, negative) simply matches nothing, as in Redis.
      if (!ParseInt64(args[j], &id)) {
        return ctx.rb().SendError(errors::kInvalidClientId);
      }
      ids.push_back(static_cast<uint64_t>(id));
    }
  } else if (args.size() != 2) {
    return ctx.rb().SendError(errors::kSyntax);
  }
  std::string out;
  for (Client* c : ctx.services().clients.all()) {
    if (filter_ids && std::find(ids.begin(), ids.end(), c->id()) == ids.end()) continue;
    if (!type_filter.empty() && !HasType(*c, type_filter)) continue;
    out += DescribeClient(ctx.services(), *c) + "\n";
  }
  ctx.rb().SendVerbatim(out);
}

void CmdClientInfo(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendVerbatim(DescribeClient(ctx.services(), ctx.client()) + "\n");
}

// CLIENT KILL addr | CLIENT KILL [ID id] [ADDR a] [LADDR a] [USER u] [TYPE t] [SKIPME yes|no]
void CmdClientKill(CmdArgs args, CommandContext& ctx) {
  ClientRegistry& clients = ctx.services().clients;
  Client& self = ctx.client();
  if (args.size() == 3) {
    // Old form: kill by address, reply OK or an error.
    for (Client* c : clients.all()) {
      if (c->transport()->peer_address() == args[2]) {
        ctx.rb().SendOk();  // the reply goes out before a self-kill closes the connection
        clients.Close(*c, c == &self);
        return;
      }
    }
    return ctx.rb().SendError(errors::kNoSuchClient);
  }
  if (args.size() % 2 != 0) return ctx.rb().SendError(errors::kSyntax);
  int64_t id = 0;
  std::string_view addr, laddr, user, type;
  bool skipme = true;
  for (size_t j = 2; j < args.size(); j += 2) {
    std::string_view opt = args[j], val = args[j + 1];
    if (EqualsIgnoreCase(opt, "ID")) {
      if (!ParseInt64(val, &id) || id <= 0) {
        return ctx.rb().SendError(errors::kClientIdNotPositive);
      }
    } else if (EqualsIgnoreCase(opt, "ADDR")) {
      addr = val;
    } else if (EqualsIgnoreCase(opt, "LADDR")) {
      laddr = val;
    } else if (EqualsIgnoreCase(opt, "USER")) {
      user = val;
      if (ctx.services().acl.Find(user) == nullptr) {
        return ctx.rb().SendError(errors::NoSuchUser(val));
      }
    } else if (EqualsIgnoreCase(opt, "TYPE")) {
      type = val;
      if (!EqualsIgnoreCase(type, "normal") && !EqualsIgnoreCase(type, "master") &&
          !EqualsIgnoreCase(type, "replica") && !EqualsIgnoreCase(type, "slave") &&
          !EqualsIgnoreCase(type, "pubsub")) {
        return ctx.rb().SendError(errors::UnknownClientType(val));
      }
    } else if (EqualsIgnoreCase(opt, "SKIPME")) {
      if (EqualsIgnoreCase(val, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(val, "no")) {
        skipme = false;
      } else {
        return ctx.rb().SendError(errors::kSyntax);
      }
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  std::vector<Client*> victims;
  for (Client* c : clients.all()) {
    if (id != 0 && c->id() != static_cast<uint64_t>(id)) continue;
    if (!addr.empty() && c->transport()->peer_address() != addr) continue;
    if (!laddr.empty() && c->transport()->local_address() != laddr) continue;
    if (!type.empty() && !HasType(*c, type)) continue;
    if (!user.empty() && (c->user == nullptr || c->user->name() != user)) continue;
    if (c == &self && skipme) continue;
    victims.push_back(c);
  }
  ctx.rb().SendLong(static_cast<int64_t>(victims.size()));
  for (Client* c : victims) clients.Close(*c, c == &self);
}

// CLIENT PAUSE timeout [WRITE|ALL]
void CmdClientPause(CmdArgs args, CommandContext& ctx) {
  int64_t timeout;
  if (!ParseInt64(args[2], &timeout)) return ctx.rb().SendError(errors::kTimeoutNotInteger);
  if (timeout < 0) return ctx.rb().SendError(errors::kTimeoutNegative);
  bool writes_only = false;
  if (args.size() == 4) {
    if (EqualsIgnoreCase(args[3], "WRITE")) {
      writes_only = true;
    } else if (!EqualsIgnoreCase(args[3], "ALL")) {
      return ctx.rb().SendError(errors::kClientPauseMode);
    }
  } else if (args.size() > 4) {
    return ctx.rb().SendError(errors::SubcommandSyntax("client", args[1]));
  }
  // Redis 7.0 adds the timeout to the current time unchecked: a sum past INT64_MAX wraps to a
  // deadline in the past (so the pause does nothing) and the reply is still OK. Wrap the same
  // way, without the undefined behaviour of a signed overflow.
  int64_t until =
      static_cast<int64_t>(static_cast<uint64_t>(ctx.now_ms()) + static_cast<uint64_t>(timeout));
  ctx.services().pause.Pause(ctx.now_ms(), until, writes_only);
  ctx.rb().SendOk();
}

void CmdClientUnpause(CmdArgs args, CommandContext& ctx) {
  ctx.services().pause.Unpause();
  ctx.rb().SendOk();
}

void CmdClientReply(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  if (EqualsIgnoreCase(args[2], "ON")) {
    c.reply_mode = Client::ReplyMode::kOn;
    ctx.rb().SendOk();
  } else if (EqualsIgnoreCase(args[2], "OFF")) {
    c.reply_mode = Client::ReplyMode::kOff;
  } else if (EqualsIgnoreCase(args[2], "SKIP")) {
    if (c.reply_mode != Client::ReplyMode::kOff) c.reply_mode = Client::ReplyMode::kSkipNext;
  } else {
    ctx.rb().SendError(errors::kSyntax);
  }
}

void CmdClientNoEvict(CmdArgs args, CommandContext& ctx) {
  if (EqualsIgnoreCase(args[2], "ON")) {
    ctx.client().flags |= Client::kNoEvict;
  } else if (EqualsIgnoreCase(args[2], "OFF")) {
    ctx.client().flags &= ~Client::kNoEvict;
  } else {
    return ctx.rb().SendError(errors::kSyntax);
  }
  ctx.rb().SendOk();
}

// CLIENT GETREDIR: the client tracking redirects to, 0 for none, -1 when not tracking.
void CmdClientGetRedir(CmdArgs args, CommandContext& ctx) {
  ctx.rb().SendLong(ctx.services().tracking.Redirect(ctx.client()));
}

// CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP]. The
// options are parsed (and REDIRECT checked) before ON or OFF is looked at, as Redis does.
void CmdClientTracking(CmdArgs args, CommandContext& ctx) {
  TrackingOptions options;
  for (size_t j = 3; j < args.size(); j++) {
    const bool more = j + 1 < args.size();
    if (EqualsIgnoreCase(args[j], "redirect") && more) {
      j++;
      if (options.redirect != 0) {
        return ctx.rb().SendError(errors::kTrackingOneRedirect);
      }
      int64_t id;
      if (!ParseInt64(args[j], &id)) return ctx.rb().SendError(errors::kNotInteger);
      // The client must exist now, even if it may go away later (then the tracking client is
      // told its redirection broke).
      if (id <= 0 || ctx.services().clients.Find(static_cast<uint64_t>(id)) == nullptr) {
        return ctx.rb().SendError(errors::kTrackingNoSuchRedirect);
      }
      options.redirect = static_cast<uint64_t>(id);
    } else if (EqualsIgnoreCase(args[j], "bcast")) {
      options.bcast = true;
    } else if (EqualsIgnoreCase(args[j], "optin")) {
      options.optin = true;
    } else if (EqualsIgnoreCase(args[j], "optout")) {
      options.optout = true;
    } else if (EqualsIgnoreCase(args[j], "noloop")) {
      options.noloop = true;
    } else if (EqualsIgnoreCase(args[j], "prefix") && more) {
      options.prefixes.emplace_back(args[++j]);
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  Tracking& tracking = ctx.services().tracking;
  if (EqualsIgnoreCase(args[2], "on")) {
    if (auto error = tracking.Enable(ctx.client(), options)) return ctx.rb().SendError(*error);
  } else if (EqualsIgnoreCase(args[2], "off")) {
    tracking.Disable(ctx.client());
  } else {
    return ctx.rb().SendError(errors::kSyntax);
  }
  ctx.rb().SendOk();
}

// CLIENT CACHING YES|NO: in OPTIN mode, remember the next command's keys; in OPTOUT mode, do not.
void CmdClientCaching(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  if (!c.has(Client::kTracking)) return ctx.rb().SendError(errors::kCachingNotTracking);
  if (EqualsIgnoreCase(args[2], "yes")) {
    if (!c.has(Client::kTrackingOptin)) return ctx.rb().SendError(errors::kCachingYesNotOptin);
  } else if (EqualsIgnoreCase(args[2], "no")) {
    if (!c.has(Client::kTrackingOptout)) return ctx.rb().SendError(errors::kCachingNoNotOptout);
  } else {
    return ctx.rb().SendError(errors::kSyntax);
  }
  c.flags |= Client::kTrackingCaching;
  ctx.rb().SendOk();
}

// CLIENT TRACKINGINFO: flags (a set), redirect, prefixes.
void CmdClientTrackingInfo(CmdArgs args, CommandContext& ctx) {
  Client& c = ctx.client();
  ReplyBuilder& rb = ctx.rb();
  std::vector<std::string_view> flags{c.has(Client::kTracking) ? "on" : "off"};
  if (c.has(Client::kTrackingBcast)) flags.push_back("bcast");
  if (c.has(Client::kTrackingOptin)) {
    flags.push_back("optin");
    if (c.has(Client::kTrackingCaching)) flags.push_back("caching-yes");
  }
  if (c.has(Client::kTrackingOptout)) {
    flags.push_back("optout");
    if (c.has(Client::kTrackingCaching)) flags.push_back("caching-no");
  }
  if (c.has(Client::kTrackingNoloop)) flags.push_back("noloop");
  if (c.has(Client::kTrackingBrokenRedir)) flags.push_back("broken_redirect");
  rb.StartMap(3);
  rb.SendBulk("flags");
  rb.StartSet(flags.size());
  for (std::string_view f : flags) rb.SendBulk(f);
  rb.SendBulk("redirect");
  rb.SendLong(ctx.services().tracking.Redirect(c));
  rb.SendBulk("prefixes");
  const std::vector<std::string> prefixes = ctx.services().tracking.Prefixes(c);
  rb.StartArray(prefixes.size());
  for (const std::string& p : prefixes) rb.SendBulk(p);
}

// CLIENT UNBLOCK id [TIMEOUT|ERROR]: ends another client's wait, as its timeout would or with
// -UNBLOCKED. 1 if it was waiting, 0 otherwise.
void CmdClientUnblock(CmdArgs args, CommandContext& ctx) {
  int64_t id;
  if (!ParseInt64(args[2], &id)) return ctx.rb().SendError(errors::kNotInteger);
  bool error = false;
  if (args.size() == 4) {
    if (EqualsIgnoreCase(args[3], "error")) {
      error = true;
    } else if (!EqualsIgnoreCase(args[3], "timeout")) {
      return ctx.rb().SendError(errors::kClientUnblockReason);
    }
  } else if (args.size() > 4) {
    return ctx.rb().SendError(errors::SubcommandSyntax("CLIENT", args[1]));
  }
  const bool unblocked = id > 0 && ctx.services().blocking.Unblock(
                                       static_cast<uint64_t>(id),
                                       error ? UnblockReason::kError : UnblockReason::kTimeout);
  ctx.rb().SendLong(unblocked ? 1 : 0);
}

void CmdClientHelp(CmdArgs args, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CACHING (YES|NO)",
      "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
      "GETREDIR",
      "    Return the client ID we are redirecting to when tracking is enabled.",
      "GETNAME",
      "    Return the name of the current connection.",
      "ID",
      "    Return the ID of the current connection.",
      "INFO",
      "    Return information about the current client connection.",
      "KILL <ip:port>",
      "    Kill connection made from <ip:port>.",
      "KILL <option> <value> [<option> <value> [...]]",
      "    Kill connections. Options are:",
      "    * ADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made from the specified address",
      "    * LADDR (<ip:port>|<unixsocket>:0)",
      "      Kill connections made to specified local address",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Kill connections by type.",
      "    * USER <username>",
      "      Kill connections authenticated by <username>.",
      "    * SKIPME (YES|NO)",
      "      Skip killing current connection (default: yes).",
      "LIST [options ...]",
      "    Return information about client connections. Options:",
      "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
      "      Return clients of specified type.",
      "UNPAUSE",
      "    Stop the current client pause, resuming traffic.",
      "PAUSE <timeout> [WRITE|ALL]",
      "    Suspend all, or just write, clients for <timeout> milliseconds.",
      "REPLY (ON|OFF|SKIP)",
      "    Control the replies sent to the current connection.",
      "SETNAME <name>",
      "    Assign the name <name> to the current connection.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
      "         [OPTIN] [OPTOUT] [NOLOOP]",
      "    Control server assisted client side caching.",
      "TRACKINGINFO",
      "    Report tracking status for the current connection.",
      "NO-EVICT (ON|OFF)",
      "    Protect current client connection from eviction.",
  };
  ctx.rb().SendHelp("CLIENT", kLines);
}

}  // namespace

void RegisterClientFamily(CommandRegistry& r) {
  constexpr uint32_t kBase = CO::kNoScript | CO::kLoading | CO::kStale;
  constexpr uint64_t kConn = Acl::kConnection;
  CommandSpec client{"client",
                     -2,
                     0,
                     0,
                     0,
                     0,
                     0,
                     nullptr,
                     {"A container for client connection commands", "2.4.0", "connection",
                      "Depends on subcommand.", ""}};
  client
      .AddSubcommand(
          {"id",
           2,
           kBase,
           0,
           0,
           0,
           kConn,
           CmdClientId,
           {"Returns the client ID for the current connection", "5.0.0", "connection", "O(1)", ""}})
      .AddSubcommand(
          {"setname",
           3,
           kBase,
           0,
           0,
           0,
           kConn,
           CmdClientSetName,
           {"Set the current connection name", "2.6.9", "connection", "O(1)", "connection-name"}})
      .AddSubcommand({"getname",
                      2,
                      kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientGetName,
                      {"Get the current connection name", "2.6.9", "connection", "O(1)", ""}})
      .AddSubcommand({"list",
                      -2,
                      CO::kAdmin | kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientList,
                      {"Get the list of client connections", "2.4.0", "connection",
                       "O(N) where N is the number of client connections",
                       "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]"}})
      .AddSubcommand({"info",
                      2,
                      kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientInfo,
                      {"Returns information about the current client connection.", "6.2.0",
                       "connection", "O(1)", ""}})
      .AddSubcommand({"kill",
                      -3,
                      CO::kAdmin | kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientKill,
                      {"Kill the connection of a client", "2.4.0", "connection",
                       "O(N) where N is the number of client connections", "filter"}})
      .AddSubcommand(
          {"unblock",
           -3,
           CO::kAdmin | kBase,
           0,
           0,
           0,
           kConn,
           CmdClientUnblock,
           {"Unblock a client blocked in a blocking command from a different "
            "connection",
            "5.0.0", "connection", "O(log N) where N is the number of client connections",
            "client-id [TIMEOUT|ERROR]"}})
      .AddSubcommand({"pause",
                      -3,
                      CO::kAdmin | kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientPause,
                      {"Stop processing commands from clients for some time", "3.0.0", "connection",
                       "O(1)", "timeout [WRITE|ALL]"}})
      .AddSubcommand({"unpause",
                      2,
                      CO::kAdmin | kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientUnpause,
                      {"Resume processing of clients that were paused", "6.2.0", "connection",
                       "O(N) Where N is the number of paused clients", ""}})
      .AddSubcommand({"reply",
                      3,
                      kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientReply,
                      {"Instruct the server whether to reply to commands", "3.2.0", "connection",
                       "O(1)", "ON|OFF|SKIP"}})
      .AddSubcommand({"no-evict",
                      3,
                      CO::kAdmin | kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientNoEvict,
                      {"Set client eviction mode for the current connection", "7.0.0", "connection",
                       "O(1)", "ON|OFF"}})
      .AddSubcommand({"tracking",
                      -3,
                      kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientTracking,
                      {"Enable or disable server assisted client side caching support", "6.0.0",
                       "connection", "O(1). Some options may introduce additional complexity.",
                       "ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] "
                       "[OPTIN] [OPTOUT] [NOLOOP]"}})
      .AddSubcommand({"caching",
                      3,
                      kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientCaching,
                      {"Instruct the server about tracking or not keys in the next request",
                       "6.0.0", "connection", "O(1)", "YES|NO"}})
      .AddSubcommand({"trackinginfo",
                      2,
                      kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientTrackingInfo,
                      {"Return information about server assisted client side caching for the "
                       "current connection",
                       "6.2.0", "connection", "O(1)", ""}})
      .AddSubcommand({"getredir",
                      2,
                      kBase,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientGetRedir,
                      {"Get tracking notifications redirection client ID if any", "6.0.0",
                       "connection", "O(1)", ""}})
      .AddSubcommand({"help",
                      2,
                      CO::kLoading | CO::kStale,
                      0,
                      0,
                      0,
                      kConn,
                      CmdClientHelp,
                      {"Show helpful text about the different subcommands", "5.0.0", "connection",
                       "O(1)", ""}});
  r << std::move(client);
}

}  // namespace keyward
