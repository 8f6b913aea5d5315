// The one ordered stream of effects: every change the dataset goes through, as commands a replay
// applies to reach the same state. Its consumers are the AOF, the replication backlog and replicas
// (later issues), and tests that rebuild a server from it.
//
// What enters the stream:
// - writes in their absolute form (relative times rewritten to PXAT/PEXPIREAT by the families);
// - DEL (or UNLINK) for keys that expire or are evicted;
// - Keyward's coordination state as commands of its own (LOCK.RECORD, LOCK.FLOOR): fencing
//   counters and guard marks live outside the keyspace, and a replica or an AOF must hold the
//   same ones;
// - SELECT whenever the database of the next command differs from the last one emitted; the
//   stream owns that state, so no producer ever writes SELECT itself;
// - MULTI ... EXEC around an execution unit that produced more than one command (a script, a
//   transaction, a write that also expired a key, a fenced acquisition), as Redis 7.0's
//   propagatePendingCommands does, so consumers apply the unit atomically.
//
// An execution unit is a top-level command with everything it runs nested (scripts'
// redis.call, LOCK.GUARD's write), one served blocked client, one timer, one expired key of the
// active cycle. Its effects are collected and emitted when the unit ends.
//
// The dirty counter (changes since the last save, INFO's rdb_changes_since_last_save) lives here
// too: it counts what the stream would carry, whether or not anyone consumes it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

using Argv = std::vector<std::string>;

class PropagationConsumer {
 public:
  virtual ~PropagationConsumer() = default;
  // One command of the stream, in order; SELECT, MULTI and EXEC are commands like the others.
  virtual void OnCommand(const Argv& argv) = 0;
  // An execution unit holds its first effect, which reaches OnCommand when the unit ends (a busy
  // script may serve other clients before that: the AOF holds their output from here on).
  virtual void OnPending() {}
  // Whether it also receives the commands meant for replicas only (PUBLISH).
  virtual bool replica() const { return false; }
};

class Propagation {
 public:
  void AddConsumer(PropagationConsumer* consumer);
  void RemoveConsumer(PropagationConsumer* consumer);
  // Whether anyone receives the stream: producers may skip building commands when not.
  bool active() const { return !consumers_.empty(); }

  // Execution units nest; effects are emitted when the outermost one ends.
  void BeginUnit() { depth_++; }
  void EndUnit();
  bool in_unit() const { return depth_ > 0; }
  // Whether the current unit holds effects it will emit when it ends.
  bool has_pending() const { return !pending_.empty(); }

  // Adds a command of database `db` to the current unit (emitted at once outside any unit). A
  // command of no database (db < 0: Keyward's coordination state) needs no SELECT.
  void Add(int db, Argv argv);
  void Add(int db, std::initializer_list<std::string_view> argv);
  // A command for replicas only, of no database (PUBLISH: Redis propagates it to replicas, never
  // to the AOF).
  void AddForReplicas(Argv argv);
  // A key deleted by the server itself (expiry, eviction): DEL, or UNLINK when freed lazily.
  void Delete(int db, std::string_view key, bool lazy = false);

  // The next command is preceded by SELECT whatever the last database was (a consumer that joins
  // mid-stream, an AOF rewrite).
  void ForceSelect() { selected_db_ = -1; }

  // Changes since start (or the last save).
  void AddDirty(uint64_t n) { dirty_ += n; }
  uint64_t dirty() const { return dirty_; }
  void set_dirty(uint64_t dirty) { dirty_ = dirty; }

  // Bytes emitted so far, counted as their RESP encoding (what a replication offset counts).
  uint64_t offset() const { return offset_; }

 private:
  struct Pending {
    int db;
    Argv argv;
    bool replicas_only = false;
  };
  void Emit(int db, const Argv& argv, bool replicas_only = false);
  void Deliver(const Argv& argv, bool replicas_only = false);

  std::vector<PropagationConsumer*> consumers_;
  std::vector<Pending> pending_;
  int depth_ = 0;
  int selected_db_ = -1;
  uint64_t dirty_ = 0;
  uint64_t offset_ = 0;
};

// One execution unit for as long as it lives.
class UnitScope {
 public:
  explicit UnitScope(Propagation& p) : p_(p) { p_.BeginUnit(); }
  ~UnitScope() { p_.EndUnit(); }
  UnitScope(const UnitScope&) = delete;
  UnitScope& operator=(const UnitScope&) = delete;

 private:
  Propagation& p_;
};

// The RESP multibulk encoding of a command, as the stream's consumers write it.
std::string EncodeCommand(const Argv& argv);
size_t EncodedSize(const Argv& argv);

}  // namespace keyward
