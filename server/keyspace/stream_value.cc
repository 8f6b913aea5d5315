#include "server/keyspace/stream_value.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "server/core/strings.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {

namespace {

constexpr int64_t kFlagDeleted = 1;
constexpr int64_t kFlagSameFields = 2;
// STREAM_LISTPACK_MAX_SIZE: no node grows past 1 GiB whatever stream-node-max-bytes says.
constexpr int64_t kListpackMaxSize = int64_t{1} << 30;

// lpGetInteger: stream listpacks hold their numbers as integers; a string that is not one
// (only a corrupt node could have it) reads as 0.
int64_t GetInt(const Listpack& lp, uint32_t pos) {
  LpElement e = lp.Get(pos);
  if (e.is_int) return e.value;
  int64_t v = 0;
  ParseInt64(e.str, &v);
  return v;
}

// The node's last entry's ID, tombstones included (lpGetEdgeStreamID with first=0).
StreamID NodeLastId(StreamID master, const Listpack& lp) {
  uint32_t p = lp.Last();
  int64_t lp_count = GetInt(lp, p);
  if (lp_count == 0) return master;  // only the master entry: cannot happen in a live node
  while (lp_count--) p = lp.Prev(p);
  p = lp.Next(p);  // the ms delta (p was at the flags)
  StreamID id = master;
  id.ms += static_cast<uint64_t>(GetInt(lp, p));
  p = lp.Next(p);
  id.seq += static_cast<uint64_t>(GetInt(lp, p));
  return id;
}

}  // namespace

// --- StreamID -----------------------------------------------------------------------------------

bool StreamID::Incr() {
  if (seq == UINT64_MAX) {
    if (ms == UINT64_MAX) {
      ms = seq = 0;
      return false;
    }
    ms++;
    seq = 0;
  } else {
    seq++;
  }
  return true;
}

bool StreamID::Decr() {
  if (seq == 0) {
    if (ms == 0) {
      ms = seq = UINT64_MAX;
      return false;
    }
    ms--;
    seq = UINT64_MAX;
  } else {
    seq--;
  }
  return true;
}

std::string StreamID::ToString() const {
  char buf[42];
  char* p = std::to_chars(buf, buf + 20, ms).ptr;
  *p++ = '-';
  p = std::to_chars(p, buf + sizeof(buf), seq).ptr;
  return std::string(buf, p);
}

void StreamID::Encode(char out[16]) const {
  for (int i = 0; i < 8; i++) {
    out[i] = static_cast<char>(ms >> (56 - 8 * i));
    out[8 + i] = static_cast<char>(seq >> (56 - 8 * i));
  }
}

StreamID StreamID::Decode(const char in[16]) {
  StreamID id;
  for (int i = 0; i < 8; i++) {
    id.ms = (id.ms << 8) | static_cast<uint8_t>(in[i]);
    id.seq = (id.seq << 8) | static_cast<uint8_t>(in[8 + i]);
  }
  return id;
}

// --- Groups -------------------------------------------------------------------------------------

StreamConsumer* StreamGroup::FindConsumer(std::string_view name) const {
  auto it = consumers.find(name);
  return it == consumers.end() ? nullptr : it->second.get();
}

StreamConsumer* StreamGroup::CreateConsumer(std::string_view name, int64_t now_ms) {
  auto [it, inserted] = consumers.try_emplace(std::string(name));
  if (!inserted) return nullptr;
  it->second = std::make_unique<StreamConsumer>(std::string(name), now_ms);
  return it->second.get();
}

void StreamGroup::DeleteConsumer(StreamConsumer* consumer) {
  for (const auto& [id, nack] : consumer->pel) pel.erase(id);
  consumers.erase(consumer->name());
}

void StreamGroup::RemoveNack(std::map<StreamID, std::unique_ptr<StreamNack>>::iterator it) {
  if (it->second->consumer != nullptr) it->second->consumer->pel.erase(it->first);
  pel.erase(it);
}

// --- Nodes --------------------------------------------------------------------------------------

size_t StreamNodes::UpperBound(StreamID id) const {
  const StreamNode* it = std::upper_bound(
      begin(), end(), id, [](StreamID a, const StreamNode& n) { return a < n.master; });
  return static_cast<size_t>(it - begin());
}

