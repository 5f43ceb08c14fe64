// SPDX-License-Identifier: Apache-2.0
// The doctor's evidence, gathered through the public collector API.
#include "ssfast/doctor/gather.h"

#include <sys/socket.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "ssfast/core/addresses.h"
#include "ssfast/core/derivation.h"
#include "ssfast/core/grouping.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"

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

// A group key and its count, ranked as `top` ranks: largest first, equal counts in key order.
template <std::size_t N>
struct ranked {
  group_key<N> key;
  std::uint64_t count = 0;
};

// The largest groups, first, at most n, equal counts in key order (as top ranks them); only
// those are formatted.
template <std::size_t N, class Format>
std::vector<keyed_count> largest(std::vector<ranked<N>> v, std::size_t n, Format&& format) {
  keep_largest(v, n);
  std::vector<keyed_count> out;
  out.reserve(v.size());
  for (const auto& g : v) out.push_back({format(g.key), g.count});
  return out;
}

template <std::size_t N, class Format>
std::vector<keyed_count> largest(const group_counts<N>& m, std::size_t n, Format&& format) {
  std::vector<ranked<N>> v;
  v.reserve(m.size());
  for (const auto& [k, c] : m) v.push_back({k, c});
  return largest(std::move(v), n, std::forward<Format>(format));
}

std::string address_text(const address_group& k) { return address(k[0], address_at(&k[1])); }

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
void read_sysctls_into(collector& c, doctor_sysctls& s,
                       std::map<std::string, std::string>& unreadable) {
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
// `on_port` holds the rows (of `t`, the listeners) on the request's port.
std::optional<std::size_t> owning_listener(const socket_table& t,
                                           const std::vector<std::size_t>& on_port,
                                           std::uint8_t family, const address_bytes& local) {
  std::optional<std::size_t> wildcard, dual;
  const address_bytes any{};
  for (const std::size_t i : on_port) {
    if (t.family()[i] == family) {
      if (t.local_addr()[i] == local) return i;
      if (t.local_addr()[i] == any && !wildcard) wildcard = i;
    } else if (t.family()[i] == AF_INET6 && t.local_addr()[i] == any && !dual) {
      dual = i;
    }
  }
  return wildcard ? wildcard : dual;
}

// A CLOSE_WAIT connection across the two samples: its socket cookie (netlink), else its inode
// (/proc, which has no cookie; a CLOSE_WAIT socket is still held, so its inode is not 0).
std::uint64_t connection_id(const socket_table& t, std::size_t i) {
  return t.cookie()[i] != 0 ? t.cookie()[i] : t.inode()[i];
}

// The first sample: which connections are in CLOSE_WAIT, and each listener's drop counter
// (by socket cookie).
struct first_sample final : row_sink {
  std::unordered_set<std::uint64_t> ids;
  std::unordered_map<std::uint64_t, std::uint32_t> listener_drops;
  std::error_code on_rows(const socket_table& t) noexcept override {
    try {
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t.state()[i] == static_cast<std::uint8_t>(tcp_state::listen))
          listener_drops[t.cookie()[i]] = t.drops()[i];
        else
          ids.insert(connection_id(t, i));
      }
      return {};
    } catch (const std::bad_alloc&) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
  }
};

// The second sample, taken as the dump is parsed: per-state tallies and the groups the rules
// rank, in memory that follows the groups; only listeners (a few) are kept as rows.
struct second_sample final : row_sink {
  doctor_evidence& out;
  const std::unordered_set<std::uint64_t>& close_wait_before;
  std::int64_t lo = 1, hi = 0;  // ip_local_port_range
  socket_table listeners;
  // Request sockets by their listener's endpoint (family, address, port) and their client
  // (address_key: family, address), and their SYN-ACK retransmissions by endpoint.
  group_counts<36> requests;
  group_counts<19> request_retrans;
  group_counts<17> sources;  // request sockets by address_key: the client
  std::array<std::uint64_t, 65536> close_wait_ports{};
  group_counts<35> flows;                        // ephemeral-port connections by flow
  std::vector<std::uint64_t> persisting_inodes;  // CLOSE_WAIT at both ends, for owners
  first_sample* next = nullptr;  // when set: this sample's CLOSE_WAIT ids, for the next
  // Per family: the full sockets in every state but ESTABLISHED (what sockstat's inuse counts
  // beside ESTABLISHED: no timewait, timer 3, nor request socket), and the ESTABLISHED ones
  // on a local port of the ephemeral range (the connections this host opened).
  std::array<std::uint64_t, 2> full_other{}, ephemeral_established{};

