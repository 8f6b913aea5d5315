// Consumer groups and stream introspection: XGROUP (CREATE SETID DESTROY CREATECONSUMER
// DELCONSUMER HELP), XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO (STREAM GROUPS CONSUMERS
// HELP), as Redis 7.0.15 has them (t_stream.c): XCLAIM and XAUTOCLAIM create their consumer only
// when they claim something, drop the pending entries of deleted stream entries, and propagate
// each change as the idempotent XCLAIM form XREADGROUP uses.
#include <memory>
#include <string>
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

std::string NoGroup(std::string_view key, std::string_view group) {
  return "NOGROUP No such key '" + std::string(key) + "' or consumer group '" + std::string(group) +
         "'";
}

std::string NoGroupForKey(std::string_view group, std::string_view key) {
  return "NOGROUP No such consumer group '" + std::string(group) + "' for key name '" +
         std::string(key) + "'";
}

// The stream and group a claim or a pending query needs: nothing sent when found; WRONGTYPE or
// NOGROUP sent when not.
bool LookupGroup(CommandContext& ctx, std::string_view key, std::string_view group_name,
                 StreamValue** s, StreamGroup** group) {
  if (!LookupStream(ctx, key, LookupMode::kRead, s)) return false;
  *group = *s != nullptr ? (*s)->FindGroup(group_name) : nullptr;
  if (*group == nullptr) {
    ctx.rb().SendError(NoGroup(key, group_name));
    return false;
  }
  return true;
}

// --- XGROUP ------------------------------------------------------------------------------------

void CmdXGroupHelp(CmdArgs, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CREATE <key> <groupname> <id|$> [option]",
      "    Create a new consumer group. Options are:",
      "    * MKSTREAM",
      "      Create the empty stream if it does not exist.",
      "    * ENTRIESREAD entries_read",
      "      Set the group's entries_read counter (internal use).",
      "CREATECONSUMER <key> <groupname> <consumer>",
      "    Create a new consumer in the specified group.",
      "DELCONSUMER <key> <groupname> <consumer>",
      "    Remove the specified consumer.",
      "DESTROY <key> <groupname>",
      "    Remove the specified group.",
      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
      "    Set the current group ID and entries_read counter.",
  };
  ctx.rb().SendHelp("XGROUP", kLines);
}

// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER key group ... (xgroupCommand: one
// handler, options and the key checked the same way for every subcommand).
void CmdXGroup(CmdArgs args, CommandContext& ctx) {
  std::string_view opt = args[1];
  const bool create = EqualsIgnoreCase(opt, "create");
  const bool setid = EqualsIgnoreCase(opt, "setid");
  bool mkstream = false;
  int64_t entries_read = StreamGroup::kInvalidEntriesRead;
  for (size_t i = 5; i < args.size();) {
    if (create && EqualsIgnoreCase(args[i], "mkstream")) {
      mkstream = true;
      i++;
    } else if ((create || setid) && EqualsIgnoreCase(args[i], "entriesread") &&
               i + 1 < args.size()) {
      if (!GetLong(ctx, args[i + 1], &entries_read)) return;
      if (entries_read < 0 && entries_read != StreamGroup::kInvalidEntriesRead) {
        return ctx.rb().SendError("ERR value for ENTRIESREAD must be positive or -1");
      }
      i += 2;
    } else {
      return ctx.rb().SendError(errors::SubcommandSyntax("XGROUP", opt));
    }
  }
  std::string_view key = args[2];
  std::string_view group_name = args[3];
  Database& db = ctx.db();
  StreamValue* s;
  if (!LookupStream(ctx, key, LookupMode::kWrite, &s)) return;
  StreamGroup* group = nullptr;
  if (!mkstream) {
    if (s == nullptr) {
      return ctx.rb().SendError(
          "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may "
          "want to use the MKSTREAM option to create an empty stream automatically.");
    }
    group = s->FindGroup(group_name);
    if (group == nullptr && (setid || EqualsIgnoreCase(opt, "createconsumer") ||
                             EqualsIgnoreCase(opt, "delconsumer"))) {
      return ctx.rb().SendError(NoGroupForKey(group_name, key));
    }
  }

  if (create && args.size() <= 8) {
    StreamID id;
    if (args[4] == "$") {
      id = s != nullptr ? s->last_id() : StreamID::Min();
    } else if (!ParseStreamId(ctx, args[4], &id, 0, true)) {
      return;
    }
    if (s == nullptr) {
      // MKSTREAM, now that nothing can fail.
      Entry* e = Entry::NewValue(key, std::make_unique<StreamValue>());
      db.Add(e);
      s = e->value_as<StreamValue>();
      ctx.KeyModified(db, key);
    }
    if (s->CreateGroup(group_name, id, entries_read) == nullptr) {
      return ctx.rb().SendError("BUSYGROUP Consumer Group name already exists");
    }
    ctx.rb().SendOk();
    ctx.AddDirty();
    ctx.Notify(notify::kStream, "xgroup-create", key, db);
  } else if (setid && (args.size() == 5 || args.size() == 7)) {
    StreamID id;
    if (args[4] == "$") {
      id = s->last_id();
    } else if (!ParseStreamId(ctx, args[4], &id, 0, false)) {
      return;
    }
    group->last_id = id;
    group->entries_read = entries_read;
    ctx.rb().SendOk();
    ctx.AddDirty();
    ctx.Notify(notify::kStream, "xgroup-setid", key, db);
  } else if (EqualsIgnoreCase(opt, "destroy") && args.size() == 4) {
    if (group == nullptr) return ctx.rb().SendLong(0);
    s->DestroyGroup(group_name);
    ctx.rb().SendLong(1);
    ctx.AddDirty();
    ctx.Notify(notify::kStream, "xgroup-destroy", key, db);
    // Its blocked readers learn that the group is gone.
    ctx.services().blocking.SignalKeyReady(ctx.client().db, key);
  } else if (EqualsIgnoreCase(opt, "createconsumer") && args.size() == 5) {
    ctx.rb().SendLong(CreateConsumer(ctx, *group, args[4], key) != nullptr ? 1 : 0);
  } else if (EqualsIgnoreCase(opt, "delconsumer") && args.size() == 5) {
    StreamConsumer* consumer = group->FindConsumer(args[4]);
    int64_t pending = 0;
    if (consumer != nullptr) {
      pending = static_cast<int64_t>(consumer->pel.size());
      group->DeleteConsumer(consumer);
      ctx.AddDirty();
      ctx.Notify(notify::kStream, "xgroup-delconsumer", key, db);
    }
    ctx.rb().SendLong(pending);
  } else {
    ctx.rb().SendError(errors::SubcommandSyntax("XGROUP", opt));
  }
}

// --- XACK, XPENDING ----------------------------------------------------------------------------

