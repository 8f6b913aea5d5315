// Client pauses: hold clients' commands (all, or those that may write) until a deadline or an
// unpause. A held client's command stays in its input buffer and runs when the pause ends.
// Pauses have purposes, as in Redis 7.0: CLIENT PAUSE / UNPAUSE, and FAILOVER's hold on writes
// while the target replica catches up; one ending leaves the others in force.
#pragma once

#include <cstdint>
#include <vector>

#include "server/engine/command.h"

namespace keyward {

class Client;
class ClientRegistry;

class ClientPause {
 public:
  enum class Purpose { kClientCommand, kFailover };
  explicit ClientPause(ClientRegistry& clients) : clients_(clients) {}

  // A new pause never shortens an existing one of the same purpose, and ALL wins over WRITE
  // (Redis's rules).
  void Pause(int64_t now_ms, int64_t until_ms, bool writes_only,
             Purpose purpose = Purpose::kClientCommand);
  // Ends the pause of `purpose`: held clients run their buffered commands (those another pause
  // still holds are held again).
  void Unpause(Purpose purpose = Purpose::kClientCommand);
  // The cron: ends pauses whose deadline passed.
  void Expire(int64_t now_ms);

  // Whether a command with `flags` (as it runs: CommandSpec::FlagsFor) is held now. CLIENT PAUSE
  // WRITE holds writes and commands that may write (EVAL, FCALL, PUBLISH: may-replicate).
  bool Holds(uint32_t flags, int64_t now_ms) const;
  // Whether writes are held now (active expiry waits too, as in Redis 7.0).
  bool HoldsWrites(int64_t now_ms) const { return Holds(CO::kWrite, now_ms); }
  // Holds `c` (its command stays in the buffer until the pause ends).
  void Hold(Client& c);
  void Forget(Client& c);
  // Clients held now (INFO blocked_clients counts them).
  size_t held() const { return held_.size(); }

 private:
  struct Slot {
    int64_t until_ms = 0;  // 0: none
    bool writes_only = false;
  };
  ClientRegistry& clients_;
  Slot slots_[2];
  std::vector<uint64_t> held_;
};

}  // namespace keyward
