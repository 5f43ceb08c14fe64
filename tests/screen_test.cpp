// SPDX-License-Identifier: Apache-2.0
// The --watch screen: sparklines, rates for people, and the screen fitted to the terminal.
#include "ssfast/report/screen.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ssfast {
namespace {

series of(std::initializer_list<std::uint64_t> values, std::size_t capacity = 256) {
  series s(capacity);
  for (auto v : values) s.push(v);
  return s;
}

TEST(Sparkline, RisesWithTheSeriesInEightLevels) {
  EXPECT_EQ(sparkline(of({0, 1, 2, 3, 4, 5, 6, 7}), 80, false), " .:-=+*#");
  EXPECT_EQ(sparkline(of({0, 7}), 80, true), "\u2581\u2588");
  EXPECT_EQ(sparkline(of({0, 0, 0}), 80, false), "   ") << "zeros: the lowest level";
  EXPECT_EQ(sparkline(of({5, 5}), 80, false), "##") << "flat and nonzero: the top";
  EXPECT_EQ(sparkline(of({}), 80, true), "");
  // The last `width` values only, scaled among themselves.
  EXPECT_EQ(sparkline(of({100, 0, 7}), 2, false), " #");
  // A ring: the oldest values go once it is full.
  EXPECT_EQ(sparkline(of({7, 7, 7, 0, 7}, 3), 80, false), "# #");
  // Huge counts do not overflow the scaling.
  EXPECT_EQ(sparkline(of({0, UINT64_MAX / 8}), 80, false), " #");
}

// Recorded samples at another spacing than the view's: a divider between them and the view's
// own, taking a cell, shown only while a value on each side of it is.
TEST(Sparkline, ADividerWhereRecordedSamplesMeetTheView) {
  const series s = of({7, 0, 7, 0, 7});  // the first three recorded
  EXPECT_EQ(sparkline(s, 80, false, 3), "# #| #");
  EXPECT_EQ(sparkline(s, 80, true, 3), "\u2588\u2581\u2588\u2502\u2581\u2588");
  EXPECT_EQ(sparkline(s, 4, false, 3), "#| #") << "the newest first; one recorded still shown";
  EXPECT_EQ(sparkline(s, 3, false, 3), "# #") << "no room for the divider with a value beside";
  EXPECT_EQ(sparkline(s, 80, false, 0), "# # #") << "none recorded";
  EXPECT_EQ(sparkline(s, 80, false, 5), "# # #") << "all recorded: nothing to divide";
}

TEST(RateText, ForPeople) {
  EXPECT_EQ(rate_text(0.0), "0");
  EXPECT_EQ(rate_text(0.01), "0");
  EXPECT_EQ(rate_text(0.4), "0.4/s");
  EXPECT_EQ(rate_text(35.2), "35/s");
  EXPECT_EQ(rate_text(1234.0), "1.2k/s");
  EXPECT_EQ(rate_text(3.4e6), "3.4M/s");
  EXPECT_EQ(rate_text(-5.0), "0") << "a counter that went back";
  EXPECT_EQ(rate_text(std::nullopt), "-");
}

// The screen's visible lines: escape sequences removed, one entry per terminal row.
std::vector<std::string> visible(const std::string& screen) {
  std::string plain;
  for (std::size_t i = 0; i < screen.size(); ++i) {
    if (screen[i] == '\033') {
      while (i < screen.size() && !(screen[i] >= '@' && screen[i] <= '~' && screen[i] != '[')) ++i;
      continue;
    }
    plain.push_back(screen[i]);
  }
  std::vector<std::string> lines;
  std::istringstream in(plain);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

live_screen sample(const series& rising, const series& flat) {
  live_screen s;
  s.title = "ssfast -s, every 1 s, report 3";
  s.first_column = "STATE";
  s.rows = {{"ESTABLISHED", 1200, 0, &flat, false, false},
            {"CLOSE_WAIT", 90, 30, &rising, true, false},
            {"bad\nname", 1, 1, &flat, false, true}};
  s.rates = {{"Tcp.ActiveOpens", 35.0}, {"TcpExt.ListenOverflows", std::nullopt}};
  s.totals = "UDP 3  UNIX 40";
  s.hint = "CLOSE_WAIT grew in every report: a process is not closing its sockets";
  s.keys = "q quit  space pause";
  return s;
}

TEST(Screen, FitsTheTerminalAndKeepsTheKeysOnTheLastLine) {
  const series rising = of({30, 60, 90}), flat = of({1200, 1200, 1200});
  terminal_caps caps{60, 16, false, false};
  std::string out;
  render_live_screen(sample(rising, flat), caps, out);
  EXPECT_EQ(out.rfind("\033[H", 0), 0u) << "drawn from home, not after a full clear";
  EXPECT_EQ(out.find("\033[2J"), std::string::npos);
  const auto lines = visible(out);
  ASSERT_EQ(lines.size(), 16u) << out;
  for (const auto& l : lines) EXPECT_LE(l.size(), 60u) << l;
  EXPECT_EQ(lines[0], "ssfast -s, every 1 s, report 3");
  EXPECT_EQ(lines.back(), "q quit  space pause");
  // The flagged row is marked, its history rises; the new key is marked too; the name that
  // held a newline cannot forge a line.
  bool saw_flag = false, saw_new = false;
  for (const auto& l : lines) {
    if (l.rfind("! CLOSE_WAIT", 0) == 0) {
      saw_flag = true;
      EXPECT_NE(l.find("+30"), std::string::npos) << l;
      EXPECT_NE(l.find(":=#"), std::string::npos) << "rising: " << l;
    }
    if (l.rfind("+ bad\\x0aname", 0) == 0) saw_new = true;
  }
  EXPECT_TRUE(saw_flag);
  EXPECT_TRUE(saw_new);
  EXPECT_NE(out.find("  Tcp.ActiveOpens               35/s"), std::string::npos) << out;
  EXPECT_NE(out.find("  TcpExt.ListenOverflows           -"), std::string::npos) << out;
  EXPECT_EQ(out.find("\033[1;31m"), std::string::npos) << "no colour asked";
}

TEST(Screen, ColourHighlightsTheFlaggedRowAndTheHint) {
  const series rising = of({30, 60, 90}), flat = of({1200, 1200, 1200});
  std::string out;
  render_live_screen(sample(rising, flat), terminal_caps{80, 24, true, true}, out);
  const std::size_t red = out.find("\033[1;31m! CLOSE_WAIT");
  EXPECT_NE(red, std::string::npos) << out;
  EXPECT_NE(out.find("\033[1;31mCLOSE_WAIT grew"), std::string::npos);
  EXPECT_NE(out.find("\u2588"), std::string::npos) << "block characters in UTF-8";
}

TEST(Screen, ALongHintWrapsBetweenWordsOnTwoLines) {
  const series h = of({1});
  live_screen s;
  s.title = "t";
  s.first_column = "STATE";
  s.rows = {{"LISTEN", 1, 0, &h, true, false}};
  s.hint =
      "ListenOverflows is rising: full accept queues refuse connections (ssfast doctor "
      "for the whole story)";
  s.keys = "q quit";
  std::string out;
  render_live_screen(s, terminal_caps{60, 12, false, false}, out);
  const auto lines = visible(out);
  ASSERT_EQ(lines.size(), 12u);
  std::string joined;
  for (const auto& l : lines) {
    EXPECT_LE(l.size(), 60u);
    if (l.rfind("ListenOverflows", 0) == 0 || l.find("whole story") != std::string::npos)
      joined += (joined.empty() ? "" : " ") + l;
  }
  EXPECT_EQ(joined, s.hint) << out;
}

// At 80x24 the eleven states and the rates do not fit: the flagged rows (LISTEN, CLOSE_WAIT,
// last in the kernel's order) and those with a count come before empty ones, in their order.
TEST(Screen, FlaggedAndNonZeroRowsComeFirstWhenRowsAreCut) {
  series h = of({1});
  live_screen s;
  s.title = "t";
  s.first_column = "STATE";
  const char* names[] = {"ESTABLISHED", "SYN_SENT",  "SYN_RECV", "FIN_WAIT1",
                         "FIN_WAIT2",   "TIME_WAIT", "CLOSE",    "CLOSE_WAIT",
                         "LAST_ACK",    "LISTEN",    "CLOSING"};
  for (const char* n : names) s.rows.push_back({n, 0, 0, &h});
  s.rows[0].count = 900;  // ESTABLISHED
  s.rows[5].count = 40;   // TIME_WAIT
  s.rows[7].count = 52;   // CLOSE_WAIT, flagged
  s.rows[7].flagged = true;
  s.rows[9].count = 3;  // LISTEN, flagged
  s.rows[9].flagged = true;
  for (int i = 0; i < 8; ++i) s.rates.emplace_back("Tcp.X" + std::to_string(i), 1.0);
  s.totals = "UDP 1  UNIX 2";
  s.hint = "CLOSE_WAIT: 52 sockets stayed";
  s.keys = "q quit";
  std::string out;
  render_live_screen(s, terminal_caps{80, 24, false, false}, out);
  std::vector<std::string> shown;
  for (const auto& l : visible(out))
    for (const char* n : names)
      if (l.size() > 2 && l.compare(2, std::string(n).size() + 1, std::string(n) + " ") == 0)
        shown.push_back(n);
  // Seven rows and "(4 more)" fit: the four that matter, then empty ones in kernel order.
  EXPECT_EQ(shown, (std::vector<std::string>{"ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
                                             "TIME_WAIT", "CLOSE_WAIT", "LISTEN"}))
      << out;
  EXPECT_NE(out.find(" more)"), std::string::npos) << out;
}

TEST(Screen, RowsThatDoNotFitAreCountedNotDropped) {
  series h = of({1});
  live_screen s;
  s.title = "t";
  s.first_column = "RADDR";
  for (int i = 0; i < 40; ++i) s.rows.push_back({"10.0.0." + std::to_string(i), 1, 0, &h});
  s.keys = "q quit";
  std::string out;
  render_live_screen(s, terminal_caps{80, 12, false, false}, out);
  const auto lines = visible(out);
  ASSERT_EQ(lines.size(), 12u);
  bool more = false;
  for (const auto& l : lines) more |= l.find(" more)") != std::string::npos;
  EXPECT_TRUE(more) << out;
  EXPECT_EQ(lines.back(), "q quit");
}

}  // namespace
}  // namespace ssfast
