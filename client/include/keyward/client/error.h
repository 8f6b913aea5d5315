// Errors of the client library, as std::error_code (layer 3 of the project's error rules).
//
// A server error *reply* ("-ERR ...") is data, not a ClientError: it is a Reply of type kError.
// kServerError only appears when typed access is attempted on such a reply, so that callers can
// tell "the server refused" from "the bytes were bad" or "the socket died".
#pragma once

#include <system_error>

namespace keyward::client {

enum class ClientError {
  // Values start at 1: a zero error_code means success.
  kProtocolError = 1,  // malformed RESP from the server; the connection cannot be trusted
  kNestingTooDeep,     // aggregates nested deeper than ParserLimits::max_depth
  kBulkTooLarge,       // a bulk string longer than ParserLimits::max_bulk_len
  kAggregateTooLarge,  // an aggregate with more elements than ParserLimits::max_aggregate_len
  kLineTooLong,        // a header or simple line longer than ParserLimits::max_line_len
  kWrongReplyType,     // typed access to a reply of another type (as_integer() on a bulk ...)
  kNullReply,          // typed access to a null reply (a missing key, usually)
  kServerError,        // typed access to an error reply
  kInvalidUrl,         // a connection URL that ParseUrl() cannot read (see config.h)
  kAuthFailed,         // the server refused the credentials on connect (WRONGPASS, NOAUTH, ...)
  kTimeout,            // a connect or a command did not finish within its time limit
  kConnectionLost,     // the connection closed with the command written but its reply not read:
                       // the server may or may not have executed it
  kNotConnected,       // no connection, and the client was told not to wait for one
  kClosed,             // the client was closed (Close() or its destructor) before completion
  kCancelled,          // the caller cancelled the command (asio cancellation)
  kTlsUnavailable,     // TLS could not be set up: an unreadable CA or key file, a failed handshake,
                       // a certificate that does not verify or does not name the server
  kNoMaster,           // redis+sentinel://: no sentinel answered with the master's address, or
                       // the server it named is not (or no longer) a master
};

const std::error_category& ClientCategory();

// True for the errors that mean the server sent bytes that are not (acceptable) RESP: the
// connection is out of step and must be dropped, and callers are told so rather than being told
// the connection was merely lost.
bool IsProtocolViolation(std::error_code error);

// Found by argument-dependent lookup, so `std::error_code ec = ClientError::kNullReply;` works.
std::error_code make_error_code(ClientError e);

}  // namespace keyward::client

template <>
struct std::is_error_code_enum<keyward::client::ClientError> : std::true_type {};
