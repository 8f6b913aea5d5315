"""Differential tests of the geo commands: Keyward vs redis-server 7.0.15, raw replies compared
byte for byte. GEOADD's scores are compared through ZSCORE (they must be Redis's to the bit),
GEOPOS/GEOHASH/GEODIST formatting, every search form (radius and box, from a member or a point,
COUNT, ANY, ASC/DESC, WITH* options, STORE/STOREDIST, GEOSEARCHSTORE), RESP3, the errors in
Redis's order, and a seeded random sweep of searches over a few hundred points."""

import os
import random
import unittest

from diff_support import DiffCase
from keyward_harness import decode

CITIES = [
    ("13.361389", "38.115556", "Palermo"), ("15.087269", "37.502669", "Catania"),
    ("12.758489", "38.788135", "edge1"), ("12.758489", "38.788135", "edge1b"),
    ("2.349014", "48.864716", "Paris"), ("-0.127758", "51.507351", "London"),
    ("-74.005941", "40.712784", "NewYork"), ("139.691706", "35.689487", "Tokyo"),
    ("-179.9", "85.05", "corner"), ("179.9999", "-85.0511", "corner2"), ("0", "0", "origin"),
]


class GeoCase(DiffCase):
    def setUp(self):
        super().setUp()
        args = ["GEOADD", "Sicily"]
        for lon, lat, name in CITIES:
            args += [lon, lat, name]
        self.check(*args)


class GeoBasics(GeoCase):
    def test_add_and_read(self):
        self.seq("""
            ZRANGE Sicily 0 -1 WITHSCORES; OBJECT ENCODING Sicily; TYPE Sicily
            GEOADD Sicily 13.361389 38.115556 Palermo; GEOADD Sicily CH 13.4 38.1 Palermo
            GEOADD Sicily NX 1 1 Palermo 2 2 new1; GEOADD Sicily XX 3 3 new2 4 4 Palermo
            GEOADD Sicily XX NX 1 1 a; GEOADD Sicily 1 2; GEOADD Sicily 200 10 x; GEOADD Sicily 10 86 x
            GEOADD Sicily abc 10 x; GEOADD Sicily 10 abc x; GEOADD Sicily CH NX XX 1 1 x
            GEOADD Sicily 1e308 0 huge; GEOADD Sicily 0 -1e308 huge
            GEOADD Sicily GT 1 1 x; EXISTS x
            GEOPOS Sicily Palermo Catania nope; GEOPOS missing a; GEOPOS Sicily
            GEOHASH Sicily Palermo Catania nope Paris corner corner2 origin; GEOHASH missing a b
            GEODIST Sicily Palermo Catania; GEODIST Sicily Palermo Catania km
            GEODIST Sicily Palermo Catania MI; GEODIST Sicily Palermo Catania ft
            GEODIST Sicily Palermo nope; GEODIST missing a b; GEODIST Sicily a b furlong
            GEODIST Sicily Palermo Catania km extra; GEODIST Sicily edge1 edge1b
            SET str v; GEOADD str 1 1 a; GEOPOS str a; GEOHASH str a; GEODIST str a b
            GEORADIUS str 0 0 1 km; GEOSEARCH str FROMLONLAT 0 0 BYRADIUS 1 km
            """)

    def test_resp3(self):
        self.both("HELLO", "3")  # (the client ids differ)
        self.seq("""
            GEOPOS Sicily Palermo nope; GEODIST Sicily Palermo Catania
            GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC
            GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km WITHCOORD ASC
            """)


