// SPDX-License-Identifier: Apache-2.0
// Every network namespace on the host at once: found in /proc, counted in parallel, each with
// who is in it (process, ip netns name, container, pod).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/ssfast.h"

namespace ssfast {

/// One way to open a namespace, as discovery found it: a pinning mount or /proc/PID/ns/net,
/// with the device and inode the opened file must have (else it is something else now: a
/// reused PID, a mount point mounted over).
struct netns_way {
  std::string path;
  std::uint32_t pid = 0;  ///< the process, for /proc/PID/ns/net; 0 for a mount
  std::uint64_t dev = 0;  ///< st_dev expected (nsfs); the inode is netns_count::inode
};

/// How much an operator cares about a namespace, most first: the order namespaces are counted
/// in (so a deadline cuts the last), listed in, and kept in under a series cap.
enum class netns_tier : std::uint8_t {
  host = 1,   ///< the caller's own namespace, or PID 1's (the host's, seen from a container)
  named = 2,  ///< pinned under /run/netns (`ip netns add`): an operator named it
  /// Owned by the initial user namespace: what root or a runtime made (containers, pods), or
  /// one whose owner could not be asked (not opened). A cgroup path's container or pod id
  /// never raises a tier: a delegated cgroup subtree can forge one.
  initial_owner = 3,
  /// Owned by another user namespace: what an unprivileged user may make by the hundred
  /// (`unshare -Urn`). Last, and left out with netns_owner::init.
  other_owner = 4,
};

/// Which namespaces a run counts.
enum class netns_owner : std::uint8_t {
  any,   ///< every namespace found
  init,  ///< not those owned by another user namespace (netns_tier::other_owner): `excluded`
};

/// One namespace and its counts.
struct netns_count {
  std::uint64_t inode = 0;  ///< its nsfs inode (`lsns -t net`, `ip netns identify`)
  std::string path;         ///< the file it was opened through
  std::string name;         ///< its `ip netns` name, if pinned under /run/netns
  std::uint32_t pid = 0;    ///< the lowest pid in it (0: no process, only a mount pins it)
  std::string comm;         ///< that process's command name (input others control: escape it)
  std::string container;    ///< the container id its cgroup path names, if any
  std::string pod_uid;      ///< the Kubernetes pod UID its cgroup path names, if any
  source_kind source = source_kind::netlink;  ///< what answered for it
  socket_summary sockets;      ///< valid when !error (not counted when a query was given)
  std::uint64_t matching = 0;  ///< with all_netns_options::query: the sockets it selects
  std::error_code error;       ///< why it could not be counted
  std::string error_text;      ///< that, as one line naming the step ("setns: ...")
  /// It vanished between discovery and its count (every process in it exited and no mount
  /// holds it: a short-lived container): not an error of the run, though `error` is set so
  /// nothing sums it.
  bool gone = false;
  /// Not counted by choice (all_netns_options::owner): `error` is set so nothing sums it.
  bool excluded = false;
  /// Not counted because all_netns_options::deadline had passed before its turn came.
  bool past_deadline = false;
  netns_tier tier = netns_tier::initial_owner;
  std::vector<netns_way> ways;  ///< how to reach it: mounts, then processes by pid

  /// Could not be read: an error of the run (not gone, excluded or past the deadline).
  bool unread() const noexcept { return error && !gone && !excluded && !past_deadline; }
};

struct all_netns_options {
  count_scope scope;
  /// How each namespace's count obtains ESTABLISHED (collector::count): derived from that
  /// namespace's own gauges (read through /proc/thread-self in it), else walked.
  count_method method = count_method::exact;
  unsigned threads = 0;             ///< 0: the CPUs, at most 8
  std::string proc_root = "/proc";  ///< where processes and mounts are found
  /// Set: instead of counting `scope`, list what the query selects in each namespace (the
  /// filter runs in the kernel) and report how many in netns_count::matching.
  const socket_query* query = nullptr;
  /// With a query: called with each namespace's listing, on the worker thread that made it
  /// (so it must be thread-safe), before the listing is freed.
  std::function<void(const netns_count&, const socket_table&)> on_listing;
  /// netns_owner::init: namespaces owned by other user namespaces are not opened or counted.
  netns_owner owner = netns_owner::any;
  /// Namespaces whose turn comes after this are not counted (`past_deadline`); the run answers
  /// with those it counted. Counts in progress finish (each is one namespace's dump). max(): none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

/// What discovery saw.
struct all_netns_stats {
  std::size_t processes = 0;   ///< process directories seen
  std::size_t unreadable = 0;  ///< processes whose namespace could not be read (permission)
  std::size_t pinned = 0;      ///< nsfs mounts of network namespaces
};

/// Finds every network namespace (each process's, deduplicated, and every pinned one) and
/// counts `scope` in each, in parallel: `threads` threads, each entering one namespace at a
/// time with setns(2) (the thread's own namespace only; no process is started) and counting
/// over netlink there, /proc through /proc/thread-self. Where setns is refused (no
/// CAP_SYS_ADMIN) a namespace with a process is counted from /proc/PID/net instead, which
/// its owner may read; where that fails too, its error is set and it stays in `out`, never
/// left out. `out` is ranked: by netns_tier, then by total sockets (or matching ones), largest
/// first, then by inode; the namespaces are counted in tier order, so a deadline leaves out the
/// last tiers first. Allocates; one
/// sock_diag socket per namespace, closed after. Errors: only `proc_root` unreadable; per-namespace
/// failures are in `out`.
SSFAST_API std::error_code count_all_netns(const all_netns_options& o,
                                           std::vector<netns_count>& out, all_netns_stats& stats);

/// count_all_netns in two steps. First the discovery alone: every namespace with its identity,
/// `ways` and `tier`, nothing counted (sorted by inode). The tier opens each namespace once and
/// asks its owner (NS_GET_USERNS); no socket is read. Errors: only `proc_root` unreadable, or
/// errc::not_procfs when "/proc" is not a proc filesystem (an empty tmpfs over it).
SSFAST_API std::error_code find_all_netns(const all_netns_options& o, std::vector<netns_count>& out,
                                          all_netns_stats& stats);

/// Then the counts, in parallel as count_all_netns does: each namespace is opened by its first
/// way that still leads to it (a way that is gone, ENOENT or ESRCH, or opens another device
/// or inode is passed over) and counted there; one that no way leads to any more is `gone`.
/// `o.owner` and `o.deadline` apply here. Ranked as count_all_netns ranks. Errors: no thread could
/// start.
SSFAST_API std::error_code count_found_netns(const all_netns_options& o,
                                             std::vector<netns_count>& ns);

}  // namespace ssfast
