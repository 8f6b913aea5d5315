// Output to clients: finishing a client's own reply (CLIENT REPLY modes, byte counts, output
// limits) and delivering to clients other than the one running the command (pub/sub messages,
// keyspace notifications, MONITOR lines, replies of served blocked clients).
//
// Write once per batch: output for other clients is appended, checked against the receiver's
// client-output-buffer-limit and queued for a flush; ProcessDeferred empties the queue after each
// client's input batch, each timer and each cron tick, so a pipeline of 16 PUBLISHes costs a
// subscriber one write, not 16. A receiver over its limit is flagged kCloseAsap, gets nothing
// more and is closed by ProcessDeferred: closing it on the spot would unsubscribe it from the very
// list a PUBLISH is walking.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "server/core/settings.h"
#include "server/engine/client.h"
#include "server/engine/client_registry.h"
#include "server/engine/host.h"
#include "server/engine/stats.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

class ReplyOutput;

// One reply to a client, from start to finish. Under CLIENT REPLY OFF or SKIP the reply is built
// aside and dropped, while pushes (pub/sub messages, subscription confirmations) written to the
// connection meanwhile still go out, as in Redis 7.0; a command that turns replies back on
// (CLIENT REPLY ON) gets its reply delivered. When the scope ends, the client's reply mode
// advances (SKIP covers exactly one command), the bytes are counted and its limit is checked.
class ReplyScope {
 public:
  ReplyScope(ReplyOutput& output, Client& c, bool deferred = false);
  ~ReplyScope();
  ReplyScope(const ReplyScope&) = delete;
  ReplyScope& operator=(const ReplyScope&) = delete;
  // The command was held back (CLIENT PAUSE): nothing was replied and the mode does not advance.
  void Abandon() { abandoned_ = true; }

 private:
  ReplyOutput& output_;
  Client& c_;
  bool deferred_;
  size_t before_;
  bool silenced_;
  bool was_skip_;
  bool abandoned_ = false;
  std::string* previous_sink_;
  std::string aside_;
};

class ReplyOutput {
 public:
  ReplyOutput(const ServerSettings& settings, ServerStats& stats, ClientRegistry& clients,
              const Keyspace& keyspace)
      : settings_(settings), stats_(stats), clients_(clients), keyspace_(keyspace) {}
  void set_host(ServerHost* host) { host_ = host; }

  // After a client's own reply (or refusal) was written from output offset `before` on: the
  // bytes are counted and the client's output limit checked.
  void FinishReply(Client& c, size_t before);
  // The same for a reply written outside the client's own input processing (a served blocked
  // client, a timeout): it is also queued for a flush.
  void FinishDeferredReply(Client& c, size_t before);
  // Output for a client other than the one running the command.
  void SendToOther(Client& c, std::string_view bytes);
  // Closes clients over their output limits and flushes those that received output; first runs
  // the work registered with BeforeFlush (Redis's beforeSleep: BCAST invalidations).
  void ProcessDeferred();
  void BeforeFlush(std::function<void()> work) { before_flush_.push_back(std::move(work)); }
  // Asks for ProcessDeferred soon: after the current input batch, or by a posted task outside
  // any client's input.
  void PostDeferred();

  // client-output-buffer-limit: false (and the client is scheduled for closing) when over. Also
  // for output held for a client elsewhere (Client::held_output) as it grows.
  bool CheckLimit(Client& c);

 private:
  // Writes the output of the clients in `pending` (emptied).
  void Flush(std::vector<uint64_t>& pending);
  void ScheduleFlush(Client& c);

  const ServerSettings& settings_;
  ServerStats& stats_;
  ClientRegistry& clients_;
  const Keyspace& keyspace_;
  ServerHost* host_ = nullptr;
  std::vector<uint64_t> pending_flush_;  // clients that received output from others
  // Replicas are written once per event-loop turn, not after every client's batch (Redis writes
  // them in beforeSleep): with many writers, one write per replica per turn.
  std::vector<uint64_t> pending_replica_flush_;
  bool replica_flush_posted_ = false;
  void FlushReplicas();
  std::vector<uint64_t> close_asap_;  // clients over their output buffer limit
  bool deferred_posted_ = false;
  std::vector<std::function<void()>> before_flush_;
};

}  // namespace keyward
