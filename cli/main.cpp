// The ssfast binary: parses the command line, runs the command, maps errors to exit codes.
#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "ssfast/serve/agent.h"
#include "ssfast/serve/http.h"
#include "options.h"
#include "ssfast/serve/server.h"
#include "ssfast/core/filter.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/report/listing.h"
#include "ssfast/report/top.h"
#include "ssfast/report/summary.h"
#include "ssfast/doctor/doctor.h"
#include "ssfast/doctor/gather.h"
#include "ssfast/doctor/states.h"
#include "ssfast/ssfast.h"

namespace {

using namespace ssfast;

int fail(int code, std::string_view msg) {
  std::fprintf(stderr, "ssfast: %.*s\n", static_cast<int>(msg.size()), msg.data());
  return code;
}

int write_out(const std::string& s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0)
    return fail(cli::exit_failure, "cannot write the output");
  return cli::exit_ok;
}

// Where a failure happened: a dump's name, or a file under the proc root.
std::string where(const collector& c, const cli::options& o) {
  std::string w(c.error_context());
  return w.starts_with("net/") ? o.proc_root + "/" + w : w;
}

result<collector> open_collector(const cli::options& o) {
  collector_options co;
  co.source = o.source;
  co.proc_root = o.proc_root;
  co.threads = o.threads;
  co.netns = o.netns;
  return collector::open(co);
}

std::string fallback_text(const collector& c) {
  const fallback_info* f = c.fallback();
  return f ? std::string(f->step) + ": " + f->error.message() : std::string();
}

std::string utc_now() {
  const time_t t = time(nullptr);
  tm u{};
  gmtime_r(&t, &u);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &u);
  return buf;
}

