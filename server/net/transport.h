// The narrow interface between the server and the network layer. The server sees a connection
// only as a Transport; the network layer sees the server only as a Session (one per connection)
// created by a SessionFactory.
//
// Lifetime rules both sides rely on:
// - The network layer owns each connection (and through it the Session and the server's Client)
//   from accept until close; pending I/O does not keep it alive, so a connection that is not
//   reading (CLIENT PAUSE) stays valid.
// - Every close, by either side, reaches Session::OnClosed exactly once, and the server drops its
//   raw Client pointers there. The only exception is the event loop's destruction at exit, which
//   happens after the Server is gone.
// - Output is written only between commands, never in the middle of one: a close requested by
//   the running command (QUIT, CLIENT KILL of itself, SHUTDOWN) takes effect after it returns.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace keyward::net {

class Transport {
 public:
  virtual ~Transport() = default;
  // Bytes to send; appended by the server, written by Flush.
  virtual std::string& output() = 0;
  // Output accepted but not yet handed to the kernel: output() plus a write in progress. What
  // client-output-buffer-limit bounds.
  virtual size_t pending_output() const = 0;
  // Writes pending output: immediately if the socket accepts it, else in the background.
  virtual void Flush() = 0;
  // Closes once the pending output is written (QUIT, protocol errors).
  virtual void CloseAfterFlush() = 0;
  // Closes now, dropping pending output (CLIENT KILL, limits).
  virtual void Close() = 0;
  // Stops or resumes processing (CLIENT PAUSE). While stopped, input is still received and
  // offered to the session, which consumes none of it (so it can still enforce its buffer
  // limits); resuming re-processes the buffered input.
  virtual void SetReading(bool reading) = 0;
  virtual size_t buffered_input() const = 0;
  // Bytes allocated for input: what is buffered plus the room for the next read (CLIENT LIST's
  // qbuf + qbuf-free).
  virtual size_t input_capacity() const { return buffered_input(); }
  // Shrinks the input allocation to `capacity` bytes, never below what is buffered; 0 frees it
  // until the next bytes arrive. The server's cron decides when (Redis's query buffer resizing).
  virtual void ShrinkInput(size_t capacity) {}
  virtual std::string peer_address() const = 0;  // "127.0.0.1:40922" or "/tmp/k.sock:0"
  virtual std::string local_address() const = 0;
  virtual int fd() const = 0;
  virtual bool is_unix() const = 0;
  virtual bool is_loopback() const = 0;
};

class Session {
 public:
  virtual ~Session() = default;
  // `input` holds every unconsumed byte received so far; returns how many bytes were used.
  virtual size_t OnInput(std::string_view input) = 0;
  // The connection is gone (closed by either side); the transport is not usable any more.
  virtual void OnClosed() = 0;
  // Total size of the incomplete command at the start of the input, when known (a big bulk
  // argument announced by its header), so the connection can size its buffer once, exactly.
  virtual size_t PendingCommandSize() const { return 0; }
};

using SessionFactory = std::function<std::unique_ptr<Session>(Transport& transport)>;

}  // namespace keyward::net
