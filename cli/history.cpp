// SPDX-License-Identifier: Apache-2.0
// ssfast history: the samples `ssfast record` kept between --since and --until (today, by
// default), read from the day files of --dir or the files named with -f, written as a table,
// CSV or JSON Lines (report/history_view.h); on a terminal the table adds the doctor's flags
// and a sparkline per column (doctor/history.h). Damage and an unfinished last record are
// passed over and said on stderr.
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

// The records of one file within [since, until]; what was passed over is said on stderr.
bool read_file(const std::string& path, std::int64_t since, std::int64_t until,
               std::vector<history_record>& rows) {
  const bool read = read_history_file(path, since, until, rows, [&](const history_read_problem& p) {
    if (p.what == history_read_problem::kind::damaged)
      fail(exit_ok, "history: " + printable(path) + ": " + std::to_string(p.bytes) +
                        " damaged bytes at byte " + std::to_string(p.at) + " passed over");
    else
      fail(exit_ok, "history: " + printable(path) + ": read up to byte " + std::to_string(p.at) +
                        ", where a record the recorder never finished begins");
  });
  if (!read) fail(exit_failure, "history: cannot read " + printable(path));
  return read;
}

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
  std::vector<history_record> rows;
  for (const std::string& f : files)
    if (!read_file(f, since, until, rows)) return exit_failure;
  // Files are in time order already, unless a clock was set back: sort only then (a day's
  // records are large to move).
  auto earlier = [](const history_record& a, const history_record& b) {
    return a.sample.time_ms < b.sample.time_ms;
  };
  if (!std::is_sorted(rows.begin(), rows.end(), earlier))
    std::stable_sort(rows.begin(), rows.end(), earlier);
  if (rows.empty()) {
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
    for (tcp_state st : netstat_states)
      if (std::any_of(rows.begin(), rows.end(), [&](const history_record& r) {
            return r.sample.tcp[0].netstat_count(st) + r.sample.tcp[1].netstat_count(st) > 0;
          }))
        states.push_back(st);
  std::string out;
  switch (o.format) {
    case output_format::json:
      for (const history_record& r : rows) render_history_json(r, out);
      break;
    case output_format::csv: render_history_csv(rows, states, out); break;
    default:
      if (isatty(STDOUT_FILENO)) {
        // For people: the doctor's flags on each sample, a sparkline per column.
        const terminal_caps caps = measure_terminal();
        history_extras extras;
        extras.width = caps.width;
        extras.utf8 = caps.utf8;
        history_flags(judge_history(rows), rows, history_clock::local, extras);
        render_history_text(rows, states, history_clock::local, out, &extras);
      } else {
        render_history_text(rows, states, history_clock::local, out);
      }
      break;
  }
  return write_out(out);
}

}  // namespace ssfast::cli
