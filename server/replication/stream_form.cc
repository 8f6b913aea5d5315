#include "server/replication/stream_form.h"

#include "server/core/strings.h"
#include "server/protocol/request_parser.h"

namespace keyward {

bool IsCoordinationRecord(const Argv& argv) {
  if (argv.empty()) return false;
  const std::string_view name = argv[0];
  return EqualsIgnoreCase(name, "LOCK.RECORD") || EqualsIgnoreCase(name, "LOCK.FLOOR") ||
         EqualsIgnoreCase(name, "LOCK.EPOCH") || EqualsIgnoreCase(name, "LOCK.LEASE");
}

std::string ReplicationForm(const Argv& argv) {
  if (!IsCoordinationRecord(argv)) return EncodeCommand(argv);
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
  Argv argv(parser.args().begin(), parser.args().end());
  if (!IsCoordinationRecord(argv)) return std::nullopt;
  return argv;
}

}  // namespace keyward
