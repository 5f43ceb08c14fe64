// SPDX-License-Identifier: Apache-2.0
// Command-line parsing for the ssfast binary: argv in, a command or a one-line usage error out.
// Every option is declared once, in a table that says which commands take it; misuse messages
// come from that table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ssfast/all_netns.h"
#include "ssfast/core/grouping.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/detail/test_seams.h"
#include "ssfast/report/listing.h"
#include "ssfast/serve/check.h"
#include "ssfast/ssfast.h"

namespace ssfast::cli {

/// Exit codes, documented in the README.
enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1,  ///< could not collect (netlink error, no source)
  exit_usage = 2,    ///< bad option, value or filter
};

/// The commands, in the order --help lists them.
enum class command : std::uint8_t {
  list,
  summary,
  top,
  counters,
  check,
  exporter,
  agent,
  doctor,
  record,
  history,
  states,
  help,
  version
};
inline constexpr std::size_t command_count = 13;

/// The command's word on the command line ("-s" for the summary, "listing" for the default).
std::string_view command_name(command c) noexcept;

/// The exit status of a usage error for `c`: 2, except where the command's own codes give 2
/// another meaning (doctor: 3, "could not diagnose"; check: 3, UNKNOWN, as plugins do).
int usage_exit(command c) noexcept;

enum class output_format { text, json, prometheus, csv };

enum class unlisted_table : std::uint8_t { sctp, dccp, vsock, tipc, xdp, count };

struct options {
  command cmd = command::list;
  std::optional<command> help_for;  ///< help: the command asked about (none: every command)
  bool json = false;
  // Listing and top (ss's flags).
  bool tcp = false, udp = false, unix_domain = false;  ///< -t -u -x; none given: all three
  /// -w, -0 (-f link), -A netlink (-f netlink): tables listed only when asked for.
  bool raw = false, packet = false, netlink = false, mptcp = false;  ///< ... and -M
  bool bpf = false;  ///< -b: packet sockets' BPF filters
  /// ss's tables ssfast does not list (-S, -d, --vsock, --tipc, --xdp, and -A all's): bits
  /// 1 << unlisted_table. A listing asks the kernel whether it has them: where it has not, they
  /// are empty, as in ss; where it has, the listing is refused.
  std::uint8_t unlisted = 0;
  bool listening = false, all = false;                                          ///< -l -a
  bool no_header = false, processes = false, extended = false, timers = false;  ///< -H -p -e -o
  bool memory = false, tcp_info = false, oneline = false;                       ///< -m -i -O
  bool tos = false, cgroup = false;                                             ///< --tos --cgroup
  bool inet_sockopt = false;                                                    ///< --inet-sockopt
  bool numeric = false;             ///< -n: no service names
  bool resolve = false;             ///< -r: host names for addresses
  bool selinux = false;             ///< -Z, -z: SELinux contexts
  bool kill = false;                ///< -K: destroy the sockets listed
  bool per_thread = false;          ///< -T: -p's owners per thread (tid=)
  bool events = false;              ///< -E: follow the sockets the kernel destroys
  std::string diag_file;            ///< -D FILE: the raw TCP dump, as ss -D (- for stdout)
  std::vector<std::string> filter;  ///< the filter words, for parse_filter; states: names
  /// ss's preferred_family: the last of -4, -6, -x and -f; af_unix makes a filter's addresses
  /// UNIX name patterns (`ss -x src '/run/*'`).
  std::uint8_t preferred_family = 0;
  /// -A unix_stream, unix_dgram, unix_seqpacket: socket_query::unix_types (0: every type).
  std::uint8_t unix_types = 0;
  /// -A packet_raw, packet_dgram: socket_query::packet_types (0: both).
  std::uint8_t packet_types = 0;
  top_key key = top_key::raddr;
  bool top_netns = false;               ///< top netns: namespaces by the sockets the filter selects
  std::size_t top_n = 20;               ///< top --limit N
  top_metric by = top_metric::sockets;  ///< top --by METRIC
  // Summary.
  count_method method = count_method::derived;  ///< --exact: exact; --estimate: estimate
  bool all_netns = false;                ///< -s --all-netns: every network namespace on the host
  netns_owner owner = netns_owner::any;  ///< --netns-owner: init leaves out other users' namespaces
  // Every command.
  count_scope scope;  ///< families from -4/-6; protocols from -t/-u/-x
  source_choice source = source_choice::automatic;
  std::string proc_root = "/proc";
  unsigned threads = 0;
  std::string netns;        ///< -N NAME (/run/netns/NAME) or --netns PATH|PID (/proc/PID/ns/net)
  double watch = 0;         ///< --watch SECONDS (-s, top); 0: once
  std::uint64_t count = 0;  ///< --count N reports, or -E events (0: until interrupted)
  double delta = 0;         ///< counters --delta SECONDS
  std::vector<std::string> prefixes;           ///< counters: name prefixes to show
  output_format format = output_format::text;  ///< --format (and -j, --textfile)
  std::string textfile;  ///< -s --textfile PATH: Prometheus text, written atomically
  // check (Nagios/Icinga plugin)
  std::vector<serve::threshold> warn, crit;
  double timeout = 10;  ///< check: the hard limit; exporter, agent: per-client I/O limit
  // exporter and agent
  std::string listen;  ///< ADDR:PORT; default 127.0.0.1:9477 (exporter), 127.0.0.1:9478 (agent)
  std::size_t max_connections = 64;
  std::size_t max_listeners = 200;  ///< exporter: ssfast_listener_* series, in port order
  std::size_t max_per_peer = 16;    ///< connections at once from one address (IPv6: one /64)
  double scrape_deadline = 8;       ///< exporter --all-netns: seconds a collection may take
  /// agent: the balanced services (--service-port P, --service P,RULES), in the order given,
  /// each with its rules (--max-established and --drain-queue for what --service leaves out)
  std::vector<service_probe> services;
  std::uint64_t max_established = 0;  ///< agent: weight falls to 0 as ESTABLISHED reaches it
  double drain_queue = 0.9;  ///< agent: drain when the accept queue passes this share of backlog
  std::string http_listen;   ///< agent: HTTP readiness ADDR:PORT; empty: none
  double max_age = 1;        ///< agent: seconds between measurements
  double max_stale = 0;      ///< agent: no answer from an older one; 0: 3 x max_age
  // doctor
  double interval = 1;  ///< seconds between the two samples (record: between samples, 10)
  // record
  std::string history_dir = "/var/lib/ssfast";  ///< --dir: the day files
  unsigned keep_days = 7;                       ///< --keep: days of files kept
  // history
  std::optional<std::int64_t> since_ms, until_ms;  ///< --since, --until (UTC ms); none: today
  std::vector<std::string> history_files;          ///< -f FILE: day files named directly
};

