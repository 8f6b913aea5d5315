#include "server/engine/command_meta.h"

#include <string>
#include <unordered_map>

#include "server/core/strings.h"

namespace keyward {

namespace {

const CommandMeta kCommands[] = {
#include "server/engine/command_meta_table.inc"
};

}  // namespace

const CommandMeta* FindCommandMeta(std::string_view full_name) {
  static const auto* by_name = [] {
    auto* m = new std::unordered_map<std::string_view, const CommandMeta*>();
    for (const CommandMeta& c : kCommands) m->emplace(c.name, &c);
    return m;
  }();
  auto it = by_name->find(full_name);
  return it == by_name->end() ? nullptr : it->second;
}

std::optional<std::vector<size_t>> KeysFromSpecs(const CommandMeta& meta, CmdArgs args) {
  auto refs = KeyRefsFromSpecs(meta, args);
  if (!refs) return std::nullopt;
  std::vector<size_t> keys;
  keys.reserve(refs->size());
  for (const KeyRef& ref : *refs) keys.push_back(ref.pos);
  return keys;
}

std::optional<std::vector<KeyRef>> KeyRefsFromSpecs(const CommandMeta& meta, CmdArgs args) {
  std::vector<KeyRef> keys;
  const int argc = static_cast<int>(args.size());
  for (const KeySpecMeta& spec : meta.key_specs) {
    int first;
    if (spec.begin_type == "index") {
      first = spec.index;
    } else if (spec.begin_type == "keyword") {
      // From `startfrom` (negative: from the end), the argument after the keyword.
      first = -1;
      const bool backwards = spec.startfrom < 0;
      int i = backwards ? argc + spec.startfrom : spec.startfrom;
      for (; i > 0 && i < argc; i += backwards ? -1 : 1) {
        if (EqualsIgnoreCase(args[static_cast<size_t>(i)], spec.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first < 0) continue;
    } else {
      return std::nullopt;
    }
    if (first >= argc) continue;
    int last, step;
    if (spec.find_type == "range") {
      step = spec.b;
      last = spec.a >= 0 ? first + spec.a : argc + spec.a;
      if (spec.a < 0 && spec.c > 0) last = first + ((argc - first) / spec.c + spec.a);
    } else if (spec.find_type == "keynum") {
      int64_t n;
      const int at = first + spec.a;
      // Like EVAL's getkeys: no keys (not an error) when the count is unusable.
      if (at >= argc || !ParseInt64(args[static_cast<size_t>(at)], &n) || n < 0) return keys;
      step = spec.c;
      first += spec.b;
      if (n == 0) continue;
      last = first + static_cast<int>(n) - 1;
      if (last >= argc) return std::vector<KeyRef>();
    } else {
      return std::nullopt;
    }
    for (int i = first; i <= last && i<argc; i += step> 0 ? step : 1) {
      keys.push_back(KeyRef{static_cast<size_t>(i), &spec});
    }
  }
  return keys;
}

std::vector<size_t> KeysOf(const CommandSpec& cmd, CmdArgs args) {
  if (const CommandMeta* meta = MetaOf(cmd); meta != nullptr && !meta->key_specs.empty()) {
    if (auto found = KeysFromSpecs(*meta, args)) return *found;
  }
  return cmd.KeyPositions(args);
}

}  // namespace keyward