  second_sample(doctor_evidence& o, const std::unordered_set<std::uint64_t>& before)
      : out(o), close_wait_before(before) {
    if (out.sysctls.ip_local_port_range) {
      lo = (*out.sysctls.ip_local_port_range)[0];
      hi = (*out.sysctls.ip_local_port_range)[1];
    }
  }

  std::error_code on_rows(const socket_table& t) noexcept override {
    try {
      add(t);
      return {};
    } catch (const std::bad_alloc&) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
  }

  void add(const socket_table& t) {
    const auto st = t.state();
    for (std::size_t i = 0; i < t.size(); ++i) {
      const std::uint8_t family = t.family()[i];
      const std::size_t fi = family == AF_INET6 ? 1 : 0;
      out.sockets.tcp[fi][st[i]] += 1;
      const auto s = static_cast<tcp_state>(st[i]);
      const std::uint16_t lport = t.local_port()[i];
      if (s == tcp_state::established)
        ephemeral_established[fi] += lport >= lo && lport <= hi;
      else if (t.timer()[i] != 3 && s != tcp_state::syn_recv && s != tcp_state::new_syn_recv)
        ++full_other[fi];
      switch (s) {
        case tcp_state::listen: listeners.append(t.row(i)); continue;
        case tcp_state::syn_recv:
        case tcp_state::new_syn_recv: {
          // A request socket sits on its listener's address and port; its peer is the client.
          // Its idiag_retrans is the request's num_retrans (inet_req_diag_fill()).
          const address_group client = address_key(family, t.peer_addr()[i]);
          group_key<36> k{family};
          const std::size_t at = put(k, put(k, 1, t.local_addr()[i]), lport);
          std::copy(client.begin(), client.end(), k.begin() + static_cast<std::ptrdiff_t>(at));
          ++requests[k];
          ++sources[client];
          if (const std::uint8_t r = t.retrans()[i]; r != 0) {
            endpoint_group e{family};
            put(e, put(e, 1, t.local_addr()[i]), lport);
            request_retrans[e] += r;
            out.synack_retrans += r;
          }
          continue;
        }
        case tcp_state::syn_sent:
          // Its idiag_retrans is icsk_retransmits: the SYN's retransmissions so far.
          ++out.syn_sent;
          out.syn_sent_retrans += t.retrans()[i];
          break;
        case tcp_state::close_wait:
          ++close_wait_ports[lport];
          if (next != nullptr) next->ids.insert(connection_id(t, i));
          if (close_wait_before.count(connection_id(t, i))) {
            ++out.close_wait_persisting;
            persisting_inodes.push_back(t.inode()[i]);
          }
          break;
        case tcp_state::fin_wait2:
          // inode 0: no process holds it; the kernel times it out after tcp_fin_timeout.
          (t.inode()[i] == 0 ? out.fin_wait2_orphaned : out.fin_wait2_held) += 1;
          break;
        default: break;
      }
      // A connection this host opened holds a port from ip_local_port_range until its
      // TIME_WAIT ends; one (local address, remote address:port) has only the range's ports.
      if (lport >= lo && lport <= hi) {
        flow_group f{family};
        put(f, put(f, put(f, 1, t.local_addr()[i]), t.peer_addr()[i]), t.peer_port()[i]);
        ++flows[f];
      }
    }
  }

