#include "server/storage/snapshot.h"

#include "server/persistence/rdb_codec.h"
#include "server/storage/rdb_format.h"

namespace keyward {

Snapshot::Snapshot(Keyspace& keyspace) : keyspace_(keyspace) { keyspace_.set_snapshot_guard(this); }

Snapshot::~Snapshot() { keyspace_.set_snapshot_guard(nullptr); }

void Snapshot::Start(std::string header, Sink sink, bool compress) {
  if (active_) {
    Discard();
    Finish();
  }
  mark_ = !mark_;
  active_ = true;
  sink_ = std::move(sink);
  compress_ = compress;
  buffer_ = std::move(header);
  stream_db_ = -1;
  walk_db_ = 0;
  walk_db_started_ = false;
  cursor_ = 0;
  entries_written_ = entries_saved_early_ = 0;
}

void Snapshot::Discard() {
  sink_ = nullptr;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

void Snapshot::Select(int db) {
  if (stream_db_ == db) return;
  rdb::AppendSelectDb(buffer_, db);
  stream_db_ = db;
}

void Snapshot::Write(int db, Entry* e) {
  e->set_snapshot_mark(mark_);
  if (!sink_) return;
  Select(db);
  rdb::AppendEntry(buffer_, *e, compress_);
  entries_written_++;
  if (buffer_.size() >= kChunkBytes) Flush();
}

void Snapshot::Flush() {
  if (sink_ && !buffer_.empty()) sink_(std::move(buffer_));
  buffer_.clear();
}

void Snapshot::SaveBefore(Database& db, Entry* e) {
  entries_saved_early_++;
  Write(db.index(), e);
}

void Snapshot::Drain(Database& db) {
  db.ForEach([&](Entry* e) {
    if (Pending(e)) Write(db.index(), e);
  });
}

void Snapshot::BeforeReset(Database& db, Database* other) {
  // Emptied: while writing, its pending entries go to the file first; while discarding they
  // simply leave with the database. Swapped: the walk may already have passed one of the two
  // indexes, so both are brought up to date now whatever the mode.
  if (other != nullptr || sink_) Drain(db);
}

bool Snapshot::Step(size_t max_entries) {
  if (!active_) return true;
  size_t visited = 0;
  while (walk_db_ < keyspace_.db_count()) {
    Database& db = keyspace_.db(walk_db_);
    if (!walk_db_started_) {
      walk_db_started_ = true;
      if (db.size() == 0) {
        walk_db_++;
        walk_db_started_ = false;
        continue;
      }
      if (sink_) {
        rdb::AppendSelectDb(buffer_, walk_db_);
        stream_db_ = walk_db_;
        rdb::AppendResizeDb(buffer_, db.size(), db.expires_count());
      }
    }
    do {
      cursor_ = db.Scan(cursor_, [&](Entry* e) {
        visited++;
        if (Pending(e)) Write(walk_db_, e);
      });
    } while (cursor_ != 0 && visited < max_entries);
    if (cursor_ != 0) return false;
    walk_db_++;
    walk_db_started_ = false;
    if (visited >= max_entries) return false;
  }
  if (sink_) {
    buffer_ += static_cast<char>(rdb::kOpcodeEof);
    Flush();
  }
  active_ = false;
  sink_ = nullptr;
  return true;
}

}  // namespace keyward
