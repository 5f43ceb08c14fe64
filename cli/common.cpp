// SPDX-License-Identifier: Apache-2.0
// What the commands share: output, one-line errors, the --watch clock, queries and owners.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <vector>

#include "commands.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/report/all_netns.h"
#include "ssfast/report/escape.h"

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

namespace {

long long to_ns(const timespec& t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

timespec monotonic_now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t;
}

}  // namespace

double monotonic_seconds() { return static_cast<double>(to_ns(monotonic_now())) / 1e9; }

void advance_deadline(timespec& deadline, double interval) {
  const long long step = std::max(1LL, static_cast<long long>(interval * 1e9));
  long long next = to_ns(deadline) + step;
  // Missed (the process was stopped, or a report took longer than the interval): the first
  // deadline of the same grid still ahead, so the missed reports are skipped, not made up
  // in a burst.
  if (const long long now = to_ns(monotonic_now()); next <= now)
    next += ((now - next) / step + 1) * step;
  deadline.tv_sec = static_cast<time_t>(next / 1000000000LL);
  deadline.tv_nsec = static_cast<long>(next % 1000000000LL);
}

long long ns_until(const timespec& deadline) { return to_ns(deadline) - to_ns(monotonic_now()); }

void wait_until(const timespec& deadline, int wake_fd) {
  for (;;) {
    const long long left = ns_until(deadline);
    if (left <= 0) return;
    if (wake_fd < 0) {
      if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == 0) return;
      continue;  // EINTR
    }
    pollfd p{wake_fd, POLLIN, 0};
    const timespec t{static_cast<time_t>(left / 1000000000LL),
                     static_cast<long>(left % 1000000000LL)};
    if (ppoll(&p, 1, &t, nullptr) > 0) return;
  }
}

void sleep_until(timespec& deadline, double interval, int wake_fd) {
  advance_deadline(deadline, interval);
  wait_until(deadline, wake_fd);
}

report_clock::report_clock(const options& o, int wake_fd)
    : interval_(o.watch), reports_(o.watch > 0 ? o.count : 1), wake_fd_(wake_fd) {
  clock_gettime(CLOCK_MONOTONIC, &deadline_);
}

bool report_clock::next() {
  if (reports_ != 0 && report_ >= reports_) return false;
  // Woken early (the watched process exited): the report is made at once, and says so.
  if (report_ > 0) sleep_until(deadline_, interval_, wake_fd_);
  ++report_;
  return true;
}

all_netns_options all_netns_options_of(const options& o) {
  all_netns_options ao;
  ao.scope = o.scope;
  ao.method = o.method;
  ao.threads = o.threads;
  ao.owner = o.owner;
  return ao;
}

bool count_every_netns(const all_netns_options& ao, std::vector<netns_count>& ns) {
  all_netns_stats stats;
  if (auto ec = count_all_netns(ao, ns, stats)) {
    fail(exit_failure, ao.proc_root + ": " + ec.message());
    return false;
  }
  if (const std::string note = unread_processes_note(stats); !note.empty())
    std::fprintf(stderr, "ssfast: note: %s\n", note.c_str());
  return true;
}

watched_counters read_watched(collector& c) {
  std::vector<std::pair<std::string, std::int64_t>> all;
  if (c.read_all_counters(all)) return {};
  return pick_counters(std::span<const std::pair<std::string, std::int64_t>>(all),
                       watch_rate_counters);
}

std::array<std::optional<double>, watch_rate_counters.size()> watch_rates(
    const watched_counters& before, const watched_counters& now, double seconds) {
  std::array<std::optional<double>, watch_rate_counters.size()> r;
  for (std::size_t i = 0; i < r.size(); ++i)
    if (before[i] && now[i]) r[i] = static_cast<double>(*now[i] - *before[i]) / seconds;
  return r;
}

void say_malformed(const collector& c) {
  for (const malformed_file& m : c.malformed_lines()) {
    std::string line = "ssfast: warning: ";
    append_printable(line, m.path);  // --proc-root is the caller's, but may be pasted
    line += ": " + std::to_string(m.lines) + " malformed line" + (m.lines == 1 ? "" : "s") +
            " left out (not counted, not listed)\n";
    std::fputs(line.c_str(), stderr);
  }
}

std::string filter_text(const options& o) {
  std::string t;
  for (const auto& w : o.filter) t += (t.empty() ? "" : " ") + w;
  return t;
}

bool build_query(const options& o, socket_filter& f, socket_query& q, std::string& err) {
  std::vector<std::string_view> words(o.filter.begin(), o.filter.end());
  // Service and host names resolve through the C library, as in ss.
  auto parsed = parse_filter(words, system_filter_resolver(), o.preferred_family);
  if (!parsed.filter) {
    err = parsed.error;
    return false;
  }
  f = std::move(*parsed.filter);
  // ss judges packet and netlink sockets by fields of its own (a packet socket's "port" is its
  // interface index, a netlink socket's its port id): an expression over them is refused when
  // they were asked for, and leaves them out of a listing of every table.
  count_scope scope = o.scope;
  if (f.has_expression()) {
    if (o.packet || o.netlink) {
      err =
          "a filter expression selects inet and unix sockets: packet and netlink sockets (-0, "
          "-f link, -A netlink) take states only";
      return false;
    }
    scope.packet = scope.netlink = false;
  }
  q = query_of(f, scope, listing_states(o, f));
  q.unix_types = o.unix_types;
  q.packet_types = o.packet_types;
  return true;
}

bool scan_owners(const options& o, process_owners& owners) {
  if (auto ec = owners.scan(o.proc_root, o.threads, o.per_thread)) {
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
  // Netlink refused (EPERM: a fwmark condition without CAP_NET_ADMIN, which
  // inet_diag_bc_audit requires, or a policy) and /proc cannot judge the filter: say both.
  if (const fallback_info* fb = c.fallback(); ec == errc::filter_needs_netlink && fb != nullptr &&
                                              (fb->error == std::errc::operation_not_permitted ||
                                               fb->error == std::errc::permission_denied))
    return fail(exit_failure, "filter: netlink refused the dump (" + fb->error.message() + ", " +
                                  std::string(fb->step) +
                                  "; a fwmark condition needs CAP_NET_ADMIN), and " + ec.message());
  if (ec == errc::filter_too_large || ec == errc::filter_needs_netlink)
    return fail(exit_usage, "filter: " + ec.message());
  return fail(exit_failure, c.error_text(ec));
}

std::uint64_t netns_inode(const options& o) {
  struct stat st {};
  const std::string path = o.netns.empty() ? "/proc/thread-self/ns/net" : o.netns;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

}  // namespace ssfast::cli
