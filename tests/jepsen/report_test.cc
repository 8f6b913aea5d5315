// The run's reports on hand-made histories: every operation drawn once, where and as it ended,
// the nemesis's faults where they were, values escaped, the plots' numbers right, and the files
// well-formed even for an empty history or one too long to draw whole.
#include "report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "history_builder.h"

namespace keyward::jepsen {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMs = 1'000'000;

class HistoryBuilder : public testing::HistoryRecorder {
 public:
  // An operation of `process` invoked at `inv` ms and completed with `outcome` at `done` ms
  // (kInvoke: never), its value {"id": id} plus `extra`.
  HistoryBuilder& Op(int process, const char* f, int64_t inv, OpType outcome, int64_t done, int id,
                     nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json value = extra;
    value["id"] = id;
    Push(process, OpType::kInvoke, f, inv * kMs, value);
    if (outcome != OpType::kInvoke) Push(process, outcome, f, done * kMs, value);
    return *this;
  }
  // A holding: acquire invoked at `inv`, ok at `ok` with `token` and a lease to `valid_until`,
  // its release invoked at `rel` (-1: never).
  HistoryBuilder& Hold(int process, int64_t inv, int64_t ok, int64_t valid_until, int64_t rel,
                       uint64_t token) {
    Push(process, OpType::kInvoke, "acquire", inv * kMs, {{"resource", "r"}});
    Push(process, OpType::kOk, "acquire", ok * kMs,
         {{"resource", "r"}, {"token", token}, {"valid_until", valid_until * kMs}});
    if (rel >= 0) {
      Push(process, OpType::kInvoke, "release", rel * kMs, {{"resource", "r"}});
      Push(process, OpType::kOk, "release", (rel + 1) * kMs, {{"resource", "r"}});
    }
    return *this;
  }
  // A nemesis op (an info) at `t` ms.
  HistoryBuilder& Nemesis(const char* f, int64_t t, nlohmann::json value) {
    Push(kNemesis, OpType::kInfo, f, t * kMs, std::move(value));
    return *this;
  }
};

// What is wrong with `s` as XML (tags balanced and nested, one root, attributes quoted, no raw
// '<' or bare '&'), or "".
std::string XmlProblem(const std::string& s) {
  std::vector<std::string> open;
  int roots = 0;
  auto name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':' || c == '_';
  };
  auto entity_ok = [&s](size_t i) {
    static const std::regex kEntity("^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);");
    return std::regex_search(s.substr(i, 12), kEntity);
  };
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '&') {
      if (!entity_ok(i)) return "bare & at " + std::to_string(i);
      i++;
      continue;
    }
    if (s[i] != '<') {
      i++;
      continue;
    }
    if (s.compare(i, 2, "<?") == 0 || s.compare(i, 4, "<!--") == 0) {
      const size_t end = s.find(s[i + 1] == '?' ? "?>" : "-->", i);
      if (end == std::string::npos) return "unterminated at " + std::to_string(i);
      i = end + 2;
      continue;
    }
    size_t j = i + 1;
    const bool closing = s[j] == '/';
    if (closing) j++;
    const size_t name_start = j;
    while (j < s.size() && name_char(s[j])) j++;
    const std::string name = s.substr(name_start, j - name_start);
    if (name.empty()) return "raw < at " + std::to_string(i);
    if (closing) {
      if (open.empty() || open.back() != name || s[j] != '>') {
        return "</" + name + "> does not close <" + (open.empty() ? "" : open.back()) + ">";
      }
      open.pop_back();
      i = j + 1;
      continue;
    }
    // Attributes: name="value", the value without '<', its '&' entities.
    while (true) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) j++;
      if (j >= s.size()) return "unterminated <" + name + ">";
      if (s[j] == '>' || s.compare(j, 2, "/>") == 0) break;
      const size_t attr = j;
      while (j < s.size() && name_char(s[j])) j++;
      if (j == attr || s.compare(j, 2, "=\"") != 0) return "bad attribute in <" + name + ">";
      j += 2;
      for (; j < s.size() && s[j] != '"'; j++) {
        if (s[j] == '<') return "< in an attribute of <" + name + ">";
        if (s[j] == '&' && !entity_ok(j)) return "bare & in an attribute of <" + name + ">";
      }
      j++;
    }
    if (open.empty()) roots++;
    if (s[j] == '/') {
      i = j + 2;
    } else {
      open.push_back(name);
      i = j + 1;
    }
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  if (roots != 1) return std::to_string(roots) + " root elements";
  return "";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) n++;
  return n;
}

