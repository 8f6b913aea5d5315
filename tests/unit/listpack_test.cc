// The listpack and the list value against Redis 7.0.15's own bytes: a list built with the same
// pushes serialises exactly as Redis's DUMP does, and listpacks behave under every edit.
#include "server/keyspace/listpack.h"

#include <gtest/gtest.h>

#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "server/keyspace/list_value.h"

namespace keyward {
namespace {

struct StringSink : ValueSink {
  std::string out;
  void Write(std::string_view bytes) override { out.append(bytes); }
  bool compress() const override { return false; }
};

std::vector<std::string> Elements(const Listpack& lp) {
  std::vector<std::string> v;
  for (uint32_t p = lp.First(); p != Listpack::kEnd; p = lp.Next(p))
    v.push_back(lp.Get(p).ToString());
  return v;
}

std::vector<std::string> Elements(const ListValue& l) {
  std::vector<std::string> v;
  for (ListValue::Pos p = l.Begin(); p.valid(); p = l.Next(p)) v.push_back(l.Get(p).ToString());
  return v;
}

// tests/unit/data/redis7_list_dump.bin is `DUMP l` from redis-server 7.0.15 (rdbcompression no)
// after RPUSH l with these elements (list-max-listpack-size -2): every integer width of the
// listpack encoding, non-canonical integers kept as strings, and strings of each length class.
std::vector<std::string> RedisFixtureElements() {
  std::vector<std::string> v = {"a",
                                "1",
                                "-1",
                                "127",
                                "128",
                                "300",
                                "-4096",
                                "4095",
                                "4096",
                                "-5000",
                                "32767",
                                "32768",
                                "70000",
                                "-70000",
                                "8388607",
                                "8388608",
                                "3000000000",
                                "-3000000000",
                                "9223372036854775807",
                                "-9223372036854775808",
                                "012",
                                "-0",
                                "18446744073709551616",
                                ""};
  v.push_back(std::string(63, 'x'));
  v.push_back(std::string(64, 'y'));
  v.push_back(std::string(4095, 'z'));
  v.push_back(std::string(4096, 'w'));
  return v;
}

TEST(ListpackTest, ListSerialisesAsRedisDoes) {
  std::ifstream in(KEYWARD_SOURCE_DIR "/tests/unit/data/redis7_list_dump.bin", std::ios::binary);
  ASSERT_TRUE(in) << "fixture missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string payload = ss.str();
  // type byte, value, then the 2-byte version and 8-byte CRC footer.
  ASSERT_GT(payload.size(), 11u);
  ASSERT_EQ(static_cast<uint8_t>(payload[0]), 18);  // RDB_TYPE_LIST_QUICKLIST_2

  ListValue list(-2);
  for (const std::string& s : RedisFixtureElements()) list.PushBack(s);
  EXPECT_EQ(list.rdb_type(), 18);
  StringSink sink;
  list.Serialise(sink);
  EXPECT_EQ(sink.out, payload.substr(1, payload.size() - 11));
  EXPECT_EQ(list.node_count(), 2u);
  EXPECT_EQ(Elements(list), RedisFixtureElements());
}

TEST(ListpackTest, ElementsRoundTripThroughEveryEncoding) {
  Listpack lp;
  std::vector<std::string> want = RedisFixtureElements();
  for (const std::string& s : want) lp.Append(s);
  EXPECT_EQ(lp.size(), want.size());
  EXPECT_EQ(Elements(lp), want);
  // Backwards too: every backlen decodes.
  std::vector<std::string> back;
  for (uint32_t p = lp.Last(); p != Listpack::kEnd; p = lp.Prev(p))
    back.push_back(lp.Get(p).ToString());
  EXPECT_EQ(std::vector<std::string>(back.rbegin(), back.rend()), want);
  // Canonical integers are stored as integers, anything else as strings.
  EXPECT_TRUE(lp.Get(lp.Seek(1)).is_int);
  EXPECT_FALSE(lp.Get(lp.Seek(20)).is_int);  // "012"
  EXPECT_FALSE(lp.Get(lp.Seek(21)).is_int);  // "-0"
  // The byte count the header records is the buffer's.
  EXPECT_EQ(lp.raw().size(), lp.bytes());
}

TEST(ListpackTest, EditsMatchADequeModel) {
  std::mt19937_64 rng(42);
  Listpack lp;
  std::deque<std::string> model;
  auto random_value = [&]() -> std::string {
    switch (rng() % 5) {
      case 0:
        return std::to_string(static_cast<int64_t>(rng()) >> (rng() % 64));
      case 1:
        return std::string(rng() % 70, 'a' + rng() % 26);
      case 2:
        return std::string(200 + rng() % 5000, 'q');
      case 3:
        return std::to_string(rng() % 128);
      default:
        return "v" + std::to_string(rng() % 1000);
    }
  };
  for (int step = 0; step < 3000; step++) {
    int op = static_cast<int>(rng() % 6);
    if (model.empty()) op = 0;
    size_t i = model.empty() ? 0 : rng() % model.size();
    if (op == 0 || op == 1) {
      std::string v = random_value();
      size_t at = model.empty() ? 0 : rng() % (model.size() + 1);
      lp.InsertBefore(at == model.size() ? Listpack::kEnd : lp.Seek(static_cast<int64_t>(at)), v);
      model.insert(model.begin() + static_cast<std::ptrdiff_t>(at), v);
    } else if (op == 2) {
      std::string v = random_value();
      lp.Replace(lp.Seek(static_cast<int64_t>(i)), v);
      model[i] = v;
    } else if (op == 3) {
      lp.Delete(lp.Seek(static_cast<int64_t>(i)));
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
    } else if (op == 4) {
      size_t n = 1 + rng() % 3;
      n = std::min(n, model.size() - i);
      lp.DeleteRange(lp.Seek(static_cast<int64_t>(i)), n);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i),
                  model.begin() + static_cast<std::ptrdiff_t>(i + n));
    } else {
      // Find returns the first match at or after a position.
      const std::string& target = model[i];
      size_t first = 0;
      while (model[first] != target) first++;
      EXPECT_EQ(lp.Find(lp.First(), target), lp.Seek(static_cast<int64_t>(first)));
    }
    ASSERT_EQ(lp.size(), model.size()) << "step " << step;
    if (step % 50 == 0) {
      ASSERT_EQ(Elements(lp), std::vector<std::string>(model.begin(), model.end())) << step;
    }
  }
  EXPECT_EQ(Elements(lp), std::vector<std::string>(model.begin(), model.end()));
}

