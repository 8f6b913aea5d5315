#include "tests/support/command_test.h"

namespace keyward::test {

// A connection with no socket: output accumulates in a string the fixture reads back.
class TestTransport : public net::Transport {
 public:
  explicit TestTransport(Server& server) : session_(server.NewSession(*this)) {}
  ~TestTransport() override {
    if (!closed_) session_->OnClosed();
  }

  std::string& output() override { return out_; }
  // Nothing is ever written to a socket here: what the test has not read is pending.
  size_t pending_output() const override { return out_.size(); }
  void Flush() override {}
  void CloseAfterFlush() override { closed_ = true; }
  void Close() override {
    if (closed_) return;
    closed_ = true;
  }
  void SetReading(bool reading) override {
    reading_ = reading;
    if (reading) Pump();
  }
  size_t buffered_input() const override { return in_.size(); }
  std::string peer_address() const override { return "127.0.0.1:50000"; }
  std::string local_address() const override { return "127.0.0.1:6379"; }
  int fd() const override { return 8; }
  bool is_unix() const override { return false; }
  bool is_loopback() const override { return true; }

  void Feed(std::string_view bytes) {
    in_.append(bytes);
    Pump();
  }
  std::string TakeOutput() {
    std::string out;
    out.swap(out_);
    return out;
  }
  bool closed() const { return closed_; }
  bool reading() const { return reading_; }

 private:
  void Pump() {
    // Like the network layer, input reaches the session even while it is not reading (paused):
    // it consumes none of it then, but may close the connection over its buffer limit.
    if (closed_ || in_.empty()) return;
    size_t used = session_->OnInput(in_);
    in_.erase(0, used);
  }

  std::string in_, out_;
  bool closed_ = false, reading_ = true;
  std::unique_ptr<net::Session> session_;
};

namespace {

std::string Encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

}  // namespace

CommandTest::CommandTest() {
  Server::DeclareOptions(config_, settings_);
  settings_.enable_debug_command = static_cast<int>(DebugCommand::kYes);
  server_ = std::make_unique<Server>(&clock_, &config_, &settings_);
}

CommandTest::~CommandTest() {
  connections_.clear();
  server_.reset();
}

TestTransport& CommandTest::Connection(const std::string& name) {
  auto it = connections_.find(name);
  if (it == connections_.end()) {
    it = connections_.emplace(name, std::make_unique<TestTransport>(*server_)).first;
  }
  return *it->second;
}

Client& CommandTest::client(const std::string& connection) {
  Connection(connection);
  // The newest client with this transport: search the server's list.
  for (Client* c : server_->clients()) {
    if (c->transport() == connections_[connection].get()) return *c;
  }
  throw std::runtime_error("connection closed: " + connection);
}

std::string CommandTest::Send(std::string_view bytes, const std::string& connection) {
  TestTransport& t = Connection(connection);
  t.Feed(bytes);
  return t.TakeOutput();
}

std::string CommandTest::RunRaw(std::vector<std::string> args, const std::string& connection) {
  return Send(Encode(args), connection);
}

Resp CommandTest::Run(std::vector<std::string> args) { return Run("default", std::move(args)); }

Resp CommandTest::Run(const std::string& connection, std::vector<std::string> args) {
  std::string raw = RunRaw(std::move(args), connection);
  if (raw.empty()) return Resp{};  // no reply (CLIENT REPLY OFF, a paused client, ...)
  size_t used = 0;
  Resp r = ParseResp(raw, &used);
  EXPECT_EQ(used, raw.size()) << "more than one reply: " << raw;
  return r;
}

bool CommandTest::Closed(const std::string& connection) { return Connection(connection).closed(); }

void CommandTest::AdvanceMs(int64_t ms) {
  clock_.AdvanceMs(ms);
  server_->UpdateTime();
}

}  // namespace keyward::test
