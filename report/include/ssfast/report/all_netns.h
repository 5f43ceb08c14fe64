// Renderers for every namespace at once (ssfast -s --all-netns): a table for people, JSON for
// machines.
#pragma once

#include <string>
#include <vector>

#include "ssfast/all_netns.h"
#include "ssfast/core/export.h"

namespace ssfast {

/// Appends one row per namespace in the order given (largest first from count_all_netns): its
/// inode, ip netns name, lowest pid and comm, container (12 characters, as docker ps shows
/// it) and pod UID ('-' where none), TCP per state in netstat's order, UDP, UNIX and total;
/// a namespace that could not be read shows '-' counts and its error. Then a total line, and
/// how many were not read. Names are escaped. Allocates to grow `out`.
SSFAST_API void render_all_netns_text(const std::vector<netns_count>& ns, const count_scope& scope,
                                      std::string& out);

/// Appends {"namespaces": [{"netns", "name", "pid", "comm", "container", "pod_uid", "source",
/// "tcp", "udp", "unix"} or, unread, {..., "error"}], "total": {"namespaces", "unread", "tcp",
/// "udp", "unix"}} and a newline; tcp, udp and unix have exactly the keys of ssfast -s -j.
SSFAST_API void render_all_netns_json(const std::vector<netns_count>& ns, const count_scope& scope,
                                      std::string& out);

}  // namespace ssfast
