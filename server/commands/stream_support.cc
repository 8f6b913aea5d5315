#include "server/commands/stream_support.h"

#include <cerrno>
#include <cstdlib>
#include <string>

#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/settings.h"
#include "server/core/strings.h"
#include "server/engine/context.h"

namespace keyward {

namespace {

// Redis's string2ull: string2ll for the canonical forms (negative ones refused), else strtoull,
// which also takes leading blanks, a sign and leading zeros.
bool String2Ull(const std::string& s, uint64_t* out) {
  int64_t ll;
  if (ParseInt64(s, &ll)) {
    if (ll < 0) return false;
    *out = static_cast<uint64_t>(ll);
    return true;
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno == EINVAL || errno == ERANGE || s.empty() || *end != '\0') return false;
  *out = v;
  return true;
}

void SendEntryFields(ReplyBuilder& rb, StreamValue::Iterator& it, int64_t num_fields) {
  rb.StartArray(static_cast<size_t>(num_fields) * 2);
  char fbuf[21], vbuf[21];
  for (int64_t i = 0; i < num_fields; i++) {
    LpElement field, value;
    it.Field(&field, &value);
    rb.SendBulk(field.View(fbuf));
    rb.SendBulk(value.View(vbuf));
  }
}

}  // namespace

bool ParseStreamId(CommandContext& ctx, std::string_view s, StreamID* id, uint64_t missing_seq,
                   bool strict, bool* seq_given, bool reply) {
  auto invalid = [&] {
    if (reply) ctx.rb().SendError(stream_errors::kInvalidId);
    return false;
  };
  if (s.size() > 127) return invalid();
  // Redis parses a C string copy: it ends at the first NUL.
  std::string buf(s.substr(0, s.find('\0')));
  if (strict && buf.size() == 1 && (buf[0] == '-' || buf[0] == '+')) return invalid();
  if (seq_given != nullptr) *seq_given = true;
  if (buf == "-") {
    *id = StreamID::Min();
    return true;
  }
  if (buf == "+") {
    *id = StreamID::Max();
    return true;
  }
  const size_t dash = buf.find('-');
  uint64_t ms, seq;
  if (!String2Ull(buf.substr(0, dash), &ms)) return invalid();
  if (dash != std::string::npos) {
    std::string rest = buf.substr(dash + 1);
    if (seq_given != nullptr && rest == "*") {
      seq = 0;
      *seq_given = false;
    } else if (!String2Ull(rest, &seq)) {
      return invalid();
    }
  } else {
    seq = missing_seq;
  }
  *id = {ms, seq};
  return true;
}

bool ParseIntervalId(CommandContext& ctx, std::string_view s, StreamID* id, bool* exclude,
                     uint64_t missing_seq) {
  *exclude = s.size() > 1 && s[0] == '(';
  if (*exclude) return ParseStreamId(ctx, s.substr(1), id, missing_seq, true);
  return ParseStreamId(ctx, s, id, missing_seq, false);
}

bool ParseIntervalStart(CommandContext& ctx, std::string_view s, StreamID* id) {
  bool exclude;
  if (!ParseIntervalId(ctx, s, id, &exclude, 0)) return false;
  if (exclude && !id->Incr()) {
    ctx.rb().SendError(stream_errors::kInvalidStart);
    return false;
  }
  return true;
}

bool ParseIntervalEnd(CommandContext& ctx, std::string_view s, StreamID* id) {
  bool exclude;
  if (!ParseIntervalId(ctx, s, id, &exclude, UINT64_MAX)) return false;
  if (exclude && !id->Decr()) {
    ctx.rb().SendError(stream_errors::kInvalidEnd);
    return false;
  }
  return true;
}

bool LookupStream(CommandContext& ctx, std::string_view key, LookupMode mode, StreamValue** out) {
  Entry* e = ctx.db().Find(key, mode);
  *out = nullptr;
  if (e == nullptr) return true;
  if (e->type() != ObjType::kStream) {
    ctx.rb().SendError(errors::kWrongType);
    return false;
  }
  *out = e->value_as<StreamValue>();
  return true;
}

StreamValue::NodeLimits NodeLimits(CommandContext& ctx) {
  return {ctx.settings().stream_node_max_bytes, ctx.settings().stream_node_max_entries};
}

void SendStreamId(ReplyBuilder& rb, StreamID id) { rb.SendBulk(id.ToString()); }

size_t ReplyStreamRange(CommandContext& ctx, StreamValue& s, StreamID start, StreamID end,
                        size_t count, bool rev, GroupRead* group, bool raw_entries) {
  ReplyBuilder& rb = ctx.rb();
  const size_t at = rb.DeferLength();
  size_t sent = 0;
  bool propagate_last_id = false;
  StreamValue::Iterator it(s, start, end, rev);
  StreamID id;
  int64_t num_fields;
  while (it.Next(&id, &num_fields)) {
    if (group != nullptr && id > group->group->last_id) {
      StreamGroup& g = *group->group;
      // A valid counter and no tombstone from this entry on: the counter follows (wrapping, as
      // a loaded payload may hold any value); otherwise it is estimated again (7.0.15's rule).
      if (g.entries_read != StreamGroup::kInvalidEntriesRead &&
          !s.RangeHasTombstones(id, StreamID::Max())) {
        g.entries_read = WrappingSub(g.entries_read, -1);
      } else if (s.entries_added() != 0) {
        g.entries_read = s.EstimateDistanceFromFirstEverEntry(id);
      }
      g.last_id = id;
      // Without NOACK each entry's XCLAIM carries the group's position (LASTID); Redis 7.0
      // propagates XGROUP SETID only for NOACK reads.
      propagate_last_id = group->noack;
    }
    rb.StartArray(2);
    SendStreamId(rb, id);
    SendEntryFields(rb, it, num_fields);

    if (group != nullptr && !group->noack) {
      StreamGroup& g = *group->group;
      StreamConsumer* consumer = group->consumer;
      auto [pit, inserted] = g.pel.try_emplace(id);
      StreamNack* nack;
      if (inserted) {
        pit->second = std::make_unique<StreamNack>();
        nack = pit->second.get();
        nack->delivery_time = ctx.now_ms();
        nack->consumer = consumer;
      } else {
        // Delivered before (XGROUP SETID moved the group back): the entry changes hands.
        nack = pit->second.get();
        if (nack->consumer != nullptr) nack->consumer->pel.erase(id);
        nack->consumer = consumer;
        nack->delivery_time = ctx.now_ms();
        nack->delivery_count = 1;
      }
      consumer->pel[id] = nack;
      if (ctx.propagating()) {
        PropagateXClaim(ctx, group->key, group->group_name, g, id.ToString(), *nack);
      }
      group->propagated++;
    }
    sent++;
    if (count != 0 && sent == count) break;
  }
  if (group != nullptr && propagate_last_id) {
    PropagateGroupId(ctx, group->key, group->group_name, *group->group);
    group->propagated++;
  }
  if (!raw_entries) rb.SetDeferredArray(at, sent);
  return sent;
}

size_t ReplyConsumerHistory(CommandContext& ctx, StreamValue& s, StreamID start, size_t count,
                            StreamConsumer* consumer) {
  ReplyBuilder& rb = ctx.rb();
  const size_t at = rb.DeferLength();
  size_t sent = 0;
  for (auto it = consumer->pel.lower_bound(start);
       it != consumer->pel.end() && (count == 0 || sent < count); ++it) {
    const StreamID id = it->first;
    if (ReplyStreamRange(ctx, s, id, id, 1, false, nullptr, true) == 0) {
      // Pending, but deleted from the stream since: the ID with a null field list.
      rb.StartArray(2);
      SendStreamId(rb, id);
      rb.SendNullArray();
    } else {
      it->second->delivery_time = ctx.now_ms();
      it->second->delivery_count++;
    }
    sent++;
  }
  rb.SetDeferredArray(at, sent);
  return sent;
}

void PropagateXClaim(CommandContext& ctx, std::string_view key, std::string_view group_name,
                     const StreamGroup& group, std::string_view id, const StreamNack& nack) {
  // XCLAIM <key> <group> <consumer> 0 <id> TIME <ms> RETRYCOUNT <count> FORCE JUSTID LASTID <id>:
  // idempotent, and JUSTID spares the replica fetching the entry.
  ctx.Propagate(Argv{"XCLAIM", std::string(key), std::string(group_name), nack.consumer->name(),
                     "0", std::string(id), "TIME", FormatInt64(nack.delivery_time), "RETRYCOUNT",
                     FormatInt64(static_cast<int64_t>(nack.delivery_count)), "FORCE", "JUSTID",
                     "LASTID", group.last_id.ToString()});
}

void PropagateGroupId(CommandContext& ctx, std::string_view key, std::string_view group_name,
                      const StreamGroup& group) {
  ctx.Propagate(Argv{"XGROUP", "SETID", std::string(key), std::string(group_name),
                     group.last_id.ToString(), "ENTRIESREAD", FormatInt64(group.entries_read)});
}

void PropagateConsumerCreation(CommandContext& ctx, std::string_view key,
                               std::string_view group_name, std::string_view consumer) {
  ctx.Propagate({"XGROUP", "CREATECONSUMER", key, group_name, consumer});
}

StreamConsumer* CreateConsumer(CommandContext& ctx, StreamGroup& group, std::string_view name,
                               std::string_view key) {
  StreamConsumer* consumer = group.CreateConsumer(name, ctx.now_ms());
  if (consumer == nullptr) return nullptr;
  ctx.AddDirty();
  ctx.Notify(notify::kStream, "xgroup-createconsumer", key, ctx.db());
  return consumer;
}

}  // namespace keyward
