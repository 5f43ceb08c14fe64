// Command-line parsing: ss-style short flags, GNU long options, errors that name the argument.
#include "options.h"

namespace ssfast::cli {
namespace {

constexpr std::string_view usage_text =
    "Usage: ssfast -s [-4|-6] [-j]\n"
    "\n"
    "Summarize the sockets of this network namespace from the kernel's sock_diag interface.\n"
    "\n"
    "  -s, --summary   socket counts: one `STATE COUNT` line per TCP state (netstat names,\n"
    "                  largest first), totals per protocol and family, then the kernel's\n"
    "                  counters from /proc/net/sockstat, sockstat6 and snmp\n"
    "  -4, --ipv4      TCP and UDP over IPv4 only\n"
    "  -6, --ipv6      TCP and UDP over IPv6 only\n"
    "  -j, --json      one JSON object instead of text\n"
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

parse_result parse_args(std::span<const char* const> args) {
  parse_result r;
  options& o = r.opts;
  family_flags fam;
  bool help = false, version = false;
  for (const char* raw : args) {
    const std::string_view a = raw;
    if (a.starts_with("--")) {
      if (a == "--summary")
        o.cmd = command::summary;
      else if (a == "--ipv4")
        fam.v4 = true;
      else if (a == "--ipv6")
        fam.v6 = true;
      else if (a == "--json")
        o.json = true;
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
  // -4 and -6 narrow TCP and UDP; both, or neither, mean both families.
  if (fam.v4 != fam.v6) {
    o.scope.ipv4 = fam.v4;
    o.scope.ipv6 = fam.v6;
  }
  return r;
}

}  // namespace ssfast::cli
