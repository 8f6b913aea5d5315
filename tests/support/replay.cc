#include "tests/support/replay.h"

#include <algorithm>
#include <map>
#include <set>

#include "server/core/clock.h"
#include "server/core/config.h"
#include "server/core/strings.h"
#include "server/engine/capture_transport.h"
#include "server/engine/client.h"
#include "server/keyspace/hash_value.h"
#include "server/keyspace/set_value.h"
#include "server/keyspace/stream_value.h"

namespace keyward::test {

namespace {

class ValueBytes : public ValueSink {
 public:
  void Write(std::string_view bytes) override { out.append(bytes); }
  std::string out;
};

// A stream by what it holds, not how: node boundaries follow stream-node-max-*, which is
// configuration and not replicated, a consumer's seen-time is when the replica saw it, and a
// group's read counter is not in what Redis 7.0 propagates for reads (XCLAIM ... LASTID moves
// the group, not its counter), so a replica's may differ.
std::string DescribeStream(const StreamValue& s) {
  std::string out = "stream-entries:";
  StreamValue::Iterator it(s, StreamID::Min(), StreamID::Max(), false);
  StreamID id;
  int64_t n;
  while (it.Next(&id, &n)) {
    out += id.ToString() + "{";
    for (int64_t i = 0; i < n; i++) {
      LpElement f, v;
      it.Field(&f, &v);
      out += Repr(f.ToString()) + "=" + Repr(v.ToString()) + ",";
    }
    out += "}";
  }
  out += " length=" + std::to_string(s.length()) + " last=" + s.last_id().ToString() +
         " first=" + s.first_id().ToString() + " max-deleted=" + s.max_deleted_id().ToString() +
         " added=" + std::to_string(s.entries_added());
  for (const auto& [name, g] : s.groups()) {
    out += " group " + Repr(name) + " last=" + g->last_id.ToString() + " pel:";
    for (const auto& [pid, nack] : g->pel) {
      out += pid.ToString() + "/" + Repr(nack->consumer->name()) + "/" +
             std::to_string(nack->delivery_time) + "/" + std::to_string(nack->delivery_count) + ",";
    }
    out += " consumers:";
    for (const auto& [cname, c] : g->consumers) out += Repr(cname) + ",";
  }
  return out;
}

std::string DescribeEntry(const Entry* e) {
  std::string line = Repr(e->key()) + " " + std::string(TypeName(e->type())) + " ";
  if (e->type() == ObjType::kString) {
    line += Repr(e->string_value());
  } else if (e->type() == ObjType::kSet && !e->value_as<SetValue>()->is_intset()) {
    // A hashtable's order depends on how far its incremental rehash went, which reads move
    // along in the original and not in the replay: compare the members, not their order.
    std::vector<std::string> members;
    e->value_as<SetValue>()->ForEach([&](const SetMember& m) { members.emplace_back(m.str); });
    std::sort(members.begin(), members.end());
    line += "hashtable-set:";
    for (const std::string& m : members) line += Repr(m) + ",";
  } else if (e->type() == ObjType::kHash && !e->value_as<HashValue>()->is_listpack()) {
    std::vector<std::string> pairs;
    e->value_as<HashValue>()->ForEach([&](const LpElement& f, const LpElement& v) {
      pairs.push_back(Repr(f.ToString()) + "=" + Repr(v.ToString()));
    });
    std::sort(pairs.begin(), pairs.end());
    line += "hashtable-hash:";
    for (const std::string& p : pairs) line += p + ",";
  } else if (e->type() == ObjType::kStream) {
    line += DescribeStream(*e->value_as<StreamValue>());
  } else {
    ValueBytes bytes;
    e->value()->Serialise(bytes);
    line += "rdb" + std::to_string(e->value()->rdb_type()) + ":" + Repr(bytes.out);
  }
  line += " expire=" + std::to_string(e->expire_ms());
  return line;
}

}  // namespace

std::vector<std::string> DescribeState(Server& server) {
  std::vector<std::string> lines;
  Keyspace& ks = server.keyspace();
  for (int i = 0; i < ks.db_count(); i++) {
    ks.db(i).ForEach(
        [&](Entry* e) { lines.push_back("db" + std::to_string(i) + " " + DescribeEntry(e)); });
  }
  // Fencing: a record equal to what a missing one reads as (the floors, no owner) is the same as
  // no record.
  const FenceTable& fences = server.locks().fences();
  lines.push_back("fence floor " + std::to_string(fences.floor()) + " seen floor " +
                  std::to_string(fences.seen_floor()));
  fences.ForEach([&](std::string_view resource, const FenceRecord& r) {
    if (r.counter == fences.floor() && r.seen == fences.seen_floor() && r.fenced_owner.empty() &&
        r.fenced_token == 0) {
      return;
    }
    lines.push_back("fence " + Repr(resource) + " counter=" + std::to_string(r.counter) +
                    " seen=" + std::to_string(r.seen) + " owner=" + Repr(r.fenced_owner) +
                    " token=" + std::to_string(r.fenced_token));
  });
  for (const auto& [name, lib] : server.functions().libraries()) {
    lines.push_back("function library " + Repr(name) + " " + Repr(lib.code));
  }
  std::sort(lines.begin(), lines.end());
  return lines;
}

std::string ReplayAndCompare(Server& original, const std::vector<Argv>& stream, int64_t start_ms,
                             int64_t now_ms) {
  ManualClock clock(start_ms);
  Config config;
  ServerSettings settings;
  Server::DeclareOptions(config, settings);
  settings.databases = original.settings().databases;
  settings.lock_max_records = original.settings().lock_max_records;
  settings.save_params.clear();  // a replayed FLUSHALL must not write a dump
  Server replayed(&clock, &config, &settings);
  clock.SetMs(now_ms);
  replayed.UpdateTime();

  CaptureTransport transport;  // replies are dropped by Apply
  Client client(0, &transport, now_ms);
  client.authenticated = true;
  std::string failures;
  for (const Argv& argv : stream) {
    std::vector<std::string_view> args(argv.begin(), argv.end());
    if (auto refused = replayed.executor().Apply(CallerKind::kAofReplay, client, args)) {
      failures += "replay refused " + Repr(argv[0]) + ": " + *refused + "\n";
    }
  }
  if (replayed.propagation().in_unit()) failures += "MULTI without EXEC at the end of the stream\n";

  const std::vector<std::string> want = DescribeState(original);
  const std::vector<std::string> got = DescribeState(replayed);
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  for (const auto& m : missing) failures += "only in the original: " + m + "\n";
  for (const auto& e : extra) failures += "only in the replay:   " + e + "\n";
  return failures;
}

}  // namespace keyward::test
