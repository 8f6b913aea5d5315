#include "server/storage/rdb_format.h"

#include "server/persistence/rdb_codec.h"

namespace keyward::rdb {
namespace {

// Serialised values go straight into the output string.
class StringSink : public ValueSink {
 public:
  StringSink(std::string& out, bool compress) : out_(out), compress_(compress) {}
  void Write(std::string_view bytes) override { out_.append(bytes); }
  bool compress() const override { return compress_; }

 private:
  std::string& out_;
  bool compress_;
};

// The value without its type byte.
void AppendValueBody(std::string& out, const Entry& e, bool compress) {
  if (e.type() == ObjType::kString) {
    AppendString(out, e.string_value(), compress);
    return;
  }
  StringSink sink(out, compress);
  e.value()->Serialise(sink);
}

}  // namespace

void AppendMagic(std::string& out) {
  out += "REDIS00";
  out += static_cast<char>('0' + kVersion / 10);
  out += static_cast<char>('0' + kVersion % 10);
}

void AppendAux(std::string& out, std::string_view key, std::string_view value) {
  out += static_cast<char>(kOpcodeAux);
  AppendString(out, key);
  AppendString(out, value);
}

void AppendSelectDb(std::string& out, int db) {
  out += static_cast<char>(kOpcodeSelectDb);
  AppendLength(out, static_cast<uint64_t>(db));
}

void AppendResizeDb(std::string& out, uint64_t keys, uint64_t expires) {
  out += static_cast<char>(kOpcodeResizeDb);
  AppendLength(out, keys);
  AppendLength(out, expires);
}

void AppendFunction(std::string& out, std::string_view code) {
  out += static_cast<char>(kOpcodeFunction2);
  AppendString(out, code);
}

void AppendValue(std::string& out, const Entry& e, bool compress) {
  out += static_cast<char>(e.type() == ObjType::kString ? 0 : e.value()->rdb_type());
  AppendValueBody(out, e, compress);
}

void AppendEntryHeader(std::string& out, const Entry& e, bool compress) {
  if (e.has_expire()) {
    out += static_cast<char>(kOpcodeExpireTimeMs);
    AppendLittleEndian(out, static_cast<uint64_t>(e.expire_ms()), 8);
  }
  // The key goes between the type byte and the value.
  out += static_cast<char>(e.type() == ObjType::kString ? 0 : e.value()->rdb_type());
  AppendString(out, e.key(), compress);
}

void AppendEntry(std::string& out, const Entry& e, bool compress) {
  AppendEntryHeader(out, e, compress);
  AppendValueBody(out, e, compress);
}

}  // namespace keyward::rdb
