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
  sink_ = nullptr;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

void Snapshot::Select(int db) {
  if (stream_db_ == db) return;
  format_->Select(buffer_, db);
  stream_db_ = db;
}

void Snapshot::Write(int db, Entry* e) {
  e->set_snapshot_mark(mark_);
  pending_[static_cast<size_t>(db)]--;
  if (!sink_) return;
  Select(db);
  format_->AppendEntry(buffer_, *e);
  entries_written_++;
  if (buffer_.size() >= kChunkBytes) Flush();
}

void Snapshot::Flush() {
  if (sink_ && !buffer_.empty()) sink_(std::move(buffer_));
  buffer_.clear();
  buffer_.reserve(kChunkBytes + kChunkBytes / 4);
}

void Snapshot::SaveBefore(Database& db, Entry* e) { Write(db.index(), e); }

void Snapshot::Drain(Database& db) {
  db.ForEach([&](Entry* e) {
    if (Pending(e)) Write(db.index(), e);
  });
}

void Snapshot::BeforeReset(Database& db, Database* other) {
  // Emptied: while writing, its pending entries go to the file first; while discarding they
  // simply leave with the database. Swapped: the walk may already have passed one of the two
  // indexes, so both are brought up to date now whatever the mode.
  if (other != nullptr || sink_) {
    Drain(db);
  } else {
    pending_[static_cast<size_t>(db.index())] = 0;  // they leave unwritten
  }
}

bool Snapshot::Step(size_t max_entries) {
  if (!active_) return true;
  size_t visited = 0;
  // Empty buckets cost a look each: a sparse table must not make a step unbounded either.
  size_t slots = 0;
  const size_t max_slots = max_entries > SIZE_MAX / 4 ? SIZE_MAX : max_entries * 4;
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
      if (slot_ >= db.slot_count()) slot_ = 0;  // another pass: the table resized under us
      visited += db.VisitSlot(slot_++, [&](Entry* e) {
        if (Pending(e)) Write(walk_db_, e);
      });
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