std::string Read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A timeline's box: <div class="op CLASS" style="left:Lpx;top:Tpx;height:Hpx" title="..">TEXT
struct Box {
  std::string outcome, title, text;
  double left, top, height;
};
std::vector<Box> Boxes(const std::string& html) {
  static const std::regex kBox(
      "<div class=\"op (\\w+)\" style=\"left:([0-9.]+)px;top:([0-9.]+)px;height:([0-9.]+)px\" "
      "title=\"([^\"<>]*)\">([^<>\"]*)</div>");
  std::vector<Box> out;
  for (std::sregex_iterator it(html.begin(), html.end(), kBox), end; it != end; ++it) {
    const std::smatch& m = *it;
    out.push_back(Box{m[1], m[5], m[6], std::stod(m[2]), std::stod(m[3]), std::stod(m[4])});
  }
  return out;
}
// The box whose value has {"id": id}.
const Box* BoxOf(const std::vector<Box>& boxes, int id) {
  for (const Box& b : boxes) {
    if ((b.text + " ").find(" id=" + std::to_string(id) + " ") != std::string::npos) return &b;
  }
  return nullptr;
}

// A fresh directory for a test's files, removed after it.
class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("keyward-report-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

const nlohmann::json kTest = {{"workload", "fenced-lock"},
                              {"nemesis", {"kill", "pause"}},
                              {"nodes", 3},
                              {"seed", 4242},
                              {"ttl_ms", 1000}};

TEST_F(ReportTest, WritesEveryFile) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 1000, 50, 1).Op(1, "write", 20, OpType::kOk, 30, 1);
  ASSERT_EQ(WriteReports(dir_, h.ops(), kTest, {{"valid", true}}), std::nullopt);
  for (const char* file : {"timeline.html", "latency.svg", "rate.svg", "locks.svg"}) {
    EXPECT_TRUE(fs::exists(dir_ / file)) << file;
    EXPECT_GT(fs::file_size(dir_ / file), 500u) << file;
  }
  for (const char* file : {"latency.svg", "rate.svg", "locks.svg"}) {
    const std::string svg = Read(dir_ / file);
    EXPECT_EQ(XmlProblem(svg), "") << file;
    EXPECT_NE(svg.find("viewBox=\"0 0 1000 "), std::string::npos) << file;
  }
}

