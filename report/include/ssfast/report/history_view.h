// SPDX-License-Identifier: Apache-2.0
// `ssfast history`: recorded samples (core/history.h) as sar lays them out (a time column, the
// states, the counters as rates, then Min, Average and Max lines), as CSV, or as JSON Lines
// shaped as `-s -j` writes its summary plus the sample's time, interval, rates and listeners.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ssfast/core/counter_ids.h"
#include "ssfast/core/export.h"
#include "ssfast/core/history.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {

/// A counter a history shows as a rate, and its column.
struct history_rate_column {
  counter_id id;
  std::string_view column;
};

/// The counters shown as rates per second: connections opened actively (connect) and passively
/// (accept), failed, reset; segments retransmitted; connections refused at a full accept queue
/// (ListenOverflows) and every drop at a listener (ListenDrops).
inline constexpr history_rate_column history_rates[] = {
    {counter_id::tcp_active_opens, "active/s"},  {counter_id::tcp_passive_opens, "passive/s"},
    {counter_id::tcp_attempt_fails, "fails/s"},  {counter_id::tcp_estab_resets, "resets/s"},
    {counter_id::tcp_retrans_segs, "retrans/s"}, {counter_id::listen_overflows, "ovflow/s"},
    {counter_id::listen_drops, "ldrops/s"},
};

/// A counter's rate per second over the record's interval; empty when the change or the
/// interval is not known (a run's first sample, after damage) or after a reset.
SSFAST_API std::optional<double> history_rate(const history_record& r, counter_id id) noexcept;

/// How the time column is written.
enum class history_clock : std::uint8_t {
  local,  ///< the local time zone (TZ), as sar shows its day files
  utc,
};

/// What the table adds for people at a terminal: a FLAGS column (the doctor's, one text per
/// row), lines after the table, and a sparkline per column over the range.
struct history_extras {
  std::vector<std::string> flags;  ///< one per row ("" for none); empty: no column
  std::vector<std::string> notes;  ///< lines after the table, the caller's words
  unsigned width = 0;              ///< the terminal's columns; 0: no sparklines
  bool utf8 = true;                ///< block characters; else an ASCII ramp
};

/// The table: a header, one line per record (the time, each of `states` over both families,
/// UDP and UNIX sockets, the rates; "-" for a rate not known), then Min, Average and Max lines
/// over the records. The time is HH:MM:SS, with the date when the records span more than one
/// day. With `extras`: its FLAGS column, then a sparkline per column (oldest to newest, each
/// mark the most of the samples it stands for, so a spike is never averaged away) with the
/// column's least and most, then its notes. Allocates only to grow `out`.
SSFAST_API void render_history_text(std::span<const history_record> rows,
                                    std::span<const tcp_state> states, history_clock clock,
                                    std::string& out, const history_extras* extras = nullptr);

/// The table written a record at a time, in the order given (render_history_text is this over
/// a span): what it keeps does not grow with the records but for the sparklines' numbers (one
/// per column per row, when `sparkline_width` is not 0). `dated`: the time column carries the
/// date (history_spans_days); `flags`: a FLAGS column. Allocates only to grow `out` and what
/// it keeps.
class SSFAST_API history_text_writer {
 public:
  history_text_writer(std::span<const tcp_state> states, history_clock clock, bool dated,
                      bool flags, unsigned sparkline_width, bool utf8, std::string& out);
  /// One line: the record's time and columns, then `flag` (escaped) when there is a FLAGS
  /// column.
  void row(const history_record& r, std::string_view flag = {});
  /// Min, Average and Max (nothing at all after no row), the sparklines, then `notes`.
  void finish(std::span<const std::string> notes = {});

 private:
  std::vector<tcp_state> states_;
  std::vector<std::string> cols_;
  history_clock clock_;
  bool dated_, flags_;
  unsigned sparkline_width_;
  bool utf8_;
  std::string& out_;
  std::size_t rates_from_ = 0, rows_ = 0;
  std::vector<std::size_t> width_, n_;
  std::vector<double> lo_, hi_, sum_, v_, kept_;
};

/// Whether two times fall on different days of `clock`: the table then dates its times.
SSFAST_API bool history_spans_days(std::int64_t first_ms, std::int64_t last_ms,
                                   history_clock clock);

/// CSV a line at a time: the header of render_history_csv's columns, and one record's line.
SSFAST_API void history_csv_header(std::span<const tcp_state> states, std::string& out);
SSFAST_API void history_csv_row(const history_record& r, std::span<const tcp_state> states,
                                std::string& out);

/// A sample's time as the table's time column shows it: "03:10:20", or with the date
/// ("2026-12-04 03:10:20") when `dated`.
SSFAST_API std::string history_time(std::int64_t time_ms, history_clock clock, bool dated);

/// The same columns as CSV (RFC 4180), the time in ISO 8601 UTC; an unknown rate is empty.
SSFAST_API void render_history_csv(std::span<const history_record> rows,
                                   std::span<const tcp_state> states, std::string& out);

/// One record as one JSON line: {"time" (ISO 8601 UTC), "interval_s" (null for a run's first),
/// then `-s -j`'s members (source, tcp, udp, unix, counters: sockstat's levels), "rates"
/// (counter names as `ssfast counters` gives them, per second or null), "listeners"
/// [{"address", "accept_queue", "backlog", "syn_recv" (null: not measured)}]}.
SSFAST_API void render_history_json(const history_record& r, std::string& out);

/// "2026-12-04T03:10:00Z" (milliseconds dropped).
SSFAST_API std::string iso_utc(std::int64_t time_ms);

}  // namespace ssfast
