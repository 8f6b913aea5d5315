// The geo commands in-process: GEOADD's scores (Redis's documented ones), what it propagates,
// searches and their STORE forms. tests/differential/test_geo.py compares every reply with
// Redis 7.0.15; these pin the parts a replica or the AOF depends on.
#include <string>
#include <vector>

#include "server/keyspace/geohash.h"
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::ElementsAre;
using Command = std::vector<std::string>;

class GeoFamilyTest : public CommandTest {
 protected:
  std::vector<Command> Propagated() {
    std::vector<Command> out;
    for (const Argv& a : TakePropagated()) out.emplace_back(a.begin(), a.end());
    return out;
  }
};

TEST_F(GeoFamilyTest, ScoresAreRedisGeohashes) {
  EXPECT_EQ(Run({"geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
                 "Catania"}),
            2);
  // The scores Redis's documentation shows for these two points.
  EXPECT_EQ(Run({"zscore", "Sicily", "Palermo"}), "3479099956230698");
  EXPECT_EQ(Run({"zscore", "Sicily", "Catania"}), "3479447370796909");
  EXPECT_THAT(Run({"geohash", "Sicily", "Palermo", "Catania"}).elems,
              ElementsAre("sqc8b49rny0", "sqdtr74hyu0"));
  EXPECT_EQ(Run({"geodist", "Sicily", "Palermo", "Catania"}), "166274.1516");
  EXPECT_EQ(Run({"geodist", "Sicily", "Palermo", "Catania", "km"}), "166.2742");
}

TEST_F(GeoFamilyTest, GeoAddPropagatesTheZAddItRan) {
  Run({"geoadd", "g", "ch", "13.361389", "38.115556", "Palermo"});
  EXPECT_THAT(Propagated(), ElementsAre(Command{"zadd", "g", "ch", "3479099956230698", "Palermo"}));
  // Nothing changed: nothing propagated.
  Run({"geoadd", "g", "nx", "1", "1", "Palermo"});
  EXPECT_TRUE(Propagated().empty());
}

TEST_F(GeoFamilyTest, SearchAndStore) {
  Run({"geoadd", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
       "Catania"});
  EXPECT_THAT(
      Run({"geosearch", "Sicily", "fromlonlat", "15", "37", "byradius", "200", "km", "asc"}).elems,
      ElementsAre("Catania", "Palermo"));
  EXPECT_THAT(Run({"georadius", "Sicily", "15", "37", "100", "km"}).elems, ElementsAre("Catania"));
  EXPECT_EQ(Run({"geosearchstore", "near", "Sicily", "fromlonlat", "15", "37", "byradius", "200",
                 "km", "storedist"}),
            2);
  EXPECT_EQ(Run({"zscore", "near", "Catania"}), "56.441257870158204");
  EXPECT_EQ(Run({"object", "encoding", "near"}), "listpack");
  // Nothing found: the destination is deleted.
  EXPECT_EQ(
      Run({"geosearchstore", "near", "Sicily", "fromlonlat", "0", "0", "byradius", "1", "km"}), 0);
  EXPECT_EQ(Run({"exists", "near"}), 0);
}

TEST(GeohashTest, EncodeDecodeRoundTrip) {
  for (double lon : {-179.99, -74.0, 0.0, 13.361389, 179.99}) {
    for (double lat : {-85.0, -33.3, 0.0, 38.115556, 85.0}) {
      geo::HashBits hash;
      ASSERT_TRUE(geo::Encode(lon, lat, geo::kStepMax, &hash));
      double xy[2];
      ASSERT_TRUE(geo::DecodeScore(static_cast<double>(geo::Align52(hash)), xy));
      // 26 bits per axis: within a millionth of a degree or so.
      EXPECT_NEAR(xy[0], lon, 1e-5);
      EXPECT_NEAR(xy[1], lat, 1e-5);
    }
  }
  geo::HashBits out;
  EXPECT_FALSE(geo::Encode(181, 0, geo::kStepMax, &out));
  EXPECT_FALSE(geo::Encode(0, 86, geo::kStepMax, &out));
}

}  // namespace
}  // namespace keyward::test
