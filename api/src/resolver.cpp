// SPDX-License-Identifier: Apache-2.0
// Name lookups through the C library, as ss does them: services and host names for filters,
// service names and cgroup paths for listings.
#include <dirent.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "ssfast/ssfast.h"

namespace ssfast {
namespace {

// getservbyname_r for one protocol: the port in host order, or -1.
std::int32_t one_service(const std::string& name, const char* proto) noexcept {
  servent se{}, *found = nullptr;
  char buf[1024];
  if (getservbyname_r(name.c_str(), proto, &se, buf, sizeof buf, &found) != 0 || found == nullptr)
    return -1;
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

// ss's parse_hostcond asks for TCP and UDP and refuses a name that differs between them.
std::int32_t service(std::string_view name) {
  const std::string n(name);
  const std::int32_t tcp = one_service(n, "tcp"), udp = one_service(n, "udp");
  if (tcp >= 0 && udp >= 0 && tcp != udp) return -2;
  return tcp >= 0 ? tcp : udp;
}

std::vector<std::pair<std::uint8_t, address_bytes>> host(std::string_view name) {
  std::vector<std::pair<std::uint8_t, address_bytes>> out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  addrinfo* res = nullptr;
  if (getaddrinfo(std::string(name).c_str(), nullptr, &hints, &res) != 0) return out;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    address_bytes b{};
    std::uint8_t family = 0;
    if (a->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(a->ai_addr);
      std::memcpy(b.data(), &in->sin_addr, 4);
      family = AF_INET;
    } else if (a->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ai_addr);
      std::memcpy(b.data(), &in6->sin6_addr, 16);
      family = AF_INET6;
    } else {
      continue;
    }
    bool seen = false;
    for (const auto& [f, x] : out) seen |= f == family && x == b;
    if (!seen) out.emplace_back(family, b);
  }
  freeaddrinfo(res);
  return out;
}

// The first cgroup2 mount point in `proc_root`/self/mountinfo, unescaped (\040 for a space);
// "" when there is none (`ip netns exec` remounts /sys, hiding it, for instance).
std::string cgroup2_mount(const std::string& proc_root) {
  std::ifstream in(proc_root + "/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    const auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::size_t at = 0;
    for (int field = 0; field < 4 && at != std::string::npos; ++field) {
      at = line.find(' ', at);
      if (at != std::string::npos) ++at;
    }
    if (at == std::string::npos) continue;
    const std::string raw = line.substr(at, line.find(' ', at) - at);
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 3 < raw.size()) {
        const std::string oct = raw.substr(i + 1, 3);
        if (oct.find_first_not_of("01234567") == std::string::npos) {
          out.push_back(static_cast<char>(std::stoi(oct, nullptr, 8)));
          i += 3;
          continue;
        }
      }
      out.push_back(raw[i]);
    }
    return out;
  }
  return {};
}

// ss's parse_devcond: an interface's index by name, 0 if none.
std::uint32_t interface(std::string_view name) {
  if (name.size() >= IF_NAMESIZE) return 0;
  return if_nametoindex(std::string(name).c_str());
}

// ss's get_cgroup2_id: a path below the cgroup2 mount to its id, which for cgroup v2 is the
// directory's inode number (kernfs node id; cgroup_id() in include/linux/cgroup.h), the number
// INET_DIAG_CGROUP_ID carries. 0 when there is no such directory or no cgroup2 mount.
std::uint64_t cgroup(std::string_view path) {
  const std::string mount = cgroup2_mount("/proc");
  if (mount.empty()) return 0;
  std::string full = mount;
  if (!path.starts_with('/')) full += '/';
  full += path;
  struct stat st {};
  if (::stat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return 0;
  return static_cast<std::uint64_t>(st.st_ino);
}

// ss's is_ephemeral reads the range this way.
bool ephemeral_range(std::uint16_t& lo, std::uint16_t& hi) {
  std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
  if (f == nullptr) return false;
  unsigned a = 0, b = 0;
  const bool ok = std::fscanf(f, "%u %u", &a, &b) == 2 && a <= 65535 && b <= 65535;
  std::fclose(f);
  if (ok) lo = static_cast<std::uint16_t>(a), hi = static_cast<std::uint16_t>(b);
  return ok;
}

}  // namespace

filter_resolver system_filter_resolver() noexcept {
  filter_resolver r;
  r.service = &service;
  r.host = &host;
  r.interface = &interface;
  r.cgroup = &cgroup;
  r.ephemeral_range = &ephemeral_range;
  return r;
}

}  // namespace ssfast

// ---- Names a listing prints (system_names) ----

namespace ssfast {

struct system_names::impl {
  std::string proc_root;
  bool range_read = false;
  std::uint32_t ephemeral_low = 0, ephemeral_high = 0;
  std::unordered_map<std::uint32_t, std::string> services;  // protocol << 16 | port
  std::unordered_map<std::uint8_t, std::string> protocols;
  bool cgroups_walked = false;
  std::unordered_map<std::uint64_t, std::string> cgroups;
  std::map<std::pair<std::uint8_t, std::array<std::uint8_t, 16>>, std::string> hosts;
  std::string answer;

  bool ephemeral(std::uint16_t port) {
    if (!range_read) {
      range_read = true;
      // ss.c is_ephemeral: 1024-4999 when the range cannot be read.
      ephemeral_low = 1024;
      ephemeral_high = 4999;
      if (std::FILE* f =
              std::fopen((proc_root + "/sys/net/ipv4/ip_local_port_range").c_str(), "re")) {
        unsigned lo = 0, hi = 0;
        if (std::fscanf(f, "%u %u", &lo, &hi) == 2) {
          ephemeral_low = lo;
          ephemeral_high = hi;
        }
        std::fclose(f);
      }
    }
    return port >= ephemeral_low && port <= ephemeral_high;
  }

