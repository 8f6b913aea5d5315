#include "server/storage/aof_format.h"

#include "server/coordination/lock_manager.h"
#include "server/core/strings.h"
#include "server/keyspace/hash_value.h"
#include "server/keyspace/list_value.h"
#include "server/keyspace/set_value.h"
#include "server/keyspace/stream_value.h"
#include "server/keyspace/zset_value.h"
#include "server/scripting/function_engine.h"

namespace keyward {
namespace aof {

void AppendArrayHeader(std::string& out, size_t n) {
  out += '*';
  out += std::to_string(n);
  out += "\r\n";
}

void AppendBulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out.append(s);
  out += "\r\n";
}

void AppendTimestamp(std::string& out, int64_t unix_secs) {
  out += "#TS:";
  out += std::to_string(unix_secs);
  out += "\r\n";
}

std::string DatasetPreamble(const FunctionEngine& functions, const LockManager& locks) {
  std::string out;
  for (const auto& [name, library] : functions.libraries()) {
    AppendArrayHeader(out, 3);
    AppendBulk(out, "FUNCTION");
    AppendBulk(out, "LOAD");
    AppendBulk(out, library.code);
  }
  const FenceTable& fences = locks.fences();
  if (locks.longest_lease_ms() > 0) {
    AppendArrayHeader(out, 2);
    AppendBulk(out, "LOCK.LEASE");
    AppendBulk(out, FormatInt64(locks.longest_lease_ms()));
  }
  if (locks.epoch() > 0) {
    AppendArrayHeader(out, 3);
    AppendBulk(out, "LOCK.EPOCH");
    AppendBulk(out, FormatInt64(locks.epoch()));
    AppendBulk(out, FormatInt64(fences.floor()));
  }
  if (fences.floor() > 0 || fences.seen_floor() > 0) {
    out += kFenceFloorAnnotation;
    out += FormatInt64(fences.floor());
    out += ' ';
    out += FormatInt64(fences.seen_floor());
    out += "\r\n";
  }
  fences.ForEach([&out](std::string_view resource, const FenceRecord& rec) {
    AppendArrayHeader(out, 6);
    AppendBulk(out, "LOCK.RECORD");
    AppendBulk(out, resource);
    AppendBulk(out, FormatInt64(rec.counter));
    AppendBulk(out, FormatInt64(rec.seen));
    AppendBulk(out, rec.fenced_owner);
    AppendBulk(out, FormatInt64(rec.fenced_token));
  });
  return out;
}

}  // namespace aof

namespace {

// rewriteStreamObject: XADD per entry with its ID (an empty stream: XADD MAXLEN 0 0-1 x y), an
// XSETID restoring the last ID and counters, then per group XGROUP CREATE ... ENTRIESREAD,
// XCLAIM ... FORCE JUSTID per pending entry and XGROUP CREATECONSUMER for consumers without
// any: what Redis 7.0 writes, so that either server loads the other's file.
void AppendStream(std::string& out, std::string_view key, const StreamValue& s) {
  if (s.length() > 0) {
    StreamValue::Iterator it(s, StreamID::Min(), StreamID::Max(), false);
    StreamID id;
    int64_t num_fields;
    char fbuf[21], vbuf[21];
    while (it.Next(&id, &num_fields)) {
      aof::AppendArrayHeader(out, 3 + static_cast<size_t>(num_fields) * 2);
      aof::AppendBulk(out, "XADD");
      aof::AppendBulk(out, key);
      aof::AppendBulk(out, id.ToString());
      for (int64_t i = 0; i < num_fields; i++) {
        LpElement field, value;
        it.Field(&field, &value);
        aof::AppendBulk(out, field.View(fbuf));
        aof::AppendBulk(out, value.View(vbuf));
      }
    }
  } else {
    aof::AppendArrayHeader(out, 7);
    for (std::string_view a :
         {std::string_view("XADD"), key, std::string_view("MAXLEN"), std::string_view("0"),
          std::string_view("0-1"), std::string_view("x"), std::string_view("y")}) {
      aof::AppendBulk(out, a);
    }
  }
  aof::AppendArrayHeader(out, 7);
  aof::AppendBulk(out, "XSETID");
  aof::AppendBulk(out, key);
  aof::AppendBulk(out, s.last_id().ToString());
  aof::AppendBulk(out, "ENTRIESADDED");
  aof::AppendBulk(out, FormatInt64(static_cast<int64_t>(s.entries_added())));
  aof::AppendBulk(out, "MAXDELETEDID");
  aof::AppendBulk(out, s.max_deleted_id().ToString());
  for (const auto& [name, group] : s.groups()) {
    aof::AppendArrayHeader(out, 7);
    aof::AppendBulk(out, "XGROUP");
    aof::AppendBulk(out, "CREATE");
    aof::AppendBulk(out, key);
    aof::AppendBulk(out, name);
    aof::AppendBulk(out, group->last_id.ToString());
    aof::AppendBulk(out, "ENTRIESREAD");
    aof::AppendBulk(out, FormatInt64(group->entries_read));
    for (const auto& [cname, consumer] : group->consumers) {
      if (consumer->pel.empty()) {
        aof::AppendArrayHeader(out, 5);
        aof::AppendBulk(out, "XGROUP");
        aof::AppendBulk(out, "CREATECONSUMER");
        aof::AppendBulk(out, key);
        aof::AppendBulk(out, name);
        aof::AppendBulk(out, cname);
        continue;
      }
      for (const auto& [id, nack] : consumer->pel) {
        aof::AppendArrayHeader(out, 12);
        aof::AppendBulk(out, "XCLAIM");
        aof::AppendBulk(out, key);
        aof::AppendBulk(out, name);
        aof::AppendBulk(out, cname);
        aof::AppendBulk(out, "0");
        aof::AppendBulk(out, id.ToString());
        aof::AppendBulk(out, "TIME");
        aof::AppendBulk(out, FormatInt64(nack->delivery_time));
        aof::AppendBulk(out, "RETRYCOUNT");
        aof::AppendBulk(out, FormatInt64(static_cast<int64_t>(nack->delivery_count)));
        aof::AppendBulk(out, "JUSTID");
        aof::AppendBulk(out, "FORCE");
      }
    }
  }
}

}  // namespace

