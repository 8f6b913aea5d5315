#include "server/storage/aof_format.h"

#include "server/coordination/lock_manager.h"
#include "server/core/resp.h"
#include "server/core/strings.h"
#include "server/keyspace/hash_value.h"
#include "server/keyspace/list_value.h"
#include "server/keyspace/set_value.h"
#include "server/keyspace/stream_value.h"
#include "server/keyspace/zset_value.h"
#include "server/scripting/function_engine.h"

namespace keyward {
namespace aof {

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
      AppendArrayHeader(out, 3 + static_cast<size_t>(num_fields) * 2);
      AppendBulk(out, "XADD");
      AppendBulk(out, key);
      AppendBulk(out, id.ToString());
      for (int64_t i = 0; i < num_fields; i++) {
        LpElement field, value;
        it.Field(&field, &value);
        AppendBulk(out, field.View(fbuf));
        AppendBulk(out, value.View(vbuf));
      }
    }
  } else {
    AppendArrayHeader(out, 7);
    for (std::string_view a :
         {std::string_view("XADD"), key, std::string_view("MAXLEN"), std::string_view("0"),
          std::string_view("0-1"), std::string_view("x"), std::string_view("y")}) {
      AppendBulk(out, a);
    }
  }
  AppendArrayHeader(out, 7);
  AppendBulk(out, "XSETID");
  AppendBulk(out, key);
  AppendBulk(out, s.last_id().ToString());
  AppendBulk(out, "ENTRIESADDED");
  AppendBulk(out, FormatInt64(static_cast<int64_t>(s.entries_added())));
  AppendBulk(out, "MAXDELETEDID");
  AppendBulk(out, s.max_deleted_id().ToString());
  for (const auto& [name, group] : s.groups()) {
    AppendArrayHeader(out, 7);
    AppendBulk(out, "XGROUP");
    AppendBulk(out, "CREATE");
    AppendBulk(out, key);
    AppendBulk(out, name);
    AppendBulk(out, group->last_id.ToString());
    AppendBulk(out, "ENTRIESREAD");
    AppendBulk(out, FormatInt64(group->entries_read));
    for (const auto& [cname, consumer] : group->consumers) {
      if (consumer->pel.empty()) {
        AppendArrayHeader(out, 5);
        AppendBulk(out, "XGROUP");
        AppendBulk(out, "CREATECONSUMER");
        AppendBulk(out, key);
        AppendBulk(out, name);
        AppendBulk(out, cname);
        continue;
      }
      for (const auto& [id, nack] : consumer->pel) {
        AppendArrayHeader(out, 12);
        AppendBulk(out, "XCLAIM");
        AppendBulk(out, key);
        AppendBulk(out, name);
        AppendBulk(out, cname);
        AppendBulk(out, "0");
        AppendBulk(out, id.ToString());
        AppendBulk(out, "TIME");
        AppendBulk(out, FormatInt64(nack->delivery_time));
        AppendBulk(out, "RETRYCOUNT");
        AppendBulk(out, FormatInt64(static_cast<int64_t>(nack->delivery_count)));
        AppendBulk(out, "JUSTID");
        AppendBulk(out, "FORCE");
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
      AppendArrayHeader(out_, 2 + n * per_item_);
      AppendBulk(out_, cmd_);
      AppendBulk(out_, key_);
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
  AppendArrayHeader(out, 2);
  AppendBulk(out, "SELECT");
  AppendBulk(out, std::to_string(db));
}

void AofSnapshotFormat::AppendEntry(std::string& out, const Entry& e) {
  const std::string_view key = e.key();
  char buf[32];
  switch (e.type()) {
    case ObjType::kString:
      AppendArrayHeader(out, 3);
      AppendBulk(out, "SET");
      AppendBulk(out, key);
      AppendBulk(out, e.string_value());
      break;
    case ObjType::kList: {
      const ListValue* list = e.value_as<ListValue>();
      Batcher batch(out, "RPUSH", key, list->size(), 1);
      list->ForRange(0, list->size() - 1, [&](const LpElement& el) {
        batch.Item();
        AppendBulk(out, el.View(buf));
      });
      break;
    }
    case ObjType::kSet: {
      const SetValue* set = e.value_as<SetValue>();
      Batcher batch(out, "SADD", key, set->size(), 1);
      set->ForEach([&](const SetMember& m) {
        batch.Item();
        AppendBulk(out, m.View(buf));
      });
      break;
    }
    case ObjType::kZSet: {
      const ZSetValue* zset = e.value_as<ZSetValue>();
      Batcher batch(out, "ZADD", key, zset->size(), 2);
      zset->ForEach([&](std::string_view member, double score) {
        batch.Item();
        AppendBulk(out, FormatDouble(score));
        AppendBulk(out, member);
      });
      break;
    }
    case ObjType::kHash: {
      const HashValue* hash = e.value_as<HashValue>();
      Batcher batch(out, "HMSET", key, hash->size(), 2);
      char vbuf[32];
      hash->ForEach([&](const LpElement& field, const LpElement& value) {
        batch.Item();
        AppendBulk(out, field.View(buf));
        AppendBulk(out, value.View(vbuf));
      });
      break;
    }
    case ObjType::kStream:
      AppendStream(out, key, *e.value_as<StreamValue>());
      break;
  }
  if (e.has_expire()) {
    AppendArrayHeader(out, 3);
    AppendBulk(out, "PEXPIREAT");
    AppendBulk(out, key);
    AppendBulk(out, std::to_string(e.expire_ms()));
  }
}

}  // namespace keyward
