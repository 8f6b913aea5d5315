// Builds RESP2/RESP3 replies into a byte buffer. Handlers never write protocol bytes themselves:
// they call the builder, which picks the encoding for the connection's protocol version (a map is
// '%' in RESP3 and a flat '*' array in RESP2, a null is '_' or '$-1' / '*-1', ...).
//
// The builder writes into a sink it does not own. A connection points it at its output buffer;
// MULTI/EXEC and scripting (later issues) point it at a capture buffer and parse the result.
#pragma once

#include <charconv>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace keyward {

class ReplyBuilder {
 public:
  explicit ReplyBuilder(std::string* sink = nullptr) : sink_(sink) {}

  void set_sink(std::string* sink) { sink_ = sink; }
  std::string* sink() const { return sink_; }
  void set_resp3(bool resp3) { resp3_ = resp3; }
  bool resp3() const { return resp3_; }

  void SendOk() { Raw("+OK\r\n"); }
  void SendSimple(std::string_view s);
  // `text` without the leading '-'; an error without an uppercase code gets "ERR " in front.
  void SendError(std::string_view text);
  void SendLong(int64_t v);
  void SendBulk(std::string_view s);
  void SendNull();       // null bulk string: $-1 / _
  void SendNullArray();  // null array: *-1 / _
  void SendDouble(double d);
  void SendBool(bool b);
  void SendVerbatim(std::string_view s, std::string_view format = "txt");
  void SendBigNumber(std::string_view digits);

  void StartArray(size_t n) { Header('*', n); }
  void StartMap(size_t n);  // followed by 2n elements
  void StartSet(size_t n);
  void StartPush(size_t n);
  void SendEmptyArray() { Raw("*0\r\n"); }

  // An aggregate whose length is known only after its elements are written (Redis's
  // addReplyDeferredLen): DeferLength() marks where its header goes, SetDeferredArray/Map
  // inserts the header there once the elements follow it.
  size_t DeferLength() const { return sink_->size(); }
  void SetDeferredArray(size_t at, size_t n) { InsertHeader(at, '*', n); }
  void SetDeferredMap(size_t at, size_t n) {
    if (resp3_) return InsertHeader(at, '%', n);
    InsertHeader(at, '*', 2 * n);
  }

  // The reply of "<COMMAND> HELP", framed like Redis's addReplyHelp: a header line, the
  // command's own lines, then the HELP entry.
  void SendHelp(std::string_view command, std::span<const std::string_view> lines);

  // Bytes already in RESP form (e.g. a pre-serialised pub/sub message).
  void Raw(std::string_view bytes) { sink_->append(bytes); }

  // Counts replies written since the last reset (used by CLIENT REPLY and statistics).
  size_t bytes_written() const { return sink_->size(); }

 private:
  void Header(char type, size_t n) {
    char buf[24];
    buf[0] = type;
    auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
    *end++ = '\r';
    *end++ = '\n';
    sink_->append(buf, end - buf);
  }

  void InsertHeader(size_t at, char type, size_t n) {
    char buf[24];
    buf[0] = type;
    auto [end, ec] = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
    *end++ = '\r';
    *end++ = '\n';
    sink_->insert(at, buf, end - buf);
  }

  std::string* sink_;
  bool resp3_ = false;
};

}  // namespace keyward