/// A time as `history --since/--until` take it, in milliseconds since the epoch: "-2h" (also
/// s, m, d: before `now_ms`), "03:00" or "03:00:30" (the most recent such local time, not
/// after now), "2026-12-04" (local midnight), "2026-12-04 03:00[:30]" or with a T (local; a
/// trailing Z: UTC), "now". False if it is none of these.
bool parse_when(std::string_view s, std::int64_t now_ms, std::int64_t& out);

struct parse_result {
  options opts;       ///< on error, opts.cmd is still the command that was asked for
  std::string error;  ///< one line naming the offending argument; empty on success
};

/// Parses argv[1..]. Short options group (-tanp). Allocates.
parse_result parse_args(std::span<const char* const> args);

/// The TCP_* states a command reads when no `state` or `exclude` filter (which wins) says:
/// every state for -s, top and check; ss's default (ss_default_states) for a listing.
std::uint32_t listing_states(const options& o, const socket_filter& f) noexcept;

#if defined(SSFAST_TEST_SEAMS)
/// Test builds only: SSFAST_INJECT_NETLINK_FAILURE=open:ERRNO or dump:ERRNO (ERRNO a name
/// such as EACCES, or a number) makes netlink fail that way. Release binaries ignore it.
inline constexpr const char* fault_env = "SSFAST_INJECT_NETLINK_FAILURE";

/// Parses the seam's value; returns an error line, empty on success.
std::string parse_fault(std::string_view value, detail::netlink_fault& out);
#endif

/// The --help text: every command, or one command's synopsis, description and options.
std::string usage(std::optional<command> c = std::nullopt);

/// Every long option the parser knows, without "--" (for the help's own test).
std::vector<std::string_view> long_options();

}  // namespace ssfast::cli
