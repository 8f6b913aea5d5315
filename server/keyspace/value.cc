#include "server/keyspace/value.h"

#include <cstdint>

namespace keyward {

namespace {

// The default: the whole value in one piece.
class WholeValueWriter : public ValueWriter {
 public:
  explicit WholeValueWriter(const Value& v) : v_(v) {}
  bool WriteSome(ValueSink& out, size_t) override {
    v_.Serialise(out);
    return true;
  }

 private:
  const Value& v_;
};

}  // namespace

std::unique_ptr<ValueWriter> Value::NewWriter() const {
  return std::make_unique<WholeValueWriter>(*this);
}

void SerialiseWithWriter(const Value& v, ValueSink& out) {
  std::unique_ptr<ValueWriter> w = v.NewWriter();
  while (!w->WriteSome(out, SIZE_MAX)) {
  }
}

std::string_view TypeName(ObjType type) {
  switch (type) {
    case ObjType::kString:
      return "string";
    case ObjType::kList:
      return "list";
    case ObjType::kSet:
      return "set";
    case ObjType::kZSet:
      return "zset";
    case ObjType::kHash:
      return "hash";
    case ObjType::kStream:
      return "stream";
  }
  return "unknown";
}

std::string_view EncodingName(Encoding encoding) {
  switch (encoding) {
    case Encoding::kRaw:
      return "raw";
    case Encoding::kInt:
      return "int";
    case Encoding::kHashTable:
      return "hashtable";
    case Encoding::kIntSet:
      return "intset";
    case Encoding::kSkipList:
      return "skiplist";
    case Encoding::kEmbStr:
      return "embstr";
    case Encoding::kQuickList:
      return "quicklist";
    case Encoding::kStream:
      return "stream";
    case Encoding::kListPack:
      return "listpack";
  }
  return "unknown";
}

}  // namespace keyward
