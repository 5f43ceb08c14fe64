// Command-line parsing: ss-style short flags, GNU long options, errors that name the argument.
#include "options.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "ssfast/core/kernel_abi.h"

namespace ssfast::cli {
namespace {

constexpr std::string_view usage_text =
    "Usage: ssfast [-tuxlaH46pjeon] [FILTER]          list sockets, as ss does\n"
    "       ssfast -s [-4|-6] [-j|--format F] [--textfile PATH] [--estimate]\n"
    "                 [--watch S [--count N]]\n"
    "       ssfast top KEY [-n N] [-tuxla46pj] [--watch S [--count N]] [FILTER]\n"
    "       ssfast counters [-j] [--delta S] [PREFIX...]\n"
    "       ssfast check [--warn M=RANGE,...] [--crit M=RANGE,...] [--timeout S]\n"
    "       ssfast exporter [--listen ADDR:PORT] [--max-connections N] [--timeout S]\n"
    "       ssfast agent --service-port P [--max-established N] [--drain-queue R]\n"
    "                    [--listen ADDR:PORT] [--timeout S]\n"
    "       ssfast doctor [-j] [--interval S]\n"
    "       ssfast states [-j]\n"
    "\n"
    "Read the sockets of this network namespace from the kernel's sock_diag interface, or\n"
    "from /proc/net where netlink is missing or refused.\n"
    "\n"
    "Listing (the default; ss's flags):\n"
    "  -t, -u, -x      TCP, UDP, UNIX sockets (default: all three)\n"
    "  -l, -a          listening (and unconnected) sockets only; every state\n"
    "  -4, -6          IPv4 or IPv6 only\n"
    "  -n              numeric (always: ssfast resolves no names)\n"
    "  -H              no header line\n"
    "  -p              processes holding each socket (one scan of /proc/*/fd)\n"
    "  -e, -o          uid, inode and cookie; TCP timers\n"
    "  -j, --json      one JSON object per socket (JSON Lines)\n"
    "  FILTER          ss's: [state STATE | exclude STATE]... [EXPRESSION], where\n"
    "                  EXPRESSION combines sport/dport OP [:]PORT and src/dst ADDR[/LEN][:PORT]\n"
    "                  with and, or, not and parentheses; OP is = != < <= > >= (or eq ne lt\n"
    "                  le gt ge). STATE: established, syn-sent, syn-recv, fin-wait-1,\n"
    "                  fin-wait-2, time-wait, closed, close-wait, last-ack, listening,\n"
    "                  closing, all, connected, synchronized, bucket, big. The kernel applies\n"
    "                  it (INET_DIAG bytecode) to TCP and UDP.\n"
    "\n"
    "Summary:\n"
    "  -s, --summary   one `STATE COUNT` line per TCP state (netstat names, largest first),\n"
    "                  totals per protocol and family, then the kernel's counters\n"
    "  --estimate      dump every TCP state but ESTABLISHED and derive ESTABLISHED from\n"
    "                  /proc/net/snmp CurrEstab minus CLOSE_WAIT (labelled an estimate;\n"
    "                  counted exactly when the figures disagree)\n"
    "  --threads N     parallel TCP dumps over disjoint port slices (default: CPUs, at\n"
    "                  most 8, once the table holds 8192 TCP sockets; 1 = a single dump)\n"
    "  --format F      text, json (as -j) or prometheus (Prometheus text exposition)\n"
    "  --textfile PATH write the Prometheus text to PATH atomically (node_exporter's textfile\n"
    "                  collector); with --watch, every S seconds\n"
    "\n"
    "top: sockets per KEY, largest first, `COUNT KEY` lines (as sort | uniq -c | sort -nr)\n"
    "  KEY             raddr, laddr, lport, rport, state or process; -n N entries (20);\n"
    "                  every state unless a state filter says otherwise\n"
    "\n"
    "check: a Nagios/Icinga plugin. `SSFAST OK|WARNING|CRITICAL|UNKNOWN - text | perfdata`,\n"
    "  exit 0/1/2/3. M: established, syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait,\n"
    "  close, close_wait, last_ack, listen, closing, tcp, udp, unix, orphan, tw, tcp_inuse,\n"
    "  tcp_mem, curr_estab. RANGE as the plugin guidelines: 10 (alert outside 0..10), 10:,\n"
    "  ~:10, 10:20, @10:20 (alert inside). --timeout S: UNKNOWN after S seconds (10).\n"
    "\n"
    "exporter: serves /metrics (Prometheus text) over HTTP; loopback 127.0.0.1:9477 unless\n"
    "  --listen says otherwise (:PORT, no address: every address, as node_exporter); at most\n"
    "  N connections (64), each with S seconds (10) to send its request and take the answer;\n"
    "  request heads over 8 KiB are refused.\n"
    "\n"
    "agent: answers HAProxy's agent-check (one line per connection) for the service on port\n"
    "  P: `down` when nothing listens there, `up drain` when its accept queue passes R (0.9)\n"
    "  of its backlog or ESTABLISHED on P reaches N, else `up ready W%` with W falling as\n"
    "  ESTABLISHED on P approaches N. Loopback 127.0.0.1:9478 by default.\n"
    "\n"
    "doctor: diagnoses TIME_WAIT and ephemeral-port exhaustion, SYN floods, full accept\n"
    "  queues, CLOSE_WAIT leaks, FIN_WAIT2 and orphans, TCP memory, retransmissions and\n"
    "  tcp_tw_recycle from the sockets, counters and sysctls over --interval S (1); each\n"
    "  finding with its evidence, why, and what to do. Exit 0 none, 1 warning, 2 critical,\n"
    "  3 could not diagnose.\n"
    "states: the TCP state table: who holds each state, how it is entered and left, and\n"
    "  how long it lasts on Linux.\n"
    "\n"
    "counters: every counter of /proc/net/snmp, netstat, snmp6, sockstat{,6} as Group.Field\n"
    "  --delta S       the change over S seconds, and the rate per second\n"
    "\n"
    "Every command:\n"
    "  --watch S       -s and top: report every S seconds (--count N reports, else until\n"
    "                  interrupted); redrawn on a terminal, one line or object per report\n"
    "                  otherwise\n"
    "  -N NAME         the network namespace `ip netns` calls NAME (/run/netns/NAME)\n"
    "  --netns PATH|PID  the namespace of that file, or of that process (/proc/PID/ns/net);\n"
    "                  entering one needs CAP_SYS_ADMIN\n"
    "  --source SRC    auto (default): netlink, else /proc/net when netlink is missing or\n"
    "                  refused; netlink: netlink only; proc: /proc/net only\n"
    "  --proc-root DIR read sockets and counters from DIR/net/* (implies --source proc):\n"
    "                  a host's /proc mounted elsewhere; DIR/1 is its PID 1's namespace\n"
    "  -h, --help      this help;  -V, --version  the version\n"
    "\n"
    "Exit status: 0 success, 1 the sockets could not be read (or, exporter and agent, the\n"
    "address could not be listened on), 2 bad usage or filter. check: 0 OK, 1 WARNING,\n"
    "2 CRITICAL, 3 UNKNOWN (including bad usage and the timeout), as plugins do. doctor:\n"
    "0 no finding, 1 warnings, 2 critical, 3 could not diagnose (including bad usage).\n";

bool parse_seconds(std::string_view v, double& out) {
  // from_chars for double: strict, no locale.
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && std::isfinite(out) && out > 0 &&
         out <= 86400;
}

template <class T>
bool parse_uint(std::string_view v, T& out, T lo, T hi) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && out >= lo && out <= hi;
}

}  // namespace

