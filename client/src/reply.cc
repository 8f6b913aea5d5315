#include "keyward/client/reply.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace keyward::client {

std::string_view ToString(ReplyType type) {
  switch (type) {
    case ReplyType::kSimpleString:
      return "simple-string";
    case ReplyType::kError:
      return "error";
    case ReplyType::kInteger:
      return "integer";
    case ReplyType::kDouble:
      return "double";
    case ReplyType::kBoolean:
      return "boolean";
    case ReplyType::kNull:
      return "null";
    case ReplyType::kBulkString:
      return "bulk-string";
    case ReplyType::kVerbatim:
      return "verbatim";
    case ReplyType::kBigNumber:
      return "big-number";
    case ReplyType::kArray:
      return "array";
    case ReplyType::kMap:
      return "map";
    case ReplyType::kSet:
      return "set";
    case ReplyType::kPush:
      return "push";
  }
  return "unknown";
}

const Reply* MapView::Find(std::string_view key) const {
  for (Entry e : *this) {
    auto k = e.key.as_string();
    if (k && *k == key) return &e.value;
  }
  return nullptr;
}

Reply::Reply(const Reply& other)
    : type_(other.type_), integer_(other.integer_), str_(other.str_), elements_(other.elements_) {
  std::memcpy(format_, other.format_, sizeof format_);
  if (other.attributes_) attributes_ = std::make_unique<std::vector<Reply>>(*other.attributes_);
}

Reply& Reply::operator=(const Reply& other) {
  if (this != &other) *this = Reply(other);
  return *this;
}

void Reply::set_attributes(std::vector<Reply> flat) {
  if (flat.empty()) {
    attributes_.reset();
  } else {
    attributes_ = std::make_unique<std::vector<Reply>>(std::move(flat));
  }
}

Reply Reply::Verbatim(std::string format, std::string text) {
  // RESP3 formats are exactly three characters ("txt", "mkd"); shorter ones are padded.
  Reply r(ReplyType::kVerbatim, std::move(text));
  std::memcpy(r.format_, format.data(), std::min<size_t>(format.size(), sizeof r.format_));
  return r;
}

Reply Reply::Integer(int64_t v) {
  Reply r;
  r.type_ = ReplyType::kInteger;
  r.integer_ = v;
  return r;
}

Reply Reply::Double(double v) {
  Reply r;
  r.type_ = ReplyType::kDouble;
  r.double_ = v;
  return r;
}

Reply Reply::Boolean(bool v) {
  Reply r;
  r.type_ = ReplyType::kBoolean;
  r.integer_ = v ? 1 : 0;
  return r;
}

Reply Reply::Aggregate(ReplyType type, std::vector<Reply> elements) {
  Reply r;
  r.type_ = type;
  r.elements_ = std::move(elements);
  return r;
}

bool Reply::is_aggregate() const {
  return type_ == ReplyType::kArray || type_ == ReplyType::kMap || type_ == ReplyType::kSet ||
         type_ == ReplyType::kPush;
}

std::error_code Reply::Mismatch() const {
  if (type_ == ReplyType::kError) return ClientError::kServerError;
  if (type_ == ReplyType::kNull) return ClientError::kNullReply;
  return ClientError::kWrongReplyType;
}

Expected<int64_t> Reply::as_integer() const {
  if (type_ == ReplyType::kInteger) return integer_;
  return Mismatch();
}

Expected<double> Reply::as_double() const {
  switch (type_) {
    case ReplyType::kDouble:
      return double_;
    case ReplyType::kInteger:
      return static_cast<double>(integer_);
    case ReplyType::kSimpleString:
    case ReplyType::kBulkString: {
      // RESP2 sends scores as bulk strings ("1.5", "inf", "-inf"). strtod wants a terminated
      // string, which str_ is; the whole text must be consumed.
      if (str_.empty()) return ClientError::kWrongReplyType;
      char* end = nullptr;
      double v = std::strtod(str_.c_str(), &end);
      if (end != str_.c_str() + str_.size()) return ClientError::kWrongReplyType;
      return v;
    }
    default:
      return Mismatch();
  }
}

Expected<bool> Reply::as_boolean() const {
  if (type_ == ReplyType::kBoolean) return integer_ != 0;
  if (type_ == ReplyType::kInteger && (integer_ == 0 || integer_ == 1)) return integer_ == 1;
  return Mismatch();
}

Expected<std::string_view> Reply::as_string() const {
  switch (type_) {
    case ReplyType::kSimpleString:
    case ReplyType::kBulkString:
    case ReplyType::kVerbatim:
    case ReplyType::kBigNumber:
      return std::string_view(str_);
    default:
      return Mismatch();
  }
}

Expected<std::string_view> Reply::as_error() const {
  if (type_ == ReplyType::kError) return std::string_view(str_);
  if (type_ == ReplyType::kNull) return ClientError::kNullReply;
  return ClientError::kWrongReplyType;
}

Expected<std::span<const Reply>> Reply::as_array() const {
  if (type_ == ReplyType::kArray || type_ == ReplyType::kSet || type_ == ReplyType::kPush) {
    return std::span<const Reply>(elements_);
  }
  return Mismatch();
}

Expected<MapView> Reply::as_map() const {
  if (type_ == ReplyType::kMap) return MapView(elements_);
  if (type_ == ReplyType::kArray) {
    if (elements_.size() % 2 != 0) return ClientError::kWrongReplyType;
    return MapView(elements_);
  }
  return Mismatch();
}

bool Reply::operator==(const Reply& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case ReplyType::kNull:
      return true;
    case ReplyType::kInteger:
    case ReplyType::kBoolean:
      return integer_ == other.integer_;
    case ReplyType::kDouble:
      // NaN is a legal RESP3 double; two NaN replies are the same reply.
      return double_ == other.double_ || (std::isnan(double_) && std::isnan(other.double_));
    case ReplyType::kVerbatim:
      return verbatim_format() == other.verbatim_format() && str_ == other.str_;
    case ReplyType::kArray:
    case ReplyType::kMap:
    case ReplyType::kSet:
    case ReplyType::kPush:
      return elements_ == other.elements_;
    default:
      return str_ == other.str_;
  }
}

}  // namespace keyward::client
