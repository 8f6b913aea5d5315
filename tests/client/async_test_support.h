// Helpers shared by the AsyncClient suites (async_client_test.cc, fake_server_test.cc,
// pubsub_test.cc, tls_test.cc): an io_context driven by the test thread, results of spawned
// operations, the connection event log, and the AsyncClientTest fixture.
//
// Nothing here sleeps: every wait is RunUntil(condition), and the durations in it are deadlines
// that only a broken client reaches.
#pragma once

#include <algorithm>
#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "client_test_support.h"
#include "keyward/client/async_client.h"

namespace keyward::testing {

// How long RunUntil() lets a condition take before the test fails. Only a broken client gets
// there: every condition is reached in milliseconds otherwise (sanitizer builds included).
inline constexpr auto kDeadline = std::chrono::seconds(10);

// A request of `commands`, each written {name, args...}.
inline client::Request Make(std::initializer_list<std::vector<std::string>> commands) {
  client::Request request;
  for (const auto& command : commands) {
    request.Push(command.front(), std::vector<std::string>(command.begin() + 1, command.end()));
  }
  return request;
}

// The elements of an aggregate reply as text (integers in decimal), for comparing pushes.
inline std::vector<std::string> Texts(const client::Reply& reply) {
  std::vector<std::string> out;
  auto elements = reply.as_array();
  if (!elements) return {"<not an array: " + std::string(client::ToString(reply.type())) + ">"};
  for (const client::Reply& element : *elements) {
    if (auto text = element.as_string()) {
      out.emplace_back(*text);
    } else if (auto number = element.as_integer()) {
      out.push_back(std::to_string(*number));
    } else {
      out.push_back("<" + std::string(client::ToString(element.type())) + ">");
    }
  }
  return out;
}

// The result of an operation started with EventLoop::Spawn() (or of a callback from
// EventLoop::Record()), filled in when it completes. The operation shares it, so a test that
// stops waiting (a failed assertion returns early) leaves nothing pointing into its frame.
template <typename T>
class Pending {
 public:
  bool done() const { return state_->has_value(); }
  T& get() { return **state_; }
  const std::shared_ptr<std::optional<T>>& state() const { return state_; }

 private:
  std::shared_ptr<std::optional<T>> state_ = std::make_shared<std::optional<T>>();
};

template <typename T>
asio::awaitable<void> StoreResult(asio::awaitable<T> operation,
                                  std::shared_ptr<std::optional<T>> out) {
  out->emplace(co_await std::move(operation));
}

inline void Rethrow(std::exception_ptr failure) {
  if (failure) std::rethrow_exception(failure);
}

// Connection events, as the client reports them.
struct EventLog {
  using Kind = client::ConnectionEvent::Kind;

  std::vector<client::ConnectionEvent> events;

  std::function<void(const client::ConnectionEvent&)> Handler() {
    return [this](const client::ConnectionEvent& event) { events.push_back(event); };
  }
  size_t Count(Kind kind) const {
    return std::count_if(events.begin(), events.end(),
                         [kind](const client::ConnectionEvent& e) { return e.kind == kind; });
  }
  // The events without kConnectFailed: how many attempts fail while a server restarts depends on
  // how long it takes to start.
  std::vector<Kind> Milestones() const {
    std::vector<Kind> out;
    for (const auto& e : events) {
      if (e.kind != Kind::kConnectFailed) out.push_back(e.kind);
    }
    return out;
  }
  std::optional<client::ConnectionEvent> Last(Kind kind) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->kind == kind) return *it;
    }
    return std::nullopt;
  }
};

// An io_context driven by the test thread, with the helpers every AsyncClient test needs.
class EventLoop {
 public:
  asio::io_context& io() { return io_; }
  asio::any_io_executor executor() { return io_.get_executor(); }

  // Runs handlers until `done()` holds. False when kDeadline passed first.
  template <typename Predicate>
  [[nodiscard]] bool RunUntil(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  // Runs every handler that is ready, and those they make ready, without waiting for I/O. A
  // request submitted before this is written to the socket when it returns (the write to a
  // socket with room in its buffer completes at once).
  void RunReady() {
    io_.restart();
    io_.poll();
  }

  // Starts `operation` (cancellable through `slot`, when given); its result is filled in when
  // it completes.
  template <typename T>
  Pending<T> Spawn(asio::awaitable<T> operation, asio::cancellation_slot slot = {}) {
    Pending<T> pending;
    asio::co_spawn(io_, StoreResult(std::move(operation), pending.state()),
                   asio::bind_cancellation_slot(slot, Rethrow));
    return pending;
  }

  // A completion handler for AsyncExec() that records the error into `pending`, run on this
  // loop's thread, cancellable through `slot`.
  auto Record(const Pending<std::error_code>& pending, asio::cancellation_slot slot) {
    return asio::bind_cancellation_slot(
        slot, asio::bind_executor(io_, [state = pending.state()](std::error_code error,
                                                                 client::AsyncClient::Replies) {
          state->emplace(error);
        }));
  }

  // Runs `operation` to completion. One that never completes (a hang) throws, which fails the
  // test.
  template <typename T>
  T Await(asio::awaitable<T> operation) {
    Pending<T> result = Spawn(std::move(operation));
    if (!RunUntil([&] { return result.done(); })) {
      throw std::runtime_error("an awaited operation did not complete within the deadline");
    }
    return std::move(result.get());
  }

  // After the clients of a test are gone: lets their run loops see the close and finish, so
  // their frames are freed before the io_context.
  ~EventLoop() {
    io_.restart();
    io_.poll();
  }

 private:
  asio::io_context io_;
};

class AsyncClientTest : public ServerTest {
 protected:
  // Options with short reconnection delays: a restart is noticed within milliseconds.
  client::ClientOptions FastOptions() {
    using namespace std::chrono_literals;
    client::ClientOptions options = Options();
    options.reconnect.initial_delay = 5ms;
    options.reconnect.max_delay = 50ms;
    return options;
  }

  EventLoop loop_;
};

}  // namespace keyward::testing
