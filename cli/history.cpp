// SPDX-License-Identifier: Apache-2.0
// ssfast history: the samples `ssfast record` kept between --since and --until (today, by
// default), read from the day files of --dir or the files named with -f, written as a table,
// CSV or JSON Lines (report/history_view.h); on a terminal the table adds the doctor's flags
// and a sparkline per column (doctor/history.h). Damage and an unfinished last record are
// passed over and said on stderr.
//
// Two passes over the files, holding one file's bytes and no records: the first learns what
// the range holds (how many samples, the first and last time, the states any had, whether
// they are in time order) and says what it passed over; the second writes as it reads. Only
// records out of time order (a clock set back) are gathered and sorted.
#include "ssfast/doctor/history.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <vector>

#include "commands.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/history_file.h"
#include "ssfast/report/history_view.h"

namespace ssfast::cli {
namespace {

std::string printable(const std::string& s) {
  std::string out;
  append_printable(out, s);
  return out;
}

// What the first pass learns of the range.
struct range_seen {
  std::size_t samples = 0;
  std::int64_t first_ms = 0, last_ms = 0;
  bool ordered = true;
  std::array<bool, 13> had{};  // by kernel state byte
};

// Output for people or programs, written in pieces as it grows (a day of JSON is megabytes).
class history_output {
 public:
  history_output(const options& o, std::span<const tcp_state> states, const range_seen& seen)
      : o_(o), states_(states) {
    tty_ =
        o.format != output_format::json && o.format != output_format::csv && isatty(STDOUT_FILENO);
    dated_ = history_spans_days(seen.first_ms, seen.last_ms, history_clock::local);
    if (o.format == output_format::csv) {
      history_csv_header(states_, out_);
    } else if (o.format != output_format::json) {
      terminal_caps caps;
      if (tty_) caps = measure_terminal();  // for people: flags and sparklines
      table_.emplace(states_, history_clock::local, dated_, tty_, tty_ ? caps.width : 0u, caps.utf8,
                     out_);
    }
  }
  // False: the output could not be written.
  bool add(const history_record& r) {
    if (o_.format == output_format::json)
      render_history_json(r, out_);
    else if (o_.format == output_format::csv)
      history_csv_row(r, states_, out_);
    else
      table_->row(r, tty_ ? flagger_.judge(r) : std::string());
    return out_.size() < (1u << 16) || flush();
  }
  int finish() {
    if (table_) {
      if (tty_)
        table_->finish(flagger_.notes(history_clock::local, dated_));
      else
        table_->finish();
    }
    return flush() ? exit_ok : exit_failure;
  }

 private:
  bool flush() {
    const bool ok = write_out(out_) == exit_ok;
    out_.clear();
    return ok;
  }
  const options& o_;
  std::span<const tcp_state> states_;
  bool tty_ = false, dated_ = false;
  std::string out_;
  std::optional<history_text_writer> table_;
  history_flagger flagger_;
};

}  // namespace

int run_history(const options& o) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::int64_t midnight = 0;
  parse_when("00:00", now, midnight);
  const std::int64_t since = o.since_ms.value_or(o.history_files.empty() ? midnight : 0);
  const std::int64_t until = o.until_ms.value_or(o.history_files.empty() ? now : INT64_MAX);
  if (until < since) return fail(exit_usage, "history: --until is before --since");
  const std::vector<std::string> files =
      o.history_files.empty() ? history_day_files(o.history_dir, since, until) : o.history_files;

  // First pass: what the range holds; what was passed over is said here, once.
  range_seen seen;
  for (const std::string& path : files) {
    const bool read = scan_history_file(
        path, since, until,
        [&](const history_record& r) {
          const std::int64_t t = r.sample.time_ms;
          if (seen.samples == 0) seen.first_ms = t;
          if (seen.samples > 0 && t < seen.last_ms) seen.ordered = false;
          seen.first_ms = std::min(seen.first_ms, t);
          seen.last_ms = std::max(seen.last_ms, t);
          ++seen.samples;
          for (std::size_t st = 1; st < seen.had.size(); ++st)
            seen.had[st] = seen.had[st] || r.sample.tcp[0][st] + r.sample.tcp[1][st] > 0;
        },
        [&](const history_read_problem& p) {
          if (p.what == history_read_problem::kind::damaged)
            fail(exit_ok, "history: " + printable(path) + ": " + std::to_string(p.bytes) +
                              " damaged bytes at byte " + std::to_string(p.at) + " passed over");
          else
            fail(exit_ok, "history: " + printable(path) + ": read up to byte " +
                              std::to_string(p.at) +
                              ", where a record the recorder never finished begins");
        });
    if (!read) return fail(exit_failure, "history: cannot read " + printable(path));
  }
  if (seen.samples == 0) {
    const std::string where =
        o.history_files.empty() ? printable(o.history_dir) : std::string("the files named");
    return fail(exit_failure, "history: no samples in " + where + " between " + iso_utc(since) +
                                  " and " + iso_utc(std::min(until, now)) +
                                  " (ssfast record keeps them)");
  }
  // The states asked for; else those any sample had, in netstat's order.
  std::vector<tcp_state> states;
  for (const std::string& w : o.filter)
    states.push_back(static_cast<tcp_state>(parse_state_name(w)));
  if (states.empty())
    for (tcp_state st : netstat_states) {
      bool had = false;  // netstat's SYN_RECV is the kernel's SYN_RECV and NEW_SYN_RECV
      for (std::size_t b = 1; b < seen.had.size(); ++b)
        had = had || (seen.had[b] &&
                      netstat_fold(static_cast<std::uint8_t>(b)) == static_cast<std::uint8_t>(st));
      if (had) states.push_back(st);
    }

  // Second pass: written as read. Out of time order (a clock set back): gathered and sorted.
  history_output out(o, states, seen);
  bool written = true;
  if (seen.ordered) {
    for (const std::string& path : files)
      (void)scan_history_file(path, since, until,
                              [&](const history_record& r) { written = written && out.add(r); });
  } else {
    std::vector<history_record> rows;
    rows.reserve(seen.samples);
    for (const std::string& path : files) (void)read_history_file(path, since, until, rows);
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      return a.sample.time_ms < b.sample.time_ms;
    });
    for (const history_record& r : rows) written = written && out.add(r);
  }
  if (!written) return exit_failure;
  return out.finish();
}

}  // namespace ssfast::cli
