// Command-line parsing: ss-style short flags, GNU long options, errors that name the argument.
#include "options.h"

#include <cerrno>
#include <charconv>

namespace ssfast::cli {
namespace {

constexpr std::string_view usage_text =
    "Usage: ssfast -s [-4|-6] [-j] [--estimate] [--threads N] [--source auto|netlink|proc]\n"
    "                [--proc-root DIR]\n"
    "\n"
    "Summarize the sockets of this network namespace from the kernel's sock_diag interface,\n"
    "or from /proc/net where netlink is missing or refused.\n"
    "\n"
    "  -s, --summary   socket counts: one `STATE COUNT` line per TCP state (netstat names,\n"
    "                  largest first), totals per protocol and family, then the kernel's\n"
    "                  counters from /proc/net/sockstat, sockstat6 and snmp\n"
    "  -4, --ipv4      TCP and UDP over IPv4 only\n"
    "  -6, --ipv6      TCP and UDP over IPv6 only\n"
    "  -j, --json      one JSON object instead of text\n"
    "  --estimate      dump every TCP state but ESTABLISHED, and derive ESTABLISHED from\n"
    "                  /proc/net/snmp CurrEstab minus CLOSE_WAIT (labelled an estimate;\n"
    "                  counted exactly when the figures disagree)\n"
    "  --threads N     parallel TCP dumps over disjoint port slices (default: CPUs, at\n"
    "                  most 8; 1 = a single dump)\n"
    "  --source SRC    auto (default): netlink, else /proc/net when netlink is missing or\n"
    "                  refused; netlink: netlink only; proc: /proc/net only\n"
    "  --proc-root DIR read sockets and counters from DIR/net/* (implies --source proc):\n"
    "                  a host's /proc mounted elsewhere; DIR/1 is its PID 1's namespace\n"
    "  -h, --help      this help\n"
    "  -V, --version   the version\n"
    "\n"
    "Exit status: 0 success, 1 the sockets could not be read, 2 bad usage.\n";

struct family_flags {
  bool v4 = false, v6 = false;
};

// Applies one short flag; returns false if unknown.
bool apply_short(char c, options& o, family_flags& fam) {
  switch (c) {
    case 's':
      o.cmd = command::summary;
      return true;
    case '4':
      fam.v4 = true;
      return true;
    case '6':
      fam.v6 = true;
      return true;
    case 'j':
      o.json = true;
      return true;
    case 'h':
      o.cmd = command::help;
      return true;
    case 'V':
      o.cmd = command::version;
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view usage() noexcept { return usage_text; }

std::string parse_fault(std::string_view value, netlink_fault& out) {
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
      std::string(fault_env) + "='" + std::string(value) + "': expected open:ERRNO or dump:ERRNO";
  if (where != "open" && where != "dump") return bad;
  out.at_dump = where == "dump";
  out.error = 0;
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

parse_result parse_args(std::span<const char* const> args) {
  parse_result r;
  options& o = r.opts;
  family_flags fam;
  bool help = false, version = false, proc_root_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    // Options with a value: --name VALUE or --name=VALUE.
    const std::string_view name = a.substr(0, a.find('='));
    if (name == "--source" || name == "--proc-root" || name == "--threads") {
      std::string_view value;
      if (name.size() < a.size()) {
        value = a.substr(name.size() + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        r.error = "option '" + std::string(name) + "' needs a value";
        return r;
      }
      if (name == "--source") {
        if (value == "auto") {
          o.source = source_choice::automatic;
        } else if (value == "netlink") {
          o.source = source_choice::netlink;
        } else if (value == "proc") {
          o.source = source_choice::proc;
        } else {
          r.error = "option '--source': unknown value '" + std::string(value) +
                    "' (auto, netlink or proc)";
          return r;
        }
      } else if (name == "--threads") {
        unsigned n = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc{} || p != value.data() + value.size() || n < 1 || n > 16) {
          r.error = "option '--threads': '" + std::string(value) + "' is not a number from 1 to 16";
          return r;
        }
        o.threads = n;
      } else if (value.empty()) {
        r.error = "option '--proc-root' needs a directory";
        return r;
      } else {
        o.proc_root = std::string(value);
        proc_root_given = true;
      }
      continue;
    }
    if (a.starts_with("--")) {
      if (a == "--summary")
        o.cmd = command::summary;
      else if (a == "--ipv4")
        fam.v4 = true;
      else if (a == "--ipv6")
        fam.v6 = true;
      else if (a == "--json")
        o.json = true;
      else if (a == "--estimate")
        o.method = count_method::estimate;
      else if (a == "--help")
        help = true;
      else if (a == "--version")
        version = true;
      else if (a.find('=') != std::string_view::npos)
        r.error = "option '" + std::string(a.substr(0, a.find('='))) + "' takes no value";
      else
        r.error = "unknown option '" + std::string(a) + "'";
    } else if (a.size() > 1 && a[0] == '-') {
      for (char c : a.substr(1)) {
        command before = o.cmd;
        if (!apply_short(c, o, fam)) {
          r.error = "unknown option '-" + std::string(1, c) + "'";
          if (a.size() > 2) r.error += " in '" + std::string(a) + "'";
          break;
        }
        // -h and -V are requests of their own, not commands that replace -s.
        if (o.cmd == command::help) {
          help = true;
          o.cmd = before;
        }
        if (o.cmd == command::version) {
          version = true;
          o.cmd = before;
        }
      }
    } else {
      r.error = "unexpected argument '" + std::string(a) + "'";
    }
    if (!r.error.empty()) return r;
  }
  if (help) {
    o.cmd = command::help;
  } else if (version) {
    o.cmd = command::version;
  } else if (o.cmd == command::none) {
    r.error = "nothing to do: give -s for the socket summary";
    return r;
  }
  // A /proc named on the command line is where the answer must come from: netlink would
  // describe this process's own network namespace instead.
  if (proc_root_given) {
    if (o.source == source_choice::netlink) {
      r.error =
          "option '--proc-root' reads sockets from DIR/net: it cannot go with --source netlink";
      return r;
    }
    o.source = source_choice::proc;
  }
  if (o.method == count_method::estimate && fam.v4 != fam.v6) {
    r.error =
        "option '--estimate' uses CurrEstab, which counts IPv4 and IPv6 together: it "
        "cannot go with -4 or -6";
    return r;
  }
  // -4 and -6 narrow TCP and UDP; both, or neither, mean both families.
  if (fam.v4 != fam.v6) {
    o.scope.ipv4 = fam.v4;
    o.scope.ipv6 = fam.v6;
  }
  return r;
}

}  // namespace ssfast::cli
