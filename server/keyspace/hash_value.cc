#include "server/keyspace/hash_value.h"

#include <string>
#include <unordered_set>

#include "server/persistence/rdb_codec.h"

namespace keyward {

namespace {

LpElement StringElement(std::string_view s) {
  LpElement e;
  e.str = s;
  return e;
}

}  // namespace

HashValue::HashValue(const HashValue& other) : Value() {
  if (other.is_listpack()) {
    rep_ = other.listpack();
  } else {
    rep_ = std::make_unique<FieldTable>(other.table());
  }
}

std::unique_ptr<HashValue> HashValue::FromListpack(Listpack lp) {
  if (lp.size() % 2 != 0) return nullptr;
  std::unordered_set<std::string> fields;
  fields.reserve(lp.size() / 2);
  for (uint32_t p = lp.First(); p != Listpack::kEnd; p = lp.Next(lp.Next(p))) {
    if (!fields.insert(lp.Get(p).ToString()).second) return nullptr;
  }
  auto hash = std::make_unique<HashValue>();
  hash->rep_ = std::move(lp);
  return hash;
}

std::unique_ptr<Value> HashValue::Clone() const { return std::make_unique<HashValue>(*this); }

size_t HashValue::MemoryUsage() const {
  if (is_listpack()) return sizeof(*this) + listpack().MemoryUsage();
  return sizeof(*this) + sizeof(FieldTable) + table().MemoryUsage();
}

std::unique_ptr<ValueWriter> HashValue::NewWriter() const {
  if (is_listpack()) return Value::NewWriter();
  return std::make_unique<FieldTableWriter>(table(), /*with_values=*/true);
}

void HashValue::Serialise(ValueSink& out) const {
  if (is_listpack()) {
    // RDB_TYPE_HASH_LISTPACK: the listpack's bytes as one string (rdbSaveObject).
    std::string bytes;
    rdb::AppendString(bytes, listpack().raw(), out.compress());
    out.Write(bytes);
    return;
  }
  SerialiseWithWriter(*this, out);
}

size_t HashValue::size() const { return is_listpack() ? listpack().size() / 2 : table().size(); }

void HashValue::TryConversion(std::span<const std::string_view> args, size_t max_value) {
  if (!is_listpack()) return;
  size_t sum = 0;
  for (std::string_view s : args) {
    if (s.size() > max_value) return ConvertToTable();
    sum += s.size();
  }
  if (!listpack().SafeToAdd(sum)) ConvertToTable();
}

void HashValue::ConvertToTable() {
  if (!is_listpack()) return;
  Listpack lp = std::move(listpack());
  FieldTable& t = *rep_.emplace<std::unique_ptr<FieldTable>>(std::make_unique<FieldTable>());
  for (uint32_t p = lp.First(); p != Listpack::kEnd;) {
    uint32_t v = lp.Next(p);
    char fbuf[21], vbuf[21];
    t.Add(lp.Get(p).View(fbuf), lp.Get(v).View(vbuf));
    p = lp.Next(v);
  }
}

bool HashValue::Get(std::string_view field, LpElement* value) {
  if (is_listpack()) {
    Listpack& lp = listpack();
    uint32_t p = lp.Find(lp.First(), field, 1);
    if (p == Listpack::kEnd) return false;
    *value = lp.Get(lp.Next(p));
    return true;
  }
  const FieldNode* n = table().Find(field);
  if (n == nullptr) return false;
  *value = StringElement(n->value());
  return true;
}

bool HashValue::Set(std::string_view field, std::string_view value, size_t max_entries,
                    size_t max_value) {
  // HINCRBY and HINCRBYFLOAT reach here without TryConversion: check the lengths first.
  if (is_listpack() && (field.size() > max_value || value.size() > max_value)) ConvertToTable();
  if (!is_listpack()) return table().Set(field, value);
  Listpack& lp = listpack();
  bool added = false;
  uint32_t p = lp.Find(lp.First(), field, 1);
  if (p != Listpack::kEnd) {
    lp.Replace(lp.Next(p), value);
  } else {
    lp.Append(field);
    lp.Append(value);
    added = true;
  }
  // Checked on an update too: a hash left large by a lowered threshold converts on its next set.
  if (size() > max_entries) ConvertToTable();
  return added;
}

bool HashValue::Delete(std::string_view field) {
  if (!is_listpack()) return table().Remove(field);
  Listpack& lp = listpack();
  uint32_t p = lp.Find(lp.First(), field, 1);
  if (p == Listpack::kEnd) return false;
  lp.DeleteRange(p, 2);
  return true;
}

void HashValue::ForEach(const PairFn& fn) const {
  if (!is_listpack()) {
    table().ForEach(
        [&fn](const FieldNode* n) { fn(StringElement(n->key()), StringElement(n->value())); });
    return;
  }
  const Listpack& lp = listpack();
  for (uint32_t p = lp.First(); p != Listpack::kEnd;) {
    uint32_t v = lp.Next(p);
    fn(lp.Get(p), lp.Get(v));
    p = lp.Next(v);
  }
}

uint64_t HashValue::Scan(uint64_t cursor, const PairFn& fn) {
  if (is_listpack()) {
    ForEach(fn);
    return 0;
  }
  return table().Scan(cursor, [&fn](const FieldNode* n) {
    fn(StringElement(n->key()), StringElement(n->value()));
  });
}

void HashValue::Random(uint64_t (*rng)(void*), void* rng_state, LpElement* field,
                       LpElement* value) {
  if (!is_listpack()) {
    const FieldNode* n = table().Random(rng, rng_state);
    *field = StringElement(n->key());
    *value = StringElement(n->value());
    return;
  }
  const Listpack& lp = listpack();
  uint64_t pair = rng(rng_state) % size();
  uint32_t p = lp.Seek(static_cast<int64_t>(pair * 2));
  *field = lp.Get(p);
  *value = lp.Get(lp.Next(p));
}

}  // namespace keyward
