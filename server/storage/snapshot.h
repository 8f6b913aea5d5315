// A point-in-time snapshot of the whole keyspace in RDB form, written while the server keeps
// serving, without fork and without copying the dataset.
//
// Step() walks each database's buckets in memory order and writes each entry still pending; it
// counts the pending entries of every database, so a pass that missed some (the table resized
// under it) is followed by another, until none is left. Every entry
// carries a mark bit (keyspace/database.h, SnapshotGuard): starting a snapshot flips the mark the
// snapshot expects, so every existing entry becomes pending at once; an entry written gets the
// new mark, and so does any entry added meanwhile (it is not part of the snapshot). Before a
// pending entry is changed, replaced, removed or handed out by a lookup, the database calls
// SaveBefore, which writes it as it still is. So the file holds each key exactly once, as it was
// when the snapshot started, and the extra memory is the output buffer only.
//
// Records written out of the walk's order are preceded by a SELECTDB of their own database (an
// RDB file may select a database any number of times). Flushing or swapping a database while the
// snapshot runs first writes that database's pending entries (both databases for SWAPDB).
//
// A big value is written a piece at a time (Value::NewWriter), a few thousand elements a step, so
// that no single value stalls the event loop: the entry stays pending while its record is half
// written, the walk does not go past it, and anything that would touch it, or write another
// record, first finishes it (SaveBefore, a flush, a swap). With the command form of an AOF base
// (aof-use-rdb-preamble no) each record is still written at once.
//
// Discard() stops the output (FLUSHALL, a failed write) but the walk goes on, marking entries
// without writing them, so that every entry carries the same mark again when it ends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/keyspace/keyspace.h"

namespace keyward {

// The records a snapshot writes: RDB (RdbSnapshotFormat), or commands (an AOF base file without
// the RDB preamble, aof_format.h).
class SnapshotFormat {
 public:
  virtual ~SnapshotFormat() = default;
  // The walk enters database `db`, which holds `keys` keys, `expires` of them with a TTL.
  virtual void BeginDb(std::string& out, int db, uint64_t keys, uint64_t expires) = 0;
  // The records that follow belong to database `db` (one written out of the walk's order).
  virtual void Select(std::string& out, int db) = 0;
  virtual void AppendEntry(std::string& out, const Entry& e) = 0;
  // Writes the start of e's record and returns the writer of the rest (the value, a piece at a
  // time, into a sink that compresses strings as `*compress` says); nullptr when the whole
  // record was written at once.
  virtual std::unique_ptr<ValueWriter> BeginEntry(std::string& out, const Entry& e,
                                                  bool* compress) {
    AppendEntry(out, e);
    return nullptr;
  }
  // After the last record.
  virtual void End(std::string& out) = 0;
};

class RdbSnapshotFormat : public SnapshotFormat {
 public:
  explicit RdbSnapshotFormat(bool compress) : compress_(compress) {}
  void BeginDb(std::string& out, int db, uint64_t keys, uint64_t expires) override;
  void Select(std::string& out, int db) override;
  void AppendEntry(std::string& out, const Entry& e) override;
  std::unique_ptr<ValueWriter> BeginEntry(std::string& out, const Entry& e,
                                          bool* compress) override;
  void End(std::string& out) override;

 private:
  bool compress_;
};

class Snapshot : public SnapshotGuard {
 public:
  // Where the snapshot's bytes go, in chunks of about kChunkBytes.
  using Sink = std::function<void(std::string chunk)>;
  static constexpr size_t kChunkBytes = 256 * 1024;
  // The elements of a big value a step writes, per entry the step may write.
  static constexpr size_t kElementsPerEntry = 16;

  explicit Snapshot(Keyspace& keyspace);
  ~Snapshot() override;

  // Starts a snapshot whose file begins with `header` (magic, AUX fields, functions) and goes on
  // in `format`. A discarded snapshot still walking is completed first.
  void Start(std::string header, Sink sink, std::unique_ptr<SnapshotFormat> format);
  bool active() const { return active_; }
  // Walks on, writing up to about `max_entries` entries; true when every database is done (the
  // format's end was written: an RDB checksum is the sink's business) or the snapshot is not
  // running.
  bool Step(size_t max_entries);
  // Runs the walk to its end.
  void Finish() {
    while (!Step(SIZE_MAX)) {
    }
  }
  // Stops writing; the walk goes on (Step) only to put the marks right.
  void Discard();
  bool discarding() const { return active_ && !sink_; }
  // Entries written so far (INFO and tests).
  uint64_t entries_written() const { return entries_written_; }
  // Whether a record is half written (tests).
  bool value_in_progress() const { return current_.writer != nullptr; }

  // SnapshotGuard.
  void SaveBefore(Database& db, Entry* e) override;
  void BeforeReset(Database& db, Database* other) override;

 private:
  // Writes e's record, or starts it and leaves it half written after `budget` elements.
  void Write(int db, Entry* e, size_t budget);
  // Writes up to `budget` more elements of the half-written record; true when it is done.
  bool Continue(size_t budget);
  void FinishCurrent() {
    while (current_.writer != nullptr && !Continue(SIZE_MAX)) {
    }
  }
  // The record of e is complete.
  void Written(int db, Entry* e);
  void Select(int db);
  void Flush();
  void Drain(Database& db);

  // The record being written a piece at a time.
  struct Current {
    int db = 0;
    Entry* e = nullptr;
    std::unique_ptr<ValueWriter> writer;
    bool compress = true;
  };
  Current current_;

  Keyspace& keyspace_;
  Sink sink_;
  std::unique_ptr<SnapshotFormat> format_;
  std::string buffer_;
  int stream_db_ = -1;  // the database the output last selected
  int walk_db_ = 0;     // the database the walk is in
  bool walk_db_started_ = false;
  size_t slot_ = 0;                // the next bucket slot of walk_db_
  std::vector<uint64_t> pending_;  // per database: entries not written yet
  uint64_t entries_written_ = 0;
};

}  // namespace keyward
