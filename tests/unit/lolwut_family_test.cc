// LOLWUT over the in-process fixture: the version line, the drawings Redis makes without random
// numbers (worked out from lolwut5.c's arithmetic), the shapes of the random ones, the errors.
#include "tests/support/command_test.h"

namespace keyward::test {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

class LolwutFamilyTest : public CommandTest {};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines.push_back(text.substr(start, nl - start));
  }
  lines.push_back(text.substr(start));
  return lines;
}

TEST_F(LolwutFamilyTest, VersionLine) {
  const std::string line = std::string("Redis ver. ") + KEYWARD_REDIS_VERSION + "\n";
  EXPECT_EQ(Run({"lolwut"}), line);
  EXPECT_EQ(Run({"lolwut", "version"}), line);       // no number: not a VERSION option
  EXPECT_EQ(Run({"lolwut", "version", "7"}), line);  // 7.0.0: this version's own
  EXPECT_EQ(Run({"lolwut", "version", "4"}), line);
  EXPECT_EQ(Run({"lolwut", "VERSION", "4294967297"}), line);  // 1, as "%u" prints it
  Run({"hello", "3"});
  EXPECT_EQ(Run({"lolwut"}).type, Resp::Type::kVerbatim);
}

TEST_F(LolwutFamilyTest, Errors) {
  EXPECT_THAT(Run({"lolwut", "version", "x"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"lolwut", "version", "5", "1", "2", "x"}),
              ErrorIs("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"lolwut", "version", "6", "x"}),
              ErrorIs("ERR value is not an integer or out of range"));
}

TEST_F(LolwutFamilyTest, SchotterOfOneSquare) {
  // One column: a canvas 2 pixels wide, no padding, one square of side 2 (a circle of radius
  // round(2 / sqrt(2)) = 1 around (1, 1)): corners (2,2) (2,0) (0,0) (0,2), of which the canvas
  // (2 x 2) holds (0,0), (1,0), (0,1): dots 1, 2 and 4 of the Braille cell, U+280B. The canvas
  // is 2 pixels high, so the row of cells is followed by a newline.
  const std::string credit = "Georg Nees - schotter, plotter on paper, 1968. Redis ver. ";
  EXPECT_EQ(Run({"lolwut", "version", "5", "1", "1", "1"}),
            "\xE2\xA0\x8B\n\n" + credit + KEYWARD_REDIS_VERSION + "\n");
  // Arguments under the limits are raised to them.
  EXPECT_EQ(Run({"lolwut", "version", "5", "0", "-1", "0"}),
            "\xE2\xA0\x8B\n\n" + credit + KEYWARD_REDIS_VERSION + "\n");
}

TEST_F(LolwutFamilyTest, SchotterShape) {
  // 66 columns: a canvas 132 pixels wide (66 cells), squares of 16 pixels, 12 rows of them:
  // 196 pixel rows, 49 lines of cells.
  const std::string text = Run({"lolwut", "version", "5"}).str;
  const std::vector<std::string> lines = Lines(text);
  // Every line of cells ends with a newline (the last starts at pixel row 192, not 195), then
  // the credit line's own.
  ASSERT_EQ(lines.size(), 49u + 3);
  for (size_t i = 0; i < 49; i++) EXPECT_EQ(lines[i].size(), 66u * 3) << i;  // 3-byte cells
  EXPECT_EQ(lines[49], "");
  EXPECT_EQ(lines[50], std::string("Georg Nees - schotter, plotter on paper, 1968. Redis ver. ") +
                           KEYWARD_REDIS_VERSION);
  EXPECT_EQ(lines[51], "");
  // The first rows are never moved: the top edge of the first row of squares.
  EXPECT_THAT(lines[0], StartsWith("\xE2\xA0\x80\xE2\xA1\xA4\xE2\xA0\xA4"));
}

TEST_F(LolwutFamilyTest, SkylineShape) {
  const std::string text = Run({"lolwut", "version", "6", "12", "5"}).str;
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 5u + 3);
  const std::string white = "\x1b[0;97;107m \x1b[0m";
  std::string sky;
  for (int i = 0; i < 12; i++) sky += white;
  EXPECT_EQ(lines[0], sky);  // no building reaches the top row
  EXPECT_EQ(lines[5], "Dedicated to the 8 bit game developers of past and present.");
  EXPECT_THAT(lines[6], EndsWith(std::string("hikikomori. Redis ver. ") + KEYWARD_REDIS_VERSION));
  // One pixel high: no building at all.
  EXPECT_THAT(Run({"lolwut", "version", "6", "2", "1"}).str, StartsWith(white + white + "\n"));
}

}  // namespace
}  // namespace keyward::test
