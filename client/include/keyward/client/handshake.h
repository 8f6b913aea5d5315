// The connection set-up state machine: HELLO / AUTH / CLIENT SETNAME / SELECT. Sans-I/O: it
// produces the bytes to write and consumes parsed replies; the socket code performs its actions.
//
//   Handshake hs(config);
//   Write(hs.Start());
//   while (true) {
//     Handshake::Step step = hs.OnReply(ReadReply());
//     if (step.action == Handshake::Action::kWrite) Write(step.bytes);
//     else if (step.action == Handshake::Action::kDone) break;       // ready for commands
//     else if (step.action == Handshake::Action::kFailed) return hs.error();  // close it
//   }
//
// The sequence:
// 1. `HELLO 3 [AUTH user pass] [SETNAME name]`, alone. Credentials and name ride along, so a
//    RESP3 server is set up in one round trip (plus one for SELECT when db != 0).
// 2. If HELLO is refused with "ERR unknown command ..." or "NOPROTO ..." the server speaks RESP2
//    only (Redis < 6, or a proxy): one write pipelines `AUTH [user] pass` (when credentials are
//    configured), `CLIENT SETNAME name` (when a name is) and `SELECT db` (when db != 0), and their
//    replies are checked in order.
// 3. After a successful HELLO, `SELECT db` when db != 0 (HELLO has no db option).
//
// Round trips: HELLO is not pipelined with SELECT. Whether SELECT's reply would be meaningful
// depends on HELLO's outcome (an old server without a password would run the SELECT, then the
// fallback would send it again), so HELLO goes alone and SELECT follows; that is one step at a
// time, kept simple on purpose. The RESP2 fallback does pipeline its commands: the first error
// ends the handshake and the caller closes the connection, so later replies do not matter.
//
// In the fallback, AUTH is sent with one argument when the user is empty or "default": that is
// the only form Redis < 6 understands, and Redis 6+ treats it as the default user's password.
//
// Failure: the first error reply, or a reply of an unexpected shape, ends in kFailed. error() is
// ClientError::kAuthFailed when the server refused the credentials (WRONGPASS, NOAUTH, and the
// "ERR invalid password" of Redis < 6), kServerError for any other error reply (the text is in
// server_error()), and kWrongReplyType when a reply is not what the command answers (HELLO
// without a map, AUTH/SETNAME/SELECT without +OK). A reply when none is awaited (before Start(),
// after kDone or kFailed) is kProtocolError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "keyward/client/config.h"
#include "keyward/client/reply.h"
#include "keyward/client/reply_parser.h"

namespace keyward::client {

// What HELLO reported about the server (RESP3 path only).
struct ServerHello {
  std::string server;   // "redis", "keyward", ...
  std::string version;  // "7.0.15"
  int64_t id = 0;       // this connection's CLIENT ID
  std::string mode;     // "standalone", "sentinel", "cluster"
  std::string role;     // "master", "replica"
};

class Handshake {
 public:
  enum class Action {
    kWrite,      // write Step::bytes, then feed the replies
    kWaitReply,  // more replies are due for what was written
    kDone,       // the connection is ready for commands
    kFailed,     // see error() and server_error(); close the connection
  };
  struct Step {
    Action action;
    std::string bytes;  // kWrite only
  };

  explicit Handshake(ConnectionConfig config) : config_(std::move(config)) {}

  // The first bytes to write (HELLO). Calling it again restarts the handshake from scratch, as
  // on a new connection.
  std::string Start();

  // Feeds the next reply, in the order the server sent them.
  Step OnReply(const Reply& reply);

  // Feeds OnReply every complete reply `parser` holds, appending what must be written to *out.
  // kWaitReply: write *out, read, feed the parser, call again. kDone or kFailed: as OnReply (a
  // malformed reply fails the handshake with the parser's error). Both clients' connect loops
  // are this plus their own reads and writes.
  Action Drain(ReplyParser& parser, std::string* out);

  bool done() const { return phase_ == Phase::kDone; }
  bool failed() const { return phase_ == Phase::kFailed; }
  // 3 after a successful HELLO (or the "proto" HELLO reported), 2 after the RESP2 fallback, 0
  // before either is known.
  int protocol() const { return protocol_; }
  // Set once HELLO succeeded; absent on a RESP2 server.
  const std::optional<ServerHello>& server_hello() const { return hello_; }
  // Empty unless failed().
  std::error_code error() const { return error_; }
  // The server's error text (without the leading '-') when the failure was an error reply.
  const std::string& server_error() const { return server_error_; }
  // Human-readable detail of the failure (which command, what arrived), for logs.
  const std::string& error_detail() const { return error_detail_; }

 private:
  enum class Phase { kIdle, kHello, kAfterHello, kFallback, kDone, kFailed };
  // A command whose reply is awaited, in pipeline order.
  enum class Expect { kHello, kAuth, kSetName, kSelect };

  static std::string_view CommandName(Expect what);
  Step OnHelloReply(const Reply& reply);
  Step OnOkReply(Expect what, const Reply& reply);
  Step Advance();  // after an accepted reply: wait, finish, or write the next step
  Step Fail(std::error_code error, std::string detail);
  Step FailWithServerError(Expect what, const Reply& reply);
  bool has_credentials() const { return !config_.user.empty() || !config_.password.empty(); }

  ConnectionConfig config_;
  Phase phase_ = Phase::kIdle;
  std::vector<Expect> pending_;  // replies still due, oldest first
  size_t next_ = 0;              // index into pending_ of the next reply
  int protocol_ = 0;
  std::optional<ServerHello> hello_;
  std::error_code error_;
  std::string server_error_;
  std::string error_detail_;
};

}  // namespace keyward::client
