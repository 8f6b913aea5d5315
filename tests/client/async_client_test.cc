// AsyncClient against real servers: many coroutines on one connection, pipelines and
// transactions, per-request timeouts and asio cancellation, servers that are paused, killed and
// restarted, the health check, giving up. Servers that send garbage, pub/sub and TLS have their
// own files (fake_server_test.cc, pubsub_test.cc, tls_test.cc); the helpers are in
// async_test_support.h.
//
// Nothing here sleeps: every wait is RunUntil(condition), and the durations in it are deadlines
// that only a broken client reaches.
#include "keyward/client/async_client.h"

#include <signal.h>

#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "async_test_support.h"
#include "keyward/client/client.h"

namespace keyward::testing {
namespace {

using client::AsyncClient;
using client::Client;
using client::ClientError;
using client::ClientOptions;
using client::ConnectionEvent;
using client::Expected;
using client::Reply;
using client::Request;
using Kind = ConnectionEvent::Kind;
using Replies = AsyncClient::Replies;
using namespace std::chrono_literals;

// The server continues when the test ends, whatever happened in it (a stopped server would make
// ServerProcess's SIGKILL the only way out, and the next assertion meaningless).
class Paused {
 public:
  explicit Paused(ServerProcess& server) : server_(server) { server_.Signal(SIGSTOP); }
  ~Paused() { Resume(); }
  void Resume() {
    if (paused_) server_.Signal(SIGCONT);
    paused_ = false;
  }

