// The reply model: one Reply type for every RESP3 value, with checked typed access.
//
// RESP2 forms map onto the same model: "$-1" and "*-1" both become kNull, and the typed accessors
// accept the RESP2 encodings of RESP3 types (a double sent as a bulk string, a boolean as 0/1, a
// map as a flat array), so calling code does not depend on the negotiated protocol.
//
// Accessors return Expected<T> instead of throwing: a type mismatch is an ordinary outcome when a
// server changes its answer (a missing key gives null), and it sits on the hot path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "keyward/client/error.h"

namespace keyward::client {

// A value or the error_code saying why there is none (a small stand-in for C++23's std::expected).
template <typename T>
class Expected {
 public:
  Expected(T value) : data_(std::move(value)) {}                  // NOLINT: implicit by design
  Expected(std::error_code error) : data_(error) {}               // NOLINT
  Expected(ClientError error) : data_(make_error_code(error)) {}  // NOLINT

  bool has_value() const { return data_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  // Empty (success) when a value is present.
  std::error_code error() const { return has_value() ? std::error_code{} : std::get<1>(data_); }

  // Precondition: has_value(). Misuse throws std::bad_variant_access rather than reading garbage.
  T& value() { return std::get<0>(data_); }
  const T& value() const { return std::get<0>(data_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, std::error_code> data_;
};

enum class ReplyType {
  kSimpleString,  // '+'
  kError,         // '-' and the RESP3 blob error '!'
  kInteger,       // ':'
  kDouble,        // ','
  kBoolean,       // '#'
  kNull,          // '_', and RESP2's "$-1" / "*-1"
  kBulkString,    // '$'
  kVerbatim,      // '=': text plus a three-letter format ("txt", "mkd")
  kBigNumber,     // '(': kept as its decimal text, it may not fit any built-in type
  kArray,         // '*'
  kMap,           // '%'
  kSet,           // '~'
  kPush,          // '>': out-of-band data (pub/sub messages, invalidations)
};
// Attributes ('|') are not a ReplyType: they annotate the value that follows them, so the parser
// attaches them to that value (see Reply::attributes()).

std::string_view ToString(ReplyType type);

class Reply;

// Key/value view of a map (or of a RESP2 flat array of alternating keys and values). Like
// std::span, it does not own: the Reply it came from must outlive it.
class MapView {
 public:
  struct Entry {
    const Reply& key;
    const Reply& value;
  };
  class Iterator {
   public:
    explicit Iterator(const Reply* at) : at_(at) {}
    Entry operator*() const;
    Iterator& operator++();
    bool operator==(const Iterator&) const = default;

   private:
    const Reply* at_;
  };

  MapView() = default;
  explicit MapView(std::span<const Reply> flat) : flat_(flat) {}

  size_t size() const { return flat_.size() / 2; }
  bool empty() const { return flat_.empty(); }
  const Reply& key(size_t i) const { return flat_[2 * i]; }
  const Reply& value(size_t i) const { return flat_[2 * i + 1]; }
  // The value whose key is a string equal to `key`, or nullptr. Linear: maps in replies are small.
  const Reply* Find(std::string_view key) const;

  Iterator begin() const { return Iterator(flat_.data()); }
  Iterator end() const;

 private:
  std::span<const Reply> flat_;
};

class Reply {
 public:
  // A default Reply is null, which is also what a missing value means on the wire.
  Reply() = default;
  Reply(const Reply& other);
  Reply& operator=(const Reply& other);
  Reply(Reply&&) noexcept = default;
  Reply& operator=(Reply&&) noexcept = default;
  ~Reply() = default;

  static Reply Null() { return Reply(); }
  static Reply SimpleString(std::string s) { return Reply(ReplyType::kSimpleString, std::move(s)); }
  static Reply Error(std::string s) { return Reply(ReplyType::kError, std::move(s)); }
  static Reply BulkString(std::string s) { return Reply(ReplyType::kBulkString, std::move(s)); }
  static Reply BigNumber(std::string s) { return Reply(ReplyType::kBigNumber, std::move(s)); }
  static Reply Verbatim(std::string format, std::string text);
  static Reply Integer(int64_t v);
  static Reply Double(double v);
  static Reply Boolean(bool v);
  // kArray, kSet, kPush take the elements in order; kMap takes alternating keys and values.
  static Reply Aggregate(ReplyType type, std::vector<Reply> elements);

  ReplyType type() const { return type_; }
  bool is_null() const { return type_ == ReplyType::kNull; }
  bool is_error() const { return type_ == ReplyType::kError; }
  bool is_aggregate() const;

  // Checked typed access. On a mismatch: kServerError for an error reply, kNullReply for null,
  // kWrongReplyType otherwise, so "the key is missing" and "the server refused" stay apart.
  Expected<int64_t> as_integer() const;  // kInteger
  Expected<double> as_double() const;    // kDouble; also kInteger, or a string holding a number
  Expected<bool> as_boolean() const;     // kBoolean; also RESP2's integer 0 / 1
  // kSimpleString, kBulkString, kVerbatim (the text, without its format) and kBigNumber. The view
  // lives as long as this Reply.
  Expected<std::string_view> as_string() const;
  Expected<std::string_view> as_error() const;  // the text of a kError reply
  // kArray, kSet and kPush: every ordered aggregate, since RESP2 sends sets and pushes as arrays.
  Expected<std::span<const Reply>> as_array() const;
  Expected<MapView> as_map() const;  // kMap; also an array of even length (RESP2's form)

  // "txt", "mkd"; empty otherwise.
  std::string_view verbatim_format() const {
    return type_ == ReplyType::kVerbatim ? std::string_view(format_, 3) : std::string_view();
  }
  // The attributes sent just before this value; empty almost always.
  MapView attributes() const { return attributes_ ? MapView(*attributes_) : MapView(); }
  void set_attributes(std::vector<Reply> flat);

  // Structural equality, attributes excluded (they are metadata). Handy in tests.
  bool operator==(const Reply& other) const;

 private:
  Reply(ReplyType type, std::string s) : type_(type), str_(std::move(s)) {}
  std::error_code Mismatch() const;

  // Plain fields rather than a variant (std::variant cannot hold the incomplete vector<Reply>),
  // kept small: a pipeline of thousands of replies is moved and destroyed element by element, so
  // every byte and every member with a destructor shows in a client's throughput (80 bytes).
  ReplyType type_ = ReplyType::kNull;
  char format_[3] = {};  // kVerbatim only
  union {
    int64_t integer_ = 0;  // kInteger, and kBoolean as 0 / 1
    double double_;        // kDouble
  };
  std::string str_;              // every string-like type and kError
  std::vector<Reply> elements_;  // aggregates; a map is flattened as key, value, key, value
  // Flattened like a map; absent almost always, hence a pointer rather than an empty vector.
  std::unique_ptr<std::vector<Reply>> attributes_;
};

// Defined here because they need the complete Reply.
inline MapView::Entry MapView::Iterator::operator*() const { return {at_[0], at_[1]}; }
inline MapView::Iterator& MapView::Iterator::operator++() {
  at_ += 2;
  return *this;
}
inline MapView::Iterator MapView::end() const { return Iterator(flat_.data() + flat_.size()); }

}  // namespace keyward::client
