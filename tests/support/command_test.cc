#include "tests/support/command_test.h"

#include "server/core/strings.h"
#include "tests/support/test_values.h"

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
  // Like the network layer, resuming does not process the buffered input on the spot: it is
  // posted, and the fixture pumps it once the current operation is done.
  void SetReading(bool reading) override {
    if (reading && !reading_) resumed_ = true;
    reading_ = reading;
  }
  size_t buffered_input() const override { return in_.size(); }
  // Like the network layer: room for a 16 KB read beside what is buffered, kept until the
  // server's cron shrinks it.
  size_t input_capacity() const override { return capacity_; }
  void ShrinkInput(size_t capacity) override { capacity_ = std::max(capacity, in_.size()); }
  std::string peer_address() const override { return "127.0.0.1:50000"; }
  std::string local_address() const override { return "127.0.0.1:6379"; }
  int fd() const override { return 8; }
  bool is_unix() const override { return false; }
  bool is_loopback() const override { return true; }

  void Feed(std::string_view bytes) {
    in_.append(bytes);
    capacity_ = std::max(capacity_, in_.size() + 16 * 1024);
    Pump();
  }
  // Processes input held while the connection was not reading; true when it did.
  bool PumpIfResumed() {
    if (!resumed_) return false;
    resumed_ = false;
    Pump();
    return true;
  }
  std::string TakeOutput() {
    std::string out;
    out.swap(out_);
    return out;
  }
  bool closed() const { return closed_; }

 private:
  void Pump() {
    // Like the network layer, input reaches the session even while it is not reading (paused):
    // it consumes none of it then, but may close the connection over its buffer limit.
    if (closed_ || in_.empty()) return;
    size_t used = session_->OnInput(in_);
    in_.erase(0, used);
  }

  std::string in_, out_;
  bool closed_ = false, reading_ = true, resumed_ = false;
  size_t capacity_ = 0;
  std::unique_ptr<net::Session> session_;
};

namespace {

std::string Encode(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

Resp ParseAll(const std::string& raw) {
  if (raw.empty()) return Resp{};  // no reply (yet)
  size_t used = 0;
  Resp r = ParseResp(raw, &used);
  EXPECT_EQ(used, raw.size()) << "more than one reply: " << raw;
  return r;
}

}  // namespace

CommandTest::CommandTest() : start_ms_(1'700'000'000'000), clock_(start_ms_) {
  Server::DeclareOptions(config_, settings_);
  settings_.enable_debug_command = static_cast<int>(DebugCommand::kYes);
  // No save points: a test's manual clock must not start background saves in the working
  // directory (persistence tests set their own).
  settings_.save_params.clear();
  server_ = std::make_unique<Server>(&clock_, &config_, &settings_);
  server_->propagation().AddConsumer(&recorder_);
  next_cron_ms_ = start_ms_ + 1000 / std::max<int64_t>(settings_.hz, 1);
}

CommandTest::~CommandTest() {
  connections_.clear();
  if (server_) server_->propagation().RemoveConsumer(&recorder_);
  server_.reset();
}

void CommandTest::TearDown() {
  if (!replay_skipped_.empty() || HasFatalFailure()) return;
  std::string diff = ReplayAndCompare(*server_, recorder_.commands(), start_ms_, clock_.NowMs());
  EXPECT_EQ(diff, "") << "a server rebuilt from the propagation stream differs";
}

void CommandTest::CloseConnections() { connections_.clear(); }

TestTransport& CommandTest::Connection(const std::string& name) {
  auto it = connections_.find(name);
  if (it == connections_.end()) {
    it = connections_.emplace(name, std::make_unique<TestTransport>(*server_)).first;
  }
  return *it->second;
}

void CommandTest::PumpResumed() {
  // Processing one connection's input can resume another: repeat until quiet.
  bool pumped = true;
  while (pumped) {
    pumped = false;
    for (auto& [name, t] : connections_) pumped = t->PumpIfResumed() || pumped;
  }
}

Client& CommandTest::client(const std::string& connection) {
  Connection(connection);
  // The newest client with this transport: search the server's list.
  for (Client* c : server_->clients().all()) {
    if (c->transport() == connections_[connection].get()) return *c;
  }
  throw std::runtime_error("connection closed: " + connection);
}

std::string CommandTest::Send(std::string_view bytes, const std::string& connection) {
  TestTransport& t = Connection(connection);
  t.Feed(bytes);
  PumpResumed();
  return t.TakeOutput();
}

std::string CommandTest::RunRaw(std::vector<std::string> args, const std::string& connection) {
  return Send(Encode(args), connection);
}

Resp CommandTest::Run(std::vector<std::string> args) { return Run("default", std::move(args)); }

Resp CommandTest::Run(const std::string& connection, std::vector<std::string> args) {
  return ParseAll(RunRaw(std::move(args), connection));
}

Resp CommandTest::Reply(const std::string& connection) {
  PumpResumed();
  return ParseAll(Connection(connection).TakeOutput());
}

bool CommandTest::IsBlocked(const std::string& connection) {
  return server_->blocking().IsBlocked(client(connection).id());
}

bool CommandTest::Closed(const std::string& connection) { return Connection(connection).closed(); }

void CommandTest::AdvanceMs(int64_t ms) {
  const int64_t target = clock_.NowMs() + ms;
  // Each timer and each cron tick runs at its own moment, in order.
  while (true) {
    const int64_t next_timer = server_->timers().next_deadline();
    const int64_t next = std::min(next_timer, next_cron_ms_);
    if (next > target) break;
    clock_.SetMs(std::max(clock_.NowMs(), next));
    if (next_timer <= next_cron_ms_) {
      server_->RunTimers();
    } else {
      server_->RunCron();
      next_cron_ms_ += 1000 / std::max<int64_t>(settings_.hz, 1);
    }
    PumpResumed();
  }
  clock_.SetMs(target);
  server_->UpdateTime();
}

std::vector<std::pair<int, Argv>> CommandTest::TakePropagatedWithDb() {
  std::vector<std::pair<int, Argv>> out;
  const std::vector<Argv>& all = recorder_.commands();
  for (; taken_ < all.size(); taken_++) {
    const Argv& argv = all[taken_];
    if (argv.size() == 2 && EqualsIgnoreCase(argv[0], "SELECT")) {
      taken_db_ = std::stoi(argv[1]);
      continue;
    }
    out.emplace_back(taken_db_, argv);
  }
  return out;
}

std::vector<Argv> CommandTest::TakePropagated() {
  std::vector<Argv> out;
  for (auto& [db, argv] : TakePropagatedWithDb()) out.push_back(std::move(argv));
  return out;
}

void CommandTest::MakeList(const std::string& key, std::vector<std::string> items, int db) {
  SkipReplayCheck("a list made directly in the keyspace (no list family yet)");
  MakeTestList(server_->keyspace().db(db), key, std::move(items));
}

}  // namespace keyward::test
