// SPDX-License-Identifier: Apache-2.0
// What the commands share: output, one-line errors, the --watch clock, queries and owners.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "commands.h"
#include "ssfast/core/kernel_abi.h"

namespace ssfast::cli {

int fail(int code, std::string_view msg) {
  std::fprintf(stderr, "ssfast: %.*s\n", static_cast<int>(msg.size()), msg.data());
  return code;
}

int write_out(std::string_view s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0)
    return fail(exit_failure, "cannot write the output");
  return exit_ok;
}

std::string utc_now() {
  const time_t t = time(nullptr);
  tm u{};
  gmtime_r(&t, &u);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &u);
  return buf;
}

void advance_deadline(timespec& deadline, double interval) {
  auto ns = static_cast<long long>(interval * 1e9);
  deadline.tv_sec += static_cast<time_t>(ns / 1000000000);
  deadline.tv_nsec += static_cast<long>(ns % 1000000000);
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_nsec -= 1000000000;
    ++deadline.tv_sec;
  }
}

void sleep_until(timespec& deadline, double interval) {
  advance_deadline(deadline, interval);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

report_clock::report_clock(const options& o)
    : interval_(o.watch), reports_(o.watch > 0 ? o.count : 1) {
  clock_gettime(CLOCK_MONOTONIC, &deadline_);
}

bool report_clock::next() {
  if (reports_ != 0 && report_ >= reports_) return false;
  if (report_ > 0) sleep_until(deadline_, interval_);
  ++report_;
  return true;
}

bool count_every_netns(const all_netns_options& ao, std::vector<netns_count>& ns) {
  all_netns_stats stats;
  if (auto ec = count_all_netns(ao, ns, stats)) {
    fail(exit_failure, ao.proc_root + ": " + ec.message());
    return false;
  }
  if (stats.unreadable > 0)
    std::fprintf(stderr, "ssfast: note: %zu of %zu processes' namespaces could not be read (%s)\n",
                 stats.unreadable, stats.processes,
                 geteuid() == 0 ? "refused even to root: a sandboxed process"
                                : "run as root to see every namespace");
  return true;
}

std::map<std::string, std::int64_t> counter_map(collector& c) {
  std::vector<std::pair<std::string, std::int64_t>> all;
  std::map<std::string, std::int64_t> m;
  if (!c.read_all_counters(all))
    for (auto& [n, v] : all) m[n] = v;
  return m;
}

std::optional<double> counter_rate(const std::map<std::string, std::int64_t>& before,
                                   const std::map<std::string, std::int64_t>& now,
                                   std::string_view name, double seconds) {
  const auto x = now.find(std::string(name)), y = before.find(std::string(name));
  if (x == now.end() || y == before.end()) return std::nullopt;
  return static_cast<double>(x->second - y->second) / seconds;
}

std::string fallback_text(const collector& c) {
  const fallback_info* f = c.fallback();
  return f ? std::string(f->step) + ": " + f->error.message() : std::string();
}

std::string filter_text(const options& o) {
  std::string t;
  for (const auto& w : o.filter) t += (t.empty() ? "" : " ") + w;
  return t;
}

bool build_query(const options& o, socket_filter& f, socket_query& q, std::string& err) {
  std::vector<std::string_view> words(o.filter.begin(), o.filter.end());
  // Service and host names resolve through the C library, as in ss.
  auto parsed = parse_filter(words, system_filter_resolver());
  if (!parsed.filter) {
    err = parsed.error;
    return false;
  }
  f = std::move(*parsed.filter);
  q = query_of(f, o.scope, listing_states(o, f));
  return true;
}

bool scan_owners(const options& o, process_owners& owners) {
  if (auto ec = owners.scan(o.proc_root, o.threads)) {
    fail(exit_failure, o.proc_root + ": " + ec.message());
    return false;
  }
  if (owners.unreadable() > 0)
    std::fprintf(stderr,
                 "ssfast: note: %zu of %zu processes could not be read; their sockets show no "
                 "owner (run as root to see them all)\n",
                 owners.unreadable(), owners.processes());
  return true;
}

int list_failed(const collector& c, std::error_code ec) {
  if (ec == errc::filter_too_large) return fail(exit_usage, "filter: " + ec.message());
  return fail(exit_failure, c.error_text(ec));
}

}  // namespace ssfast::cli