// Sleeps until `deadline` (CLOCK_MONOTONIC), then moves it one interval on: reports do not
// drift by the time each takes.
void sleep_until(timespec& deadline, double interval) {
  auto ns = static_cast<long long>(interval * 1e9);
  deadline.tv_sec += static_cast<time_t>(ns / 1000000000);
  deadline.tv_nsec += static_cast<long>(ns % 1000000000);
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_nsec -= 1000000000;
    ++deadline.tv_sec;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

// The counters whose per-second rates --watch shows, as /proc names them.
constexpr std::string_view rate_counters[] = {
    "Tcp.ActiveOpens", "Tcp.PassiveOpens",       "Tcp.AttemptFails",   "Tcp.EstabResets",
    "Tcp.RetransSegs", "TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPTimeouts"};

std::map<std::string, std::int64_t> counter_map(collector& c) {
  std::vector<std::pair<std::string, std::int64_t>> all;
  std::map<std::string, std::int64_t> m;
  if (!c.read_all_counters(all))
    for (auto& [n, v] : all) m[n] = v;
  return m;
}

// One summary in the chosen format, appended to `out`; on failure the message.
std::error_code render_summary(collector& c, const cli::options& o, std::string& out,
                               std::string& error) {
  socket_summary sockets;
  if (auto ec = c.count(sockets, o.scope, o.method)) {
    error = where(c, o) + ": " + ec.message();
    return ec;
  }
  kernel_counters counters;
  std::string counters_error;
  // Prometheus carries every counter: one read of each file gives both.
  std::vector<std::pair<std::string, std::int64_t>> all;
  const bool prometheus = o.format == cli::output_format::prometheus;
  const std::error_code counters_ec =
      prometheus ? c.read_all_counters(all, counters) : c.read_counters(counters);
  // Counters are context, not the answer: report them missing, keep the exit status.
  if (counters_ec) {
    counters_error = where(c, o) + ": " + counters_ec.message();
    all.clear();
  }
  const std::string fallback = fallback_text(c);
  const summary_report report{sockets, to_string(c.source()), fallback,
                              counters_ec ? nullptr : &counters, counters_error};
  switch (o.format) {
    case cli::output_format::json:
      render_summary_json(report, out);
      break;
    case cli::output_format::prometheus:
      render_summary_prometheus(report, all, out);
      break;
    case cli::output_format::text:
      render_summary_text(report, out);
      break;
  }
  return {};
}

// Replaces `path` with `data` so a reader sees the old file or the new one, never a part:
// a temporary file in the same directory (node_exporter's textfile collector reads only
// *.prom, so the temporary name does not end in .prom), fsync, rename over the target.
// ssfast runs as root from cron or a unit and writes into node_exporter's textfile
// directory, which another account may be able to write. So the temporary's name is random
// and it is created O_EXCL|O_NOFOLLOW: a link planted at a name we might use is never
// followed (a predictable name opened O_TRUNC would let it truncate any file). A target that
// exists and is not a regular file (a planted link, a FIFO) is refused; rename(2) replaces a
// name, never what a link points to, so a link planted after that check changes nothing.
std::string write_atomically(const std::string& path, std::string_view data) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return path + ": exists and is not a regular file (a link, a directory or a device); "
                  "not replaced";
  int fd = -1;
  std::string tmp;
  for (int attempt = 0; fd < 0; ++attempt) {
    std::uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
      return path + ": getrandom: " + std::strerror(errno);
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".tmp.%016llx", static_cast<unsigned long long>(r));
    tmp = path + suffix;
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt == 8)) return tmp + ": " + std::strerror(errno);
  }
  // node_exporter reads the file as another user, whatever our umask.
  const bool moded = ::fchmod(fd, 0644) == 0;
  std::size_t done = 0;
  while (moded && done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  const int write_errno = moded && done == data.size() ? 0 : (errno ? errno : EIO);
  const bool synced = write_errno == 0 && fsync(fd) == 0;
  const int sync_errno = errno;
  const bool closed = ::close(fd) == 0;
  if (write_errno != 0 || !synced || !closed) {
    const int e = write_errno ? write_errno : !synced ? sync_errno : errno;
    ::unlink(tmp.c_str());
    return tmp + ": " + std::strerror(e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return path + ": " + std::strerror(e);
  }
  return {};
}

int run_summary_once(collector& c, const cli::options& o) {
  std::string out, error;
  if (render_summary(c, o, out, error)) return fail(cli::exit_failure, error);
  if (!o.textfile.empty()) {
    if (auto e = write_atomically(o.textfile, out); !e.empty()) return fail(cli::exit_failure, e);
    return cli::exit_ok;
  }
  return write_out(out);
}

// --watch with --textfile: rewrite the file every interval. A failed collection leaves the
// last good file in place (node_exporter's node_textfile_mtime_seconds shows its age) and
// says why on stderr; only a file that cannot be written ends the loop.
int run_textfile_watch(collector& c, const cli::options& o) {
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  for (std::uint64_t report = 1; o.count == 0 || report <= o.count; ++report) {
    if (report > 1) sleep_until(deadline, o.watch);
    std::string out, error;
    if (render_summary(c, o, out, error)) {
      fail(cli::exit_failure, error);
      continue;
    }
    if (auto e = write_atomically(o.textfile, out); !e.empty()) return fail(cli::exit_failure, e);
  }
  return cli::exit_ok;
}

int run_summary_watch(collector& c, const cli::options& o) {
  const bool tty = !o.json && isatty(STDOUT_FILENO);
  socket_summary prev, now;
  if (auto ec = c.count(prev, o.scope, o.method))
    return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
  auto prev_counters = counter_map(c);
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  for (std::uint64_t report = 1; o.count == 0 || report <= o.count; ++report) {
    sleep_until(deadline, o.watch);
    if (auto ec = c.count(now, o.scope, o.method))
      return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
    auto counters = counter_map(c);
    const state_counts a = prev.tcp_histogram(), b = now.tcp_histogram();
    std::string out;
    auto signed_delta = [](std::int64_t d) {
      std::string t = std::to_string(d);
      if (d >= 0) t.insert(t.begin(), '+');  // not "+" + t: GCC 12's -Wrestrict false positive
      return t;
    };
    auto rate = [&](std::string_view name) -> std::optional<double> {
      auto x = counters.find(std::string(name)), y = prev_counters.find(std::string(name));
      if (x == counters.end() || y == prev_counters.end()) return std::nullopt;
      return static_cast<double>(x->second - y->second) / o.watch;
    };
    char num[64];
    if (o.json) {
      json_writer w(out);
      w.begin_object();
      w.key("time").value(utc_now());
      w.key("interval_s").value(o.watch);
      w.key("source").value(to_string(c.source()));
      // What was not counted (-x, -u, -t) is left out, never reported as 0.
      if (o.scope.tcp) {
        w.key("tcp").begin_object();
        for (tcp_state s : netstat_states) {
          w.key(netstat_name(static_cast<std::uint8_t>(s))).begin_object();
          w.key("count").value(b.netstat_count(s));
          w.key("change").value(
              static_cast<std::int64_t>(b.netstat_count(s) - a.netstat_count(s)));
          w.end_object();
        }
        w.end_object();
      }
      if (o.scope.udp) w.key("udp").value(now.udp_all().total());
      if (o.scope.unix_domain) w.key("unix").value(now.unix_domain.total());
      w.key("rates_per_s").begin_object();
      for (std::string_view name : rate_counters) {
        w.key(name);
        if (const auto r = rate(name)) {
          w.fixed(*r, 2);
        } else {
          w.null();
        }
      }
      w.end_object().end_object();
      out.push_back('\n');
    } else if (tty) {
      out = "\033[H\033[2J";  // home and clear: a redrawn table
      out += "ssfast -s, every " + std::to_string(o.watch).substr(0, 5) + " s, " + utc_now() +
             ", report " + std::to_string(report) + "\n\n";
      std::snprintf(num, sizeof num, "%-12s %12s %10s\n", "STATE", "COUNT", "CHANGE");
      if (o.scope.tcp) out += num;
      for (tcp_state s : netstat_states) {
        if (!o.scope.tcp) break;
        const auto n = b.netstat_count(s);
        const auto d = static_cast<std::int64_t>(n - a.netstat_count(s));
        std::snprintf(num, sizeof num, "%-12s %12llu %10s\n",
                      std::string(netstat_name(static_cast<std::uint8_t>(s))).c_str(),
                      static_cast<unsigned long long>(n), signed_delta(d).c_str());
        out += num;
      }
      out += "\nPER SECOND (/proc/net/snmp, netstat)\n";
      for (std::string_view name : rate_counters) {
        const auto r = rate(name);
        std::snprintf(num, sizeof num, "%-24s %10s\n", std::string(name).c_str(),
                      r ? std::to_string(*r).substr(0, 10).c_str() : "-");
        out += num;
      }
    } else {
      out = utc_now();
      for (tcp_state s : netstat_states) {
        if (!o.scope.tcp) break;
        const auto n = b.netstat_count(s);
        out.push_back(' ');
        out += netstat_name(static_cast<std::uint8_t>(s));
        out.push_back('=');
        out += std::to_string(n);
        out.push_back('(');
        out += signed_delta(static_cast<std::int64_t>(n - a.netstat_count(s)));
        out.push_back(')');
      }
      // Without TCP (-u, -x) the line carries the totals that were counted instead.
      if (!o.scope.tcp && o.scope.udp) out += " UDP=" + std::to_string(now.udp_all().total());
      if (!o.scope.tcp && o.scope.unix_domain)
        out += " UNIX=" + std::to_string(now.unix_domain.total());
      for (std::string_view name : rate_counters) {
        const auto r = rate(name);
        std::snprintf(num, sizeof num, " %s/s=%.1f", std::string(name).c_str(), r ? *r : 0.0);
        out += r ? num : " " + std::string(name) + "/s=-";
      }
      out.push_back('\n');
    }
    if (int rc = write_out(out)) return rc;
    prev = now;
    prev_counters = std::move(counters);
  }
  return cli::exit_ok;
}

// A listing that failed: a filter too large for the kernel is the user's to shorten (exit 2,
// before anything was sent); anything else is a failure of the source.
int list_failed(const collector& c, const cli::options& o, std::error_code ec) {
  if (ec == errc::filter_too_large) return fail(cli::exit_usage, "filter: " + ec.message());
  return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
}

// Parses the filter words; a syntax error is a usage error naming the token.
bool build_query(const cli::options& o, socket_filter& f, socket_query& q, std::string& err) {
  std::vector<std::string_view> words(o.filter.begin(), o.filter.end());
  // Service and host names resolve through the C library, as in ss.
  auto parsed = parse_filter(words, system_filter_resolver());
  if (!parsed.filter) {
    err = parsed.error;
    return false;
  }
  f = std::move(*parsed.filter);
  q.scope = o.scope;
  if (f.family) {  // an inet: or inet6: address: that family only, as ss's filter_af_set
    q.scope.ipv4 = q.scope.ipv4 && *f.family == 2;
    q.scope.ipv6 = q.scope.ipv6 && *f.family == 10;
    q.scope.unix_domain = false;
  }
  q.states = cli::listing_states(o, f);
  q.filter = &f;
  return true;
}

// Scans /proc/*/fd when -p asks, and says what could not be read.
bool scan_owners(const cli::options& o, process_owners& owners) {
  if (auto ec = owners.scan(o.proc_root, o.threads)) {
    fail(cli::exit_failure, o.proc_root + ": " + ec.message());
    return false;
  }
  if (owners.unreadable() > 0)
    std::fprintf(stderr,
                 "ssfast: note: %zu of %zu processes could not be read; their sockets show no "
                 "owner (run as root to see them all)\n",
                 owners.unreadable(), owners.processes());
  return true;
}

int run_list(collector& c, const cli::options& o) {
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(cli::exit_usage, err);
  process_owners owners;
  if (o.processes && !scan_owners(o, owners)) return cli::exit_failure;
  socket_table t;
  if (auto ec = c.list(t, q)) return list_failed(c, o, ec);
  listing_style style;
  style.header = !o.no_header;
  // ss shows Netid when several kinds of socket can appear, State when several states can.
  style.netid = (o.scope.tcp + o.scope.udp + o.scope.unix_domain > 1) || o.scope.unix_domain;
  style.state = (q.states & (q.states - 1)) != 0;
  style.extended = o.extended;
  style.timers = o.timers;
  style.owners = o.processes ? &owners : nullptr;
  // /proc shows a listener's Send-Q as 0, not its backlog: fullness is unknown there.
  const bool from_proc = c.source() == source_kind::proc;
  style.backlog_known = !from_proc;
  // Which source answered, as -s says it: in the text for people; on stderr for scripts
  // (-H, -j) when netlink was given up, so their stdout keeps its shape.
  const std::string source_note =
      "source: proc" + (c.fallback() ? " (netlink unavailable: " + fallback_text(c) + ")"
                                     : std::string()) +
      "; listen backlogs are unknown there, so accept-queue-full is not judged";
  if (from_proc && c.fallback() && (o.json || o.no_header))
    std::fprintf(stderr, "ssfast: note: %s\n", source_note.c_str());
  std::string out;
  if (o.json) {
    render_listing_json(t, style, out);
    return write_out(out);
  }
  render_listing_text(t, style, out);
  if (from_proc && !o.no_header) out += "\nSockets (" + source_note + ")\n";
  // Listeners shown: the kernel's counts of connections they had to refuse, for people (not
  // with -H, which is for scripts).
  bool tcp_listener = false;
  for (std::size_t i = 0; i < t.size() && !tcp_listener; ++i)
    tcp_listener =
        t.protocol()[i] == 6 && t.state()[i] == static_cast<std::uint8_t>(tcp_state::listen);
  if (tcp_listener && !o.no_header) {
    const auto counters = counter_map(c);
    auto value = [&](const char* name) {
      const auto it = counters.find(name);
      return it == counters.end() ? std::string("?") : std::to_string(it->second);
    };
    out += "\nTcpExt: ListenOverflows " + value("TcpExt.ListenOverflows") + " ListenDrops " +
           value("TcpExt.ListenDrops") + " (connections refused since boot, this namespace)\n";
  }
  return write_out(out);
}

void append_top(std::string& out, const std::vector<top_entry>& entries, const cli::options& o,
                bool one_line) {
  char num[32];
  if (o.json) {
    json_writer w(out);
    w.begin_object().key("time").value(utc_now()).key("entries").begin_array();
    for (const top_entry& e : entries)
      w.begin_object().key("count").value(e.count).key("key").value(e.key).end_object();
    w.end_array().end_object();
    out.push_back('\n');
    return;
  }
  // Keys can hold process names, which any user sets: escaped so a name cannot forge a line.
  if (one_line) {
    out += utc_now();
    for (const top_entry& e : entries) {
      out.push_back(' ');
      out += std::to_string(e.count);
      out.push_back(':');
      append_printable(out, e.key);
    }
    out.push_back('\n');
    return;
  }
  for (const top_entry& e : entries) {
    // The shape of `uniq -c`: the count right-aligned in 7 columns, a space, the key.
    std::snprintf(num, sizeof num, "%7llu ", static_cast<unsigned long long>(e.count));
    out += num;
    append_printable(out, e.key);
    out.push_back('\n');
  }
}

int run_top(collector& c, const cli::options& o) {
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(cli::exit_usage, err);
  const bool need_owners = o.key == top_key::process || o.processes;
  process_owners owners;
  socket_table t;
  const bool tty = !o.json && isatty(STDOUT_FILENO);
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  const std::uint64_t reports = o.watch > 0 ? o.count : 1;
  for (std::uint64_t report = 1; reports == 0 || report <= reports; ++report) {
    if (o.watch > 0 && report > 1) sleep_until(deadline, o.watch);
    if (need_owners && !scan_owners(o, owners)) return cli::exit_failure;
    if (auto ec = c.list(t, q)) return list_failed(c, o, ec);
    const auto entries = top_counts(t, o.key, o.top_n, need_owners ? &owners : nullptr);
    std::string out;
    if (o.watch > 0 && tty) out = "\033[H\033[2J" + utc_now() + "\n";
    append_top(out, entries, o, o.watch > 0 && !tty);
    if (int rc = write_out(out)) return rc;
  }
  return cli::exit_ok;
}

int run_counters(collector& c, const cli::options& o) {
  auto matches = [&](const std::string& name) {
    if (o.prefixes.empty()) return true;
    for (const auto& p : o.prefixes)
      if (name.starts_with(p)) return true;
    return false;
  };
  std::vector<std::pair<std::string, std::int64_t>> first, second;
  if (auto ec = c.read_all_counters(first))
    return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
  // Counter names come from /proc text: printed escaped, as every name is.
  std::string out;
  json_writer w(out);
  char num[64];
  if (o.delta <= 0) {
    if (o.json) w.begin_object();
    for (const auto& [name, v] : first) {
      if (!matches(name)) continue;
      if (o.json) {
        w.key(name).value(v);
      } else {
        append_printable(out, name);
        out.push_back(' ');
        out += std::to_string(v);
        out.push_back('\n');
      }
    }
    if (o.json) {
      w.end_object();
      out.push_back('\n');
    }
    return write_out(out);
  }
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  sleep_until(deadline, o.delta);
  if (auto ec = c.read_all_counters(second))
    return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
  std::map<std::string, std::int64_t> before(first.begin(), first.end());
  if (o.json) w.begin_object().key("interval_s").value(o.delta).key("counters").begin_object();
  for (const auto& [name, v] : second) {
    if (!matches(name)) continue;
    const auto it = before.find(name);
    const std::int64_t d = it == before.end() ? 0 : v - it->second;
    const double rate = static_cast<double>(d) / o.delta;
    if (o.json) {
      w.key(name).begin_object().key("value").value(v).key("delta").value(d);
      w.key("per_s").fixed(rate, 3).end_object();
    } else {
      std::snprintf(num, sizeof num, " %+lld %.2f/s\n", static_cast<long long>(d), rate);
      append_printable(out, name);
      out.push_back(' ');
      out += std::to_string(v);
      out += num;
    }
  }
  if (o.json) {
    w.end_object().end_object();
    out.push_back('\n');
  }
  return write_out(out);
}

// --- check: a Nagios/Icinga plugin -----------------------------------------------------

// The plugin's output when the hard timeout fires, written by the signal handler.
char timeout_line[128];
std::size_t timeout_line_size = 0;

extern "C" void on_check_timeout(int) {
  // Async-signal-safe: write(2) and _exit(2) only.
  const ssize_t ignored = ::write(STDOUT_FILENO, timeout_line, timeout_line_size);
  (void)ignored;
  _exit(3);
}

// Arms a one-shot SIGALRM after `seconds`: whatever is blocking (a dump, a stuck /proc
// read, entering a namespace) the plugin answers UNKNOWN in time.
void arm_check_timeout(double seconds) {
  const int n = std::snprintf(timeout_line, sizeof timeout_line,
                              "SSFAST UNKNOWN - timed out after %g s\n", seconds);
  timeout_line_size = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof timeout_line - 1) : 0;
  struct sigaction sa{};
  sa.sa_handler = on_check_timeout;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, nullptr);
  itimerval t{};
  const auto us = static_cast<long long>(seconds * 1e6);
  t.it_value.tv_sec = static_cast<time_t>(us / 1000000);
  t.it_value.tv_usec = static_cast<suseconds_t>(us % 1000000);
  setitimer(ITIMER_REAL, &t, nullptr);
}

