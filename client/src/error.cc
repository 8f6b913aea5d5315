#include "keyward/client/error.h"

#include <string>

namespace keyward::client {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "keyward.client"; }

  std::string message(int value) const override {
    switch (static_cast<ClientError>(value)) {
      case ClientError::kProtocolError:
        return "protocol error in server reply";
      case ClientError::kNestingTooDeep:
        return "reply nesting too deep";
      case ClientError::kBulkTooLarge:
        return "bulk string too large";
      case ClientError::kAggregateTooLarge:
        return "aggregate reply too large";
      case ClientError::kLineTooLong:
        return "reply line too long";
      case ClientError::kWrongReplyType:
        return "wrong reply type";
      case ClientError::kNullReply:
        return "null reply";
      case ClientError::kServerError:
        return "server replied with an error";
      case ClientError::kInvalidUrl:
        return "invalid connection URL";
      case ClientError::kAuthFailed:
        return "authentication failed";
      case ClientError::kTimeout:
        return "timed out";
      case ClientError::kConnectionLost:
        return "connection lost before the reply arrived";
      case ClientError::kNotConnected:
        return "not connected";
      case ClientError::kClosed:
        return "client closed";
      case ClientError::kCancelled:
        return "cancelled";
      case ClientError::kTlsUnavailable:
        return "TLS set-up failed";
      case ClientError::kNoMaster:
        return "no master: the sentinels do not name one, or it is not a master";
    }
    return "unknown client error";
  }
};

}  // namespace

const std::error_category& ClientCategory() {
  // A function-local static: one category object per process, as error_code comparison requires.
  static const Category category;
  return category;
}

bool IsProtocolViolation(std::error_code error) {
  if (error.category() != ClientCategory()) return false;
  switch (static_cast<ClientError>(error.value())) {
    case ClientError::kProtocolError:
    case ClientError::kNestingTooDeep:
    case ClientError::kBulkTooLarge:
    case ClientError::kAggregateTooLarge:
    case ClientError::kLineTooLong:
      return true;
    default:
      return false;
  }
}

std::error_code make_error_code(ClientError e) { return {static_cast<int>(e), ClientCategory()}; }

}  // namespace keyward::client
