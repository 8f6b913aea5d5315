"""Differential tests of SORT and SORT_RO: Keyward vs redis-server 7.0.15, raw replies compared
byte for byte. Lists, sets (intset and hashtable) and sorted sets; numeric and ALPHA sorting;
BY patterns on strings and hash fields, BY a constant (no sorting), GET patterns and #, LIMIT
edge cases, STORE (and the deletion of an empty result), errors and WRONGTYPE."""

import unittest

from diff_support import DiffCase


class SortCase(DiffCase):
    """SORT's suites: DiffCase's seq() sends ';'-separated commands."""


class SortLists(SortCase):
    def setUp(self):
        super().setUp()
        self.seq("RPUSH nums 3 1 2 10 -5 2.5 0 1e3 007")
        self.seq("RPUSH words banana Apple cherry apple 10 9 b a")

    def test_numeric(self):
        self.seq("""
            SORT nums; SORT nums DESC; SORT nums ASC; SORT nums LIMIT 0 3; SORT nums LIMIT 2 2
            SORT nums LIMIT -1 2; SORT nums LIMIT 5 -1; SORT nums LIMIT 100 5; SORT nums LIMIT 0 0
            SORT nums DESC LIMIT 1 3; SORT missing; SORT missing LIMIT 0 1
            SORT nums LIMIT 2 9223372036854775807; SORT nums LIMIT 9223372036854775807 2
            SORT nums LIMIT -9223372036854775808 -9223372036854775808
            SORT nums BY nosort LIMIT 1 9223372036854775807; SORT nums GET # GET # LIMIT 1 9223372036854775807
            SORT nums LIMIT 3 9223372036854775807 STORE big; LRANGE big 0 -1; LPOP big
            SORT words
            """)

    def test_alpha(self):
        self.seq("""
            SORT words ALPHA; SORT words ALPHA DESC; SORT words ALPHA LIMIT 1 3; SORT nums ALPHA
            SORT_RO words ALPHA DESC LIMIT 0 4
            """)

    def test_by_and_get(self):
        self.seq("""
            MSET w_3 30 w_1 10 w_2 20 w_10 5 w_-5 7 w_0 -1
            MSET o_3 three o_1 one o_2 two
            SORT nums BY w_*; SORT nums BY w_* DESC; SORT nums BY w_* GET o_*; SORT nums BY w_* GET # GET o_*
            SORT nums GET o_* LIMIT 0 4; SORT nums BY nosort; SORT nums BY nosort DESC
            SORT nums BY nosort LIMIT 2 3; SORT nums BY nosort DESC LIMIT 2 3; SORT nums BY nosort GET o_*
            SORT words BY w_* ALPHA; SORT words BY o_* ALPHA DESC; SORT nums GET #
            SORT nums GET nostar; SORT nums BY w_* LIMIT 1 2
            """)

    def test_hash_fields(self):
        self.seq("""
            HSET h_3 f 30 name three; HSET h_1 f 10 name one; HSET h_2 f 20 name two
            HSET h_10 f 1 name ten; SET h_0 notahash
            SORT nums BY h_*->f GET h_*->name; SORT nums BY h_*->f DESC GET # GET h_*->name
            SORT nums BY h_*-> GET h_*->; SORT nums BY h_*->missing; SORT nums GET h_*->f
            """)

    def test_store(self):
        self.seq("""
            SORT nums STORE out; LRANGE out 0 -1; TYPE out; OBJECT ENCODING out
            SET dest v; EXPIRE dest 100; SORT nums DESC STORE dest; TTL dest; LRANGE dest 0 -1
            SORT nums GET o_* STORE dest; LRANGE dest 0 -1
            SORT missing STORE dest; EXISTS dest; SORT missing STORE dest
            SORT words ALPHA LIMIT 0 2 STORE words; LRANGE words 0 -1
            """)
        self.check("SORT_RO", "nums", "STORE", "x")

    def test_errors(self):
        self.seq("""
            SORT words; SORT nums LIMIT 1; SORT nums LIMIT a 1; SORT nums LIMIT 0 b; SORT nums BY
            SORT nums GET; SORT nums STORE; SORT nums FOO; SORT; SORT_RO; SORT_RO nums STORE d
            SET s v; SORT s; SORT_RO s; HSET hh a 1; SORT hh
            RPUSH bad 1 nan 2; SORT bad; RPUSH inf 1 inf -inf; SORT inf; SORT inf DESC
            RPUSH e "" 1 0; SORT e
            """)


class SortSets(SortCase):
    def test_sets(self):
        self.seq("""
            SADD is 5 3 9 1 7; SORT is; SORT is DESC; SORT is LIMIT 1 2; SORT is ALPHA
            SADD hs 5 x 3 y 9; SORT hs ALPHA; SORT hs ALPHA DESC; SORT hs
            SORT is BY nosort STORE out; LRANGE out 0 -1; SORT hs BY nosort STORE out2; LRANGE out2 0 -1
            SORT is BY nosort GET # STORE out3; LRANGE out3 0 -1
            """)
        self.check_unordered("SORT", "hs", "BY", "nosort")


class SortZSets(SortCase):
    def test_zsets(self):
        self.seq("""
            ZADD z 3 c 1 a 2 b 10 j 5 e; SORT z ALPHA; SORT z ALPHA DESC; SORT z BY nosort
            SORT z BY nosort DESC; SORT z BY nosort LIMIT 1 2; SORT z BY nosort DESC LIMIT 1 3
            SORT z BY nosort LIMIT 10 3; SORT z; OBJECT ENCODING z
            ZADD zn 1 30 2 10 3 20; SORT zn; SORT zn DESC LIMIT 0 2; SORT zn BY nosort GET #
            """)


if __name__ == "__main__":
    unittest.main()
