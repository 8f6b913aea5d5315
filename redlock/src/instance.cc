#include "instance.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "gather.h"
#include "keyward/error_codes.h"

namespace keyward::redlock::detail {
namespace {

using client::Expected;
using client::Reply;
using client::Request;

// The Redis side of each step, on the same key as LOCK.*, so Keyward's commands, these scripts,
// node-redlock and redis-py's Lock all exclude each other.
struct Script {
  const char* text;
  std::string sha;  // EVALSHA needs the lowercase hex SHA1 of the text
};

// Acquire, re-entrant: PEXPIRE when ours (2, as LOCK.ACQUIRE answers a re-entry), SET NX PX when
// free (1); refused (0) with the holder's PTTL. A lease's repair of an instance that lost the lock
// uses it too.
constexpr const char* kAcquireScript = R"lua(local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {2, tonumber(ARGV[2])}
end
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, tonumber(ARGV[2])}
end
return {0, redis.call('PTTL', KEYS[1])})lua";

// Compare-and-delete.
constexpr const char* kReleaseScript = R"lua(if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0)lua";

// Compare-and-PEXPIRE.
constexpr const char* kExtendScript = R"lua(if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0)lua";

enum ScriptId { kAcquire = 0, kRelease = 1, kExtend = 2 };

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

