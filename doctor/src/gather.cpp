// The doctor's evidence, gathered through the public collector API.
#include "ssfast/doctor/gather.h"

#include <sys/socket.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/report/top.h"

namespace ssfast {
namespace {

constexpr std::uint32_t bit(tcp_state s) { return 1u << static_cast<unsigned>(s); }
constexpr std::size_t top_n = 5;
// Owners are looked up (one scan of /proc/[pid]/fd) only when these show.
constexpr std::uint64_t close_wait_worth_owners = 16;
constexpr double queue_worth_owners = 0.9;

std::string address(std::uint8_t family, const address_bytes& a) {
  std::string s;
  append_address(s, family, a);
  return s;
}

// Raw bytes as a hash key: family, then the given addresses and ports.
void key_bytes(std::string& k, const address_bytes& a) {
  k.append(reinterpret_cast<const char*>(a.data()), a.size());
}
void key_bytes(std::string& k, std::uint16_t port) {
  k.push_back(static_cast<char>(port >> 8));
  k.push_back(static_cast<char>(port & 0xFF));
}

std::string connection_key(const socket_table& t, std::size_t i) {
  std::string k(1, static_cast<char>(t.family()[i]));
  key_bytes(k, t.local_addr()[i]);
  key_bytes(k, t.local_port()[i]);
  key_bytes(k, t.peer_addr()[i]);
  key_bytes(k, t.peer_port()[i]);
  return k;
}

// The largest counts, first, at most n; ties by key for a stable report.
std::vector<keyed_count> largest(const std::unordered_map<std::string, std::uint64_t>& m,
                                 std::size_t n) {
  std::vector<keyed_count> v;
  v.reserve(m.size());
  for (const auto& [k, c] : m) v.push_back({k, c});
  keep_largest(v, n);
  return v;
}

std::string owners_text(const process_owners& owners, std::uint64_t inode,
                        std::vector<process_ref>& scratch) {
  std::string s;
  for (const process_ref& p : owners.owners(inode, scratch)) {
    const std::string one =
        std::string(p.comm.empty() ? "?" : p.comm) + "(" + std::to_string(p.pid) + ")";
    if (s.find(one) != std::string::npos) continue;  // one process, several descriptors
    s += (s.empty() ? "" : ",") + one;
  }
  return s;
}

// Each sysctl the rules read; one that cannot be read is recorded with why, so a rule that
// needs it says it did not run instead of finding nothing.
void read_sysctls(collector& c, doctor_sysctls& s, std::map<std::string, std::string>& unreadable) {
  std::vector<std::int64_t> v;
  auto read = [&](const char* name, std::size_t want) {
    const std::error_code ec = c.read_sysctl(name, v);
    if (!ec && v.size() == want) return true;
    // ENOENT: not on this kernel, or a global sysctl (tcp_mem, tcp_max_orphans) that only the
    // initial network namespace shows.
    unreadable[name] = ec == std::errc::no_such_file_or_directory
                           ? "not in this namespace's /proc/sys (not on this kernel, or global "
                             "and shown only in the initial network namespace)"
                       : ec ? ec.message()
                            : "unexpected text";
    return false;
  };
  auto one = [&](const char* name, std::optional<std::int64_t>& out) {
    if (read(name, 1)) out = v[0];
  };
  one("net.ipv4.tcp_max_tw_buckets", s.tcp_max_tw_buckets);
  one("net.ipv4.tcp_fin_timeout", s.tcp_fin_timeout);
  one("net.ipv4.tcp_tw_reuse", s.tcp_tw_reuse);
  one("net.ipv4.tcp_tw_recycle", s.tcp_tw_recycle);  // ENOENT since Linux 4.12
  one("net.ipv4.tcp_syncookies", s.tcp_syncookies);
  one("net.ipv4.tcp_max_syn_backlog", s.tcp_max_syn_backlog);
  one("net.ipv4.tcp_max_orphans", s.tcp_max_orphans);
  one("net.ipv4.tcp_synack_retries", s.tcp_synack_retries);
  one("net.core.somaxconn", s.somaxconn);
  if (read("net.ipv4.tcp_mem", 3)) s.tcp_mem = {{v[0], v[1], v[2]}};
  if (read("net.ipv4.ip_local_port_range", 2)) s.ip_local_port_range = {{v[0], v[1]}};
}

// All counters; if a file cannot be read, none, and why (the rules that need them say so).
void counters(collector& c, std::map<std::string, std::int64_t>& out,
              std::map<std::string, std::string>& unreadable) {
  std::vector<std::pair<std::string, std::int64_t>> all;
  out.clear();
  if (auto ec = c.read_all_counters(all)) {
    unreadable["counters"] = std::string(c.error_context()) + ": " + ec.message();
    return;
  }
  for (auto& [name, v] : all) out.emplace(std::move(name), v);
}

// The listener a request socket (SYN_RECV) belongs to: one bound to its exact local address
// and port, else a wildcard one of its family, else (an IPv4 request) a dual-stack IPv6
// wildcard one, as the kernel's listener lookup (inet_lhash2_lookup) prefers the exact bind.
// `on_port` holds the indices (into listener_rows) of the listeners on the request's port.
std::optional<std::size_t> owning_listener(const socket_table& t,
                                           const std::vector<std::size_t>& listener_rows,
                                           const std::vector<std::size_t>& on_port,
                                           std::size_t req) {
  std::optional<std::size_t> wildcard, dual;
  const address_bytes any{};
  for (const std::size_t k : on_port) {
    const std::size_t i = listener_rows[k];
    if (t.family()[i] == t.family()[req]) {
      if (t.local_addr()[i] == t.local_addr()[req]) return k;
      if (t.local_addr()[i] == any && !wildcard) wildcard = k;
    } else if (t.family()[i] == AF_INET6 && t.local_addr()[i] == any && !dual) {
      dual = k;
    }
  }
  return wildcard ? wildcard : dual;
}

// The second sample's TCP rows by what the rules need of them.
struct sorted_rows {
  std::vector<std::size_t> listeners, close_wait_persisting, syn_recv;
};

// One pass over the TCP rows: the per-state tallies, the "most" lists, and the rows later
// steps look at again.
sorted_rows sort_rows(const socket_table& t, const std::unordered_set<std::string>& close_wait_before,
                      doctor_evidence& out) {
  std::int64_t lo = 1, hi = 0;
  if (out.sysctls.ip_local_port_range) {
    lo = (*out.sysctls.ip_local_port_range)[0];
    hi = (*out.sysctls.ip_local_port_range)[1];
  }
  sorted_rows rows;
  std::unordered_map<std::string, std::uint64_t> groups, sources, close_wait_ports;
  const auto st = t.state();
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto s = static_cast<tcp_state>(st[i]);
    const std::uint16_t lport = t.local_port()[i];
    switch (s) {
      case tcp_state::listen:
        rows.listeners.push_back(i);
        continue;
      case tcp_state::syn_recv:
      case tcp_state::new_syn_recv:
        // A request socket sits on its listener's address and port; its peer is the client.
        rows.syn_recv.push_back(i);
        ++sources[address(t.family()[i], t.peer_addr()[i])];
        continue;
      case tcp_state::close_wait:
        ++close_wait_ports[std::to_string(lport)];
        if (close_wait_before.count(connection_key(t, i))) {
          ++out.close_wait_persisting;
          rows.close_wait_persisting.push_back(i);
        }
        break;
      case tcp_state::fin_wait2:
        // inode 0: no process holds it; the kernel times it out after tcp_fin_timeout.
        (t.inode()[i] == 0 ? out.fin_wait2_orphaned : out.fin_wait2_held) += 1;
        break;
      default:
        break;
    }
    // A connection this host opened holds a port from ip_local_port_range until its
    // TIME_WAIT ends; one (local address, remote address:port) has only the range's ports.
    if (lport >= lo && lport <= hi) {
      std::string k = address(t.family()[i], t.local_addr()[i]) + " -> " +
                      endpoint_text(t.family()[i], t.peer_addr()[i], t.peer_port()[i]);
      ++groups[k];
    }
  }
  out.ephemeral_groups = largest(groups, top_n);
  out.syn_recv_sources = largest(sources, top_n);
  out.close_wait_ports = largest(close_wait_ports, top_n);
  return rows;
}

// Each listener with its own queues. Request sockets go to the listener that owns them;
// SO_REUSEPORT siblings (the same address and port) cannot be told apart, so they share
// their requests and the sum of their backlogs as one SYN queue. Returns whether a queue is
// backed up enough to be worth naming its owners.
bool add_listeners(const socket_table& t, const sorted_rows& rows, doctor_evidence& out) {
  const auto& listener_rows = rows.listeners;
  std::vector<std::uint64_t> syn_by_listener(listener_rows.size(), 0);
  // Listeners by port: a SYN flood brings many request sockets, and each is matched only
  // against the listeners of its own port (not every listener on the host).
  std::unordered_map<std::uint16_t, std::vector<std::size_t>> by_port;
  for (std::size_t k = 0; k < listener_rows.size(); ++k)
    by_port[t.local_port()[listener_rows[k]]].push_back(k);
  for (std::size_t i : rows.syn_recv) {
    const auto it = by_port.find(t.local_port()[i]);
    if (it == by_port.end()) continue;
    if (const auto k = owning_listener(t, listener_rows, it->second, i)) ++syn_by_listener[*k];
  }
  bool queue_backed_up = false;
  for (std::size_t k = 0; k < listener_rows.size(); ++k) {
    const std::size_t i = listener_rows[k];
    listener_evidence l;
    l.address = endpoint_text(t.family()[i], t.local_addr()[i], t.local_port()[i]);
    l.port = t.local_port()[i];
    l.accept_queue = t.recv_q()[i];
    l.backlog = t.send_q()[i];
    for (const std::size_t m : by_port[l.port]) {
      const std::size_t j = listener_rows[m];
      if (t.family()[j] != t.family()[i] || t.local_addr()[j] != t.local_addr()[i]) continue;
      l.syn_recv += syn_by_listener[m];
      l.syn_backlog += t.send_q()[j];
    }
    // Owners are worth a scan once a queue is past its backlog (a backlog of 0 included) or
    // nearly there.
    queue_backed_up |= l.accept_queue > l.backlog ||
                       (l.accept_queue >= 2 && l.accept_queue >= queue_worth_owners * l.backlog);
    out.listeners.push_back(std::move(l));
  }
  return queue_backed_up;
}

// Who holds the CLOSE_WAIT connections that persisted, and each listener.
void add_owners(const socket_table& t, const sorted_rows& rows, const doctor_options& o,
                doctor_evidence& out) {
  process_owners owners;
  if (owners.scan(o.proc_root)) return;
  std::vector<process_ref> scratch;
  std::unordered_map<std::string, std::uint64_t> by_process;
  for (std::size_t i : rows.close_wait_persisting) {
    const std::string who = owners_text(owners, t.inode()[i], scratch);
    if (!who.empty()) ++by_process[who];
  }
  out.close_wait_processes = largest(by_process, top_n);
  for (std::size_t k = 0; k < rows.listeners.size(); ++k)
    out.listeners[k].processes = owners_text(owners, t.inode()[rows.listeners[k]], scratch);
}

}  // namespace

