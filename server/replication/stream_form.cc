#include "server/replication/stream_form.h"

#include "server/coordination/lock_manager.h"
#include "server/core/strings.h"
#include "server/protocol/request_parser.h"

namespace keyward {

std::string ReplicationForm(const Argv& argv) {
  if (argv.empty() || !IsCoordinationRecord(argv[0])) return EncodeCommand(argv);
  std::string payload(kRecordMarker);
  payload += EncodeCommand(argv);
  return EncodeCommand({"ECHO", std::move(payload)});
}

std::optional<Argv> UnwrapRecord(std::span<const std::string_view> args) {
  if (args.size() != 2 || !EqualsIgnoreCase(args[0], "ECHO")) return std::nullopt;
  std::string_view payload = args[1];
  if (payload.substr(0, kRecordMarker.size()) != kRecordMarker) return std::nullopt;
  payload.remove_prefix(kRecordMarker.size());
  RequestParser parser;
  if (parser.Parse(payload) != RequestParser::Status::kOk || parser.consumed() != payload.size()) {
    return std::nullopt;
  }
  if (parser.args().empty() || !IsCoordinationRecord(parser.args()[0])) return std::nullopt;
  return Argv(parser.args().begin(), parser.args().end());
}

}  // namespace keyward