  // The "most" lists, formatted.
  void rank() {
    out.ephemeral_groups = largest(flows, top_n, [](const flow_group& k) {
      return address(k[0], address_at(&k[1])) + " -> " +
             endpoint_text(k[0], address_at(&k[17]), port_at(&k[33]));
    });
    out.syn_recv_sources = largest(sources, top_n, address_text);
    std::unordered_map<std::string, std::uint64_t> ports;
    for (std::size_t p = 0; p < close_wait_ports.size(); ++p)
      if (close_wait_ports[p] != 0) ports[std::to_string(p)] = close_wait_ports[p];
    out.close_wait_ports = largest(ports, top_n);
  }
};

// Each listener with its own queues and drops. Request sockets go to the listener that owns
// them; SO_REUSEPORT siblings (the same address and port) cannot be told apart, so they share
// their requests, sources and retransmissions, and the sum of their backlogs. Returns whether
// an accept queue is backed up enough to be worth naming its owners.
bool add_listeners(const second_sample& sample, const first_sample& before, bool drops_known,
                   doctor_evidence& out) {
  const socket_table& t = sample.listeners;
  std::vector<std::uint64_t> syn_by(t.size(), 0), retrans_by(t.size(), 0);
  std::vector<std::vector<ranked<17>>> sources_by(t.size());
  // Listeners by port: each group of request sockets is matched only against the listeners
  // of its own port (not every listener on the host).
  std::unordered_map<std::uint16_t, std::vector<std::size_t>> by_port;
  for (std::size_t i = 0; i < t.size(); ++i) by_port[t.local_port()[i]].push_back(i);
  auto owner = [&](std::uint8_t family, const std::uint8_t* local) -> std::optional<std::size_t> {
    const auto it = by_port.find(port_at(local + 16));
    if (it == by_port.end()) return std::nullopt;
    return owning_listener(t, it->second, family, address_at(local));
  };
  for (const auto& [k, count] : sample.requests) {
    if (const auto i = owner(k[0], &k[1])) {
      syn_by[*i] += count;
      ranked<17> source;
      std::copy(k.begin() + 19, k.end(), source.key.begin());
      source.count = count;
      sources_by[*i].push_back(source);
    }
  }
  for (const auto& [k, retrans] : sample.request_retrans)
    if (const auto i = owner(k[0], &k[1])) retrans_by[*i] += retrans;
  std::vector<std::uint64_t> delta(t.size(), 0);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const auto was = before.listener_drops.find(t.cookie()[i]);
    const std::uint64_t now = t.drops()[i];
    // A listener absent from the first sample is new: all its drops are the interval's.
    delta[i] = was == before.listener_drops.end() ? now
               : now >= was->second               ? now - was->second
                                                  : 0;
  }
  bool queue_backed_up = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    listener_evidence l;
    l.address = endpoint_text(t.family()[i], t.local_addr()[i], t.local_port()[i]);
    l.family = t.family()[i];
    l.local = t.local_addr()[i];
    l.port = t.local_port()[i];
    l.accept_queue = t.recv_q()[i];
    l.backlog = t.send_q()[i];
    l.drops_known = drops_known;
    l.drops = t.drops()[i];
    l.drops_delta = delta[i];
    l.siblings = 0;
    std::vector<ranked<17>> sources;
    for (const std::size_t j : by_port[l.port]) {
      if (t.family()[j] != t.family()[i] || t.local_addr()[j] != t.local_addr()[i]) continue;
      ++l.siblings;
      l.syn_recv += syn_by[j];
      l.syn_backlog += t.send_q()[j];
      l.synack_retrans += retrans_by[j];
      l.address_drops_delta += delta[j];
      sources.insert(sources.end(), sources_by[j].begin(), sources_by[j].end());
    }
    l.syn_sources = largest(std::move(sources), top_n, address_text);
    // Owners are worth a scan once a queue is past its backlog (a backlog of 0 included) or
    // nearly there.
    queue_backed_up |= l.accept_queue > l.backlog ||
                       (l.accept_queue >= 2 && l.accept_queue >= queue_worth_owners * l.backlog);
    out.listeners.push_back(std::move(l));
  }
  return queue_backed_up;
}

