// ReplyBuilder's bulk strings, byte for byte, on both sides of the size where a short value is
// written in one append with its header and CRLF.
#include "server/protocol/reply_builder.h"

#include <gtest/gtest.h>

#include <string>

namespace keyward {
namespace {

std::string Bulk(const std::string& value) {
  std::string out = "prefix";
  ReplyBuilder rb(&out);
  rb.SendBulk(value);
  return out;
}

TEST(ReplyBuilderTest, BulkStringsOfEverySizeAreFramedAlike) {
  for (size_t n : {0u, 1u, 9u, 10u, 63u, 64u, 65u, 99u, 100u, 1000u, 70000u}) {
    std::string value;
    for (size_t i = 0; i < n; i++) value.push_back(static_cast<char>(i * 7));  // \r, \n, \0 too
    EXPECT_EQ(Bulk(value), "prefix$" + std::to_string(n) + "\r\n" + value + "\r\n") << n;
  }
}

}  // namespace
}  // namespace keyward
