#include "server/storage/snapshot.h"

#include "server/persistence/rdb_codec.h"
#include "server/storage/rdb_format.h"

namespace keyward {

void RdbSnapshotFormat::BeginDb(std::string& out, int db, uint64_t keys, uint64_t expires) {
  rdb::AppendSelectDb(out, db);
  rdb::AppendResizeDb(out, keys, expires);
}

void RdbSnapshotFormat::Select(std::string& out, int db) { rdb::AppendSelectDb(out, db); }

void RdbSnapshotFormat::AppendEntry(std::string& out, const Entry& e) {
  rdb::AppendEntry(out, e, compress_);
}

std::unique_ptr<ValueWriter> RdbSnapshotFormat::BeginEntry(std::string& out, const Entry& e,
                                                           bool* compress) {
  if (e.type() == ObjType::kString) {
    rdb::AppendEntry(out, e, compress_);
    return nullptr;
  }
  rdb::AppendEntryHeader(out, e, compress_);
  *compress = compress_;
  return e.value()->NewWriter();
}

void RdbSnapshotFormat::End(std::string& out) { out += static_cast<char>(rdb::kOpcodeEof); }

Snapshot::Snapshot(Keyspace& keyspace) : keyspace_(keyspace) { keyspace_.set_snapshot_guard(this); }

Snapshot::~Snapshot() { keyspace_.set_snapshot_guard(nullptr); }

void Snapshot::Start(std::string header, Sink sink, std::unique_ptr<SnapshotFormat> format) {
  if (active_) {
    Discard();
    Finish();
  }
  mark_ = !mark_;
  active_ = true;
  sink_ = std::move(sink);
  format_ = std::move(format);
  buffer_ = std::move(header);
  stream_db_ = -1;
  walk_db_ = 0;
  walk_db_started_ = false;
  slot_ = 0;
  pending_.assign(static_cast<size_t>(keyspace_.db_count()), 0);
  for (int i = 0; i < keyspace_.db_count(); i++)
    pending_[static_cast<size_t>(i)] = keyspace_.db(i).size();
  entries_written_ = 0;
}

void Snapshot::Discard() {
  current_ = Current();  // its entry stays pending: the walk comes back to it
  sink_ = nullptr;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

void Snapshot::Select(int db) {
  if (stream_db_ == db) return;
  format_->Select(buffer_, db);
  stream_db_ = db;
}

namespace {

// A value's pieces go straight into the snapshot's buffer.
class BufferSink : public ValueSink {
 public:
  BufferSink(std::string& out, bool compress) : out_(out), compress_(compress) {}
  void Write(std::string_view bytes) override { out_.append(bytes); }
  bool compress() const override { return compress_; }

 private:
  std::string& out_;
  bool compress_;
};

}  // namespace

void Snapshot::Write(int db, Entry* e, size_t budget) {
  if (!sink_) return Written(db, e);  // discarding: only the mark
  Select(db);
  bool compress = true;
  std::unique_ptr<ValueWriter> rest = format_->BeginEntry(buffer_, *e, &compress);
  if (rest == nullptr) return Written(db, e);
  current_ = Current{db, e, std::move(rest), compress};
  Continue(budget);
}

bool Snapshot::Continue(size_t budget) {
  BufferSink out(buffer_, current_.compress);
  const bool done = current_.writer->WriteSome(out, budget);
  if (!done) {
    if (buffer_.size() >= kChunkBytes) Flush();
    return false;
  }
  const int db = current_.db;
  Entry* e = current_.e;
  current_ = Current();
  Written(db, e);
  return true;
}

void Snapshot::Written(int db, Entry* e) {
  e->set_snapshot_mark(mark_);
  pending_[static_cast<size_t>(db)]--;
  if (!sink_) return;
  entries_written_++;
  if (buffer_.size() >= kChunkBytes) Flush();
}

void Snapshot::Flush() {
  if (sink_ && !buffer_.empty()) sink_(std::move(buffer_));
  buffer_.clear();
  buffer_.reserve(kChunkBytes + kChunkBytes / 4);
}

void Snapshot::SaveBefore(Database& db, Entry* e) {
  // A half-written record is finished first (it may be e's own).
  FinishCurrent();
  if (Pending(e)) Write(db.index(), e, SIZE_MAX);
}

void Snapshot::Drain(Database& db) {
  FinishCurrent();
  db.ForEach([&](Entry* e) {
    if (Pending(e)) Write(db.index(), e, SIZE_MAX);
  });
}

void Snapshot::BeforeReset(Database& db, Database* /*other*/) {
  // Emptied or swapped: its pending entries are dealt with now (written, or only marked while
  // discarding), both databases for a swap, since the walk may already have passed one of the
  // two indexes. Marking them even when they are about to go keeps the pending counts true for
  // whatever looks at them before they leave (WATCH's touch of a flushed key does).
  Drain(db);
}

bool Snapshot::Step(size_t max_entries) {
  if (!active_) return true;
  size_t visited = 0;
  // Empty buckets cost a look each: a sparse table must not make a step unbounded either.
  size_t slots = 0;
  const size_t max_slots = max_entries > SIZE_MAX / 4 ? SIZE_MAX : max_entries * 4;
  const size_t budget =
      max_entries > SIZE_MAX / kElementsPerEntry ? SIZE_MAX : max_entries * kElementsPerEntry;
  while (walk_db_ < keyspace_.db_count()) {
    Database& db = keyspace_.db(walk_db_);
    const size_t index = static_cast<size_t>(walk_db_);
    if (!walk_db_started_) {
      walk_db_started_ = true;
      slot_ = 0;
      if (pending_[index] > 0 && sink_) {
        format_->BeginDb(buffer_, walk_db_, db.size(), db.expires_count());
        stream_db_ = walk_db_;
      }
    }
    while (pending_[index] > 0 && visited < max_entries && slots < max_slots) {
      if (current_.writer != nullptr) {
        // A big value goes on where the last step left it; nothing else until it is done.
        if (!Continue(budget)) return false;
        visited++;
        continue;
      }
      if (slot_ >= db.slot_count()) slot_ = 0;  // another pass: the table resized under us
      visited += db.VisitSlot(slot_, [&](Entry* e) {
        if (current_.writer == nullptr && Pending(e)) Write(walk_db_, e, budget);
      });
      // A value left half written: this slot is visited again once it is done, for the rest of
      // its chain.
      if (current_.writer == nullptr) slot_++;
      slots++;
    }
    if (pending_[index] > 0) return false;
    walk_db_++;
    walk_db_started_ = false;
    if (visited >= max_entries || slots >= max_slots) return false;
  }
  if (sink_) {
    format_->End(buffer_);
    Flush();
  }
  active_ = false;
  sink_ = nullptr;
  return true;
}

}  // namespace keyward
