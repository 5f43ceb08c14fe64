// SPDX-License-Identifier: Apache-2.0
// ssfast -s: the summary once, every S seconds (--watch), or into a textfile for
// node_exporter.
#include "ssfast/report/summary.h"

#include <unistd.h>

#include <array>
#include <optional>

#include "commands.h"
#include "ssfast/all_netns.h"
#include "ssfast/report/all_netns.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/report/textfile.h"
#include "ssfast/report/watch.h"
#include "watch_judge.h"

namespace ssfast::cli {
namespace {

summary_format format_of(const options& o) {
  return o.format == output_format::json         ? summary_format::json
         : o.format == output_format::prometheus ? summary_format::prometheus
                                                 : summary_format::text;
}

summary_request request_of(const options& o) {
  summary_request r;
  r.scope = o.scope;
  r.method = o.method;
  r.every_counter = format_of(o) == summary_format::prometheus;
  return r;
}

// A summary of what the filter selects, or of every socket: the one count each report makes.
struct summary_counter {
  socket_filter f;
  socket_query q;
  std::string text;
  bool filtered = false;

  // False with the error said (a filter that does not parse: exit 2).
  bool prepare(const options& o, int& rc) {
    if (o.filter.empty()) return true;
    std::string err;
    if (!build_query(o, f, q, err)) {
      rc = fail(exit_usage, err);
      return false;
    }
    filtered = true;
    text = filter_text(o);
    return true;
  }
  std::error_code count(collector& c, const options& o, socket_summary& out) {
    return filtered ? c.count(out, q) : c.count(out, o.scope, o.method);
  }
  void into(summary_request& r) const {
    if (filtered) r.query = &q;
  }
};

int run_once(collector& c, const options& o) {
  std::string out, error;
  summary_counter sc;
  int rc = exit_ok;
  if (!sc.prepare(o, rc)) return rc;
  summary_request r = request_of(o);
  sc.into(r);
  summary_data d;
  if (collect_summary(c, r, d, error)) return fail(exit_failure, error);
  say_malformed(c);
  render_summary(d, format_of(o), sc.text, out);
  if (o.tcp_info) {
    // -s -i: a listing of the TCP sockets (the filter's, if any) with tcp_info, grouped by
    // state as it is parsed.
    socket_query tq = sc.filtered ? sc.q : socket_query{};
    tq.scope = o.scope;
    tq.scope.udp = tq.scope.unix_domain = false;
    tq.scope.tcp = true;
    if (!sc.filtered) tq.states = abi::tcp_all_states;
    tq.show.tcp_info = true;
    tcp_info_by_state by_state;
    if (auto ec = c.list(tq, by_state)) return list_failed(c, ec);
    if (format_of(o) == summary_format::json && out.size() >= 2 && out.ends_with("}\n")) {
      out.resize(out.size() - 2);  // one object: the section joins the summary's members
      out += ",";
      render_tcp_info_json(by_state, out);
      out += "}\n";
    } else {
      render_tcp_info_text(by_state, out);
    }
  }
  if (!o.textfile.empty()) {
    if (auto e = write_file_atomically(o.textfile, out); !e.empty()) return fail(exit_failure, e);
    return exit_ok;
  }
  return write_out(out);
}

// --watch with --textfile: rewrite the file every interval. A failed collection, or a file
// that could not be written this time (a full disk, ENOSPC), leaves the last good file in
// place (node_exporter's node_textfile_mtime_seconds shows its age) and says why on stderr;
// the next interval tries again.
int run_textfile_watch(collector& c, const options& o) {
  const summary_request r = request_of(o);
  summary_data d;
  for (report_clock clock(o, c.exit_fd()); clock.next();) {
    std::string out, error;
    if (const std::error_code ec = collect_summary(c, r, d, error)) {
      fail(exit_failure, error);
      if (ec == errc::process_exited) return exit_failure;  // nothing left to watch
      continue;
    }
    say_malformed(c);
    render_summary(d, format_of(o), {}, out);
    if (auto e = write_file_atomically(o.textfile, out); !e.empty()) fail(exit_failure, e);
  }
  return exit_ok;
}

int run_watch(collector& c, const options& o) {
  const bool tty = !o.json && isatty(STDOUT_FILENO);
  if (tty) return run_watch_screen(c, o);
  summary_counter sc;
  int rc = exit_ok;
  if (!sc.prepare(o, rc)) return rc;
  // The doctor's rules judge each interval (flags and findings in every report), from the
  // one sample each report takes.
  watch_judge judge(o, sc.filtered ? &sc.q : nullptr);
  auto sample = [&](socket_summary& out) {
    return judge.on() ? judge.sample(c, out) : sc.count(c, o, out);
  };
  socket_summary prev, now;
  if (auto ec = sample(prev)) return fail(exit_failure, c.error_text(ec));
  say_malformed(c);
  auto prev_counters = read_watched(c);
  double prev_at = monotonic_seconds();
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  for (std::uint64_t report = 1; o.count == 0 || report <= o.count; ++report) {
    sleep_until(deadline, o.watch, c.exit_fd());  // early: the count says why
    if (auto ec = sample(now)) return fail(exit_failure, c.error_text(ec));
    say_malformed(c);
    auto counters = read_watched(c);
    const double at = monotonic_seconds();
    const std::string time = utc_now();
    const std::vector<watch_finding> found = judge.as_watch();
    const watch_report step{time,
                            o.watch,
                            at - prev_at,
                            to_string(c.source()),
                            o.scope,
                            now,
                            prev.tcp_histogram(),
                            now.tcp_histogram(),
                            watch_rates(prev_counters, counters, at - prev_at),
                            judge.judged(),
                            found};
    std::string out;
    if (o.json)
      render_watch_json(step, out);
    else
      render_watch_line(step, out);
    if (int w = write_out(out)) return w;
    prev = now;
    prev_counters = counters;
    prev_at = at;
  }
  return exit_ok;
}

// -s --all-netns: every namespace, once or every S seconds. Exit 1 when one could not be read.
int run_all_netns(const options& o) {
  all_netns_options ao = all_netns_options_of(o);
  const bool tty = !o.json && isatty(STDOUT_FILENO);
  int rc = exit_ok;
  for (report_clock clock(o); clock.next();) {
    std::vector<netns_count> ns;
    if (!count_every_netns(ao, ns)) return exit_failure;
    std::string out;
    if (o.watch > 0 && tty && o.format == output_format::text)
      out = "\033[H\033[2J" + utc_now() + "\n";
    if (o.format == output_format::prometheus)
      render_all_netns_prometheus(ns, max_netns_series, out);
    else if (o.json)
      render_all_netns_json(ns, o.scope, out);
    else
      render_all_netns_text(ns, o.scope, out);
    if (!o.textfile.empty()) {
      if (auto e = write_file_atomically(o.textfile, out); !e.empty()) {
        fail(exit_failure, e);
        if (o.watch <= 0) return exit_failure;  // --watch: the next interval tries again
        rc = exit_failure;
        continue;
      }
    } else if (int w = write_out(out)) {
      return w;
    }
    rc = exit_ok;
    for (const netns_count& n : ns)
      if (n.unread()) rc = exit_failure;  // not gone (a container that ended meanwhile) or excluded
  }
  return rc;
}

}  // namespace

int run_summary(collector& c, const options& o) {
  if (!o.filter.empty()) {
    // The series of the exporter and the textfile are the host's, and --estimate derives
    // ESTABLISHED from a counter of the whole namespace: none of them can take a filter.
    const char* refused = o.all_netns ? "--all-netns (top netns FILTER counts a filter there)"
                          : o.format == output_format::prometheus || !o.textfile.empty()
                              ? "Prometheus output (its series are the host's)"
                          : o.method == count_method::estimate
                              ? "--estimate (it derives ESTABLISHED from a counter of the "
                                "whole namespace)"
                              : nullptr;
    if (refused != nullptr)
      return fail(exit_usage, std::string("a filtered summary cannot be given with ") + refused);
  }
  if (o.tcp_info) {
    const char* refused = o.all_netns                             ? "--all-netns"
                          : o.watch > 0                           ? "--watch"
                          : !o.textfile.empty()                   ? "--textfile"
                          : o.format == output_format::prometheus ? "Prometheus output"
                          : o.method == count_method::estimate    ? "--estimate"
                          : o.source == source_choice::proc       ? "--source proc"
                                                                  : nullptr;
    if (refused != nullptr)
      return fail(exit_usage,
                  std::string("-s -i (tcp_info per state) cannot be given with ") + refused);
  }
  // What a writer of this file left when it was killed between its link and its rename.
  if (!o.textfile.empty()) (void)remove_stale_temporaries(o.textfile);
  if (o.all_netns) return run_all_netns(o);
  if (o.watch <= 0) return run_once(c, o);
  return o.textfile.empty() ? run_watch(c, o) : run_textfile_watch(c, o);
}

}  // namespace ssfast::cli