std::string_view usage() noexcept { return usage_text; }

parse_result parse_args(std::span<const char* const> args) {
  parse_result r;
  options& o = r.opts;
  bool v4 = false, v6 = false, help = false, version = false, summary = false,
       proc_root_given = false, watch_given = false, count_given = false, delta_given = false,
       have_key = false, top_n_given = false, format_given = false, timeout_given = false,
       interval_given = false;
  std::string& err = r.error;
  std::vector<std::string> positional;

  // The value of an option: "--name=value", the rest of a short cluster, or the next argument.
  auto value_of = [&](std::size_t& i, std::string_view a, std::size_t eq, std::string_view name,
                      std::string_view& v) {
    if (eq != std::string_view::npos) {
      v = a.substr(eq + 1);
      return true;
    }
    if (i + 1 < args.size()) {
      v = args[++i];
      return true;
    }
    err = "option '" + std::string(name) + "' needs a value";
    return false;
  };
  // -N NAME is /run/netns/NAME; --netns takes a path, or a PID for /proc/PID/ns/net.
  auto set_netns = [&](std::string_view v, bool by_name) {
    if (!o.netns.empty()) {
      err = "only one network namespace (-N or --netns) at a time";
      return;
    }
    if (v.empty() || (by_name && v.find('/') != std::string_view::npos) || v == "." || v == "..") {
      err = by_name ? "option '-N': '" + std::string(v) + "' is not a namespace name"
                    : "option '--netns' needs a path or a PID";
      return;
    }
    unsigned pid = 0;
    if (by_name) {
      o.netns = "/run/netns/" + std::string(v);
    } else if (parse_uint<unsigned>(v, pid, 1, 4194304)) {
      o.netns = "/proc/" + std::to_string(pid) + "/ns/net";
    } else {
      o.netns = std::string(v);
    }
  };
  auto top_count = [&](std::string_view v) {
    if (!parse_uint<std::size_t>(v, o.top_n, 1, 1000000)) {
      err = "option '-n': '" + std::string(v) + "' is not a number from 1 to 1000000";
      return false;
    }
    top_n_given = true;
    return true;
  };

  for (std::size_t i = 0; i < args.size() && err.empty(); ++i) {
    const std::string_view a = args[i];
    if (a.starts_with("--")) {
      const std::size_t eq = a.find('=');
      const std::string_view name = a.substr(0, eq);
      std::string_view v;
      if (name == "--source") {
        if (!value_of(i, a, eq, name, v)) break;
        if (v == "auto")
          o.source = source_choice::automatic;
        else if (v == "netlink")
          o.source = source_choice::netlink;
        else if (v == "proc")
          o.source = source_choice::proc;
        else
          err = "option '--source': unknown value '" + std::string(v) + "' (auto, netlink or proc)";
      } else if (name == "--proc-root") {
        if (!value_of(i, a, eq, name, v)) break;
        if (v.empty()) err = "option '--proc-root' needs a directory";
        o.proc_root = std::string(v);
        proc_root_given = true;
      } else if (name == "--format") {
        if (!value_of(i, a, eq, name, v)) break;
        if (v == "text")
          o.format = output_format::text;
        else if (v == "json")
          o.format = output_format::json;
        else if (v == "prometheus")
          o.format = output_format::prometheus;
        else
          err = "option '--format': unknown value '" + std::string(v) +
                "' (text, json or prometheus)";
        format_given = true;
      } else if (name == "--textfile") {
        if (!value_of(i, a, eq, name, v)) break;
        if (v.empty()) err = "option '--textfile' needs a path";
        o.textfile = std::string(v);
      } else if (name == "--warn" || name == "--crit") {
        if (!value_of(i, a, eq, name, v)) break;
        if (auto e = serve::parse_thresholds(v, name == "--warn" ? o.warn : o.crit); !e.empty())
          err = "option '" + std::string(name) + "': " + e;
      } else if (name == "--timeout") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_seconds(v, o.timeout))
          err = "option '--timeout': '" + std::string(v) +
                "' is not a number of seconds (0 < S <= 86400)";
        timeout_given = true;
      } else if (name == "--listen") {
        if (!value_of(i, a, eq, name, v)) break;
        if (v.empty() || v.rfind(':') == std::string_view::npos)
          err = "option '--listen': '" + std::string(v) + "' is not ADDR:PORT";
        o.listen = std::string(v);
      } else if (name == "--max-connections") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_uint<std::size_t>(v, o.max_connections, 1, 10000))
          err = "option '--max-connections': '" + std::string(v) +
                "' is not a number from 1 to 10000";
      } else if (name == "--service-port") {
        if (!value_of(i, a, eq, name, v)) break;
        if (v.starts_with(':')) v.remove_prefix(1);
        if (!parse_uint<std::uint16_t>(v, o.service_port, 1, 65535))
          err = "option '--service-port': '" + std::string(v) + "' is not a port (1..65535)";
      } else if (name == "--max-established") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_uint<std::uint64_t>(v, o.max_established, 1, UINT64_MAX))
          err = "option '--max-established': '" + std::string(v) + "' is not a positive number";
      } else if (name == "--drain-queue") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_seconds(v, o.drain_queue) || o.drain_queue > 1)
          err = "option '--drain-queue': '" + std::string(v) +
                "' is not a share of the backlog (0 < R <= 1)";
      } else if (name == "--netns") {
        if (!value_of(i, a, eq, name, v)) break;
        set_netns(v, false);
      } else if (name == "--threads") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_uint<unsigned>(v, o.threads, 1, 16))
          err = "option '--threads': '" + std::string(v) + "' is not a number from 1 to 16";
      } else if (name == "--watch") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_seconds(v, o.watch))
          err = "option '--watch': '" + std::string(v) +
                "' is not a number of seconds (0 < S <= 86400)";
        watch_given = true;
      } else if (name == "--count") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_uint<std::uint64_t>(v, o.count, 1, UINT64_MAX))
          err = "option '--count': '" + std::string(v) + "' is not a positive number";
        count_given = true;
      } else if (name == "--interval") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_seconds(v, o.interval) || o.interval > 60)
          err = "option '--interval': '" + std::string(v) +
                "' is not a number of seconds (0 < S <= 60)";
        interval_given = true;
      } else if (name == "--delta") {
        if (!value_of(i, a, eq, name, v)) break;
        if (!parse_seconds(v, o.delta))
          err = "option '--delta': '" + std::string(v) +
                "' is not a number of seconds (0 < S <= 86400)";
        delta_given = true;
      } else if (eq != std::string_view::npos) {
        err = "option '" + std::string(name) + "' takes no value";
      } else if (a == "--summary")
        summary = true;
      else if (a == "--json")
        o.json = true;
      else if (a == "--ipv4")
        v4 = true;
      else if (a == "--ipv6")
        v6 = true;
      else if (a == "--tcp")
        o.tcp = true;
      else if (a == "--udp")
        o.udp = true;
      else if (a == "--unix")
        o.unix_domain = true;
      else if (a == "--listening")
        o.listening = true;
      else if (a == "--all")
        o.all = true;
      else if (a == "--numeric") {
      } else if (a == "--no-header")
        o.no_header = true;
      else if (a == "--processes")
        o.processes = true;
      else if (a == "--extended")
        o.extended = true;
      else if (a == "--options")
        o.timers = true;
      else if (a == "--estimate")
        o.method = count_method::estimate;
      else if (a == "--help")
        help = true;
      else if (a == "--version")
        version = true;
      else
        err = "unknown option '" + std::string(a) + "'";
    } else if (a.size() > 1 && a[0] == '-') {
      for (std::size_t k = 1; k < a.size() && err.empty(); ++k) {
        switch (a[k]) {
          case 's':
            summary = true;
            break;
          case '4':
            v4 = true;
            break;
          case '6':
            v6 = true;
            break;
          case 'j':
            o.json = true;
            break;
          case 't':
            o.tcp = true;
            break;
          case 'u':
            o.udp = true;
            break;
          case 'x':
            o.unix_domain = true;
            break;
          case 'l':
            o.listening = true;
            break;
          case 'a':
            o.all = true;
            break;
          case 'H':
            o.no_header = true;
            break;
          case 'p':
            o.processes = true;
            break;
          case 'e':
            o.extended = true;
            break;
          case 'o':
            o.timers = true;
            break;
          case 'h':
            help = true;
            break;
          case 'V':
            version = true;
            break;
          case 'N': {
            // -N NAME: a namespace `ip netns add` made; the value is the rest or the next word.
            std::string_view v = a.substr(k + 1);
            if (v.empty()) {
              if (i + 1 >= args.size()) {
                err = "option '-N' needs a namespace name";
                break;
              }
              v = args[++i];
            }
            set_netns(v, true);
            k = a.size();
            break;
          }
          case 'n':
            // ss's -n (numeric) everywhere but in top, where -n N is the number of entries.
            if (o.cmd == command::top) {
              std::string_view v = a.substr(k + 1);
              if (v.empty()) {
                if (i + 1 >= args.size()) {
                  err = "option '-n' needs a value";
                  break;
                }
                v = args[++i];
              }
              top_count(v);
              k = a.size();
            }
            break;
          default:
            err = "unknown option '-" + std::string(1, a[k]) + "'";
            if (a.size() > 2) err += " in '" + std::string(a) + "'";
        }
      }
    } else if (positional.empty() && !summary && o.cmd == command::list &&
               (a == "top" || a == "counters" || a == "check" || a == "exporter" ||
                a == "agent" || a == "doctor" || a == "states")) {
      o.cmd = a == "top"        ? command::top
              : a == "counters" ? command::counters
              : a == "check"    ? command::check
              : a == "exporter" ? command::exporter
              : a == "agent"    ? command::agent
              : a == "doctor"   ? command::doctor
                                : command::states;
    } else if (o.cmd == command::top && !have_key) {
      if (!parse_top_key(a, o.key))
        err = "top: unknown key '" + std::string(a) +
              "' (raddr, laddr, lport, rport, state or process)";
      have_key = true;
    } else {
      positional.emplace_back(a);
    }
  }
  if (!err.empty()) return r;

  if (help) {
    o.cmd = command::help;
    return r;
  }
  if (version) {
    o.cmd = command::version;
    return r;
  }
  if (summary) {
    if (o.cmd != command::list) {
      err = "-s cannot go with '" + std::string(command_name(o.cmd)) + "'";
      return r;
    }
    o.cmd = command::summary;
    if (!positional.empty()) {
      err = "-s takes no filter (found '" + positional.front() + "')";
      return r;
    }
    for (auto [given, flag] : {std::pair{o.listening, "-l"}, {o.all, "-a"}, {o.processes, "-p"}}) {
      if (given) {
        err = "option '" + std::string(flag) + "' is for listings and top, not -s";
        return r;
      }
    }
  }
  // What each command takes.
  const bool server = o.cmd == command::exporter || o.cmd == command::agent;
  if (o.cmd != command::list && o.cmd != command::top && o.cmd != command::summary) {
    for (auto [given, flag] : {std::pair{o.listening, "-l"},
                               {o.all, "-a"},
                               {o.processes, "-p"},
                               {o.extended, "-e"},
                               {o.timers, "-o"},
                               {o.no_header, "-H"}}) {
      if (given) {
        err = "option '" + std::string(flag) + "' is for listings and top, not " +
              std::string(command_name(o.cmd));
        return r;
      }
    }
  }
  if (o.cmd == command::doctor || o.cmd == command::states) {
    for (auto [given, flag] : {std::pair{o.tcp, "-t"},
                               {o.udp, "-u"},
                               {o.unix_domain, "-x"},
                               {v4, "-4"},
                               {v6, "-6"},
                               {o.method == count_method::estimate, "--estimate"},
                               {watch_given, "--watch"}}) {
      if (given) {
        err = "option '" + std::string(flag) + "' does not apply to " +
              std::string(command_name(o.cmd));
        return r;
      }
    }
    if (!positional.empty()) {
      err = "unexpected argument '" + positional.front() + "'";
      return r;
    }
  }
  if (interval_given && o.cmd != command::doctor) {
    err = "option '--interval' is for doctor";
    return r;
  }
  if (!o.textfile.empty()) {
    if (o.cmd != command::summary) {
      err = "option '--textfile' is for -s";
      return r;
    }
    o.format = output_format::prometheus;
  }
  if (o.format == output_format::prometheus && o.cmd != command::summary) {
    err = "--format prometheus is for -s (the exporter serves it over HTTP)";
    return r;
  }
  if ((format_given || o.json) && (server || o.cmd == command::check)) {
    err = std::string(format_given ? "option '--format'" : "option '-j'") +
          " does not apply to " +
          (o.cmd == command::agent      ? "agent (HAProxy reads one line)"
           : o.cmd == command::exporter ? "exporter (it serves Prometheus text)"
                                        : "check (plugins print one line)");
    return r;
  }
  if (o.json && o.format == output_format::prometheus) {
    err = "options '-j' and '--format prometheus' ask for different outputs";
    return r;
  }
  if (o.format == output_format::json) o.json = true;
  if (o.json) o.format = output_format::json;
  if ((!o.warn.empty() || !o.crit.empty()) && o.cmd != command::check) {
    err = "options '--warn' and '--crit' are for check";
    return r;
  }
  if (timeout_given && o.cmd != command::check && !server) {
    err = "option '--timeout' is for check, exporter and agent";
    return r;
  }
  if (!o.listen.empty() && !server) {
    err = "option '--listen' is for exporter and agent";
    return r;
  }
  if (o.cmd == command::agent && o.service_port == 0) {
    err = "agent needs --service-port PORT: the port of the service it speaks for";
    return r;
  }
  if ((o.service_port != 0 || o.max_established != 0) && o.cmd != command::agent) {
    err = "options '--service-port' and '--max-established' are for agent";
    return r;
  }
  if (o.listen.empty()) o.listen = o.cmd == command::agent ? "127.0.0.1:9478" : "127.0.0.1:9477";
  if (server || o.cmd == command::check) {
    if (!positional.empty()) {
      err = "unexpected argument '" + positional.front() + "'";
      return r;
    }
  }
  if (o.cmd == command::top && !have_key) {
    err = "top needs a key: raddr, laddr, lport, rport, state or process";
    return r;
  }
  if (top_n_given && o.cmd != command::top) {
    err = "option '-n N' is for top";
    return r;
  }
  if (o.cmd == command::counters) {
    o.prefixes = std::move(positional);
    positional.clear();
  } else if (delta_given) {
    err = "option '--delta' is for counters";
    return r;
  }
  o.filter = std::move(positional);
  if (o.method == count_method::estimate && o.cmd != command::summary &&
      o.cmd != command::check && o.cmd != command::exporter) {
    err = "option '--estimate' is for -s, check and exporter";
    return r;
  }
  if (watch_given && o.format == output_format::prometheus && o.textfile.empty()) {
    err = "--watch with --format prometheus needs --textfile PATH to rewrite";
    return r;
  }
  if (watch_given && o.cmd != command::summary && o.cmd != command::top) {
    err = "option '--watch' is for -s and top";
    return r;
  }
  if (count_given && !watch_given) {
    err = "option '--count' goes with --watch";
    return r;
  }
  // A /proc named on the command line is where the answer must come from: netlink would
  // describe this process's own network namespace instead.
  if (proc_root_given) {
    if (o.source == source_choice::netlink) {
      err = "option '--proc-root' reads sockets from DIR/net: it cannot go with --source netlink";
      return r;
    }
    o.source = source_choice::proc;
  }
  if (o.method == count_method::estimate && v4 != v6) {
    err =
        "option '--estimate' uses CurrEstab, which counts IPv4 and IPv6 together: it cannot "
        "go with -4 or -6";
    return r;
  }
  // -4 and -6 narrow TCP and UDP; both, or neither, mean both families.
  if (v4 != v6) {
    o.scope.ipv4 = v4;
    o.scope.ipv6 = v6;
  }
  // -t, -u, -x choose protocols; none means all three.
  if (o.tcp || o.udp || o.unix_domain) {
    o.scope.tcp = o.tcp;
    o.scope.udp = o.udp;
    o.scope.unix_domain = o.unix_domain;
  }
  // A family restriction leaves no room for UNIX sockets in a listing unless asked (ss -4).
  if ((o.cmd == command::list || o.cmd == command::top) && v4 != v6 && !o.unix_domain)
    o.scope.unix_domain = false;
  return r;
}