int check_unknown(std::string_view why) {
  std::printf("SSFAST UNKNOWN - %.*s\n", static_cast<int>(why.size()), why.data());
  std::fflush(stdout);
  return 3;
}

int run_check(collector& c, const cli::options& o) {
  socket_summary sockets;
  if (auto ec = c.count(sockets, o.scope, o.method))
    return check_unknown(where(c, o) + ": " + ec.message());
  kernel_counters counters;
  const bool have_counters = !c.read_counters(counters);
  const auto metrics = serve::check_metrics(sockets, have_counters ? &counters : nullptr);
  auto [status, line] = serve::evaluate(o.warn, o.crit, metrics);
  line.push_back('\n');
  if (write_out(line) != cli::exit_ok) return 3;
  return status;
}

// --- exporter: /metrics over HTTP -------------------------------------------------------

class exporter final : public serve::connection_handler {
 public:
  exporter(collector& c, const cli::options& o) : c_(c), o_(o) {
    o_.format = cli::output_format::prometheus;
  }

  // Scrapes that were waiting together share one collection, made after all of them
  // arrived: a burst (HA Prometheus pairs, pipelined requests) costs one dump, and no answer
  // is older than its request.
  void on_round() override { fresh_ = false; }

  void on_open(std::string&, bool&) override {}

