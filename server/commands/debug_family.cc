// DEBUG: the subcommands of Redis's debugCommand (debug.c) that tools and test suites rely on.
// (enable-debug-command is the gatekeeper's: DEBUG is a protected command.) Each subcommand is
// recognised by its name and its exact argument count, as Redis does; anything else gets the
// subcommand syntax error.
#include <spdlog/spdlog.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/list_value.h"
#include "server/keyspace/listpack.h"
#include "server/persistence/rdb_codec.h"
#include "server/storage/aof_persistence.h"
#include "server/storage/rdb_persistence.h"

namespace keyward {

namespace {

// DEBUG OBJECT key: debug.c's line, with the entry's address for the value's.
void DebugObject(std::string_view key, CommandContext& ctx) {
  Entry* e = ctx.db().Find(key, LookupMode::kNoTouch);
  if (e == nullptr) return ctx.rb().SendError(errors::kNoSuchKey);
  // serializedlength: the value as an RDB file would hold it (rdbcompression's default).
  std::string serialized;
  if (e->type() == ObjType::kString) {
    rdb::AppendString(serialized, e->string_value());
  } else {
    struct Sink : ValueSink {
      std::string* out;
      void Write(std::string_view bytes) override { out->append(bytes); }
    } sink;
    sink.out = &serialized;
    e->value()->Serialise(sink);
  }
  std::string extra;
  if (e->type() == ObjType::kList) {
    const auto* list = e->value_as<ListValue>();
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  " ql_nodes:%zu ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d "
                  "ql_uncompressed_size:%zu",
                  list->node_count(),
                  static_cast<double>(list->size()) / static_cast<double>(list->node_count()),
                  list->fill(), ctx.settings().list_compress_depth != 0 ? 1 : 0,
                  list->listpack_bytes());
    extra = buf;
  }
  constexpr int64_t kLruClockMax = (1 << 24) - 1;
  const int64_t clock = (ctx.now_ms() / 1000) & kLruClockMax;
  const int64_t lru = e->lru();
  const int64_t idle = clock >= lru ? clock - lru : clock + (kLruClockMax - lru);
  char line[512];
  std::snprintf(line, sizeof(line),
                "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%lld "
                "lru_seconds_idle:%lld%s",
                static_cast<void*>(e), std::string(EncodingName(e->encoding())).c_str(),
                serialized.size(), static_cast<long long>(lru), static_cast<long long>(idle),
                extra.c_str());
  ctx.rb().SendSimple(line);
}

// DEBUG PROTOCOL type: one test value of each RESP type, as Redis's debugCommand sends them
// (client libraries' test suites use it).
void DebugProtocol(std::string_view type, CommandContext& ctx) {
  ReplyBuilder& rb = ctx.rb();
  const std::string name = ToLower(type);
  if (name == "string") return rb.SendBulk("Hello World");
  if (name == "integer") return rb.SendLong(12345);
  if (name == "double") return rb.SendDouble(3.141);
  if (name == "bignum") return rb.SendBigNumber("1234567999999999999999999999999999999");
  if (name == "null") return rb.SendNull();
  if (name == "array" || name == "set") {
    name == "set" ? rb.StartSet(3) : rb.StartArray(3);
    for (int j = 0; j < 3; j++) rb.SendLong(j);
    return;
  }
  if (name == "map") {
    rb.StartMap(3);
    for (int j = 0; j < 3; j++) {
      rb.SendLong(j);
      rb.SendBool(j == 1);
    }
    return;
  }
  if (name == "attrib") {
    // An attribute is not a reply: RESP3 clients read it and then the reply that follows.
    if (ctx.client().resp >= 3) {
      rb.Raw("|1\r\n");
      rb.SendBulk("key-popularity");
      rb.StartArray(2);
      rb.SendBulk("key:123");
      rb.SendLong(90);
    }
    return rb.SendBulk("Some real reply following the attribute");
  }
  if (name == "push") {
    if (ctx.client().resp < 3) return rb.SendError("ERR RESP2 is not supported by this command");
    rb.StartPush(2);
    rb.SendBulk("server-cpu-usage");
    rb.SendLong(42);
    return rb.SendBulk("Some real reply following the push reply");
  }
  if (name == "true" || name == "false") return rb.SendBool(name == "true");
  if (name == "verbatim") return rb.SendVerbatim("This is a verbatim\nstring");
  rb.SendError(
      "ERR Wrong protocol type name. Please use one of the following: "
      "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
}

// DEBUG POPULATE count [prefix] [size]: keys "prefix:N" with values "value:N" (padded with
// NULs, or cut, to `size`), skipping names that exist. Not propagated, as in Redis.
void DebugPopulate(CmdArgs args, CommandContext& ctx) {
  int64_t count, size = -1;
  if (!ParseInt64(args[2], &count) || count < 0) {
    return ctx.rb().SendError(errors::kNegativeCount);
  }
  std::string prefix = args.size() >= 4 ? std::string(args[3]) : "key";
  if (args.size() == 5 && (!ParseInt64(args[4], &size) || size < 0)) {
    return ctx.rb().SendError(errors::kNegativeCount);
  }
  if (size == 0) size = -1;  // Redis ignores a size of 0
  Database& db = ctx.db();
  for (int64_t i = 0; i < count; i++) {
    std::string key = prefix + ":" + std::to_string(i);
    if (db.Find(key) != nullptr) continue;
    std::string value = "value:" + std::to_string(i);
    if (size >= 0) value.resize(static_cast<size_t>(size), '\0');
    db.Add(Entry::NewString(key, value));
  }
  ctx.rb().SendOk();
}

// Redis's memtoull: digits and an optional unit (b, k, kb, m, mb, g, gb, any case), nothing
// else; false on anything else or an overflow.
bool MemToUll(std::string_view s, uint64_t* out) {
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') digits++;
  const std::string unit = ToLower(s.substr(digits));
  uint64_t mul;
  if (unit.empty() || unit == "b") {
    mul = 1;
  } else if (unit == "k") {
    mul = 1000;
  } else if (unit == "kb") {
    mul = 1024;
  } else if (unit == "m") {
    mul = 1000 * 1000;
  } else if (unit == "mb") {
    mul = 1024 * 1024;
  } else if (unit == "g") {
    mul = 1000ULL * 1000 * 1000;
  } else if (unit == "gb") {
    mul = 1024ULL * 1024 * 1024;
  } else {
    return false;
  }
  // strtoull of the digits: none reads as 0.
  uint64_t value = 0;
  for (size_t i = 0; i < digits; i++) {
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (value > (UINT64_MAX - d) / 10) return false;
    value = value * 10 + d;
  }
  if (value > UINT64_MAX / mul) return false;
  *out = value * mul;
  return true;
}

// DEBUG QUICKLIST-PACKED-THRESHOLD size: from which length a list element gets a plain node of
// its own (quicklistisSetPackedThreshold). 0 restores the default (1 GiB); 4 GiB less 1 MiB at
// most. It applies to every list, those that exist included.
void DebugPackedThreshold(std::string_view arg, CommandContext& ctx) {
  uint64_t size;
  if (!MemToUll(arg, &size) || size > (uint64_t{1} << 32) - (1 << 20)) {
    return ctx.rb().SendError(
        "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
  }
  ctx.services().settings.list_packed_threshold =
      size == 0 ? ListValue::kDefaultPackedThreshold : static_cast<size_t>(size);
  ctx.rb().SendOk();
}

// Redis's lpEncodeBacklen: the bytes a listpack entry's backlen takes for an entry of `n`.
size_t BacklenSize(size_t n) {
  if (n <= 127) return 1;
  if (n < 16383) return 2;
  if (n < 2097151) return 3;
  if (n < 268435455) return 4;
  return 5;
}

// lpCurrentEncodedSizeBytes: the header bytes of the entry whose encoding byte is `b`.
size_t HeaderSize(unsigned char b) {
  if ((b & 0xC0) == 0x80 || (b & 0x80) == 0 || (b & 0xE0) == 0xC0) return 1;  // 6-bit str, ints
  if ((b & 0xF0) == 0xE0) return 2;                                           // 12-bit str
  if (b == 0xF0) return 5;                                                    // 32-bit str
  return 1;                                                                   // 16-64 bit ints
}

// lpRepr: a listpack's header and each entry's layout, bytes and value, on stdout.
void PrintListpack(const Listpack& lp) {
  const std::string_view raw = lp.raw();
  std::printf("{total bytes %zu} {num entries %zu}\n", lp.bytes(), lp.size());
  int index = 0;
  for (uint32_t p = lp.First(); p != Listpack::kEnd; p = lp.Next(p)) {
    const uint32_t next = lp.Next(p);
    // The entry runs to the next one, or to the terminator.
    const size_t total = (next != Listpack::kEnd ? next : raw.size() - 1) - p;
    size_t backlen = 1;
    while (backlen < 5 && BacklenSize(total - backlen) != backlen) backlen++;
    const size_t encoded = total - backlen;
    const size_t header = HeaderSize(static_cast<unsigned char>(raw[p]));
    std::printf(
        "{\n\taddr: 0x%08lx,\n\tindex: %2d,\n\toffset: %1lu,\n\thdr+entrylen+backlen: %2lu,\n"
        "\thdrlen: %3u,\n\tbacklen: %2lu,\n\tpayload: %1u\n",
        reinterpret_cast<unsigned long>(raw.data() + p), index, static_cast<unsigned long>(p),
        static_cast<unsigned long>(total), static_cast<unsigned>(header),
        static_cast<unsigned long>(backlen), static_cast<unsigned>(encoded - header));
    std::printf("\tbytes: ");
    for (size_t i = 0; i < total; i++) {
      std::printf("%02x|", static_cast<unsigned char>(raw[p + i]));
    }
    std::printf("\n");
    char buf[21];
    const std::string_view value = lp.Get(p).View(buf);
    std::printf("\t[str]");
    if (value.size() > 40) {
      std::fwrite(value.data(), 40, 1, stdout);
      std::printf("...");
    } else {
      std::fwrite(value.data(), value.size(), 1, stdout);
    }
    std::printf("\n}\n");
    index++;
  }
  std::printf("{end}\n\n");
}

// quicklistRepr: the list's counts and each node's; with `full`, each node's entries too.
// Keyward's nodes are never compressed (encoding RAW).
void PrintQuicklist(const ListValue& list, int compress, bool full) {
  std::printf("{count : %zu}\n{len : %zu}\n{fill : %d}\n{compress : %d}\n{bookmark_count : 0}\n",
              list.size(), list.node_count(), list.fill(), compress);
  for (size_t i = 0; i < list.node_count(); i++) {
    const Listpack& node = list.node(i);
    std::printf("{quicklist node(%zu)\n", i);
    std::printf(
        "{container : %s, encoding: RAW, size: %zu, count: %zu, recompress: 0, "
        "attempted_compress: 0}\n",
        list.node_plain(i) ? "PLAIN" : "PACKED", list.node_bytes(i), node.size());
    if (!full) continue;
    if (list.node_plain(i)) {
      char buf[21];
      const std::string element(node.Get(node.First()).View(buf));
      std::printf("{ entry : %s }\n", element.c_str());
    } else {
      std::printf("{ listpack:\n");
      PrintListpack(node);
      std::printf("}\n");
    }
    std::printf("}\n");
  }
}

// The key's entry for DEBUG LISTPACK / QUICKLIST (objectCommandLookupOrReply); nullptr with the
// error sent when it is missing.
Entry* LookupForDebug(std::string_view key, CommandContext& ctx) {
  Entry* e = ctx.db().Find(key, LookupMode::kReadNoTouchNoNotify);
  if (e == nullptr) ctx.rb().SendError(errors::kNoSuchKey);
  return e;
}

// DEBUG LISTPACK key: a listpack-encoded hash or sorted set printed on stdout. Its listpack is
// read back from its RDB form (RDB_TYPE_HASH_LISTPACK, RDB_TYPE_ZSET_LISTPACK: the listpack's
// bytes as one string), uncompressed.
void DebugListpack(std::string_view key, CommandContext& ctx) {
  Entry* e = LookupForDebug(key, ctx);
  if (e == nullptr) return;
  if (e->encoding() != Encoding::kListPack) {
    return ctx.rb().SendError("ERR Not a listpack encoded object.");
  }
  struct Sink : ValueSink {
    std::string bytes;
    void Write(std::string_view b) override { bytes.append(b); }
    bool compress() const override { return false; }
  } sink;
  e->value()->Serialise(sink);
  rdb::Reader in(sink.bytes);
  const std::optional<std::string> blob = in.String();
  const std::optional<Listpack> lp = blob ? Listpack::FromBytes(*blob) : std::nullopt;
  if (lp) PrintListpack(*lp);
  std::fflush(stdout);
  ctx.rb().SendSimple("Listpack structure printed on stdout");
}

// DEBUG QUICKLIST key [0|1]: a list's nodes printed on stdout, with their entries when the
// flag (read with atoi) is not 0.
void DebugQuicklist(CmdArgs args, CommandContext& ctx) {
  Entry* e = LookupForDebug(args[2], ctx);
  if (e == nullptr) return;
  const bool full = args.size() == 4 && std::atoi(std::string(args[3]).c_str()) != 0;
  if (e->encoding() != Encoding::kQuickList) {
    return ctx.rb().SendError("ERR Not a quicklist encoded object.");
  }
  PrintQuicklist(*e->value_as<ListValue>(), static_cast<int>(ctx.settings().list_compress_depth),
                 full);
  std::fflush(stdout);
  ctx.rb().SendSimple("Quicklist structure printed on stdout");
}

// DEBUG CHANGE-REPL-ID: a new random replication ID, and the second one cleared (Redis's
// changeReplicationId and clearReplicationId2).
void DebugChangeReplId(CommandContext& ctx) {
  spdlog::warn("Changing replication IDs after receiving DEBUG change-repl-id");
  ServerState& state = ctx.services().state;
  state.replid = RandomHex(ctx.services().rng, 40);
  state.replid2.assign(40, '0');
  state.second_replid_offset = -1;
  ctx.rb().SendOk();
}

// DEBUG SLEEP seconds: blocks the whole server on purpose, to simulate a stalled instance.
void DebugSleep(std::string_view arg, CommandContext& ctx) {
  // Redis reads the argument with strtod: garbage means 0 seconds.
  double secs = std::strtod(std::string(arg).c_str(), nullptr);
  if (!(secs > 0)) secs = 0;
  secs = std::min(secs, 1e9);  // keeps the conversion to microseconds in range
  std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(secs * 1e6)));
  ctx.rb().SendOk();
}

// The entries of Redis's DEBUG HELP that Keyward has, in Redis's order and words.
void DebugHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CHANGE-REPL-ID",
      "    Change the replication IDs of the instance.",
      "    Dangerous: should be used only for testing the replication subsystem.",
      "LOADAOF",
      "    Flush the AOF buffers on disk and reload the AOF in memory.",
      "OBJECT <key>",
      "    Show low level info about `key` and associated value.",
      "POPULATE <count> [<prefix>] [<size>]",
      "    Create <count> string keys named key:<num>. If <prefix> is specified then",
      "    it is used instead of the 'key' prefix. These are not propagated to",
      "    replicas. Cluster slots are not respected so keys not belonging to the",
      "    current node can be created in cluster mode.",
      "PROTOCOL <type>",
      "    Reply with a test value of the specified type. <type> can be: string,",
      "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
      "    true, false.",
      "RELOAD [option ...]",
      "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
      "    * MERGE: conflicting keys will be loaded from RDB.",
      "    * NOFLUSH: the existing database will not be removed before load, but",
      "      conflicting keys will generate an exception and kill the server.",
      "    * NOSAVE: the database will be loaded from an existing RDB file.",
      "    Examples:",
      "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
      "      the database.",
      "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
      "      existing RDB file.",
      "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
      "      file to the database.",
      "SEGFAULT",
      "    Crash the server with sigsegv.",
      "SET-ACTIVE-EXPIRE <0|1>",
      "    Setting it to 0 disables expiring keys in background when they are not",
      "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
      "    default.",
      "QUICKLIST-PACKED-THRESHOLD <size>",
      "    Sets the threshold for elements to be inserted as plain vs packed nodes",
      "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
      "SLEEP <seconds>",
      "    Stop the server for <seconds>. Decimals allowed.",
      "LISTPACK <key>",
      "    Show low level info about the listpack encoding of <key>.",
      "QUICKLIST <key> [<0|1>]",
      "    Show low level info about the quicklist encoding of <key>.",
      "    The optional argument (0 by default) sets the level of detail",
  };
  ctx.rb().SendHelp("DEBUG", kLines);
}

// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the dataset, load the file back. A key
// that conflicts under NOFLUSH without MERGE makes Redis panic; here the load stops with the error
// reply and what was loaded until then stays.
void DebugReload(CmdArgs args, CommandContext& ctx) {
  bool merge = false, flush = true, save = true;
  for (size_t j = 2; j < args.size(); j++) {
    if (EqualsIgnoreCase(args[j], "merge")) {
      merge = true;
    } else if (EqualsIgnoreCase(args[j], "noflush")) {
      flush = false;
    } else if (EqualsIgnoreCase(args[j], "nosave")) {
      save = false;
    } else {
      return ctx.rb().SendError(
          "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
    }
  }
  RdbPersistence& rdb = ctx.services().rdb;
  switch (rdb.Reload(merge, flush, save)) {
    case RdbPersistence::ReloadOutcome::kOk:
      return ctx.rb().SendOk();
    case RdbPersistence::ReloadOutcome::kSaveFailed:
      return ctx.rb().SendError("ERR");
    case RdbPersistence::ReloadOutcome::kLoadFailed:
      return ctx.rb().SendError("ERR Error trying to load the RDB dump, check server logs.");
  }
}

// DEBUG LOADAOF: the AOF written out, the dataset emptied and the AOF loaded back; a directory
// that cannot be loaded stops the server, as in Redis (it would otherwise run on half a dataset).
void DebugLoadAof(CommandContext& ctx) {
  if (auto error = ctx.services().aof.Reload()) {
    spdlog::critical("{}", *error);
    spdlog::shutdown();
    std::_Exit(1);
  }
  spdlog::warn("Append Only File loaded by DEBUG LOADAOF");
  ctx.rb().SendOk();
}

void CmdDebug(CmdArgs args, CommandContext& ctx) {
  const std::string sub = ToLower(args[1]);
  const size_t argc = args.size();
  if (sub == "help" && argc == 2) return DebugHelp(ctx);
  if (sub == "change-repl-id" && argc == 2) return DebugChangeReplId(ctx);
  if (sub == "object" && argc == 3) return DebugObject(args[2], ctx);
  if (sub == "populate" && argc >= 3 && argc <= 5) return DebugPopulate(args, ctx);
  if (sub == "protocol" && argc == 3) return DebugProtocol(args[2], ctx);
  if (sub == "reload") return DebugReload(args, ctx);
  if (sub == "loadaof" && argc == 2) return DebugLoadAof(ctx);
  if (sub == "segfault") {
    // A real memory fault, for crash-log-enabled and a supervisor's restart (Redis's DEBUG
    // SEGFAULT, which ignores any argument): a write to a page that may not be written.
    void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    *static_cast<volatile char*>(page) = 'x';
    return;
  }
  if (sub == "set-active-expire" && argc == 3) {
    // Redis reads the flag with atoi: garbage means 0 (disabled).
    ctx.services().cron.active_expire_enabled = std::atoi(std::string(args[2]).c_str()) != 0;
    return ctx.rb().SendOk();
  }
  if (sub == "quicklist-packed-threshold" && argc == 3) {
    return DebugPackedThreshold(args[2], ctx);
  }
  if (sub == "sleep" && argc == 3) return DebugSleep(args[2], ctx);
  if (sub == "listpack" && argc == 3) return DebugListpack(args[2], ctx);
  if (sub == "quicklist" && (argc == 3 || argc == 4)) return DebugQuicklist(args, ctx);
  ctx.rb().SendError(errors::SubcommandSyntax("debug", args[1]));
}

}  // namespace

void RegisterDebugFamily(CommandRegistry& r) {
  r << CommandSpec{
      "debug",
      -2,
      CO::kAdmin | CO::kNoScript | CO::kLoading | CO::kStale | CO::kProtected,
      0,
      0,
      0,
      0,
      CmdDebug,
      {"A container for debugging commands", "1.0.0", "server", "Depends on subcommand.", ""}};
}

}  // namespace keyward
