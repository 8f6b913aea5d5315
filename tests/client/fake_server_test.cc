// AsyncClient and the synchronous Client against a fake server on a loopback port that breaks
// RESP: garbage in answer to the handshake, or to a command once connected. Also where a plain
// callback given to AsyncExec() runs.
//
// Nothing here sleeps: every wait is RunUntil(condition), and the durations in it are deadlines
// that only a broken client reaches.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "async_test_support.h"
#include "keyward/client/async_client.h"
#include "keyward/client/client.h"

namespace keyward::testing {
namespace {

using client::AsyncClient;
using client::Client;
using client::ClientError;
using client::ClientOptions;
using client::ConnectionEvent;
using Kind = ConnectionEvent::Kind;
using Replies = AsyncClient::Replies;
using namespace std::chrono_literals;

// ---- 8. servers that send garbage ----

// One accepted connection of a FakeServer, seen from the server side.
class FakeConnection {
 public:
  explicit FakeConnection(int fd) : fd_(fd) {}

  // The next command the client sent (a RESP array of bulk strings), or nullopt once the client
  // closed the connection (or the server is stopping).
  std::optional<std::vector<std::string>> ReadCommand() {
    while (true) {
      if (auto command = Parse()) return command;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  void Write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Waits for the client to close the connection.
  void Drain() {
    while (ReadCommand()) {
    }
  }

 private:
  std::optional<std::vector<std::string>> Parse() {
    size_t at = 0;
    auto line = [&]() -> std::optional<std::string> {
      size_t end = buffer_.find("\r\n", at);
      if (end == std::string::npos) return std::nullopt;
      std::string text = buffer_.substr(at, end - at);
      at = end + 2;
      return text;
    };
    auto header = line();
    if (!header) return std::nullopt;
    std::vector<std::string> args(std::stoul(header->substr(1)));
    for (auto& arg : args) {
      auto length_line = line();
      if (!length_line) return std::nullopt;
      size_t length = std::stoul(length_line->substr(1));
      if (buffer_.size() < at + length + 2) return std::nullopt;
      arg = buffer_.substr(at, length);
      at += length + 2;
    }
    buffer_.erase(0, at);
    return args;
  }

  int fd_;
  std::string buffer_;
};

// A TCP server on a free loopback port whose every connection is served by a scripted session,
// one connection at a time, on its own thread. For clients facing servers that break RESP.
class FakeServer {
 public:
  // `session(connection, index)` serves the index-th accepted connection (0, 1, ...).
  using Session = std::function<void(FakeConnection&, int)>;

  explicit FakeServer(Session session) : session_(std::move(session)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      throw std::runtime_error("fake server: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { AcceptLoop(); });
  }

  // Stops accepting, ends the current session (its reads see end of stream) and joins.
  ~FakeServer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      if (session_fd_ >= 0) ::shutdown(session_fd_, SHUT_RDWR);
    }
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(listen_fd_);
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  int accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop() {
    for (int index = 0;; ++index) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      accepted_.fetch_add(1);
      {
        std::lock_guard lock(mutex_);
        session_fd_ = fd;
        if (stopping_) ::shutdown(fd, SHUT_RDWR);
      }
      FakeConnection connection(fd);
      session_(connection, index);
      {
        std::lock_guard lock(mutex_);
        session_fd_ = -1;
      }
      ::close(fd);
    }
  }

  Session session_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::mutex mutex_;
  bool stopping_ = false;
  int session_fd_ = -1;
  std::thread thread_;
};

// What a RESP2-only server would answer: HELLO is unknown, PING and ECHO work.
std::string Resp2Answer(const std::vector<std::string>& command) {
  if (command.empty()) return "-ERR empty command\r\n";
  if (command[0] == "HELLO") return "-ERR unknown command 'HELLO'\r\n";
  if (command[0] == "PING") return "+PONG\r\n";
  if (command[0] == "ECHO" && command.size() == 2) {
    return "$" + std::to_string(command[1].size()) + "\r\n" + command[1] + "\r\n";
  }
  return "-ERR unknown command\r\n";
}

ClientOptions FakeOptions(const FakeServer& server) {
  auto options = client::OptionsFromUrl(server.url());
  EXPECT_TRUE(options);
  options->connection.connect_timeout = std::chrono::seconds(10);
  options->reconnect.initial_delay = 1ms;
  options->reconnect.max_delay = 5ms;
  return *options;
}

TEST(GarbageServerTest, HandshakeAnsweredWithGarbageIsAProtocolError) {
  for (std::string garbage : {"hello world\r\n", "$abc\r\n", ":12x\r\n"}) {
    SCOPED_TRACE(garbage);
    FakeServer server([garbage](FakeConnection& connection, int) {
      if (!connection.ReadCommand()) return;  // the HELLO
      connection.Write(garbage);
      connection.Drain();
    });
    ClientOptions options = FakeOptions(server);
    options.reconnect.enabled = false;  // one attempt, one answer to check
    {
      EventLoop loop;
      AsyncClient client(loop.executor(), options);
      EXPECT_EQ(loop.Await(client.Connect()), ClientError::kProtocolError);
      EXPECT_FALSE(client.connected());
    }
    Client sync(options);
    EXPECT_EQ(sync.Connect(), ClientError::kProtocolError);
    auto command = sync.Command("PING");
    ASSERT_FALSE(command);
    EXPECT_EQ(command.error(), ClientError::kProtocolError);
  }
}

// The first connection answers the handshake (RESP2 fallback) and then a command with garbage;
// later connections behave.
void GarbageAfterHandshake(FakeConnection& connection, int index) {
  bool handshake = true;
  while (auto command = connection.ReadCommand()) {
    if (index == 0 && !handshake) {
      connection.Write("hello world\r\n");
      connection.Drain();
      return;
    }
    handshake = false;
    connection.Write(Resp2Answer(*command));
  }
}

TEST(GarbageServerTest, ReplyWithGarbageFailsTheCommandAndTheClientReconnects) {
  FakeServer server(GarbageAfterHandshake);
  EventLoop loop;
  AsyncClient client(loop.executor(), FakeOptions(server));
  EventLog log;
  client.SetConnectionHandler(log.Handler());
  ASSERT_FALSE(loop.Await(client.Connect()));
  EXPECT_EQ(client.protocol(), 2);
  auto broken = loop.Await(client.Command("PING"));
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error(), ClientError::kProtocolError) << broken.error().message();
  ASSERT_TRUE(loop.RunUntil([&] { return log.Count(Kind::kConnected) == 2; }));
  EXPECT_EQ(log.Last(Kind::kDisconnected)->error, ClientError::kProtocolError);
  auto echo = loop.Await(client.Command("ECHO", "clean"));
  ASSERT_TRUE(echo) << echo.error().message();
  EXPECT_EQ(echo->as_string().value(), "clean");
  EXPECT_EQ(server.accepted(), 2);
}

TEST(GarbageServerTest, SyncClientReconnectsAfterAGarbageReply) {
  FakeServer server(GarbageAfterHandshake);
  Client client(FakeOptions(server));
  ASSERT_FALSE(client.Connect());
  auto broken = client.Command("PING");
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error(), ClientError::kProtocolError) << broken.error().message();
  auto echo = client.Command("ECHO", "clean");
  ASSERT_TRUE(echo) << echo.error().message();
  EXPECT_EQ(echo->as_string().value(), "clean");
}

// A callback (not a coroutine) passed to AsyncExec without an executor of its own: like every
// asio I/O object's completions, it should run on the client's executor, i.e. on the thread
// running the io_context, never on another thread behind the caller's back.
TEST(CallbackTest, CallbackWithoutAnExecutorRunsOnTheClientsThread) {
  FakeServer server([](FakeConnection& connection, int) {
    while (auto command = connection.ReadCommand()) connection.Write(Resp2Answer(*command));
  });
  EventLoop loop;
  AsyncClient client(loop.executor(), FakeOptions(server));
  // Shared with the callback, which may run on another thread (that is the bug this catches).
  struct Observed {
    std::mutex mutex;
    std::optional<std::thread::id> thread;
  };
  auto observed = std::make_shared<Observed>();
  client.AsyncExec(Make({{"PING"}}), [observed](std::error_code, Replies) {
    std::lock_guard lock(observed->mutex);
    observed->thread = std::this_thread::get_id();
  });
  auto ran = [&] {
    std::lock_guard lock(observed->mutex);
    return observed->thread;
  };
  ASSERT_TRUE(loop.RunUntil([&] { return ran().has_value(); }));
  EXPECT_EQ(*ran(), std::this_thread::get_id());
}

}  // namespace
}  // namespace keyward::testing
