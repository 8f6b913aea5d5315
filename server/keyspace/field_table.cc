#include "server/keyspace/field_table.h"

#include <malloc.h>

#include <cstdlib>
#include <new>
#include <random>
#include <string>

#include "server/persistence/rdb_codec.h"

namespace keyward {

namespace {

// One seed per process for every collection table (hash flooding needs it secret, not unique).
uint64_t ProcessSeed() {
  static const uint64_t seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  return seed;
}

}  // namespace

FieldNode* FieldNode::New(std::string_view field, std::string_view value) {
  void* mem = std::malloc(sizeof(FieldNode) + field.size() + value.size());
  if (mem == nullptr) throw std::bad_alloc();
  auto* n = new (mem) FieldNode();
  n->field_len_ = static_cast<uint32_t>(field.size());
  n->value_len_ = static_cast<uint32_t>(value.size());
  if (!field.empty()) std::memcpy(n->data(), field.data(), field.size());
  if (!value.empty()) std::memcpy(n->data() + field.size(), value.data(), value.size());
  return n;
}

void FieldNode::Free(FieldNode* n) {
  n->~FieldNode();
  std::free(n);
}

size_t FieldNode::MemoryUsage() const { return malloc_usable_size(const_cast<FieldNode*>(this)); }

FieldTable::FieldTable() : table_(ProcessSeed()) {}

FieldTable::FieldTable(const FieldTable& other) : table_(ProcessSeed()) {
  other.ForEach(
      [this](const FieldNode* n) { table_.Insert(FieldNode::New(n->key(), n->value())); });
}

bool FieldTable::Set(std::string_view field, std::string_view value) {
  uint64_t hash = table_.Hash(field);
  FieldNode** link = table_.FindLink(field, hash);
  if (link == nullptr) {
    table_.Insert(FieldNode::New(field, value), hash);
    return true;
  }
  FieldNode* old = *link;
  IntrusiveTable<FieldNode>::ReplaceAt(link, FieldNode::New(field, value));
  FieldNode::Free(old);
  return false;
}

bool FieldTable::Add(std::string_view field, std::string_view value) {
  uint64_t hash = table_.Hash(field);
  if (table_.FindLink(field, hash) != nullptr) return false;
  table_.Insert(FieldNode::New(field, value), hash);
  return true;
}

bool FieldTable::Remove(std::string_view field) {
  FieldNode* n = table_.Remove(field);
  if (n == nullptr) return false;
  FieldNode::Free(n);
  // Redis shrinks a collection's table as it empties (htNeedsResize after a delete).
  table_.ShrinkIfSparse();
  return true;
}

uint64_t FieldTable::Scan(uint64_t cursor, const std::function<void(const FieldNode*)>& fn) {
  return table_.Scan(cursor, [&fn](FieldNode* n) { fn(n); });
}

void FieldTable::ForEach(const std::function<void(const FieldNode*)>& fn) const {
  table_.ForEach([&fn](FieldNode* n) { fn(n); });
}

size_t FieldTable::MemoryUsage() const {
  size_t n = table_.MemoryUsage();
  table_.ForEach([&n](FieldNode* node) { n += node->MemoryUsage(); });
  return n;
}

bool FieldTableWriter::WriteSome(ValueSink& out, size_t budget) {
  std::string bytes;
  if (!started_) {
    rdb::AppendLength(bytes, table_.size());
    started_ = true;
  }
  size_t written = 0;
  const bool compress = out.compress();
  while (slot_ < table_.slot_count() && (written == 0 || written < budget)) {
    written += table_.VisitSlot(slot_++, [&](const FieldNode* n) {
      rdb::AppendString(bytes, n->key(), compress);
      if (with_values_) rdb::AppendString(bytes, n->value(), compress);
    });
  }
  out.Write(bytes);
  return slot_ >= table_.slot_count();
}

}  // namespace keyward
