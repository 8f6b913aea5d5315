#include "server/protocol/request_scan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace keyward {
namespace {

using ::testing::ElementsAre;

struct Peeked {
  std::vector<std::string> keys;
  size_t scanned = 0;
};

Peeked Peek(std::string_view input, size_t room = 16) {
  std::array<std::string_view, 16> out;
  Peeked p;
  const size_t n = PeekSecondArgs(input, std::span(out.data(), room), &p.scanned);
  for (size_t i = 0; i < n; ++i) p.keys.emplace_back(out[i]);
  return p;
}

TEST(RequestScanTest, GivesTheSecondArgumentOfEachCompleteRequest) {
  const std::string get = "*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n";
  const std::string set = "*3\r\n$3\r\nSET\r\n$6\r\nkey:22\r\n$5\r\nva\r\nl\r\n";
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  const std::string empty_key = "*2\r\n$4\r\nINCR\r\n$0\r\n\r\n";
  const Peeked p = Peek(get + ping + set + empty_key);
  // PING has no second argument: it is stepped over, not counted.
  EXPECT_THAT(p.keys, ElementsAre("key:1", "key:22", ""));
  EXPECT_EQ(p.scanned, get.size() + ping.size() + set.size() + empty_key.size());
}

TEST(RequestScanTest, StopsAtAnIncompleteRequest) {
  const std::string get = "*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n";
  const std::string next = "*2\r\n$3\r\nGET\r\n$5\r\nkey:2\r\n";
  // Every cut of the second request: only the first is given, and only its bytes are scanned.
  for (size_t cut = 0; cut < next.size(); ++cut) {
    const Peeked p = Peek(get + next.substr(0, cut));
    EXPECT_THAT(p.keys, ElementsAre("key:1")) << "cut at " << cut;
    EXPECT_EQ(p.scanned, get.size()) << "cut at " << cut;
  }
  EXPECT_THAT(Peek(get + next).keys, ElementsAre("key:1", "key:2"));
}

TEST(RequestScanTest, StopsAtInlineOrMalformedRequestsAndAtAFullOutput) {
  const std::string get = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
  for (const std::string bad :
       {"PING\r\n", "*2\r\n$3\r\nGET\r\n$x\r\na\r\n", "*-1\r\n", "*2\r\n$3\r\nGET\r\n$-1\r\n",
        "*2\n$3\r\nGET\r\n$1\r\na\r\n", "*2\r\n$3\r\nGET\r\n$99999999999999999999\r\n"}) {
    const Peeked p = Peek(get + bad + get);
    EXPECT_THAT(p.keys, ElementsAre("a")) << bad;
    EXPECT_EQ(p.scanned, get.size()) << bad;
  }
  std::string many;
  for (int i = 0; i < 5; ++i) many += get;
  const Peeked p = Peek(many, 3);
  EXPECT_EQ(p.keys.size(), 3u);
  EXPECT_EQ(p.scanned, 3 * get.size());
}

}  // namespace
}  // namespace keyward
