#include "server/engine/context.h"

#include "server/core/errors.h"
#include "server/engine/executor.h"

namespace keyward {

CommandContext::CommandContext(Executor& executor, Client& client, const CommandSpec& cmd,
                               CallerKind caller, bool replicate)
    : executor_(executor),
      client_(client),
      cmd_(cmd),
      caller_(caller),
      replicate_(replicate),
      db_at_start_(client.db) {}

Services& CommandContext::services() { return *executor_.services(); }

Keyspace& CommandContext::keyspace() { return executor_.keyspace(); }

const ServerSettings& CommandContext::settings() const { return executor_.settings(); }

Database& CommandContext::db() { return executor_.keyspace().db(client_.db); }

int64_t CommandContext::now_ms() const { return executor_.keyspace().now_ms(); }

void CommandContext::KeyModified(Database& db, std::string_view key) {
  // Transactions watching the key fail, clients caching it are told, and waiters on the key
  // look again.
  executor_.transactions().Touch(db, key);
  executor_.tracking().InvalidateKey(key);
  executor_.blocking().SignalKeyReady(db.index(), key);
}

void CommandContext::Notify(uint32_t type_class, std::string_view event, std::string_view key,
                            Database& db) {
  executor_.notifier().Notify(type_class, event, key, db.index());
}

void CommandContext::AddDirty(uint64_t n) {
  dirty_ += n;
  executor_.propagation().AddDirty(n);
}

bool CommandContext::propagating() const { return replicate_ && executor_.propagation().active(); }

void CommandContext::Propagate(std::initializer_list<std::string_view> argv) {
  explicit_form_ = true;
  if (propagating()) executor_.propagation().Add(client_.db, argv);
}

void CommandContext::Propagate(Argv argv) {
  explicit_form_ = true;
  if (propagating()) executor_.propagation().Add(client_.db, std::move(argv));
}

void CommandContext::PropagateToReplicas(Argv argv) {
  if (propagating()) executor_.propagation().AddForReplicas(std::move(argv));
}

void CommandContext::Finish(CmdArgs args) {
  if (dirty_ == 0 || explicit_form_ || only_collected_ || args.empty() || !propagating()) return;
  executor_.propagation().Add(db_at_start_, Argv(args.begin(), args.end()));
}

void CommandContext::SendPush(std::string_view bytes) {
  client_.transport()->output().append(bytes);
}

void CommandContext::SendStatus(OpStatus status) {
  switch (status) {
    case OpStatus::kOk:
      return rb().SendOk();
    case OpStatus::kKeyNotFound:
      return rb().SendError(errors::kNoSuchKey);
    case OpStatus::kKeyExists:
      return rb().SendError(errors::kBusyKey);
    case OpStatus::kWrongType:
      return rb().SendError(errors::kWrongType);
    case OpStatus::kNotAnInteger:
      return rb().SendError(errors::kNotInteger);
    case OpStatus::kNotAFloat:
      return rb().SendError(errors::kNotFloat);
    case OpStatus::kOutOfRange:
      return rb().SendError(errors::kNotInteger);
    case OpStatus::kOverflow:
      return rb().SendError(errors::kOverflow);
    case OpStatus::kNanOrInfinity:
      return rb().SendError(errors::kIncrNanOrInf);
    case OpStatus::kTooLarge:
      return rb().SendError(errors::kStringTooLong);
    case OpStatus::kSyntaxError:
      return rb().SendError(errors::kSyntax);
    case OpStatus::kSkipped:
      return rb().SendNull();
  }
}

}  // namespace keyward
