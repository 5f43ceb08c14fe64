// SPDX-License-Identifier: Apache-2.0
// Network namespace discovery: every process's namespace and every pinned one, with the
// process, its name and the container it runs in.
#include "ssfast/proc/namespaces.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <iterator>
#include <map>
#include <vector>

#include "ssfast/core/error.h"

namespace ssfast::proc {
namespace {

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A pod UID as the kubelet writes it in a cgroup path: after "pod", 36 characters of hex and
// '-' (cgroupfs driver) or '_' (systemd driver, where '-' separates slice names).
std::string pod_uid_in(std::string_view path) {
  for (std::size_t at = path.find("pod"); at != std::string_view::npos;
       at = path.find("pod", at + 3)) {
    const std::string_view rest = path.substr(at + 3);
    if (rest.size() < 36) break;
    std::string uid(rest.substr(0, 36));
    for (char& c : uid)
      if (c == '_') c = '-';
    bool shaped = true;
    for (std::size_t i = 0; i < 36 && shaped; ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      shaped = dash ? uid[i] == '-' : is_hex(std::string_view(&uid[i], 1));
    }
    const bool ends = rest.size() == 36 || rest[36] == '/' || rest[36] == '.';
    if (shaped && ends) return uid;
  }
  return {};
}

// The container id in the last path component that names one.
std::string container_in(std::string_view path) {
  std::string found;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    std::string_view part =
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    start = slash == std::string_view::npos ? path.size() + 1 : slash + 1;
    if (part.ends_with(".scope")) part.remove_suffix(6);
    if (part.starts_with("crio-conmon-")) continue;  // CRI-O's monitor, not the container
    for (std::string_view prefix :
         {"docker-", "cri-containerd-", "crio-", "containerd-", "libpod-"})
      if (part.starts_with(prefix)) {
        part.remove_prefix(prefix.size());
        break;
      }
    if (part.size() == 64 && is_hex(part)) found = std::string(part);
  }
  return found;
}

// Up to `limit` bytes of a file (O_NONBLOCK: a FIFO planted under a proc root cannot hang
// the open). comm and cgroup are small; mountinfo is read to its end (a Kubernetes node's
// 1,500 mounts make 100 KB), bounded only against a file that never ends.
std::string read_text(int dir, const std::string& rel, std::size_t limit) {
  const int fd = ::openat(dir, rel.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return {};
  char buf[16384];
  std::string text;
  for (ssize_t n; text.size() < limit && (n = ::read(fd, buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return text;
}

constexpr std::size_t small_file_limit = 65536;
constexpr std::size_t mountinfo_limit = std::size_t{256} << 20;

// mountinfo escapes ' ', '\t', '\n' and '\\' in paths as \ooo.
std::string unescape(std::string_view s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 4 <= s.size() && octal(s[i + 1]) && octal(s[i + 2]) &&
        octal(s[i + 3])) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Network namespaces pinned by nsfs mounts: inode -> its mount points, with the device
// mountinfo gives (MAJ:MIN of the nsfs superblock).
std::map<std::uint64_t, std::vector<netns_path>> pinned_netns(const std::string& mountinfo) {
  std::map<std::uint64_t, std::vector<netns_path>> out;
  std::size_t start = 0;
  while (start < mountinfo.size()) {
    std::size_t end = mountinfo.find('\n', start);
    if (end == std::string::npos) end = mountinfo.size();
    const std::string_view line(mountinfo.data() + start, end - start);
    start = end + 1;
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    std::string_view f[5];
    std::size_t at = 0;
    for (int i = 0; i < 5; ++i) {
      const std::size_t sp = line.find(' ', at);
      f[i] = line.substr(at, sp == std::string_view::npos ? line.npos : sp - at);
      at = sp == std::string_view::npos ? line.size() : sp + 1;
    }
    const std::size_t dash = line.find(" - nsfs ");
    if (dash == std::string_view::npos || !f[3].starts_with("net:[") || !f[3].ends_with("]"))
      continue;
    std::uint64_t inode = 0;
    const std::string_view digits = f[3].substr(5, f[3].size() - 6);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
    if (ec != std::errc{} || p != digits.data() + digits.size()) continue;
    unsigned major = 0, minor = 0;
    const std::size_t colon = f[2].find(':');
    if (colon != std::string_view::npos) {
      std::from_chars(f[2].data(), f[2].data() + colon, major);
      std::from_chars(f[2].data() + colon + 1, f[2].data() + f[2].size(), minor);
    }
    netns_path way{unescape(f[4]), 0, static_cast<std::uint64_t>(makedev(major, minor))};
    auto& ways = out[inode];
    // An ip netns name comes first: it names the namespace, and it is where `ip` looks.
    if (way.path.starts_with("/run/netns/"))
      ways.insert(ways.begin(), std::move(way));
    else
      ways.push_back(std::move(way));
  }
  return out;
}

}  // namespace

container_identity parse_container_identity(std::string_view text) {
  container_identity id;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    // "HIERARCHY:CONTROLLERS:PATH"; the path may itself hold ':'.
    const std::size_t a = line.find(':');
    const std::size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (b == std::string_view::npos) continue;
    const std::string_view path = line.substr(b + 1);
    if (id.container.empty()) id.container = container_in(path);
    if (id.pod_uid.empty()) id.pod_uid = pod_uid_in(path);
  }
  return id;
}

std::error_code discover_netns(const std::string& proc_root, std::vector<netns_entry>& out,
                               netns_discovery_stats& stats) {
  out.clear();
  stats = {};
  const int root = ::open(proc_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return errno_code(errno);
  DIR* d = ::fdopendir(::dup(root));
  if (d == nullptr) {
    const int e = errno;
    ::close(root);
    return errno_code(e);
  }
  std::map<std::uint64_t, netns_entry> by_inode;
  while (const dirent* e = ::readdir(d)) {
    std::uint32_t pid = 0;
    const std::string_view name = e->d_name;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc{} || p != name.data() + name.size()) continue;
    ++stats.processes;
    struct stat st {};
    const std::string ns = std::string(name) + "/ns/net";
    if (::fstatat(root, ns.c_str(), &st, 0) != 0) {
      if (errno == EACCES || errno == EPERM) ++stats.unreadable;
      continue;  // ENOENT: the process exited, or a kernel thread's ns is not readable
    }
    netns_entry& n = by_inode[static_cast<std::uint64_t>(st.st_ino)];
    n.inode = static_cast<std::uint64_t>(st.st_ino);
    n.paths.push_back({proc_root + "/" + ns, pid, static_cast<std::uint64_t>(st.st_dev)});
  }
  ::closedir(d);
  for (auto& [inode, n] : by_inode) {
    std::sort(n.paths.begin(), n.paths.end(),
              [](const netns_path& a, const netns_path& b) { return a.pid < b.pid; });
    n.pid = n.paths.front().pid;
    n.path = n.paths.front().path;
    const std::string dir = std::to_string(n.pid) + "/";
    n.comm = read_text(root, dir + "comm", small_file_limit);
    if (!n.comm.empty() && n.comm.back() == '\n') n.comm.pop_back();
    n.id = parse_container_identity(read_text(root, dir + "cgroup", small_file_limit));
  }
  for (auto& [inode, ways] : pinned_netns(read_text(root, "self/mountinfo", mountinfo_limit))) {
    stats.pinned += ways.size() > 0 ? 1 : 0;
    netns_entry& n = by_inode[inode];
    n.inode = inode;
    if (ways.front().path.starts_with("/run/netns/")) n.name = ways.front().path.substr(11);
    n.path = ways.front().path;  // a mount outlives the processes in it
    n.paths.insert(n.paths.begin(), std::make_move_iterator(ways.begin()),
                   std::make_move_iterator(ways.end()));
  }
  ::close(root);
  out.reserve(by_inode.size());
  for (auto& [inode, n] : by_inode) out.push_back(std::move(n));
  return {};
}

}  // namespace ssfast::proc
