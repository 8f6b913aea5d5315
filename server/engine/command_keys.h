// The keys and channels a command line names, with how it uses them: COMMAND GETKEYS and
// GETKEYSANDFLAGS list them, the ACL checks them (Redis's getKeysFromCommandWithSpecs and
// getChannelsFromCommand).
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "server/engine/command.h"
#include "server/engine/registry.h"

namespace keyward {

// A key argument and its flags ("RW access update"), as COMMAND GETKEYSANDFLAGS lists them.
struct FoundKey {
  size_t pos;
  std::string_view flags;
  uint8_t access = 0;  // KeyAccessOf(flags), filled by AclKeys
};

// The keys of `target` (a full command line) with their flags; an error text when the command
// or its arguments cannot be resolved (COMMAND GETKEYS's and GETKEYSANDFLAGS's errors).
std::variant<std::vector<FoundKey>, std::string_view> FindKeys(const CommandRegistry& registry,
                                                               CmdArgs target);

// The keys the ACL checks (Redis's getKeysFromCommandWithSpecs with its default search): by the
// key specs, 'not_key' ones left out; a spec that cannot be resolved (a count that is not one, a
// range past the end: the command will fail on its syntax) leaves the command with no keys; the
// commands whose flags depend on their arguments by their own rule (as FindKeys).
// `command` is the command `target` runs (a container's subcommand). `keys` is cleared first
// (a buffer the caller reuses: no allocation per command).
void AclKeys(const CommandRegistry& registry, const CommandSpec& command, CmdArgs target,
             std::vector<FoundKey>* keys);

// What a key's flags ask of it, for the ACL: reading (access) and writing (insert, delete,
// update). A key with neither (EXISTS, TYPE: only metadata) needs no particular permission. A
// shard channel is a key to cluster slots only (not_key): the ACL does not treat it as a key.
enum KeyAccess : uint8_t { kKeyRead = 1, kKeyWrite = 2, kNotAKey = 4, kIncompleteKeys = 8 };
uint8_t KeyAccessOf(std::string_view flags);

// A channel argument of a command that publishes or subscribes (unsubscribing is always
// allowed): PUBLISH, SPUBLISH, SUBSCRIBE, SSUBSCRIBE, PSUBSCRIBE (its arguments are patterns).
struct FoundChannel {
  size_t pos;
  bool pattern;
};
// Empty (and no allocation) for every other command.
std::vector<FoundChannel> FindChannels(const CommandSpec& cmd, CmdArgs args);

}  // namespace keyward
