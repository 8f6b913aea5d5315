// Facts about the running server that several parts read: its identity, when it started, and the
// states that make the gatekeeper refuse commands (loading a dataset, being a read-only replica,
// shutting down). Persistence and replication set the flags; the gatekeeper reads them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keyward {

class Client;
class ServerHost;

// A script running past busy-reply-threshold, as the gatekeeper and SCRIPT/FUNCTION KILL see it.
struct BusyScript {
  Client* runner = nullptr;     // its client: the only one not refused meanwhile
  bool function = false;        // FCALL (FUNCTION KILL) rather than EVAL (SCRIPT KILL)
  const bool* wrote = nullptr;  // has run a write command: it cannot be killed
  bool* kill = nullptr;         // set by SCRIPT KILL / FUNCTION KILL / SHUTDOWN
  std::string name;             // the function's name (FUNCTION STATS)
  std::vector<std::string> command;
  int64_t start_ms = 0;
};

struct ServerState {
  std::string run_id;         // 40 hex characters, new at every start
  int64_t start_time_ms = 0;  // server time at start
  // The replication IDs (INFO master_replid, master_replid2) and the offset up to which the
  // second is valid (second_repl_offset, -1: none). The first is random at start, apart from
  // run_id, and new after DEBUG CHANGE-REPL-ID, which also clears the second.
  std::string replid;
  std::string replid2 = std::string(40, '0');
  int64_t second_replid_offset = -1;
  // Memory in use once the server was set up, before any client (INFO used_memory_startup).
  size_t used_memory_startup = 0;
  // Loading a dataset (RDB or AOF): clients get -LOADING except for commands flagged loading.
  bool loading = false;
  // A replica loading its master's RDB beside the dataset it serves (repl-diskless-load swapdb
  // with the same replication history): commands flagged no-async-loading get -LOADING.
  bool async_loading = false;
  // A replica of another server: writes from anyone but the master get -READONLY while
  // replica-read-only is on, and while its link is down commands not flagged stale get
  // -MASTERDOWN if replica-serve-stale-data is off.
  bool replica = false;
  bool master_link_up = false;
  // A master: replicas whose last ACK is at most min-replicas-max-lag seconds old (writes get
  // -NOREPLICAS while fewer than min-replicas-to-write).
  int64_t good_replicas = 0;
  // The replication stream's offset (INFO master_repl_offset): bytes fed to it while a backlog
  // exists, on a replica the master's offset it has applied.
  int64_t master_repl_offset = 0;
  // SHUTDOWN was requested: a running script stops at its next check.
  bool shutting_down = false;
  // The script past busy-reply-threshold, if any (set and cleared by the scripting engines).
  // Meanwhile other clients get -BUSY, and no timer or cron runs: nothing may change what it
  // reads.
  std::optional<BusyScript> busy_script;
  // The process hosting the server (main.cc's event loop); nullptr in tests.
  ServerHost* host = nullptr;
};

}  // namespace keyward