// XACK key group id [id ...]
void CmdXAck(CmdArgs args, CommandContext& ctx) {
  StreamValue* s;
  if (!LookupStream(ctx, args[1], LookupMode::kRead, &s)) return;
  StreamGroup* group = s != nullptr ? s->FindGroup(args[2]) : nullptr;
  if (group == nullptr) return ctx.rb().SendLong(0);
  // All or nothing: every ID parses before any is acknowledged.
  std::vector<StreamID> ids(args.size() - 3);
  for (size_t j = 3; j < args.size(); j++) {
    if (!ParseStreamId(ctx, args[j], &ids[j - 3], 0, true)) return;
  }
  int64_t acknowledged = 0;
  for (StreamID id : ids) {
    auto it = group->pel.find(id);
    if (it == group->pel.end()) continue;
    group->RemoveNack(it);
    acknowledged++;
    ctx.AddDirty();
  }
  ctx.rb().SendLong(acknowledged);
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
void CmdXPending(CmdArgs args, CommandContext& ctx) {
  const bool summary = args.size() == 3;
  if (args.size() != 3 && (args.size() < 6 || args.size() > 9)) {
    return ctx.rb().SendError(errors::kSyntax);
  }
  StreamID start, end;
  int64_t count = 0, min_idle = 0;
  std::string_view consumer_name;
  bool consumer_given = false;
  if (args.size() >= 6) {
    size_t first = 3;
    if (EqualsIgnoreCase(args[3], "idle")) {
      if (!GetLong(ctx, args[4], &min_idle)) return;
      if (args.size() < 8) return ctx.rb().SendError(errors::kSyntax);
      first += 2;
    }
    if (!GetLong(ctx, args[first + 2], &count)) return;
    if (count < 0) count = 0;
    if (!ParseIntervalStart(ctx, args[first], &start) ||
        !ParseIntervalEnd(ctx, args[first + 1], &end)) {
      return;
    }
    if (first + 3 < args.size()) {
      consumer_name = args[first + 3];
      consumer_given = true;
    }
  }
  StreamValue* s;
  StreamGroup* group;
  if (!LookupGroup(ctx, args[1], args[2], &s, &group)) return;
  ReplyBuilder& rb = ctx.rb();
  if (summary) {
    rb.StartArray(4);
    rb.SendLong(static_cast<int64_t>(group->pel.size()));
    if (group->pel.empty()) {
      rb.SendNull();
      rb.SendNull();
      rb.SendNullArray();
      return;
    }
    SendStreamId(rb, group->pel.begin()->first);
    SendStreamId(rb, group->pel.rbegin()->first);
    size_t owners = 0;
    for (const auto& [name, consumer] : group->consumers) owners += !consumer->pel.empty();
    rb.StartArray(owners);
    for (const auto& [name, consumer] : group->consumers) {
      if (consumer->pel.empty()) continue;
      rb.StartArray(2);
      rb.SendBulk(name);
      rb.SendBulk(FormatInt64(static_cast<int64_t>(consumer->pel.size())));
    }
    return;
  }
  const StreamConsumer* consumer = nullptr;
  if (consumer_given) {
    consumer = group->FindConsumer(consumer_name);
    if (consumer == nullptr) return rb.SendEmptyArray();
  }
  const int64_t now = ctx.now_ms();
  const size_t at = rb.DeferLength();
  size_t n = 0;
  auto send = [&](StreamID id, const StreamNack& nack) {
    if (min_idle && WrappingSub(now, nack.delivery_time) < min_idle) return;
    n++;
    count--;
    rb.StartArray(4);
    SendStreamId(rb, id);
    rb.SendBulk(nack.consumer->name());
    rb.SendLong(std::max<int64_t>(WrappingSub(now, nack.delivery_time), 0));
    rb.SendLong(static_cast<int64_t>(nack.delivery_count));
  };
  if (consumer != nullptr) {
    for (auto it = consumer->pel.lower_bound(start);
         count && it != consumer->pel.end() && it->first <= end; ++it) {
      send(it->first, *it->second);
    }
  } else {
    for (auto it = group->pel.lower_bound(start);
         count && it != group->pel.end() && it->first <= end; ++it) {
      send(it->first, *it->second);
    }
  }
  rb.SetDeferredArray(at, n);
}

// --- XCLAIM, XAUTOCLAIM ------------------------------------------------------------------------

// The claiming consumer, looked up (seen-time refreshed) or created on the first claim.
StreamConsumer* Claimer(CommandContext& ctx, StreamGroup& group, std::string_view name,
                        std::string_view key, StreamConsumer** cached) {
  if (*cached != nullptr) return *cached;
  StreamConsumer* consumer = group.FindConsumer(name);
  if (consumer != nullptr) {
    consumer->seen_time = ctx.now_ms();
  } else {
    consumer = CreateConsumer(ctx, group, name, key);
  }
  *cached = consumer;
  return consumer;
}

// Hands a pending entry to `consumer`.
void MoveNack(StreamNack* nack, StreamID id, StreamConsumer* consumer) {
  if (nack->consumer == consumer) return;
  if (nack->consumer != nullptr) nack->consumer->pel.erase(id);
  consumer->pel[id] = nack;
  nack->consumer = consumer;
}

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
//        [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]
void CmdXClaim(CmdArgs args, CommandContext& ctx) {
  StreamValue* s;
  StreamGroup* group;
  if (!LookupGroup(ctx, args[1], args[2], &s, &group)) return;
  int64_t min_idle;
  if (!GetLong(ctx, args[4], &min_idle, "Invalid min-idle-time argument for XCLAIM")) return;
  if (min_idle < 0) min_idle = 0;
  // IDs first, up to the first argument that is not one: the options follow them.
  std::vector<StreamID> ids;
  size_t j = 5;
  for (; j < args.size(); j++) {
    StreamID id;
    if (!ParseStreamId(ctx, args[j], &id, 0, true, nullptr, false)) break;
    ids.push_back(id);
  }
  const int64_t now = ctx.now_ms();
  int64_t retry_count = -1, delivery_time = -1;
  bool force = false, justid = false;
  StreamID last_id;
  for (; j < args.size(); j++) {
    const bool more = j + 1 < args.size();
    std::string_view opt = args[j];
    if (EqualsIgnoreCase(opt, "force")) {
      force = true;
    } else if (EqualsIgnoreCase(opt, "justid")) {
      justid = true;
    } else if (EqualsIgnoreCase(opt, "idle") && more) {
      if (!GetLong(ctx, args[++j], &delivery_time, "Invalid IDLE option argument for XCLAIM")) {
        return;
      }
      delivery_time = WrappingSub(now, delivery_time);
    } else if (EqualsIgnoreCase(opt, "time") && more) {
      if (!GetLong(ctx, args[++j], &delivery_time, "Invalid TIME option argument for XCLAIM")) {
        return;
      }
    } else if (EqualsIgnoreCase(opt, "retrycount") && more) {
      if (!GetLong(ctx, args[++j], &retry_count, "Invalid RETRYCOUNT option argument for XCLAIM")) {
        return;
      }
    } else if (EqualsIgnoreCase(opt, "lastid") && more) {
      if (!ParseStreamId(ctx, args[++j], &last_id, 0, true)) return;
    } else {
      return ctx.rb().SendError("ERR Unrecognized XCLAIM option '" + std::string(opt) + "'");
    }
  }
  ctx.PropagateOnlyCollected();
  bool propagate_last_id = false;
  if (last_id > group->last_id) {
    group->last_id = last_id;
    propagate_last_id = true;
  }
  // A time in the future or before the epoch is "now": a client's clock may run ahead.
  if (delivery_time == -1 || delivery_time < 0 || delivery_time > now) delivery_time = now;

  ReplyBuilder& rb = ctx.rb();
  const size_t at = rb.DeferLength();
  size_t claimed = 0;
  StreamConsumer* consumer = nullptr;
  for (size_t k = 0; k < ids.size(); k++) {
    const StreamID id = ids[k];
    std::string_view id_arg = args[5 + k];
    auto it = group->pel.find(id);
    StreamNack* nack = it != group->pel.end() ? it->second.get() : nullptr;
    if (!s->Exists(id)) {
      // Deleted from the stream: its pending entry goes too.
      if (nack != nullptr) {
        PropagateXClaim(ctx, args[1], args[2], *group, id_arg, *nack);
        propagate_last_id = false;  // the XCLAIM carries LASTID
        ctx.AddDirty();
        group->RemoveNack(it);
      }
      continue;
    }
    if (force && nack == nullptr) {
      auto fresh = std::make_unique<StreamNack>();
      fresh->delivery_time = now;
      nack = fresh.get();
      group->pel.emplace(id, std::move(fresh));
    }
    if (nack == nullptr) continue;
    if (nack->consumer != nullptr && min_idle && WrappingSub(now, nack->delivery_time) < min_idle) {
      continue;
    }
    StreamConsumer* to = Claimer(ctx, *group, args[3], args[1], &consumer);
    nack->delivery_time = delivery_time;
    if (retry_count >= 0) {
      nack->delivery_count = static_cast<uint64_t>(retry_count);
    } else if (!justid) {
      nack->delivery_count++;
    }
    MoveNack(nack, id, to);
    if (justid) {
      SendStreamId(rb, id);
    } else {
      ReplyStreamRange(ctx, *s, id, id, 1, false, nullptr, true);
    }
    claimed++;
    PropagateXClaim(ctx, args[1], args[2], *group, id_arg, *nack);
    propagate_last_id = false;
    ctx.AddDirty();
  }
  if (propagate_last_id) {
    PropagateGroupId(ctx, args[1], args[2], *group);
    ctx.AddDirty();
  }
  rb.SetDeferredArray(at, claimed);
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
void CmdXAutoClaim(CmdArgs args, CommandContext& ctx) {
  int64_t min_idle;
  if (!GetLong(ctx, args[4], &min_idle, "Invalid min-idle-time argument for XAUTOCLAIM")) {
    return;
  }
  if (min_idle < 0) min_idle = 0;
  StreamID start;
  if (!ParseIntervalStart(ctx, args[5], &start)) return;
  constexpr int64_t kAttemptsFactor = 10;
  int64_t count = 100;
  bool justid = false;
  for (size_t j = 6; j < args.size(); j++) {
    if (EqualsIgnoreCase(args[j], "count") && j + 1 < args.size()) {
      if (!GetRangeLong(ctx, args[j + 1], 1, INT64_MAX / 16, &count, "COUNT must be > 0")) {
        return;
      }
      j++;
    } else if (EqualsIgnoreCase(args[j], "justid")) {
      justid = true;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }
  StreamValue* s;
  StreamGroup* group;
  if (!LookupGroup(ctx, args[1], args[2], &s, &group)) return;
  ctx.PropagateOnlyCollected();

  ReplyBuilder& rb = ctx.rb();
  rb.StartArray(3);
  const size_t cursor_at = rb.DeferLength();
  std::vector<StreamID> deleted;
  size_t claimed = 0;
  StreamConsumer* consumer = nullptr;
  const int64_t now = ctx.now_ms();
  int64_t attempts = count * kAttemptsFactor;
  auto it = group->pel.lower_bound(start);
  while (attempts-- != 0 && count != 0 && it != group->pel.end()) {
    const auto cur = it++;
    const StreamID id = cur->first;
    StreamNack* nack = cur->second.get();
    if (!s->Exists(id)) {
      // Deleted from the stream: the pending entry goes, and the reply lists its ID.
      PropagateXClaim(ctx, args[1], args[2], *group, id.ToString(), *nack);
      ctx.AddDirty();
      group->RemoveNack(cur);
      deleted.push_back(id);
      count--;
      continue;
    }
    if (min_idle && WrappingSub(now, nack->delivery_time) < min_idle) continue;
    StreamConsumer* to = Claimer(ctx, *group, args[3], args[1], &consumer);
    nack->delivery_time = now;
    if (!justid) nack->delivery_count++;
    MoveNack(nack, id, to);
    if (justid) {
      SendStreamId(rb, id);
    } else {
      ReplyStreamRange(ctx, *s, id, id, 1, false, nullptr, true);
    }
    claimed++;
    count--;
    PropagateXClaim(ctx, args[1], args[2], *group, id.ToString(), *nack);
    ctx.AddDirty();
  }
  rb.SetDeferredArray(cursor_at, claimed);
  // The cursor goes before the claimed entries: the next pending ID, or 0-0 at the end.
  std::string cursor;
  {
    ReplyBuilder cursor_rb(&cursor);
    cursor_rb.set_resp3(rb.resp3());
    SendStreamId(cursor_rb, it == group->pel.end() ? StreamID::Min() : it->first);
  }
  rb.sink()->insert(cursor_at, cursor);
  rb.StartArray(deleted.size());
  for (StreamID id : deleted) SendStreamId(rb, id);
}

// --- XINFO -------------------------------------------------------------------------------------

void CmdXInfoHelp(CmdArgs, CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CONSUMERS <key> <groupname>",
      "    Show consumers of <groupname>.",
      "GROUPS <key>",
      "    Show the stream consumer groups.",
      "STREAM <key> [FULL [COUNT <count>]",
      "    Show information about the stream.",
  };
  ctx.rb().SendHelp("XINFO", kLines);
}

void SendLag(ReplyBuilder& rb, const StreamValue& s, const StreamGroup& group) {
  std::optional<int64_t> lag = s.Lag(group);
  if (lag) {
    rb.SendLong(*lag);
  } else {
    rb.SendNull();
  }
}

void SendEntriesRead(ReplyBuilder& rb, const StreamGroup& group) {
  if (group.entries_read != StreamGroup::kInvalidEntriesRead) {
    rb.SendLong(group.entries_read);
  } else {
    rb.SendNull();
  }
}

// XINFO STREAM FULL's pending lists: the first `limit` entries (0: all) of a group's PEL (with
// each entry's owner) or a consumer's, as [id, (owner,) delivery time, delivery count].
template <typename Pel>
void SendPel(ReplyBuilder& rb, const Pel& pel, size_t limit, bool with_owner) {
  const size_t n = limit == 0 ? pel.size() : std::min(limit, pel.size());
  rb.StartArray(n);
  auto it = pel.begin();
  for (size_t i = 0; i < n; i++, ++it) {
    const StreamNack& nack = *it->second;
    rb.StartArray(with_owner ? 4 : 3);
    SendStreamId(rb, it->first);
    if (with_owner) rb.SendBulk(nack.consumer != nullptr ? nack.consumer->name() : "");
    rb.SendLong(nack.delivery_time);
    rb.SendLong(static_cast<int64_t>(nack.delivery_count));
  }
}

// XINFO STREAM key [FULL [COUNT count]]
void StreamInfo(CmdArgs args, CommandContext& ctx, StreamValue& s) {
  bool full = true;
  int64_t count = 10;
  const size_t optc = args.size() - 3;
  if (optc == 0) {
    full = false;
  } else {
    if ((optc != 1 && optc != 3) || !EqualsIgnoreCase(args[3], "full") ||
        (optc == 3 && !EqualsIgnoreCase(args[4], "count"))) {
      return ctx.rb().SendError(errors::SubcommandSyntax("XINFO", args[1]));
    }
    if (optc == 3) {
      if (!GetLong(ctx, args[5], &count)) return;
      if (count < 0) count = 10;
    }
  }
  ReplyBuilder& rb = ctx.rb();
  rb.StartMap(full ? 9 : 10);
  rb.SendBulk("length");
  rb.SendLong(static_cast<int64_t>(s.length()));
  rb.SendBulk("radix-tree-keys");
  rb.SendLong(static_cast<int64_t>(s.nodes().size()));
  rb.SendBulk("radix-tree-nodes");
  rb.SendLong(static_cast<int64_t>(s.RaxNodeCount()));
  rb.SendBulk("last-generated-id");
  SendStreamId(rb, s.last_id());
  rb.SendBulk("max-deleted-entry-id");
  SendStreamId(rb, s.max_deleted_id());
  rb.SendBulk("entries-added");
  rb.SendLong(static_cast<int64_t>(s.entries_added()));
  rb.SendBulk("recorded-first-entry-id");
  SendStreamId(rb, s.first_id());
  if (!full) {
    rb.SendBulk("groups");
    rb.SendLong(static_cast<int64_t>(s.groups().size()));
    rb.SendBulk("first-entry");
    if (ReplyStreamRange(ctx, s, StreamID::Min(), StreamID::Max(), 1, false, nullptr, true) == 0) {
      rb.SendNull();
    }
    rb.SendBulk("last-entry");
    if (ReplyStreamRange(ctx, s, StreamID::Min(), StreamID::Max(), 1, true, nullptr, true) == 0) {
      rb.SendNull();
    }
    return;
  }
  const size_t limit = static_cast<size_t>(count);  // 0: everything
  rb.SendBulk("entries");
  ReplyStreamRange(ctx, s, StreamID::Min(), StreamID::Max(), limit, false, nullptr, false);
  rb.SendBulk("groups");
  rb.StartArray(s.groups().size());
  for (const auto& [name, group] : s.groups()) {
    rb.StartMap(7);
    rb.SendBulk("name");
    rb.SendBulk(name);
    rb.SendBulk("last-delivered-id");
    SendStreamId(rb, group->last_id);
    rb.SendBulk("entries-read");
    SendEntriesRead(rb, *group);
    rb.SendBulk("lag");
    SendLag(rb, s, *group);
    rb.SendBulk("pel-count");
    rb.SendLong(static_cast<int64_t>(group->pel.size()));
    rb.SendBulk("pending");
    SendPel(rb, group->pel, limit, /*with_owner=*/true);
    rb.SendBulk("consumers");
    rb.StartArray(group->consumers.size());
    for (const auto& [cname, consumer] : group->consumers) {
      rb.StartMap(4);
      rb.SendBulk("name");
      rb.SendBulk(cname);
      rb.SendBulk("seen-time");
      rb.SendLong(consumer->seen_time);
      rb.SendBulk("pel-count");
      rb.SendLong(static_cast<int64_t>(consumer->pel.size()));
      rb.SendBulk("pending");
      SendPel(rb, consumer->pel, limit, /*with_owner=*/false);
    }
  }
}

// XINFO STREAM|GROUPS|CONSUMERS key ... (xinfoCommand)
void CmdXInfo(CmdArgs args, CommandContext& ctx) {
  std::string_view opt = args[1];
  std::string_view key = args[2];
  StreamValue* s;
  if (!LookupStream(ctx, key, LookupMode::kRead, &s)) return;
  if (s == nullptr) return ctx.rb().SendError(errors::kNoSuchKey);
  ReplyBuilder& rb = ctx.rb();
  if (EqualsIgnoreCase(opt, "consumers") && args.size() == 4) {
    StreamGroup* group = s->FindGroup(args[3]);
    if (group == nullptr) return rb.SendError(NoGroupForKey(args[3], key));
    rb.StartArray(group->consumers.size());
    const int64_t now = ctx.now_ms();
    for (const auto& [name, consumer] : group->consumers) {
      rb.StartMap(3);
      rb.SendBulk("name");
      rb.SendBulk(name);
      rb.SendBulk("pending");
      rb.SendLong(static_cast<int64_t>(consumer->pel.size()));
      rb.SendBulk("idle");
      rb.SendLong(std::max<int64_t>(WrappingSub(now, consumer->seen_time), 0));
    }
  } else if (EqualsIgnoreCase(opt, "groups") && args.size() == 3) {
    rb.StartArray(s->groups().size());
    for (const auto& [name, group] : s->groups()) {
      rb.StartMap(6);
      rb.SendBulk("name");
      rb.SendBulk(name);
      rb.SendBulk("consumers");
      rb.SendLong(static_cast<int64_t>(group->consumers.size()));
      rb.SendBulk("pending");
      rb.SendLong(static_cast<int64_t>(group->pel.size()));
      rb.SendBulk("last-delivered-id");
      SendStreamId(rb, group->last_id);
      rb.SendBulk("entries-read");
      SendEntriesRead(rb, *group);
      rb.SendBulk("lag");
      SendLag(rb, *s, *group);
    }
  } else if (EqualsIgnoreCase(opt, "stream")) {
    StreamInfo(args, ctx, *s);
  } else {
    rb.SendError(errors::SubcommandSyntax("XINFO", opt));
  }
}

}  // namespace

void RegisterStreamGroupFamily(CommandRegistry& r) {
  constexpr uint32_t kW = CO::kWrite;
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint32_t kF = CO::kFast;
  constexpr uint32_t kHelp = CO::kLoading | CO::kStale;
  constexpr uint64_t kS = Acl::kStream;
  // clang-format off
  CommandSpec xgroup{"xgroup", -2, 0, 0, 0, 0, 0, nullptr,
                     {"A container for consumer groups commands", "5.0.0", "stream",
                      "Depends on subcommand.", ""}};
  xgroup
      .AddSubcommand({"create", -5, kWD, 2, 2, 1, kS, CmdXGroup,
                      {"Create a consumer group.", "5.0.0", "stream", "O(1)",
                       "key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]"}})
      .AddSubcommand({"setid", -5, kW, 2, 2, 1, kS, CmdXGroup,
                      {"Set a consumer group to an arbitrary last delivered ID value.", "5.0.0",
                       "stream", "O(1)", "key group id|$ [ENTRIESREAD entries-read]"}})
      .AddSubcommand({"destroy", 4, kW, 2, 2, 1, kS, CmdXGroup,
                      {"Destroy a consumer group.", "5.0.0", "stream",
                       "O(N) where N is the number of entries in the group's pending entries "
                       "list (PEL).", "key group"}})
      .AddSubcommand({"createconsumer", 5, kWD, 2, 2, 1, kS, CmdXGroup,
                      {"Create a consumer in a consumer group.", "6.2.0", "stream", "O(1)",
                       "key group consumer"}})
      .AddSubcommand({"delconsumer", 5, kW, 2, 2, 1, kS, CmdXGroup,
                      {"Delete a consumer from a consumer group.", "5.0.0", "stream", "O(1)",
                       "key group consumer"}})
      .AddSubcommand({"help", 2, kHelp, 0, 0, 0, kS, CmdXGroupHelp,
                      {"Show helpful text about the different subcommands", "5.0.0", "stream",
                       "O(1)", ""}});
  CommandSpec xinfo{"xinfo", -2, 0, 0, 0, 0, 0, nullptr,
                    {"A container for stream introspection commands", "5.0.0", "stream",
                     "Depends on subcommand.", ""}};
  xinfo
      .AddSubcommand({"stream", -3, kRO, 2, 2, 1, kS, CmdXInfo,
                      {"Get information about a stream", "5.0.0", "stream", "O(1)",
                       "key [FULL [COUNT count]]"}})
      .AddSubcommand({"groups", 3, kRO, 2, 2, 1, kS, CmdXInfo,
                      {"List the consumer groups of a stream", "5.0.0", "stream", "O(1)",
                       "key"}})
      .AddSubcommand({"consumers", 4, kRO, 2, 2, 1, kS, CmdXInfo,
                      {"List the consumers in a consumer group", "5.0.0", "stream", "O(1)",
                       "key group"}})
      .AddSubcommand({"help", 2, kHelp, 0, 0, 0, kS, CmdXInfoHelp,
                      {"Show helpful text about the different subcommands", "5.0.0", "stream",
                       "O(1)", ""}});
  r << std::move(xgroup) << std::move(xinfo)
    << CommandSpec{"xack", -4, kW | kF, 1, 1, 1, kS, CmdXAck,
                   {"Marks a pending message as correctly processed, effectively removing it "
                    "from the pending entries list of the consumer group. Return value of the "
                    "command is the number of messages successfully acknowledged, that is, the "
                    "IDs we were actually able to resolve in the PEL.", "5.0.0", "stream",
                    "O(1) for each message ID processed.", "key group id [id ...]"}}
    << CommandSpec{"xpending", -3, kRO, 1, 1, 1, kS, CmdXPending,
                   {"Return information and entries from a stream consumer group pending "
                    "entries list, that are messages fetched but never acknowledged.", "5.0.0",
                    "stream",
                    "O(N) with N being the number of elements returned, so asking for a small "
                    "fixed number of entries per call is O(1). O(M), where M is the total number "
                    "of entries scanned when used with the IDLE filter. When the command returns "
                    "just the summary and the list of consumers is small, it runs in O(1) time; "
                    "otherwise, an additional O(N) time for iterating every consumer.",
                    "key group [[IDLE min-idle-time] start end count [consumer]]"}}
    << CommandSpec{"xclaim", -6, kW | kF, 1, 1, 1, kS, CmdXClaim,
                   {"Changes (or acquires) ownership of a message in a consumer group, as if the "
                    "message was delivered to the specified consumer.", "5.0.0", "stream",
                    "O(log N) with N being the number of messages in the PEL of the consumer "
                    "group.",
                    "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME "
                    "unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]"}}
    << CommandSpec{"xautoclaim", -6, kW | kF, 1, 1, 1, kS, CmdXAutoClaim,
                   {"Changes (or acquires) ownership of messages in a consumer group, as if the "
                    "messages were delivered to the specified consumer.", "6.2.0", "stream",
                    "O(1) if COUNT is small.",
                    "key group consumer min-idle-time start [COUNT count] [JUSTID]"}};
  // clang-format on
}

}  // namespace keyward
