// A connection with no socket: what is written to it stays in a string for the caller to read
// (the scripting engines' redis.call, a replay's client). Nothing is ever flushed or closed.
#pragma once

#include <string>

#include "server/net/transport.h"

namespace keyward {

class CaptureTransport : public net::Transport {
 public:
  std::string& output() override { return out_; }
  size_t pending_output() const override { return 0; }
  void Flush() override {}
  void CloseAfterFlush() override {}
  void Close() override {}
  void SetReading(bool) override {}
  size_t buffered_input() const override { return 0; }
  std::string peer_address() const override { return ""; }
  std::string local_address() const override { return ""; }
  int fd() const override { return -1; }
  bool is_unix() const override { return false; }
  bool is_loopback() const override { return true; }

 private:
  std::string out_;
};

}  // namespace keyward
