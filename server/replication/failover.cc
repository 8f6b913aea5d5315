#include "server/replication/failover.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "server/core/strings.h"
#include "server/replication/replication.h"

namespace keyward {

namespace {

// The replica at `host`:`port` (its announced or peer address and its listening port).
const ReplicationSource::Replica* FindReplica(const ReplicationSource& source,
                                              const std::string& host, int64_t port) {
  for (const auto& [id, r] : source.replicas()) {
    if (r.state == ReplicationSource::State::kHandshake) continue;
    if (r.listening_port == port && EqualsIgnoreCase(source.ReplicaIp(r), host)) return &r;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> Failover::Start(bool has_host, const std::string& host, int64_t port,
                                           int64_t timeout_ms, bool force) {
  if (state_ != State::kNone) return std::string("ERR FAILOVER already in progress.");
  if (repl_.is_replica()) return std::string("ERR FAILOVER is not valid when server is a replica.");
  if (repl_.source().replicas().empty()) {
    return std::string("ERR FAILOVER requires connected replicas.");
  }
  if (force && (timeout_ms == 0 || !has_host)) {
    return std::string(
        "ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
  }
  if (has_host) {
    const ReplicationSource::Replica* r =
        host.empty() ? nullptr : FindReplica(repl_.source(), host, port);
    if (r == nullptr) return std::string("ERR FAILOVER target HOST and PORT is not a replica.");
    if (r->state != ReplicationSource::State::kOnline) {
      return std::string("ERR FAILOVER target replica is not online.");
    }
    spdlog::info("FAILOVER requested to {}:{}.", host, port);
  } else {
    spdlog::info("FAILOVER requested to any replica.");
  }
  target_host_ = host;
  target_port_ = port;
  const int64_t now = clock_.NowMs();
  end_ms_ = timeout_ms > 0 ? now + timeout_ms : 0;
  force_ = force;
  state_ = State::kWaitForSync;
  // The replica that takes over grants no lock before this server would have (its promotion or
  // restart delay): the hold-off is in the stream the replica must acknowledge.
  if (const int64_t left = locks_.RestartDelayLeft(now); left > 0) {
    propagation_.AddForReplicas({"LOCK.HOLDOFF", std::to_string(left)});
  }
  // Writes wait, and so does active expiry; with a timeout the replication PINGs too (Redis
  // 7.0 holds them only then), so the offset the replicas must reach stops moving.
  pause_.Pause(now, std::numeric_limits<int64_t>::max(), /*writes_only=*/true,
               ClientPause::Purpose::kFailover);
  repl_.source().set_hold_pings(timeout_ms > 0);
  return std::nullopt;
}

void Failover::Update() {
  if (state_ != State::kWaitForSync) return;
  const int64_t now = clock_.NowMs();
  if (end_ms_ != 0 && end_ms_ <= now) {
    if (!force_) return Abort("Replica never caught up before timeout");
    spdlog::info("FAILOVER to {}:{} time out exceeded, failing over.", target_host_, target_port_);
    return HandOver();
  }
  const int64_t offset = repl_.state().master_repl_offset;
  const ReplicationSource& source = repl_.source();
  if (!target_host_.empty()) {
    const ReplicationSource::Replica* r = FindReplica(source, target_host_, target_port_);
    if (r == nullptr || r->ack_offset != offset) return;
  } else {
    const ReplicationSource::Replica* synced = nullptr;
    for (const auto& [id, r] : source.replicas()) {
      if (r.state == ReplicationSource::State::kOnline && r.ack_offset == offset &&
          !source.ReplicaIp(r).empty()) {
        synced = &r;
        break;
      }
    }
    if (synced == nullptr) return;
    target_host_ = source.ReplicaIp(*synced);
    target_port_ = synced->listening_port;
  }
  spdlog::info("Failover target {}:{} is synced, failing over.", target_host_, target_port_);
  HandOver();
}

void Failover::HandOver() {
  state_ = State::kInProgress;
  repl_.SetMaster(target_host_, static_cast<int>(target_port_), /*failover=*/true);
}

void Failover::PsyncReplied(bool accepted) {
  if (state_ != State::kInProgress) return;
  if (accepted) return Clear();
  Abort("Failover target rejected psync request");
}

void Failover::Abort(const char* reason) {
  if (state_ == State::kNone) return;
  if (!target_host_.empty()) {
    spdlog::info("FAILOVER to {}:{} aborted: {}", target_host_, target_port_, reason);
  } else {
    spdlog::info("FAILOVER to any replica aborted: {}", reason);
  }
  if (state_ == State::kInProgress) repl_.SetNoMaster();
  Clear();
}

void Failover::Clear() {
  state_ = State::kNone;
  target_host_.clear();
  target_port_ = 0;
  end_ms_ = 0;
  force_ = false;
  repl_.source().set_hold_pings(false);
  pause_.Unpause(ClientPause::Purpose::kFailover);
}

const char* Failover::StateName() const {
  switch (state_) {
    case State::kNone:
      return "no-failover";
    case State::kWaitForSync:
      return "waiting-for-sync";
    case State::kInProgress:
      return "failover-in-progress";
  }
  return "unknown";
}

}  // namespace keyward