// Who holds the CLOSE_WAIT connections that persisted, and each listener.
void add_owners(const second_sample& sample, const doctor_options& o, doctor_evidence& out) {
  process_owners owners;
  if (owners.scan(o.proc_root)) return;
  std::vector<process_ref> scratch;
  std::unordered_map<std::string, std::uint64_t> by_process;
  for (const std::uint64_t inode : sample.persisting_inodes) {
    const std::string who = owners_text(owners, inode, scratch);
    if (!who.empty()) ++by_process[who];
  }
  out.close_wait_processes = largest(by_process, top_n);
  for (std::size_t i = 0; i < sample.listeners.size(); ++i)
    out.listeners[i].processes = owners_text(owners, sample.listeners.inode()[i], scratch);
}

}  // namespace

namespace {

// What every sample reads before its listing: the kernel's release, the sysctls.
void begin(collector& c, doctor_evidence& out) {
  out.backlog_known = c.source() == source_kind::netlink;
  utsname u{};
  if (uname(&u) == 0) out.kernel_release = u.release;
  read_sysctls_into(c, out.sysctls, out.unreadable);
}

// The gauges a derivation checks itself against (see count_method::derived), from counters
// read by name: CurrEstab, sockstat's TCP inuse and sockstat6's TCP6 inuse (0 without IPv6,
// which then has no socket).
tcp_gauges gauges_of(const std::map<std::string, std::int64_t>& m, bool ipv6_file) {
  tcp_gauges g;
  auto at = [&](const char* name) -> std::optional<std::int64_t> {
    const auto it = m.find(name);
    return it == m.end() ? std::nullopt : std::optional(it->second);
  };
  g.curr_estab = at("Tcp.CurrEstab");
  g.inuse[0] = at("TCP.inuse");
  g.inuse[1] = ipv6_file ? at("TCP6.inuse") : std::optional<std::int64_t>(0);
  return g;
}

// `sport >= :LO and sport <= :HI` for ip_local_port_range, parsed when the range changes (a
// sampler asks every second).
struct ephemeral_filter {
  std::array<std::int64_t, 2> range{};
  std::optional<socket_filter> filter;

