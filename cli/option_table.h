// SPDX-License-Identifier: Apache-2.0
// The table of ssfast's options and commands: every option once, with the commands that take
// it. The parser (options.cpp) reads it; so do the misuse messages and the help's own test.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "options.h"

namespace ssfast::cli::table_detail {

using command_set = std::uint16_t;
constexpr command_set on(command c) { return static_cast<command_set>(1u << unsigned(c)); }

inline constexpr command_set in_list = on(command::list), in_summary = on(command::summary),
                             in_top = on(command::top), in_counters = on(command::counters),
                             in_check = on(command::check), in_exporter = on(command::exporter),
                             in_agent = on(command::agent), in_doctor = on(command::doctor),
                             in_record = on(command::record), in_history = on(command::history),
                             in_states = on(command::states);
inline constexpr command_set every = static_cast<command_set>((1u << command_count) - 1);
// The commands that read sockets; that choose protocols and families; that print text or JSON.
inline constexpr command_set reading = in_list | in_summary | in_top | in_counters | in_check |
                                       in_exporter | in_agent | in_doctor | in_record;
inline constexpr command_set counting = in_list | in_summary | in_top | in_check | in_exporter;
inline constexpr command_set printing =
    in_list | in_summary | in_top | in_counters | in_doctor | in_states | in_history;

enum class opt : std::uint8_t {
  summary,
  json,
  ipv4,
  ipv6,
  tcp,
  udp,
  unix_domain,
  listening,
  all,
  numeric,
  no_header,
  processes,
  extended,
  timers,
  memory,
  tcp_info,
  oneline,
  tos,
  cgroup,
  estimate,
  exact,
  help,
  version,
  all_netns,
  // with a value
  source,
  proc_root,
  format,
  textfile,
  warn,
  crit,
  timeout,
  listen,
  max_connections,
  max_per_peer,
  max_listeners,
  service_port,
  service,
  max_established,
  drain_queue,
  http_listen,
  max_age,
  max_stale,
  netns_name,
  netns,
  threads,
  netns_owner,
  scrape_deadline,
  watch,
  count,
  interval,
  delta,
  limit,
  by,
  family,
  query,
  filter_file,
  resolve,
  context,
  contexts,
  kill,
  events,
  diag,
  inet_sockopt,
  task_owners,
  raw,
  packet,
  bpf,
  mptcp,
  sctp,
  dccp,
  vsock,
  tipc,
  tipcinfo,
  xdp,
  dir,
  keep,
  since,
  until,
  history_file
};

struct option_spec {
  opt id;
  char short_name;             // 0: none
  std::string_view long_name;  // without "--"; empty: none
  bool takes_value;
  command_set commands;  // the commands that take it
};

// Every option, once. `commands` is the whole of what decides where an option may appear.
inline constexpr option_spec table[] = {
    {opt::summary, 's', "summary", false, in_list},  // turns the listing into -s
    {opt::json, 'j', "json", false, printing},
    {opt::ipv4, '4', "ipv4", false, counting},
    {opt::ipv6, '6', "ipv6", false, counting},
    {opt::tcp, 't', "tcp", false, counting},
    {opt::udp, 'u', "udp", false, counting},
    {opt::unix_domain, 'x', "unix", false, counting},
    // Tables only a listing shows, as ss: raw, packet (AF_PACKET) sockets.
    {opt::raw, 'w', "raw", false, in_list},
    {opt::packet, '0', "packet", false, in_list},
    {opt::bpf, 'b', "bpf", false, in_list},
    {opt::mptcp, 'M', "mptcp", false, in_list},
    // ss's tables ssfast does not list: empty where the kernel has no diag for them, else
    // refused (cli/list.cpp).
    {opt::sctp, 'S', "sctp", false, in_list},
    {opt::dccp, 'd', "dccp", false, in_list},
    {opt::vsock, 0, "vsock", false, in_list},
    {opt::tipc, 0, "tipc", false, in_list},
    {opt::tipcinfo, 0, "tipcinfo", false, in_list},
    {opt::xdp, 0, "xdp", false, in_list},
    {opt::listening, 'l', "listening", false, in_list | in_top},
    {opt::all, 'a', "all", false, in_list | in_top},
    {opt::numeric, 'n', "numeric", false, every},  // listings name ports unless -n, as ss
    {opt::no_header, 'H', "no-header", false, in_list},
    {opt::processes, 'p', "processes", false, in_list},
    // ss -T: owners per thread. Its long name, --threads, is ssfast's worker count.
    {opt::task_owners, 'T', "", false, in_list},
    {opt::extended, 'e', "extended", false, in_list},
    {opt::timers, 'o', "options", false, in_list},
    {opt::memory, 'm', "memory", false, in_list},
    {opt::tcp_info, 'i', "info", false, in_list | in_summary},
    {opt::oneline, 'O', "oneline", false, in_list},
    {opt::tos, 0, "tos", false, in_list},
    {opt::cgroup, 0, "cgroup", false, in_list},
    {opt::inet_sockopt, 0, "inet-sockopt", false, in_list},
    {opt::estimate, 0, "estimate", false, in_summary | in_check | in_exporter},
    {opt::exact, 0, "exact", false, in_summary | in_check | in_exporter},
    {opt::all_netns, 0, "all-netns", false, in_summary | in_top | in_exporter | in_doctor},
    {opt::help, 'h', "help", false, every},
    {opt::version, 'V', "version", false, every},
    {opt::source, 0, "source", true, reading},
    {opt::proc_root, 0, "proc-root", true, reading},
    {opt::format, 0, "format", true, printing},
    {opt::textfile, 0, "textfile", true, in_summary},
    {opt::warn, 0, "warn", true, in_check},
    {opt::crit, 0, "crit", true, in_check},
    {opt::timeout, 0, "timeout", true, in_check | in_exporter | in_agent},
    {opt::listen, 0, "listen", true, in_exporter | in_agent},
    {opt::max_connections, 0, "max-connections", true, in_exporter | in_agent},
    {opt::max_per_peer, 0, "max-per-peer", true, in_exporter | in_agent},
    {opt::max_listeners, 0, "max-listeners", true, in_exporter | in_record},
    {opt::service_port, 0, "service-port", true, in_agent},
    {opt::service, 0, "service", true, in_agent},
    {opt::max_established, 0, "max-established", true, in_agent},
    {opt::drain_queue, 0, "drain-queue", true, in_agent},
    {opt::http_listen, 0, "http-listen", true, in_agent},
    {opt::max_age, 0, "max-age", true, in_agent},
    {opt::max_stale, 0, "max-stale", true, in_agent},
    {opt::netns_name, 'N', "", true, reading},
    {opt::netns, 0, "netns", true, reading},
    // A listing and top use --threads for their TCP slices and the -p scan.
    {opt::threads, 0, "threads", true,
     in_summary | in_check | in_exporter | in_doctor | in_list | in_top},
    // Used with --all-netns and top netns.
    {opt::netns_owner, 0, "netns-owner", true, in_summary | in_top | in_exporter | in_doctor},
    {opt::scrape_deadline, 0, "scrape-deadline", true, in_exporter},
    {opt::watch, 0, "watch", true, in_summary | in_top},
    {opt::count, 0, "count", true, in_summary | in_top | in_list | in_record},  // list: -E
    {opt::interval, 0, "interval", true, in_doctor | in_check | in_record},
    {opt::delta, 0, "delta", true, in_counters},
    {opt::limit, 0, "limit", true, in_top},
    {opt::by, 0, "by", true, in_top},
    // ss's other ways to choose tables and families, and its filter file.
    {opt::family, 'f', "family", true, in_list | in_top},
    {opt::query, 'A', "query", true, in_list | in_top},
    {opt::filter_file, 'F', "filter", true, in_list | in_top | in_summary},
    {opt::resolve, 'r', "resolve", false, in_list},
    {opt::context, 'Z', "context", false, in_list},
    {opt::contexts, 'z', "contexts", false, in_list},
    {opt::kill, 'K', "kill", false, in_list},
    {opt::events, 'E', "events", false, in_list},
    {opt::diag, 'D', "diag", true, in_list},
    // -s --watch: the recorded history its full-screen view starts from.
    {opt::dir, 0, "dir", true, in_record | in_history | in_summary},
    {opt::keep, 0, "keep", true, in_record},
    {opt::since, 0, "since", true, in_history},
    {opt::until, 0, "until", true, in_history},
    // -f is --family for listings and top; for history, a day file (sar -f).
    {opt::history_file, 'f', "file", true, in_history},
};
inline constexpr std::size_t option_total = std::size(table);

struct command_word {
  command cmd;
  std::string_view word;
};
inline constexpr command_word command_words[] = {
    {command::top, "top"},           {command::counters, "counters"}, {command::check, "check"},
    {command::exporter, "exporter"}, {command::agent, "agent"},       {command::doctor, "doctor"},
    {command::record, "record"},     {command::history, "history"},   {command::states, "states"},
    {command::help, "help"}};

inline constexpr std::string_view filter_words[] = {"state",  "exclude", "sport",    "dport", "src",
                                                    "dst",    "not",     "and",      "or",    "dev",
                                                    "fwmark", "cgroup",  "autobound"};

/// Why a command has no choice of output (" (plugins print one line)"), or nothing.
std::string_view output_note(command c);
/// The command a word names ("top"), if any.
std::optional<command> find_command(std::string_view w);
/// "listings, -s and top": the commands of a set, for a message.
std::string command_list(command_set s);
/// Optimal string alignment distance, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b);
/// "listing, -s, top, ...": every command, for a message.
std::string commands_text();
/// Why `w`, the first word where a filter was expected, cannot start one: a command given
/// after another, a mistyped command or filter word (with the nearest), or neither; empty when
/// it may (a filter word, or something the filter parser will judge: an address, a paren).
std::string not_a_filter(const std::string& w);

}  // namespace ssfast::cli::table_detail