TEST_F(ReportTest, TimelineHasABoxPerOperationInItsProcessColumn) {
  HistoryBuilder h;
  h.Op(0, "write", 0, OpType::kOk, 10, 1)
      .Op(0, "write", 20, OpType::kFail, 25, 2)
      .Op(1, "read", 5, OpType::kInfo, 50, 3)
      .Op(2, "write", 30, OpType::kOk, 31, 4)
      .Op(10, "cas", 40, OpType::kInvoke, 0, 5)  // never completed
      .Op(1, "read", 60, OpType::kOk, 70, 6);
  const std::string html = TimelineHtml(h.ops(), kTest, {{"valid", true}});
  const std::vector<Box> boxes = Boxes(html);
  ASSERT_EQ(boxes.size(), 6u) << html;
  EXPECT_EQ(Count(html, "class=\"op "), 6u);
  const std::map<int, std::string> outcome = {{1, "ok"}, {2, "fail"},    {3, "info"},
                                              {4, "ok"}, {5, "pending"}, {6, "ok"}};
  for (const auto& [id, cls] : outcome) {
    const Box* b = BoxOf(boxes, id);
    ASSERT_NE(b, nullptr) << id;
    EXPECT_EQ(b->outcome, cls) << id;
  }
  EXPECT_EQ(BoxOf(boxes, 3)->text.rfind("read ", 0), 0u);  // its f first

  // The columns: the nemesis first, then the processes in numeric order.
  static const std::regex kHead("<div style=\"left:([0-9]+)px\">([^<]+)</div>");
  std::vector<std::string> heads;
  std::map<std::string, double> left;
  for (std::sregex_iterator it(html.begin(), html.end(), kHead), end; it != end; ++it) {
    heads.push_back((*it)[2]);
    left[(*it)[2]] = std::stod((*it)[1]);
  }
  EXPECT_EQ(heads, (std::vector<std::string>{"nemesis", "p0", "p1", "p2", "p10"}));
  for (size_t k = 1; k < heads.size(); k++) EXPECT_LT(left[heads[k - 1]], left[heads[k]]);
  EXPECT_EQ(BoxOf(boxes, 1)->left, left["p0"]);
  EXPECT_EQ(BoxOf(boxes, 2)->left, left["p0"]);
  EXPECT_EQ(BoxOf(boxes, 3)->left, left["p1"]);
  EXPECT_EQ(BoxOf(boxes, 4)->left, left["p2"]);
  EXPECT_EQ(BoxOf(boxes, 5)->left, left["p10"]);
  // Time downwards: later invocations lower, longer operations taller.
  EXPECT_LT(BoxOf(boxes, 1)->top, BoxOf(boxes, 2)->top);
  EXPECT_GT(BoxOf(boxes, 3)->height, BoxOf(boxes, 2)->height);
  // The tooltip: the process, f, outcome, times in ms, the full values.
  EXPECT_NE(BoxOf(boxes, 3)->title.find("p1 read info"), std::string::npos);
  EXPECT_NE(BoxOf(boxes, 3)->title.find("invoked 5.000 ms, completed 50.000 ms: 45.000 ms"),
            std::string::npos);
  EXPECT_NE(BoxOf(boxes, 3)->title.find("&#10;info: id=3"), std::string::npos);
  EXPECT_EQ(BoxOf(boxes, 3)->title.find("invoke:"), std::string::npos);  // the same value
  EXPECT_NE(BoxOf(boxes, 5)->title.find("&#10;invoke: id=5"), std::string::npos);
}

TEST_F(ReportTest, AnOperationNeverCompletedReachesTheEndOfTheRun) {
  HistoryBuilder h;
  h.Op(0, "write", 10, OpType::kInvoke, 0, 1).Op(1, "write", 10, OpType::kOk, 20, 2);
  h.Op(1, "write", 200, OpType::kOk, 210, 3);
  const std::vector<Box> boxes = Boxes(TimelineHtml(h.ops(), kTest, {}));
  const Box* never = BoxOf(boxes, 1);
  ASSERT_NE(never, nullptr);
  EXPECT_EQ(never->outcome, "pending");
  EXPECT_NE(never->title.find("never completed"), std::string::npos);
  // Down to where the last operation completes (210 ms): 200 ms below its top, by the scale
  // of the boxes invoked at 10 and 200 ms.
  const double px_per_ms = (BoxOf(boxes, 3)->top - BoxOf(boxes, 2)->top) / 190;
  EXPECT_EQ(never->top, BoxOf(boxes, 2)->top);
  EXPECT_NEAR(never->height, 200 * px_per_ms, 0.2);
}

