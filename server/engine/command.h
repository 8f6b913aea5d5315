// The command table's row: everything the dispatcher, COMMAND, and later scripting, ACL and
// cluster know about a command. Families build rows in a table at the bottom of their file.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

class CommandContext;
struct CommandMeta;
struct Services;
using CmdArgs = std::span<const std::string_view>;
using Handler = void (*)(CmdArgs args, CommandContext& ctx);
// A command whose flags depend on its arguments: EVAL and FCALL run with the flags their script
// declares (Redis's getCommandFlags). Given the command line and the static flags.
using FlagsHook = uint32_t (*)(CmdArgs args, uint32_t flags, Services& services);

// Command flags, as Redis 7.0 sets them (COMMAND INFO lists all but may_replicate and protected,
// as 7.0.15 does).
namespace CO {
enum : uint32_t {
  kWrite = 1 << 0,
  kReadOnly = 1 << 1,
  kDenyOom = 1 << 2,
  kAdmin = 1 << 3,
  kPubSub = 1 << 4,
  kNoScript = 1 << 5,
  kBlocking = 1 << 6,
  kLoading = 1 << 7,  // allowed while loading the dataset
  kStale = 1 << 8,    // allowed on a replica with stale data
  kSkipMonitor = 1 << 9,
  kSkipSlowlog = 1 << 10,
  kFast = 1 << 11,
  kNoAuth = 1 << 12,
  // Not a write, but may cause one to be propagated (EVAL, FCALL, PUBLISH): CLIENT PAUSE WRITE
  // holds it and read-only scripts refuse it.
  kMayReplicate = 1 << 13,
  kSentinel = 1 << 14,
  kOnlySentinel = 1 << 15,
  kNoMandatoryKeys = 1 << 16,
  kNoAsyncLoading = 1 << 17,
  kNoMulti = 1 << 18,
  kMovableKeys = 1 << 19,
  kAllowBusy = 1 << 20,
  // Refused unless enable-debug-command / enable-module-command allow it (DEBUG, MODULE).
  kProtected = 1 << 21,
};
}  // namespace CO

// ACL categories. Families name the data-type ones; @read, @write, @admin, @dangerous, @pubsub,
// @fast, @slow and @blocking are derived from the flags, as in Redis.
namespace Acl {
enum : uint64_t {
  kKeyspace = 1 << 0,
  kRead = 1 << 1,
  kWrite = 1 << 2,
  kSet = 1 << 3,
  kSortedSet = 1 << 4,
  kList = 1 << 5,
  kHash = 1 << 6,
  kString = 1 << 7,
  kBitmap = 1 << 8,
  kHyperLogLog = 1 << 9,
  kGeo = 1 << 10,
  kStream = 1 << 11,
  kPubSub = 1 << 12,
  kAdmin = 1 << 13,
  kFast = 1 << 14,
  kSlow = 1 << 15,
  kBlocking = 1 << 16,
  kDangerous = 1 << 17,
  kConnection = 1 << 18,
  kTransaction = 1 << 19,
  kScripting = 1 << 20,
  // Keyward's own: the coordination commands (LOCK.*), so that a service can be given its
  // locks and nothing else (`+@coordination`).
  kCoordination = 1 << 21,
};
}  // namespace Acl

// The ACL categories in Redis's order (ACL CAT), Keyward's own last.
struct AclCategory {
  std::string_view name;  // without '@'
  uint64_t bit;
};
std::span<const AclCategory> AclCategories();
// The bit of a category name (case-insensitive, without '@'); 0 when unknown.
uint64_t AclCategoryByName(std::string_view name);

std::vector<std::string_view> FlagNames(uint32_t flags);
std::vector<std::string_view> AclCategoryNames(uint64_t categories);

struct CommandStats {
  uint64_t calls = 0;
  uint64_t usec = 0;
  uint64_t rejected_calls = 0;
  uint64_t failed_calls = 0;
};

// Documentation shown by COMMAND DOCS (and by redis-cli 7.2+ as hints).
struct CommandDoc {
  std::string_view summary;
  std::string_view since;
  std::string_view group;  // "string", "generic", "connection", "server", ...
  std::string_view complexity;
  std::string_view arguments;  // Redis syntax of the arguments, e.g. "key value [NX|XX]"
};

class CommandSpec {
 public:
  CommandSpec(std::string_view name, int arity, uint32_t flags, int first_key, int last_key,
              int step, uint64_t acl, Handler handler, CommandDoc doc = {});

  // A container command (CONFIG, CLIENT, OBJECT, ...) dispatches on its first argument.
  CommandSpec& AddSubcommand(CommandSpec sub);
  CommandSpec&& WithFlagsHook(FlagsHook hook) && {
    flags_hook_ = hook;
    return std::move(*this);
  }
  // COMMAND INFO's key specs and tips, for a command Redis does not have (the generated table
  // covers Redis's own): the family that registers it describes it.
  CommandSpec&& WithMeta(const CommandMeta* meta) && {
    meta_ = meta;
    return std::move(*this);
  }
  const CommandMeta* meta() const { return meta_; }
  // The registry resolves a Redis command's metadata once, from the generated table, when it
  // takes the command (the ACL reads key specs on every command of a restricted user).
  void set_meta(const CommandMeta* meta) { meta_ = meta; }

  // A small number unique to this command in its table (ACL bitmaps index by it), set when the
  // registry takes the command; 0 before.
  uint32_t id() const { return id_; }
  void set_id(uint32_t id) { id_ = id; }
  const std::string& name() const { return name_; }            // "get", "get" for subcommands
  const std::string& full_name() const { return full_name_; }  // "get", "config|get"
  int arity() const { return arity_; }
  uint32_t flags() const { return flags_; }
  bool has(uint32_t flag) const { return (flags_ & flag) != 0; }
  // The flags this command line runs with (the static ones unless a hook refines them).
  uint32_t FlagsFor(CmdArgs args, Services* services) const {
    return flags_hook_ != nullptr && services != nullptr ? flags_hook_(args, flags_, *services)
                                                         : flags_;
  }
  int first_key() const { return first_key_; }
  int last_key() const { return last_key_; }
  int step() const { return step_; }
  uint64_t acl() const { return acl_; }
  Handler handler() const { return handler_; }
  const CommandDoc& doc() const { return doc_; }
  const CommandSpec* parent() const { return parent_; }
  bool is_container() const { return !subcommands_.empty(); }
  const std::vector<std::unique_ptr<CommandSpec>>& subcommands() const { return subcommands_; }
  const CommandSpec* FindSubcommand(std::string_view name) const;

  bool ArityOk(size_t argc) const {
    return arity_ >= 0 ? argc == static_cast<size_t>(arity_) : argc >= static_cast<size_t>(-arity_);
  }
  // Positions of the key arguments in `args` (GETKEYS, later ACL and cluster).
  std::vector<size_t> KeyPositions(CmdArgs args) const;

  CommandStats& stats() const { return stats_; }
  // Points the subcommands back at this spec after it moved into its final place.
  void FixParents() {
    for (auto& sub : subcommands_) sub->parent_ = this;
  }

 private:
  std::string name_;
  std::string full_name_;
  int arity_;
  uint32_t flags_;
  int first_key_, last_key_, step_;
  uint64_t acl_;
  Handler handler_;
  uint32_t id_ = 0;
  FlagsHook flags_hook_ = nullptr;
  const CommandMeta* meta_ = nullptr;
  CommandDoc doc_;
  const CommandSpec* parent_ = nullptr;
  std::vector<std::unique_ptr<CommandSpec>> subcommands_;
  mutable CommandStats stats_;
};

}  // namespace keyward
