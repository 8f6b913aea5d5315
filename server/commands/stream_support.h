// What the stream command families share (t_stream.c's helpers): ID parsing with Redis's error
// texts, the stream lookup, the range reply that also delivers to a consumer group, and the
// commands a group read propagates as.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/keyspace/database.h"
#include "server/keyspace/stream_value.h"

namespace keyward {

class CommandContext;
class ReplyBuilder;

namespace stream_errors {
inline constexpr std::string_view kInvalidId =
    "ERR Invalid stream ID specified as stream command argument";
inline constexpr std::string_view kInvalidStart = "ERR invalid start ID for the interval";
inline constexpr std::string_view kInvalidEnd = "ERR invalid end ID for the interval";
}  // namespace stream_errors

// streamGenericParseIDOrReply: "<ms>-<seq>", "<ms>" (seq = missing_seq), "-" and "+" unless
// `strict`, and "<ms>-*" when `seq_given` is not null (then *seq_given says whether the
// sequence was given). Sends kInvalidId when `reply` and the ID is bad.
bool ParseStreamId(CommandContext& ctx, std::string_view s, StreamID* id, uint64_t missing_seq,
                   bool strict, bool* seq_given = nullptr, bool reply = true);
// An interval end: "(" makes it exclusive (then strict), `*exclude` says so.
bool ParseIntervalId(CommandContext& ctx, std::string_view s, StreamID* id, bool* exclude,
                     uint64_t missing_seq);
// An interval's start and end with their "(" forms applied (XRANGE, XPENDING, XAUTOCLAIM's
// start): kInvalidStart / kInvalidEnd when an exclusive end runs off the ID space.
bool ParseIntervalStart(CommandContext& ctx, std::string_view s, StreamID* id);
bool ParseIntervalEnd(CommandContext& ctx, std::string_view s, StreamID* id);

// The key's stream (nullptr when absent); false (WRONGTYPE sent) when it holds another type.
bool LookupStream(CommandContext& ctx, std::string_view key, LookupMode mode, StreamValue** out);
StreamValue::NodeLimits NodeLimits(CommandContext& ctx);

// A consumer group read (the group side of streamReplyWithRange).
struct GroupRead {
  std::string_view key;
  std::string_view group_name;
  StreamGroup* group = nullptr;
  StreamConsumer* consumer = nullptr;
  bool noack = false;
  // Propagations made (XCLAIM per delivered entry, XGROUP SETID), for the dirty counter.
  size_t propagated = 0;
};

// streamReplyWithRange: the live entries in [start, end], at most `count` (0: all), newest first
// when `rev`, as an array of [id, [field, value, ...]] (without the array header when
// `raw_entries`). With `group`, delivers them: moves the group's last ID and read counter,
// creates or moves the pending entries (unless noack) and propagates the reads as XCLAIM and
// XGROUP SETID. Returns how many entries were sent.
size_t ReplyStreamRange(CommandContext& ctx, StreamValue& s, StreamID start, StreamID end,
                        size_t count, bool rev, GroupRead* group, bool raw_entries);
// streamReplyWithRangeFromConsumerPEL: a consumer's history, from its own PEL (entries deleted
// since show with a null field list); each one sent counts as a new delivery.
size_t ReplyConsumerHistory(CommandContext& ctx, StreamValue& s, StreamID start, size_t count,
                            StreamConsumer* consumer);

// What group reads and claims propagate as (streamPropagateXCLAIM, streamPropagateGroupID,
// streamPropagateConsumerCreation).
void PropagateXClaim(CommandContext& ctx, std::string_view key, std::string_view group_name,
                     const StreamGroup& group, std::string_view id, const StreamNack& nack);
void PropagateGroupId(CommandContext& ctx, std::string_view key, std::string_view group_name,
                      const StreamGroup& group);
void PropagateConsumerCreation(CommandContext& ctx, std::string_view key,
                               std::string_view group_name, std::string_view consumer);

// streamCreateConsumer with SCC_DEFAULT: the consumer, its "xgroup-createconsumer" event and a
// dirty count; nullptr if it exists.
StreamConsumer* CreateConsumer(CommandContext& ctx, StreamGroup& group, std::string_view name,
                               std::string_view key);

// A stream ID as a bulk string.
void SendStreamId(ReplyBuilder& rb, StreamID id);

}  // namespace keyward