// Every plain node holds one element at least `threshold` long; every packed node only shorter
// ones (nothing moves a short element into a plain node, or a long one into a listpack).
void ExpectNodesRespect(const ListValue& list, size_t threshold) {
  for (size_t n = 0; n < list.node_count(); n++) {
    const Listpack& node = list.node(n);
    if (list.node_plain(n)) {
      ASSERT_EQ(node.size(), 1u) << "node " << n;
      ASSERT_GE(node.Get(node.First()).ToString().size(), threshold) << "node " << n;
      ASSERT_EQ(list.node_bytes(n), node.Get(node.First()).ToString().size());
    } else {
      ASSERT_EQ(list.node_bytes(n), node.bytes());
      for (uint32_t p = node.First(); p != Listpack::kEnd; p = node.Next(p)) {
        ASSERT_LT(node.Get(p).ToString().size(), threshold) << "node " << n;
      }
    }
  }
}

TEST(ListpackTest, ListValueMatchesADequeModelAcrossNodeLimits) {
  // Node fills, under the default packed threshold and under small ones (plain nodes: for most
  // numbers at 2 bytes, for the long strings at 1000).
  const size_t kDefault = ListValue::kDefaultPackedThreshold;
  for (size_t threshold : {kDefault, size_t{2}, size_t{1000}})
    for (int fill : {-2, -1, 1, 2, 3, 128, 0}) {
      std::mt19937_64 rng(fill + 100 + threshold);
      ListValue list(fill, threshold == kDefault ? nullptr : &threshold);
      std::deque<std::string> model;
      for (int step = 0; step < 2000; step++) {
        int op = static_cast<int>(rng() % 8);
        std::string v =
            rng() % 4 == 0 ? std::string(rng() % 3000, 'b') : std::to_string(rng() % 500);
        if (model.empty() && op >= 2) op = static_cast<int>(rng() % 2);
        size_t i = model.empty() ? 0 : rng() % model.size();
        switch (op) {
          case 0:
            list.PushFront(v);
            model.push_front(v);
            break;
          case 1:
            list.PushBack(v);
            model.push_back(v);
            break;
          case 2: {
            bool front = rng() % 2;
            std::string got = list.Pop(front);
            EXPECT_EQ(got, front ? model.front() : model.back());
            front ? model.pop_front() : model.pop_back();
            break;
          }
          case 3: {
            bool after = rng() % 2;
            list.InsertAt(list.At(static_cast<int64_t>(i)), v, after);
            model.insert(model.begin() + static_cast<std::ptrdiff_t>(i + (after ? 1 : 0)), v);
            break;
          }
          case 4:
            list.Set(list.At(static_cast<int64_t>(i)), v);
            model[i] = v;
            break;
          case 5:
            list.Erase(list.At(static_cast<int64_t>(i)));
            model.erase(model.begin() + static_cast<std::ptrdiff_t>(i));
            break;
          case 6: {
            size_t n = std::min<size_t>(1 + rng() % 40, model.size() - i);
            list.EraseRange(i, n);
            model.erase(model.begin() + static_cast<std::ptrdiff_t>(i),
                        model.begin() + static_cast<std::ptrdiff_t>(i + n));
            break;
          }
          default: {
            // LREM: a value that occurs, a limit (0: all), from either end.
            const std::string target = model[i];
            const size_t limit = rng() % 4;
            const bool backward = rng() % 2;
            size_t want = 0;
            if (backward) {
              for (size_t j = model.size(); j-- > 0 && (limit == 0 || want < limit);) {
                if (model[j] == target) {
                  model.erase(model.begin() + static_cast<std::ptrdiff_t>(j));
                  want++;
                }
              }
            } else {
              for (size_t j = 0; j < model.size() && (limit == 0 || want < limit);) {
                if (model[j] == target) {
                  model.erase(model.begin() + static_cast<std::ptrdiff_t>(j));
                  want++;
                } else {
                  j++;
                }
              }
            }
            ASSERT_EQ(list.RemoveEqual(target, limit, backward), want);
          }
        }
        ASSERT_EQ(list.size(), model.size()) << "fill " << fill << " step " << step;
        ASSERT_NO_FATAL_FAILURE(ExpectNodesRespect(list, threshold));
        if (!model.empty()) {
          size_t j = rng() % model.size();
          ASSERT_EQ(list.Get(list.At(static_cast<int64_t>(j))).ToString(), model[j]);
          ASSERT_EQ(list.Get(list.At(-1 - static_cast<int64_t>(j))).ToString(),
                    model[model.size() - 1 - j]);
        }
      }
      EXPECT_EQ(Elements(list), std::vector<std::string>(model.begin(), model.end())) << fill;
      // A count-limited node never holds more than its count (fill > 0).
      auto copy = list.Clone();
      EXPECT_EQ(Elements(*static_cast<ListValue*>(copy.get())), Elements(list));
    }
}

}  // namespace
}  // namespace keyward
