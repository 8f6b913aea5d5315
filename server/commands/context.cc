#include "server/commands/context.h"

#include "server/core/errors.h"
#include "server/server.h"

namespace keyward {

CommandContext::CommandContext(Server& server, Client& client, const CommandSpec& cmd)
    : server_(server), client_(client), cmd_(cmd) {}

Database& CommandContext::db() { return server_.keyspace().db(client_.db); }

int64_t CommandContext::now_ms() const { return server_.now_ms(); }

void CommandContext::KeyModified(Database& db, std::string_view key) {
  server_.SignalModifiedKey(db, key);
}

void CommandContext::Notify(uint32_t type_class, std::string_view event, std::string_view key,
                            Database& db) {
  server_.NotifyKeyspaceEvent(type_class, event, key, db.index());
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