void StreamNodes::PushBack(StreamID master, Listpack lp) {
  if (v_.size() == v_.capacity()) {
    // Drop the removed nodes first, then grow by a quarter: a growing stream's spare capacity
    // stays under a quarter of a node handle per node.
    if (head_ > 0) {
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    if (v_.size() == v_.capacity()) v_.reserve(v_.capacity() + v_.capacity() / 4 + 4);
  }
  v_.push_back(StreamNode{master, std::move(lp)});
}

void StreamNodes::Erase(size_t i) {
  if (i == 0) {
    Listpack gone = std::move(v_[head_].lp);  // frees the node's bytes now
    head_++;
    if (head_ == v_.size()) {
      v_.clear();
      head_ = 0;
    } else if (head_ >= 32 && head_ * 2 >= v_.size()) {
      v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  } else {
    v_.erase(v_.begin() + static_cast<std::ptrdiff_t>(head_ + i));
  }
  if (v_.capacity() > 4 * v_.size() + 16) v_.shrink_to_fit();
}

// --- Iterator -----------------------------------------------------------------------------------

StreamValue::Iterator::Iterator(const StreamValue& s, StreamID start, StreamID end, bool rev)
    : s_(&s), start_(start), end_(end), rev_(rev) {
  const StreamNodes& nodes = s.nodes_;
  // The node that may hold the first ID to visit: the last whose master ID is not above it
  // (raxSeek "<="), else the first (forwards) or last (backwards) node.
  const StreamID from = rev ? end : start;
  node_ = nodes.UpperBound(from);
  if (node_ != 0) {
    --node_;
  } else if (rev && !nodes.empty()) {
    node_ = nodes.size() - 1;
  }
}

bool StreamValue::Iterator::Next(StreamID* id, int64_t* num_fields) {
  if (done_) return false;
  const StreamNodes& nodes = s_->nodes_;
  while (true) {
    if (!in_node_) {
      if (!started_) {
        started_ = true;
        if (node_ >= nodes.size()) return false;
      } else if (!rev_) {
        if (++node_ >= nodes.size()) return false;
      } else {
        if (node_ == 0) return false;
        --node_;
      }
      master_id_ = nodes[node_].master;
      lp_ = &nodes[node_].lp;
      uint32_t p = lp_->Next(lp_->Next(lp_->First()));  // count, deleted, num-fields
      master_fields_ = GetInt(*lp_, p);
      p = lp_->Next(p);
      master_fields_start_ = p;
      if (!rev_) {
        for (int64_t i = 0; i < master_fields_; i++) p = lp_->Next(p);
        pos_ = p;  // the master entry's terminating 0, the "lp-count" before the first entry
      } else {
        pos_ = lp_->Last();
      }
      in_node_ = true;
      fields_left_ = 0;
    } else if (!rev_) {
      // Past what Field() left of the entry emitted last, to its lp-count.
      int64_t skip = (entry_flags_ & kFlagSameFields) ? fields_left_ : fields_left_ * 2;
      uint32_t p = field_pos_;
      for (int64_t i = 0; i < skip; i++) p = lp_->Next(p);
      pos_ = p;
      fields_left_ = 0;
    } else {
      pos_ = lp_->Prev(flags_pos_);  // the previous entry's lp-count
    }

    while (true) {
      uint32_t p;
      if (!rev_) {
        p = lp_->Next(pos_);
        if (p == Listpack::kEnd) break;
      } else {
        int64_t lp_count = GetInt(*lp_, pos_);
        if (lp_count == 0) break;  // the master entry
        p = pos_;
        while (lp_count--) p = lp_->Prev(p);
      }
      flags_pos_ = p;
      const int64_t flags = GetInt(*lp_, p);
      p = lp_->Next(p);
      StreamID cur = master_id_;
      cur.ms += static_cast<uint64_t>(GetInt(*lp_, p));
      p = lp_->Next(p);
      cur.seq += static_cast<uint64_t>(GetInt(*lp_, p));
      p = lp_->Next(p);
      int64_t n;
      if (flags & kFlagSameFields) {
        n = master_fields_;
      } else {
        n = GetInt(*lp_, p);
        p = lp_->Next(p);
      }
      const bool live = !skip_tombstones_ || !(flags & kFlagDeleted);
      if (!rev_ ? (cur >= start_ && live) : (cur <= end_ && live)) {
        if (!rev_ ? cur > end_ : cur < start_) {
          done_ = true;  // past the range
          return false;
        }
        entry_flags_ = flags;
        field_pos_ = p;
        master_field_ = master_fields_start_;
        fields_left_ = n;
        *id = cur;
        *num_fields = n;
        return true;
      }
      if (!rev_) {
        int64_t skip = (flags & kFlagSameFields) ? n : n * 2;
        for (int64_t i = 0; i < skip; i++) p = lp_->Next(p);
        pos_ = p;
      } else {
        pos_ = lp_->Prev(flags_pos_);
      }
    }
    in_node_ = false;
  }
}

void StreamValue::Iterator::Field(LpElement* field, LpElement* value) {
  if (entry_flags_ & kFlagSameFields) {
    *field = lp_->Get(master_field_);
    master_field_ = lp_->Next(master_field_);
  } else {
    *field = lp_->Get(field_pos_);
    field_pos_ = lp_->Next(field_pos_);
  }
  *value = lp_->Get(field_pos_);
  field_pos_ = lp_->Next(field_pos_);
  fields_left_--;
}

// --- The stream ---------------------------------------------------------------------------------

StreamValue::~StreamValue() = default;

std::unique_ptr<Value> StreamValue::Clone() const {
  auto copy = std::make_unique<StreamValue>();
  copy->nodes_ = nodes_;
  copy->length_ = length_;
  copy->last_id_ = last_id_;
  copy->first_id_ = first_id_;
  copy->max_deleted_id_ = max_deleted_id_;
  copy->entries_added_ = entries_added_;
  for (const auto& [name, group] : groups_) {
    StreamGroup* g = copy->CreateGroup(name, group->last_id, group->entries_read);
    for (const auto& [id, nack] : group->pel) {
      auto n = std::make_unique<StreamNack>(*nack);
      n->consumer = nullptr;
      g->pel.emplace(id, std::move(n));
    }
    for (const auto& [cname, consumer] : group->consumers) {
      StreamConsumer* c = g->CreateConsumer(cname, consumer->seen_time);
      for (const auto& [id, nack] : consumer->pel) {
        StreamNack* n = g->pel.at(id).get();
        n->consumer = c;
        c->pel.emplace(id, n);
      }
    }
  }
  return copy;
}

size_t StreamValue::MemoryUsage() const {
  size_t total = sizeof(*this);
  for (const auto& [id, lp] : nodes_) total += sizeof(StreamNode) + lp.MemoryUsage();
  for (const auto& [name, group] : groups_) {
    total += 32 + sizeof(std::string) + name.capacity() + sizeof(StreamGroup);
    total += group->pel.size() * (32 + sizeof(StreamID) + 8 + sizeof(StreamNack));
    for (const auto& [cname, consumer] : group->consumers) {
      total += 32 + 2 * sizeof(std::string) + 2 * cname.capacity() + sizeof(StreamConsumer);
      total += consumer->pel.size() * (32 + sizeof(StreamID) + 8);
    }
  }
  return total;
}

size_t StreamValue::FreeEffort() const {
  // lazyfreeGetFreeEffort: the nodes, and each group with its PEL (the first group's PEL size
  // standing for every group's).
  size_t effort = nodes_.size();
  if (!groups_.empty()) effort += groups_.size() * (1 + groups_.begin()->second->pel.size());
  return effort;
}

// rdbSaveObject for RDB_TYPE_STREAM_LISTPACKS_2: the node count, each node's key and listpack (a
// piece is a run of whole nodes), then the counters and the groups in one piece.
class StreamValue::Writer : public ValueWriter {
 public:
  explicit Writer(const StreamValue& s) : s_(s) {}
  bool WriteSome(ValueSink& out, size_t budget) override {
    std::string bytes;
    if (!started_) {
      rdb::AppendLength(bytes, s_.nodes_.size());
      started_ = true;
    }
    size_t written = 0;
    while (next_ < s_.nodes_.size() && (written == 0 || written < budget)) {
      const StreamNode& node = s_.nodes_[next_++];
      char key[16];
      node.master.Encode(key);
      rdb::AppendString(bytes, std::string_view(key, 16), out.compress());
      rdb::AppendString(bytes, node.lp.raw(), out.compress());
      written += node.lp.size();
    }
    if (next_ < s_.nodes_.size()) {
      out.Write(bytes);
      return false;
    }
    s_.AppendTail(bytes, out.compress());
    out.Write(bytes);
    return true;
  }

 private:
  const StreamValue& s_;
  bool started_ = false;
  size_t next_ = 0;
};

std::unique_ptr<ValueWriter> StreamValue::NewWriter() const {
  return std::make_unique<Writer>(*this);
}

void StreamValue::Serialise(ValueSink& out) const { SerialiseWithWriter(*this, out); }

void StreamValue::AppendTail(std::string& bytes, bool compress) const {
  rdb::AppendLength(bytes, length_);
  rdb::AppendLength(bytes, last_id_.ms);
  rdb::AppendLength(bytes, last_id_.seq);
  rdb::AppendLength(bytes, first_id_.ms);
  rdb::AppendLength(bytes, first_id_.seq);
  rdb::AppendLength(bytes, max_deleted_id_.ms);
  rdb::AppendLength(bytes, max_deleted_id_.seq);
  rdb::AppendLength(bytes, entries_added_);
  rdb::AppendLength(bytes, groups_.size());
  for (const auto& [name, group] : groups_) {
    rdb::AppendString(bytes, name, compress);
    rdb::AppendLength(bytes, group->last_id.ms);
    rdb::AppendLength(bytes, group->last_id.seq);
    rdb::AppendLength(bytes, static_cast<uint64_t>(group->entries_read));
    rdb::AppendLength(bytes, group->pel.size());
    for (const auto& [id, nack] : group->pel) {
      char raw[16];
      id.Encode(raw);
      bytes.append(raw, 16);
      rdb::AppendLittleEndian(bytes, static_cast<uint64_t>(nack->delivery_time), 8);
      rdb::AppendLength(bytes, nack->delivery_count);
    }
    rdb::AppendLength(bytes, group->consumers.size());
    for (const auto& [cname, consumer] : group->consumers) {
      rdb::AppendString(bytes, cname, compress);
      rdb::AppendLittleEndian(bytes, static_cast<uint64_t>(consumer->seen_time), 8);
      rdb::AppendLength(bytes, consumer->pel.size());
      for (const auto& [id, nack] : consumer->pel) {
        char raw[16];
        id.Encode(raw);
        bytes.append(raw, 16);
      }
    }
  }
}

StreamValue::AppendResult StreamValue::Append(std::span<const std::string_view> field_values,
                                              const StreamID* use_id, bool seq_given,
                                              int64_t now_ms, const NodeLimits& limits,
                                              StreamID* added) {
  StreamID id;
  if (use_id != nullptr) {
    if (seq_given) {
      id = *use_id;
    } else if (last_id_.ms == use_id->ms) {
      // <ms>-*: the next sequence of the last ID's millisecond. Redis 7.0 fails this one
      // without setting errno, so XADD reports it as "too large".
      if (last_id_.seq == UINT64_MAX) return AppendResult::kTooLarge;
      id = last_id_;
      id.seq++;
    } else {
      id = *use_id;
    }
  } else {
    // streamNextID: the clock's millisecond, never going back.
    uint64_t ms = static_cast<uint64_t>(now_ms);
    if (ms > last_id_.ms) {
      id = {ms, 0};
    } else {
      id = last_id_;
      id.Incr();
    }
  }
  if (id <= last_id_) return AppendResult::kIdTooSmall;

  const size_t num_fields = field_values.size() / 2;
  size_t total_len = 0;
  for (std::string_view s : field_values) total_len += s.size();
  if (total_len > static_cast<size_t>(kListpackMaxSize)) return AppendResult::kTooLarge;

  Listpack* lp = nodes_.empty() ? nullptr : &nodes_.back().lp;
  // After XSETID moved the last ID back below deleted entries, the new ID may not be above the
  // last node's master ID: it then goes into that node, full or not, so nodes stay in order.
  if (lp != nullptr && id <= nodes_.back().master &&
      lp->bytes() + total_len + 16 * (field_values.size() + 4) >
          static_cast<size_t>(kListpackMaxSize)) {
    return AppendResult::kTooLarge;  // that node cannot take it
  }
  if (lp != nullptr && id > nodes_.back().master) {
    int64_t max_bytes = limits.max_bytes;
    if (max_bytes <= 0 || max_bytes > kListpackMaxSize) max_bytes = kListpackMaxSize;
    if (static_cast<int64_t>(lp->bytes() + total_len) >= max_bytes) {
      lp = nullptr;
    } else if (limits.max_entries != 0) {
      uint32_t first = lp->First();
      if (GetInt(*lp, first) + GetInt(*lp, lp->Next(first)) >= limits.max_entries) lp = nullptr;
    }
  }

  std::string entry;
  int64_t flags = 0;
  StreamID master_id;
  if (lp == nullptr) {
    master_id = id;
    nodes_.PushBack(id, Listpack());
    lp = &nodes_.back().lp;
    Listpack::EncodeInt(entry, 1);  // one entry, this one
    Listpack::EncodeInt(entry, 0);  // none deleted
    Listpack::EncodeInt(entry, static_cast<int64_t>(num_fields));
    for (size_t i = 0; i < num_fields; i++) Listpack::EncodeElement(entry, field_values[2 * i]);
    Listpack::EncodeInt(entry, 0);  // the master entry's terminator
    lp->AppendEncoded(entry, num_fields + 4);
    entry.clear();
    flags = kFlagSameFields;
  } else {
    master_id = nodes_.back().master;
    uint32_t p = lp->First();
    lp->ReplaceInt(p, GetInt(*lp, p) + 1);
    p = lp->Next(lp->Next(lp->First()));  // master num-fields
    if (GetInt(*lp, p) == static_cast<int64_t>(num_fields)) {
      size_t i = 0;
      for (; i < num_fields; i++) {
        p = lp->Next(p);
        if (!lp->Get(p).Equals(field_values[2 * i])) break;
        // Equals compares an integer element with the canonical form only, as memcmp of
        // Redis's lpGet output does.
      }
      if (i == num_fields) flags = kFlagSameFields;
    }
  }

  Listpack::EncodeInt(entry, flags);
  Listpack::EncodeInt(entry, static_cast<int64_t>(id.ms - master_id.ms));
  Listpack::EncodeInt(entry, static_cast<int64_t>(id.seq - master_id.seq));
  size_t elements = 3;
  if (!(flags & kFlagSameFields)) {
    Listpack::EncodeInt(entry, static_cast<int64_t>(num_fields));
    elements++;
  }
  for (size_t i = 0; i < num_fields; i++) {
    if (!(flags & kFlagSameFields)) {
      Listpack::EncodeElement(entry, field_values[2 * i]);
      elements++;
    }
    Listpack::EncodeElement(entry, field_values[2 * i + 1]);
    elements++;
  }
  Listpack::EncodeInt(entry, static_cast<int64_t>(elements));  // lp-count
  lp->AppendEncoded(entry, elements + 1);

  length_++;
  entries_added_++;
  last_id_ = id;
  if (length_ == 1) first_id_ = id;
  if (added != nullptr) *added = id;
  return AppendResult::kOk;
}

int64_t StreamValue::Trim(const StreamTrim& trim) {
  using Strategy = StreamTrim::Strategy;
  if (trim.strategy == Strategy::kNone) return 0;
  int64_t deleted = 0;
  // Always the head node: a node removed makes the next one the head.
  while (!nodes_.empty()) {
    if (trim.strategy == Strategy::kMaxLen && length_ <= static_cast<uint64_t>(trim.maxlen)) {
      break;
    }
    StreamNode& node = nodes_[0];
    Listpack& lp = node.lp;
    uint32_t p = lp.First();
    const int64_t entries = GetInt(lp, p);
    if (trim.limit && deleted + entries > trim.limit) break;

    bool remove_node;
    if (trim.strategy == Strategy::kMaxLen) {
      remove_node = length_ - entries >= static_cast<uint64_t>(trim.maxlen);
    } else {
      remove_node = NodeLastId(node.master, lp) < trim.minid;
    }
    if (remove_node) {
      nodes_.Erase(0);
      length_ -= entries;
      deleted += entries;
      continue;
    }
    if (trim.approx) break;

    // Flag entries deleted inside this node, from its head.
    const StreamID master = node.master;
    int64_t deleted_here = 0;
    p = lp.Next(lp.Next(p));
    const int64_t master_fields = GetInt(lp, p);
    p = lp.Next(p);
    for (int64_t j = 0; j < master_fields; j++) p = lp.Next(p);
    p = lp.Next(p);  // past the master entry's terminator: the first entry's flags
    while (p != Listpack::kEnd) {
      const uint32_t flags_pos = p;
      const int64_t flags = GetInt(lp, p);
      uint32_t q = lp.Next(p);
      StreamID cur = master;
      cur.ms += static_cast<uint64_t>(GetInt(lp, q));
      q = lp.Next(q);
      cur.seq += static_cast<uint64_t>(GetInt(lp, q));
      const bool stop = trim.strategy == Strategy::kMaxLen
                            ? length_ <= static_cast<uint64_t>(trim.maxlen)
                            : cur >= trim.minid;
      if (stop) break;
      if (!(flags & kFlagDeleted)) {
        lp.ReplaceInt(flags_pos, flags | kFlagDeleted);
        deleted_here++;
        length_--;
      }
      // Past the entry, walked from its flags again: the replacement may have changed their
      // size (a loaded node may store a flag in a wider form than Redis writes).
      p = lp.Next(lp.Next(lp.Next(flags_pos)));  // ms and seq deltas: p is at the fields
      int64_t to_skip;
      if (flags & kFlagSameFields) {
        to_skip = master_fields;
      } else {
        to_skip = GetInt(lp, p) * 2;
        p = lp.Next(p);
      }
      while (to_skip--) p = lp.Next(p);
      p = lp.Next(p);  // past lp-count
    }
    deleted += deleted_here;
    p = lp.First();
    lp.ReplaceInt(p, entries - deleted_here);
    p = lp.Next(p);
    lp.ReplaceInt(p, GetInt(lp, p) + deleted_here);
    break;  // enough was deleted in this node
  }
  if (length_ == 0) {
    first_id_ = StreamID::Min();
  } else if (deleted) {
    first_id_ = EdgeID(true, true);
  }
  return deleted;
}

bool StreamValue::Exists(StreamID id) const {
  Iterator it(*this, id, id, false);
  StreamID found;
  int64_t n;
  return it.Next(&found, &n);
}

bool StreamValue::Delete(StreamID id) {
  Iterator it(*this, id, id, false);
  StreamID found;
  int64_t n;
  if (!it.Next(&found, &n)) return false;
  RemoveAt(it);
  return true;
}

void StreamValue::RemoveAt(const Iterator& it) {
  Listpack& lp = nodes_[it.node_].lp;
  lp.ReplaceInt(it.flags_pos_, it.entry_flags_ | kFlagDeleted);
  uint32_t p = lp.First();
  const int64_t live = GetInt(lp, p);
  if (live == 1) {
    nodes_.Erase(it.node_);
  } else {
    lp.ReplaceInt(p, live - 1);
    p = lp.Next(p);
    lp.ReplaceInt(p, GetInt(lp, p) + 1);
  }
  length_--;
}

StreamID StreamValue::EdgeID(bool first, bool skip_tombstones) const {
  Iterator it(*this, StreamID::Min(), StreamID::Max(), !first);
  it.skip_tombstones_ = skip_tombstones;
  StreamID id;
  int64_t n;
  if (it.Next(&id, &n)) return id;
  return first ? StreamID::Max() : StreamID::Min();
}

void StreamValue::RefreshFirstId() {
  first_id_ = length_ == 0 ? StreamID::Min() : EdgeID(true, true);
}

bool StreamValue::AddNode(StreamID master_id, Listpack lp) {
  // Nodes come in ID order: a master ID at or below the last one is refused.
  if (!nodes_.empty() && master_id <= nodes_.back().master) return false;
  nodes_.PushBack(master_id, std::move(lp));
  return true;
}

size_t StreamValue::RaxNodeCount() const {
  // Redis's radix tree of these 16-byte keys: a node at the root, one per key (its leaf), one
  // per prefix where keys branch, and a compressed node for every single-child chain between a
  // branching node and the next branching node or leaf below it; the root is itself that chain
  // when the keys do not branch at their first byte. So, over the tree's "top" nodes (branching
  // prefixes and leaves): 1 for the root, plus for each top node other than the root 1, and 1
  // more when it lies more than a byte below its parent top node (a chain in between). The
  // branching prefixes are the LCP intervals of the sorted keys, found with a stack in O(n).
  const size_t n = nodes_.size();
  if (n == 0) return 1;
  std::vector<int> lcp(n + 1, -1);  // lcp[i]: common prefix of keys i-1 and i; -1 at the ends
  char prev[16], cur[16];
  nodes_[0].master.Encode(prev);
  int min_lcp = 16;
  for (size_t i = 1; i < n; i++) {
    nodes_[i].master.Encode(cur);
    int l = 0;
    while (l < 16 && prev[l] == cur[l]) l++;
    lcp[i] = l;
    min_lcp = std::min(min_lcp, l);
    std::memcpy(prev, cur, 16);
  }
  // A top node `depth` bytes down whose parent top node is `parent_depth` down (-1: none above).
  const bool root_branches = n > 1 && min_lcp == 0;
  size_t count = 1;  // the root
  auto add_top = [&](int depth, int parent_depth) {
    if (depth == 0) return;  // the root, already counted
    count++;
    const bool under_plain_root = parent_depth <= 0 && !root_branches;
    if (!under_plain_root && depth > parent_depth + 1) count++;  // the chain to it
  };
  for (size_t i = 0; i < n; i++) add_top(16, std::max(lcp[i], lcp[i + 1]));  // the leaves
  // LCP intervals: an interval of depth L closes when the LCP drops below L; its parent is the
  // deeper of the enclosing interval and the LCP that closed it.
  std::vector<int> open = {0};
  for (size_t i = 1; i <= n; i++) {
    const int l = lcp[i];
    while (!open.empty() && l < open.back()) {
      const int depth = open.back();
      open.pop_back();
      add_top(depth, std::max(open.empty() ? -1 : open.back(), l));
    }
    if (l > (open.empty() ? -1 : open.back())) open.push_back(l);
  }
  return count;
}

StreamGroup* StreamValue::FindGroup(std::string_view name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second.get();
}

StreamGroup* StreamValue::CreateGroup(std::string_view name, StreamID last_id,
                                      int64_t entries_read) {
  auto [it, inserted] = groups_.try_emplace(std::string(name));
  if (!inserted) return nullptr;
  it->second = std::make_unique<StreamGroup>(last_id, entries_read);
  return it->second.get();
}

bool StreamValue::DestroyGroup(std::string_view name) {
  auto it = groups_.find(name);
  if (it == groups_.end()) return false;
  groups_.erase(it);
  return true;
}

bool StreamValue::RangeHasTombstones(StreamID start, StreamID end) const {
  if (length_ == 0 || max_deleted_id_.IsZero()) return false;
  if (first_id_ > max_deleted_id_) return false;  // the latest tombstone is before the first entry
  return start <= max_deleted_id_ && max_deleted_id_ <= end;
}

int64_t StreamValue::EstimateDistanceFromFirstEverEntry(StreamID id) const {
  constexpr int64_t kInvalid = StreamGroup::kInvalidEntriesRead;
  if (entries_added_ == 0) return 0;
  if (length_ == 0 && id <= last_id_) return static_cast<int64_t>(entries_added_);
  if (id == last_id_) return static_cast<int64_t>(entries_added_);
  if (id > last_id_) return kInvalid;
  if (max_deleted_id_.IsZero() || max_deleted_id_ < first_id_) {
    if (id < first_id_) return static_cast<int64_t>(entries_added_ - length_);
    if (id == first_id_) return static_cast<int64_t>(entries_added_ - length_ + 1);
  }
  return kInvalid;
}

std::optional<int64_t> StreamValue::Lag(const StreamGroup& group) const {
  // Redis 7.0.15's streamReplyWithCGLag (later releases special-case empty streams and groups
  // behind the first entry; 7.0 does not, so a group's lag can even be negative).
  if (entries_added_ == 0) return 0;
  if (group.entries_read != StreamGroup::kInvalidEntriesRead &&
      !RangeHasTombstones(group.last_id, StreamID::Max())) {
    return WrappingSub(static_cast<int64_t>(entries_added_), group.entries_read);
  }
  int64_t read = EstimateDistanceFromFirstEverEntry(group.last_id);
  if (read == StreamGroup::kInvalidEntriesRead) return std::nullopt;
  return WrappingSub(static_cast<int64_t>(entries_added_), read);
}

}  // namespace keyward