namespace {

// Commands of up to kItemsPerCommand items of `per_item` arguments each: "<cmd> <key> items...".
class Batcher {
 public:
  Batcher(std::string& out, std::string_view cmd, std::string_view key, size_t items,
          size_t per_item)
      : out_(out), cmd_(cmd), key_(key), left_(items), per_item_(per_item) {}
  // Before each item's arguments.
  void Item() {
    if (in_command_ == 0) {
      const size_t n = std::min(left_, aof::kItemsPerCommand);
      aof::AppendArrayHeader(out_, 2 + n * per_item_);
      aof::AppendBulk(out_, cmd_);
      aof::AppendBulk(out_, key_);
      in_command_ = n;
    }
    in_command_--;
    left_--;
  }

 private:
  std::string& out_;
  std::string_view cmd_, key_;
  size_t left_, per_item_;
  size_t in_command_ = 0;
};

}  // namespace

void AofSnapshotFormat::BeginDb(std::string& out, int db, uint64_t, uint64_t) { Select(out, db); }

void AofSnapshotFormat::Select(std::string& out, int db) {
  aof::AppendArrayHeader(out, 2);
  aof::AppendBulk(out, "SELECT");
  aof::AppendBulk(out, std::to_string(db));
}

void AofSnapshotFormat::AppendEntry(std::string& out, const Entry& e) {
  const std::string_view key = e.key();
  char buf[32];
  switch (e.type()) {
    case ObjType::kString:
      aof::AppendArrayHeader(out, 3);
      aof::AppendBulk(out, "SET");
      aof::AppendBulk(out, key);
      aof::AppendBulk(out, e.string_value());
      break;
    case ObjType::kList: {
      const ListValue* list = e.value_as<ListValue>();
      Batcher batch(out, "RPUSH", key, list->size(), 1);
      list->ForRange(0, list->size() - 1, [&](const LpElement& el) {
        batch.Item();
        aof::AppendBulk(out, el.View(buf));
      });
      break;
    }
    case ObjType::kSet: {
      const SetValue* set = e.value_as<SetValue>();
      Batcher batch(out, "SADD", key, set->size(), 1);
      set->ForEach([&](const SetMember& m) {
        batch.Item();
        aof::AppendBulk(out, m.View(buf));
      });
      break;
    }
    case ObjType::kZSet: {
      const ZSetValue* zset = e.value_as<ZSetValue>();
      Batcher batch(out, "ZADD", key, zset->size(), 2);
      zset->ForEach([&](std::string_view member, double score) {
        batch.Item();
        aof::AppendBulk(out, FormatDouble(score));
        aof::AppendBulk(out, member);
      });
      break;
    }
    case ObjType::kHash: {
      const HashValue* hash = e.value_as<HashValue>();
      Batcher batch(out, "HMSET", key, hash->size(), 2);
      char vbuf[32];
      hash->ForEach([&](const LpElement& field, const LpElement& value) {
        batch.Item();
        aof::AppendBulk(out, field.View(buf));
        aof::AppendBulk(out, value.View(vbuf));
      });
      break;
    }
    case ObjType::kStream:
      AppendStream(out, key, *e.value_as<StreamValue>());
      break;
  }
  if (e.has_expire()) {
    aof::AppendArrayHeader(out, 3);
    aof::AppendBulk(out, "PEXPIREAT");
    aof::AppendBulk(out, key);
    aof::AppendBulk(out, std::to_string(e.expire_ms()));
  }
}

}  // namespace keyward
