// Redis's geohash (geohash.c, geohash_helper.c): a longitude/latitude pair interleaved into a
// 52-bit integer stored as a sorted-set score, so GEOADD's scores are Redis's to the bit, and the
// search areas (the 3x3 boxes around a point that cover a radius or a box) with which GEOSEARCH
// turns a shape into score ranges. Pure arithmetic: no keyspace, no commands.
#pragma once

#include <cstdint>

namespace keyward::geo {

// The coordinates Redis accepts (EPSG:900913: no poles).
inline constexpr double kLongMin = -180;
inline constexpr double kLongMax = 180;
inline constexpr double kLatMin = -85.05112878;
inline constexpr double kLatMax = 85.05112878;
inline constexpr int kStepMax = 26;  // 52 bits

struct HashBits {
  uint64_t bits = 0;
  uint8_t step = 0;
  bool zero() const { return bits == 0 && step == 0; }
};

struct Range {
  double min = 0;
  double max = 0;
};

struct Area {
  HashBits hash;
  Range longitude;
  Range latitude;
};

struct Neighbors {
  HashBits north, east, west, south, north_east, south_east, north_west, south_west;
};

// A search shape: a circle (radius) or a box (width x height), in the unit whose size in meters
// is `conversion`, centred on `xy` (longitude, latitude).
struct Shape {
  enum Type { kCircle, kBox } type = kCircle;
  double xy[2] = {0, 0};
  double conversion = 1;
  double radius = 0;
  double width = 0;
  double height = 0;
  double bounds[4] = {0, 0, 0, 0};  // min lon, min lat, max lon, max lat (filled by AreasFor)
};

// The center box and its eight neighbours (a zero hash: not needed) covering a shape.
struct Radius {
  HashBits hash;
  Area area;
  Neighbors neighbors;
};

// geohashEncode with Redis's coordinate ranges; false when out of range.
bool Encode(double longitude, double latitude, uint8_t step, HashBits* hash);
// geohashEncode with explicit ranges (GEOHASH re-encodes over -90..90).
bool EncodeIn(const Range& long_range, const Range& lat_range, double longitude, double latitude,
              uint8_t step, HashBits* hash);
bool Decode(const HashBits& hash, Area* area);
// A 52-bit score (as stored) to its center point, clamped to the valid ranges.
bool DecodeScore(double score, double xy[2]);
// The hash shifted to 52 bits (geohashAlign52Bits): the score of a point, or a box's first.
uint64_t Align52(const HashBits& hash);
void GetNeighbors(const HashBits& hash, Neighbors* neighbors);
// geohashCalculateAreasByShapeWGS84 (fills shape->bounds).
Radius AreasFor(Shape* shape);

// Haversine distance in meters (geohashGetDistance).
double Distance(double lon1, double lat1, double lon2, double lat2);
// Whether (x2, y2) is inside the shape centred at shape.xy, with its distance in meters.
bool InShape(const Shape& shape, double x2, double y2, double* distance);

}  // namespace keyward::geo
