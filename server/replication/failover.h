// FAILOVER, as Redis 7.0 runs it: a coordinated hand-over from this master to one of its
// replicas, without losing an acknowledged write.
//
//   FAILOVER [TO host port [FORCE]] [TIMEOUT ms]
//     waiting-for-sync: writes are paused (a pause of its own, which CLIENT UNPAUSE leaves in
//       force), with a TIMEOUT the replication PINGs too, so the stream stops growing; the
//       target (or the first replica to get there) catches up, which its ACKs show. A lock
//       delay still running here (promotion or restart) goes to the replicas first
//       (LOCK.HOLDOFF), so the one that takes over waits out the rest of it.
//     failover-in-progress: once a replica's ACK reaches master_repl_offset (or at the timeout
//       with FORCE) this server becomes a replica of it, asking "PSYNC <replid> <offset>
//       FAILOVER": the replica promotes itself (its history is this server's) and answers
//       +CONTINUE, and the pause ends: the paused writes now get -READONLY.
//     FAILOVER ABORT, the timeout without FORCE, or a target that refuses the PSYNC give up:
//       this server is (again) a master and the pause ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "server/coordination/lock_manager.h"
#include "server/core/clock.h"
#include "server/engine/pause.h"
#include "server/engine/propagation.h"

namespace keyward {

class Replication;

class Failover {
 public:
  enum class State { kNone, kWaitForSync, kInProgress };
  Failover(Replication& repl, ClientPause& pause, Clock& clock, const LockManager& locks,
           Propagation& propagation)
      : repl_(repl), pause_(pause), clock_(clock), locks_(locks), propagation_(propagation) {}

  // FAILOVER with its parsed arguments (`has_host` false: any replica; `timeout_ms` 0: none).
  // The error reply, or nullopt when the failover started.
  std::optional<std::string> Start(bool has_host, const std::string& host, int64_t port,
                                   int64_t timeout_ms, bool force);
  // FAILOVER ABORT and the failures: back to no failover, a master again.
  void Abort(const char* reason);
  // Checks the replicas' progress and the timeout (the cron, and after each ACK).
  void Update();
  // The target's reply to "PSYNC ... FAILOVER": accepted (+CONTINUE or +FULLRESYNC) or not.
  void PsyncReplied(bool accepted);

  State state() const { return state_; }
  // INFO master_failover_state.
  const char* StateName() const;

 private:
  // Becomes a replica of the target, asking it to take over.
  void HandOver();
  void Clear();

  Replication& repl_;
  ClientPause& pause_;
  Clock& clock_;
  const LockManager& locks_;
  Propagation& propagation_;
  State state_ = State::kNone;
  std::string target_host_;  // empty: the first replica that catches up
  int64_t target_port_ = 0;
  int64_t end_ms_ = 0;  // 0: no timeout
  bool force_ = false;
};

}  // namespace keyward
