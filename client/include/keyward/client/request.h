// Request encoder: accumulates commands as RESP multibulks (arrays of bulk strings), the only
// request form Redis accepts from clients besides inline commands. Sans-I/O: the connection code
// writes payload() to the socket and expects size() replies.
//
//   Request req;
//   req.Push("SET", "k", 42);                       // *3 $3 SET $1 k $2 42
//   req.Push("ZADD", "z", 1.5, "member");           // doubles in their shortest round-trip text
//   req.Push("DEL", std::vector<std::string>{...}); // a range argument is flattened in place
//   req.PushRange("MSET", std::map<...>{...});      // pairs become key, value, key, value
//   conn.Write(req.payload()); ... read req.size() replies.
//
// Accepted arguments (each becomes one bulk string, or several for a range):
// - anything convertible to std::string_view (std::string, const char*, string literals). Bulk
//   strings are binary safe: a string_view holding NULs is sent whole (a const char* stops at its
//   first NUL, as always);
// - integers, in decimal. bool and the character types are refused at compile time: Redis has no
//   boolean argument, and 'x' silently becoming "120" is never what the caller meant;
// - floating point, as the shortest text that reads back to the same value (std::to_chars):
//   0.1 -> "0.1", 1e300 -> "1e+300", infinities -> "inf" / "-inf" (which ZADD and friends accept).
//   A float is shortest as a float (0.1f -> "0.1"), not widened to double first;
// - forward ranges (std::vector, std::span, std::array, std::map, ...) of the above, or of
//   std::pair of the above (a map's key/value entries), flattened into the command.
//
// size() counts commands. expected_replies() counts the replies to match to this request: one per
// command except the subscribe family (SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
// SSUBSCRIBE, SUNSUBSCRIBE), which answers with one confirmation per channel, delivered as push
// messages (RESP3 sends them as pushes; the connection recognises RESP2's arrays).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace keyward::client {

namespace detail {

template <typename T>
concept CharacterType = std::same_as<T, char> || std::same_as<T, wchar_t> ||
    std::same_as<T, char8_t> || std::same_as<T, char16_t> || std::same_as<T, char32_t>;

// One argument that becomes exactly one bulk string.
template <typename T>
concept BulkScalar = std::convertible_to < const std::remove_cvref_t<T>
&, std::string_view > ||
       (std::integral<std::remove_cvref_t<T>> && !std::same_as<std::remove_cvref_t<T>, bool> &&
        !CharacterType<std::remove_cvref_t<T>>) ||
       std::floating_point<std::remove_cvref_t<T>>;

// A key/value entry (std::pair, and so every std::map's value_type): two bulk strings.
template <typename T>
concept BulkPair = requires {
  typename std::remove_cvref_t<T>::first_type;
  typename std::remove_cvref_t<T>::second_type;
}
&&BulkScalar<typename std::remove_cvref_t<T>::first_type>&&
    BulkScalar<typename std::remove_cvref_t<T>::second_type>;

// A range flattened into the command. Forward, because it is walked twice: once to count the
// elements for the array header, once to encode them. Strings are scalars, not ranges of chars.
template <typename R>
concept BulkRange = std::ranges::forward_range<const std::remove_cvref_t<R>> && !BulkScalar<R> &&
                    (BulkScalar<std::ranges::range_value_t<const std::remove_cvref_t<R>>> ||
                     BulkPair<std::ranges::range_value_t<const std::remove_cvref_t<R>>>);

}  // namespace detail

// Anything Request::Push accepts as one argument.
template <typename T>
concept BulkArg = detail::BulkScalar<T> || detail::BulkRange<T>;

class Request {
 public:
  Request() = default;

  // Appends one command: `command` followed by `args`, each encoded as described above.
  template <BulkArg... Args>
  void Push(std::string_view command, const Args&... args) {
    AppendArrayHeader(1 + (size_t{0} + ... + CountOf(args)));
    AppendBulk(command);
    (Append(args), ...);
    ++commands_;
    if (IsSubscribeFamily(command)) {
      has_subscribe_ = true;
    } else {
      ++expected_replies_;
    }
  }