  std::size_t on_input(std::string_view in, std::string& out, bool& close_after) override {
    serve::http_request r;
    switch (serve::parse_http_request(in, r)) {
      case serve::http_parse::incomplete:
        return 0;
      case serve::http_parse::bad:
        serve::http_response(out, 400, text, "ssfast: malformed request or a request body\n",
                           false);
        close_after = true;
        return in.size();
      case serve::http_parse::complete:
        break;
    }
    close_after = !r.keep_alive;
    const bool head = r.method == "HEAD";
    if (r.method != "GET" && !head) {
      serve::http_response(out, 405, text, "ssfast: only GET and HEAD\n", r.keep_alive, false,
                         "Allow: GET, HEAD\r\n");
    } else if (serve::needs_metrics(r)) {
      scrape(out, r.keep_alive, head);
    } else if (r.target == "/") {
      serve::http_response(out, 200, text,
                         "ssfast exporter " + std::string(version()) +
                             ": socket states at /metrics\n",
                         r.keep_alive, head);
    } else {
      serve::http_response(out, 404, text, "ssfast: not found; metrics are at /metrics\n",
                         r.keep_alive, head);
    }
    return r.size;
  }

  std::string too_large() override {
    std::string out;
    serve::http_response(out, 431, text, "ssfast: request over 8 KiB\n", false);
    return out;
  }

