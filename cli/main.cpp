// The ssfast binary: parses the command line, runs the command, maps errors to exit codes.
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "options.h"
#include "ssfast/core/filter.h"
#include "ssfast/core/listing.h"
#include "ssfast/core/render.h"
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

result<collector> open_collector(const cli::options& o, const netlink_fault& fault) {
  collector_options co;
  co.source = o.source;
  co.proc_root = o.proc_root;
  co.inject_netlink_failure = fault;
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

int run_summary_once(collector& c, const cli::options& o) {
  socket_summary sockets;
  if (auto ec = c.count(sockets, o.scope, o.method))
    return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
  kernel_counters counters;
  std::string counters_error;
  const std::error_code counters_ec = c.read_counters(counters);
  // Counters are context, not the answer: report them missing, keep the exit status.
  if (counters_ec) counters_error = where(c, o) + ": " + counters_ec.message();
  const std::string fallback = fallback_text(c);
  const summary_report report{sockets, to_string(c.source()), fallback,
                              counters_ec ? nullptr : &counters, counters_error};
  std::string out;
  if (o.json) {
    render_summary_json(report, out);
  } else {
    render_summary_text(report, out);
  }
  return write_out(out);
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
    auto signed_delta = [](std::int64_t d) { return (d >= 0 ? "+" : "") + std::to_string(d); };
    auto rate = [&](std::string_view name) -> std::optional<double> {
      auto x = counters.find(std::string(name)), y = prev_counters.find(std::string(name));
      if (x == counters.end() || y == prev_counters.end()) return std::nullopt;
      return static_cast<double>(x->second - y->second) / o.watch;
    };
    char num[64];
    if (o.json) {
      out = "{\"time\":\"" + utc_now() + "\",\"interval_s\":";
      std::snprintf(num, sizeof num, "%g", o.watch);
      out += num;
      out += ",\"source\":\"" + std::string(to_string(c.source())) + "\",\"tcp\":{";
      bool first = true;
      for (tcp_state s : netstat_states) {
        out += first ? "" : ",";
        first = false;
        out += "\"" + std::string(netstat_name(static_cast<std::uint8_t>(s))) +
               "\":{\"count\":" + std::to_string(b.netstat_count(s)) + ",\"change\":" +
               std::to_string(static_cast<std::int64_t>(b.netstat_count(s) - a.netstat_count(s))) +
               "}";
      }
      out += "},\"udp\":" + std::to_string(now.udp_all().total()) +
             ",\"unix\":" + std::to_string(now.unix_domain.total()) + ",\"rates_per_s\":{";
      first = true;
      for (std::string_view name : rate_counters) {
        const auto r = rate(name);
        out += first ? "" : ",";
        first = false;
        out += "\"" + std::string(name) + "\":";
        if (r) {
          std::snprintf(num, sizeof num, "%.2f", *r);
          out += num;
        } else {
          out += "null";
        }
      }
      out += "}}\n";
    } else if (tty) {
      out = "\033[H\033[2J";  // home and clear: a redrawn table
      out += "ssfast -s, every " + std::to_string(o.watch).substr(0, 5) + " s, " + utc_now() +
             ", report " + std::to_string(report) + "\n\n";
      std::snprintf(num, sizeof num, "%-12s %12s %10s\n", "STATE", "COUNT", "CHANGE");
      out += num;
      for (tcp_state s : netstat_states) {
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
        const auto n = b.netstat_count(s);
        out += " " + std::string(netstat_name(static_cast<std::uint8_t>(s))) + "=" +
               std::to_string(n) + "(" +
               signed_delta(static_cast<std::int64_t>(n - a.netstat_count(s))) + ")";
      }
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

// Parses the filter words; a syntax error is a usage error naming the token.
bool build_query(const cli::options& o, socket_filter& f, socket_query& q, std::string& err) {
  std::vector<std::string_view> words(o.filter.begin(), o.filter.end());
  auto parsed = parse_filter(words);
  if (!parsed.filter) {
    err = parsed.error;
    return false;
  }
  f = std::move(*parsed.filter);
  q.scope = o.scope;
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
  if (auto ec = c.list(t, q)) return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
  listing_style style;
  style.header = !o.no_header;
  // ss shows Netid when several kinds of socket can appear, State when several states can.
  style.netid = (o.scope.tcp + o.scope.udp + o.scope.unix_domain > 1) || o.scope.unix_domain;
  style.state = (q.states & (q.states - 1)) != 0;
  style.extended = o.extended;
  style.timers = o.timers;
  style.owners = o.processes ? &owners : nullptr;
  std::string out;
  if (o.json) {
    render_listing_json(t, style, out);
    return write_out(out);
  }
  render_listing_text(t, style, out);
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
    out += "{\"time\":\"" + utc_now() + "\",\"entries\":[";
    for (std::size_t i = 0; i < entries.size(); ++i) {
      out += i ? ",{" : "{";
      out +=
          "\"count\":" + std::to_string(entries[i].count) + ",\"key\":\"" + entries[i].key + "\"}";
    }
    out += "]}\n";
    return;
  }
  if (one_line) {
    out += utc_now();
    for (const top_entry& e : entries) out += " " + std::to_string(e.count) + ":" + e.key;
    out.push_back('\n');
    return;
  }
  for (const top_entry& e : entries) {
    // The shape of `uniq -c`: the count right-aligned in 7 columns, a space, the key.
    std::snprintf(num, sizeof num, "%7llu ", static_cast<unsigned long long>(e.count));
    out += num;
    out += e.key;
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
    if (auto ec = c.list(t, q)) return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
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
  std::string out;
  char num[64];
  if (o.delta <= 0) {
    if (o.json) out += "{";
    bool any = false;
    for (const auto& [name, v] : first) {
      if (!matches(name)) continue;
      if (o.json) {
        out += (any ? ",\"" : "\"") + name + "\":" + std::to_string(v);
      } else {
        out += name + " " + std::to_string(v) + "\n";
      }
      any = true;
    }
    if (o.json) out += "}\n";
    return write_out(out);
  }
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  sleep_until(deadline, o.delta);
  if (auto ec = c.read_all_counters(second))
    return fail(cli::exit_failure, where(c, o) + ": " + ec.message());
  std::map<std::string, std::int64_t> before(first.begin(), first.end());
  if (o.json) {
    std::snprintf(num, sizeof num, "%g", o.delta);
    out += std::string("{\"interval_s\":") + num + ",\"counters\":{";
  }
  bool any = false;
  for (const auto& [name, v] : second) {
    if (!matches(name)) continue;
    const auto it = before.find(name);
    const std::int64_t d = it == before.end() ? 0 : v - it->second;
    const double rate = static_cast<double>(d) / o.delta;
    if (o.json) {
      std::snprintf(num, sizeof num, "%.3f", rate);
      out += (any ? ",\"" : "\"") + name + "\":{\"value\":" + std::to_string(v) +
             ",\"delta\":" + std::to_string(d) + ",\"per_s\":" + num + "}";
    } else {
      std::snprintf(num, sizeof num, " %+lld %.2f/s\n", static_cast<long long>(d), rate);
      out += name + " " + std::to_string(v) + num;
    }
    any = true;
  }
  if (o.json) out += "}}\n";
  return write_out(out);
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed =
      cli::parse_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!parsed.error.empty()) return fail(cli::exit_usage, parsed.error + " (see ssfast --help)");
  const cli::options& o = parsed.opts;
  if (o.cmd == cli::command::help) return write_out(std::string(cli::usage()));
  if (o.cmd == cli::command::version) return write_out("ssfast " + std::string(version()) + "\n");
  netlink_fault fault;
  if (const char* env = std::getenv(cli::fault_env)) {
    const std::string err = cli::parse_fault(env, fault);
    if (!err.empty()) return fail(cli::exit_usage, err);
  }
  auto c = open_collector(o, fault);
  if (!c) {
    if (!o.netns.empty())
      return fail(cli::exit_failure,
                  "cannot watch network namespace " + o.netns + ": " + c.error().message());
    return fail(cli::exit_failure,
                "cannot open the sock_diag netlink socket: " + c.error().message());
  }
  switch (o.cmd) {
    case cli::command::summary:
      return o.watch > 0 ? run_summary_watch(*c, o) : run_summary_once(*c, o);
    case cli::command::list:
      return run_list(*c, o);
    case cli::command::top:
      return run_top(*c, o);
    case cli::command::counters:
      return run_counters(*c, o);
    case cli::command::help:
    case cli::command::version:
      break;
  }
  return cli::exit_ok;
}