 private:
  ServerProcess& server_;
  bool paused_ = true;
};

// ---- 1. many callers, one connection ----

struct CallerOutcome {
  std::optional<int64_t> counter;
  std::optional<int64_t> client_id;
  bool echo_matched = false;
};

struct Callers {
  explicit Callers(int n) : outcomes(n) {}
  std::vector<CallerOutcome> outcomes;
  int finished = 0;
};

asio::awaitable<void> IncrementAndIdentify(AsyncClient* client, int caller,
                                           std::shared_ptr<Callers> callers) {
  CallerOutcome outcome;
  auto incremented = co_await client->Command("INCR", "counter");
  if (incremented) outcome.counter = incremented->as_integer().value();
  auto id = co_await client->Command("CLIENT", "ID");
  if (id) outcome.client_id = id->as_integer().value();
  const std::string mine = "caller-" + std::to_string(caller);
  auto echo = co_await client->Command("ECHO", mine);
  outcome.echo_matched = echo && echo->as_string().value() == mine;
  callers->outcomes[caller] = outcome;
  ++callers->finished;
}

TEST_P(AsyncClientTest, ConcurrentCallersShareOneConnectionAndGetTheirOwnReplies) {
  constexpr int kCallers = 300;
  AsyncClient client(loop_.executor(), Options());
  auto callers = std::make_shared<Callers>(kCallers);
  // All of them are queued before the first write: the INCRs go out together.
  for (int i = 0; i < kCallers; ++i) {
    asio::co_spawn(loop_.io(), IncrementAndIdentify(&client, i, callers), Rethrow);
  }
  ASSERT_TRUE(loop_.RunUntil([&] { return callers->finished == kCallers; }));
  std::set<int64_t> counters;
  std::set<int64_t> ids;
  for (int i = 0; i < kCallers; ++i) {
    const CallerOutcome& outcome = callers->outcomes[i];
    ASSERT_TRUE(outcome.counter) << "caller " << i;
    ASSERT_TRUE(outcome.client_id) << "caller " << i;
    EXPECT_TRUE(outcome.echo_matched) << "caller " << i << " got another caller's reply";
    counters.insert(*outcome.counter);
    ids.insert(*outcome.client_id);
  }
  // Every INCR ran once and each caller saw its own: exactly 1..300, none twice.
  ASSERT_EQ(counters.size(), size_t{kCallers});
  EXPECT_EQ(*counters.begin(), 1);
  EXPECT_EQ(*counters.rbegin(), kCallers);
  // One connection served them all.
  EXPECT_EQ(ids.size(), 1u);
  ASSERT_TRUE(client.server_hello());
  EXPECT_EQ(*ids.begin(), client.server_hello()->id);
}

TEST_P(AsyncClientTest, SourceAddressIsTheConnectionsLocalAddress) {
  // (Protected mode serves 127.0.0.1 only.)
  server().RawCommand({"CONFIG", "SET", "protected-mode", "no"});
  auto options = Options();
  options.connection.source_address = "127.0.0.9";
  AsyncClient client(loop_.executor(), options);
  auto info = loop_.Await(client.Command("CLIENT", "INFO"));
  ASSERT_TRUE(info);
  std::string text(info->as_string().value());
  EXPECT_NE(text.find(" addr=127.0.0.9:"), std::string::npos) << text;
  options.connection.source_address = "192.0.2.1";
  options.reconnect.enabled = false;
  AsyncClient unusable(loop_.executor(), options);
  EXPECT_FALSE(loop_.Await(unusable.Command("PING")));
}

// ---- 2. pipelines and transactions ----

TEST_P(AsyncClientTest, ExecReturnsRepliesInOrder) {
  AsyncClient client(loop_.executor(), Options());
  auto replies = loop_.Await(client.Exec(Make({{"SET", "a", "1"},
                                               {"INCR", "a"},
                                               {"GET", "a"},
                                               {"ECHO", "x"},
                                               {"GET", "missing"},
                                               {"INCR", "a", "extra"}})));
  ASSERT_TRUE(replies) << replies.error().message();
  ASSERT_EQ(replies->size(), 6u);
  EXPECT_EQ((*replies)[0].as_string().value(), "OK");
  EXPECT_EQ((*replies)[1].as_integer().value(), 2);
  EXPECT_EQ((*replies)[2].as_string().value(), "2");
  EXPECT_EQ((*replies)[3].as_string().value(), "x");
  EXPECT_TRUE((*replies)[4].is_null());
  // A refused command is one reply among the others; it does not fail the request.
  EXPECT_TRUE((*replies)[5].is_error());
}

TEST_P(AsyncClientTest, EmptyRequestCompletesAtOnce) {
  // Nothing to send, nothing to wait for (a request built in a loop that ran zero times).
  Client sync(Options());
  auto sync_none = sync.Exec(Request{}, std::chrono::seconds(10));  // bounded, should it hang
  ASSERT_TRUE(sync_none) << sync_none.error().message();
  EXPECT_TRUE(sync_none->empty());
  AsyncClient client(loop_.executor(), Options());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  auto none = loop_.Spawn(client.Exec(Request{}));
  ASSERT_TRUE(loop_.RunUntil([&] { return none.done(); })) << "Exec(Request{}) never completes";
  ASSERT_TRUE(none.get());
  EXPECT_TRUE(none.get()->empty());
}

TEST_P(AsyncClientTest, Transaction) {
  AsyncClient client(loop_.executor(), Options());
  Request commands = Make({{"SET", "tx", "1"}, {"INCRBY", "tx", "9"}, {"GET", "tx"}});
  auto exec = loop_.Await(client.Transaction(commands));
  ASSERT_TRUE(exec) << exec.error().message();
  EXPECT_EQ(Texts(*exec), (std::vector<std::string>{"OK", "10", "10"}));
  // A command refused while queueing aborts the whole transaction: nothing ran.
  auto aborted = loop_.Await(client.Transaction(Make({{"SET", "tx", "2"}, {"INCRBY", "tx"}})));
  ASSERT_TRUE(aborted);
  EXPECT_TRUE(aborted->is_error());
  EXPECT_EQ(loop_.Await(client.Command("GET", "tx"))->as_string().value(), "10");
  // A WATCHed key changed by someone else: EXEC answers null and the commands did not run.
  ASSERT_TRUE(loop_.Await(client.Command("WATCH", "tx")));
  server().RawCommand({"SET", "tx", "other"});
  auto conflicted = loop_.Await(client.Transaction(Make({{"SET", "tx", "mine"}})));
  ASSERT_TRUE(conflicted);
  EXPECT_TRUE(conflicted->is_null());
  EXPECT_EQ(loop_.Await(client.Command("GET", "tx"))->as_string().value(), "other");
}

// ---- 3. per-request timeout ----

TEST_P(AsyncClientTest, TimeoutOnAPausedServerLeavesTheConnectionInStep) {
  AsyncClient client(loop_.executor(), Options());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  Paused paused(server());
  auto stalled = loop_.Await(client.Exec(Make({{"PING"}}), 100ms));
  ASSERT_FALSE(stalled);
  EXPECT_EQ(stalled.error(), ClientError::kTimeout);
  paused.Resume();
  // The server now answers the abandoned PING too; that reply must be dropped, not handed to
  // the next caller.
  auto echo = loop_.Await(client.Command("ECHO", "after-timeout-7f3a"));
  ASSERT_TRUE(echo) << echo.error().message();
  EXPECT_EQ(echo->as_string().value(), "after-timeout-7f3a");
  EXPECT_TRUE(client.connected());
}

// ---- 4. cancellation ----

TEST_P(AsyncClientTest, RequestCancelledBeforeTheConnectionExistsIsNeverSent) {
  AsyncClient client(loop_.executor(), Options());
  asio::cancellation_signal cancel;
  Pending<std::error_code> outcome;
  // Submitting starts the client, but nothing runs until the loop does: the request is queued
  // with no connection yet when it is cancelled.
  client.AsyncExec(Make({{"INCR", "x"}}), loop_.Record(outcome, cancel.slot()));
  cancel.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(loop_.RunUntil([&] { return outcome.done(); }));
  EXPECT_EQ(outcome.get(), ClientError::kCancelled);
  ASSERT_FALSE(loop_.Await(client.Connect()));
  auto x = loop_.Await(client.Command("GET", "x"));
  ASSERT_TRUE(x);
  EXPECT_TRUE(x->is_null()) << "the cancelled INCR was sent";
}

TEST_P(AsyncClientTest, RequestCancelledInFlightCompletesAtOnceAndItsReplyIsDropped) {
  AsyncClient client(loop_.executor(), Options());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  Paused paused(server());
  asio::cancellation_signal cancel;
  Pending<std::error_code> outcome;
  client.AsyncExec(Make({{"INCR", "sent"}, {"ECHO", "a"}}), loop_.Record(outcome, cancel.slot()));
  loop_.RunReady();  // written: the server has it, unanswered
  ASSERT_FALSE(outcome.done());
  cancel.emit(asio::cancellation_type::terminal);
  // Completes without the server's help: it is still stopped.
  ASSERT_TRUE(loop_.RunUntil([&] { return outcome.done(); }));
  EXPECT_EQ(outcome.get(), ClientError::kCancelled);
  paused.Resume();
  auto b = loop_.Await(client.Command("ECHO", "b"));
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(b->as_string().value(), "b");
  // It was in flight, not unsent: the server ran it.
  EXPECT_EQ(loop_.Await(client.Command("GET", "sent"))->as_string().value(), "1");
}

TEST_P(AsyncClientTest, CancellingTheCoroutineCancelsExec) {
  AsyncClient client(loop_.executor(), Options());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  Paused paused(server());
  asio::cancellation_signal cancel;
  auto outcome = loop_.Spawn(client.Exec(Make({{"ECHO", "a"}})), cancel.slot());
  loop_.RunReady();
  ASSERT_FALSE(outcome.done());
  cancel.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(loop_.RunUntil([&] { return outcome.done(); }));
  ASSERT_FALSE(outcome.get());
  EXPECT_EQ(outcome.get().error(), ClientError::kCancelled);
  paused.Resume();
  EXPECT_EQ(loop_.Await(client.Command("ECHO", "b"))->as_string().value(), "b");
}

// ---- 5. the server dies mid-request ----

TEST_P(AsyncClientTest, KilledServerFailsRequestsInFlightAndQueuedOnesWaitForTheRestart) {
  AsyncClient client(loop_.executor(), FastOptions());
  EventLog log;
  client.SetConnectionHandler(log.Handler());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  Pending<Expected<Replies>> in_flight;
  {
    Paused paused(server());
    in_flight = loop_.Spawn(client.Exec(Make({{"ECHO", "doomed"}})));
    loop_.RunReady();  // written, never answered
    server().Kill();
  }
  ASSERT_TRUE(loop_.RunUntil([&] { return in_flight.done(); }));
  ASSERT_FALSE(in_flight.get());
  // The server may have run it: the client says so rather than resending it.
  EXPECT_EQ(in_flight.get().error(), ClientError::kConnectionLost);
  ASSERT_TRUE(loop_.RunUntil([&] { return log.Count(Kind::kDisconnected) == 1; }));
  EXPECT_FALSE(client.connected());
  // Submitted while disconnected: waits for the connection (queue_while_disconnected).
  auto queued = loop_.Spawn(client.Exec(Make({{"SET", "k", "queued"}, {"GET", "k"}})));
  loop_.RunReady();
  EXPECT_FALSE(queued.done());
  server().Restart();
  ASSERT_TRUE(loop_.RunUntil([&] { return queued.done(); }));
  ASSERT_TRUE(queued.get()) << queued.get().error().message();
  EXPECT_EQ(Texts(Reply::Aggregate(client::ReplyType::kArray, std::move(*queued.get()))),
            (std::vector<std::string>{"OK", "queued"}));
  auto ping = loop_.Await(client.Command("PING"));
  ASSERT_TRUE(ping) << ping.error().message();
  EXPECT_EQ(ping->as_string().value(), "PONG");
  EXPECT_EQ(log.Milestones(),
            (std::vector<Kind>{Kind::kConnected, Kind::kDisconnected, Kind::kConnected}));
}

// ---- 6. health check ----

TEST_P(AsyncClientTest, HealthCheckNoticesAPausedServerWithoutAnyRequest) {
  ClientOptions options = FastOptions();
  options.health_check_interval = 100ms;
  AsyncClient client(loop_.executor(), options);
  EventLog log;
  client.SetConnectionHandler(log.Handler());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  Paused paused(server());
  ASSERT_TRUE(loop_.RunUntil([&] { return log.Count(Kind::kDisconnected) == 1; }));
  EXPECT_EQ(log.Last(Kind::kDisconnected)->error, ClientError::kTimeout);
  paused.Resume();
  ASSERT_TRUE(loop_.RunUntil([&] { return log.Count(Kind::kConnected) == 2; }));
  EXPECT_EQ(loop_.Await(client.Command("ECHO", "alive"))->as_string().value(), "alive");
}

TEST_P(AsyncClientTest, HealthCheckLeavesAHealthyIdleConnectionAlone) {
  ClientOptions options = FastOptions();
  options.health_check_interval = 20ms;
  AsyncClient client(loop_.executor(), options);
  EventLog log;
  client.SetConnectionHandler(log.Handler());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  // The health check's PINGs show in the server's command statistics; wait for a few rounds.
  auto pings = [&] {
    auto info = server().RawCommand({"INFO", "commandstats"});
    auto body = info.as_string();
    std::string text(body ? *body : "");
    auto at = text.find("cmdstat_ping:calls=");
    return at == std::string::npos ? 0 : std::atoi(text.c_str() + at + 19);
  };
  const int before = pings();
  ASSERT_TRUE(loop_.RunUntil([&] { return pings() >= before + 3; }));
  EXPECT_EQ(log.Milestones(), (std::vector<Kind>{Kind::kConnected}));
  EXPECT_TRUE(client.connected());
}

// ---- 7. giving up ----

TEST_P(AsyncClientTest, ReconnectionGivesUpAfterMaxAttempts) {
  ClientOptions options = Options();
  options.reconnect.max_attempts = 2;
  options.reconnect.initial_delay = 1ms;
  options.reconnect.max_delay = 5ms;
  AsyncClient client(loop_.executor(), options);
  EventLog log;
  client.SetConnectionHandler(log.Handler());
  ASSERT_FALSE(loop_.Await(client.Connect()));
  server().Kill();
  ASSERT_TRUE(loop_.RunUntil([&] { return log.Count(Kind::kDisconnected) == 1; }));
  // Submitted while the client still retries (or, on a slow machine, just after it gave up,
  // which starts a round of its own): either way it fails once the attempts run out, not hangs.
  auto queued = loop_.Spawn(client.Exec(Make({{"PING"}})));
  ASSERT_TRUE(loop_.RunUntil([&] { return queued.done(); }));
  ASSERT_FALSE(queued.get());
  EXPECT_EQ(queued.get().error(), std::errc::connection_refused) << queued.get().error().message();
  const size_t gave_up = log.Count(Kind::kGaveUp);
  EXPECT_GE(gave_up, 1u);
  EXPECT_EQ(log.events.back().kind, Kind::kGaveUp);
  EXPECT_EQ(log.events.back().error, std::errc::connection_refused);
  EXPECT_GE(log.Count(Kind::kConnectFailed), 1u);
  EXPECT_FALSE(client.connected());
  // A later command starts a new round of attempts, which fails the same way.
  auto later = loop_.Await(client.Command("PING"));
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error(), std::errc::connection_refused);
  EXPECT_EQ(log.Count(Kind::kGaveUp), gave_up + 1);
}

KEYWARD_INSTANTIATE_SERVER_TEST(AsyncClientTest);

}  // namespace
}  // namespace keyward::testing