std::string_view command_name(command c) noexcept {
  switch (c) {
    case command::list:
      return "listing";
    case command::summary:
      return "-s";
    case command::top:
      return "top";
    case command::counters:
      return "counters";
    case command::check:
      return "check";
    case command::exporter:
      return "exporter";
    case command::agent:
      return "agent";
    case command::doctor:
      return "doctor";
    case command::states:
      return "states";
    case command::help:
      return "--help";
    case command::version:
      return "--version";
  }
  return "?";
}

std::uint32_t listing_states(const options& o, const socket_filter& f) noexcept {
  constexpr std::uint32_t all = abi::tcp_all_states;
  constexpr auto bit = [](tcp_state s) { return 1u << static_cast<unsigned>(s); };
  if (f.states) return *f.states;
  if (o.all || o.cmd == command::top) return all;
  if (o.listening) return bit(tcp_state::listen) | bit(tcp_state::close);
  // iproute2 ss.c: one mask for every protocol listed. -t and -u add their table's default
  // (filter_db_set: TCP SS_CONN, UDP ESTABLISHED); -x, -4 and -6 add their family's
  // (filter_af_set: SS_CONN). With none of them, connected sockets of every table: plain
  // `ss` (iproute2 6.1) shows no unconnected UDP or UNIX datagram socket.
  const std::uint32_t conn = all & ~(bit(tcp_state::listen) | bit(tcp_state::close) |
                                     bit(tcp_state::time_wait) | bit(tcp_state::syn_recv));
  if (!o.tcp && !o.udp && !o.unix_domain) return conn;
  std::uint32_t s = 0;
  if (o.tcp || o.unix_domain) s |= conn;
  if (o.udp) s |= bit(tcp_state::established);
  return s;
}