  const socket_filter* of(const std::array<std::int64_t, 2>& r) {
    if (filter && r == range) return &*filter;
    const std::string lo = ":" + std::to_string(r[0]), hi = ":" + std::to_string(r[1]);
    const std::string_view args[] = {"sport", ">=", lo, "and", "sport", "<=", hi};
    filter = parse_filter(args).filter;
    range = r;
    return filter ? &*filter : nullptr;
  }
};

// The listing without its ESTABLISHED sockets has been tallied (gauges read before it, into
// counters_after): now the connections this host opened, which the ephemeral-port rule
// groups (ESTABLISHED on a local port of ip_local_port_range: the kernel selects them, so a
// server's inbound connections cost only the walk), then the gauges again. ESTABLISHED is
// derived by the rule -s uses (derive_established(), ssfast/core/derivation.h), no fewer per
// family than the listing saw; else counted exactly (one more walk). Says which in
// out.sockets.derivation.
std::error_code derive_established(collector& c, const socket_query& q, second_sample& sample,
                                   ephemeral_filter& ephemeral, doctor_evidence& out) {
  using st = socket_summary::derivation_status;
  const socket_filter* on_ephemeral = ephemeral.of(*out.sysctls.ip_local_port_range);
  if (on_ephemeral == nullptr) return std::make_error_code(std::errc::invalid_argument);
  socket_query qe = q;
  qe.states = bit(tcp_state::established);
  qe.filter = on_ephemeral;
  qe.socket_memory = false;
  if (auto ec = c.list(qe, sample)) return ec;
  const bool ipv6_file = out.counters_after.count("TCP6.inuse") > 0;
  derivation_input in;
  in.before = gauges_of(out.counters_after, ipv6_file);
  kernel_counters k;
  if (!c.read_counters(k)) {
    in.after.curr_estab = k.tcp_curr_estab;
    in.after.inuse = {k.tcp_inuse, ipv6_file ? k.tcp6_inuse : std::optional<std::int64_t>(0)};
  }
  in.full_other = sample.full_other;
  in.close_wait =
      out.sockets.tcp[0][tcp_state::close_wait] + out.sockets.tcp[1][tcp_state::close_wait];
  in.at_least = sample.ephemeral_established;
  const derivation_result r = derive_established(in);
  socket_summary& s = out.sockets;
  s.gauges = in.after;
  s.derivation = r.status;
  constexpr auto established = static_cast<std::size_t>(tcp_state::established);
  if (r.status == st::taken) {
    for (std::size_t f = 0; f < 2; ++f) s.tcp[f][established] = r.established[f];
    return {};
  }
  socket_query qc = q;
  qc.states = bit(tcp_state::established);
  qc.filter = nullptr;
  qc.socket_memory = false;
  socket_summary exact;
  if (auto ec = c.count(exact, qc)) return ec;
  for (std::size_t f = 0; f < 2; ++f) s.tcp[f][established] = exact.tcp[f][established];
  return {};
}

// The full sample, at the end of an interval whose first sample is `before`: counters, UDP
// and UNIX counted, and every TCP socket `filter` selects (all when null) streamed through
// the tallies (TCP's histogram comes from the same dump: one dump of TCP, not two). With
// `next`, this sample's CLOSE_WAIT ids and listeners' drops are kept for the next interval.
// With `derive` (no filter, netlink, both families, the port range known), the listing leaves
// out ESTABLISHED but for the connections on an ephemeral local port (the filter kept in
// `derive`), and derive_established() counts the rest. `ephemeral` (when set) receives the
// ESTABLISHED sockets on an ephemeral local port and all ESTABLISHED ones, to choose the next
// sample's way.
std::error_code full_sample(collector& c, const doctor_options& o, const first_sample& before,
                            doctor_evidence& out, first_sample* next,
                            ephemeral_filter* derive = nullptr,
                            std::array<std::uint64_t, 2>* ephemeral = nullptr) {
  counters(c, out.counters_after, out.unreadable);
  socket_query q;
  if (o.filter != nullptr) q = *o.filter;
  count_scope others = o.scope;
  others.tcp = false;
  if (others.udp || others.unix_domain) {
    socket_query qo = q;
    qo.scope = others;
    qo.states = abi::tcp_all_states | 1u;  // UDP: ESTABLISHED and CLOSE; UNIX: every state
    if (auto ec = o.filter != nullptr ? c.count(out.sockets, qo) : c.count(out.sockets, others))
      return ec;
  }
  out.sockets.scope = o.scope;
  out.sockets.scope.tcp = true;
  q.scope = o.scope;
  q.scope.tcp = true;
  q.scope.udp = q.scope.unix_domain = false;
  // Request sockets included (they report SYN_RECV); a filter's states are its own.
  q.states = o.filter != nullptr ? o.filter->states : abi::tcp_all_states;
  q.socket_memory = true;
  if (!(o.filter == nullptr && c.source() == source_kind::netlink && o.scope.ipv4 && o.scope.ipv6 &&
        out.sysctls.ip_local_port_range.has_value() && out.unreadable.count("counters") == 0))
    derive = nullptr;
  if (derive != nullptr) q.states &= ~bit(tcp_state::established);
  second_sample sample(out, before.ids);
  sample.next = next;
  if (auto ec = c.list(q, sample)) return ec;
  if (derive != nullptr)
    if (auto ec = derive_established(c, q, sample, *derive, out)) return ec;
  if (ephemeral != nullptr)
    *ephemeral = {sample.ephemeral_established[0] + sample.ephemeral_established[1],
                  out.sockets.tcp_all()[tcp_state::established]};
  sample.rank();
  const bool queue_backed_up = add_listeners(sample, before, out.backlog_known, out);
  if (next != nullptr)
    for (std::size_t i = 0; i < sample.listeners.size(); ++i)
      next->listener_drops[sample.listeners.cookie()[i]] = sample.listeners.drops()[i];
  if (o.processes && (out.close_wait_persisting >= close_wait_worth_owners || queue_backed_up))
    add_owners(sample, o, out);
  return {};
}

}  // namespace