const std::array<Script, 3>& Scripts() {
  static const std::array<Script, 3> scripts = {
      Script{kAcquireScript, Sha1Hex(kAcquireScript)},
      Script{kReleaseScript, Sha1Hex(kReleaseScript)},
      Script{kExtendScript, Sha1Hex(kExtendScript)},
  };
  return scripts;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool IsUnknownCommand(const Reply& reply) {
  auto text = reply.as_error();
  return text && text->find("unknown command") != std::string_view::npos;
}

// The integers of an array reply, or nullopt when it is not an array of `n` integers.
std::optional<std::vector<int64_t>> Integers(const Reply& reply, size_t n) {
  auto elements = reply.as_array();
  if (!elements || elements->size() != n) return std::nullopt;
  std::vector<int64_t> out;
  for (const Reply& e : *elements) {
    auto v = e.as_integer();
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

std::string Describe(const Reply& reply) {
  if (auto text = reply.as_error()) return std::string(*text);
  return "unexpected " + std::string(client::ToString(reply.type())) + " reply";
}

std::optional<Millis> TtlOf(int64_t pttl) {
  if (pttl < 0) return std::nullopt;  // -1: no TTL
  return Millis(pttl);
}

Millis AtLeastOne(Millis timeout) { return std::max(timeout, Millis(1)); }

// LOCK.ACQUIRE's [granted, token, pttl] (PROPOSE: and counted): granted 1 (created) or 2
// (re-entered), 0 refused.
AcquireAnswer ParseAcquire(const Reply& reply, bool proposed) {
  auto values = Integers(reply, proposed ? 4 : 3);
  if (!values) return AcquireAnswer::Failed(Describe(reply));
  const auto counter = static_cast<uint64_t>(std::max<int64_t>(0, (*values)[1]));
  AcquireAnswer answer = AcquireAnswer::Refused(counter, TtlOf((*values)[2]));
  if ((*values)[0] == 1) answer = AcquireAnswer::Granted(counter);
  if ((*values)[0] == 2) answer = AcquireAnswer::Reentered(counter);
  answer.counted = proposed && answer.kind == AcquireAnswer::Kind::kGranted && (*values)[3] == 1;
  answer.unsettled = proposed && answer.kind == AcquireAnswer::Kind::kGranted && (*values)[3] == -1;
  return answer;
}

}  // namespace

Expected<LockInfo> ParseLockInfo(const Reply& reply) {
  auto map = reply.as_map();
  if (!map) return map.error();
  LockInfo info;
  if (const Reply* owner = map->Find("owner"); owner && !owner->is_null()) {
    if (auto text = owner->as_string()) info.owner = std::string(*text);
  }
  const auto integer = [&map](std::string_view field, int64_t missing) -> int64_t {
    const Reply* value = map->Find(field);
    if (!value) return missing;
    auto v = value->as_integer();
    return v ? *v : missing;
  };
  info.pttl = integer("pttl", -2);
  info.token = static_cast<uint64_t>(std::max<int64_t>(0, integer("token", 0)));
  if (int64_t holder_token = integer("holder_token", 0); holder_token > 0) {
    info.holder_token = static_cast<uint64_t>(holder_token);
  }
  info.seen = static_cast<uint64_t>(std::max<int64_t>(0, integer("seen", 0)));
  info.waiters = integer("waiters", 0);
  return info;
}

Instance::Instance(asio::any_io_executor executor, std::string url, client::ClientOptions options,
                   Millis connect_timeout, Millis instance_timeout)
    : executor_(executor),
      url_(std::move(url)),
      options_(std::move(options)),
      connect_timeout_(connect_timeout),
      instance_timeout_(instance_timeout),
      client_(executor, options_) {}

Instance::~Instance() { Close(); }

void Instance::Close() {
  if (closed_) return;
  closed_ = true;
  client_.Close();
  for (auto& idle : idle_) idle->Close();
  idle_.clear();
  for (client::AsyncClient* busy : busy_) busy->Close();
}

asio::awaitable<Expected<Reply>> Instance::Call(Request request, Millis timeout) {
  auto replies = co_await Exec(std::move(request), timeout);
  if (!replies) co_return replies.error();
  if (replies->empty()) co_return Reply::Null();
  co_return std::move(replies->front());
}

asio::awaitable<Expected<std::vector<Reply>>> Instance::Exec(Request request, Millis timeout) {
  if (closed_) co_return client::ClientError::kClosed;
  auto replies = co_await client_.Exec(std::move(request), AtLeastOne(timeout));
  if (replies) {
    unresponsive_until_ = {};
  } else if (replies.error() == client::ClientError::kTimeout && timeout >= instance_timeout_) {
    unresponsive_until_ = Clock::now() + std::max(Millis(1000), 10 * timeout);
  }
  co_return replies;
}

asio::awaitable<Expected<Reply>> Instance::CallBlocking(Request request, Millis limit) {
  if (closed_) co_return client::ClientError::kClosed;
  std::unique_ptr<client::AsyncClient> connection;
  if (!idle_.empty()) {
    connection = std::move(idle_.back());
    idle_.pop_back();
  } else {
    client::ClientOptions options = options_;
    // A healthy connection is silent while the server holds the request: no health check.
    options.health_check_interval = Millis(0);
    connection = std::make_unique<client::AsyncClient>(executor_, options);
  }
  busy_.insert(connection.get());
  auto replies = co_await connection->Exec(std::move(request), limit);
  busy_.erase(connection.get());
  if (!replies) {
    // Timed out or cancelled with the request still queued in the server: closing the
    // connection is what removes it from the queue.
    connection->Close();
    co_return replies.error();
  }
  if (!closed_) idle_.push_back(std::move(connection));
  if (replies->empty()) co_return Reply::Null();
  co_return std::move(replies->front());
}

void Instance::NoteUnknownCommand(const Reply& reply) {
  if (IsUnknownCommand(reply)) backend_ = Backend::kRedis;
}

asio::awaitable<Expected<Reply>> Instance::Script(int script, std::string key,
                                                  std::vector<std::string> args, Millis timeout) {
  const auto& s = Scripts()[script];
  Request evalsha;
  evalsha.Push("EVALSHA", s.sha, 1, key, args);
  auto reply = co_await Call(std::move(evalsha), timeout);
  if (!reply || !reply->is_error() || !StartsWith(*reply->as_error(), "NOSCRIPT")) co_return reply;
  Request eval;
  eval.Push("EVAL", s.text, 1, key, args);
  co_return co_await Call(std::move(eval), timeout);
}

asio::awaitable<Backend> Instance::Detect() {
  if (backend_ != Backend::kUnknown) co_return backend_;
  Request request;
  request.Push("COMMAND", "INFO", "lock.acquire");
  auto reply = co_await Call(std::move(request), connect_timeout_);
  if (!reply) co_return Backend::kUnknown;
  auto entries = reply->as_array();
  // COMMAND INFO answers [nil] for an unknown command. A server refusing COMMAND altogether is
  // no Keyward: the scripts are the safe choice.
  backend_ = entries && entries->size() == 1 && !(*entries)[0].is_null() ? Backend::kKeyward
                                                                         : Backend::kRedis;
  co_return backend_;
}

asio::awaitable<AcquireAnswer> Instance::Acquire(std::string resource, std::string owner,
                                                 Millis ttl, bool fence, Millis timeout,
                                                 bool holder_token, std::optional<uint64_t> propose,
                                                 Millis settle) {
  // An instance not reached yet is tried as Keyward: its first answer says which it is.
  if (backend_ != Backend::kRedis) {
    Request request;
    const bool settling = settle.count() > 0 && backend_ == Backend::kKeyward;
    if (settling) request.Push("LOCK.WAIT", resource, settle.count());
    if (fence) {
      request.Push("LOCK.ACQUIRE", resource, owner, ttl.count(), "FENCE");
    } else if (propose) {
      request.Push("LOCK.ACQUIRE", resource, owner, ttl.count(), "PROPOSE", *propose);
    } else {
      request.Push("LOCK.ACQUIRE", resource, owner, ttl.count());
    }
    // In the same round trip: which token this instance counted for the holder.
    if (holder_token) request.Push("LOCK.INFO", resource);
    auto replies = co_await Exec(std::move(request), settling ? timeout + settle : timeout);
    if (!replies) co_return AcquireAnswer::Failed(replies.error().message());
    if (settling && !replies->empty()) replies->erase(replies->begin());  // free, or not in time
    if (replies->empty()) co_return AcquireAnswer::Failed("no reply");
    NoteUnknownCommand(replies->front());
    if (backend_ != Backend::kRedis) {
      AcquireAnswer answer = ParseAcquire(replies->front(), propose.has_value() && !fence);
      if (answer.kind == AcquireAnswer::Kind::kFailed) co_return answer;
      backend_ = Backend::kKeyward;
      if (answer.reentered && replies->size() > 1) {
        auto info = ParseLockInfo((*replies)[1]);
        if (info && info->owner == owner) answer.holder_token = info->holder_token;
      }
      co_return answer;
    }
  }
  // (Arguments built before the co_await: g++ 12 miscompiles a braced list inside one.)
  std::vector<std::string> args = {owner, std::to_string(ttl.count())};
  auto reply = co_await Script(kAcquire, resource, std::move(args), timeout);
  if (!reply) co_return AcquireAnswer::Failed(reply.error().message());
  auto values = Integers(*reply, 2);
  if (!values) co_return AcquireAnswer::Failed(Describe(*reply));
  if ((*values)[0] == 1) co_return AcquireAnswer::Granted();
  if ((*values)[0] == 2) co_return AcquireAnswer::Reentered(std::nullopt);
  co_return AcquireAnswer::Refused(std::nullopt, TtlOf((*values)[1]));
}

asio::awaitable<AcquireAnswer> Instance::AcquireWaiting(std::string resource, std::string owner,
                                                        Millis ttl, bool fence, Millis wait,
                                                        Millis margin) {
  Request request;
  if (fence) {
    request.Push("LOCK.ACQUIRE", resource, owner, ttl.count(), "WAIT", wait.count(), "FENCE");
  } else {
    request.Push("LOCK.ACQUIRE", resource, owner, ttl.count(), "WAIT", wait.count());
  }
  // The server answers at its own timeout; the client's limit only catches a dead server.
  const Millis limit = wait.count() == 0 ? Millis(0) : wait + AtLeastOne(margin);
  auto reply = co_await CallBlocking(std::move(request), limit);
  if (!reply) co_return AcquireAnswer::Failed(reply.error().message());
  NoteUnknownCommand(*reply);
  AcquireAnswer answer = ParseAcquire(*reply, false);
  if (answer.kind != AcquireAnswer::Kind::kFailed) backend_ = Backend::kKeyward;
  co_return answer;
}

asio::awaitable<FenceAnswer> Instance::Fence(std::string resource, std::string owner,
                                             uint64_t token, Millis timeout) {
  if (backend_ == Backend::kRedis) co_return FenceAnswer::kFailed;
  Request request;
  request.Push("LOCK.FENCE", resource, owner, token);
  auto reply = co_await Call(std::move(request), timeout);
  if (!reply) co_return FenceAnswer::kFailed;
  NoteUnknownCommand(*reply);
  if (auto error = reply->as_error(); error && codes::HasCode(*error, codes::kUnsettled)) {
    co_return FenceAnswer::kUnsettled;
  }
  auto counted = reply->as_integer();
  if (!counted) co_return FenceAnswer::kFailed;
  co_return *counted == 1 ? FenceAnswer::kCounted : FenceAnswer::kNotCounted;
}

asio::awaitable<std::optional<CatchUpReport>> Instance::CatchUpState(Clock::time_point sent,
                                                                     Millis timeout) {
  if (backend_ == Backend::kRedis) co_return std::nullopt;
  Request request;
  request.Push("LOCK.CATCHUP");
  auto reply = co_await Call(std::move(request), timeout);
  if (!reply) co_return std::nullopt;
  NoteUnknownCommand(*reply);
  // [settled, counter, ready-ms, run-id, counting]
  auto elements = reply->as_array();
  if (!elements || elements->size() < 4) co_return std::nullopt;
  auto settled = (*elements)[0].as_integer();
  auto counter = (*elements)[1].as_integer();
  auto ready = (*elements)[2].as_integer();
  auto run_id = (*elements)[3].as_string();
  if (!settled || !counter || !ready || !run_id || *counter < 0 || *ready < 0) {
    co_return std::nullopt;
  }
  CatchUpReport report;
  report.settled = *settled == 1;
  report.counter = static_cast<uint64_t>(*counter);
  report.ready = Millis(*ready);
  report.run_id = std::string(*run_id);
  report.round_trip = Clock::now() - sent;
  co_return report;
}

asio::awaitable<bool> Instance::CatchUp(uint64_t counter, std::string run_id, Millis timeout) {
  Request request;
  request.Push("LOCK.CATCHUP", counter, run_id);
  auto reply = co_await Call(std::move(request), timeout);
  if (!reply) co_return false;
  auto done = reply->as_integer();
  co_return done&&* done == 1;
}

asio::awaitable<Expected<bool>> Instance::NativeOrScript(Request native, int script,
                                                         std::string key,
                                                         std::vector<std::string> script_args,
                                                         Millis timeout) {
  if (backend_ != Backend::kRedis) {
    auto reply = co_await Call(std::move(native), timeout);
    if (!reply) co_return reply.error();
    NoteUnknownCommand(*reply);
    if (backend_ != Backend::kRedis) {
      auto done = reply->as_integer();
      if (!done) co_return done.error();
      backend_ = Backend::kKeyward;
      co_return *done == 1;
    }
  }
  auto reply = co_await Script(script, std::move(key), std::move(script_args), timeout);
  if (!reply) co_return reply.error();
  auto done = reply->as_integer();
  if (!done) co_return done.error();
  co_return *done == 1;
}

asio::awaitable<Expected<bool>> Instance::Release(std::string resource, std::string owner,
                                                  Millis timeout) {
  Request native;
  native.Push("LOCK.RELEASE", resource, owner);
  std::vector<std::string> args = {owner};
  co_return co_await NativeOrScript(std::move(native), kRelease, std::move(resource),
                                    std::move(args), timeout);
}

asio::awaitable<Expected<bool>> Instance::Extend(std::string resource, std::string owner,
                                                 Millis ttl, Millis timeout) {
  Request native;
  native.Push("LOCK.EXTEND", resource, owner, ttl.count());
  std::vector<std::string> args = {owner, std::to_string(ttl.count())};
  co_return co_await NativeOrScript(std::move(native), kExtend, std::move(resource),
                                    std::move(args), timeout);
}

asio::awaitable<RenewAnswer> Instance::Renew(std::string resource, std::string owner, Millis ttl,
                                             std::optional<uint64_t> token, Millis timeout) {
  if (backend_ != Backend::kKeyward) {
    auto extended = co_await Extend(std::move(resource), std::move(owner), ttl, timeout);
    if (!extended) co_return RenewAnswer::kFailed;
    co_return *extended ? RenewAnswer::kExtended : RenewAnswer::kNotHeld;
  }
  Request request;
  request.Push("LOCK.EXTEND", resource, owner, ttl.count());
  // In the same round trip, the counter is raised to the lease's token where it lags behind it
  // (this instance missed the FENCE): a later acquisition that wins here then reads a counter at
  // least as high. Counted or not, it changes nothing else.
  if (token) request.Push("LOCK.FENCE", resource, owner, *token);
  auto replies = co_await Exec(std::move(request), timeout);
  if (!replies || replies->empty()) co_return RenewAnswer::kFailed;
  auto extended = replies->front().as_integer();
  if (!extended) co_return RenewAnswer::kFailed;
  co_return *extended == 1 ? RenewAnswer::kExtended : RenewAnswer::kNotHeld;
}

asio::awaitable<AcquireAnswer> Instance::Repair(std::string resource, std::string owner, Millis ttl,
                                                std::optional<uint64_t> token, Millis timeout) {
  const Clock::time_point started = Clock::now();
  AcquireAnswer answer = co_await Acquire(resource, owner, ttl, false, timeout);
  if (answer.kind != AcquireAnswer::Kind::kGranted || backend_ != Backend::kKeyward || !token ||
      !answer.counter || *answer.counter >= *token) {
    co_return answer;
  }
  // Re-created below the lease's token (an instance restarted empty, a FLUSHALL): raise the
  // counter to it, as Renew does.
  const Millis left = timeout - std::chrono::duration_cast<Millis>(Clock::now() - started);
  co_await Fence(std::move(resource), std::move(owner), *token, left);
  co_return answer;
}

asio::awaitable<Expected<bool>> Instance::WaitFree(std::string resource, Millis wait,
                                                   Millis margin) {
  const Millis limit = wait.count() == 0 ? Millis(0) : wait + AtLeastOne(margin);
  const Millis window = std::max(Millis(10), 2 * margin);
  Request request;
  if (wait_handoff_) {
    request.Push("LOCK.WAIT", resource, wait.count(), "HANDOFF", window.count());
  } else {
    request.Push("LOCK.WAIT", resource, wait.count());
  }
  auto reply = co_await CallBlocking(std::move(request), limit);
  if (!reply) co_return reply.error();
  if (wait_handoff_ && reply->is_error() &&
      StartsWith(*reply->as_error(), "ERR wrong number of arguments")) {
    // An older Keyward: its LOCK.WAIT takes no HANDOFF (wrong number of arguments).
    wait_handoff_ = false;
    Request plain;
    plain.Push("LOCK.WAIT", resource, wait.count());
    reply = co_await CallBlocking(std::move(plain), limit);
    if (!reply) co_return reply.error();
  }
  NoteUnknownCommand(*reply);
  auto free = reply->as_integer();
  if (!free) co_return free.error();
  co_return *free == 1;
}

asio::awaitable<Expected<LockInfo>> Instance::Info(std::string resource, Millis timeout) {
  Request request;
  request.Push("LOCK.INFO", resource);
  auto reply = co_await Call(std::move(request), timeout);
  if (!reply) co_return reply.error();
  NoteUnknownCommand(*reply);
  auto info = ParseLockInfo(*reply);
  if (!info) co_return info.error();
  backend_ = Backend::kKeyward;
  co_return info;
}

}  // namespace keyward::redlock::detail
