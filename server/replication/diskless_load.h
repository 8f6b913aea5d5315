// repl-diskless-load: a replica parses its master's RDB straight from the socket instead of
// writing it to disk first, as Redis 7.0 does (readSyncBulkPayload with a connection rio).
//
// - SocketRdbSource feeds rdb::Reader: first the bytes the event loop had already read, then
//   blocking reads of the link's socket (poll with repl-timeout), at most the announced size
//   ("$<len>", so the stream behind it stays in the socket) or up to the end of the payload
//   (the "$EOF:<mark>" form, after which the master sends nothing before the replica's ACK).
//   The loader's progress handler serves other clients meanwhile (-LOADING), as Redis's
//   processEventsWhileBlocked; the link's own socket is not read by the event loop then.
// - DatasetReplacement is what the load replaces (below): emptied (on-empty-db), moved aside
//   and put back on failure (swapdb), or loaded beside and swapped in (swapdb, same history).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/clock.h"
#include "server/keyspace/keyspace.h"

namespace keyward {

class FunctionEngine;

class SocketRdbSource {
 public:
  // `fd` is a descriptor of the link's socket, which the source owns (closes); `limit` the
  // payload's bytes still to read (-1: up to the EOF mark); `initial` what was read already
  // (copied).
  SocketRdbSource(int fd, int64_t limit, std::string_view initial, int64_t timeout_ms)
      : fd_(fd), limit_(limit), initial_(initial), timeout_ms_(timeout_ms) {}
  ~SocketRdbSource();
  SocketRdbSource(const SocketRdbSource&) = delete;
  SocketRdbSource& operator=(const SocketRdbSource&) = delete;

  // rdb::Reader::Source.
  bool Pull(std::string& buf, size_t want);
  // Bytes read from the socket so far, and why reading stopped ("" while it has not).
  int64_t socket_bytes() const { return socket_bytes_; }
  const std::string& error() const { return error_; }

 private:
  int fd_;
  int64_t limit_;
  std::string initial_;
  int64_t timeout_ms_;
  int64_t socket_bytes_ = 0;
  std::string error_;
};

// What a load from the socket replaces, in each of repl-diskless-load's ways:
//   kFlush  (on-empty-db) the dataset is emptied first; a load that fails leaves it empty.
//   kSwapdb the dataset (keys and libraries) is moved aside first, put back if the load fails,
//           freed if it succeeds.
//   kAsync  (swapdb, same history) the load goes into a data set beside the served one (its
//           libraries collected), swapped in at the end; a load that fails leaves the served one
//           untouched.
// `replaced` is called when the served data set changes (to drop what clients cached of it).
class DatasetReplacement {
 public:
  enum class Mode { kFlush, kSwapdb, kAsync };
  DatasetReplacement(Mode mode, Keyspace& keyspace, FunctionEngine& functions,
                     const ServerSettings& settings, std::function<void()> replaced);
  // Before the load.
  void Begin();
  // Where the load goes: the served keyspace, or (kAsync) the one beside it.
  Keyspace& target() { return incoming_ ? *incoming_ : keyspace_; }
  // kAsync: the libraries' code, collected to be loaded at the swap (else nullptr: loaded as
  // they come).
  std::vector<std::string>* functions_sink() { return incoming_ ? &incoming_functions_ : nullptr; }
  // The load failed or was abandoned: nothing of it stays.
  void Undo();
  // The load succeeded.
  void Commit();

 private:
  // Empties the served data set and its function libraries.
  void ClearServed();
  // Empties `data` (a data set beside the served one), freeing it in the background with
  // replica-lazy-flush.
  void Discard(Keyspace& data);

  Mode mode_;
  Keyspace& keyspace_;
  FunctionEngine& functions_;
  const ServerSettings& settings_;
  std::function<void()> replaced_;
  std::unique_ptr<Keyspace> saved_;     // kSwapdb: the data set moved aside
  std::string saved_functions_;         // kSwapdb: FUNCTION DUMP's payload
  std::unique_ptr<Keyspace> incoming_;  // kAsync: the data set being loaded
  std::vector<std::string> incoming_functions_;
};

}  // namespace keyward
