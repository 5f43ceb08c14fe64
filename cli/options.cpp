// SPDX-License-Identifier: Apache-2.0
// Command-line parsing: ss-style short flags, GNU long options, one table of options that says
// which commands take each, and errors that name the argument.
#include "options.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <sstream>
#include <utility>

#include "option_table.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast::cli {
namespace {

using namespace table_detail;
using abi::af_inet;
using abi::af_inet6;
using abi::af_netlink;
using abi::af_packet;
using abi::af_unix;

bool parse_seconds(std::string_view v, double& out, double most = 86400) {
  // from_chars for double: strict, no locale.
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && std::isfinite(out) && out > 0 &&
         out <= most;
}

template <class T>
bool parse_uint(std::string_view v, T& out, T lo, T hi) {
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && out >= lo && out <= hi;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

class parser {
 public:
  parser(std::span<const char* const> args, parse_result& r)
      : args_(args), o_(r.opts), err_(r.error) {}

  void run() {
    for (i_ = 0; i_ < args_.size() && err_.empty(); ++i_) argument(args_[i_]);
    // After an error, the command word still decides how the error is reported.
    for (; i_ < args_.size() && o_.cmd == command::list && positional_.empty(); ++i_)
      if (auto c = find_command(args_[i_])) o_.cmd = *c;
    if (err_.empty()) finish();
  }

 private:
  void argument(std::string_view a) {
    if (rest_are_words_ || a == "-" || !a.starts_with('-')) return word(a);
    if (a == "--") {
      rest_are_words_ = true;
      return;
    }
    if (a.starts_with("--")) return long_option(a);
    for (std::size_t k = 1; k < a.size() && err_.empty(); ++k) {
      const option_spec* s = nullptr;
      // A letter two options share (-f) is the one of the command being parsed.
      for (const auto& t : table)
        if (t.short_name == a[k] && (s == nullptr || (t.commands & on(o_.cmd)) != 0)) s = &t;
      if (s == nullptr) {
        err_ = "unknown option '-" + std::string(1, a[k]) + "'";
        if (a.size() > 2) err_ += " in " + quoted(a);
        return;
      }
      const std::string spelled = "-" + std::string(1, a[k]);
      if (!s->takes_value) {
        take(*s, spelled, {});
        continue;
      }
      // The value is the rest of the cluster (-Nblue) or the next argument.
      std::string_view v = a.substr(k + 1);
      if (v.empty() && !next_value(spelled, v)) return;
      take(*s, spelled, v);
      return;
    }
  }

  void long_option(std::string_view a) {
    const std::size_t eq = a.find('=');
    const std::string_view name = a.substr(2, eq == std::string_view::npos ? a.npos : eq - 2);
    const option_spec* s = nullptr;
    for (const auto& t : table)
      if (!t.long_name.empty() && t.long_name == name) s = &t;
    const std::string spelled = "--" + std::string(name);
    if (s == nullptr) {
      err_ = "unknown option " + quoted(a.substr(0, eq));
      return;
    }
    std::string_view v;
    if (!s->takes_value) {
      if (eq != std::string_view::npos) err_ = "option " + quoted(spelled) + " takes no value";
    } else if (eq != std::string_view::npos) {
      v = a.substr(eq + 1);
    } else if (!next_value(spelled, v)) {
      return;
    }
    if (err_.empty()) take(*s, spelled, v);
  }

  bool next_value(const std::string& spelled, std::string_view& v) {
    if (i_ + 1 >= args_.size()) {
      err_ = spelled == "-N" ? "option '-N' needs a namespace name"
                             : "option " + quoted(spelled) + " needs a value";
      return false;
    }
    v = args_[++i_];
    return true;
  }

  void take(const option_spec& s, const std::string& spelled, std::string_view v) {
    const auto index = static_cast<std::size_t>(&s - table);
    if (given_[index].empty()) {
      given_[index] = spelled;
      order_.push_back(index);
    }
    if (s.takes_value)
      value(s.id, spelled, v);
    else
      flag(s.id, spelled);
  }

  void flag(opt id, const std::string& spelled) {
    switch (id) {
      case opt::summary: summary_ = true; break;
      case opt::json:
        o_.json = true;
        outputs_.emplace_back(spelled, output_format::json);
        break;
      case opt::ipv4:
        v4_ = true;
        o_.preferred_family = af_inet;
        break;
      case opt::ipv6:
        v6_ = true;
        o_.preferred_family = af_inet6;
        break;
      case opt::tcp: o_.tcp = true; break;
      case opt::udp: o_.udp = true; break;
      case opt::raw: o_.raw = true; break;
      case opt::packet:
        o_.packet = true;
        packet_all_types_ = true;
        break;
      case opt::bpf: o_.bpf = true; break;
      case opt::mptcp: o_.mptcp = true; break;
      case opt::sctp: unlisted(unlisted_table::sctp); break;
      case opt::dccp: unlisted(unlisted_table::dccp); break;
      case opt::vsock: unlisted(unlisted_table::vsock); break;
      case opt::tipc:
      case opt::tipcinfo: unlisted(unlisted_table::tipc); break;
      case opt::xdp: unlisted(unlisted_table::xdp); break;
      case opt::unix_domain:
        o_.unix_domain = true;
        x_given_ = true;
        o_.preferred_family = af_unix;
        break;
      case opt::listening: o_.listening = true; break;
      case opt::all: o_.all = true; break;
      case opt::numeric: o_.numeric = true; break;
      case opt::no_header: o_.no_header = true; break;
      case opt::processes: o_.processes = true; break;
      case opt::extended: o_.extended = true; break;
      case opt::timers: o_.timers = true; break;
      case opt::memory: o_.memory = true; break;
      case opt::tcp_info: o_.tcp_info = true; break;
      case opt::oneline: o_.oneline = true; break;
      case opt::tos: o_.tos = true; break;
      case opt::cgroup: o_.cgroup = true; break;
      case opt::inet_sockopt: o_.inet_sockopt = true; break;
      case opt::resolve: o_.resolve = true; break;
      case opt::context:
      case opt::contexts: o_.selinux = true; break;
      case opt::kill: o_.kill = true; break;
      case opt::task_owners:  // ss -T shows the owners, -p or not
        o_.per_thread = true;
        o_.processes = true;
        break;
      case opt::events: o_.events = true; break;
      case opt::estimate: o_.method = count_method::estimate; break;
      case opt::exact: o_.method = count_method::exact; break;
      case opt::all_netns: o_.all_netns = true; break;
      case opt::help: help_ = true; break;
      case opt::version: version_ = true; break;
      default: break;
    }
  }

  void value(opt id, const std::string& spelled, std::string_view v) {
    const std::string bad = "option " + quoted(spelled) + ": " + quoted(v);
    switch (id) {
      case opt::source:
        choose<source_choice>("--source", v,
                              {{"auto", source_choice::automatic},
                               {"netlink", source_choice::netlink},
                               {"proc", source_choice::proc}},
                              o_.source);
        break;
      case opt::proc_root:
        if (v.empty()) err_ = "option '--proc-root' needs a directory";
        o_.proc_root = std::string(v);
        break;
      case opt::format: return format(v);
      case opt::textfile:
        if (v.empty()) err_ = "option '--textfile' needs a path";
        o_.textfile = std::string(v);
        outputs_.emplace_back(spelled, output_format::prometheus);
        break;
      case opt::warn:
      case opt::crit:
        if (auto e = serve::parse_thresholds(v, id == opt::warn ? o_.warn : o_.crit); !e.empty())
          err_ = "option " + quoted(spelled) + ": " + e;
        break;
      case opt::netns_owner:
        choose<netns_owner>("--netns-owner", v,
                            {{"init", netns_owner::init}, {"any", netns_owner::any}}, o_.owner);
        break;
      case opt::netns_name:
      case opt::netns: return netns(v, id == opt::netns_name);
      default: return number(id, bad, v);
    }
  }

  // A value that is one of a few words: sets `out`, or says which words there are.
  template <class T>
  bool choose(std::string_view option, std::string_view v,
              std::initializer_list<std::pair<std::string_view, T>> words, T& out) {
    std::string list;
    std::size_t i = 0;
    for (const auto& [word, value] : words) {
      if (v == word) {
        out = value;
        return true;
      }
      if (i > 0) list += i + 1 == words.size() ? " or " : ", ";
      list += word;
      ++i;
    }
    err_ = "option " + quoted(option) + ": unknown value " + quoted(v) + " (" + list + ")";
    return false;
  }

  void format(std::string_view v) {
    output_format f = output_format::text;
    if (choose<output_format>("--format", v,
                              {{"text", output_format::text},
                               {"json", output_format::json},
                               {"prometheus", output_format::prometheus},
                               {"csv", output_format::csv}},
                              f))
      outputs_.emplace_back("--format " + std::string(v), f);
  }

  // The options whose value is a number.
  void number(opt id, const std::string& bad, std::string_view v) {
    const char* why = nullptr;
    switch (id) {
      case opt::timeout:
      case opt::watch:
      case opt::delta:
        if (!parse_seconds(v, id == opt::timeout ? o_.timeout
                              : id == opt::watch ? o_.watch
                                                 : o_.delta))
          why = "is not a number of seconds (0 < S <= 86400)";
        break;
      case opt::interval:
        if (o_.cmd == command::record) {
          if (!parse_seconds(v, o_.interval, 3600) || o_.interval < 1)
            why = "is not a number of seconds (1 <= S <= 3600)";
        } else if (!parse_seconds(v, o_.interval, 60)) {
          why = "is not a number of seconds (0 < S <= 60)";
        }
        break;
      case opt::dir:
        if (v.empty()) why = "is not a directory";
        o_.history_dir = std::string(v);
        break;
      case opt::since:
      case opt::until: {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
        std::int64_t t = 0;
        if (!parse_when(v, now, t))
          why = "is not a time (03:00, -2h, 2026-12-04 03:00, 2026-12-04T03:00Z, now)";
        (id == opt::since ? o_.since_ms : o_.until_ms) = t;
        break;
      }
      case opt::history_file:
        if (v.empty()) why = "is not a file";
        o_.history_files.emplace_back(v);
        break;
      case opt::keep:
        if (!parse_uint<unsigned>(v, o_.keep_days, 1, 3650))
          why = "is not a number of days (1 to 3650)";
        break;
      case opt::scrape_deadline:
        if (!parse_seconds(v, o_.scrape_deadline, 3600))
          why = "is not a number of seconds (0 < S <= 3600)";
        break;
      case opt::listen:
        if (v.empty() || v.rfind(':') == std::string_view::npos) why = "is not ADDR:PORT";
        o_.listen = std::string(v);
        break;
      case opt::max_connections:
        if (!parse_uint<std::size_t>(v, o_.max_connections, 1, 10000))
          why = "is not a number from 1 to 10000";
        break;
      case opt::max_listeners:
        if (!parse_uint<std::size_t>(v, o_.max_listeners, 0, 100000))
          why = "is not a number of listeners (0 to 100000)";
        break;
      case opt::max_per_peer:
        if (!parse_uint<std::size_t>(v, o_.max_per_peer, 1, 10000))
          why = "is not a number from 1 to 10000";
        break;
      case opt::service_port: {
        if (v.starts_with(':')) v.remove_prefix(1);
        std::uint16_t port = 0;
        if (!parse_uint<std::uint16_t>(v, port, 1, 65535)) {
          err_ = "option '--service-port': " + quoted(v) + " is not a port (1..65535)";
          return;
        }
        add_service(port, {});
        break;
      }
      case opt::service: service(v); break;
      case opt::http_listen:
        if (v.empty() || v.rfind(':') == std::string_view::npos) why = "is not ADDR:PORT";
        o_.http_listen = std::string(v);
        break;
      case opt::max_age:
        if (!parse_seconds(v, o_.max_age, 3600)) why = "is not a number of seconds (0 < S <= 3600)";
        break;
      case opt::max_stale:
        if (!parse_seconds(v, o_.max_stale, 3600))
          why = "is not a number of seconds (0 < S <= 3600)";
        break;
      case opt::max_established:
        if (!parse_uint<std::uint64_t>(v, o_.max_established, 1, UINT64_MAX))
          why = "is not a positive number";
        break;
      case opt::drain_queue:
        if (!parse_seconds(v, o_.drain_queue, 1))
          why = "is not a share of the backlog (0 < R <= 1)";
        break;
      case opt::threads:
        if (!parse_uint<unsigned>(v, o_.threads, 1, 16)) why = "is not a number from 1 to 16";
        break;
      case opt::count:
        if (!parse_uint<std::uint64_t>(v, o_.count, 1, UINT64_MAX))
          why = "is not a positive number";
        break;
      case opt::limit:
        if (!parse_uint<std::size_t>(v, o_.top_n, 1, 1000000))
          why = "is not a number from 1 to 1000000";
        break;
      case opt::family: family(v); break;
      case opt::query:
        for (std::size_t at = 0; at <= v.size() && err_.empty();) {
          const std::size_t comma = std::min(v.find(',', at), v.size());
          table_query(v.substr(at, comma - at));
          at = comma + 1;
        }
        break;
      case opt::filter_file: filter_file_ = std::string(v); break;
      case opt::diag:
        o_.diag_file = std::string(v);
        if (v.empty()) err_ = "option '-D' needs a file (- for standard output)";
        break;
      case opt::by:
        if (!parse_top_metric(v, o_.by))
          why =
              "is not sockets, retrans, retrans_out, rtt, bytes_acked, bytes_received, send_q or "
              "recv_q";
        break;
      default: break;
    }
    if (why) err_ = bad + " " + why;
  }

  // -N NAME is /run/netns/NAME; --netns takes a path, or a PID for /proc/PID/ns/net.
  void netns(std::string_view v, bool by_name) {
    if (!o_.netns.empty()) {
      err_ = "only one network namespace (-N or --netns) at a time";
      return;
    }
    if (v.empty() || (by_name && v.find('/') != std::string_view::npos) || v == "." || v == "..") {
      err_ = by_name ? "option '-N': " + quoted(v) + " is not a namespace name"
                     : "option '--netns' needs a path or a PID";
      return;
    }
    unsigned pid = 0;
    if (by_name)
      o_.netns = "/run/netns/" + std::string(v);
    else if (parse_uint<unsigned>(v, pid, 1, 4194304))
      o_.netns = "/proc/" + std::to_string(pid) + "/ns/net";
    else
      o_.netns = std::string(v);
  }

  // ss -f FAMILY: inet and inet6 as -4 and -6, unix as -x. ss's other families (link,
  // netlink, vsock, tipc, xdp) are sockets ssfast does not list yet: refused, not ignored.
  void family(std::string_view v) {
    if (v == "inet") {
      v4_ = true;
      o_.preferred_family = af_inet;
    } else if (v == "inet6") {
      v6_ = true;
      o_.preferred_family = af_inet6;
    } else if (v == "unix") {
      o_.unix_domain = true;
      x_given_ = true;
      o_.preferred_family = af_unix;
    } else if (v == "link") {  // AF_PACKET: both packet tables, as -0
      o_.packet = true;
      packet_all_types_ = true;
      o_.preferred_family = af_packet;
    } else if (v == "netlink") {
      o_.netlink = true;
      o_.preferred_family = af_netlink;
    } else if (v == "vsock") {
      unlisted(unlisted_table::vsock);
    } else if (v == "tipc") {
      unlisted(unlisted_table::tipc);
    } else if (v == "xdp") {
      unlisted(unlisted_table::xdp);
    } else {
      err_ = "option '-f': " + quoted(v) +
             " is not a family (inet, inet6, unix, link, netlink, vsock, tipc, xdp)";
    }
  }

  void unlisted(unlisted_table t) {
    o_.unlisted = static_cast<std::uint8_t>(o_.unlisted | 1u << static_cast<unsigned>(t));
  }

  // ss -A QUERY (comma-separated tables): inet as -t -u, tcp, udp, unix as -x.
  void table_query(std::string_view t) {
    if (t == "all") {  // ss's every table: those ssfast lists, and the others probed
      o_.tcp = o_.udp = o_.raw = o_.mptcp = o_.packet = o_.netlink = true;
      o_.unix_domain = unix_all_types_ = packet_all_types_ = true;
      for (std::uint8_t k = 0; k < static_cast<std::uint8_t>(unlisted_table::count); ++k)
        unlisted(static_cast<unlisted_table>(k));
    } else if (t == "sctp") {
      unlisted(unlisted_table::sctp);
    } else if (t == "dccp") {
      unlisted(unlisted_table::dccp);
    } else if (t == "vsock" || t == "vsock_stream" || t == "vsock_dgram") {
      unlisted(unlisted_table::vsock);
    } else if (t == "tipc") {
      unlisted(unlisted_table::tipc);
    } else if (t == "xdp") {
      unlisted(unlisted_table::xdp);
    } else if (t == "mptcp") {
      o_.mptcp = true;
    } else if (t == "raw") {
      o_.raw = true;
    } else if (t == "packet") {
      o_.packet = true;
      packet_all_types_ = true;
    } else if (t == "packet_raw" || t == "packet_dgram") {
      // ss's PACKET_R_DB, PACKET_DG_DB.
      o_.packet = true;
      packet_type_bits_ |=
          static_cast<std::uint8_t>(1u << (t == "packet_raw" ? abi::sock_raw : abi::sock_dgram));
    } else if (t == "netlink") {
      o_.netlink = true;
    } else if (t == "inet") {
      o_.tcp = o_.udp = true;
    } else if (t == "tcp") {
      o_.tcp = true;
    } else if (t == "udp") {
      o_.udp = true;
    } else if (t == "unix") {
      o_.unix_domain = true;
      unix_all_types_ = true;
    } else if (t == "unix_stream" || t == "unix_dgram" || t == "unix_seqpacket") {
      // ss's UNIX_ST_DB, UNIX_DG_DB, UNIX_SQ_DB: one socket type each.
      o_.unix_domain = true;
      unix_type_bits_ |=
          static_cast<std::uint8_t>(1u << (t == "unix_stream"  ? abi::sock_stream
                                           : t == "unix_dgram" ? abi::sock_dgram
                                                               : abi::sock_seqpacket));
    } else {
      err_ = "option '-A': " + quoted(t) +
             " is not a socket table (all, inet, tcp, udp, raw, mptcp, unix, unix_stream, "
             "unix_dgram, unix_seqpacket, packet, packet_raw, packet_dgram, netlink, sctp, dccp, "
             "vsock, vsock_stream, vsock_dgram, tipc, xdp)";
    }
  }

  // ss -F FILE: the filter's words from a file (at most 1 MiB), in place of the command line's.
  bool read_filter_file() {
    if (!positional_.empty()) {
      err_ = "a filter from -F " + quoted(filter_file_) + " and on the command line: give one";
      return false;
    }
    std::FILE* f = filter_file_ == "-" ? stdin : std::fopen(filter_file_.c_str(), "re");
    if (f == nullptr) {
      err_ = "option '-F': cannot read " + quoted(filter_file_) + ": " + std::strerror(errno);
      return false;
    }
    std::string text(1u << 20, '\0');
    const std::size_t n = std::fread(text.data(), 1, text.size(), f);
    const bool more = std::fgetc(f) != EOF;
    if (f != stdin) std::fclose(f);
    if (more) {
      err_ = "option '-F': " + quoted(filter_file_) + " is over 1 MiB";
      return false;
    }
    text.resize(n);
    std::istringstream words(text);
    for (std::string w; words >> w;) positional_.push_back(w);
    return true;
  }

  // A word that is not an option: the command, top's key, help's topic, or an argument.
  void word(std::string_view a) {
    if (o_.cmd == command::list && positional_.empty() && !summary_ && !rest_are_words_) {
      if (auto c = find_command(a)) {
        o_.cmd = *c;
        return;
      }
    }
    if (o_.cmd == command::top && !have_key_) {
      o_.top_netns = a == "netns";
      if (!o_.top_netns && !parse_top_key(a, o_.key))
        err_ = "top: unknown key " + quoted(a) +
               " (raddr, laddr, lport, rport, state, process or netns)";
      have_key_ = true;
      return;
    }
    if (o_.cmd == command::help && !o_.help_for) {
      const auto c = a == "-s" || a == "summary" ? std::optional(command::summary)
                     : a == "listing"            ? std::optional(command::list)
                                                 : find_command(a);
      if (!c) err_ = "help: unknown command " + quoted(a) + " (" + commands_text() + ")";
      o_.help_for = c;
      return;
    }
    positional_.emplace_back(a);
  }

  void finish() {
    if (help_ || o_.cmd == command::help) {
      if (o_.cmd == command::help && !o_.help_for && summary_) o_.help_for = command::summary;
      if (o_.cmd != command::help) {
        if (summary_) o_.cmd = command::summary;
        if (o_.cmd != command::list) o_.help_for = o_.cmd;
      }
      o_.cmd = command::help;
      return;
    }
    if (version_) {
      o_.cmd = command::version;
      return;
    }
    if (summary_) {
      if (o_.cmd != command::list) {
        err_ = "-s cannot go with " + quoted(command_name(o_.cmd));
        return;
      }
      o_.cmd = command::summary;
    }
    if (!options_fit() || !words_fit() || !output_fits() || !combinations_fit()) return;
    set_scope();
    // The agent answers agent-checks on 127.0.0.1:9478 unless --http-listen alone is given.
    if (o_.listen.empty() && !(o_.cmd == command::agent && !o_.http_listen.empty()))
      o_.listen = o_.cmd == command::agent ? "127.0.0.1:9478" : "127.0.0.1:9477";
  }

  // The table's verdict: every option given is one its command takes.
  bool options_fit() {
    for (std::size_t index : order_) {
      const option_spec& s = table[index];
      // -s chose the command itself (and was refused with another one in finish()).
      if ((s.commands & on(o_.cmd)) || s.id == opt::summary) continue;
      err_ = "option " + quoted(given_[index]) + " is for " + command_list(s.commands) + ", not " +
             std::string(o_.cmd == command::list ? "listings" : command_name(o_.cmd));
      if (s.commands == printing) err_ += output_note(o_.cmd);
      return false;
    }
    return true;
  }

  bool given(opt id) const {
    for (std::size_t index : order_)
      if (table[index].id == id) return true;
    return false;
  }

  // Words after the options: a filter, counter prefixes, state names, or nothing.
  bool words_fit() {
    if (!filter_file_.empty() && !read_filter_file()) return false;
    const std::string first = positional_.empty() ? std::string() : positional_.front();
    switch (o_.cmd) {
      case command::summary:
      case command::check:
      case command::doctor:
        // A filter: the summary (the check, the diagnosis) of the sockets it selects.
        if (!first.empty()) err_ = not_a_filter(first);
        o_.filter = std::move(positional_);
        break;
      case command::top:
        if (!have_key_)
          err_ = "top needs a key: raddr, laddr, lport, rport, state, process or netns";
        o_.filter = std::move(positional_);
        break;
      case command::list:
        if (!first.empty()) err_ = not_a_filter(first);
        o_.filter = std::move(positional_);
        break;
      case command::counters: o_.prefixes = std::move(positional_); break;
      case command::history:
      case command::states:
        for (const auto& w : positional_)
          if (parse_state_name(w) == 0 && err_.empty())
            err_ = std::string(command_name(o_.cmd)) + ": unknown state " + quoted(w) +
                   " (ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2, TIME_WAIT, CLOSE, "
                   "CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING; ss's names too)";
        o_.filter = std::move(positional_);
        break;
      default:
        if (!first.empty()) err_ = "unexpected argument " + quoted(first);
    }
    if (err_.empty() && o_.cmd == command::agent) agent_services();
    return err_.empty();
  }

  // A service of the agent; `rules` holds what --service set (the rest from the global
  // options, applied in agent_services()).
  struct given_rules {
    std::optional<std::uint64_t> max_established;
    std::optional<double> drain_queue;
  };
  std::vector<given_rules> service_rules_;

  void add_service(std::uint16_t port, given_rules r) {
    for (const service_probe& p : o_.services)
      if (p.port == port && err_.empty())
        err_ = "agent: port " + std::to_string(port) + " is given twice";
    o_.services.push_back({port, {}});
    service_rules_.push_back(r);
  }

  // --service P[,max-established=N][,drain-queue=R]
  void service(std::string_view v) {
    const std::size_t comma = std::min(v.find(','), v.size());
    std::string_view p = v.substr(0, comma);
    if (p.starts_with(':')) p.remove_prefix(1);
    std::uint16_t port = 0;
    if (!parse_uint<std::uint16_t>(p, port, 1, 65535)) {
      err_ = "option '--service': " + quoted(p) + " is not a port (1..65535)";
      return;
    }
    given_rules r;
    for (std::size_t at = comma + 1; at <= v.size() && comma < v.size();) {
      const std::size_t next = std::min(v.find(',', at), v.size());
      const std::string_view kv = v.substr(at, next - at);
      const std::size_t eq = kv.find('=');
      const std::string_view key = kv.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? "" : kv.substr(eq + 1);
      std::uint64_t n = 0;
      double share = 0;
      if (key == "max-established" && parse_uint<std::uint64_t>(value, n, 1, UINT64_MAX)) {
        r.max_established = n;
      } else if (key == "drain-queue" && parse_seconds(value, share, 1)) {
        r.drain_queue = share;
      } else {
        err_ = "option '--service': " + quoted(kv) +
               " is not max-established=N (N > 0) or drain-queue=R (0 < R <= 1)";
        return;
      }
      at = next + 1;
    }
    add_service(port, r);
  }

  // Every service gets its rules; the agent needs one at least.
  void agent_services() {
    if (o_.services.empty()) {
      err_ =
          "agent needs --service-port PORT or --service PORT[,RULES]: the port of the service "
          "it speaks for";
      return;
    }
    for (std::size_t i = 0; i < o_.services.size(); ++i) {
      service_rules& r = o_.services[i].rules;
      r.max_established = service_rules_[i].max_established.value_or(o_.max_established);
      r.drain_queue = service_rules_[i].drain_queue.value_or(o_.drain_queue);
    }
    if (o_.max_stale == 0) o_.max_stale = 3 * o_.max_age;
    if (o_.max_stale < o_.max_age)
      err_ = "agent: --max-stale must be at least --max-age (an answer from each measurement)";
  }

  // -j, --format and --textfile each ask for an output; they must agree.
  bool output_fits() {
    for (std::size_t k = 1; k < outputs_.size(); ++k)
      if (outputs_[k].second != outputs_[0].second) {
        err_ = "options " + quoted(outputs_[0].first) + " and " + quoted(outputs_[k].first) +
               " ask for different outputs";
        return false;
      }
    if (!outputs_.empty()) o_.format = outputs_[0].second;
    o_.json = o_.format == output_format::json;
    if (o_.format == output_format::csv && o_.cmd != command::history) {
      err_ = "--format csv is for history";
      return false;
    }
    if (o_.format == output_format::prometheus && o_.cmd != command::summary) {
      err_ = "--format prometheus is for -s (the exporter serves it over HTTP)";
      return false;
    }
    if (o_.format == output_format::prometheus && given(opt::watch) && o_.textfile.empty()) {
      err_ = "--watch with --format prometheus needs --textfile PATH to rewrite";
      return false;
    }
    return true;
  }

  // Options that each fit their command but not each other.
  bool combinations_fit() {
    const bool proc = given(opt::proc_root) || o_.source == source_choice::proc;
    if (o_.cmd == command::record) {
      // A sample every 10 s, as sysstat's sadc takes one; the 5 fullest listeners in each.
      if (!given(opt::interval)) o_.interval = 10;
      if (!given(opt::max_listeners)) o_.max_listeners = 5;
    }
    if (o_.cmd == command::summary && given(opt::dir) && !given(opt::watch))
      err_ = "option '--dir' goes with --watch (the recorded history its view starts from)";
    if (given(opt::count) && !given(opt::watch) && !o_.events && o_.cmd != command::record)
      err_ = o_.cmd == command::list ? "option '--count' goes with -E (or -s and top's --watch)"
                                     : "option '--count' goes with --watch";
    else if (o_.events && (o_.kill || proc))
      err_ = o_.kill ? "option '-E' follows sockets as the kernel destroys them: it cannot go "
                       "with -K"
                     : "option '-E' follows the kernel's destroy events over netlink: it cannot "
                       "go with --source proc or --proc-root";
    else if (!o_.diag_file.empty() && (o_.events || o_.kill || proc))
      err_ =
          "option '-D' writes the kernel's TCP dump as it comes over netlink: it cannot go with "
          "-E, -K, --source proc or --proc-root";
    else if (!o_.diag_file.empty() && !o_.tcp && (o_.udp || o_.unix_domain))
      err_ = "option '-D' writes a TCP dump (ss -D: \"no tcp in filter\"): add -t";
    else if (o_.events && o_.unix_domain && !o_.tcp && !o_.udp)
      err_ =
          "option '-E': the kernel sends destroy events for TCP and UDP sockets only "
          "(SKNLGRP_*_DESTROY), not UNIX ones";
    else if (given(opt::proc_root) && o_.source == source_choice::netlink)
      err_ = "option '--proc-root' reads sockets from DIR/net: it cannot go with --source netlink";
    else if (given(opt::exact) && given(opt::estimate))
      err_ = "options '--exact' and '--estimate' ask for opposite counts: give one";
    else if (o_.method == count_method::estimate && v4_ != v6_)
      err_ =
          "option '--estimate' uses CurrEstab, which counts IPv4 and IPv6 together: it cannot "
          "go with -4 or -6";
    else if (given(opt::threads) && (o_.cmd == command::list || o_.cmd == command::top) &&
             !o_.processes && !o_.top_netns &&
             !((o_.tcp || (!o_.udp && !o_.unix_domain)) && o_.filter.empty()))
      // A listing splits only TCP without an expression (a filter is one kernel-filtered walk).
      err_ =
          "option '--threads' splits a TCP listing without a filter, and -p's /proc scan: "
          "this listing uses none";
    else if (o_.by != top_metric::sockets && (o_.top_netns || o_.all_netns))
      err_ = "option '--by' ranks one namespace's keys: it cannot go with netns or --all-netns";
    else if (needs_tcp_info(o_.by) && proc)
      err_ =
          "option '--by' reads tcp_info, which only netlink gives: it cannot go with "
          "--source proc or --proc-root";
    else if (o_.kill && proc)
      err_ =
          "option '-K' destroys sockets over netlink (SOCK_DESTROY): it cannot go with "
          "--source proc or --proc-root";
    else if (o_.top_netns && o_.all_netns)
      err_ = "top netns already ranks every namespace: --all-netns is for the other keys";
    else if (o_.top_netns && (given(opt::netns) || given(opt::netns_name) || proc))
      err_ =
          "top netns enters each namespace itself: it cannot go with -N, --netns, --source "
          "proc or --proc-root";
    else if (o_.all_netns && (given(opt::netns) || given(opt::netns_name) || proc))
      err_ =
          "option '--all-netns' enters each namespace itself: it cannot go with -N, --netns, "
          "--source proc or --proc-root";
    else if (given(opt::netns_owner) && o_.cmd != command::exporter && !o_.all_netns &&
             !o_.top_netns)
      // The exporter takes it alone: a unit file sets it once, whether --all-netns is on or not.
      err_ = "option '--netns-owner' chooses the namespaces of --all-netns or top netns";
    else if (o_.all_netns && o_.method == count_method::estimate)
      err_ = "option '--all-netns' counts exactly: --estimate reads one namespace's CurrEstab";
    else if (given(opt::threads) && proc && !o_.processes &&
             !(o_.cmd == command::top && (o_.key == top_key::process || o_.top_netns)))
      err_ = "option '--threads' splits netlink dumps: the /proc source reads each file once";
    // A /proc named on the command line is where the answer must come from: netlink would
    // describe this process's own network namespace instead.
    if (given(opt::proc_root)) o_.source = source_choice::proc;
    return err_.empty();
  }

  void set_scope() {
    // -4 and -6 narrow TCP and UDP; both, or neither, mean both families.
    if (v4_ != v6_) {
      o_.scope.ipv4 = v4_;
      o_.scope.ipv6 = v6_;
    }
    // -t, -u, -x, -w, -0, -M, -A netlink choose tables; none of them means TCP, UDP and UNIX,
    // and for a plain listing every table, as ss lists them (filter_db_parse "all"): raw and
    // MPTCP too, packet and netlink sockets without -4 or -6 (their families are neither).
    // -K, -E and -D work on TCP and UDP only.
    const bool tables = o_.tcp || o_.udp || o_.unix_domain || o_.raw || o_.packet || o_.netlink ||
                        o_.mptcp || o_.unlisted != 0;
    if (!tables && o_.cmd == command::list && !o_.kill && !o_.events && o_.diag_file.empty()) {
      // Raw sockets come from /proc where the kernel has no raw_diag: not with --source netlink.
      o_.scope.raw = o_.source != source_choice::netlink;
      o_.scope.mptcp = true;
      o_.scope.packet = o_.scope.netlink = v4_ == v6_;
    }
    if (tables) {
      o_.scope.tcp = o_.tcp;
      o_.scope.udp = o_.udp;
      o_.scope.unix_domain = o_.unix_domain;
      o_.scope.raw = o_.raw;
      o_.scope.packet = o_.packet;
      o_.scope.netlink = o_.netlink;
      o_.scope.mptcp = o_.mptcp;
    }
    // -4 and -6 choose inet families: packet and netlink sockets have none (ss.c
    // filter_af_set); -0 and -f netlink given with them still list their own.
    o_.packet_types = packet_all_types_ ? 0 : packet_type_bits_;
    // A family restriction leaves no room for UNIX sockets in a listing unless asked (ss -4).
    if ((o_.cmd == command::list || o_.cmd == command::top) && v4_ != v6_ && !o_.unix_domain)
      o_.scope.unix_domain = false;
    // -A unix_stream and the like narrow UNIX sockets to their types, unless -A unix asked for
    // every type. -x and -f unix choose a family, not tables (ss.c filter_af_set): they widen
    // nothing that -A chose, and alone they mean every UNIX table.
    o_.unix_types = unix_all_types_ || (x_given_ && unix_type_bits_ == 0) ? 0 : unix_type_bits_;
  }

  std::span<const char* const> args_;
  options& o_;
  std::string& err_;
  std::size_t i_ = 0;
  std::array<std::string, option_total> given_;  // as first typed; empty: not given
  std::vector<std::size_t> order_;               // table indices, in the order given
  std::vector<std::string> positional_;
  std::vector<std::pair<std::string, output_format>> outputs_;
  bool summary_ = false, help_ = false, version_ = false, v4_ = false, v6_ = false;
  bool unix_all_types_ = false;        // -A unix
  bool x_given_ = false;               // -x, -f unix
  std::uint8_t unix_type_bits_ = 0;    // -A unix_stream, unix_dgram, unix_seqpacket
  bool packet_all_types_ = false;      // -0, -f link, -A packet
  std::uint8_t packet_type_bits_ = 0;  // -A packet_raw, packet_dgram
  bool have_key_ = false, rest_are_words_ = false;
  std::string filter_file_;  // -F FILE
};

}  // namespace

parse_result parse_args(std::span<const char* const> args) {
  parse_result r;
  parser(args, r).run();
  return r;
}

std::uint32_t listing_states(const options& o, const socket_filter& f) noexcept {
  if (f.states) return *f.states;
  // A summary, top or a check counts every state its filter does not exclude.
  if (o.cmd == command::top || o.cmd == command::summary || o.cmd == command::check ||
      o.cmd == command::doctor)
    return abi::tcp_all_states;
  constexpr unsigned xdp = 1u << static_cast<unsigned>(unlisted_table::xdp);
  return ss_default_states({o.all, o.listening, o.tcp, o.udp, o.unix_domain, o.raw, o.packet,
                            o.netlink, o.mptcp, (o.unlisted & ~xdp) != 0, (o.unlisted & xdp) != 0});
}

bool parse_when(std::string_view s, std::int64_t now_ms, std::int64_t& out) {
  if (s == "now") {
    out = now_ms;
    return true;
  }
  auto digits = [](std::string_view d, int& v) {
    if (d.empty() || d.size() > 4) return false;
    v = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    return true;
  };
  // -2h, -30m, -90s, -1d: before now.
  if (s.size() >= 3 && s.front() == '-') {
    int n = 0;
    if (!digits(s.substr(1, s.size() - 2), n)) return false;
    const char unit = s.back();
    const std::int64_t per = unit == 's'   ? 1000
                             : unit == 'm' ? 60'000
                             : unit == 'h' ? 3'600'000
                             : unit == 'd' ? 86'400'000
                                           : 0;
    if (per == 0) return false;
    out = now_ms - n * per;
    return true;
  }
  // [YYYY-MM-DD][ |T][HH:MM[:SS]][Z]
  tm t{};
  bool utc = false, have_date = false, have_time = false;
  if (s.size() >= 10 && s[4] == '-' && s[7] == '-') {
    int y = 0, mo = 0, d = 0;
    if (!digits(s.substr(0, 4), y) || !digits(s.substr(5, 2), mo) || !digits(s.substr(8, 2), d))
      return false;
    t.tm_year = y - 1900;
    t.tm_mon = mo - 1;
    t.tm_mday = d;
    have_date = true;
    s.remove_prefix(10);
    if (!s.empty() && (s.front() == ' ' || s.front() == 'T')) s.remove_prefix(1);
  }
  if (!s.empty() && s.back() == 'Z') {
    utc = true;
    s.remove_suffix(1);
  }
  if (!s.empty()) {
    int h = 0, mi = 0, se = 0;
    if (s.size() != 5 && s.size() != 8) return false;
    if (s[2] != ':' || (s.size() == 8 && s[5] != ':')) return false;
    if (!digits(s.substr(0, 2), h) || !digits(s.substr(3, 2), mi) ||
        (s.size() == 8 && !digits(s.substr(6, 2), se)))
      return false;
    if (h > 23 || mi > 59 || se > 60) return false;
    t.tm_hour = h;
    t.tm_min = mi;
    t.tm_sec = se;
    have_time = true;
  }
  if (!have_date && !have_time) return false;
  if (have_date && (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31)) return false;
  if (!have_date) {
    // A time of day: today's, or yesterday's if today's is still to come.
    const time_t now = static_cast<time_t>(now_ms / 1000);
    tm today{};
    if (utc)
      gmtime_r(&now, &today);
    else
      localtime_r(&now, &today);
    t.tm_year = today.tm_year;
    t.tm_mon = today.tm_mon;
    t.tm_mday = today.tm_mday;
  }
  t.tm_isdst = -1;
  const tm asked = t;
  const time_t secs = utc ? timegm(&t) : mktime(&t);
  if (secs == static_cast<time_t>(-1)) return false;
  if (have_date && (t.tm_mday != asked.tm_mday || t.tm_mon != asked.tm_mon)) return false;
  out = static_cast<std::int64_t>(secs) * 1000;
  if (!have_date && out > now_ms) {
    tm y = asked;
    y.tm_mday -= 1;
    y.tm_isdst = -1;
    const time_t back = utc ? timegm(&y) : mktime(&y);
    out = static_cast<std::int64_t>(back) * 1000;
  }
  return true;
}

}  // namespace ssfast::cli