TEST_F(ReportTest, NemesisFaultsAreBandsFromTheirStartToTheirEnd) {
  const nlohmann::json one = {{"grudge", {{"n1", {"n2", "n3"}}, {"n2", {"n1"}}, {"n3", {"n1"}}}}};
  const nlohmann::json ring = {{"grudge", {{"n1", {"n2"}}, {"n2", {"n3"}}, {"n3", {"n1"}}}}};
  nlohmann::json failover = one;
  failover["master"] = 1;
  HistoryBuilder h;
  h.Nemesis("kill", 100, {{"node", 2}, {"port", 7002}})
      .Nemesis("start", 300, {{"node", 2}, {"port", 7002}})
      .Nemesis("start", 350, {{"node", 5}, {"port", 7005}})  // ends nothing: no band
      .Nemesis("partition", 400, one)
      .Nemesis("pause", 450, {{"node", 3}, {"port", 7003}})  // overlapping the partition
      .Nemesis("client-pause", 470, {{"client", 3}, {"ms", 200}})
      .Nemesis("resume", 550, {{"node", 3}, {"port", 7003}})
      .Nemesis("heal", 600, one)
      .Nemesis("failover", 700, failover)
      .Nemesis("promote", 750, {{"node", 2}, {"old", 1}})
      .Nemesis("heal", 800, failover)
      .Nemesis("partition-ring", 820, ring)
      .Nemesis("heal", 880, ring)
      .Op(0, "write", 100, OpType::kOk, 110, 1)
      .Op(0, "write", 300, OpType::kOk, 310, 2)
      .Op(1, "write", 650, OpType::kOk, 900, 3);
  const std::vector<keyward::jepsen::Op> ops = h.ops();
  const std::vector<Band> bands = NemesisBands(ops);
  struct Want {
    std::string label;
    int64_t start, end;
    std::string ended_by;
  };
  const std::vector<Want> want = {{"kill n2", 100, 300, "start"},
                                  {"partition n1 | n2,n3", 400, 600, "heal"},
                                  {"pause n3", 450, 550, "resume"},
                                  {"client-pause client 3 200 ms", 470, 670, "ms"},
                                  {"failover n1 | n2,n3 master n1", 700, 800, "heal"},
                                  {"promote n2 old=1", 750, 750, "event"},
                                  {"partition-ring n1:n2 n2:n3 n3:n1", 820, 880, "heal"}};
  ASSERT_EQ(bands.size(), want.size());
  for (size_t k = 0; k < want.size(); k++) {
    EXPECT_EQ(bands[k].label, want[k].label) << k;
    EXPECT_EQ(bands[k].start_ns, want[k].start * kMs) << k;
    EXPECT_EQ(bands[k].end_ns, want[k].end * kMs) << k;
    EXPECT_EQ(bands[k].ended_by, want[k].ended_by) << k;
  }

  const std::string html = TimelineHtml(ops, kTest, {});
  static const std::regex kBand(
      "<div class=\"band (?:f[0-7]|event)\" style=\"left:[0-9]+px;width:[0-9]+px;top:([0-9.]+)px;"
      "height:([0-9.]+)px\" title=\"([^\"]*)\"><span>([^<]*)</span></div>");
  std::vector<std::smatch> found;
  for (std::sregex_iterator it(html.begin(), html.end(), kBand), end; it != end; ++it) {
    found.push_back(*it);
  }
  ASSERT_EQ(found.size(), want.size()) << html;
  EXPECT_EQ(found[0][4], "kill n2");
  EXPECT_NE(found[0][3].str().find("from 100.000 ms to 300.000 ms (start)"), std::string::npos);
  // It spans the kill to the restart: from the box invoked with the kill to the one invoked
  // with the restart.
  const std::vector<Box> boxes = Boxes(html);
  const double top = std::stod(found[0][1]), height = std::stod(found[0][2]);
  EXPECT_EQ(top, BoxOf(boxes, 1)->top);
  EXPECT_NEAR(top + height, BoxOf(boxes, 2)->top, 0.2);
  EXPECT_EQ(found[3][4], "client-pause client 3 200 ms");
  EXPECT_NE(found[3][3].str().find("to 670.000 ms (its duration)"), std::string::npos);
  EXPECT_EQ(found[1][4], "partition n1 | n2,n3");
  // The bands across every process's column, in each plot too.
  for (const std::string& svg : {LatencySvg(ops), RateSvg(ops)}) {
    // Six bands and their legend's swatches, the promotion a line (and the legend's).
    EXPECT_EQ(Count(svg, "<rect class=\"band\""), 6u + 6u);
    EXPECT_EQ(Count(svg, "<line class=\"event\""), 1u + 1u);
    EXPECT_NE(svg.find(">kill n2</text>"), std::string::npos);
  }
}