  std::string busy() override {
    std::string out;
    serve::http_response(out, 503, text, "ssfast: too many connections\n", false, false,
                       "Retry-After: 1\r\n");
    return out;
  }

 private:
  static constexpr std::string_view text = "text/plain; charset=utf-8";

  void scrape(std::string& out, bool keep_alive, bool head) {
    ++scrapes_;
    if (!fresh_) collect();
    if (!error_.empty()) {
      serve::http_response(out, 500, text, "ssfast: " + error_ + "\n", keep_alive, head);
      return;
    }
    serve::http_response(out, 200, "text/plain; version=0.0.4; charset=utf-8", body_, keep_alive,
                       head);
  }

  void collect() {
    fresh_ = true;
    ++collections_;
    const auto start = std::chrono::steady_clock::now();
    body_.clear();
    error_.clear();
    if (render_summary(c_, o_, body_, error_)) {
      ++errors_;
      std::fprintf(stderr, "ssfast: scrape failed: %s\n", error_.c_str());
      return;
    }
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char num[64];
    std::snprintf(num, sizeof num, "%.6f", took);
    body_ +=
        "# HELP ssfast_scrape_duration_seconds How long this scrape took to collect.\n"
        "# TYPE ssfast_scrape_duration_seconds gauge\n"
        "ssfast_scrape_duration_seconds ";
    body_ += num;
    body_ +=
        "\n# HELP ssfast_exporter_scrapes_total Scrapes this exporter has answered.\n"
        "# TYPE ssfast_exporter_scrapes_total counter\n"
        "ssfast_exporter_scrapes_total " +
        std::to_string(scrapes_) +
        "\n# HELP ssfast_exporter_scrape_errors_total Scrapes that failed to collect.\n"
        "# TYPE ssfast_exporter_scrape_errors_total counter\n"
        "ssfast_exporter_scrape_errors_total " +
        std::to_string(errors_) +
        "\n# HELP ssfast_exporter_collections_total Collections made; scrapes waiting "
        "together share one.\n"
        "# TYPE ssfast_exporter_collections_total counter\n"
        "ssfast_exporter_collections_total " +
        std::to_string(collections_) + "\n";
  }

