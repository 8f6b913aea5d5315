#include "server/keyspace/entry.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <new>

#include "server/core/strings.h"

namespace keyward {

namespace {

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

const char* GetVarint(const char* p, uint64_t* v) {
  uint64_t result = 0;
  int shift = 0;
  while (true) {
    uint8_t byte = static_cast<uint8_t>(*p++);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
    shift += 7;
  }
  *v = result;
  return p;
}

// The encoding Redis's tryObjectEncoding gives a freshly set string value.
Encoding ChooseStringEncoding(std::string_view value) {
  int64_t ignored;
  if (value.size() <= 20 && ParseInt64(value, &ignored)) return Encoding::kInt;
  return value.size() <= kEmbStrMaxLen ? Encoding::kEmbStr : Encoding::kRaw;
}

}  // namespace

Entry* Entry::Allocate(std::string_view key, ObjType type, Encoding enc, int64_t expire_ms,
                       size_t value_bytes, char** value_out) {
  size_t size = kHeaderSize + (expire_ms >= 0 ? kExpireSize : 0) + VarintSize(key.size()) +
                key.size() + value_bytes;
  // An empty key with an empty value needs 15 bytes, less than the (padded) Entry object that
  // is constructed in the block. malloc hands out at least 24 bytes anyway: this costs nothing.
  size = std::max(size, sizeof(Entry));
  void* mem = std::malloc(size);
  if (mem == nullptr) throw std::bad_alloc();
  Entry* e = new (mem) Entry;  // default-initialised: no zeroing past the 13 header bytes
  e->type_enc_ =
      static_cast<uint8_t>(static_cast<uint8_t>(type) | (static_cast<uint8_t>(enc) << 4));
  char* p = e->tail();
  if (expire_ms >= 0) {
    e->flags_ |= kHasExpire;
    std::memcpy(p, &expire_ms, sizeof(expire_ms));
    uint32_t no_index = UINT32_MAX;
    std::memcpy(p + 8, &no_index, sizeof(no_index));
    p += kExpireSize;
  }
  p = PutVarint(p, key.size());
  std::memcpy(p, key.data(), key.size());
  *value_out = p + key.size();
  return e;
}

Entry* Entry::NewString(std::string_view key, std::string_view value, int64_t expire_ms) {
  return NewStringWithEncoding(key, value, ChooseStringEncoding(value), expire_ms);
}

Entry* Entry::NewStringWithEncoding(std::string_view key, std::string_view value, Encoding enc,
                                    int64_t expire_ms) {
  char* v;
  if (enc == Encoding::kRaw) {
    Entry* e = Allocate(key, ObjType::kString, enc, expire_ms, sizeof(std::string*), &v);
    auto* s = new std::string(value);
    std::memcpy(v, &s, sizeof(s));
    return e;
  }
  Entry* e =
      Allocate(key, ObjType::kString, enc, expire_ms, VarintSize(value.size()) + value.size(), &v);
  v = PutVarint(v, value.size());
  std::memcpy(v, value.data(), value.size());
  return e;
}

Entry* Entry::NewValue(std::string_view key, std::unique_ptr<Value> value, int64_t expire_ms) {
  char* v;
  Entry* e = Allocate(key, value->type(), Encoding::kRaw, expire_ms, sizeof(Value*), &v);
  Value* raw = value.release();
  std::memcpy(v, &raw, sizeof(raw));
  return e;
}

Entry* Entry::WithKey(Entry* old, std::string_view key, int64_t expire_ms) {
  const char* src = old->value_start();
  size_t value_bytes;
  if (old->type() == ObjType::kString && old->encoding() != Encoding::kRaw) {
    uint64_t len;
    const char* data = GetVarint(src, &len);
    value_bytes = (data - src) + len;
  } else {
    value_bytes = sizeof(void*);  // the external value moves to the new entry
  }
  char* v;
  Entry* e = Allocate(key, old->type(), old->encoding(), expire_ms, value_bytes, &v);
  std::memcpy(v, src, value_bytes);
  e->lru_[0] = old->lru_[0];
  e->lru_[1] = old->lru_[1];
  e->lru_[2] = old->lru_[2];
  return e;
}

Entry* Entry::Duplicate(const Entry* e, std::string_view key, int64_t expire_ms) {
  // Redis's dupStringObject keeps the encoding (an int stays an int, a raw string stays raw).
  if (e->type() == ObjType::kString) {
    return NewStringWithEncoding(key, e->string_value(), e->encoding(), expire_ms);
  }
  return NewValue(key, e->value()->Clone(), expire_ms);
}

void Entry::FreeShell(Entry* e) { std::free(e); }

void Entry::Free(Entry* e) {
  if (e->type() == ObjType::kString) {
    if (e->encoding() == Encoding::kRaw) delete e->raw_string();
  } else {
    delete e->value();
  }
  FreeShell(e);
}

std::string_view Entry::key() const {
  uint64_t len;
  const char* p = GetVarint(key_start(), &len);
  return {p, static_cast<size_t>(len)};
}

const char* Entry::value_start() const {
  uint64_t len;
  const char* p = GetVarint(key_start(), &len);
  return p + len;
}

std::string_view Entry::string_value() const {
  if (encoding() == Encoding::kRaw) return *raw_string();
  uint64_t len;
  const char* p = GetVarint(value_start(), &len);
  return {p, static_cast<size_t>(len)};
}

bool Entry::OverwriteInline(std::string_view value) {
  if (type() != ObjType::kString || encoding() == Encoding::kRaw) return false;
  uint64_t len;
  const char* p = GetVarint(value_start(), &len);
  if (len != value.size()) return false;
  // The entry itself is mutable; value_start() is const only because readers share it.
  std::memcpy(const_cast<char*>(p), value.data(), value.size());
  return true;
}

std::string* Entry::raw_string() const {
  std::string* s;
  std::memcpy(&s, value_start(), sizeof(s));
  return s;
}

Value* Entry::value() const {
  Value* v;
  std::memcpy(&v, value_start(), sizeof(v));
  return v;
}

size_t Entry::MemoryUsage() const {
  size_t n = malloc_usable_size(const_cast<Entry*>(this));
  if (type() != ObjType::kString) return n + value()->MemoryUsage();
  if (encoding() == Encoding::kRaw) {
    const std::string* s = raw_string();
    n += sizeof(std::string) + (s->capacity() > 15 ? s->capacity() + 1 : 0);
  }
  return n;
}

size_t Entry::FreeEffort() const { return type() == ObjType::kString ? 1 : value()->FreeEffort(); }

}  // namespace keyward