std::error_code gather_doctor_evidence(collector& c, const doctor_options& o,
                                       doctor_evidence& out) {
  out = doctor_evidence{};
  out.interval_s = o.interval_s;
  begin(c, out);
  // The first sample: counters, which connections are in CLOSE_WAIT (the kernel sends only
  // those), and the listeners (the listening hash is small) with their drop counters.
  counters(c, out.counters_before, out.unreadable);
  socket_query q;
  if (o.filter != nullptr) q = *o.filter;
  q.scope.tcp = true;
  q.scope.udp = q.scope.unix_domain = false;
  q.states = bit(tcp_state::close_wait) | bit(tcp_state::listen);
  q.socket_memory = true;
  first_sample before;
  if (auto ec = c.list(q, before)) return ec;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.interval_s));
  return full_sample(c, o, before, out, nullptr);
}

struct doctor_sampler::state {
  doctor_options o;
  bool derive = false;  // the next sample derives ESTABLISHED
  ephemeral_filter on_ephemeral;
  // A deriving sample that fails lists, derives and counts ESTABLISHED again (three walks
  // where the listing takes one): while sockets churn, the samples list instead.
  derivation_backoff backoff;
  bool have_previous = false;
  first_sample previous;
  std::map<std::string, std::int64_t> counters;
  std::chrono::steady_clock::time_point at;
};

doctor_sampler::doctor_sampler(const doctor_options& o) : s_(std::make_unique<state>()) {
  s_->o = o;
  s_->derive = o.established == doctor_options::established_way::always;
}
doctor_sampler::~doctor_sampler() = default;

std::error_code doctor_sampler::sample(collector& c, doctor_evidence& out, bool& ready) {
  out = doctor_evidence{};
  ready = false;
  begin(c, out);
  first_sample next;
  std::array<std::uint64_t, 2> ephemeral{};  // ESTABLISHED on ephemeral ports, all ESTABLISHED
  const bool paused = s_->derive && !s_->backoff.should_try();
  const bool derive = s_->derive && !paused;
  if (auto ec = full_sample(c, s_->o, s_->previous, out, &next,
                            derive ? &s_->on_ephemeral : nullptr, &ephemeral))
    return ec;
  if (derive) s_->backoff.record(out.sockets.derivation);
  if (paused) out.sockets.derivation = socket_summary::derivation_status::backed_off;
  using way = doctor_options::established_way;
  if (s_->o.established == way::automatic)
    s_->derive =
        ephemeral[1] >= doctor_options::derive_min_established && 2 * ephemeral[0] < ephemeral[1];
  const auto now = std::chrono::steady_clock::now();
  ready = s_->have_previous;
  out.interval_s = ready ? std::chrono::duration<double>(now - s_->at).count() : 0;
  out.counters_before = std::move(s_->counters);
  s_->counters = out.counters_after;
  s_->previous = std::move(next);
  s_->at = now;
  s_->have_previous = true;
  return {};
}

void read_doctor_sysctls(collector& c, doctor_sysctls& out,
                         std::map<std::string, std::string>& unreadable) {
  read_sysctls_into(c, out, unreadable);
}

std::error_code gather_listeners(collector& c, const socket_query* filter,
                                 std::vector<listener_evidence>& out) {
  return gather_listeners(c, filter, out, true);
}

std::error_code gather_listeners(collector& c, const socket_query* filter,
                                 std::vector<listener_evidence>& out, bool request_sockets) {
  out.clear();
  socket_query q;
  if (filter != nullptr) q = *filter;
  q.scope.udp = q.scope.unix_domain = false;
  q.scope.tcp = true;
  q.states = bit(tcp_state::listen);
  if (request_sockets) q.states |= bit(tcp_state::syn_recv);  // the established hash's walk
  q.socket_memory = true;
  doctor_evidence e;
  const std::unordered_set<std::uint64_t> none;
  second_sample sample(e, none);
  if (auto ec = c.list(q, sample)) return ec;
  add_listeners(sample, first_sample{}, c.source() == source_kind::netlink, e);
  out = std::move(e.listeners);
  return {};
}

}  // namespace ssfast