  collector& c_;
  cli::options o_;
  std::string body_, error_;
  bool fresh_ = false;  // body_ was collected in this round
  std::uint64_t scrapes_ = 0, errors_ = 0, collections_ = 0;
};

// --- agent: HAProxy agent-check -------------------------------------------------------

class agent final : public serve::connection_handler {
 public:
  agent(collector& c, const cli::options& o, socket_filter filter)
      : c_(c), o_(o), filter_(std::move(filter)) {
    query_.scope.udp = query_.scope.unix_domain = false;
    query_.states = (1u << static_cast<unsigned>(tcp_state::listen)) |
                    (1u << static_cast<unsigned>(tcp_state::established));
    query_.filter = &filter_;
    rules_.max_established = o.max_established;
    rules_.drain_queue = o.drain_queue;
    // /proc/net/tcp shows a listener's queue but not its backlog (get_tcp4_sock: tx_queue is
    // write_seq - snd_una, 0 for a listener): the queue rule cannot be judged there.
    rules_.backlog_known = c.source() == source_kind::netlink;
    if (!rules_.backlog_known)
      std::fprintf(stderr,
                   "ssfast: agent: answering from /proc, which has no listen backlog: the "
                   "accept-queue rule is off%s\n",
                   o.max_established ? "; --max-established still applies" : "");
  }