#if defined(SSFAST_TEST_SEAMS)
std::string parse_fault(std::string_view value, detail::netlink_fault& out) {
  static constexpr std::pair<std::string_view, int> names[] = {{"EPROTONOSUPPORT", EPROTONOSUPPORT},
                                                               {"EAFNOSUPPORT", EAFNOSUPPORT},
                                                               {"EACCES", EACCES},
                                                               {"EPERM", EPERM},
                                                               {"ENOENT", ENOENT},
                                                               {"EOPNOTSUPP", EOPNOTSUPP},
                                                               {"EINVAL", EINVAL},
                                                               {"ENOBUFS", ENOBUFS}};
  const std::size_t colon = value.find(':');
  const std::string_view where = value.substr(0, colon);
  const std::string_view err =
      colon == std::string_view::npos ? std::string_view{} : value.substr(colon + 1);
  const std::string bad =
      std::string(fault_env) + "='" + std::string(value) +
      "': expected open:ERRNO, dump:ERRNO or dump:hang";
  if (where != "open" && where != "dump") return bad;
  out.at_dump = where == "dump";
  out.error = 0;
  out.hang = where == "dump" && err == "hang";
  if (out.hang) return {};
  for (const auto& [n, e] : names)
    if (err == n) out.error = e;
  if (out.error == 0) {
    int v = 0;
    auto [p, ec] = std::from_chars(err.data(), err.data() + err.size(), v);
    if (ec != std::errc{} || p != err.data() + err.size() || v <= 0 || v > 4095) return bad;
    out.error = v;
  }
  return {};
}

#endif

}  // namespace ssfast::cli