  // Appends `command` followed by every element of `range` (a variadic command such as DEL keys
  // or MSET pairs). Same as Push(command, range); the name says what the call site does.
  template <detail::BulkRange Range>
  void PushRange(std::string_view command, const Range& range) {
    Push(command, range);
  }

  // `command key elements...`: HSET key field value..., SADD key member..., RPUSH key value...
  template <detail::BulkScalar Key, detail::BulkRange Range>
  void PushRange(std::string_view command, const Key& key, const Range& range) {
    Push(command, key, range);
  }

  // Appends every command of `other` (MULTI ... EXEC wrapping, merging pipelines).
  void Append(const Request& other) {
    payload_ += other.payload_;
    commands_ += other.commands_;
    expected_replies_ += other.expected_replies_;
    has_subscribe_ = has_subscribe_ || other.has_subscribe_;
  }

  // Commands pushed since construction or the last Clear(): the number of replies to expect.
  size_t size() const { return commands_; }
  bool empty() const { return commands_ == 0; }
  // Replies the connection matches to this request (see above).
  size_t expected_replies() const { return expected_replies_; }
  // True when a subscribe-family command is among the commands.
  bool has_subscribe() const { return has_subscribe_; }
  // Moves the encoded bytes out, leaving the request empty (the connection takes them this way
  // instead of copying).
  std::string TakePayload() {
    std::string out = std::move(payload_);
    Clear();
    return out;
  }

  // SUBSCRIBE and the five others whose answers are confirmations pushed per channel.
  static bool IsSubscribeFamily(std::string_view command);
  // The encoded bytes, ready to be written as they are. Valid until the next non-const call.
  std::string_view payload() const { return payload_; }

  // Forgets every command but keeps the buffer's capacity, so a pipeline can reuse one Request.
  void Clear() {
    payload_.clear();
    commands_ = 0;
    expected_replies_ = 0;
    has_subscribe_ = false;
  }
  void Reserve(size_t bytes) { payload_.reserve(bytes); }

 private:
  template <typename T>
  static size_t CountOf(const T& arg) {
    if constexpr (detail::BulkScalar<T>) {
      return 1;
    } else {
      using Element = std::ranges::range_value_t<const T>;
      const size_t per_element = detail::BulkPair<Element> ? 2 : 1;
      if constexpr (std::ranges::sized_range<const T>) {
        return per_element * static_cast<size_t>(std::ranges::size(arg));
      } else {
        return per_element * static_cast<size_t>(std::ranges::distance(arg));
      }
    }
  }

  template <typename T>
  void Append(const T& arg) {
    if constexpr (detail::BulkScalar<T>) {
      AppendScalar(arg);
    } else {
      for (const auto& element : arg) {
        if constexpr (detail::BulkPair<decltype(element)>) {
          AppendScalar(element.first);
          AppendScalar(element.second);
        } else {
          AppendScalar(element);
        }
      }
    }
  }

  template <typename T>
  void AppendScalar(const T& arg) {
    using U = std::remove_cvref_t<T>;
    if constexpr (std::convertible_to<const U&, std::string_view>) {
      AppendBulk(std::string_view(arg));
    } else if constexpr (std::floating_point<U>) {
      AppendFloat(arg);
    } else if constexpr (std::is_signed_v<U>) {
      AppendSigned(static_cast<int64_t>(arg));
    } else {
      AppendUnsigned(static_cast<uint64_t>(arg));
    }
  }

  void AppendArrayHeader(size_t count);
  void AppendBulk(std::string_view bytes);
  void AppendSigned(int64_t value);
  void AppendUnsigned(uint64_t value);
  // One overload per type: each is formatted at its own precision.
  void AppendFloat(float value);
  void AppendFloat(double value);
  void AppendFloat(long double value);

  std::string payload_;
  size_t commands_ = 0;
  size_t expected_replies_ = 0;
  bool has_subscribe_ = false;
};

}  // namespace keyward::client
