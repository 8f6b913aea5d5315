// What COMMAND INFO says about a command beyond the command table: Redis 7.0's key
// specifications and tips. For the Redis commands the data is generated from the oracle by
// tools/gen_command_meta.py (command_meta_table.inc); Keyward's own commands are described by the
// families that register them (CommandSpec::WithMeta).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "server/engine/command.h"

namespace keyward {

struct KeySpecMeta {
  std::string_view notes;       // empty: none
  std::string_view flags;       // space-separated: "RW access update"
  std::string_view begin_type;  // "index", "keyword" or "unknown"
  int index = 0;                // index
  std::string_view keyword;     // keyword
  int startfrom = 0;            // keyword
  std::string_view find_type;   // "range", "keynum" or "unknown"
  int a = 0, b = 0, c = 0;  // range: lastkey, keystep, limit; keynum: keynumidx, firstkey, keystep
};

struct CommandMeta {
  std::string_view name;  // full name: "get", "object|encoding"
  std::string_view tips;  // space-separated
  std::vector<KeySpecMeta> key_specs;
  // Redis's COMMAND DOCS entry without its subcommands (summary, since, group, complexity, and
  // where Redis has them doc_flags, deprecated_since, replaced_by, history, arguments): the number
  // of fields and their bytes in each protocol. 0: the family's own summary is used.
  int doc_fields = 0;
  std::string_view doc_resp3 = {};
  std::string_view doc_resp2 = {};
};

// nullptr for a command without metadata (Redis's commands, from the generated table).
const CommandMeta* FindCommandMeta(std::string_view full_name);
// A command's metadata: its family's own (CommandSpec::WithMeta), else the generated table's.
inline const CommandMeta* MetaOf(const CommandSpec& cmd) {
  return cmd.meta() != nullptr ? cmd.meta() : FindCommandMeta(cmd.full_name());
}

// The positions of the keys in `args` by the key specs (Redis's getKeysUsingKeySpecs): nullopt
// when a spec cannot be resolved from the table (type "unknown").
std::optional<std::vector<size_t>> KeysFromSpecs(const CommandMeta& meta, CmdArgs args);
// The same, each key with the spec that found it (its flags: COMMAND GETKEYSANDFLAGS).
struct KeyRef {
  size_t pos;
  const KeySpecMeta* spec;
};
std::optional<std::vector<KeyRef>> KeyRefsFromSpecs(const CommandMeta& meta, CmdArgs args);
// The positions of a command's key arguments (Redis's getKeysFromCommand): by its key specs where
// they resolve, else by its first/last/step. COMMAND GETKEYS, client-side caching, later ACL.
std::vector<size_t> KeysOf(const CommandSpec& cmd, CmdArgs args);

}  // namespace keyward
