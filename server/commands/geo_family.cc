// Geo commands on sorted sets (geo.c): GEOADD GEODIST GEOHASH GEOPOS GEORADIUS
// GEORADIUSBYMEMBER (and their _RO forms) GEOSEARCH GEOSEARCHSTORE. A point is a member whose
// score is its 52-bit geohash (server/keyspace/geohash.h), exactly as Redis encodes it, so a geo
// key is an ordinary sorted set to every other command, and Redis's scores load unchanged.
// GEOADD runs ZADD with the scores (and is propagated as that ZADD, as Redis does); searches
// walk the score ranges of the nine boxes that cover the shape and keep the points inside it.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/errors.h"
#include "server/core/notify.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"
#include "server/keyspace/geohash.h"
#include "server/keyspace/zset_value.h"

namespace keyward {

namespace {

struct GeoPoint {
  double longitude;
  double latitude;
  double dist;
  double score;
  std::string member;
};

// getDoubleFromObjectOrReply with an optional message.
bool GetDouble(CommandContext& ctx, std::string_view s, double* out, std::string_view msg = {}) {
  if (ParseDouble(s, out)) return true;
  if (msg.empty()) {
    ctx.rb().SendError(errors::kNotFloat);
  } else {
    ctx.rb().SendError("ERR " + std::string(msg));
  }
  return false;
}

// extractLongLatOrReply.
bool GetLongLat(CommandContext& ctx, CmdArgs args, double xy[2]) {
  for (int i = 0; i < 2; i++) {
    if (!GetDouble(ctx, args[i], &xy[i])) return false;
  }
  if (xy[0] < geo::kLongMin || xy[0] > geo::kLongMax || xy[1] < geo::kLatMin ||
      xy[1] > geo::kLatMax) {
    // %f of a huge double is hundreds of digits: size the text first.
    const char* fmt = "ERR invalid longitude,latitude pair %f,%f";
    std::string text(static_cast<size_t>(std::snprintf(nullptr, 0, fmt, xy[0], xy[1])), '\0');
    std::snprintf(text.data(), text.size() + 1, fmt, xy[0], xy[1]);
    ctx.rb().SendError(text);
    return false;
  }
  return true;
}

// extractUnitOrReply: meters per unit, or -1 (the error sent).
double GetUnit(CommandContext& ctx, std::string_view unit) {
  if (EqualsIgnoreCase(unit, "m")) return 1;
  if (EqualsIgnoreCase(unit, "km")) return 1000;
  if (EqualsIgnoreCase(unit, "ft")) return 0.3048;
  if (EqualsIgnoreCase(unit, "mi")) return 1609.34;
  ctx.rb().SendError("ERR unsupported unit provided. please use M, KM, FT, MI");
  return -1;
}

bool GetDistance(CommandContext& ctx, CmdArgs args, double* conversion, double* radius) {
  double distance;
  if (!GetDouble(ctx, args[0], &distance, "need numeric radius")) return false;
  if (distance < 0) {
    ctx.rb().SendError("ERR radius cannot be negative");
    return false;
  }
  *radius = distance;
  double to_meters = GetUnit(ctx, args[1]);
  if (to_meters < 0) return false;
  *conversion = to_meters;
  return true;
}

bool GetBox(CommandContext& ctx, CmdArgs args, double* conversion, double* width, double* height) {
  double w, h;
  if (!GetDouble(ctx, args[0], &w, "need numeric width") ||
      !GetDouble(ctx, args[1], &h, "need numeric height")) {
    return false;
  }
  if (h < 0 || w < 0) {
    ctx.rb().SendError("ERR height or width cannot be negative");
    return false;
  }
  *width = w;
  *height = h;
  double to_meters = GetUnit(ctx, args[2]);
  if (to_meters < 0) return false;
  *conversion = to_meters;
  return true;
}

// The point of a member; false when absent (or undecodable).
bool MemberPoint(ZSetValue* zset, std::string_view member, double xy[2]) {
  double score;
  return zset->Score(member, &score) && geo::DecodeScore(score, xy);
}

// addReplyDoubleDistance: four decimals.
void SendDistance(ReplyBuilder& rb, double d) {
  char buf[128];
  int n = std::snprintf(buf, sizeof(buf), "%.4f", d);
  rb.SendBulk(std::string_view(buf, static_cast<size_t>(n)));
}

// addReplyHumanLongDouble: a bulk string in RESP2, a double in RESP3, both in ld2string's
// human form.
void SendHumanDouble(ReplyBuilder& rb, double d) {
  std::string text = FormatLongDouble(static_cast<long double>(d));
  if (rb.resp3()) {
    rb.Raw("," + text + "\r\n");
  } else {
    rb.SendBulk(text);
  }
}

ZSetValue* LookupZSet(CommandContext& ctx, std::string_view key, bool* wrongtype) {
  *wrongtype = false;
  Entry* e = ctx.db().Find(key, LookupMode::kRead);
  if (e == nullptr) return nullptr;
  if (e->type() != ObjType::kZSet) {
    *wrongtype = true;
    ctx.rb().SendError(errors::kWrongType);
    return nullptr;
  }
  return e->value_as<ZSetValue>();
}

// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with geohash scores.
void CmdGeoAdd(CmdArgs args, CommandContext& ctx) {
  bool xx = false, nx = false;
  size_t longidx = 2;
  while (longidx < args.size()) {
    std::string_view opt = args[longidx];
    if (EqualsIgnoreCase(opt, "nx")) {
      nx = true;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      xx = true;
    } else if (!EqualsIgnoreCase(opt, "ch")) {
      break;
    }
    longidx++;
  }
  if ((args.size() - longidx) % 3 != 0 || (xx && nx)) return ctx.rb().SendError(errors::kSyntax);
  const size_t elements = (args.size() - longidx) / 3;
  std::vector<std::string> owned;
  owned.reserve(longidx + elements * 2);
  owned.emplace_back("zadd");
  for (size_t i = 1; i < longidx; i++) owned.emplace_back(args[i]);
  for (size_t i = 0; i < elements; i++) {
    double xy[2];
    if (!GetLongLat(ctx, args.subspan(longidx + i * 3, 2), xy)) return;
    geo::HashBits hash;
    geo::Encode(xy[0], xy[1], geo::kStepMax, &hash);
    owned.push_back(FormatInt64(static_cast<int64_t>(geo::Align52(hash))));
    owned.emplace_back(args[longidx + i * 3 + 2]);
  }
  std::vector<std::string_view> zadd(owned.begin(), owned.end());
  const CommandSpec* spec = ctx.services().registry.Find("zadd");
  const uint64_t dirty_before = ctx.dirty();
  spec->handler()(CmdArgs(zadd), ctx);
  // Propagated as the ZADD it ran (replaceClientCommandVector).
  if (ctx.dirty() != dirty_before) ctx.Propagate(Argv(owned.begin(), owned.end()));
}

// GEOHASH key member [member ...]: standard 11-character geohashes (re-encoded over -90..90).
void CmdGeoHash(CmdArgs args, CommandContext& ctx) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  bool wrongtype;
  ZSetValue* zset = LookupZSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  ctx.rb().StartArray(args.size() - 2);
  for (size_t j = 2; j < args.size(); j++) {
    double xy[2];
    if (zset == nullptr || !MemberPoint(zset, args[j], xy)) {
      ctx.rb().SendNull();
      continue;
    }
    geo::HashBits hash;
    geo::EncodeIn({-180, 180}, {-90, 90}, xy[0], xy[1], 26, &hash);
    char buf[11];
    for (int i = 0; i < 11; i++) {
      // 52 bits make ten characters; the eleventh is assumed zero, as Redis does.
      const int idx = i == 10 ? 0 : static_cast<int>((hash.bits >> (52 - ((i + 1) * 5))) & 0x1f);
      buf[i] = kAlphabet[idx];
    }
    ctx.rb().SendBulk(std::string_view(buf, 11));
  }
}

// GEOPOS key member [member ...]
void CmdGeoPos(CmdArgs args, CommandContext& ctx) {
  bool wrongtype;
  ZSetValue* zset = LookupZSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  ctx.rb().StartArray(args.size() - 2);
  for (size_t j = 2; j < args.size(); j++) {
    double xy[2];
    if (zset == nullptr || !MemberPoint(zset, args[j], xy)) {
      ctx.rb().SendNullArray();
      continue;
    }
    ctx.rb().StartArray(2);
    SendHumanDouble(ctx.rb(), xy[0]);
    SendHumanDouble(ctx.rb(), xy[1]);
  }
}

// GEODIST key member1 member2 [M|KM|FT|MI]
void CmdGeoDist(CmdArgs args, CommandContext& ctx) {
  double to_meter = 1;
  if (args.size() == 5) {
    to_meter = GetUnit(ctx, args[4]);
    if (to_meter < 0) return;
  } else if (args.size() > 5) {
    return ctx.rb().SendError(errors::kSyntax);
  }
  bool wrongtype;
  ZSetValue* zset = LookupZSet(ctx, args[1], &wrongtype);
  if (wrongtype) return;
  if (zset == nullptr) return ctx.rb().SendNull();
  double a[2], b[2];
  if (!MemberPoint(zset, args[2], a) || !MemberPoint(zset, args[3], b)) {
    return ctx.rb().SendNull();
  }
  SendDistance(ctx.rb(), geo::Distance(a[0], a[1], b[0], b[1]) / to_meter);
}

// --- Searches ---------------------------------------------------------------------------------

enum SearchFlags : int {
  kCoords = 1 << 0,       // GEORADIUS: around coordinates
  kMember = 1 << 1,       // GEORADIUSBYMEMBER: around a member
  kNoStore = 1 << 2,      // the _RO forms
  kSearch = 1 << 3,       // GEOSEARCH's syntax
  kSearchStore = 1 << 4,  // GEOSEARCHSTORE
};

// geoGetPointsInRange over [min, max): the points of the range inside the shape.
void PointsInRange(ZSetValue* zset, double min, double max, const geo::Shape& shape,
                   std::vector<GeoPoint>* out, size_t limit) {
  ScoreRange range{min, max, false, true};
  char buf[24];
  for (ZSetValue::Pos p = zset->FirstInRange(range); p.valid(); p = zset->Next(p)) {
    const double score = zset->ScoreAt(p);
    if (!range.LteMax(score)) break;
    double xy[2], dist = 0;
    if (geo::DecodeScore(score, xy) && geo::InShape(shape, xy[0], xy[1], &dist)) {
      out->push_back({xy[0], xy[1], dist, score, std::string(zset->Member(p, buf))});
    }
    if (!out->empty() && limit != 0 && out->size() >= limit) break;
  }
}

// membersOfAllNeighbors: the center box, then its neighbours, skipping a box equal to the one
// just processed (huge radii make neighbours coincide).
void PointsOfAllNeighbors(ZSetValue* zset, const geo::Radius& r, const geo::Shape& shape,
                          std::vector<GeoPoint>* out, size_t limit) {
  const geo::HashBits boxes[9] = {r.hash,
                                  r.neighbors.north,
                                  r.neighbors.south,
                                  r.neighbors.east,
                                  r.neighbors.west,
                                  r.neighbors.north_east,
                                  r.neighbors.north_west,
                                  r.neighbors.south_east,
                                  r.neighbors.south_west};
  size_t last_processed = 0;
  for (size_t i = 0; i < 9; i++) {
    if (boxes[i].zero()) continue;
    if (last_processed != 0 && boxes[i].bits == boxes[last_processed].bits &&
        boxes[i].step == boxes[last_processed].step) {
      continue;
    }
    if (!out->empty() && limit != 0 && out->size() >= limit) break;
    geo::HashBits next = boxes[i];
    const double min = static_cast<double>(geo::Align52(boxes[i]));
    next.bits++;
    const double max = static_cast<double>(geo::Align52(next));
    PointsInRange(zset, min, max, shape, out, limit);
    last_processed = i;
  }
}

// georadiusGeneric: every search command, `src` being the source key's position.
void Search(CmdArgs args, CommandContext& ctx, size_t src, int flags) {
  Database& db = ctx.db();
  bool wrongtype;
  ZSetValue* zset = LookupZSet(ctx, args[src], &wrongtype);
  if (wrongtype) return;

  geo::Shape shape;
  size_t base = 0;
  std::string_view store;
  bool storedist = false;
  if (flags & kCoords) {
    base = 6;
    shape.type = geo::Shape::kCircle;
    if (!GetLongLat(ctx, args.subspan(2, 2), shape.xy)) return;
    if (!GetDistance(ctx, args.subspan(base - 2, 2), &shape.conversion, &shape.radius)) return;
  } else if ((flags & kMember) && zset == nullptr) {
    base = 5;  // parse the options anyway: the reply depends on STORE
  } else if (flags & kMember) {
    base = 5;
    shape.type = geo::Shape::kCircle;
    if (!MemberPoint(zset, args[2], shape.xy)) {
      return ctx.rb().SendError("ERR could not decode requested zset member");
    }
    if (!GetDistance(ctx, args.subspan(base - 2, 2), &shape.conversion, &shape.radius)) return;
  } else {
    base = 2;
    if (flags & kSearchStore) {
      base = 3;
      store = args[1];
    }
  }

  bool withdist = false, withhash = false, withcoords = false;
  bool frommember = false, fromloc = false, byradius = false, bybox = false;
  enum { kNone, kAsc, kDesc } sort = kNone;
  bool any = false;
  bool has_store = !store.empty() || (flags & kSearchStore);
  int64_t count = 0;
  const size_t remaining = args.size() > base ? args.size() - base : 0;
  for (size_t i = 0; i < remaining; i++) {
    std::string_view arg = args[base + i];
    const bool search = flags & kSearch;
    const bool store_ok = !(flags & kNoStore) && !search;
    if (EqualsIgnoreCase(arg, "withdist")) {
      withdist = true;
    } else if (EqualsIgnoreCase(arg, "withhash")) {
      withhash = true;
    } else if (EqualsIgnoreCase(arg, "withcoord")) {
      withcoords = true;
    } else if (EqualsIgnoreCase(arg, "any")) {
      any = true;
    } else if (EqualsIgnoreCase(arg, "asc")) {
      sort = kAsc;
    } else if (EqualsIgnoreCase(arg, "desc")) {
      sort = kDesc;
    } else if (EqualsIgnoreCase(arg, "count") && i + 1 < remaining) {
      if (!GetLong(ctx, args[base + i + 1], &count)) return;
      if (count <= 0) return ctx.rb().SendError("ERR COUNT must be > 0");
      i++;
    } else if (EqualsIgnoreCase(arg, "store") && i + 1 < remaining && store_ok) {
      store = args[base + i + 1];
      has_store = true;
      storedist = false;
      i++;
    } else if (EqualsIgnoreCase(arg, "storedist") && i + 1 < remaining && store_ok) {
      store = args[base + i + 1];
      has_store = true;
      storedist = true;
      i++;
    } else if (EqualsIgnoreCase(arg, "storedist") && search && (flags & kSearchStore)) {
      storedist = true;
    } else if (EqualsIgnoreCase(arg, "frommember") && i + 1 < remaining && search && !fromloc) {
      if (zset != nullptr && !MemberPoint(zset, args[base + i + 1], shape.xy)) {
        return ctx.rb().SendError("ERR could not decode requested zset member");
      }
      frommember = true;
      i++;
    } else if (EqualsIgnoreCase(arg, "fromlonlat") && i + 2 < remaining && search && !frommember) {
      if (!GetLongLat(ctx, args.subspan(base + i + 1, 2), shape.xy)) return;
      fromloc = true;
      i += 2;
    } else if (EqualsIgnoreCase(arg, "byradius") && i + 2 < remaining && search && !bybox) {
      if (!GetDistance(ctx, args.subspan(base + i + 1, 2), &shape.conversion, &shape.radius)) {
        return;
      }
      shape.type = geo::Shape::kCircle;
      byradius = true;
      i += 2;
    } else if (EqualsIgnoreCase(arg, "bybox") && i + 3 < remaining && search && !byradius) {
      if (!GetBox(ctx, args.subspan(base + i + 1, 3), &shape.conversion, &shape.width,
                  &shape.height)) {
        return;
      }
      shape.type = geo::Shape::kBox;
      bybox = true;
      i += 3;
    } else {
      return ctx.rb().SendError(errors::kSyntax);
    }
  }

  if (has_store && (withdist || withhash || withcoords)) {
    return ctx.rb().SendError(
        std::string("ERR ") +
        ((flags & kSearchStore) ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS") +
        " is not compatible with WITHDIST, WITHHASH and WITHCOORD options");
  }
  if ((flags & kSearch) && !(frommember || fromloc)) {
    return ctx.rb().SendError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " +
                              std::string(args[0]));
  }
  if ((flags & kSearch) && !(byradius || bybox)) {
    return ctx.rb().SendError("ERR exactly one of BYRADIUS and BYBOX can be specified for " +
                              std::string(args[0]));
  }
  if (any && count == 0) {
    return ctx.rb().SendError("ERR the ANY argument requires COUNT argument");
  }

  if (zset == nullptr) {
    if (has_store) {
      if (db.Delete(store)) {
        ctx.KeyModified(db, store);
        ctx.Notify(notify::kGeneric, "del", store, db);
        ctx.AddDirty();
      }
      return ctx.rb().SendLong(0);
    }
    return ctx.rb().SendEmptyArray();
  }

  // COUNT returns the nearest points: it implies ASC (not with ANY).
  if (count != 0 && sort == kNone && !any) sort = kAsc;
  geo::Radius areas = geo::AreasFor(&shape);
  std::vector<GeoPoint> points;
  PointsOfAllNeighbors(zset, areas, shape, &points, any ? static_cast<size_t>(count) : 0);
  if (points.empty() && !has_store) return ctx.rb().SendEmptyArray();

  const size_t returned = count == 0 || points.size() < static_cast<size_t>(count)
                              ? points.size()
                              : static_cast<size_t>(count);
  if (sort != kNone) {
    auto by_dist = [&](const GeoPoint& a, const GeoPoint& b) {
      return sort == kAsc ? a.dist < b.dist : a.dist > b.dist;
    };
    // Stable, so that equal distances keep the sorted set's order (as Redis's sorts do for
    // the small arrays where ties happen).
    std::stable_sort(points.begin(), points.end(), by_dist);
  }

  if (!has_store) {
    const size_t options = (withdist ? 1 : 0) + (withcoords ? 1 : 0) + (withhash ? 1 : 0);
    ctx.rb().StartArray(returned);
    for (size_t i = 0; i < returned; i++) {
      GeoPoint& gp = points[i];
      gp.dist /= shape.conversion;
      if (options != 0) ctx.rb().StartArray(options + 1);
      ctx.rb().SendBulk(gp.member);
      if (withdist) SendDistance(ctx.rb(), gp.dist);
      if (withhash) ctx.rb().SendLong(static_cast<int64_t>(gp.score));
      if (withcoords) {
        ctx.rb().StartArray(2);
        SendHumanDouble(ctx.rb(), gp.longitude);
        SendHumanDouble(ctx.rb(), gp.latitude);
      }
    }
    return;
  }

  // STORE / STOREDIST: a sorted set of the results (scores: geohashes or distances).
  if (returned == 0) {
    if (db.Delete(store)) {
      ctx.KeyModified(db, store);
      ctx.Notify(notify::kGeneric, "del", store, db);
      ctx.AddDirty();
    }
    return ctx.rb().SendLong(0);
  }
  auto result = ZSetValue::NewSkiplist();
  size_t maxelelen = 0, totelelen = 0;
  for (size_t i = 0; i < returned; i++) {
    GeoPoint& gp = points[i];
    gp.dist /= shape.conversion;
    maxelelen = std::max(maxelelen, gp.member.size());
    totelelen += gp.member.size();
    result->InsertNew(gp.member, storedist ? gp.dist : gp.score);
  }
  const ServerSettings& s = ctx.settings();
  result->ConvertToListpackIfNeeded(maxelelen, totelelen,
                                    {static_cast<size_t>(s.zset_max_listpack_entries),
                                     static_cast<size_t>(s.zset_max_listpack_value)});
  db.Find(store, LookupMode::kWrite);  // setKey's lookup: an expired destination goes first
  db.Upsert(Entry::NewValue(store, std::move(result)));
  ctx.KeyModified(db, store);
  ctx.Notify(notify::kZSet, (flags & kSearch) ? "geosearchstore" : "georadiusstore", store, db);
  ctx.AddDirty(returned);
  ctx.rb().SendLong(static_cast<int64_t>(returned));
}

void CmdGeoRadius(CmdArgs args, CommandContext& ctx) { Search(args, ctx, 1, kCoords); }
void CmdGeoRadiusByMember(CmdArgs args, CommandContext& ctx) { Search(args, ctx, 1, kMember); }
void CmdGeoRadiusRo(CmdArgs args, CommandContext& ctx) { Search(args, ctx, 1, kCoords | kNoStore); }
void CmdGeoRadiusByMemberRo(CmdArgs args, CommandContext& ctx) {
  Search(args, ctx, 1, kMember | kNoStore);
}
void CmdGeoSearch(CmdArgs args, CommandContext& ctx) { Search(args, ctx, 1, kSearch); }
void CmdGeoSearchStore(CmdArgs args, CommandContext& ctx) {
  Search(args, ctx, 2, kSearch | kSearchStore);
}

}  // namespace

