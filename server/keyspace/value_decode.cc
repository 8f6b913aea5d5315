#include "server/keyspace/value_decode.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "server/keyspace/hash_value.h"
#include "server/keyspace/intset.h"
#include "server/keyspace/list_value.h"
#include "server/keyspace/listpack.h"
#include "server/keyspace/set_value.h"
#include "server/keyspace/stream_decode.h"
#include "server/keyspace/ziplist.h"
#include "server/keyspace/zset_value.h"

namespace keyward {

namespace {

// RDB_TYPE_* (rdb.h).
enum RdbType : uint8_t {
  kString = 0,
  kList = 1,
  kSet = 2,
  kZSet = 3,
  kHash = 4,
  kZSet2 = 5,
  kHashZipmap = 9,
  kListZiplist = 10,
  kSetIntset = 11,
  kZSetZiplist = 12,
  kHashZiplist = 13,
  kListQuicklist = 14,
  kHashListpack = 16,
  kZSetListpack = 17,
  kListQuicklist2 = 18,
  kStreamListpacks = 15,
  kStreamListpacks2 = 19,
};

// Quicklist node containers (QUICKLIST_NODE_CONTAINER_*): one huge element, or a listpack.
constexpr uint64_t kContainerPlain = 1;
constexpr uint64_t kContainerPacked = 2;

// The settings as the value types take them (negative values never occur: CONFIG bounds them).
size_t Limit(int64_t v) { return v < 0 ? 0 : static_cast<size_t>(v); }

struct Limits {
  explicit Limits(const ServerSettings& s)
      : hash_entries(Limit(s.hash_max_listpack_entries)),
        hash_value(Limit(s.hash_max_listpack_value)),
        zset{Limit(s.zset_max_listpack_entries), Limit(s.zset_max_listpack_value)},
        intset_entries(Limit(s.set_max_intset_entries)),
        list_fill(static_cast<int>(s.list_max_listpack_size)),
        list_packed_threshold(&s.list_packed_threshold) {}
  size_t hash_entries, hash_value;
  ZSetValue::Limits zset;
  size_t intset_entries;
  int list_fill;
  const size_t* list_packed_threshold;
  // Set when the value read was well formed but empty (Redis's RDB_LOAD_ERR_EMPTY_KEY).
  mutable bool empty = false;
};

using Result = std::optional<DecodedValue>;

Result Fail() { return std::nullopt; }

template <typename T>
Result Done(std::unique_ptr<T> value) {
  return DecodedValue(std::unique_ptr<Value>(std::move(value)));
}

// A well-formed value with nothing in it: a file's loader skips the key, RESTORE refuses it.
Result Empty(const Limits& limits) {
  limits.empty = true;
  return std::nullopt;
}

// A count of elements (rdbLoadLen): zero means an empty value (limits.empty is set).
std::optional<uint64_t> NonZeroLen(rdb::Reader& in, const Limits& limits) {
  auto len = in.Len();
  if (len && *len == 0) limits.empty = true;
  if (!len || *len == 0) return std::nullopt;
  return len;
}

// rdbLoadDoubleValue (RDB_TYPE_ZSET's scores): a length byte, with 253/254/255 standing for NaN,
// +inf and -inf, then that many characters read with sscanf("%lg"), which takes a numeric prefix.
bool ReadTextDouble(rdb::Reader& in, double* out) {
  auto len = in.Byte();
  if (!len) return false;
  switch (*len) {
    case 255:
      *out = -HUGE_VAL;
      return true;
    case 254:
      *out = HUGE_VAL;
      return true;
    case 253:
      *out = std::nan("");
      return true;
    default:
      break;
  }
  auto text = in.Bytes(*len);
  if (!text) return false;
  char buf[256];
  std::memcpy(buf, text->data(), text->size());
  buf[text->size()] = '\0';
  return std::sscanf(buf, "%lg", out) == 1;
}

// rdbLoadBinaryDoubleValue (RDB_TYPE_ZSET_2): 8 bytes, little-endian IEEE 754.
bool ReadBinaryDouble(rdb::Reader& in, double* out) {
  auto bytes = in.Bytes(8);
  if (!bytes) return false;
  uint64_t bits = 0;
  for (int i = 0; i < 8; i++) {
    bits |= static_cast<uint64_t>(static_cast<uint8_t>((*bytes)[i])) << (8 * i);
  }
  std::memcpy(out, &bits, sizeof(*out));
  return true;
}

// The elements of a ziplist as a listpack: strings appended as strings (which lpAppend turns
// into integers when they are canonical ones), integers as integers. nullopt when the ziplist is
// invalid.
std::optional<Listpack> ZiplistToListpack(std::string_view blob) {
  Listpack lp;
  const bool ok = ZiplistForEach(blob, [&lp](const LpElement& e) {
    if (e.is_int) {
      lp.InsertInt(Listpack::kEnd, e.value);
    } else {
      lp.Append(e.str);
    }
    return true;
  });
  if (!ok) return std::nullopt;
  return lp;
}

// --- Strings and lists ------------------------------------------------------------------------

Result DecodeString(rdb::Reader& in) {
  auto s = in.String();
  if (!s) return Fail();
  return DecodedValue(std::move(*s));
}

// RDB_TYPE_LIST: every element pushed at the tail, so the list gets the nodes pushes would give.
Result DecodeLinkedList(rdb::Reader& in, const Limits& limits) {
  auto len = NonZeroLen(in, limits);
  if (!len) return Fail();
  auto list = std::make_unique<ListValue>(limits.list_fill, limits.list_packed_threshold);
  for (uint64_t i = 0; i < *len; i++) {
    auto element = in.String();
    if (!element) return Fail();
    list->PushBack(*element);
  }
  return Done(std::move(list));
}

// RDB_TYPE_LIST_ZIPLIST: the elements pushed at the tail, as for a linked list.
Result DecodeListZiplist(rdb::Reader& in, const Limits& limits) {
  auto blob = in.String();
  if (!blob) return Fail();
  auto list = std::make_unique<ListValue>(limits.list_fill, limits.list_packed_threshold);
  const bool ok = ZiplistForEach(*blob, [&list](const LpElement& e) {
    list->PushBack(e.ToString());
    return true;
  });
  if (!ok) return Fail();
  if (list->empty()) return Empty(limits);
  return Done(std::move(list));
}

// RDB_TYPE_LIST_QUICKLIST(_2): node by node. Nodes are kept as they come (a ziplist node becomes
// one listpack node); empty ones are skipped, and a list left empty is refused.
Result DecodeQuicklist(rdb::Reader& in, bool listpack_nodes, const Limits& limits) {
  auto len = NonZeroLen(in, limits);
  if (!len) return Fail();
  auto list = std::make_unique<ListValue>(limits.list_fill, limits.list_packed_threshold);
  for (uint64_t i = 0; i < *len; i++) {
    uint64_t container = kContainerPacked;
    if (listpack_nodes) {
      auto c = in.Len();
      if (!c || (*c != kContainerPlain && *c != kContainerPacked)) return Fail();
      container = *c;
    }
    auto blob = in.String();
    if (!blob || blob->empty()) return Fail();
    if (container == kContainerPlain) {
      // A plain node: one element at least packed_threshold long, kept plain as it comes.
      if (blob->size() > Listpack::kMaxSafetySize) return Fail();
      list->AppendPlainNode(*blob);
      continue;
    }
    std::optional<Listpack> node =
        listpack_nodes ? Listpack::FromBytes(*blob) : ZiplistToListpack(*blob);
    if (!node) return Fail();
    if (node->empty()) continue;
    list->AppendNode(std::move(*node));
  }
  if (list->empty()) return Empty(limits);
  return Done(std::move(list));
}

// --- Sets ---------------------------------------------------------------------------------------

// RDB_TYPE_SET: an intset while every member is an integer, unless there are more members than
// set-max-intset-entries (capped at 2^30), in which case a hashtable from the start.
Result DecodeSet(rdb::Reader& in, const Limits& limits) {
  auto len = NonZeroLen(in, limits);
  if (!len) return Fail();
  const uint64_t max_intset = std::min<uint64_t>(limits.intset_entries, SetValue::kIntsetHardLimit);
  auto set = *len > max_intset ? SetValue::CreateHashTable() : std::make_unique<SetValue>();
  for (uint64_t i = 0; i < *len; i++) {
    auto member = in.String();
    if (!member) return Fail();
    // The set holds no more than `len` members, so the intset never outgrows the limit here.
    if (!set->Add(*member, max_intset)) return Fail();  // a duplicate
  }
  return Done(std::move(set));
}

// RDB_TYPE_SET_INTSET: the blob as it is, a hashtable when it holds more than
// set-max-intset-entries members.
Result DecodeIntset(rdb::Reader& in, const Limits& limits) {
  auto blob = in.String();
  if (!blob) return Fail();
  std::optional<Intset> members = Intset::FromBytes(*blob, /*deep=*/true);
  if (!members) return Fail();
  auto set = SetValue::FromIntset(std::move(*members));
  if (set->size() > limits.intset_entries) set->ConvertToHashTable();
  return Done(std::move(set));
}

// --- Sorted sets ----------------------------------------------------------------------------

// RDB_TYPE_ZSET and RDB_TYPE_ZSET_2: loaded into a skiplist (they are stored highest score
// first, not in order), then converted to a listpack when small enough.
Result DecodeSkiplistZSet(rdb::Reader& in, bool binary_scores, const Limits& limits) {
  auto len = NonZeroLen(in, limits);
  if (!len) return Fail();
  auto zset = ZSetValue::NewSkiplist();
  size_t maxelelen = 0, totelelen = 0;
  for (uint64_t i = 0; i < *len; i++) {
    auto member = in.String();
    if (!member) return Fail();
    double score;
    if (!(binary_scores ? ReadBinaryDouble(in, &score) : ReadTextDouble(in, &score))) {
      return Fail();
    }
    if (std::isnan(score)) return Fail();
    double existing;
    if (zset->Score(*member, &existing)) return Fail();  // a duplicate
    maxelelen = std::max(maxelelen, member->size());
    totelelen += member->size();
    zset->InsertNew(*member, score);
  }
  zset->ConvertToListpackIfNeeded(maxelelen, totelelen, limits.zset);
  return Done(std::move(zset));
}

// RDB_TYPE_ZSET_LISTPACK and RDB_TYPE_ZSET_ZIPLIST: the listpack as it is (a ziplist converted),
// a skiplist when it holds more than zset-max-listpack-entries members.
Result DecodeListpackZSet(rdb::Reader& in, bool ziplist, const Limits& limits) {
  auto blob = in.String();
  if (!blob) return Fail();
  std::optional<Listpack> lp = ziplist ? ZiplistToListpack(*blob) : Listpack::FromBytes(*blob);
  if (!lp) return Fail();
  if (lp->empty()) return Empty(limits);
  auto zset = ZSetValue::FromListpack(std::move(*lp));
  if (zset == nullptr) return Fail();
  if (zset->size() > limits.zset.max_entries) zset->ConvertToSkiplist();
  return Done(std::move(zset));
}

// --- Hashes -----------------------------------------------------------------------------------

// RDB_TYPE_HASH: a table from the start when there are more fields than
// hash-max-listpack-entries; otherwise a listpack until a field or value is longer than
// hash-max-listpack-value (the rest then goes to the table).
Result DecodeHash(rdb::Reader& in, const Limits& limits) {
  auto len = NonZeroLen(in, limits);
  if (!len) return Fail();
  auto hash = std::make_unique<HashValue>();
  if (*len > limits.hash_entries) hash->ConvertToTable();
  for (uint64_t i = 0; i < *len; i++) {
    auto field = in.String();
    if (!field) return Fail();
    auto value = in.String();
    if (!value) return Fail();
    // Set converts before adding a long field or value, as rdbLoadObject does; the entry limit
    // cannot be passed (the count was checked above).
    if (!hash->Set(*field, *value, limits.hash_entries, limits.hash_value)) return Fail();
  }
  return Done(std::move(hash));
}

// RDB_TYPE_HASH_LISTPACK and RDB_TYPE_HASH_ZIPLIST: the listpack as it is (a ziplist converted),
// a table when it holds more than hash-max-listpack-entries fields.
Result DecodeListpackHash(rdb::Reader& in, bool ziplist, const Limits& limits) {
  auto blob = in.String();
  if (!blob) return Fail();
  std::optional<Listpack> lp = ziplist ? ZiplistToListpack(*blob) : Listpack::FromBytes(*blob);
  if (!lp) return Fail();
  if (lp->empty()) return Empty(limits);
  auto hash = HashValue::FromListpack(std::move(*lp));
  if (hash == nullptr) return Fail();
  if (hash->size() > limits.hash_entries) hash->ConvertToTable();
  return Done(std::move(hash));
}

// RDB_TYPE_HASH_ZIPMAP: converted to a listpack, a table when it has too many fields or a field
// or value longer than hash-max-listpack-value.
Result DecodeZipmapHash(rdb::Reader& in, const Limits& limits) {
  auto blob = in.String();
  if (!blob) return Fail();
  Listpack lp;
  std::unordered_set<std::string_view> fields;
  size_t maxlen = 0;
  const bool ok = ZipmapForEach(*blob, [&](std::string_view field, std::string_view value) {
    if (!fields.insert(field).second) return false;  // a duplicate
    if (!lp.SafeToAdd(field.size() + value.size())) return false;
    maxlen = std::max({maxlen, field.size(), value.size()});
    lp.Append(field);
    lp.Append(value);
    return true;
  });
  if (!ok) return Fail();
  auto hash = HashValue::FromListpack(std::move(lp));
  if (hash == nullptr) return Fail();
  if (hash->size() > limits.hash_entries || maxlen > limits.hash_value) hash->ConvertToTable();
  return Done(std::move(hash));
}

Result DecodeByType(uint8_t rdb_type, rdb::Reader& in, const Limits& limits) {
  switch (rdb_type) {
    case kString:
      return DecodeString(in);
    case kList:
      return DecodeLinkedList(in, limits);
    case kListZiplist:
      return DecodeListZiplist(in, limits);
    case kListQuicklist:
      return DecodeQuicklist(in, /*listpack_nodes=*/false, limits);
    case kListQuicklist2:
      return DecodeQuicklist(in, /*listpack_nodes=*/true, limits);
    case kSet:
      return DecodeSet(in, limits);
    case kSetIntset:
      return DecodeIntset(in, limits);
    case kZSet:
      return DecodeSkiplistZSet(in, /*binary_scores=*/false, limits);
    case kZSet2:
      return DecodeSkiplistZSet(in, /*binary_scores=*/true, limits);
    case kZSetZiplist:
      return DecodeListpackZSet(in, /*ziplist=*/true, limits);
    case kZSetListpack:
      return DecodeListpackZSet(in, /*ziplist=*/false, limits);
    case kHash:
      return DecodeHash(in, limits);
    case kHashZipmap:
      return DecodeZipmapHash(in, limits);
    case kHashZiplist:
      return DecodeListpackHash(in, /*ziplist=*/true, limits);
    case kHashListpack:
      return DecodeListpackHash(in, /*ziplist=*/false, limits);
    case kStreamListpacks:
    case kStreamListpacks2: {
      // An empty stream is a value like any other (it keeps its last ID and groups).
      std::unique_ptr<Value> stream = DecodeStream(rdb_type, in);
      if (stream == nullptr) return Fail();
      return DecodedValue(std::move(stream));
    }
    default:
      // Module values (6, 7), Redis 7.2's streams (21), and numbers no RDB version uses.
      return std::nullopt;
  }
}

}  // namespace

std::optional<DecodedValue> DecodeValue(uint8_t rdb_type, rdb::Reader& in,
                                        const ServerSettings& settings, bool* empty) {
  const Limits limits(settings);
  std::optional<DecodedValue> value = DecodeByType(rdb_type, in, limits);
  if (empty != nullptr) *empty = !value && limits.empty;
  return value;
}

}  // namespace keyward