  // HAProxy connects, optionally sends its agent-send string, reads one line: the answer
  // goes out at once. A collection that fails says nothing rather than something wrong;
  // HAProxy then counts a failed agent check and leaves the server as it was.
  void on_open(std::string& out, bool& close_after) override {
    close_after = true;
    if (auto ec = c_.list(table_, query_)) {
      std::fprintf(stderr, "ssfast: agent: %s: %s\n", where(c_, o_).c_str(),
                   ec.message().c_str());
      return;
    }
    out = serve::agent_reply(serve::measure_service(table_, o_.service_port), rules_,
                           o_.service_port);
  }

  std::size_t on_input(std::string_view in, std::string&, bool&) override { return in.size(); }
  std::string too_large() override { return {}; }
  std::string busy() override { return {}; }

 private:
  collector& c_;
  const cli::options& o_;
  socket_filter filter_;
  socket_query query_;
  socket_table table_;
  serve::agent_rules rules_;
};

// --- doctor ---------------------------------------------------------------------------

constexpr int doctor_cannot = 3;  // 0, 1, 2 are the findings' worst severity

int run_doctor(collector& c, const cli::options& o) {
  doctor_options d;
  d.interval_s = o.interval;
  d.proc_root = o.proc_root;
  doctor_evidence e;
  if (auto ec = gather_doctor_evidence(c, d, e))
    return fail(doctor_cannot, where(c, o) + ": " + ec.message());
  const auto findings = diagnose(e);
  std::string out;
  const std::string_view source = to_string(c.source());
  if (o.json)
    render_findings_json(findings, e, source, out);
  else
    render_findings_text(findings, e, source, out);
  if (write_out(out) != cli::exit_ok) return doctor_cannot;
  return doctor_exit_code(findings, rules_not_run(e));
}

