// SPDX-License-Identifier: Apache-2.0
// The live terminal view: sparklines, rates for people, and one screen drawn without flicker.
#include "ssfast/report/screen.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "ssfast/report/escape.h"

namespace ssfast {
namespace {

constexpr std::array<std::string_view, 8> blocks = {"\u2581", "\u2582", "\u2583", "\u2584",
                                                    "\u2585", "\u2586", "\u2587", "\u2588"};
constexpr std::string_view ascii_ramp = " .:-=+*#";

constexpr std::string_view bold_red = "\033[1;31m", bold_green = "\033[1;32m", reverse = "\033[7m",
                           plain = "\033[0m";

// `text` cut to `width` columns (the caller's words and escaped names are ASCII).
std::string_view cut(std::string_view text, std::size_t width) {
  return text.substr(0, std::min(text.size(), width));
}

// Ends a line: clears what an earlier, longer screen left to its right.
void end_line(std::string& out) { out += "\033[K\n"; }

void right(std::string& out, const std::string& text, std::size_t width) {
  if (text.size() < width) out.append(width - text.size(), ' ');
  out += text;
}

}  // namespace

series::series(std::size_t capacity) : ring_(std::max<std::size_t>(capacity, 1)) {}

void series::push(std::uint64_t v) {
  if (size_ < ring_.size()) {
    ring_[(start_ + size_++) % ring_.size()] = v;
  } else {
    ring_[start_] = v;
    start_ = (start_ + 1) % ring_.size();
  }
}

std::string sparkline(const series& s, std::size_t width, bool utf8, std::size_t divide_after) {
  // The divider is shown when a value on each side of it is; it takes one of the cells.
  const bool divided = divide_after > 0 && divide_after < s.size() && width >= 3 &&
                       s.size() - divide_after < width - 1;
  const std::size_t n = std::min(divided ? width - 1 : width, s.size());
  const std::size_t first = s.size() - n;
  std::uint64_t top = 0;
  for (std::size_t i = first; i < s.size(); ++i) top = std::max(top, s.at(i));
  std::string out;
  out.reserve(n * (utf8 ? 3 : 1));
  for (std::size_t i = first; i < s.size(); ++i) {
    if (divided && i == divide_after) out += utf8 ? "\u2502" : "|";
    // Level 0..7, the largest value at 7; integer arithmetic, no overflow below 2^61.
    const std::size_t level =
        top == 0 ? 0 : static_cast<std::size_t>(std::min<std::uint64_t>(7, s.at(i) * 7 / top));
    if (utf8)
      out += blocks[level];
    else
      out.push_back(ascii_ramp[level]);
  }
  return out;
}

std::string rate_text(std::optional<double> per_second) {
  if (!per_second) return "-";
  const double r = std::max(0.0, *per_second);
  char buf[32];
  if (r < 0.05) return "0";
  if (r < 10)
    std::snprintf(buf, sizeof buf, "%.1f/s", r);
  else if (r < 1000)
    std::snprintf(buf, sizeof buf, "%.0f/s", r);
  else if (r < 1e6)
    std::snprintf(buf, sizeof buf, "%.1fk/s", r / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.1fM/s", r / 1e6);
  return buf;
}

void render_live_screen(const live_screen& s, const terminal_caps& caps, std::string& out) {
  const std::size_t width = std::max(caps.width, 20u);
  const std::size_t height = std::max(caps.height, 6u);
  out += "\033[H";  // home; every line then overwrites the old one and clears its rest
  std::size_t lines = 0;
  auto text_line = [&](std::string_view text, std::string_view style = {}) {
    if (caps.color && !style.empty()) out += style;
    out += cut(text, width);
    if (caps.color && !style.empty()) out += plain;
    end_line(out);
    ++lines;
  };
  text_line(s.paused ? s.title + "  [paused]" : s.title, s.paused ? reverse : std::string_view{});
  text_line("");

  // The fixed part of a row, and what is left for the sparkline.
  std::size_t name_w = std::max<std::size_t>(12, s.first_column.size());
  std::vector<std::string> names;
  names.reserve(s.rows.size());
  for (const live_row& r : s.rows) {
    std::string n;
    append_printable(n, r.name);
    name_w = std::max(name_w, std::min<std::size_t>(n.size(), 40));
    names.push_back(std::move(n));
  }
  name_w = std::min(name_w, width > 30 ? width - 30 : std::size_t{8});
  const std::size_t fixed = 2 + name_w + 1 + 10 + 1 + 9 + 1;
  const std::size_t spark_w = width > fixed + 4 ? width - fixed : 0;

  // Lines below the table: a blank, the rates' heading and lines, totals, hint, keys.
  // The hint on as many lines as it needs, at most two, broken between words.
  std::vector<std::string_view> hint_lines;
  for (std::string_view rest = s.hint; !rest.empty() && hint_lines.size() < 2;) {
    std::size_t take = rest.size();
    if (take > width) {
      const std::size_t space = rest.substr(0, width).rfind(' ');
      take = space == std::string_view::npos || space == 0 ? width : space;
    }
    hint_lines.push_back(rest.substr(0, take));
    rest.remove_prefix(take);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  if (hint_lines.empty()) hint_lines.push_back({});
  const std::size_t below = 1 + (s.rates.empty() ? 0 : 1 + s.rates.size()) +
                            (s.totals.empty() ? 0 : 1) + hint_lines.size() + 1;
  const std::size_t room = height > lines + 1 + below ? height - lines - 1 - below : 0;
  std::string head = "  " + s.first_column;
  head.append(name_w > s.first_column.size() ? name_w - s.first_column.size() : 0, ' ');
  head += "      COUNT    CHANGE";
  if (spark_w > 0) head += " HISTORY";
  text_line(head);
  const std::size_t shown = std::min(s.rows.size(), room);
  // Rows that do not all fit: the flagged ones first, then those with a count, then the rest,
  // each kept in the caller's order; the last line says how many were left out.
  std::vector<std::size_t> pick(s.rows.size());
  for (std::size_t i = 0; i < pick.size(); ++i) pick[i] = i;
  if (shown < s.rows.size()) {
    auto rank = [&](std::size_t i) { return s.rows[i].flagged ? 0 : s.rows[i].count != 0 ? 1 : 2; };
    std::stable_sort(pick.begin(), pick.end(),
                     [&](std::size_t a, std::size_t b) { return rank(a) < rank(b); });
    pick.resize(shown > 0 ? shown - 1 : 0);
    std::sort(pick.begin(), pick.end());
  }
  for (std::size_t k = 0; k < shown; ++k) {
    if (k + 1 == shown && shown < s.rows.size()) {  // the last row says what did not fit
      text_line("  (" + std::to_string(s.rows.size() - shown + 1) + " more)");
      continue;
    }
    const std::size_t i = pick[k];
    const live_row& r = s.rows[i];
    std::string line(1, r.flagged ? '!' : r.is_new ? '+' : ' ');
    line.push_back(' ');
    const std::string_view name = names[i];
    line += cut(name, name_w);
    line.append(name_w - cut(name, name_w).size(), ' ');
    line.push_back(' ');
    right(line, std::to_string(r.count), 10);
    line.push_back(' ');
    right(line, (r.change > 0 ? "+" : "") + std::to_string(r.change), 9);
    line.push_back(' ');
    const std::string_view style = r.flagged  ? bold_red
                                   : r.is_new ? bold_green
                                              : std::string_view{};
    if (caps.color && !style.empty()) out += style;
    out += cut(line, width);
    if (spark_w > 0 && r.history != nullptr)
      out += sparkline(*r.history, spark_w, caps.utf8, s.recorded);
    if (caps.color && !style.empty()) out += plain;
    end_line(out);
    ++lines;
  }
  text_line("");
  if (!s.rates.empty()) {
    text_line("PER SECOND");
    for (const auto& [name, rate] : s.rates) {
      std::string line = "  " + name;
      line.append(name.size() < 24 ? 24 - name.size() : 1, ' ');
      right(line, rate_text(rate), 10);
      text_line(line);
    }
  }
  if (!s.totals.empty()) text_line(s.totals);
  for (std::string_view h : hint_lines) text_line(h, h.empty() ? std::string_view{} : bold_red);
  // The keys on the screen's last line, whatever the table's length.
  while (lines + 1 < height) {
    end_line(out);
    ++lines;
  }
  out += cut(s.keys, width);
  out += "\033[K\033[J";  // and nothing of an earlier screen below
}

}  // namespace ssfast
