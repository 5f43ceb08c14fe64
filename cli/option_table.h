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

inline constexpr command_set L = on(command::list), S = on(command::summary), T = on(command::top),
                             K = on(command::counters), C = on(command::check),
                             E = on(command::exporter), A = on(command::agent),
                             D = on(command::doctor), ST = on(command::states);
inline constexpr command_set every = static_cast<command_set>((1u << command_count) - 1);
inline constexpr command_set reading = L | S | T | K | C | E | A | D;  // commands that read sockets
inline constexpr command_set counting = L | S | T | C | E;             // choose protocols, families
inline constexpr command_set printing = L | S | T | K | D | ST;        // text or JSON output

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
  estimate,
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
  service_port,
  max_established,
  drain_queue,
  netns_name,
  netns,
  threads,
  netns_owner,
  scrape_deadline,
  watch,
  count,
  interval,
  delta,
  limit
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
    {opt::summary, 's', "summary", false, L},  // turns the listing into -s
    {opt::json, 'j', "json", false, printing},
    {opt::ipv4, '4', "ipv4", false, counting},
    {opt::ipv6, '6', "ipv6", false, counting},
    {opt::tcp, 't', "tcp", false, counting},
    {opt::udp, 'u', "udp", false, counting},
    {opt::unix_domain, 'x', "unix", false, counting},
    {opt::listening, 'l', "listening", false, L | T},
    {opt::all, 'a', "all", false, L | T},
    {opt::numeric, 'n', "numeric", false, every},  // ss's -n; ssfast never resolves names
    {opt::no_header, 'H', "no-header", false, L},
    {opt::processes, 'p', "processes", false, L},
    {opt::extended, 'e', "extended", false, L},
    {opt::timers, 'o', "options", false, L},
    {opt::estimate, 0, "estimate", false, S | C | E},
    {opt::all_netns, 0, "all-netns", false, S | T | E},
    {opt::help, 'h', "help", false, every},
    {opt::version, 'V', "version", false, every},
    {opt::source, 0, "source", true, reading},
    {opt::proc_root, 0, "proc-root", true, reading},
    {opt::format, 0, "format", true, printing},
    {opt::textfile, 0, "textfile", true, S},
    {opt::warn, 0, "warn", true, C},
    {opt::crit, 0, "crit", true, C},
    {opt::timeout, 0, "timeout", true, C | E | A},
    {opt::listen, 0, "listen", true, E | A},
    {opt::max_connections, 0, "max-connections", true, E | A},
    {opt::max_per_peer, 0, "max-per-peer", true, E | A},
    {opt::service_port, 0, "service-port", true, A},
    {opt::max_established, 0, "max-established", true, A},
    {opt::drain_queue, 0, "drain-queue", true, A},
    {opt::netns_name, 'N', "", true, reading},
    {opt::netns, 0, "netns", true, reading},
    {opt::threads, 0, "threads", true, S | C | E | D | L | T},  // L, T: TCP slices, -p scan
    {opt::netns_owner, 0, "netns-owner", true, S | T | E},      // with --all-netns, top netns
    {opt::scrape_deadline, 0, "scrape-deadline", true, E},
    {opt::watch, 0, "watch", true, S | T},
    {opt::count, 0, "count", true, S | T},
    {opt::interval, 0, "interval", true, D},
    {opt::delta, 0, "delta", true, K},
    {opt::limit, 0, "limit", true, T},
};
inline constexpr std::size_t option_total = std::size(table);

struct command_word {
  command cmd;
  std::string_view word;
};
inline constexpr command_word command_words[] = {
    {command::top, "top"},           {command::counters, "counters"}, {command::check, "check"},
    {command::exporter, "exporter"}, {command::agent, "agent"},       {command::doctor, "doctor"},
    {command::states, "states"},     {command::help, "help"}};

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
