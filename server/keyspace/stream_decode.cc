#include "server/keyspace/stream_decode.h"

#include <string>
#include <string_view>

#include "server/core/strings.h"

namespace keyward {

namespace {

constexpr uint8_t kStreamListpacks = 15;
constexpr int64_t kFlagDeleted = 1;
constexpr int64_t kFlagSameFields = 2;

// An element that must be an integer (lpGetIntegerIfValid).
bool IntAt(const Listpack& lp, uint32_t pos, int64_t* v) {
  if (pos == Listpack::kEnd) return false;
  LpElement e = lp.Get(pos);
  if (e.is_int) {
    *v = e.value;
    return true;
  }
  return ParseInt64(e.str, v);
}

// Walks a node as streamValidateListpackIntegrity does: every count fits in the node (so no
// arithmetic on them can overflow, and no walk can run off its end), each entry has the elements
// its flags and field count say and ends with the matching lp-count, and the node's live and
// deleted counts are what its entries say. Live entries must come in increasing ID order across
// the stream (`*last_live`, updated); deleted ones may lie anywhere (XSETID may move the last ID
// back below them, as Redis allows). Adds the live entries to *live.
bool ValidNode(StreamID master, const Listpack& lp, std::optional<StreamID>* last_live,
               uint64_t* live) {
  const int64_t elements_in_node = static_cast<int64_t>(lp.size());
  auto count_ok = [elements_in_node](int64_t n) { return n >= 0 && n <= elements_in_node; };
  int64_t count, deleted, master_fields, v;
  uint32_t p = lp.First();
  if (!IntAt(lp, p, &count) || !count_ok(count)) return false;
  p = lp.Next(p);
  if (!IntAt(lp, p, &deleted) || !count_ok(deleted)) return false;
  p = lp.Next(p);
  if (!IntAt(lp, p, &master_fields) || !count_ok(master_fields)) return false;
  for (int64_t j = 0; j < master_fields; j++) {
    p = lp.Next(p);
    if (p == Listpack::kEnd) return false;
  }
  p = lp.Next(p);
  if (!IntAt(lp, p, &v) || v != 0) return false;  // the master entry's terminator
  int64_t seen_live = 0, seen_deleted = 0;
  for (p = lp.Next(p); p != Listpack::kEnd; p = lp.Next(p)) {
    int64_t flags, ms_delta, seq_delta, fields = master_fields;
    int64_t elements = 3;
    if (!IntAt(lp, p, &flags)) return false;
    p = lp.Next(p);
    if (!IntAt(lp, p, &ms_delta)) return false;
    p = lp.Next(p);
    if (!IntAt(lp, p, &seq_delta)) return false;
    StreamID id = master;
    id.ms += static_cast<uint64_t>(ms_delta);
    id.seq += static_cast<uint64_t>(seq_delta);
    if (!(flags & kFlagDeleted)) {
      if (last_live->has_value() && id <= **last_live) return false;
      *last_live = id;
    }
    int64_t to_walk = fields;
    if (!(flags & kFlagSameFields)) {
      p = lp.Next(p);
      if (!IntAt(lp, p, &fields) || !count_ok(fields)) return false;
      elements += 1 + fields;
      to_walk = fields * 2;
    }
    elements += fields;
    for (int64_t j = 0; j < to_walk; j++) {
      p = lp.Next(p);
      if (p == Listpack::kEnd) return false;
    }
    p = lp.Next(p);
    if (!IntAt(lp, p, &v) || v != elements) return false;  // lp-count
    if (flags & kFlagDeleted) {
      seen_deleted++;
    } else {
      seen_live++;
    }
  }
  if (seen_live != count || seen_deleted != deleted) return false;
  *live += static_cast<uint64_t>(count);
  return true;
}

std::optional<StreamID> ReadId(rdb::Reader& in) {
  auto ms = in.Len();
  auto seq = in.Len();
  if (!ms || !seq) return std::nullopt;
  return StreamID{*ms, *seq};
}

std::optional<StreamID> ReadRawId(rdb::Reader& in) {
  auto raw = in.Bytes(16);
  if (!raw) return std::nullopt;
  return StreamID::Decode(raw->data());
}

}  // namespace

std::unique_ptr<StreamValue> DecodeStream(uint8_t rdb_type, rdb::Reader& in) {
  const bool v2 = rdb_type != kStreamListpacks;
  auto s = std::make_unique<StreamValue>();
  auto nodes = in.Len();
  if (!nodes) return nullptr;
  std::optional<StreamID> last_live;
  uint64_t live = 0;
  for (uint64_t i = 0; i < *nodes; i++) {
    auto key = in.String();
    if (!key || key->size() != 16) return nullptr;
    auto blob = in.String();
    if (!blob) return nullptr;
    std::optional<Listpack> lp = Listpack::FromBytes(*blob);
    if (!lp || lp->empty()) return nullptr;
    const StreamID master = StreamID::Decode(key->data());
    if (!ValidNode(master, *lp, &last_live, &live)) return nullptr;
    // Node keys in increasing order (a radix tree's), each once: AddNode refuses others.
    if (!s->AddNode(master, std::move(*lp))) return nullptr;
  }
  auto length = in.Len();
  auto last_id = ReadId(in);
  if (!length || !last_id || *length != live) return nullptr;
  // New entries go after the last ID: it may not be below a live entry.
  if (last_live && *last_live > *last_id) return nullptr;
  s->set_length(*length);
  s->set_last_id(*last_id);
  if (v2) {
    auto first_id = ReadId(in);
    auto max_deleted = ReadId(in);
    auto entries_added = in.Len();
    if (!first_id || !max_deleted || !entries_added) return nullptr;
    s->set_first_id(*first_id);
    s->set_max_deleted_id(*max_deleted);
    s->set_entries_added(*entries_added);
  } else {
    // Before 7.0 nothing was counted: the stream starts counting from what it holds, and its
    // first ID is its first live entry's (the maximum ID when it has none, as streamGetEdgeID
    // answers then).
    s->set_entries_added(*length);
    s->set_first_id(s->EdgeID(true, true));
  }

  auto groups = in.Len();
  if (!groups) return nullptr;
  for (uint64_t g = 0; g < *groups; g++) {
    auto name = in.String();
    auto group_id = ReadId(in);
    if (!name || !group_id) return nullptr;
    int64_t entries_read;
    if (v2) {
      auto n = in.Len();
      if (!n) return nullptr;
      entries_read = static_cast<int64_t>(*n);
    } else {
      entries_read = s->EstimateDistanceFromFirstEverEntry(*group_id);
    }
    StreamGroup* group = s->CreateGroup(*name, *group_id, entries_read);
    if (group == nullptr) return nullptr;  // a duplicate group name
    auto pel_size = in.Len();
    if (!pel_size) return nullptr;
    for (uint64_t j = 0; j < *pel_size; j++) {
      auto id = ReadRawId(in);
      auto delivery_time = in.LittleEndian(8);
      auto delivery_count = in.Len();
      if (!id || !delivery_time || !delivery_count) return nullptr;
      auto nack = std::make_unique<StreamNack>();
      nack->delivery_time = static_cast<int64_t>(*delivery_time);
      nack->delivery_count = *delivery_count;
      if (!group->pel.emplace(*id, std::move(nack)).second) return nullptr;
    }
    auto consumers = in.Len();
    if (!consumers) return nullptr;
    for (uint64_t c = 0; c < *consumers; c++) {
      auto cname = in.String();
      auto seen_time = in.LittleEndian(8);
      if (!cname || !seen_time) return nullptr;
      StreamConsumer* consumer = group->CreateConsumer(*cname, static_cast<int64_t>(*seen_time));
      if (consumer == nullptr) return nullptr;  // a duplicate consumer
      auto owned = in.Len();
      if (!owned) return nullptr;
      for (uint64_t j = 0; j < *owned; j++) {
        auto id = ReadRawId(in);
        if (!id) return nullptr;
        auto it = group->pel.find(*id);
        // Each pending entry of the group, owned by exactly one consumer.
        if (it == group->pel.end() || it->second->consumer != nullptr) return nullptr;
        it->second->consumer = consumer;
        consumer->pel.emplace(*id, it->second.get());
      }
    }
    for (const auto& [id, nack] : group->pel) {
      if (nack->consumer == nullptr) return nullptr;
    }
  }
  return s;
}

}  // namespace keyward
