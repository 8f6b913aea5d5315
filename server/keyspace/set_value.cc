#include "server/keyspace/set_value.h"

#include <charconv>

#include "server/core/strings.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {

std::string_view SetMember::View(char* buf) const {
  if (!is_int) return str;
  auto [end, ec] = std::to_chars(buf, buf + 21, value);
  return {buf, static_cast<size_t>(end - buf)};
}

std::string SetMember::ToString() const {
  char buf[21];
  return std::string(View(buf));
}

std::unique_ptr<SetValue> SetValue::CreateFor(std::string_view first) {
  int64_t v;
  if (ParseInt64(first, &v)) return std::make_unique<SetValue>();
  return CreateHashTable();
}

std::unique_ptr<SetValue> SetValue::CreateHashTable() {
  auto set = std::make_unique<SetValue>();
  set->rep_ = std::make_unique<FieldTable>();
  return set;
}

std::unique_ptr<SetValue> SetValue::FromIntset(Intset members) {
  auto set = std::make_unique<SetValue>();
  set->rep_ = std::move(members);
  return set;
}

std::unique_ptr<Value> SetValue::Clone() const {
  auto copy = std::make_unique<SetValue>();
  if (const Intset* is = std::get_if<Intset>(&rep_)) {
    copy->rep_ = Intset(*is);
  } else {
    copy->rep_ = std::make_unique<FieldTable>(table());
  }
  return copy;
}

size_t SetValue::MemoryUsage() const {
  if (const Intset* is = std::get_if<Intset>(&rep_)) return sizeof(*this) + is->MemoryUsage();
  return sizeof(*this) + sizeof(FieldTable) + table().MemoryUsage();
}

std::unique_ptr<ValueWriter> SetValue::NewWriter() const {
  if (is_intset()) return Value::NewWriter();
  return std::make_unique<FieldTableWriter>(table(), /*with_values=*/false);
}

void SetValue::Serialise(ValueSink& out) const {
  if (const Intset* is = std::get_if<Intset>(&rep_)) {
    // RDB_TYPE_SET_INTSET: the blob as it is in memory, saved as a string (rdbSaveRawString).
    std::string bytes;
    rdb::AppendString(bytes, is->bytes(), out.compress());
    out.Write(bytes);
    return;
  }
  SerialiseWithWriter(*this, out);
}

size_t SetValue::size() const {
  if (const Intset* is = std::get_if<Intset>(&rep_)) return is->size();
  return table().size();
}

void SetValue::ConvertToHashTable() {
  Intset* is = std::get_if<Intset>(&rep_);
  if (is == nullptr) return;
  auto t = std::make_unique<FieldTable>();
  char buf[21];
  for (uint32_t i = 0, n = is->size(); i < n; i++) {
    t->Add(SetMember{{}, is->Get(i), true}.View(buf));
  }
  rep_ = std::move(t);
}

bool SetValue::AddInt(int64_t v, uint64_t max_intset_entries) {
  Intset* is = std::get_if<Intset>(&rep_);
  if (is == nullptr) {
    char buf[21];
    return table().Add(SetMember{{}, v, true}.View(buf));
  }
  if (!is->Add(v)) return false;
  if (max_intset_entries > kIntsetHardLimit) max_intset_entries = kIntsetHardLimit;
  if (is->size() > max_intset_entries) ConvertToHashTable();
  return true;
}

bool SetValue::Add(std::string_view member, uint64_t max_intset_entries) {
  if (is_intset()) {
    int64_t v;
    if (ParseInt64(member, &v)) return AddInt(v, max_intset_entries);
    // A string member: the intset cannot hold it, and it cannot be present.
    ConvertToHashTable();
  }
  return table().Add(member);
}

bool SetValue::Remove(std::string_view member) {
  if (Intset* is = std::get_if<Intset>(&rep_)) {
    int64_t v;
    return ParseInt64(member, &v) && is->Remove(v);
  }
  return table().Remove(member);
}

bool SetValue::Contains(std::string_view member) {
  if (Intset* is = std::get_if<Intset>(&rep_)) {
    int64_t v;
    return ParseInt64(member, &v) && is->Contains(v);
  }
  return table().Find(member) != nullptr;
}

bool SetValue::ContainsInt(int64_t v) {
  if (Intset* is = std::get_if<Intset>(&rep_)) return is->Contains(v);
  char buf[21];
  return table().Find(SetMember{{}, v, true}.View(buf)) != nullptr;
}

SetMember SetValue::Random(uint64_t (*rng)(void*), void* rng_state) {
  if (Intset* is = std::get_if<Intset>(&rep_)) {
    return SetMember{{}, is->Get(static_cast<uint32_t>(rng(rng_state) % is->size())), true};
  }
  return SetMember{table().Random(rng, rng_state)->key(), 0, false};
}

uint64_t SetValue::Scan(uint64_t cursor, const std::function<void(const SetMember&)>& fn) {
  if (is_intset()) {
    ForEach(fn);
    return 0;
  }
  return table().Scan(cursor, [&fn](const FieldNode* node) {
    fn(SetMember{node->key(), 0, false});
  });
}

}  // namespace keyward
