#include "server/storage/rdb_loader.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <thread>

#include "server/keyspace/value_decode.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {
namespace {

constexpr std::string_view kShortRead =
    "Short read or OOM loading DB. Unrecoverable error, aborting now.";

int64_t ParseAuxInt(std::string_view s) {
  int64_t v = -1;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

class Loader {
 public:
  Loader(rdb::Reader& in, Keyspace& keyspace, const ServerSettings& settings,
         const RdbLoadOptions& options, const RdbLoadHandlers& handlers)
      : in_(in), keyspace_(keyspace), settings_(settings), options_(options), handlers_(handlers) {}

  RdbLoadResult Run() {
    if (auto error = Header()) return Fail(std::move(*error));
    if (auto error = Body()) return Fail(std::move(*error));
    result_.bytes_used = in_.position();
    return std::move(result_);
  }

 private:
  RdbLoadResult Fail(std::string error) {
    result_.error = std::move(error);
    return std::move(result_);
  }

  std::optional<std::string> Header() {
    auto magic = in_.Bytes(9);
    if (!magic || magic->substr(0, 5) != "REDIS") {
      return std::string("Wrong signature trying to load DB from file");
    }
    int version = 0;
    for (char c : magic->substr(5)) {
      if (c < '0' || c > '9') return std::string("Can't handle RDB format version 0");
      version = version * 10 + (c - '0');
    }
    if (version < 1 || version > rdb::kVersion) {
      return "Can't handle RDB format version " + std::to_string(version);
    }
    result_.version = version;
    return std::nullopt;
  }

  void Progress() {
    if (handlers_.progress && in_.position() >= next_progress_) {
      handlers_.progress(in_.position());
      next_progress_ = in_.position() + handlers_.progress_interval;
    }
  }

  std::optional<std::string> Body() {
    Database* db = &keyspace_.db(0);
    int64_t expire_ms = -1;
    int64_t idle = -1;
    next_progress_ = handlers_.progress_interval;
    for (;;) {
      Progress();
      auto type = in_.Byte();
      if (!type) return std::string(kShortRead);
      switch (*type) {
        case rdb::kOpcodeExpireTime: {
          auto secs = in_.LittleEndian(4);
          if (!secs) return std::string(kShortRead);
          expire_ms = static_cast<int64_t>(static_cast<int32_t>(*secs)) * 1000;
          continue;
        }
        case rdb::kOpcodeExpireTimeMs: {
          auto ms = in_.LittleEndian(8);
          if (!ms) return std::string(kShortRead);
          expire_ms = static_cast<int64_t>(*ms);
          continue;
        }
        case rdb::kOpcodeFreq: {
          if (!in_.Byte()) return std::string(kShortRead);
          continue;  // LFU counters matter only under an LFU maxmemory-policy (none yet)
        }
        case rdb::kOpcodeIdle: {
          auto secs = in_.Len();
          if (!secs) return std::string(kShortRead);
          idle = static_cast<int64_t>(*secs);
          continue;
        }
        case rdb::kOpcodeEof:
          return Footer();
        case rdb::kOpcodeSelectDb: {
          auto index = in_.Len();
          if (!index) return std::string(kShortRead);
          if (*index >= static_cast<uint64_t>(keyspace_.db_count())) {
            return "FATAL: Data file was created with a Redis server configured to handle more "
                   "than " +
                   std::to_string(keyspace_.db_count()) + " databases. Exiting\n";
          }
          db = &keyspace_.db(static_cast<int>(*index));
          continue;
        }
        case rdb::kOpcodeResizeDb: {
          auto keys = in_.Len();
          auto expires = in_.Len();
          if (!keys || !expires) return std::string(kShortRead);
          // A hint, bounded by what the rest of the file could hold (a key takes 3+ bytes).
          db->Reserve(std::min<uint64_t>(*keys, in_.remaining() / 3));
          continue;
        }
        case rdb::kOpcodeAux: {
          auto key = in_.String();
          auto value = key ? in_.String() : std::nullopt;
          if (!value) return std::string(kShortRead);
          Aux(*key, *value);
          continue;
        }
        case rdb::kOpcodeModuleAux: {
          // No modules here: Redis refuses a file with module data it cannot hand to a module.
          auto module_id = in_.Len();
          if (!module_id) return std::string(kShortRead);
          return "The RDB file contains AUX module data I can't load: no matching module '" +
                 ModuleName(*module_id) + "'";
        }
        case rdb::kOpcodeFunctionPreGa:
          return std::string(
              "Pre-GA function format not supported, please use a GA version of Redis.");
        case rdb::kOpcodeFunction2: {
          auto code = in_.String();
          if (!code) return std::string(kShortRead);
          if (handlers_.function) {
            if (auto error = handlers_.function(*code)) {
              return "Failed loading library: " + *error;
            }
          }
          continue;
        }
        default:
          break;
      }
      if (auto error = Key(*db, *type, expire_ms, idle)) return error;
      expire_ms = -1;
      idle = -1;
    }
  }

  std::optional<std::string> Key(Database& db, uint8_t type, int64_t expire_ms, int64_t idle) {
    const size_t at = in_.position() - 1;
    auto key = in_.String();
    if (!key) return std::string(kShortRead);
    if (type == 6 || type == 7)
      return std::string("The RDB file contains module data I can't load");
    bool empty = false;
    auto value = DecodeValue(type, in_, settings_, &empty);
    if (!value && empty) {
      // A value with nothing in it: Redis 7.0 skips the key (rdbLoadObject's empty keys).
      spdlog::warn("rdbLoadObject skipping empty key: {}", *key);
      result_.empty_keys_skipped++;
      return std::nullopt;
    }
    if (!value) {
      char text[160];
      std::snprintf(text, sizeof(text),
                    "Internal error in RDB reading offset %zu, function at rdb.c:0 -> Bad data "
                    "format loading a value of type %u",
                    at, static_cast<unsigned>(type));
      return std::string(text);
    }
    // A master drops keys whose deadline passed while the file was on disk.
    if (options_.drop_expired && expire_ms != -1 && expire_ms < keyspace_.now_ms()) {
      result_.keys_expired++;
      return std::nullopt;
    }
    Entry* e =
        std::holds_alternative<std::string>(*value)
            ? Entry::NewString(*key, std::get<std::string>(*value), expire_ms)
            : Entry::NewValue(*key, std::move(std::get<std::unique_ptr<Value>>(*value)), expire_ms);
    if (!db.AddLoaded(e)) {
      if (options_.allow_duplicates) {
        db.Delete(*key);
        db.AddLoaded(e);
        result_.keys_loaded++;
        return std::nullopt;
      }
      Entry::Free(e);
      return "RDB has duplicated key '" + *key + "' in DB " + std::to_string(db.index());
    }
    if (options_.key_delay_us != nullptr && *options_.key_delay_us > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(*options_.key_delay_us));
    }
    if (idle >= 0) {
      const int64_t clock = keyspace_.now_ms() / 1000 - idle;
      e->set_lru(static_cast<uint32_t>(clock > 0 ? clock : 0) & 0xFFFFFF);
    }
    result_.keys_loaded++;
    return std::nullopt;
  }

  void Aux(std::string_view key, std::string_view value) {
    if (key == "redis-ver") result_.redis_ver = value;
    if (key == "ctime") result_.ctime = ParseAuxInt(value);
    if (key == "used-mem") result_.used_mem = ParseAuxInt(value);
    if (handlers_.aux) handlers_.aux(key, value);
  }

  std::optional<std::string> Footer() {
    if (result_.version < 5) return std::nullopt;
    const uint64_t computed = in_.Checksum();
    auto stored = in_.LittleEndian(8);
    if (!stored) return std::string(kShortRead);
    if (options_.verify_checksum && *stored != 0 && *stored != computed) {
      char text[128];
      std::snprintf(text, sizeof(text),
                    "Wrong RDB checksum expected: (%016" PRIx64 ") got (%016" PRIx64
                    "). Aborting now.",
                    *stored, computed);
      return std::string(text);
    }
    return std::nullopt;
  }

  // A module's name from its 64-bit id: nine characters of a 64-symbol alphabet
  // (moduleTypeNameByID).
  static std::string ModuleName(uint64_t id) {
    static constexpr char kSymbols[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string name(9, ' ');
    id >>= 10;
    for (int j = 8; j >= 0; j--) {
      name[static_cast<size_t>(j)] = kSymbols[id & 63];
      id >>= 6;
    }
    return name;
  }

  rdb::Reader& in_;
  Keyspace& keyspace_;
  const ServerSettings& settings_;
  const RdbLoadOptions& options_;
  const RdbLoadHandlers& handlers_;
  size_t next_progress_ = 0;
  RdbLoadResult result_;
};

}  // namespace

RdbLoadResult LoadRdb(std::string_view data, Keyspace& keyspace, const ServerSettings& settings,
                      const RdbLoadOptions& options, const RdbLoadHandlers& handlers) {
  rdb::Reader in(data);
  return Loader(in, keyspace, settings, options, handlers).Run();
}

RdbLoadResult LoadRdb(rdb::Reader& in, Keyspace& keyspace, const ServerSettings& settings,
                      const RdbLoadOptions& options, const RdbLoadHandlers& handlers) {
  return Loader(in, keyspace, settings, options, handlers).Run();
}

}  // namespace keyward