  // Maps every cgroup directory's inode number (its cgroup id) to its path below the mount,
  // "/" for the root, as ss's cg_init_map walks the tree. Bounded: 64 levels, 1M directories.
  void walk_cgroups() {
    cgroups_walked = true;
    const std::string mount = cgroup2_mount(proc_root);
    if (mount.empty()) return;
    std::size_t budget = 1u << 20;
    struct dir_closer {
      void operator()(DIR* d) const noexcept { closedir(d); }
    };
    auto walk = [&](auto&& self, const std::string& rel, int depth) -> void {
      if (depth > 64 || budget == 0) return;
      --budget;
      struct stat st {};
      const std::string full = mount + rel;
      if (::stat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return;
      cgroups.emplace(static_cast<std::uint64_t>(st.st_ino), rel.empty() ? "/" : rel);
      const std::unique_ptr<DIR, dir_closer> d(opendir(full.c_str()));
      if (!d) return;
      while (const dirent* e = readdir(d.get())) {
        if (e->d_type != DT_DIR) continue;
        const std::string_view name = e->d_name;
        if (name == "." || name == "..") continue;
        self(self, rel + "/" + std::string(name), depth + 1);
      }
    };
    walk(walk, "", 0);
  }
};

system_names::system_names(std::string proc_root) : p_(std::make_unique<impl>()) {
  p_->proc_root = std::move(proc_root);
}
system_names::system_names(system_names&&) noexcept = default;
system_names& system_names::operator=(system_names&&) noexcept = default;
system_names::~system_names() = default;

std::string_view system_names::service(std::uint16_t port, std::uint16_t protocol) {
  if (port == 0 || p_->ephemeral(port)) return {};
  const std::uint32_t key = std::uint32_t{protocol} << 16 | port;
  auto it = p_->services.find(key);
  if (it == p_->services.end()) {
    servent se{}, *found = nullptr;
    char buf[1024];
    std::string name;
    if (getservbyport_r(htons(port), protocol == IPPROTO_UDP ? "udp" : "tcp", &se, buf, sizeof buf,
                        &found) == 0 &&
        found != nullptr && found->s_name != nullptr)
      name = found->s_name;
    it = p_->services.emplace(key, std::move(name)).first;
  }
  return it->second;
}

std::string_view system_names::host(std::uint8_t family, const std::array<std::uint8_t, 16>& a) {
  const auto key = std::make_pair(family, a);
  auto it = p_->hosts.find(key);
  if (it == p_->hosts.end()) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (family == AF_INET) {
      auto* in = reinterpret_cast<sockaddr_in*>(&ss);
      in->sin_family = AF_INET;
      std::memcpy(&in->sin_addr, a.data(), 4);
      len = sizeof *in;
    } else {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
      in6->sin6_family = AF_INET6;
      std::memcpy(&in6->sin6_addr, a.data(), 16);
      len = sizeof *in6;
    }
    char name[NI_MAXHOST] = {};
    std::string found;
    if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, name, sizeof name, nullptr, 0,
                    NI_NAMEREQD) == 0)
      found = name;
    it = p_->hosts.emplace(key, std::move(found)).first;
  }
  return it->second;
}

std::string_view system_names::interface_name(std::uint32_t ifindex) {
  char buf[IF_NAMESIZE + 1] = {};
  if (if_indextoname(ifindex, buf) != nullptr) {
    p_->answer = buf;
  } else {  // ss's ll_index_to_name says "if%u" for an index it cannot name
    p_->answer = "if" + std::to_string(ifindex);
  }
  return p_->answer;
}

std::string_view system_names::cgroup_path(std::uint64_t id) {
  auto it = p_->cgroups.find(id);
  if (it == p_->cgroups.end() && !p_->cgroups_walked) {
    p_->walk_cgroups();
    it = p_->cgroups.find(id);
  }
  if (it != p_->cgroups.end()) return it->second;
  char buf[48];
  std::snprintf(buf, sizeof buf, "unreachable:%llx", static_cast<unsigned long long>(id));
  p_->answer = buf;
  return p_->answer;
}

std::string_view system_names::ip_protocol(std::uint8_t protocol) {
  auto it = p_->protocols.find(protocol);
  if (it == p_->protocols.end()) {
    protoent pe{}, *found = nullptr;
    char buf[1024];
    std::string name;
    if (getprotobynumber_r(protocol, &pe, buf, sizeof buf, &found) == 0 && found != nullptr &&
        found->p_name != nullptr) {
      name = found->p_name;
    } else {
      name = "ipproto-" + std::to_string(protocol);
    }
    it = p_->protocols.emplace(protocol, std::move(name)).first;
  }
  return it->second;
}

std::string_view system_names::process_name(std::uint32_t pid) {
  p_->answer.clear();
  if (pid == 0 || pid > 0x7fffffffu) return p_->answer;
  const std::string path = p_->proc_root + "/" + std::to_string(pid) + "/stat";
  std::FILE* f = std::fopen(path.c_str(), "re");
  if (f == nullptr) return p_->answer;
  char buf[512];
  const std::size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  // "PID (comm) S ...": ss reads up to the first ')' (fscanf "%*d (%[^)])"), so a command
  // holding ')' is cut there, as in ss.
  const std::string_view text(buf, n);
  const std::size_t open = text.find(" (");
  if (open == std::string_view::npos) return p_->answer;
  const std::size_t close = text.find(')', open + 2);
  if (close == std::string_view::npos || close == open + 2) return p_->answer;
  p_->answer = text.substr(open + 2, close - open - 2);
  return p_->answer;
}

}  // namespace ssfast
