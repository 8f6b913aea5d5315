// repl-diskless-load: a replica parses its master's RDB straight from the socket instead of
// writing it to disk first, as Redis 7.0 does (readSyncBulkPayload with a connection rio).
//
// - SocketRdbSource feeds rdb::Reader: first the bytes the event loop had already read, then
//   blocking reads of the link's socket (poll with repl-timeout), at most the announced size
//   ("$<len>", so the stream behind it stays in the socket) or up to the end of the payload
//   (the "$EOF:<mark>" form, after which the master sends nothing before the replica's ACK).
//   The loader's progress handler serves other clients meanwhile (-LOADING), as Redis's
//   processEventsWhileBlocked; the link's own socket is not read by the event loop then.
// - DatasetBackup is swapdb: the current dataset (keys and function libraries) is moved aside
//   before the load, put back if the load fails, and freed once the new one is in place.
//   on-empty-db loads into an empty dataset only, so there is nothing to keep.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

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

// Empties `data`, a data set beside the live one: its entries are freed on `live`'s background
// freer with `lazy` (replica-lazy-flush), else here.
void DiscardDataset(Keyspace& data, Keyspace& live, bool lazy);

class DatasetBackup {
 public:
  DatasetBackup(Keyspace& keyspace, FunctionEngine& functions, const ServerSettings& settings);
  // Moves the dataset aside: the keyspace and the libraries are empty afterwards.
  void Take();
  // The load failed: what it loaded is dropped and the old dataset is back.
  void Restore();
  // The load succeeded: the old dataset is freed (in the background with replica-lazy-flush).
  void Discard();

 private:
  Keyspace& keyspace_;
  FunctionEngine& functions_;
  const ServerSettings& settings_;
  std::unique_ptr<Keyspace> saved_;
  std::string saved_functions_;  // FUNCTION DUMP's payload
};

}  // namespace keyward
