// SPDX-License-Identifier: Apache-2.0
// Renderers for every namespace at once (ssfast -s --all-netns): a table for people, JSON for
// machines.
#pragma once

#include <string>
#include <vector>

#include "ssfast/all_netns.h"
#include "ssfast/core/export.h"

namespace ssfast {

/// Appends one row per namespace in the order given (ranked by count_all_netns: tier, then
/// largest first): its inode, ip netns name, lowest pid and comm, container (12 characters, as
/// docker ps shows it) and pod UID ('-' where none), TCP per state in netstat's order, UDP,
/// UNIX and total; a namespace that could not be read (or was gone, or past the deadline)
/// shows '-' counts and why. Excluded namespaces get no row. Then a total line, and how many
/// were not read, gone, past the deadline or excluded. Names are escaped. Allocates.
SSFAST_API void render_all_netns_text(const std::vector<netns_count>& ns, const count_scope& scope,
                                      std::string& out);

/// Appends {"namespaces": [{"netns", "tier", "name", "pid", "comm", "container", "pod_uid",
/// "source", "tcp", "udp", "unix"} or, not counted, {..., ["gone": true | "deadline": true,]
/// "error"}], "total": {"namespaces", "unread", "gone", "deadline", "excluded", "tcp", "udp",
/// "unix"}} and a newline; tcp, udp and unix have exactly the keys of ssfast -s -j. Excluded
/// namespaces are only counted in "excluded"; "namespaces" counts the entries listed.
SSFAST_API void render_all_netns_json(const std::vector<netns_count>& ns, const count_scope& scope,
                                      std::string& out);

/// At most this many namespaces get series (the first in rank); the rest are counted as capped.
inline constexpr std::size_t max_netns_series = 500;

/// Appends Prometheus text (0.0.4) for every namespace with sockets, in the order given, at most
/// `max_namespaces`: ssfast_netns_tcp_sockets{netns,name,container,pod_uid,state} (the eleven
/// states), ssfast_netns_udp_sockets and ssfast_netns_unix_sockets with the same identity
/// labels, and ssfast_netns_namespaces{status} (counted, unread, empty, capped, gone, excluded,
/// deadline): namespaces without sockets, past the cap or not counted get no series, only their
/// number. Label values are escaped
/// (\\, \", \n). Allocates to grow `out`.
SSFAST_API void render_all_netns_prometheus(const std::vector<netns_count>& ns,
                                            std::size_t max_namespaces, std::string& out);

/// How many processes' namespaces discovery could not read, and what that means for this
/// process: "3 of 250 processes' namespaces could not be read (run as root to see every
/// namespace)", or as root "(refused even to root: a sandboxed process)". Empty when none.
/// What -s --all-netns and top netns say on stderr and the exporter logs. Allocates.
SSFAST_API std::string unread_processes_note(const all_netns_stats& s);

/// "2 of 830 namespaces not counted within the 7.5 s deadline"; empty when none was late.
/// Allocates.
SSFAST_API std::string late_namespaces_note(const std::vector<netns_count>& ns, double deadline_s);

}  // namespace ssfast
