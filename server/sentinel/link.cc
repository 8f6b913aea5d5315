#include "server/sentinel/link.h"

#include <spdlog/spdlog.h>

#include "server/core/resp.h"

namespace keyward::sentinel {

std::string EncodeArgv(const std::vector<std::string>& argv) {
  std::string out;
  AppendArrayHeader(out, argv.size());
  for (const auto& a : argv) AppendBulk(out, a);
  return out;
}

// The network layer's side of a connection: it owns this session; the session reaches the
// Connection only while the Connection lives.
class Connection::Session : public net::Session {
 public:
  explicit Session(std::weak_ptr<Connection> conn) : conn_(std::move(conn)) {}
  size_t OnInput(std::string_view input) override {
    auto conn = conn_.lock();
    if (!conn || conn->done_) return input.size();
    parser_.Feed(input);
    while (true) {
      auto next = parser_.Next();
      if (!next) {
        spdlog::warn("Sentinel link: protocol error ({})", parser_.error_detail());
        conn->Lost();
        if (conn->transport_ != nullptr) conn->transport_->Close();
        break;
      }
      if (!*next) break;
      conn->Input(**next);
      if (conn->done_) break;
    }
    return input.size();
  }
  void OnClosed() override {
    if (auto conn = conn_.lock()) {
      conn->transport_ = nullptr;
      conn->Lost();
    }
  }

 private:
  std::weak_ptr<Connection> conn_;
  client::ReplyParser parser_;
};

Connection::~Connection() {
  done_ = true;
  if (cancel_) cancel_();
  if (transport_ != nullptr) transport_->Close();
}

void Connection::Open(ServerHost* host, const std::string& ip, int port, const std::string& source,
                      std::function<void()> closed) {
  closed_ = std::move(closed);
  if (host == nullptr) {
    Lost();
    return;
  }
  std::weak_ptr<Connection> weak = weak_from_this();
  cancel_ = host->Connect(
      ip, port, source,
      [weak](net::Transport& transport) -> std::unique_ptr<net::Session> {
        auto session = std::make_unique<Session>(weak);
        auto conn = weak.lock();
        if (!conn || conn->done_) {
          transport.CloseAfterFlush();
        } else {
          conn->Established(transport);
        }
        return session;
      },
      [weak](const std::string& error) {
        if (auto conn = weak.lock()) {
          conn->cancel_ = nullptr;
          conn->Lost();
        }
      });
}

void Connection::Established(net::Transport& transport) {
  cancel_ = nullptr;
  transport_ = &transport;
  if (!waiting_.empty()) {
    transport.output().append(waiting_);
    waiting_.clear();
  }
}

void Connection::Send(const std::vector<std::string>& argv, ReplyCallback done) {
  if (done_) return;
  if (!pubsub_) callbacks_.push_back(std::move(done));
  if (transport_ == nullptr) {
    waiting_ += EncodeArgv(argv);
    return;
  }
  transport_->output() += EncodeArgv(argv);
  transport_->Flush();
}

void Connection::Input(const Reply& reply) {
  if (pubsub_) {
    if (on_message_) on_message_(reply);
    return;
  }
  if (callbacks_.empty()) return;  // an unsolicited reply: nothing asked for it
  ReplyCallback done = std::move(callbacks_.front());
  callbacks_.pop_front();
  if (done) done(reply);
}

void Connection::Lost() {
  if (done_) return;
  done_ = true;
  callbacks_.clear();
  waiting_.clear();
  if (auto closed = std::move(closed_)) closed();
}

void Connection::Close() {
  if (done_ && transport_ == nullptr && !cancel_) return;
  done_ = true;
  callbacks_.clear();
  closed_ = nullptr;
  if (cancel_) {
    auto cancel = std::move(cancel_);
    cancel_ = nullptr;
    cancel();
  }
  if (transport_ != nullptr) {
    net::Transport* t = transport_;
    transport_ = nullptr;
    t->Close();
  }
}

std::string Connection::local_address() const {
  return transport_ != nullptr ? transport_->local_address() : std::string();
}

void InstanceLink::CloseCommands() {
  if (!cc) return;
  cc->Close();
  cc.reset();
  pending_commands = 0;
  disconnected = true;
}

void InstanceLink::ClosePubSub() {
  if (!pc) return;
  pc->Close();
  pc.reset();
  disconnected = true;
}

}  // namespace keyward::sentinel