TEST_F(ReportTest, ValuesAreEscaped) {
  const nlohmann::json nasty = {{"text", "<b>\"x\" & 'y'</b>"}};
  HistoryBuilder h;
  h.Op(0, "write", 0, OpType::kOk, 10, 1, nasty)
      .Nemesis("kill", 5, {{"node", "<n&1>"}})
      .Hold(1, 0, 5, 100, 20, 7);
  const std::vector<keyward::jepsen::Op> ops = h.ops();
  const nlohmann::json test = {{"workload", "<script>alert(1)</script>"}};
  const std::string html = TimelineHtml(ops, test, {{"anomalies", {{{"kind", "a<b"}}}}});
  EXPECT_EQ(html.find("<b>\"x\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("text=&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"),
            std::string::npos);
  EXPECT_NE(html.find("kill n&lt;n&amp;1&gt;"), std::string::npos);
  EXPECT_NE(html.find("<b>a&lt;b</b>"), std::string::npos);
  EXPECT_EQ(Boxes(html).size(), 3u);  // every box parsed: nothing broke out of its attribute
  for (const std::string& svg : {LatencySvg(ops), RateSvg(ops), *LocksSvg(ops)}) {
    EXPECT_EQ(XmlProblem(svg), "");
  }
  EXPECT_EQ(EscapeXml("a\x01z\xff"), "az\uFFFD");  // no control character, no bad UTF-8
}

TEST_F(ReportTest, TheHeaderShowsTheTestAndTheVerdict) {
  HistoryBuilder h;
  h.Op(0, "write", 0, OpType::kOk, 10, 1);
  const nlohmann::json invalid = {
      {"valid", false},
      {"acquisitions", 12},
      {"anomalies", {{{"kind", "lease-overlap"}}, {{"kind", "lease-overlap"}}}},
      {"set", {{"valid", false}, {"lost", {4, 5, 6}}, {"unexpected", nlohmann::json::array()}}}};
  std::string html = TimelineHtml(h.ops(), kTest, invalid);
  EXPECT_NE(html.find("<p class=\"verdict invalid\">valid? false</p>"), std::string::npos);
  EXPECT_NE(html.find("<b>lease-overlap</b> (2)"), std::string::npos);
  EXPECT_NE(html.find("<b>lost</b> (3)"), std::string::npos);
  EXPECT_EQ(html.find("<b>unexpected</b>"), std::string::npos);
  EXPECT_NE(html.find("acquisitions 12"), std::string::npos);
  for (const char* row :
       {"<th>workload</th><td>fenced-lock</td>", "<th>nemesis</th><td>kill,pause</td>",
        "<th>nodes</th><td>3</td>", "<th>seed</th><td>4242</td>"}) {
    EXPECT_NE(html.find(row), std::string::npos) << row;
  }
  html = TimelineHtml(h.ops(), kTest, {{"valid", true}, {"anomalies", nlohmann::json::array()}});
  EXPECT_NE(html.find("<p class=\"verdict valid\">valid? true</p>"), std::string::npos);
  EXPECT_NE(html.find("anomalies: none"), std::string::npos);
  html = TimelineHtml(h.ops(), kTest, {{"valid", "unknown"}});
  EXPECT_NE(html.find("<p class=\"verdict unknown\">valid? unknown</p>"), std::string::npos);
}

TEST_F(ReportTest, LatencyHasAPointPerCompletedOperation) {
  HistoryBuilder h;
  h.Op(0, "write", 0, OpType::kOk, 1, 1)        // 1 ms
      .Op(0, "write", 10, OpType::kOk, 110, 2)  // 100 ms
      .Op(1, "write", 5, OpType::kFail, 15, 3)
      .Op(2, "write", 5, OpType::kInfo, 1005, 4)
      .Op(3, "write", 7, OpType::kInvoke, 0, 5);  // never completed: no point
  const std::string svg = LatencySvg(h.ops());
  EXPECT_EQ(XmlProblem(svg), "") << svg;
  EXPECT_EQ(Count(svg, "class=\"pt "), 4u);
  EXPECT_EQ(Count(svg, "class=\"pt ok\""), 2u);
  EXPECT_EQ(Count(svg, "class=\"pt fail\""), 1u);
  EXPECT_EQ(Count(svg, "class=\"pt info\""), 1u);
  EXPECT_NE(svg.find("1 never completed"), std::string::npos);
  // Log scale, upwards: 1 ms, 10 ms (the fail), 100 ms, 1000 ms evenly spaced.
  static const std::regex kPoint("class=\"pt \\w+\" cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"");
  std::vector<double> cy;
  for (std::sregex_iterator it(svg.begin(), svg.end(), kPoint), end; it != end; ++it) {
    cy.push_back(std::stod((*it)[2]));
  }
  ASSERT_EQ(cy.size(), 4u);  // in invocation order: 1 ms, 10 ms, 1000 ms, 100 ms
  EXPECT_GT(cy[0], cy[1]);
  EXPECT_NEAR(cy[0] - cy[1], cy[1] - cy[3], 0.2);
  EXPECT_NEAR(cy[1] - cy[3], cy[3] - cy[2], 0.2);
  // A marker shape per f.
  h.Op(4, "read", 20, OpType::kOk, 25, 6);
  const std::string two = LatencySvg(h.ops());
  EXPECT_EQ(Count(two, "<circle class=\"pt "), 1u);  // the fs by name: read, write
  EXPECT_EQ(Count(two, "<rect class=\"pt "), 4u);
}

TEST_F(ReportTest, RateCountsCompletionsPerSecond) {
  HistoryBuilder h;
  h.Op(0, "write", 0, OpType::kOk, 100, 1)
      .Op(0, "write", 200, OpType::kOk, 300, 2)
      .Op(1, "write", 100, OpType::kOk, 999, 3)
      .Op(1, "write", 1000, OpType::kFail, 1200, 4)
      .Op(2, "write", 1900, OpType::kOk, 2100, 5)
      .Op(2, "read", 2200, OpType::kInvoke, 0, 6);
  const std::string svg = RateSvg(h.ops());
  EXPECT_EQ(XmlProblem(svg), "") << svg;
  EXPECT_NE(svg.find("<title>write ok per second: 3 0 1</title>"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>write fail per second: 0 1 0</title>"), std::string::npos);
  EXPECT_EQ(Count(svg, "<polyline"), 2u);  // nothing for the read never completed
}

TEST_F(ReportTest, LocksHaveABarPerHoldingAndTheLeaseEnd) {
  HistoryBuilder h;
  h.Hold(0, 0, 10, 1000, 500, 1)       // released within its lease
      .Hold(1, 20, 600, 700, 900, 2)   // held 200 ms past its lease
      .Hold(2, 950, 960, 2000, -1, 3)  // never released (its lease ends with the run)
      .Op(3, "write", 0, OpType::kOk, 2000, 1);
  const std::string svg = *LocksSvg(h.ops());
  EXPECT_EQ(XmlProblem(svg), "") << svg;
  EXPECT_EQ(Count(svg, "<rect class=\"hold"), 3u + 2u);  // and the legend's two
  EXPECT_EQ(Count(svg, "<rect class=\"hold open\""), 1u + 1u);
  // The lease's end marked where it ended within the hold: p1's, and p2's with the run.
  EXPECT_EQ(Count(svg, "<line class=\"lease-end\""), 2u + 1u);
  EXPECT_EQ(Count(svg, "<rect class=\"lease\""), 3u + 1u);
  EXPECT_EQ(Count(svg, "<rect class=\"overrun\""), 1u + 1u);
  EXPECT_EQ(Count(svg, "<text class=\"token\""), 3u);
  EXPECT_NE(svg.find("1 held past the end of their lease"), std::string::npos);
  // Bars and leases (x, width) in the order of the holdings: p0's lease spans its bar; p1's
  // ends at its mark, where its overrun begins and runs to the bar's end.
  auto rects = [&svg](const std::string& cls) {
    const std::regex re("<rect class=\"" + cls +
                        "\" x=\"([0-9.]+)\" y=\"[0-9.]+\" width=\"([0-9.]+)\"");
    std::vector<std::pair<double, double>> out;
    for (std::sregex_iterator it(svg.begin(), svg.end(), re), end; it != end; ++it) {
      out.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
    }
    return out;
  };
  const auto holds = rects("hold[^\"]*"), leases = rects("lease"), overruns = rects("overrun");
  ASSERT_EQ(holds.size(), 5u);
  ASSERT_EQ(leases.size(), 4u);
  ASSERT_EQ(overruns.size(), 2u);
  EXPECT_EQ(leases[0], holds[0]);
  EXPECT_EQ(leases[1].first, holds[1].first);
  EXPECT_LT(leases[1].second, holds[1].second);
  EXPECT_NEAR(overruns[0].first, leases[1].first + leases[1].second, 0.11);
  EXPECT_NEAR(overruns[0].first + overruns[0].second, holds[1].first + holds[1].second, 0.11);
  // p1 held 300 ms, the first 100 within its lease.
  EXPECT_NEAR(leases[1].second / holds[1].second, 100.0 / 300.0, 0.01);
  EXPECT_NE(svg.find("<line class=\"lease-end\" x1=\"" + Num(overruns[0].first) + "\""),
            std::string::npos);
  for (const char* row : {">p0</text>", ">p1</text>", ">p2</text>"}) {
    EXPECT_NE(svg.find(row), std::string::npos) << row;
  }
  EXPECT_EQ(svg.find(">p3</text>"), std::string::npos);  // no holding
}

TEST_F(ReportTest, NoLocksPlotWithoutAcquires) {
  HistoryBuilder h;
  h.Op(0, "write", 0, OpType::kOk, 10, 1);
  EXPECT_EQ(LocksSvg(h.ops()), std::nullopt);
  fs::create_directories(dir_);
  std::ofstream(dir_ / "locks.svg") << "stale";
  ASSERT_EQ(WriteReports(dir_, h.ops(), kTest, {}), std::nullopt);
  EXPECT_FALSE(fs::exists(dir_ / "locks.svg"));
  EXPECT_TRUE(fs::exists(dir_ / "rate.svg"));
}

TEST_F(ReportTest, TheBoxesAreCappedAndTheTimelineSaysSo) {
  HistoryBuilder h;
  for (int k = 0; k < 20; k++) h.Op(k % 3, "write", k * 10, OpType::kOk, k * 10 + 5, k);
  ReportOptions options;
  options.max_boxes = 5;
  options.max_points = 7;
  const std::string html = TimelineHtml(h.ops(), kTest, {}, options);
  const std::vector<Box> boxes = Boxes(html);
  EXPECT_EQ(boxes.size(), 5u);
  for (int id = 0; id < 5; id++) EXPECT_NE(BoxOf(boxes, id), nullptr) << id;  // the first ones
  EXPECT_NE(html.find("Showing the first 5 of 20 operations"), std::string::npos);
  EXPECT_EQ(Count(html, "<div class=\"cut\""), 1u);
  const std::string svg = LatencySvg(h.ops(), options);
  EXPECT_EQ(Count(svg, "class=\"pt "), 7u);
  EXPECT_NE(svg.find("20 completed operations (one in 3 drawn, 7 points)"), std::string::npos);
  // The lock bars too.
  HistoryBuilder locks;
  locks.Hold(0, 0, 10, 100, 50, 1).Hold(1, 60, 70, 200, 150, 2).Hold(2, 160, 170, 300, 250, 3);
  options.max_points = 2;
  const std::string bars = *LocksSvg(locks.ops(), options);
  EXPECT_EQ(Count(bars, "<rect class=\"hold\" x="), 2u + 1u);  // and the legend's
  EXPECT_NE(bars.find("3 holdings (the first 2 drawn)"), std::string::npos);
  // Under the cap: everything, nothing announced.
  const std::string whole = TimelineHtml(h.ops(), kTest, {});
  EXPECT_EQ(Boxes(whole).size(), 20u);
  EXPECT_EQ(whole.find("Showing the first"), std::string::npos);
}

TEST_F(ReportTest, AnEmptyHistoryStillMakesValidFiles) {
  ASSERT_EQ(WriteReports(dir_, {}, nullptr, nullptr), std::nullopt);
  const std::string html = Read(dir_ / "timeline.html");
  EXPECT_NE(html.find("No client operations"), std::string::npos);
  EXPECT_NE(html.find("valid? unknown"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  for (const char* file : {"latency.svg", "rate.svg"}) {
    EXPECT_EQ(XmlProblem(Read(dir_ / file)), "") << file;
  }
  EXPECT_FALSE(fs::exists(dir_ / "locks.svg"));
  // The XML check itself finds what it exists for.
  EXPECT_NE(XmlProblem("<svg><g></svg>"), "");
  EXPECT_NE(XmlProblem("<svg><text>a < b</text></svg>"), "");
  EXPECT_NE(XmlProblem("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(XmlProblem("<svg><rect title=\"a<b\"/></svg>"), "");
}

}  // namespace
}  // namespace keyward::jepsen
