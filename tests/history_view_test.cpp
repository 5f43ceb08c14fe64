// SPDX-License-Identifier: Apache-2.0
// The history table's additions for a terminal: the FLAGS column, a sparkline per column
// whose marks keep a one-sample spike, and the notes; without them the table is sar's.
#include "ssfast/report/history_view.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace ssfast {
namespace {

constexpr std::int64_t t0 = 1'796'353'200'000;  // 2026-12-04T03:00:00Z

std::vector<history_record> rows_with_spike(std::size_t n, std::size_t spike_at) {
  std::vector<history_record> rows(n);
  for (std::size_t i = 0; i < n; ++i) {
    history_sample& s = rows[i].sample;
    s.time_ms = t0 + static_cast<std::int64_t>(i) * 10'000;
    s.tcp[0][static_cast<std::size_t>(tcp_state::close_wait)] = i == spike_at ? 1000 : 10;
    if (i > 0) {
      rows[i].delta_ms = 10'000;
      rows[i].delta[static_cast<std::size_t>(counter_id::tcp_active_opens)] = 50;
    }
  }
  return rows;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

const std::string* line_starting(const std::vector<std::string>& lines, std::string_view head) {
  for (const std::string& l : lines)
    if (l.starts_with(head)) return &l;
  return nullptr;
}

TEST(HistoryView, FlagsSparklinesAndNotesOnlyWhenAsked) {
  const auto rows = rows_with_spike(100, 37);
  const tcp_state states[] = {tcp_state::close_wait};
  std::string plain;
  render_history_text(rows, states, history_clock::utc, plain);
  EXPECT_EQ(plain.find("FLAGS"), std::string::npos);
  EXPECT_EQ(lines_of(plain).size(), 104u) << "header, 100 rows, Min, Average, Max";

  history_extras x;
  x.flags.assign(rows.size(), "");
  x.flags[37] = "close_wait_leak\x1b[2J!";  // escaped as every text is
  x.notes = {"Flags, the doctor's rules on each sample's interval (! critical):", "  a note"};
  x.width = 56;  // 10 for the label, 24 for the range: 20 marks of 5 samples each
  x.utf8 = false;
  std::string out;
  render_history_text(rows, states, history_clock::utc, out, &x);
  const auto lines = lines_of(out);
  EXPECT_TRUE(lines[0].starts_with("UTC      CLOSE_WAIT     UDP")) << lines[0];
  EXPECT_TRUE(lines[0].ends_with("  FLAGS")) << lines[0];
  EXPECT_TRUE(lines[38].starts_with("03:06:10       1000")) << lines[38];
  EXPECT_TRUE(lines[38].ends_with("  close_wait_leak\\x1b[2J!")) << lines[38];
  EXPECT_FALSE(lines[37].ends_with("!")) << lines[37];
  ASSERT_NE(line_starting(lines, "Oldest to newest, each mark the most of 5 samples:"), nullptr)
      << out;
  const std::string* spark = line_starting(lines, "CLOSE_WAIT ");
  ASSERT_NE(spark, nullptr) << out;
  // Mark 7 holds rows 35 to 39: the spike, at the top; every other mark at the bottom.
  EXPECT_EQ(*spark,
            "CLOSE_WAIT " + std::string(7, ' ') + "#" + std::string(12, ' ') + "  10 to 1000");
  const std::string* rate = line_starting(lines, "active/s ");
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(*rate, "active/s   " + std::string(20, '#') + "  5.00 to 5.00")
      << "the first, unknown, is left out";
  EXPECT_EQ(lines.back(), "  a note");
  EXPECT_EQ(lines[lines.size() - 3], "");

  // UTF-8 blocks; a width too narrow still shows ten marks.
  x.utf8 = true;
  x.width = 20;
  out.clear();
  render_history_text(rows, states, history_clock::utc, out, &x);
  ASSERT_NE(line_starting(lines_of(out), "Oldest to newest, each mark the most of 10 samples:"),
            nullptr)
      << out;
  EXPECT_NE(out.find("CLOSE_WAIT \u2581\u2581\u2581\u2588\u2581"), std::string::npos) << out;
}

}  // namespace
}  // namespace ssfast
