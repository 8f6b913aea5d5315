#include "server/keyspace/geohash.h"

#include <cmath>

namespace keyward::geo {

namespace {

constexpr double kEarthRadiusMeters = 6372797.560856;
constexpr double kMercatorMax = 20037726.37;
constexpr double kDegToRad = M_PI / 180.0;

double DegRad(double ang) { return ang * kDegToRad; }
double RadDeg(double ang) { return ang / kDegToRad; }

// Interleaves the low 32 bits of x (even positions) and y (odd positions).
uint64_t Interleave64(uint32_t xlo, uint32_t ylo) {
  static const uint64_t B[] = {0x5555555555555555ULL, 0x3333333333333333ULL, 0x0F0F0F0F0F0F0F0FULL,
                               0x00FF00FF00FF00FFULL, 0x0000FFFF0000FFFFULL};
  static const unsigned int S[] = {1, 2, 4, 8, 16};
  uint64_t x = xlo;
  uint64_t y = ylo;
  for (int i = 4; i >= 0; i--) {
    x = (x | (x << S[i])) & B[i];
    y = (y | (y << S[i])) & B[i];
  }
  return x | (y << 1);
}

uint64_t Deinterleave64(uint64_t interleaved) {
  static const uint64_t B[] = {0x5555555555555555ULL, 0x3333333333333333ULL, 0x0F0F0F0F0F0F0F0FULL,
                               0x00FF00FF00FF00FFULL, 0x0000FFFF0000FFFFULL, 0x00000000FFFFFFFFULL};
  static const unsigned int S[] = {0, 1, 2, 4, 8, 16};
  uint64_t x = interleaved;
  uint64_t y = interleaved >> 1;
  for (int i = 0; i < 6; i++) {
    x = (x | (x >> S[i])) & B[i];
    y = (y | (y >> S[i])) & B[i];
  }
  return x | (y << 32);
}

const Range kLongRange{kLongMin, kLongMax};
const Range kLatRange{kLatMin, kLatMax};

bool DecodeIn(const Range& long_range, const Range& lat_range, const HashBits& hash, Area* area) {
  if (hash.zero()) return false;
  area->hash = hash;
  const uint8_t step = hash.step;
  const uint64_t hash_sep = Deinterleave64(hash.bits);  // [LAT][LONG]
  const double lat_scale = lat_range.max - lat_range.min;
  const double long_scale = long_range.max - long_range.min;
  const uint32_t ilato = static_cast<uint32_t>(hash_sep);
  const uint32_t ilono = static_cast<uint32_t>(hash_sep >> 32);
  area->latitude.min = lat_range.min + (ilato * 1.0 / (1ull << step)) * lat_scale;
  area->latitude.max = lat_range.min + ((ilato + 1) * 1.0 / (1ull << step)) * lat_scale;
  area->longitude.min = long_range.min + (ilono * 1.0 / (1ull << step)) * long_scale;
  area->longitude.max = long_range.min + ((ilono + 1) * 1.0 / (1ull << step)) * long_scale;
  return true;
}

void MoveX(HashBits* hash, int d) {
  if (d == 0) return;
  uint64_t x = hash->bits & 0xaaaaaaaaaaaaaaaaULL;
  const uint64_t y = hash->bits & 0x5555555555555555ULL;
  const uint64_t zz = 0x5555555555555555ULL >> (64 - hash->step * 2);
  if (d > 0) {
    x = x + (zz + 1);
  } else {
    x = x | zz;
    x = x - (zz + 1);
  }
  x &= (0xaaaaaaaaaaaaaaaaULL >> (64 - hash->step * 2));
  hash->bits = x | y;
}

void MoveY(HashBits* hash, int d) {
  if (d == 0) return;
  const uint64_t x = hash->bits & 0xaaaaaaaaaaaaaaaaULL;
  uint64_t y = hash->bits & 0x5555555555555555ULL;
  const uint64_t zz = 0xaaaaaaaaaaaaaaaaULL >> (64 - hash->step * 2);
  if (d > 0) {
    y = y + (zz + 1);
  } else {
    y = y | zz;
    y = y - (zz + 1);
  }
  y &= (0x5555555555555555ULL >> (64 - hash->step * 2));
  hash->bits = x | y;
}

uint8_t EstimateStepsByRadius(double range_meters, double lat) {
  if (range_meters == 0) return 26;
  int step = 1;
  while (range_meters < kMercatorMax) {
    range_meters *= 2;
    step++;
  }
  step -= 2;  // make sure the range is included in most of the base cases
  // Wider towards the poles.
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return static_cast<uint8_t>(step);
}

// geohashBoundingBox: bounds[0..3] = min lon, min lat, max lon, max lat.
void BoundingBox(Shape* shape) {
  const double longitude = shape->xy[0];
  const double latitude = shape->xy[1];
  const double height =
      shape->conversion * (shape->type == Shape::kCircle ? shape->radius : shape->height / 2);
  const double width =
      shape->conversion * (shape->type == Shape::kCircle ? shape->radius : shape->width / 2);
  const double lat_delta = RadDeg(height / kEarthRadiusMeters);
  const double long_delta_top =
      RadDeg(width / kEarthRadiusMeters / std::cos(DegRad(latitude + lat_delta)));
  const double long_delta_bottom =
      RadDeg(width / kEarthRadiusMeters / std::cos(DegRad(latitude - lat_delta)));
  const bool southern = latitude < 0;
  shape->bounds[0] = southern ? longitude - long_delta_bottom : longitude - long_delta_top;
  shape->bounds[2] = southern ? longitude + long_delta_bottom : longitude + long_delta_top;
  shape->bounds[1] = latitude - lat_delta;
  shape->bounds[3] = latitude + lat_delta;
}

}  // namespace

bool EncodeIn(const Range& long_range, const Range& lat_range, double longitude, double latitude,
              uint8_t step, HashBits* hash) {
  if (step > 32 || step == 0) return false;
  if (longitude > kLongMax || longitude < kLongMin || latitude > kLatMax || latitude < kLatMin) {
    return false;
  }
  hash->bits = 0;
  hash->step = step;
  if (latitude < lat_range.min || latitude > lat_range.max || longitude < long_range.min ||
      longitude > long_range.max) {
    return false;
  }
  double lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
  double long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
  lat_offset *= static_cast<double>(1ULL << step);
  long_offset *= static_cast<double>(1ULL << step);
  hash->bits = Interleave64(static_cast<uint32_t>(lat_offset), static_cast<uint32_t>(long_offset));
  return true;
}

bool Encode(double longitude, double latitude, uint8_t step, HashBits* hash) {
  return EncodeIn(kLongRange, kLatRange, longitude, latitude, step, hash);
}

bool Decode(const HashBits& hash, Area* area) {
  return DecodeIn(kLongRange, kLatRange, hash, area);
}

bool DecodeScore(double score, double xy[2]) {
  HashBits hash{static_cast<uint64_t>(score), kStepMax};
  Area area;
  if (!Decode(hash, &area)) return false;
  xy[0] = (area.longitude.min + area.longitude.max) / 2;
  if (xy[0] > kLongMax) xy[0] = kLongMax;
  if (xy[0] < kLongMin) xy[0] = kLongMin;
  xy[1] = (area.latitude.min + area.latitude.max) / 2;
  if (xy[1] > kLatMax) xy[1] = kLatMax;
  if (xy[1] < kLatMin) xy[1] = kLatMin;
  return true;
}

uint64_t Align52(const HashBits& hash) { return hash.bits << (52 - hash.step * 2); }

void GetNeighbors(const HashBits& hash, Neighbors* n) {
  n->east = n->west = n->north = n->south = hash;
  n->south_east = n->south_west = n->north_east = n->north_west = hash;
  MoveX(&n->east, 1);
  MoveX(&n->west, -1);
  MoveY(&n->south, -1);
  MoveY(&n->north, 1);
  MoveX(&n->north_west, -1);
  MoveY(&n->north_west, 1);
  MoveX(&n->north_east, 1);
  MoveY(&n->north_east, 1);
  MoveX(&n->south_east, 1);
  MoveY(&n->south_east, -1);
  MoveX(&n->south_west, -1);
  MoveY(&n->south_west, -1);
}

Radius AreasFor(Shape* shape) {
  BoundingBox(shape);
  const double min_lon = shape->bounds[0], min_lat = shape->bounds[1];
  const double max_lon = shape->bounds[2], max_lat = shape->bounds[3];
  const double longitude = shape->xy[0], latitude = shape->xy[1];
  // A box is covered as the circle through its corners.
  double radius_meters = shape->type == Shape::kCircle
                             ? shape->radius
                             : std::sqrt((shape->width / 2) * (shape->width / 2) +
                                         (shape->height / 2) * (shape->height / 2));
  radius_meters *= shape->conversion;

  Radius r;
  int steps = EstimateStepsByRadius(radius_meters, latitude);
  EncodeIn(kLongRange, kLatRange, longitude, latitude, static_cast<uint8_t>(steps), &r.hash);
  GetNeighbors(r.hash, &r.neighbors);
  DecodeIn(kLongRange, kLatRange, r.hash, &r.area);

  // Near a box's edge the estimated step may be too fine for the neighbours to cover the area.
  bool decrease_step = false;
  {
    Area north, south, east, west;
    DecodeIn(kLongRange, kLatRange, r.neighbors.north, &north);
    DecodeIn(kLongRange, kLatRange, r.neighbors.south, &south);
    DecodeIn(kLongRange, kLatRange, r.neighbors.east, &east);
    DecodeIn(kLongRange, kLatRange, r.neighbors.west, &west);
    if (north.latitude.max < max_lat) decrease_step = true;
    if (south.latitude.min > min_lat) decrease_step = true;
    if (east.longitude.max < max_lon) decrease_step = true;
    if (west.longitude.min > min_lon) decrease_step = true;
  }
  if (steps > 1 && decrease_step) {
    steps--;
    EncodeIn(kLongRange, kLatRange, longitude, latitude, static_cast<uint8_t>(steps), &r.hash);
    GetNeighbors(r.hash, &r.neighbors);
    DecodeIn(kLongRange, kLatRange, r.hash, &r.area);
  }
  // Drop the neighbours the area does not reach.
  if (steps >= 2) {
    Neighbors& n = r.neighbors;
    if (r.area.latitude.min < min_lat) n.south = n.south_west = n.south_east = HashBits{};
    if (r.area.latitude.max > max_lat) n.north = n.north_east = n.north_west = HashBits{};
    if (r.area.longitude.min < min_lon) n.west = n.south_west = n.north_west = HashBits{};
    if (r.area.longitude.max > max_lon) n.east = n.south_east = n.north_east = HashBits{};
  }
  return r;
}

double Distance(double lon1d, double lat1d, double lon2d, double lat2d) {
  const double lat1r = DegRad(lat1d), lon1r = DegRad(lon1d);
  const double lat2r = DegRad(lat2d), lon2r = DegRad(lon2d);
  const double u = std::sin((lat2r - lat1r) / 2);
  const double v = std::sin((lon2r - lon1r) / 2);
  return 2.0 * kEarthRadiusMeters *
         std::asin(std::sqrt(u * u + std::cos(lat1r) * std::cos(lat2r) * v * v));
}

bool InShape(const Shape& shape, double x2, double y2, double* distance) {
  const double x1 = shape.xy[0], y1 = shape.xy[1];
  if (shape.type == Shape::kCircle) {
    *distance = Distance(x1, y1, x2, y2);
    return *distance <= shape.radius * shape.conversion;
  }
  const double width_m = shape.width * shape.conversion;
  const double height_m = shape.height * shape.conversion;
  const double lon_distance = Distance(x2, y2, x1, y2);
  const double lat_distance = Distance(x2, y2, x2, y1);
  if (lon_distance > width_m / 2 || lat_distance > height_m / 2) return false;
  *distance = Distance(x1, y1, x2, y2);
  return true;
}

}  // namespace keyward::geo
