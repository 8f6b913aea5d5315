#include "server/engine/command.h"

#include "server/core/strings.h"

namespace keyward {

namespace {

// Redis's setImplicitACLCategories.
uint64_t ImplicitCategories(uint32_t flags, uint64_t acl) {
  if (flags & CO::kWrite) acl |= Acl::kWrite;
  if ((flags & CO::kReadOnly) && !(acl & Acl::kScripting)) acl |= Acl::kRead;
  if (flags & CO::kAdmin) acl |= Acl::kAdmin | Acl::kDangerous;
  if (flags & CO::kPubSub) acl |= Acl::kPubSub;
  if (flags & CO::kFast) acl |= Acl::kFast;
  if (flags & CO::kBlocking) acl |= Acl::kBlocking;
  if (!(acl & Acl::kFast)) acl |= Acl::kSlow;
  return acl;
}

}  // namespace

CommandSpec::CommandSpec(std::string_view name, int arity, uint32_t flags, int first_key,
                         int last_key, int step, uint64_t acl, Handler handler, CommandDoc doc)
    : name_(ToLower(name)),
      full_name_(name_),
      arity_(arity),
      flags_(flags),
      first_key_(first_key),
      last_key_(last_key),
      step_(step),
      acl_(ImplicitCategories(flags, acl)),
      handler_(handler),
      doc_(doc) {}

CommandSpec& CommandSpec::AddSubcommand(CommandSpec sub) {
  auto owned = std::make_unique<CommandSpec>(std::move(sub));
  owned->parent_ = this;
  owned->full_name_ = name_ + "|" + owned->name_;
  subcommands_.push_back(std::move(owned));
  return *this;
}

const CommandSpec* CommandSpec::FindSubcommand(std::string_view name) const {
  for (const auto& sub : subcommands_) {
    if (EqualsIgnoreCase(sub->name_, name)) return sub.get();
  }
  return nullptr;
}

std::vector<size_t> CommandSpec::KeyPositions(CmdArgs args) const {
  std::vector<size_t> keys;
  if (first_key_ <= 0) return keys;
  int last = last_key_ < 0 ? static_cast<int>(args.size()) + last_key_ : last_key_;
  for (int i = first_key_; i <= last && i < static_cast<int>(args.size()); i += step_) {
    keys.push_back(static_cast<size_t>(i));
  }
  return keys;
}

std::vector<std::string_view> FlagNames(uint32_t flags) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {
      {CO::kWrite, "write"},
      {CO::kReadOnly, "readonly"},
      {CO::kDenyOom, "denyoom"},
      {CO::kAdmin, "admin"},
      {CO::kPubSub, "pubsub"},
      {CO::kNoScript, "noscript"},
      {CO::kBlocking, "blocking"},
      {CO::kLoading, "loading"},
      {CO::kStale, "stale"},
      {CO::kSkipMonitor, "skip_monitor"},
      {CO::kSkipSlowlog, "skip_slowlog"},
      {CO::kFast, "fast"},
      {CO::kNoAuth, "no_auth"},
      // may_replicate and protected steer the gatekeeper but are not listed: Redis 7.0.15's
      // COMMAND INFO does not name them either.
      {CO::kNoMandatoryKeys, "no_mandatory_keys"},
      {CO::kNoAsyncLoading, "no_async_loading"},
      {CO::kNoMulti, "no_multi"},
      {CO::kMovableKeys, "movablekeys"},
      {CO::kAllowBusy, "allow_busy"},
  };
  std::vector<std::string_view> out;
  for (auto [bit, name] : kNames) {
    if (flags & bit) out.push_back(name);
  }
  return out;
}

std::span<const AclCategory> AclCategories() {
  static constexpr AclCategory kCategories[] = {
      {"keyspace", Acl::kKeyspace},
      {"read", Acl::kRead},
      {"write", Acl::kWrite},
      {"set", Acl::kSet},
      {"sortedset", Acl::kSortedSet},
      {"list", Acl::kList},
      {"hash", Acl::kHash},
      {"string", Acl::kString},
      {"bitmap", Acl::kBitmap},
      {"hyperloglog", Acl::kHyperLogLog},
      {"geo", Acl::kGeo},
      {"stream", Acl::kStream},
      {"pubsub", Acl::kPubSub},
      {"admin", Acl::kAdmin},
      {"fast", Acl::kFast},
      {"slow", Acl::kSlow},
      {"blocking", Acl::kBlocking},
      {"dangerous", Acl::kDangerous},
      {"connection", Acl::kConnection},
      {"transaction", Acl::kTransaction},
      {"scripting", Acl::kScripting},
      {"coordination", Acl::kCoordination},
  };
  return kCategories;
}

uint64_t AclCategoryByName(std::string_view name) {
  for (const AclCategory& c : AclCategories()) {
    if (EqualsIgnoreCase(c.name, name)) return c.bit;
  }
  return 0;
}

std::vector<std::string_view> AclCategoryNames(uint64_t categories) {
  // COMMAND INFO's spelling: "@read".
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const AclCategory& c : AclCategories()) names.push_back("@" + std::string(c.name));
    return names;
  }();
  std::vector<std::string_view> out;
  const auto categories_list = AclCategories();
  for (size_t i = 0; i < categories_list.size(); i++) {
    if (categories & categories_list[i].bit) out.push_back(kNames[i]);
  }
  return out;
}

}  // namespace keyward