int run_server(collector& c, const cli::options& o) {
  serve::server_options so;
  so.listen = o.listen;
  so.max_connections = o.max_connections;
  so.timeout = o.timeout;
  if (o.cmd == cli::command::exporter) {
    exporter h(c, o);
    return serve::serve(so, h);
  }
  // The service port as a kernel-side filter: the dump carries only its sockets.
  const std::string port = ":" + std::to_string(o.service_port);
  const std::string_view words[] = {"sport", "=", port};
  auto parsed = parse_filter(words);
  if (!parsed.filter) return fail(cli::exit_failure, "agent filter: " + parsed.error);
  agent h(c, o, std::move(*parsed.filter));
  return serve::serve(so, h);
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed =
      cli::parse_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  const cli::options& o = parsed.opts;
  // A plugin speaks one line on stdout and exit 3 for anything it cannot measure, bad
  // arguments included (Nagios plugin guidelines).
  const bool check = o.cmd == cli::command::check || (argc > 1 && std::strcmp(argv[1], "check") == 0);
  const bool doctor =
      o.cmd == cli::command::doctor || (argc > 1 && std::strcmp(argv[1], "doctor") == 0);
  if (!parsed.error.empty()) {
    if (check) return check_unknown(parsed.error);
    // doctor's 2 means critical: its own usage errors are 3, "could not diagnose".
    return fail(doctor ? doctor_cannot : cli::exit_usage, parsed.error + " (see ssfast --help)");
  }
  if (check) arm_check_timeout(o.timeout);
  if (o.cmd == cli::command::help) return write_out(std::string(cli::usage()));
  if (o.cmd == cli::command::version) return write_out("ssfast " + std::string(version()) + "\n");
  if (o.cmd == cli::command::states) {
    std::string out;
    if (o.json)
      render_states_json(out);
    else
      render_states_text(out);
    return write_out(out);
  }
#if defined(SSFAST_TEST_SEAMS)
  // Test builds only: the fallback tests make netlink fail from the environment.
  if (const char* env = std::getenv(cli::fault_env)) {
    detail::netlink_fault fault;
    const std::string err = cli::parse_fault(env, fault);
    if (!err.empty())
      return check ? check_unknown(err) : fail(doctor ? doctor_cannot : cli::exit_usage, err);
    detail::inject_netlink_fault(fault);
  }
#endif
  auto c = open_collector(o);
  if (!c) {
    const std::string why =
        (o.netns.empty() ? "cannot open the sock_diag netlink socket: "
                         : "cannot watch network namespace " + o.netns + ": ") +
        c.error().message();
    return check ? check_unknown(why) : fail(doctor ? doctor_cannot : cli::exit_failure, why);
  }
  switch (o.cmd) {
    case cli::command::summary:
      if (o.watch > 0)
        return o.textfile.empty() ? run_summary_watch(*c, o) : run_textfile_watch(*c, o);
      return run_summary_once(*c, o);
    case cli::command::check:
      return run_check(*c, o);
    case cli::command::exporter:
    case cli::command::agent:
      return run_server(*c, o);
    case cli::command::doctor:
      return run_doctor(*c, o);
    case cli::command::list:
      return run_list(*c, o);
    case cli::command::top:
      return run_top(*c, o);
    case cli::command::counters:
      return run_counters(*c, o);
    case cli::command::help:
    case cli::command::version:
    case cli::command::states:
      break;  // answered before a collector was needed
  }
  return cli::exit_ok;
}
