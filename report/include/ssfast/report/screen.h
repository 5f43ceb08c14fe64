// SPDX-License-Identifier: Apache-2.0
// The live terminal view of --watch: one screen drawn from the last reports, for people. Pure:
// the caller measures the terminal and owns it (alternate screen, raw keys, signals).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssfast/core/export.h"

namespace ssfast {

/// What the terminal can show, as the caller found it (TIOCGWINSZ, the locale, NO_COLOR, TERM).
struct terminal_caps {
  unsigned width = 80;
  unsigned height = 24;
  bool utf8 = true;   ///< block characters for sparklines; else ASCII
  bool color = true;  ///< ANSI colours; without them flagged rows still carry their '!' mark
};

/// The last values of a series, oldest first, at most `capacity` of them: a ring that
/// allocates only when constructed.
class SSFAST_API series {
 public:
  explicit series(std::size_t capacity = 256);
  void push(std::uint64_t v);
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return ring_.size(); }
  /// Value i, 0 the oldest kept.
  std::uint64_t at(std::size_t i) const noexcept { return ring_[(start_ + i) % ring_.size()]; }

 private:
  std::vector<std::uint64_t> ring_;
  std::size_t start_ = 0, size_ = 0;
};

/// The last `width` values of `s` (fewer if it holds fewer), one cell each, scaled from 0 to
/// the largest of them in 8 levels: U+2581..U+2588 block characters, or with `utf8` false the
/// ASCII ramp " .:-=+*#". A series of zeros is the lowest level throughout. With `divide_after`
/// (a count of the oldest values kept, 1 to size - 1), a divider (U+2502, or '|') takes one
/// cell between value divide_after - 1 and value divide_after when both are shown: where
/// values of another spacing (recorded samples) meet the view's own. Allocates.
SSFAST_API std::string sparkline(const series& s, std::size_t width, bool utf8,
                                 std::size_t divide_after = 0);

/// A rate for people: "0", "0.4/s", "35/s", "1.2k/s", "3.4M/s"; "-" when unknown (a counter
/// that could not be read). Never a negative: a counter that went back (a namespace's counters
/// reset) reads "0".
SSFAST_API std::string rate_text(std::optional<double> per_second);

/// One row of the table: a state or a top key.
struct live_row {
  std::string name;  ///< shown escaped: a top key may be a process name
  std::uint64_t count = 0;
  std::int64_t change = 0;          ///< since the previous report
  const series* history = nullptr;  ///< its counts over the last reports
  bool flagged = false;             ///< a finding: highlighted, and marked '!'
  bool is_new = false;              ///< a key absent from the previous report: marked '+'
};

/// One screen. Text fields other than row names are the caller's own words.
struct live_screen {
  std::string title;         ///< the first line ("ssfast -s, every 1 s, ..., report 12")
  std::string first_column;  ///< the rows' heading: "STATE", "RADDR", ...
  std::vector<live_row> rows;
  /// Counter rates per second, a section of its own; empty: no section.
  std::vector<std::pair<std::string, std::optional<double>>> rates;
  std::string totals;  ///< "UDP 12  UNIX 340", or empty
  std::string hint;    ///< what a flag means and where to look (up to two lines, wrapped);
                       ///< empty when nothing is flagged
  std::string keys;    ///< the last line: the keys that work
  bool paused = false;
  /// How many of the oldest values of each row's history are recorded samples at a spacing
  /// other than the view's (0: none, or the same spacing): sparklines divide them from the
  /// view's own.
  std::size_t recorded = 0;
};

/// Draws `s` to fit caps.width x caps.height: cursor home, each line cleared to its end, then
/// the rest of the screen cleared (no full clear, so no flicker). Rows that do not fit are
/// left out (said on the last row); each row's sparkline takes the width the columns leave.
/// Row names are escaped (append_printable); every line is cut to the width. Allocates only to
/// grow `out`.
SSFAST_API void render_live_screen(const live_screen& s, const terminal_caps& caps,
                                   std::string& out);

}  // namespace ssfast
