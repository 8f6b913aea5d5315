#include "keyward/client/client.h"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "keyward/client/async_client.h"

namespace keyward::client {
namespace {

ClientOptions SyncOptions(ClientOptions options) {
  options.queue_while_disconnected = false;
  options.health_check_interval = std::chrono::milliseconds{0};
  return options;
}

}  // namespace

struct Client::Impl {
  explicit Impl(ClientOptions options)
      : async(std::make_unique<AsyncClient>(io.get_executor(), SyncOptions(std::move(options)))) {}

  // Runs `operation` on the private io_context until it finishes. Events that arrived since the
  // last call (a closed connection, push messages) are handled first, so a connection that died
  // while idle is noticed before anything is written to it.
  template <typename T>
  T RunToCompletion(asio::awaitable<T> operation) {
    io.restart();
    io.poll();
    std::optional<T> result;
    // The coroutine only refers to locals of this frame, which outlive it: the loop below runs
    // until it has finished.
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> { result.emplace(co_await std::move(operation)); },
        [](std::exception_ptr failure) {
          if (failure) std::rethrow_exception(failure);
        });
    while (!result) {
      io.restart();
      io.run_one();
    }
    return std::move(*result);
  }

  // Before the async client's own retry timer would: a sync call wants its attempt now.
  void EnsureStarted() {
    if (!async->connected()) async->Start();
  }

  // Only the calling thread ever runs this context, so locking in the reactor is pure cost. (Not
  // ASIO_CONCURRENCY_HINT_UNSAFE: the resolver needs the scheduler to lock.)
  asio::io_context io{ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::unique_ptr<AsyncClient> async;
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() {
  if (!impl_) return;
  impl_->async->Close();
  // Let the run loop see the close and finish, so its frame is freed before the io_context.
  impl_->io.restart();
  impl_->io.poll();
}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

std::error_code Client::Connect() {
  if (impl_->async->connected()) return {};
  return impl_->RunToCompletion(impl_->async->Connect());
}

void Client::Close() {
  // A closed AsyncClient stays closed; a fresh one reconnects on the next call.
  ClientOptions options = impl_->async->options();
  impl_->async->Close();
  impl_->io.restart();
  impl_->io.poll();
  impl_->async = std::make_unique<AsyncClient>(impl_->io.get_executor(), std::move(options));
}

Expected<Client::Replies> Client::Exec(Request request, Timeout timeout) {
  return impl_->RunToCompletion(impl_->async->Exec(std::move(request), timeout));
}

Expected<Reply> Client::FirstReply(Request request) {
  auto replies = Exec(std::move(request));
  if (!replies) return replies.error();
  if (replies->empty()) return Reply::Null();
  return std::move(replies->front());
}

Expected<Reply> Client::Transaction(const Request& commands, Timeout timeout) {
  return impl_->RunToCompletion(impl_->async->Transaction(commands, timeout));
}

Expected<Reply> Client::ReceivePush(Timeout timeout) {
  AsyncClient& async = *impl_->async;
  auto receive = [&async, timeout]() -> asio::awaitable<Expected<Reply>> {
    using namespace asio::experimental::awaitable_operators;
    if (!timeout || timeout->count() <= 0) co_return co_await async.ReceivePush();
    asio::steady_timer deadline(co_await asio::this_coro::executor, *timeout);
    auto outcome = co_await (async.ReceivePush() ||
                             deadline.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
    if (outcome.index() == 1) co_return ClientError::kTimeout;
    co_return std::move(std::get<0>(outcome));
  };
  return impl_->RunToCompletion(receive());
}

bool Client::connected() const { return impl_->async->connected(); }
int Client::protocol() const { return impl_->async->protocol(); }
const std::optional<ServerHello>& Client::server_hello() const {
  return impl_->async->server_hello();
}

}  // namespace keyward::client