class GeoSearches(GeoCase):
    def test_georadius(self):
        self.seq("""
            GEORADIUS Sicily 15 37 200 km; GEORADIUS Sicily 15 37 200 km ASC
            GEORADIUS Sicily 15 37 200 km DESC WITHDIST; GEORADIUS Sicily 15 37 200 km WITHCOORD ASC
            GEORADIUS Sicily 15 37 200 km WITHHASH WITHDIST WITHCOORD ASC
            GEORADIUS Sicily 15 37 200 km COUNT 1; GEORADIUS Sicily 15 37 200 km COUNT 1 DESC
            GEORADIUS Sicily 15 37 20000 km ASC; GEORADIUS Sicily 15 37 0 km
            GEORADIUS Sicily 15 37 200 mi ASC WITHDIST; GEORADIUS Sicily 15 37 200000 ft ASC
            GEORADIUS Sicily 15 37 200 km COUNT 0; GEORADIUS Sicily 15 37 200 km COUNT -1
            GEORADIUS Sicily 15 37 200 km ANY; GEORADIUS Sicily 15 37 -1 km; GEORADIUS Sicily 15 37 x km
            GEORADIUS Sicily 15 37 200 parsec; GEORADIUS Sicily 181 37 200 km; GEORADIUS Sicily 15 37 200 km FOO
            GEORADIUS missing 15 37 200 km; GEORADIUS missing 15 37 200 km STORE dst
            GEORADIUSBYMEMBER Sicily Palermo 200 km ASC WITHDIST; GEORADIUSBYMEMBER Sicily nope 200 km
            GEORADIUSBYMEMBER missing Palermo 200 km; GEORADIUSBYMEMBER missing Palermo 200 km STORE d
            GEORADIUS_RO Sicily 15 37 200 km ASC; GEORADIUS_RO Sicily 15 37 200 km STORE d
            GEORADIUSBYMEMBER_RO Sicily Palermo 200 km ASC; GEORADIUSBYMEMBER_RO Sicily Palermo 1 km STOREDIST d
            """)

    def test_store(self):
        self.seq("""
            GEORADIUS Sicily 15 37 200 km STORE dst; ZRANGE dst 0 -1 WITHSCORES; OBJECT ENCODING dst
            GEORADIUS Sicily 15 37 200 km STOREDIST dst; ZRANGE dst 0 -1 WITHSCORES
            GEORADIUS Sicily 15 37 200 km COUNT 1 STORE dst; ZRANGE dst 0 -1 WITHSCORES
            GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST; GEORADIUS Sicily 0 -80 1 km STORE dst; EXISTS dst
            SET s v; GEORADIUS Sicily 15 37 200 km STORE s; TYPE s
            GEOSEARCHSTORE out Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC; ZRANGE out 0 -1 WITHSCORES
            GEOSEARCHSTORE out Sicily FROMLONLAT 15 37 BYBOX 400 400 km STOREDIST; ZRANGE out 0 -1 WITHSCORES
            GEOSEARCHSTORE out Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST
            GEOSEARCHSTORE out missing FROMLONLAT 15 37 BYRADIUS 200 km; EXISTS out
            GEOSEARCHSTORE out Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x
            """)

    def test_geosearch(self):
        self.seq("""
            GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC
            GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km DESC WITHDIST
            GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH
            GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 40 4000 km ASC; GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 4000 40 km ASC
            GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 1 ANY
            GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km
            GEOSEARCH Sicily FROMMEMBER nope BYRADIUS 200 km
            GEOSEARCH Sicily BYRADIUS 200 km; GEOSEARCH Sicily FROMLONLAT 15 37
            GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 1 km
            GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km
            GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 1 km; GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX a 1 km
            GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 b km; GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 yards
            geosearch Sicily FROMLONLAT 15 37; GeoSearch Sicily BYRADIUS 1 km FROMLONLAT 15 37 STORE x
            GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ANY; GEOSEARCH missing FROMMEMBER a BYRADIUS 1 km
            GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 20000 km ASC COUNT 3
            """)

    def test_random_sweep(self):
        seed = int(os.environ.get("KEYWARD_DIFF_SEED", random.randrange(1 << 30)))
        print("\ngeo sweep: KEYWARD_DIFF_SEED=%d" % seed)
        rng = random.Random(seed)
        args = ["GEOADD", "pts"]
        for i in range(400):
            args += ["%.6f" % rng.uniform(-180, 180), "%.6f" % rng.uniform(-85, 85), "p%d" % i]
        self.check(*args)
        for _ in range(300):
            lon, lat = "%.4f" % rng.uniform(-180, 180), "%.4f" % rng.uniform(-85, 85)
            unit = rng.choice(["m", "km", "mi", "ft"])
            size = str(rng.choice([1, 50, 500, 2000, 8000, 20000]) * (1000 if unit == "m" else 1))
            order = rng.choice(["ASC", "DESC"])
            if rng.random() < 0.5:
                cmd = ["GEOSEARCH", "pts", "FROMLONLAT", lon, lat, "BYRADIUS", size, unit, order,
                       "WITHDIST"]
            else:
                cmd = ["GEOSEARCH", "pts", "FROMLONLAT", lon, lat, "BYBOX", size,
                       str(rng.choice([1, 100, 3000])), unit, order, "WITHCOORD"]
            if rng.random() < 0.3:
                cmd += ["COUNT", str(rng.randint(1, 20))]
            self.check_close(cmd)

    def check_close(self, cmd):
        """Members, order and coordinates byte for byte; a distance may differ by one unit in its
        fourth decimal (a last-bit difference of the haversine arithmetic at a rounding
        boundary, seen once in thousands of random searches)."""
        expected, actual = self.both(*cmd)
        if expected == actual:
            return
        e, a = decode(expected), decode(actual)
        with self.subTest(cmd=" ".join(cmd)):
            self.assertIsInstance(e, list, expected[:200])
            self.assertIsInstance(a, list, actual[:200])
            self.assertEqual(len(a), len(e))
            for x, y in zip(e, a):
                if isinstance(x, list) and isinstance(y, list) and len(x) == len(y) == 2 and \
                        isinstance(x[1], bytes) and b"." in x[1]:
                    self.assertEqual(y[0], x[0])
                    self.assertAlmostEqual(float(y[1]), float(x[1]), delta=1.5e-4)
                else:
                    self.assertEqual(y, x)


if __name__ == "__main__":
    unittest.main()
