// Stream commands: XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID, and XREAD / XREADGROUP with
// their blocking forms. Semantics, replies, error texts, notifications and propagation follow
// Redis 7.0 (t_stream.c, blocked.c): XADD propagates the ID it generated and `~` trimming as the
// exact trim it did; XREADGROUP propagates what it delivered as XCLAIM and XGROUP SETID, never
// itself. The consumer group commands are in stream_group_family.cc.
#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/commands/stream_support.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

using Strategy = StreamTrim::Strategy;

// streamAddTrimArgs with where the trim argument is, for the rewrite.
struct AddTrimArgs {
  StreamTrim trim;
  size_t trim_arg = 0;  // the MAXLEN count / MINID ID
  StreamID id;
  bool id_given = false;
  bool seq_given = true;
  bool no_mkstream = false;
};

// streamParseAddOrTrimArgsOrReply: the position of XADD's ID, or 0 after sending an error.
size_t ParseAddOrTrim(CommandContext& ctx, CmdArgs args, bool xadd, AddTrimArgs* out) {
  size_t i = 2;
  bool limit_given = false;
  StreamTrim& t = out->trim;
  for (; i < args.size(); i++) {
    const size_t more = args.size() - 1 - i;
    std::string_view opt = args[i];
    if (xadd && !opt.empty() && opt[0] == '*' && (opt.size() == 1 || opt[1] == '\0')) {
      break;  // the common auto-ID case
    } else if ((EqualsIgnoreCase(opt, "maxlen") || EqualsIgnoreCase(opt, "minid")) && more) {
      if (t.strategy != Strategy::kNone) {
        ctx.rb().SendError(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return 0;
      }
      const bool maxlen = EqualsIgnoreCase(opt, "maxlen");
      t.approx = false;
      std::string_view next = args[i + 1];
      if (more >= 2 && next == "~") {
        t.approx = true;
        i++;
      } else if (more >= 2 && next == "=") {
        i++;
      }
      if (maxlen) {
        if (!GetLong(ctx, args[i + 1], &t.maxlen)) return 0;
        if (t.maxlen < 0) {
          ctx.rb().SendError("ERR The MAXLEN argument must be >= 0.");
          return 0;
        }
      } else if (!ParseStreamId(ctx, args[i + 1], &t.minid, 0, true)) {
        return 0;
      }
      i++;
      t.strategy = maxlen ? Strategy::kMaxLen : Strategy::kMinId;
      out->trim_arg = i;
    } else if (EqualsIgnoreCase(opt, "limit") && more) {
      if (!GetLong(ctx, args[i + 1], &t.limit)) return 0;
      if (t.limit < 0) {
        ctx.rb().SendError("ERR The LIMIT argument must be >= 0.");
        return 0;
      }
      limit_given = true;
      i++;
    } else if (xadd && EqualsIgnoreCase(opt, "nomkstream")) {
      out->no_mkstream = true;
    } else if (xadd) {
      // A syntax error or the ID.
      if (!ParseStreamId(ctx, opt, &out->id, 0, true, &out->seq_given)) return 0;
      out->id_given = true;
      break;
    } else {
      ctx.rb().SendError(errors::kSyntax);
      return 0;
    }
  }
  if (t.limit && t.strategy == Strategy::kNone) {
    ctx.rb().SendError(
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return 0;
  }
  if (!xadd && t.strategy == Strategy::kNone) {
    ctx.rb().SendError("ERR syntax error, XTRIM must be called with a trimming strategy");
    return 0;
  }
  if (ctx.caller() == CallerKind::kMaster || ctx.caller() == CallerKind::kAofReplay) {
    // The master's stream and the AOF carry exact trims: never limit them.
    t.limit = 0;
  } else if (limit_given) {
    if (!t.approx) {
      ctx.rb().SendError("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return 0;
    }
  } else {
    // `~` without LIMIT does at most 100 nodes' worth; an exact trim is never limited.
    t.limit = t.approx ? 100 * ctx.settings().stream_node_max_entries : 0;
  }
  return i;
}

// streamRewriteApproxSpecifier + streamRewriteTrimArgument: `~ N` becomes `= <what is left>`,
// so replicas and the AOF trim exactly what this server did.
void RewriteApproxTrim(const AddTrimArgs& a, const StreamValue& s, Argv& argv) {
  argv[a.trim_arg - 1].assign(1, '=');  // assign, not = "=": g++ 12 -Wrestrict false positive
  argv[a.trim_arg] = a.trim.strategy == Strategy::kMaxLen
                         ? FormatInt64(static_cast<int64_t>(s.length()))
                         : s.EdgeID(true, false).ToString();
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
void CmdXAdd(CmdArgs args, CommandContext& ctx) {
  AddTrimArgs a;
  const size_t id_pos = ParseAddOrTrim(ctx, args, true, &a);
  if (id_pos == 0) return;
  const size_t field_pos = id_pos + 1;
  if (args.size() < field_pos + 2 || (args.size() - field_pos) % 2 == 1) {
    return ctx.rb().SendError(errors::WrongArgs("xadd"));
  }
  // 0-0 is refused before the key is created, so a failed XADD leaves no empty stream.
  if (a.id_given && a.seq_given && a.id.IsZero()) {
    return ctx.rb().SendError("ERR The ID specified in XADD must be greater than 0-0");
  }
  Database& db = ctx.db();
  StreamValue* s;
  if (!LookupStream(ctx, args[1], LookupMode::kWrite, &s)) return;
  if (s == nullptr) {
    if (a.no_mkstream) return ctx.rb().SendNull();
    Entry* e = Entry::NewValue(args[1], std::make_unique<StreamValue>());
    db.Add(e);
    s = e->value_as<StreamValue>();
  }
  if (s->last_id() == StreamID::Max()) {
    return ctx.rb().SendError(
        "ERR The stream has exhausted the last possible ID, unable to add more items");
  }
  StreamID id;
  switch (s->Append(args.subspan(field_pos), a.id_given ? &a.id : nullptr, a.seq_given,
                    ctx.now_ms(), NodeLimits(ctx), &id)) {
    case StreamValue::AppendResult::kOk:
      break;
    case StreamValue::AppendResult::kIdTooSmall:
      return ctx.rb().SendError(
          "ERR The ID specified in XADD is equal or smaller than the target stream top item");
    case StreamValue::AppendResult::kTooLarge:
      return ctx.rb().SendError("ERR Elements are too large to be stored");
  }
  const std::string id_text = id.ToString();
  ctx.rb().SendBulk(id_text);
  ctx.Notify(notify::kStream, "xadd", args[1], db);
  ctx.AddDirty();

  if (a.trim.strategy != Strategy::kNone && s->Trim(a.trim) > 0) {
    ctx.Notify(notify::kStream, "xtrim", args[1], db);
  }
  ctx.KeyModified(db, args[1]);
  if (!ctx.propagating()) return;
  // The ID as generated, so that replicas and the AOF add the same one, and an approximate
  // trim as the exact one it was.
  Argv argv(args.begin(), args.end());
  if (a.trim.strategy != Strategy::kNone && a.trim.approx) RewriteApproxTrim(a, *s, argv);
  if (!a.id_given || !a.seq_given) argv[id_pos] = id_text;
  ctx.Propagate(std::move(argv));
}

// XRANGE key start end [COUNT count] / XREVRANGE key end start [COUNT count]
void RangeCommand(CmdArgs args, CommandContext& ctx, bool rev) {
  StreamID start, end;
  if (!ParseIntervalStart(ctx, rev ? args[3] : args[2], &start) ||
      !ParseIntervalEnd(ctx, rev ? args[2] : args[3], &end)) {
    return;
  }
  int64_t count = -1;
  for (size_t j = 4; j < args.size(); j++) {
    if (EqualsIgnoreCase(args[j], "count") && j + 1 < args.size()) {
      if (!GetLong(ctx, args[j + 1], &count)) return;
      if (count < 0) count = 0;
      j++;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  StreamValue* s;
  if (!LookupStream(ctx, args[1], LookupMode::kRead, &s)) return;
  if (s == nullptr) return ctx.rb().SendEmptyArray();
  if (count == 0) return ctx.rb().SendNullArray();
  ReplyStreamRange(ctx, *s, start, end, count == -1 ? 0 : static_cast<size_t>(count), rev, nullptr,
                   false);
}

void CmdXRange(CmdArgs args, CommandContext& ctx) { RangeCommand(args, ctx, false); }
void CmdXRevRange(CmdArgs args, CommandContext& ctx) { RangeCommand(args, ctx, true); }

// XLEN key
void CmdXLen(CmdArgs args, CommandContext& ctx) {
  StreamValue* s;
  if (!LookupStream(ctx, args[1], LookupMode::kRead, &s)) return;
  ctx.rb().SendLong(s == nullptr ? 0 : static_cast<int64_t>(s->length()));
}

// XDEL key id [id ...]
void CmdXDel(CmdArgs args, CommandContext& ctx) {
  StreamValue* s;
  if (!LookupStream(ctx, args[1], LookupMode::kWrite, &s)) return;
  if (s == nullptr) return ctx.rb().SendLong(0);
  // Every ID is checked first: a bad one must not leave the command half done.
  std::vector<StreamID> ids(args.size() - 2);
  for (size_t j = 2; j < args.size(); j++) {
    if (!ParseStreamId(ctx, args[j], &ids[j - 2], 0, true)) return;
  }
  int64_t deleted = 0;
  bool first_entry = false;
  for (StreamID id : ids) {
    if (!s->Delete(id)) continue;
    if (id == s->first_id()) first_entry = true;
    if (id > s->max_deleted_id()) s->set_max_deleted_id(id);
    deleted++;
  }
  if (deleted) {
    if (s->length() == 0 || first_entry) s->RefreshFirstId();
    Database& db = ctx.db();
    ctx.KeyModified(db, args[1]);
    ctx.Notify(notify::kStream, "xdel", args[1], db);
    ctx.AddDirty(static_cast<uint64_t>(deleted));
  }
  ctx.rb().SendLong(deleted);
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
void CmdXTrim(CmdArgs args, CommandContext& ctx) {
  AddTrimArgs a;
  if (ParseAddOrTrim(ctx, args, false, &a) == 0) return;
  StreamValue* s;
  if (!LookupStream(ctx, args[1], LookupMode::kWrite, &s)) return;
  if (s == nullptr) return ctx.rb().SendLong(0);
  const int64_t deleted = s->Trim(a.trim);
  if (deleted) {
    Database& db = ctx.db();
    ctx.Notify(notify::kStream, "xtrim", args[1], db);
    if (a.trim.approx) {
      Argv argv(args.begin(), args.end());
      RewriteApproxTrim(a, *s, argv);
      ctx.Propagate(std::move(argv));
    }
    ctx.KeyModified(db, args[1]);
    ctx.AddDirty(static_cast<uint64_t>(deleted));
  }
  ctx.rb().SendLong(deleted);
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
void CmdXSetId(CmdArgs args, CommandContext& ctx) {
  StreamID id, max_xdel_id;
  int64_t entries_added = -1;
  if (!ParseStreamId(ctx, args[2], &id, 0, true)) return;
  for (size_t i = 3; i < args.size(); i += 2) {
    const bool more = i + 1 < args.size();
    if (EqualsIgnoreCase(args[i], "entriesadded") && more) {
      if (!GetLong(ctx, args[i + 1], &entries_added)) return;
      if (entries_added < 0) return ctx.rb().SendError("ERR entries_added must be positive");
    } else if (EqualsIgnoreCase(args[i], "maxdeletedid") && more) {
      if (!ParseStreamId(ctx, args[i + 1], &max_xdel_id, 0, true)) return;
      if (id < max_xdel_id) {
        return ctx.rb().SendError(
            "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      }
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  StreamValue* s;
  if (!LookupStream(ctx, args[1], LookupMode::kWrite, &s)) return;
  if (s == nullptr) return ctx.rb().SendError(errors::kNoSuchKey);
  if (s->length() > 0) {
    if (id < s->LastValidID()) {
      return ctx.rb().SendError(
          "ERR The ID specified in XSETID is smaller than the target stream top item");
    }
    if (entries_added != -1 && s->length() > static_cast<uint64_t>(entries_added)) {
      return ctx.rb().SendError(
          "ERR The entries_added specified in XSETID is smaller than the target stream length");
    }
  }
  s->set_last_id(id);
  if (entries_added != -1) s->set_entries_added(static_cast<uint64_t>(entries_added));
  if (!max_xdel_id.IsZero()) s->set_max_deleted_id(max_xdel_id);
  ctx.rb().SendOk();
  ctx.AddDirty();
  ctx.Notify(notify::kStream, "xsetid", args[1], ctx.db());
}

// --- XREAD / XREADGROUP -----------------------------------------------------------------------

// What a blocked XREAD / XREADGROUP waits for.
struct StreamWait : WaitState {
  std::unordered_map<std::string, StreamID> after;  // per key: entries after this ID
  int64_t count = 0;
  bool group_read = false;  // XREADGROUP
  std::string group;
  std::string consumer;
  bool noack = false;
};

// The consumer a group read serves (streamLookupConsumer refreshing seen-time, or
// streamCreateConsumer; a NOACK read propagates the creation, no XCLAIM doing it).
StreamConsumer* ReadingConsumer(CommandContext& ctx, StreamGroup& group, std::string_view name,
                                std::string_view key, std::string_view group_name, bool noack) {
  StreamConsumer* consumer = group.FindConsumer(name);
  if (consumer == nullptr) {
    consumer = CreateConsumer(ctx, group, name, key);
    if (noack) PropagateConsumerCreation(ctx, key, group_name, name);
  }
  consumer->seen_time = ctx.now_ms();
  return consumer;
}

// Serves the clients blocked on streams (serveClientsBlockedOnStreamKey). Each waiter is
// offered every new entry on its own: one that gets nothing (its group's entries went to an
// earlier waiter) holds nobody behind it.
class StreamBlockHandler : public BlockHandler {
 public:
  bool TryServe(CommandContext& ctx, WaitState* state, std::string_view key) override {
    auto& w = *static_cast<StreamWait*>(state);
    ctx.PropagateOnlyCollected();
    Entry* e = ctx.db().Find(key, LookupMode::kWrite);
    if (e == nullptr || e->type() != ObjType::kStream) {
      // A deleted (or replaced) stream ends its group readers' waits; plain readers wait on.
      if (!w.group_read) return false;
      ctx.rb().SendError("UNBLOCKED the stream key no longer exists");
      return true;
    }
    StreamValue* s = e->value_as<StreamValue>();
    auto found = w.after.find(std::string(key));
    StreamID gt = found != w.after.end() ? found->second : StreamID::Min();
    StreamGroup* group = nullptr;
    if (w.group_read) {
      group = s->FindGroup(w.group);
      if (group == nullptr) {
        ctx.rb().SendError(
            "NOGROUP the consumer group this client was blocked on no longer exists");
        return true;
      }
      gt = group->last_id;
    }
    if (s->last_id() <= gt) return false;
    StreamID start = gt;
    start.Incr();
    GroupRead read;
    if (group != nullptr) {
      read.key = key;
      read.group_name = w.group;
      read.group = group;
      read.consumer = ReadingConsumer(ctx, *group, w.consumer, key, w.group, w.noack);
      read.noack = w.noack;
    }
    ReplyBuilder& rb = ctx.rb();
    if (rb.resp3()) {
      rb.StartMap(1);
    } else {
      rb.StartArray(1);
      rb.StartArray(2);
    }
    rb.SendBulk(key);
    ReplyStreamRange(ctx, *s, start, StreamID::Max(), static_cast<size_t>(w.count), false,
                     group != nullptr ? &read : nullptr, false);
    return true;
  }

  bool PassesOver(CommandContext&, WaitState*, std::string_view) override { return true; }

  void OnTimeout(Client& c, WaitState*) override { c.rb().SendNullArray(); }
};

StreamBlockHandler& Handler() {
  static StreamBlockHandler handler;  // stateless: one serves every server in the process
  return handler;
}

// XREAD [COUNT count] [BLOCK ms] STREAMS key [key ...] id [id ...]
// XREADGROUP GROUP group consumer [COUNT count] [BLOCK ms] [NOACK] STREAMS key ... id ...
void ReadCommand(CmdArgs args, CommandContext& ctx, bool xreadgroup) {
  // What a group read delivers is propagated as XCLAIM / XGROUP SETID; the read itself never.
  ctx.PropagateOnlyCollected();
  int64_t deadline = 0;
  bool block = false;
  int64_t count = 0;
  size_t streams_arg = 0;
  size_t streams_count = 0;
  bool noack = false;
  std::string_view group_name, consumer_name;
  bool group_given = false;
  for (size_t i = 1; i < args.size(); i++) {
    const size_t more = args.size() - i - 1;
    std::string_view o = args[i];
    if (EqualsIgnoreCase(o, "block") && more) {
      i++;
      if (!GetBlockTimeoutMs(ctx, args[i], &deadline)) return;
      block = true;
    } else if (EqualsIgnoreCase(o, "count") && more) {
      i++;
      if (!GetLong(ctx, args[i], &count)) return;
      if (count < 0) count = 0;
    } else if (EqualsIgnoreCase(o, "streams") && more) {
      streams_arg = i + 1;
      streams_count = args.size() - streams_arg;
      if (streams_count % 2 != 0) {
        // The same text for XREADGROUP, as in 7.0.
        return ctx.rb().SendError(
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
            "specified.");
      }
      streams_count /= 2;
      break;
    } else if (EqualsIgnoreCase(o, "group") && more >= 2) {
      if (!xreadgroup) {
        return ctx.rb().SendError(
            "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      }
      group_name = args[i + 1];
      consumer_name = args[i + 2];
      group_given = true;
      i += 2;
    } else if (EqualsIgnoreCase(o, "noack")) {
      if (!xreadgroup) {
        return ctx.rb().SendError(
            "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      }
      noack = true;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  if (streams_arg == 0) return ctx.rb().SendError(errors::kSyntax);
  if (xreadgroup && !group_given) {
    return ctx.rb().SendError("ERR Missing GROUP option for XREADGROUP");
  }

  CmdArgs keys = args.subspan(streams_arg, streams_count);
  std::vector<StreamID> ids(streams_count);
  std::vector<StreamGroup*> groups(streams_count, nullptr);
  for (size_t i = 0; i < streams_count; i++) {
    std::string_view key = keys[i];
    std::string_view arg = args[streams_arg + streams_count + i];
    StreamValue* s;
    if (!LookupStream(ctx, key, LookupMode::kRead, &s)) return;
    if (group_given) {
      if (s == nullptr || (groups[i] = s->FindGroup(group_name)) == nullptr) {
        return ctx.rb().SendError("NOGROUP No such key '" + std::string(key) +
                                  "' or consumer group '" + std::string(group_name) +
                                  "' in XREADGROUP with GROUP option");
      }
    }
    if (arg == "$") {
      if (xreadgroup) {
        return ctx.rb().SendError(
            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
            "history of this consumer by specifying a proper ID, or use the > ID to get new "
            "messages. The $ ID would just return an empty result set.");
      }
      ids[i] = s != nullptr ? s->last_id() : StreamID::Min();
    } else if (arg == ">") {
      if (!xreadgroup) {
        return ctx.rb().SendError(
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP "
            "<group> <consumer> option.");
      }
      ids[i] = StreamID::Max();  // "new entries": follows the group's last ID
    } else if (!ParseStreamId(ctx, arg, &ids[i], 0, true)) {
      return;
    }
  }

  ReplyBuilder& rb = ctx.rb();
  size_t served = 0;
  size_t at = 0;
  for (size_t i = 0; i < streams_count; i++) {
    std::string_view key = keys[i];
    StreamValue* s;
    LookupStream(ctx, key, LookupMode::kRead, &s);  // the type was checked above
    if (s == nullptr) continue;
    StreamID gt = ids[i];
    bool serve = false;
    bool history = false;
    GroupRead read;
    if (group_given) {
      if (gt != StreamID::Max()) {
        // An explicit ID reads the consumer's own history.
        serve = true;
        history = true;
      } else if (s->length() && s->LastValidID() > groups[i]->last_id) {
        serve = true;
        gt = groups[i]->last_id;
      }
    } else if (s->length() && s->LastValidID() > gt) {
      serve = true;
    }
    if (!serve) continue;
    if (group_given) {
      // The consumer is looked up (or created) only when something is served.
      read.key = key;
      read.group_name = group_name;
      read.group = groups[i];
      read.consumer = ReadingConsumer(ctx, *groups[i], consumer_name, key, group_name, noack);
      read.noack = noack;
    }
    if (served++ == 0) at = rb.DeferLength();
    StreamID start = gt;
    start.Incr();
    if (!rb.resp3()) rb.StartArray(2);
    rb.SendBulk(key);
    if (history) {
      ReplyConsumerHistory(ctx, *s, start, static_cast<size_t>(count), read.consumer);
    } else {
      ReplyStreamRange(ctx, *s, start, StreamID::Max(), static_cast<size_t>(count), false,
                       group_given ? &read : nullptr, false);
    }
    if (read.propagated) ctx.AddDirty();
  }
  if (served) {
    if (rb.resp3()) {
      rb.SetDeferredMap(at, served);
    } else {
      rb.SetDeferredArray(at, served);
    }
    return;
  }
  if (!block) return rb.SendNullArray();
  // In MULTI or a script, a read that would block answers as if it timed out.
  if (!ctx.may_block()) return rb.SendNullArray();
  auto wait = std::make_unique<StreamWait>();
  BlockRequest request;
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < streams_count; i++) {
    // A key named twice waits once, for the first ID given.
    if (!seen.insert(keys[i]).second) continue;
    request.keys.emplace_back(keys[i]);
    wait->after.emplace(std::string(keys[i]), ids[i]);
  }
  // Without COUNT a woken reader gets at most 1000 entries (XREAD_BLOCKED_DEFAULT_COUNT).
  wait->count = count != 0 ? count : 1000;
  wait->group_read = xreadgroup;
  wait->group = std::string(group_name);
  wait->consumer = std::string(consumer_name);
  wait->noack = noack;
  request.db = ctx.client().db;
  request.deadline_ms = deadline;
  request.handler = &Handler();
  request.command = &ctx.cmd();
  request.state = std::move(wait);
  ctx.services().blocking.Block(ctx.client(), std::move(request));
}

void CmdXRead(CmdArgs args, CommandContext& ctx) { ReadCommand(args, ctx, false); }
void CmdXReadGroup(CmdArgs args, CommandContext& ctx) { ReadCommand(args, ctx, true); }

}  // namespace

void RegisterStreamFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint64_t kS = Acl::kStream;
  // clang-format off
  r << CommandSpec{"xadd", -5, kWD | kF, 1, 1, 1, kS, CmdXAdd,
                   {"Appends a new entry to a stream", "5.0.0", "stream",
                    "O(1) when adding a new entry, O(N) when trimming where N being the number of "
                    "entries evicted.",
                    "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field "
                    "value [field value ...]"}}
    << CommandSpec{"xrange", -4, kRO, 1, 1, 1, kS, CmdXRange,
                   {"Return a range of elements in a stream, with IDs matching the specified IDs "
                    "interval", "5.0.0", "stream",
                    "O(N) with N being the number of elements being returned. If N is constant "
                    "(e.g. always asking for the first 10 elements with COUNT), you can consider "
                    "it O(1).", "key start end [COUNT count]"}}
    << CommandSpec{"xrevrange", -4, kRO, 1, 1, 1, kS, CmdXRevRange,
                   {"Return a range of elements in a stream, with IDs matching the specified IDs "
                    "interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
                    "5.0.0", "stream",
                    "O(N) with N being the number of elements returned. If N is constant (e.g. "
                    "always asking for the first 10 elements with COUNT), you can consider it "
                    "O(1).", "key end start [COUNT count]"}}
    << CommandSpec{"xlen", 2, kRO | kF, 1, 1, 1, kS, CmdXLen,
                   {"Return the number of entries in a stream", "5.0.0", "stream", "O(1)",
                    "key"}}
    << CommandSpec{"xdel", -3, kW | kF, 1, 1, 1, kS, CmdXDel,
                   {"Removes the specified entries from the stream. Returns the number of items "
                    "actually deleted, that may be different from the number of IDs passed in "
                    "case certain IDs do not exist.", "5.0.0", "stream",
                    "O(1) for each single item to delete in the stream, regardless of the stream "
                    "size.", "key id [id ...]"}}
    << CommandSpec{"xtrim", -4, kW, 1, 1, 1, kS, CmdXTrim,
                   {"Trims the stream to (approximately if '~' is passed) a certain size",
                    "5.0.0", "stream",
                    "O(N), with N being the number of evicted entries. Constant times are very "
                    "small however, since entries are organized in macro nodes containing "
                    "multiple entries that can be released with a single deallocation.",
                    "key MAXLEN|MINID [=|~] threshold [LIMIT count]"}}
    << CommandSpec{"xsetid", -3, kWD | kF, 1, 1, 1, kS, CmdXSetId,
                   {"An internal command for replicating stream values", "5.0.0", "stream",
                    "O(1)",
                    "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]"}}
    << CommandSpec{"xread", -4, kRO | CO::kBlocking | CO::kMovableKeys, 0, 0, 0, kS, CmdXRead,
                   {"Return never seen elements in multiple streams, with IDs greater than the "
                    "ones reported by the caller for each stream. Can block.", "5.0.0", "stream",
                    "For each stream mentioned: O(N) with N being the number of elements being "
                    "returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when "
                    "the BLOCK option is used, XADD will pay O(M) time in order to serve the M "
                    "clients blocked on the stream getting new data.",
                    "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]"}}
    << CommandSpec{"xreadgroup", -7, kW | CO::kBlocking | CO::kMovableKeys, 0, 0, 0, kS,
                   CmdXReadGroup,
                   {"Return new entries from a stream using a consumer group, or access the "
                    "history of the pending entries for a given consumer. Can block.", "5.0.0",
                    "stream",
                    "For each stream mentioned: O(M) with M being the number of elements "
                    "returned. If M is constant (e.g. always asking for the first 10 elements "
                    "with COUNT), you can consider it O(1). On the other side when XREADGROUP "
                    "blocks, XADD will pay the O(N) time in order to serve the N clients blocked "
                    "on the stream getting new data.",
                    "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key "
                    "[key ...] id [id ...]"}};
  // clang-format on
}

}  // namespace keyward
