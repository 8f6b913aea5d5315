#include "tests/support/test_values.h"

#include <malloc.h>

#include "server/persistence/rdb_codec.h"

namespace keyward::test {

std::unique_ptr<Value> TestList::Clone() const {
  return std::make_unique<TestList>(std::vector<std::string>(items_.begin(), items_.end()));
}

size_t TestList::MemoryUsage() const {
  size_t n = sizeof(*this);
  for (const std::string& s : items_)
    n += sizeof(std::string) + (s.capacity() > 15 ? s.capacity() + 1 : 0);
  return n;
}

void TestList::Serialise(ValueSink& out) const {
  std::string bytes;
  rdb::AppendLength(bytes, items_.size());
  for (const std::string& s : items_) rdb::AppendString(bytes, s);
  out.Write(bytes);
}

Entry* MakeTestList(Database& db, const std::string& key, std::vector<std::string> items) {
  Entry* e = Entry::NewValue(key, std::make_unique<TestList>(std::move(items)));
  db.Upsert(e);
  return e;
}

}  // namespace keyward::test
