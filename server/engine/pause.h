// CLIENT PAUSE: holds clients' commands (all, or those that may write) until a deadline or CLIENT
// UNPAUSE. A held client's command stays in its input buffer and runs when the pause ends.
#pragma once

#include <cstdint>
#include <vector>

#include "server/engine/command.h"

namespace keyward {

class Client;
class ClientRegistry;

class ClientPause {
 public:
  explicit ClientPause(ClientRegistry& clients) : clients_(clients) {}

  // A new pause never shortens an existing one, and ALL wins over WRITE (Redis's rules).
  void Pause(int64_t now_ms, int64_t until_ms, bool writes_only);
  // Ends the pause: held clients run their buffered commands.
  void Unpause();
  // The cron: ends a pause whose deadline passed.
  void Expire(int64_t now_ms) {
    if (until_ms_ != 0 && now_ms >= until_ms_) Unpause();
  }

  // Whether a command with `flags` (as it runs: CommandSpec::FlagsFor) is held now. CLIENT PAUSE
  // WRITE holds writes and commands that may write (EVAL, FCALL, PUBLISH: may-replicate).
  bool Holds(uint32_t flags, int64_t now_ms) const;
  // Holds `c` (its command stays in the buffer until the pause ends).
  void Hold(Client& c);
  void Forget(Client& c);

 private:
  ClientRegistry& clients_;
  int64_t until_ms_ = 0;
  bool writes_only_ = false;
  std::vector<uint64_t> held_;
};

}  // namespace keyward
