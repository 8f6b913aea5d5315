#include "tests/support/resp.h"

#include <stdexcept>

namespace keyward::test {

std::vector<std::string> Resp::strings() const {
  std::vector<std::string> out;
  for (const auto& e : elems) {
    switch (e.type) {
      case Type::kInt:
        out.push_back(std::to_string(e.integer));
        break;
      case Type::kNull:
      case Type::kNullArray:
        out.push_back("(nil)");
        break;
      default:
        out.push_back(e.str);
        break;
    }
  }
  return out;
}

bool Resp::operator==(std::string_view s) const {
  return (type == Type::kSimple || type == Type::kBulk || type == Type::kVerbatim) && str == s;
}

std::ostream& operator<<(std::ostream& os, const Resp& r) {
  switch (r.type) {
    case Resp::Type::kSimple:
      return os << "+" << r.str;
    case Resp::Type::kError:
      return os << "-" << r.str;
    case Resp::Type::kInt:
      return os << "(integer) " << r.integer;
    case Resp::Type::kBulk:
      return os << "\"" << r.str << "\"";
    case Resp::Type::kNone:
      return os << "(no reply)";
    case Resp::Type::kNull:
      return os << "(nil)";
    case Resp::Type::kNullArray:
      return os << "(nil array)";
    case Resp::Type::kDouble:
      return os << "(double) " << r.str;
    case Resp::Type::kBool:
      return os << (r.integer ? "(true)" : "(false)");
    case Resp::Type::kBigNumber:
      return os << "(big) " << r.str;
    case Resp::Type::kVerbatim:
      return os << "(verbatim) \"" << r.str << "\"";
    default:
      break;
  }
  os << (r.type == Resp::Type::kMap ? "{" : "[");
  for (size_t i = 0; i < r.elems.size(); i++) os << (i ? ", " : "") << r.elems[i];
  return os << (r.type == Resp::Type::kMap ? "}" : "]");
}

namespace {

std::string_view Line(std::string_view bytes, size_t* pos) {
  size_t end = bytes.find("\r\n", *pos);
  if (end == std::string_view::npos) throw std::runtime_error("incomplete reply");
  std::string_view line = bytes.substr(*pos, end - *pos);
  *pos = end + 2;
  return line;
}

Resp Parse(std::string_view bytes, size_t* pos) {
  if (*pos >= bytes.size()) throw std::runtime_error("incomplete reply");
  char type = bytes[(*pos)++];
  std::string_view line = Line(bytes, pos);
  Resp r;
  auto aggregate = [&](Resp::Type t, int64_t n) {
    r.type = t;
    for (int64_t i = 0; i < n; i++) r.elems.push_back(Parse(bytes, pos));
  };
  switch (type) {
    case '+':
      r.type = Resp::Type::kSimple;
      r.str = line;
      break;
    case '-':
      r.type = Resp::Type::kError;
      r.str = line;
      break;
    case ':':
      r.type = Resp::Type::kInt;
      r.integer = std::stoll(std::string(line));
      break;
    case ',':
      r.type = Resp::Type::kDouble;
      r.str = line;
      break;
    case '#':
      r.type = Resp::Type::kBool;
      r.integer = line == "t";
      break;
    case '(':
      r.type = Resp::Type::kBigNumber;
      r.str = line;
      break;
    case '_':
      r.type = Resp::Type::kNull;
      break;
    case '$':
    case '=':
    case '!': {
      int64_t len = std::stoll(std::string(line));
      if (len < 0) {
        r.type = Resp::Type::kNull;
        break;
      }
      if (*pos + len + 2 > bytes.size()) throw std::runtime_error("incomplete reply");
      r.str = bytes.substr(*pos, len);
      *pos += len + 2;
      r.type = type == '$'   ? Resp::Type::kBulk
               : type == '=' ? Resp::Type::kVerbatim
                             : Resp::Type::kError;
      if (type == '=') r.str = r.str.substr(4);
      break;
    }
    case '*': {
      int64_t n = std::stoll(std::string(line));
      if (n < 0) {
        r.type = Resp::Type::kNullArray;
        break;
      }
      aggregate(Resp::Type::kArray, n);
      break;
    }
    case '~':
      aggregate(Resp::Type::kSet, std::stoll(std::string(line)));
      break;
    case '>':
      aggregate(Resp::Type::kPush, std::stoll(std::string(line)));
      break;
    case '%':
      aggregate(Resp::Type::kMap, 2 * std::stoll(std::string(line)));
      break;
    default:
      throw std::runtime_error(std::string("bad reply type: ") + type);
  }
  return r;
}

}  // namespace

Resp ParseResp(std::string_view bytes, size_t* used) {
  size_t pos = 0;
  Resp r = Parse(bytes, &pos);
  if (used != nullptr) *used = pos;
  return r;
}

}  // namespace keyward::test