std::error_code gather_doctor_evidence(collector& c, const doctor_options& o,
                                       doctor_evidence& out) {
  out = doctor_evidence{};
  out.interval_s = o.interval_s;
  out.backlog_known = c.source() == source_kind::netlink;
  utsname u{};
  if (uname(&u) == 0) out.kernel_release = u.release;
  read_sysctls(c, out.sysctls, out.unreadable);

  socket_query q;
  q.scope.udp = q.scope.unix_domain = false;
  socket_table t;
  // The first sample: counters, and which connections are in CLOSE_WAIT.
  counters(c, out.counters_before, out.unreadable);
  q.states = bit(tcp_state::close_wait);
  if (auto ec = c.list(t, q)) return ec;
  std::unordered_set<std::string> close_wait_before;
  for (std::size_t i = 0; i < t.size(); ++i) close_wait_before.insert(connection_key(t, i));

  std::this_thread::sleep_for(std::chrono::duration<double>(o.interval_s));

  // The second: counters, every TCP socket, and UDP and UNIX counted (TCP's histogram comes
  // from the listing: one dump of TCP, not two).
  counters(c, out.counters_after, out.unreadable);
  count_scope others;
  others.tcp = false;
  if (auto ec = c.count(out.sockets, others)) return ec;
  q.states = abi::tcp_all_states;  // request sockets included (they report SYN_RECV)
  if (auto ec = c.list(t, q)) return ec;
  out.sockets.scope.tcp = true;
  for (std::size_t i = 0; i < t.size(); ++i)
    out.sockets.tcp[t.family()[i] == AF_INET6 ? 1 : 0][t.state()[i]] += 1;

  const sorted_rows rows = sort_rows(t, close_wait_before, out);
  const bool queue_backed_up = add_listeners(t, rows, out);
  if (o.processes && (out.close_wait_persisting >= close_wait_worth_owners || queue_backed_up))
    add_owners(t, rows, o, out);
  return {};
}

}  // namespace ssfast
