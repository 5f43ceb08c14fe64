// SPDX-License-Identifier: Apache-2.0
// The network namespaces of a host, found in /proc: those of every process, and those pinned
// by a bind mount with no process in them (ip netns, container runtimes), with who is in each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ssfast::proc {

/// What a cgroup path says of the container a process runs in. Empty where it says nothing.
struct container_identity {
  std::string container;  ///< the runtime's 64-hex container id (Docker, containerd, CRI-O)
  std::string pod_uid;    ///< the Kubernetes pod UID, dashed (8-4-4-4-12)
};

/// Reads /proc/PID/cgroup text (cgroup v2 "0::/path" or v1 "N:controllers:/path" lines) for a
/// container id and a pod UID in the shapes the runtimes write: Docker ("/docker/ID",
/// "docker-ID.scope"), containerd ("cri-containerd-ID.scope", "/kubepods/.../podUID/ID"),
/// CRI-O ("crio-ID.scope"; "crio-conmon-ID.scope" is the monitor, not the container), and
/// the kubelet's pod slices ("kubepods-burstable-podUID_WITH_UNDERSCORES.slice"). Pure; no
/// allocation beyond the result.
container_identity parse_container_identity(std::string_view cgroup_text);

/// One way to open a network namespace: a pinning mount or a process's ns/net, with the
/// device and inode it had when found (an open is checked against both: a PID reused, or a
/// mount point mounted over, opens something else under the same path).
struct netns_path {
  std::string path;
  std::uint32_t pid = 0;  ///< the process, for /proc/PID/ns/net; 0 for a mount
  std::uint64_t dev = 0;  ///< st_dev of the namespace file (nsfs)
};

/// One network namespace.
struct netns_entry {
  std::uint64_t inode = 0;  ///< its nsfs inode, as `lsns -t net` and `ip netns identify` show it
  std::string path;         ///< a file that opens it: /proc/PID/ns/net, or the pinning mount
  std::string name;         ///< its `ip netns` name (a mount under /run/netns), if any
  std::uint32_t pid = 0;    ///< the lowest pid in it; 0 when no process is in it
  std::string comm;         ///< that process's command name
  container_identity id;    ///< from that process's cgroup path
  /// Every way found to open it: its mounts (an ip netns name first), then each process in
  /// it by pid, lowest first. `path` is the first; when it is gone, the next may still work.
  std::vector<netns_path> paths;
};

/// How discovery went.
struct netns_discovery_stats {
  std::size_t processes = 0;   ///< process directories seen
  std::size_t unreadable = 0;  ///< processes whose ns/net could not be read (permission)
  std::size_t pinned = 0;      ///< nsfs mounts of network namespaces found in mountinfo
};

/// Every network namespace under `proc_root`: one stat of /proc/PID/ns/net per process
/// (deduplicated by inode, the lowest pid kept), then the nsfs mounts in
/// /proc/self/mountinfo (read to its end, however many mounts the host has) whose root is
/// "net:[INODE]" (ip netns's /run/netns/NAME, Docker's /run/docker/netns/ID, or wherever a
/// runtime put them: found, not guessed). Sorted by inode.
/// Reads comm and cgroup once per namespace found. Errors: `proc_root` unreadable.
std::error_code discover_netns(const std::string& proc_root, std::vector<netns_entry>& out,
                               netns_discovery_stats& stats);

}  // namespace ssfast::proc
