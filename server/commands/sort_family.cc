// SORT and SORT_RO (sort.c): the elements of a list, set or sorted set, sorted numerically or
// lexicographically, by themselves or by keys named after them (BY pattern, `*` replaced by the
// element, `->field` for a hash field), with LIMIT, GET patterns and STORE into a list.
// The order of options, the errors, the special cases (BY a constant skips sorting; a set that is
// not sorted is sorted anyway when stored or in a script; a sorted set's own order is kept and
// read by rank) and the key lookups' flavour (read, or write when storing) follow Redis 7.0.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/acl/access_control.h"
#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/hash_value.h"
#include "server/keyspace/list_value.h"
#include "server/keyspace/set_value.h"
#include "server/keyspace/zset_value.h"

namespace keyward {

namespace {

struct SortItem {
  explicit SortItem(std::string e) : element(std::move(e)) {}
  std::string element;
  double score = 0;
  std::optional<std::string> by;  // ALPHA with BY: the looked-up value (none: missing)
};

struct SortOptions {
  bool desc = false;
  bool alpha = false;
  int64_t limit_start = 0;
  int64_t limit_count = -1;
  std::optional<std::string_view> by;
  std::optional<std::string_view> store;
  std::vector<std::string_view> gets;
  bool dontsort = false;
};

// lookupKeyByPattern: "#" is the element itself; otherwise the first '*' is replaced by the
// element and the key read as a string, or with "->field" after the '*' as a hash field.
// nullopt when the pattern has no '*', the key is missing or of another type, or the field is
// absent.
std::optional<std::string> LookupByPattern(CommandContext& ctx, std::string_view pattern,
                                           std::string_view element, bool write) {
  if (pattern == "#") return std::string(element);
  size_t star = pattern.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  std::string_view field;
  size_t arrow = pattern.find("->", star + 1);
  size_t key_end = pattern.size();
  if (arrow != std::string_view::npos && arrow + 2 < pattern.size()) {
    field = pattern.substr(arrow + 2);
    key_end = arrow;
  }
  std::string key(pattern.substr(0, star));
  key.append(element);
  key.append(pattern.substr(star + 1, key_end - star - 1));
  Entry* e = ctx.db().Find(key, write ? LookupMode::kWrite : LookupMode::kRead);
  if (e == nullptr) return std::nullopt;
  if (!field.empty()) {
    if (e->type() != ObjType::kHash) return std::nullopt;
    LpElement value;
    if (!e->value_as<HashValue>()->Get(field, &value)) return std::nullopt;
    return value.ToString();
  }
  if (e->type() != ObjType::kString) return std::nullopt;
  return std::string(e->string_value());
}

// False (the reply sent) on a syntax error.
bool ParseOptions(CmdArgs args, CommandContext& ctx, bool readonly, SortOptions* o) {
  // BY and GET read keys only the data can name: the user must be allowed to read any key.
  std::optional<bool> any_key;
  auto may_read_any_key = [&] {
    if (!any_key) {
      any_key = ctx.services().acl.CanReadAnyKey(ctx.client(), ctx.cmd(), args);
    }
    return *any_key;
  };
  for (size_t j = 2; j < args.size(); j++) {
    const size_t left = args.size() - j - 1;
    std::string_view a = args[j];
    if (EqualsIgnoreCase(a, "asc")) {
      o->desc = false;
    } else if (EqualsIgnoreCase(a, "desc")) {
      o->desc = true;
    } else if (EqualsIgnoreCase(a, "alpha")) {
      o->alpha = true;
    } else if (EqualsIgnoreCase(a, "limit") && left >= 2) {
      if (!GetLong(ctx, args[j + 1], &o->limit_start) ||
          !GetLong(ctx, args[j + 2], &o->limit_count)) {
        return false;
      }
      j += 2;
    } else if (!readonly && EqualsIgnoreCase(a, "store") && left >= 1) {
      o->store = args[++j];
    } else if (EqualsIgnoreCase(a, "by") && left >= 1) {
      o->by = args[++j];
      // A pattern without '*' names one key for every element: nothing to sort by.
      if (o->by->find('*') == std::string_view::npos) {
        o->dontsort = true;
      } else if (!may_read_any_key()) {
        ctx.rb().SendError(errors::kSortByDenied);
        return false;
      }
    } else if (EqualsIgnoreCase(a, "get") && left >= 1) {
      if (!may_read_any_key()) {
        ctx.rb().SendError(errors::kSortGetDenied);
        return false;
      }
      o->gets.push_back(args[++j]);
    } else {
      ctx.rb().SendError(errors::kSyntax);
      return false;
    }
  }
  return true;
}

// Redis's strtod check: the whole string consumed, no overflow, not NaN.
bool ScoreOf(const std::string& s, double* out) {
  errno = 0;
  char* end;
  *out = std::strtod(s.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(*out);
}

// compareStringObjects (binary), and strcoll as collateStringObjects uses it.
int CompareBinary(const std::string& a, const std::string& b) {
  int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

int Collate(const std::string& a, const std::string& b) {
  return std::strcoll(a.c_str(), b.c_str());
}

void CmdSortGeneric(CmdArgs args, CommandContext& ctx, bool readonly) {
  SortOptions o;
  if (!ParseOptions(args, ctx, readonly, &o)) return;
  Database& db = ctx.db();
  Entry* e = db.Find(args[1], LookupMode::kRead);
  if (e != nullptr && e->type() != ObjType::kList && e->type() != ObjType::kSet &&
      e->type() != ObjType::kZSet) {
    return ctx.rb().SendError(errors::kWrongType);
  }
  const bool store = o.store.has_value();
  std::optional<std::string_view> sort_by = o.by;
  // A set's own order is the hash table's: stored results and scripts get it sorted instead,
  // so that replicas and replays agree.
  if (o.dontsort && e != nullptr && e->type() == ObjType::kSet &&
      (store || ctx.client().has(Client::kScript))) {
    o.dontsort = false;
    o.alpha = true;
    sort_by.reset();
  }
  // Redis converts a listpack sorted set for SORT, for good.
  if (e != nullptr && e->type() == ObjType::kZSet) e->value_as<ZSetValue>()->ConvertToSkiplist();

  int64_t len = 0;
  if (e != nullptr) {
    switch (e->type()) {
      case ObjType::kList:
        len = static_cast<int64_t>(e->value_as<ListValue>()->size());
        break;
      case ObjType::kSet:
        len = static_cast<int64_t>(e->value_as<SetValue>()->size());
        break;
      default:
        len = static_cast<int64_t>(e->value_as<ZSetValue>()->size());
    }
  }
  // LIMIT clamped to the object's size first, so that no arithmetic overflows (sort.c).
  int64_t start = std::min(std::max<int64_t>(o.limit_start, 0), len);
  const int64_t limit = std::min(std::max<int64_t>(o.limit_count, -1), len);
  int64_t end = limit < 0 ? len - 1 : start + limit - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;

  // Load the elements; a list or sorted set that is not sorted yields just the LIMIT range, in
  // its own order (reversed by DESC).
  std::vector<SortItem> items;
  const bool ranged =
      e != nullptr && o.dontsort && (e->type() == ObjType::kList || e->type() == ObjType::kZSet);
  if (ranged && end >= start) {
    if (e->type() == ObjType::kList) {
      const ListValue* list = e->value_as<ListValue>();
      ListValue::Pos p = list->At(o.desc ? len - start - 1 : start);
      for (int64_t n = end - start + 1; n > 0 && p.valid(); n--) {
        items.emplace_back(list->Get(p).ToString());
        p = o.desc ? list->Prev(p) : list->Next(p);
      }
    } else {
      const ZSetValue* zset = e->value_as<ZSetValue>();
      ZSetValue::Pos p = zset->AtRank(static_cast<size_t>(o.desc ? len - start - 1 : start));
      char buf[24];
      for (int64_t n = end - start + 1; n > 0; n--) {
        items.emplace_back(std::string(zset->Member(p, buf)));
        p = o.desc ? zset->Prev(p) : zset->Next(p);
      }
    }
    end -= start;
    start = 0;
  } else if (!ranged && e != nullptr) {
    if (e->type() == ObjType::kList) {
      const ListValue* list = e->value_as<ListValue>();
      for (ListValue::Pos p = list->Begin(); p.valid(); p = list->Next(p)) {
        items.emplace_back(list->Get(p).ToString());
      }
    } else if (e->type() == ObjType::kSet) {
      e->value_as<SetValue>()->ForEach([&](const SetMember& m) {
        items.emplace_back(m.is_int ? FormatInt64(m.value) : std::string(m.str));
      });
    } else {
      e->value_as<ZSetValue>()->ForEach(
          [&](std::string_view member, double) { items.emplace_back(std::string(member)); });
    }
  }

  bool conversion_error = false;
  if (!o.dontsort) {
    for (SortItem& item : items) {
      std::optional<std::string> byval;
      if (sort_by) {
        byval = LookupByPattern(ctx, *sort_by, item.element, store);
        if (!byval) continue;
      } else {
        byval = item.element;
      }
      if (o.alpha) {
        if (sort_by) item.by = std::move(byval);
      } else if (!ScoreOf(*byval, &item.score)) {
        conversion_error = true;
      }
    }
    auto compare = [&](const SortItem& a, const SortItem& b) {
      int cmp;
      if (!o.alpha) {
        cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : CompareBinary(a.element, b.element);
      } else if (sort_by) {
        if (!a.by || !b.by) {
          cmp = a.by.has_value() == b.by.has_value() ? 0 : !a.by ? -1 : 1;
        } else {
          cmp = store ? CompareBinary(*a.by, *b.by) : Collate(*a.by, *b.by);
        }
      } else {
        cmp = store ? CompareBinary(a.element, b.element) : Collate(a.element, b.element);
      }
      return (o.desc ? -cmp : cmp) < 0;
    };
    std::stable_sort(items.begin(), items.end(), compare);
  }

  const int64_t count = end - start + 1;
  const int64_t output = o.gets.empty() ? count : static_cast<int64_t>(o.gets.size()) * count;
  if (conversion_error) {
    return ctx.rb().SendError("ERR One or more scores can't be converted into double");
  }
  if (!store) {
    ctx.rb().StartArray(static_cast<size_t>(std::max<int64_t>(output, 0)));
    for (int64_t j = start; j <= end; j++) {
      const std::string& element = items[static_cast<size_t>(j)].element;
      if (o.gets.empty()) ctx.rb().SendBulk(element);
      for (std::string_view pattern : o.gets) {
        std::optional<std::string> v = LookupByPattern(ctx, pattern, element, false);
        if (v) {
          ctx.rb().SendBulk(*v);
        } else {
          ctx.rb().SendNull();
        }
      }
    }
    return;
  }
  // STORE: the result as a list (a missing GET value as an empty string), replacing the
  // destination whatever its type; an empty result deletes it.
  auto list = std::make_unique<ListValue>(static_cast<int>(ctx.settings().list_max_listpack_size),
                                          &ctx.settings().list_packed_threshold);
  for (int64_t j = start; j <= end; j++) {
    const std::string& element = items[static_cast<size_t>(j)].element;
    if (o.gets.empty()) list->PushBack(element);
    for (std::string_view pattern : o.gets) {
      list->PushBack(LookupByPattern(ctx, pattern, element, true).value_or(""));
    }
  }
  std::string_view dest = *o.store;
  if (output > 0) {
    db.Find(dest, LookupMode::kWrite);  // setKey's lookup: an expired destination goes first
    db.Upsert(Entry::NewValue(dest, std::move(list)));
    ctx.KeyModified(db, dest);
    ctx.Notify(notify::kList, "sortstore", dest, db);
    ctx.AddDirty(static_cast<uint64_t>(output));
  } else if (db.Delete(dest)) {
    ctx.KeyModified(db, dest);
    ctx.Notify(notify::kGeneric, "del", dest, db);
    ctx.AddDirty();
  }
  ctx.rb().SendLong(std::max<int64_t>(output, 0));
}

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dest]
void CmdSort(CmdArgs args, CommandContext& ctx) { CmdSortGeneric(args, ctx, false); }
// SORT_RO: SORT without STORE.
void CmdSortRo(CmdArgs args, CommandContext& ctx) { CmdSortGeneric(args, ctx, true); }

}  // namespace

void RegisterSortFamily(CommandRegistry& r) {
  constexpr uint64_t kCats = Acl::kSet | Acl::kSortedSet | Acl::kList | Acl::kDangerous;
  // clang-format off
  r << CommandSpec{"sort", -2, CO::kWrite | CO::kDenyOom | CO::kMovableKeys, 1, 1, 1, kCats,
                   CmdSort,
                   {"Sort the elements in a list, set or sorted set", "1.0.0", "generic",
                    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, "
                    "and M the number of returned elements. When the elements are not sorted, "
                    "complexity is O(N).",
                    "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] "
                    "[ASC|DESC] [ALPHA] [STORE destination]"}}
    << CommandSpec{"sort_ro", -2, CO::kReadOnly | CO::kMovableKeys, 1, 1, 1, kCats, CmdSortRo,
                   {"Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
                    "7.0.0", "generic",
                    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, "
                    "and M the number of returned elements. When the elements are not sorted, "
                    "complexity is O(N).",
                    "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] "
                    "[ASC|DESC] [ALPHA]"}};
  // clang-format on
}

}  // namespace keyward
