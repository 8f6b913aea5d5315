// The read side of client connections: a net::Session per connection that parses what arrives
// and hands each command to the executor, enforcing the query buffer limit and answering
// protocol errors; commands of a client held by CLIENT PAUSE or blocked wait in its buffer.
#pragma once

#include <memory>
#include <string_view>

#include "server/core/settings.h"
#include "server/engine/client_registry.h"
#include "server/engine/executor.h"
#include "server/engine/output.h"
#include "server/engine/stats.h"
#include "server/net/transport.h"

namespace keyward {

class Sessions {
 public:
  Sessions(const ServerSettings& settings, ServerStats& stats, ClientRegistry& clients,
           Executor& executor, ReplyOutput& output, const Keyspace& keyspace)
      : settings_(settings),
        stats_(stats),
        clients_(clients),
        executor_(executor),
        output_(output),
        keyspace_(keyspace) {}

  // The session of a new connection (the network layer's SessionFactory).
  std::unique_ptr<net::Session> Open(net::Transport& transport);
  // Processes the commands in `input`; returns the bytes consumed.
  size_t ProcessInput(Client& c, std::string_view input);
  // A client's pending replies are about to be written (INFO total_writes_processed).
  void CountWrite() { stats_.total_writes_processed++; }

 private:
  // Prefetches the keys of the next pipelined requests in `input` (request_scan.h); returns the
  // bytes of the requests looked at.
  size_t PrefetchKeys(const Client& c, std::string_view input) const;

  const ServerSettings& settings_;
  ServerStats& stats_;
  ClientRegistry& clients_;
  Executor& executor_;
  ReplyOutput& output_;
  const Keyspace& keyspace_;
};

}  // namespace keyward