void RegisterGeoFamily(CommandRegistry& r) {
  constexpr uint32_t kWD = CO::kWrite | CO::kDenyOom;
  constexpr uint32_t kRO = CO::kReadOnly;
  constexpr uint64_t kG = Acl::kGeo;
  constexpr std::string_view kSearchComplexity =
      "O(N+log(M)) where N is the number of elements inside the bounding box of the circular "
      "area delimited by center and radius and M is the number of items inside the index.";
  // clang-format off
  r << CommandSpec{"geoadd", -5, kWD, 1, 1, 1, kG, CmdGeoAdd,
                   {"Add one or more geospatial items in the geospatial index represented using "
                    "a sorted set", "3.2.0", "geo",
                    "O(log(N)) for each item added, where N is the number of elements in the "
                    "sorted set.",
                    "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]"}}
    << CommandSpec{"geohash", -2, kRO, 1, 1, 1, kG, CmdGeoHash,
                   {"Returns members of a geospatial index as standard geohash strings",
                    "3.2.0", "geo",
                    "O(log(N)) for each member requested, where N is the number of elements in "
                    "the sorted set.", "key [member [member ...]]"}}
    << CommandSpec{"geopos", -2, kRO, 1, 1, 1, kG, CmdGeoPos,
                   {"Returns longitude and latitude of members of a geospatial index", "3.2.0",
                    "geo",
                    "O(N) where N is the number of members requested.",
                    "key [member [member ...]]"}}
    << CommandSpec{"geodist", -4, kRO, 1, 1, 1, kG, CmdGeoDist,
                   {"Returns the distance between two members of a geospatial index", "3.2.0",
                    "geo", "O(log(N))", "key member1 member2 [M|KM|FT|MI]"}}
    << CommandSpec{"georadius", -6, kWD | CO::kMovableKeys, 1, 1, 1, kG, CmdGeoRadius,
                   {"Query a sorted set representing a geospatial index to fetch members "
                    "matching a given maximum distance from a point", "3.2.0", "geo",
                    kSearchComplexity,
                    "key longitude latitude radius M|KM|FT|MI ..."}}
    << CommandSpec{"georadiusbymember", -5, kWD | CO::kMovableKeys, 1, 1, 1, kG,
                   CmdGeoRadiusByMember,
                   {"Query a sorted set representing a geospatial index to fetch members "
                    "matching a given maximum distance from a member", "3.2.0", "geo",
                    kSearchComplexity, "key member radius M|KM|FT|MI ..."}}
    << CommandSpec{"georadius_ro", -6, kRO, 1, 1, 1, kG, CmdGeoRadiusRo,
                   {"A read-only variant for GEORADIUS", "3.2.10", "geo", kSearchComplexity,
                    "key longitude latitude radius M|KM|FT|MI ..."}}
    << CommandSpec{"georadiusbymember_ro", -5, kRO, 1, 1, 1, kG, CmdGeoRadiusByMemberRo,
                   {"A read-only variant for GEORADIUSBYMEMBER", "3.2.10", "geo",
                    kSearchComplexity, "key member radius M|KM|FT|MI ..."}}
    << CommandSpec{"geosearch", -7, kRO, 1, 1, 1, kG, CmdGeoSearch,
                   {"Query a sorted set representing a geospatial index to fetch members inside "
                    "an area of a box or a circle.", "6.2.0", "geo",
                    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding "
                    "box area around the shape provided as the filter and M is the number of "
                    "items inside the shape",
                    "key FROMMEMBER member|FROMLONLAT longitude latitude "
                    "BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] "
                    "[COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]"}}
    << CommandSpec{"geosearchstore", -8, kWD, 1, 2, 1, kG, CmdGeoSearchStore,
                   {"Query a sorted set representing a geospatial index to fetch members inside "
                    "an area of a box or a circle, and store the result in another key.",
                    "6.2.0", "geo",
                    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding "
                    "box area around the shape provided as the filter and M is the number of "
                    "items inside the shape",
                    "destination source FROMMEMBER member|FROMLONLAT longitude latitude "
                    "BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] "
                    "[COUNT count [ANY]] [STOREDIST]"}};
  // clang-format on
}

}  // namespace keyward
