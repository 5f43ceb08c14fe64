// The collector: runs sock_diag dumps (TCP split over parallel, bytecode-filtered dumps) into
// counts or table rows, or reads /proc/net when netlink is unavailable.
#include <netinet/in.h>
#include <sched.h>
#include <unistd.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <new>
#include <optional>
#include <vector>

#include "netns_thread.h"
#include "ssfast/detail/test_seams.h"
#include "ssfast/netlink/bytecode.h"
#include "ssfast/netlink/filter_bytecode.h"
#include "ssfast/netlink/sock_diag.h"
#include "ssfast/proc/counters.h"
#include "ssfast/proc/processes.h"
#include "ssfast/proc/socket_reader.h"
#include "ssfast/ssfast.h"
#include "ssfast_version.h"
#include "worker_pool.h"

namespace ssfast {
namespace {

// Hands each datagram to a callable: (datagram, reply_filter) -> parse_status.
template <class F>
struct callback_sink final : netlink::datagram_sink {
  F& f;
  explicit callback_sink(F& fn) : f(fn) {}
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& r) noexcept override {
    return f(d, r);
  }
};

// One dump of the plan: protocol, family, and the name used in error messages.
struct inet_dump {
  std::uint8_t protocol;
  std::uint8_t family;
  std::string_view name;
  bool (*wanted)(const count_scope&);
};

constexpr inet_dump tcp_dumps[] = {
    {IPPROTO_TCP, AF_INET, "TCP/IPv4 dump", [](const count_scope& s) { return s.ipv4; }},
    {IPPROTO_TCP, AF_INET6, "TCP/IPv6 dump", [](const count_scope& s) { return s.ipv6; }},
};
constexpr inet_dump udp_dumps[] = {
    {IPPROTO_UDP, AF_INET, "UDP/IPv4 dump", [](const count_scope& s) { return s.ipv4; }},
    {IPPROTO_UDP, AF_INET6, "UDP/IPv6 dump", [](const count_scope& s) { return s.ipv6; }},
};
constexpr std::string_view tcp_both_name = "TCP dump";
constexpr std::string_view unix_dump_name = "UNIX dump";

constexpr std::uint32_t tcp_established_bit = 1u << static_cast<unsigned>(tcp_state::established);

netlink::dump_request inet_request(const inet_dump& d, std::uint32_t states) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::inet;
  r.family = d.family;
  r.protocol = d.protocol;
  r.states = states;
  return r;
}

netlink::dump_request tcp_both_request(std::uint32_t states) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::inet_legacy;
  r.protocol = IPPROTO_TCP;
  r.states = states;
  return r;
}

netlink::dump_request unix_request(std::uint32_t show) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::unix_domain;
  r.states = netlink::all_states;
  r.unix_show = show;
  return r;
}

#if defined(SSFAST_TEST_SEAMS)
detail::netlink_fault injected;  // see ssfast/detail/test_seams.h
detail::netlink_fault injected_fault() noexcept { return injected; }
#else
// Release builds: nothing to inject, and the checks below fold away.
constexpr detail::netlink_fault injected_fault() noexcept { return {}; }
#endif

unsigned default_threads() noexcept {
  cpu_set_t set;
  const int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  return static_cast<unsigned>(n < 1 ? 1 : n > 8 ? 8 : n);
}

// One parallel TCP dump's inputs and results.
struct partition {
  std::array<std::byte, netlink::max_bytecode_size> bytecode{};
  std::size_t bytecode_size = 0;
  std::array<state_counts, 2> counts;
  netlink::key_histogram keys{};
  std::error_code error;
  std::string_view failed;
};

}  // namespace

struct collector::impl {
  std::unique_ptr<detail::netns_thread> ns;  // set: every call runs there (another namespace)
  bool in_ns = false;                        // true while a call runs on that thread

  template <class F>
  std::error_code on_ns_thread(F&& f) noexcept {
    return ns->call([&]() noexcept {
      in_ns = true;
      const std::error_code ec = f();
      in_ns = false;
      return ec;
    });
  }
  // The same for calls that allocate: bad_alloc on that thread becomes ENOMEM, since the
  // thread's entry point is noexcept.
  template <class F>
  std::error_code on_ns_thread_allocating(F&& f) noexcept {
    return on_ns_thread([&]() noexcept {
      try {
        return f();
      } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
      }
    });
  }

  std::vector<netlink::sock_diag_socket> sockets;  // one per partition; empty: /proc
  std::optional<detail::worker_pool> pool;  // started with the partitions
  unsigned partitions = 1;                   // dumps a split count may use (collector_options)
  bool partitions_opened = false;            // the sockets and threads for them exist
  proc::file_reader files;
  // Sysctls: <proc root>/sys, except in another namespace, where the net sysctls under
  // /proc/sys follow the namespace of the thread that opens them (there is no
  // /proc/thread-self/sys).
  proc::file_reader sysctls;
  source_choice choice;
  detail::netlink_fault fault;
  std::chrono::milliseconds netlink_timeout;
  std::optional<fallback_info> fell_back;
  std::string_view context;
  std::string shown_root;  // the proc root as the caller named it, for error_text()
  bool one_walk = true;  // TCPDIAG_GETSOCK works here (else per-family dumps)
  std::uint16_t ephemeral_low = 32768, ephemeral_high = 60999;
  netlink::key_histogram keys{};  // the last parallel count's port spread
  std::array<partition, netlink::max_partitions> parts;
  count_scope tcp_scope;  // for the parallel jobs
  std::uint32_t tcp_states = netlink::all_tcp_states;

  impl(std::vector<netlink::sock_diag_socket> s, const collector_options& o)
      : sockets(std::move(s)),
        files(o.proc_root),
        sysctls(o.proc_root == "/proc/thread-self" ? std::string("/proc") : o.proc_root),
        choice(o.source),
        fault(injected_fault()),
        netlink_timeout(o.netlink_timeout),
        adaptive(o.threads == 0) {
    const unsigned n = o.threads == 0 ? default_threads() : o.threads;
    partitions = std::clamp(n, 1u, static_cast<unsigned>(netlink::max_partitions));
    // Room for every partition's socket now, so opening them later cannot throw.
    sockets.reserve(netlink::max_partitions);
    read_port_range();
  }

  // The partitions' sockets and threads, opened by the first count that splits (a small
  // table never needs them). Opened on the calling thread, which for another namespace is the
  // collector's thread there: each socket answers for the collector's namespace. Sockets that
  // cannot be opened (EMFILE) or threads that cannot start mean fewer partitions.
  void open_partitions() noexcept {
    partitions_opened = true;
    while (sockets.size() < partitions) {
      if (fault.error != 0 && !fault.at_dump) break;
      auto s = netlink::sock_diag_socket::open(netlink_timeout);
      if (!s) break;
      sockets.push_back(std::move(*s));  // capacity reserved: no allocation, no throw
    }
    if (sockets.size() > 1) {
      pool.emplace(sockets.size() - 1);
      sockets.erase(sockets.begin() + static_cast<std::ptrdiff_t>(pool->size() + 1), sockets.end());
    }
  }

  // The namespace's ephemeral range places the default split points; any value is correct.
  void read_port_range() noexcept {
    std::string_view text;
    if (sysctls.read("sys/net/ipv4/ip_local_port_range", text)) return;
    unsigned lo = 0, hi = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    auto [p1, e1] = std::from_chars(p, end, lo);
    while (p1 < end && (*p1 == ' ' || *p1 == '\t')) ++p1;
    auto [p2, e2] = std::from_chars(p1, end, hi);
    (void)p2;
    if (e1 == std::errc{} && e2 == std::errc{} && lo >= 1 && lo <= hi && hi <= 65535) {
      ephemeral_low = static_cast<std::uint16_t>(lo);
      ephemeral_high = static_cast<std::uint16_t>(hi);
    }
  }

  template <class F>
  std::error_code dump(netlink::sock_diag_socket& s, const netlink::dump_request& r,
                       F& f) noexcept {
    if (fault.hang)
      for (;;) ::pause();  // test builds only: something that never answers
    if (fault.at_dump && fault.error != 0) return errno_code(fault.error);
    callback_sink sink(f);
    return s.dump(r, sink);
  }

  // TCP into counts[family], one dump or one per family, with an optional bytecode filter.
  std::error_code tcp_dumps_into(netlink::sock_diag_socket& s, const count_scope& scope,
                                 std::uint32_t states, std::span<const std::byte> bytecode,
                                 std::array<state_counts, 2>& counts,
                                 netlink::key_histogram* key_out,
                                 std::string_view& failed) noexcept {
    auto parse = [&](const netlink::datagram& g, const netlink::reply_filter& f) noexcept {
      return key_out != nullptr ? netlink::count_inet_keys(g, f, counts, *key_out, ephemeral_low)
                                : netlink::count_inet(g, f, counts);
    };
    if (one_walk && scope.ipv4 && scope.ipv6) {
      netlink::dump_request r = tcp_both_request(states);
      r.bytecode = bytecode;
      failed = tcp_both_name;
      return dump(s, r, parse);
    }
    for (const inet_dump& d : tcp_dumps) {
      if (!d.wanted(scope)) continue;
      netlink::dump_request r = inet_request(d, states);
      r.bytecode = bytecode;
      failed = d.name;
      if (auto ec = dump(s, r, parse)) return ec;
    }
    return {};
  }

  // A single-walk request failed with EINVAL: either this kernel has no TCPDIAG_GETSOCK, or it
  // refused something else in the request (a filter's bytecode, which inet_diag_bc_audit
  // checks before any dump). A bare request asking for no state (which walks nothing) tells
  // which; only the first turns the single walk off, so a bad filter never changes how later
  // dumps are made.
  bool single_walk_unsupported(netlink::sock_diag_socket& s) noexcept {
    std::array<state_counts, 2> ignored;
    auto parse = [&](const netlink::datagram& g, const netlink::reply_filter& f) noexcept {
      return netlink::count_inet(g, f, ignored);
    };
    return dump(s, tcp_both_request(0), parse) == std::errc::invalid_argument;
  }

  static void partition_job(void* ctx, std::size_t i) noexcept {
    auto* self = static_cast<impl*>(ctx);
    partition& p = self->parts[i];
    p.counts = {};
    p.keys = {};
    p.error =
        self->tcp_dumps_into(self->sockets[i], self->tcp_scope, self->tcp_states,
                             {p.bytecode.data(), p.bytecode_size}, p.counts, &p.keys, p.failed);
  }

  // Below this many TCP sockets one dump beats several. Every partition walks the whole
  // established hash (inet_diag_dump_icsk visits each of tcp_ehash_entries buckets, 262144 on
  // a 24 GiB host, about 0.3 ms of CPU even when empty) to save the ~0.8 us per socket of
  // messages it does not build; and a small host's scrape should not wake a second core.
  static constexpr std::uint64_t parallel_min_sockets = 8192;
  std::optional<std::uint64_t> last_tcp_total;  // the previous exact count's TCP sockets
  bool adaptive = true;  // threads left to us (0): split only tables worth splitting

  // How many TCP sockets to expect: the previous count, else the kernel's own counters
  // (sockstat TCP inuse + tw, sockstat6 TCP6 inuse; SYN_RECV not included, close enough).
  bool worth_splitting() noexcept {
    if (!adaptive) return true;  // the caller chose the thread count
    if (last_tcp_total) return *last_tcp_total >= parallel_min_sockets;
    std::uint64_t expected = 0;
    auto visit = [](void* ctx, std::string_view g, std::string_view n, std::int64_t v) {
      if ((g == "TCP" && (n == "inuse" || n == "tw")) || (g == "TCP6" && n == "inuse"))
        *static_cast<std::uint64_t*>(ctx) += static_cast<std::uint64_t>(v < 0 ? 0 : v);
    };
    std::string_view text;
    if (files.read("net/sockstat", text) || proc::parse_sockstat(text, visit, &expected))
      return true;  // unknown: split, as for a big host
    if (!files.read("net/sockstat6", text))  // absent without IPv6
      (void)proc::parse_sockstat(text, visit, &expected);
    return expected >= parallel_min_sockets;
  }

  // Exact TCP counts: one dump, or one per socket in parallel over disjoint port slices.
  std::error_code count_tcp(const count_scope& scope, std::uint32_t states,
                            std::array<state_counts, 2>& out) noexcept {
    if (partitions > 1 && !partitions_opened && worth_splitting()) open_partitions();
    const std::size_t n = sockets.size();
    if (n == 1 || !worth_splitting()) {
      std::string_view failed;
      auto ec = tcp_dumps_into(sockets[0], scope, states, {}, out, nullptr, failed);
      if (ec) context = failed;
      else last_tcp_total = out[0].total() + out[1].total();
      return ec;
    }
    std::array<std::uint16_t, netlink::max_partitions> first;
    netlink::split_key_space(keys, n, ephemeral_low, ephemeral_high, first);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint16_t hi = i + 1 < n ? static_cast<std::uint16_t>(first[i + 1] - 1) : 65535;
      parts[i].bytecode_size =
          netlink::compile_key_range(first[i], hi, ephemeral_low, parts[i].bytecode);
    }
    tcp_scope = scope;
    tcp_states = states;
    pool->run(n, partition_job, this);
    for (std::size_t i = 0; i < n; ++i) {
      if (parts[i].error) {
        context = parts[i].failed;
        return parts[i].error;
      }
    }
    keys = {};
    for (std::size_t i = 0; i < n; ++i) {
      out[0] += parts[i].counts[0];
      out[1] += parts[i].counts[1];
      for (std::size_t b = 0; b < keys.size(); ++b) keys[b] += parts[i].keys[b];
    }
    last_tcp_total = out[0].total() + out[1].total();
    return {};
  }

  // count_tcp, retried per family if the kernel refuses the single-walk request.
  std::error_code count_tcp_any(const count_scope& scope, std::uint32_t states,
                                std::array<state_counts, 2>& out) noexcept {
    std::error_code ec = count_tcp(scope, states, out);
    if (ec == std::errc::invalid_argument && context == tcp_both_name && one_walk &&
        single_walk_unsupported(sockets[0])) {
      one_walk = false;
      out = {};
      ec = count_tcp(scope, states, out);
    }
    return ec;
  }

  // CurrEstab from <proc root>/net/snmp.
  std::optional<std::int64_t> curr_estab() noexcept {
    std::string_view text;
    if (files.read("net/snmp", text)) return std::nullopt;
    std::optional<std::int64_t> v;
    auto visit = [](void* ctx, std::string_view g, std::string_view n, std::int64_t value) {
      if (g == "Tcp" && n == "CurrEstab") *static_cast<std::optional<std::int64_t>*>(ctx) = value;
    };
    if (proc::parse_snmp(text, visit, &v)) return std::nullopt;
    return v;
  }

  std::error_code count_netlink(socket_summary& out, const count_scope& scope,
                                count_method method) noexcept {
    context = {};
    if (scope.tcp) {
      bool exact = true;
      if (method == count_method::estimate) {
        if (!(scope.ipv4 && scope.ipv6)) {
          out.estimate = socket_summary::estimate_status::needs_both_families;
        } else {
          // Every state but ESTABLISHED: the walk without the messages that cost (one walk:
          // splitting a dump that builds almost no messages only adds walks).
          std::array<state_counts, 2> counts;
          std::string_view failed;
          auto ec =
              tcp_dumps_into(sockets[0], scope, netlink::all_tcp_states & ~tcp_established_bit, {},
                             counts, nullptr, failed);
          if (ec == std::errc::invalid_argument && failed == tcp_both_name && one_walk &&
              single_walk_unsupported(sockets[0])) {
            one_walk = false;
            counts = {};
            ec = tcp_dumps_into(sockets[0], scope, netlink::all_tcp_states & ~tcp_established_bit,
                                {}, counts, nullptr, failed);
          }
          if (ec) {
            context = failed;
            return ec;
          }
          const auto ce = curr_estab();
          const std::uint64_t close_wait =
              counts[0][tcp_state::close_wait] + counts[1][tcp_state::close_wait];
          if (!ce) {
            out.estimate = socket_summary::estimate_status::counter_missing;
          } else if (*ce < 0 || static_cast<std::uint64_t>(*ce) < close_wait) {
            out.estimate = socket_summary::estimate_status::inconsistent;
            out.curr_estab = *ce;
          } else {
            out.tcp = counts;
            out.estimate = socket_summary::estimate_status::estimated;
            out.curr_estab = *ce;
            out.established_estimate = static_cast<std::uint64_t>(*ce) - close_wait;
            exact = false;
          }
        }
      }
      if (exact) {
        if (auto ec = count_tcp_any(scope, netlink::all_tcp_states, out.tcp)) return ec;
      }
    }
    if (scope.udp) {
      for (const inet_dump& d : udp_dumps) {
        if (!d.wanted(scope)) continue;
        auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
          return netlink::count_inet(g, r, out.udp);
        };
        if (auto ec = dump(sockets[0], inet_request(d, netlink::all_states), f)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (scope.unix_domain) {
      auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
        return netlink::count_unix(g, r, out.unix_domain);
      };
      if (auto ec = dump(sockets[0], unix_request(0), f)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }

  std::error_code snapshot_netlink(socket_table& out, const count_scope& scope) noexcept {
    context = {};
    for (const auto* list : {&tcp_dumps, &udp_dumps}) {
      if (list == &tcp_dumps ? !scope.tcp : !scope.udp) continue;
      for (const inet_dump& d : *list) {
        if (!d.wanted(scope)) continue;
        auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
          return netlink::rows_inet(g, r, d.protocol, out);
        };
        const std::uint32_t states =
            d.protocol == IPPROTO_TCP ? netlink::all_tcp_states : netlink::all_states;
        if (auto ec = dump(sockets[0], inet_request(d, states), f)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (scope.unix_domain) {
      auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
        return netlink::rows_unix(g, r, out);
      };
      if (auto ec = dump(sockets[0], unix_request(netlink::unix_show_rows), f)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }

  std::vector<std::byte> filter_code;  // the compiled expression of the last list()

  std::error_code list_netlink(socket_table& out, const socket_query& q) noexcept {
    context = {};
    try {
      if (q.filter != nullptr) {
        if (auto ec = netlink::compile_filter(*q.filter, filter_code)) {
          context = "filter";
          return ec;
        }
      } else {
        filter_code.clear();
      }
    } catch (const std::bad_alloc&) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
    const count_scope& sc = q.scope;
    if (sc.tcp && (q.states & netlink::all_tcp_states) != 0) {
      auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
        return netlink::rows_inet(g, r, IPPROTO_TCP, out);
      };
      const std::uint32_t states = q.states & netlink::all_tcp_states;
      bool done = false;
      if (one_walk && sc.ipv4 && sc.ipv6) {
        netlink::dump_request r = tcp_both_request(states);
        r.bytecode = filter_code;
        const std::size_t before = out.size();
        const auto ec = dump(sockets[0], r, rows);
        if (ec == std::errc::invalid_argument && out.size() == before &&
            single_walk_unsupported(sockets[0])) {
          one_walk = false;  // this kernel has no TCPDIAG_GETSOCK: per family below
        } else if (ec) {
          context = tcp_both_name;
          return ec;
        } else {
          done = true;
        }
      }
      for (const inet_dump& d : tcp_dumps) {
        if (done || !d.wanted(sc)) continue;
        netlink::dump_request r = inet_request(d, states);
        r.bytecode = filter_code;
        if (auto ec = dump(sockets[0], r, rows)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (sc.udp) {
      for (const inet_dump& d : udp_dumps) {
        if (!d.wanted(sc)) continue;
        auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
          return netlink::rows_inet(g, r, IPPROTO_UDP, out);
        };
        netlink::dump_request r = inet_request(d, q.states);
        r.bytecode = filter_code;
        if (auto ec = dump(sockets[0], r, rows)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (sc.unix_domain) {
      const std::size_t first_unix = out.size();
      auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
        return netlink::rows_unix(g, r, out);
      };
      netlink::dump_request r = unix_request(netlink::unix_show_rows);
      r.states = q.states;
      if (auto ec = dump(sockets[0], r, rows)) {
        context = unix_dump_name;
        return ec;
      }
      // The kernel cannot apply an address expression to UNIX sockets: do it here.
      if (q.filter != nullptr && q.filter->has_expression()) {
        std::size_t i = 0;
        out.retain([&](const socket_row& row) {
          return i++ < first_unix || matches_expression(*q.filter, row);
        });
      }
    }
    return {};
  }

  // Runs `from_netlink` while the collector uses netlink; on an error that allows it, switches
  // to /proc for good. Then `from_proc` if /proc is the source.
  template <class Netlink, class Proc>
  std::error_code answer(Netlink&& from_netlink, Proc&& from_proc) noexcept {
    if (!sockets.empty()) {
      const std::error_code ec = from_netlink();
      if (!ec || choice != source_choice::automatic || !falls_back_on(ec)) return ec;
      fell_back = fallback_info{ec, context};
      pool.reset();
      sockets.clear();
    }
    std::string_view failed;
    const std::error_code ec = from_proc(failed);
    context = ec ? failed : std::string_view{};
    return ec;
  }
};

bool falls_back_on(std::error_code ec) noexcept {
  if (ec.category() != std::system_category()) return false;
  switch (ec.value()) {
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
    case EACCES:
    case EPERM:
    case ENOENT:
    case EOPNOTSUPP:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(source_kind s) noexcept {
  return s == source_kind::netlink ? "netlink" : "proc";
}

std::string_view version() noexcept { return SSFAST_VERSION_STRING; }

result<collector> collector::open(const collector_options& options) noexcept {
  if (options.netns.empty()) return open_here(options);
  std::unique_ptr<detail::netns_thread> ns;
  if (auto ec = detail::netns_thread::start(options.netns, ns)) return ec;
  // In that thread, /proc/net would still show the process's own namespace (it follows the
  // main thread); /proc/thread-self/net follows the calling thread.
  collector_options o;
  try {
    o = options;
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  if (o.proc_root == "/proc") o.proc_root = "/proc/thread-self";
  struct ctx {
    const collector_options& o;
    std::optional<result<collector>> r;
  } c{o, std::nullopt};
  ns->run(
      [](void* p) noexcept {
        auto* x = static_cast<ctx*>(p);
        x->r.emplace(open_here(x->o));
      },
      &c);
  if (*c.r) {
    (*c.r)->impl_->ns = std::move(ns);
    // Error lines name the root the caller gave, not the thread-self one used inside.
    (*c.r)->impl_->shown_root.swap(o.proc_root);
    if (options.proc_root == "/proc") (*c.r)->impl_->shown_root.resize(5);
  }
  return std::move(*c.r);
}

result<collector> collector::open_here(const collector_options& options) noexcept {
  std::vector<netlink::sock_diag_socket> sockets;
  std::optional<fallback_info> fell_back;
  try {
    if (options.source != source_choice::proc) {
      // One socket, opened here on the caller's thread, so it answers for the caller's
      // network namespace whichever thread later reads it. The partitions' sockets wait for
      // a table worth splitting (open_partitions).
      const detail::netlink_fault fault = injected_fault();
      auto s = fault.error != 0 && !fault.at_dump
                   ? result<netlink::sock_diag_socket>(errno_code(fault.error))
                   : netlink::sock_diag_socket::open(options.netlink_timeout);
      if (s) {
        sockets.push_back(std::move(*s));
      } else if (options.source == source_choice::automatic && falls_back_on(s.error())) {
        fell_back = fallback_info{s.error(), "opening the sock_diag socket"};
      } else {
        return s.error();
      }
    }
    auto p = std::make_unique<impl>(std::move(sockets), options);
    p->fell_back = fell_back;
    p->shown_root = options.proc_root;
    return collector(std::move(p));
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

collector::collector(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
collector::collector(collector&&) noexcept = default;
collector& collector::operator=(collector&&) noexcept = default;
collector::~collector() = default;

source_kind collector::source() const noexcept {
  return impl_->sockets.empty() ? source_kind::proc : source_kind::netlink;
}

unsigned collector::threads() const noexcept {
  if (impl_->sockets.empty()) return 1;
  return impl_->partitions_opened ? static_cast<unsigned>(impl_->sockets.size())
                                  : impl_->partitions;
}

const fallback_info* collector::fallback() const noexcept {
  return impl_->fell_back ? &*impl_->fell_back : nullptr;
}

std::string_view collector::error_context() const noexcept { return impl_->context; }

std::string collector::error_text(std::error_code ec) const {
  const std::string_view w = impl_->context;
  std::string out = w.starts_with("net/") ? impl_->shown_root + "/" + std::string(w)
                                           : std::string(w);
  return out + ": " + ec.message();
}

std::error_code collector::count(socket_summary& out, const count_scope& scope,
                                 count_method method) noexcept {
  if (impl_->ns && !impl_->in_ns)
    return impl_->on_ns_thread([&]() noexcept { return count_(out, scope, method); });
  return count_(out, scope, method);
}

std::error_code collector::count_(socket_summary& out, const count_scope& scope,
                                  count_method method) noexcept {
  auto reset = [&] {
    out = socket_summary{};
    out.scope = scope;
  };
  return impl_->answer(
      [&]() noexcept {
        reset();
        return impl_->count_netlink(out, scope, method);
      },
      [&](std::string_view& failed) noexcept {
        reset();
        if (method == count_method::estimate)
          out.estimate = socket_summary::estimate_status::needs_netlink;
        proc::file_stats stats;
        const auto ec = proc::count_sockets(impl_->files, scope, out, stats, failed);
        out.skipped_lines = stats.skipped;
        out.duplicate_rows = stats.duplicates;
        return ec;
      });
}

std::error_code collector::snapshot(socket_table& out, const count_scope& scope) noexcept {
  if (impl_->ns && !impl_->in_ns)
    return impl_->on_ns_thread([&]() noexcept { return snapshot_(out, scope); });
  return snapshot_(out, scope);
}

std::error_code collector::snapshot_(socket_table& out, const count_scope& scope) noexcept {
  return impl_->answer(
      [&]() noexcept {
        out.clear();
        return impl_->snapshot_netlink(out, scope);
      },
      [&](std::string_view& failed) noexcept {
        out.clear();
        proc::file_stats stats;
        return proc::snapshot_sockets(impl_->files, scope, out, stats, failed);
      });
}

std::error_code collector::list(socket_table& out, const socket_query& q) noexcept {
  if (impl_->ns && !impl_->in_ns)
    return impl_->on_ns_thread([&]() noexcept { return list_(out, q); });
  return list_(out, q);
}

std::error_code collector::list_(socket_table& out, const socket_query& q) noexcept {
  return impl_->answer(
      [&]() noexcept {
        out.clear();
        return impl_->list_netlink(out, q);
      },
      [&](std::string_view& failed) noexcept {
        out.clear();
        proc::file_stats stats;
        if (auto ec = proc::snapshot_sockets(impl_->files, q.scope, out, stats, failed)) return ec;
        out.retain([&](const socket_row& row) {
          return (q.states >> netstat_fold(row.state) & 1u) != 0 &&
                 (q.filter == nullptr || matches_expression(*q.filter, row));
        });
        return std::error_code{};
      });
}

std::error_code collector::read_all_counters(
    std::vector<std::pair<std::string, std::int64_t>>& out) noexcept {
  return read_all_counters_(out, nullptr);
}

std::error_code collector::read_all_counters(
    std::vector<std::pair<std::string, std::int64_t>>& out, kernel_counters& summary) noexcept {
  return read_all_counters_(out, &summary);
}

// The calls that allocate report ENOMEM the same way on every thread: on the namespace's
// thread (whose entry point is noexcept) and on the caller's.
std::error_code collector::read_all_counters_(
    std::vector<std::pair<std::string, std::int64_t>>& out, kernel_counters* summary) noexcept {
  if (impl_->ns && !impl_->in_ns)
    return impl_->on_ns_thread_allocating([&] { return read_all_counters_(out, summary); });
  try {
    return read_all_counters_here(out, summary);
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

std::error_code collector::read_all_counters_here(
    std::vector<std::pair<std::string, std::int64_t>>& out, kernel_counters* summary) {
  impl_->context = {};
  std::vector<proc::named_counter> list;
  std::string_view failed;
  if (auto ec = proc::read_all_counters(impl_->files, list, failed)) {
    impl_->context = failed;
    return ec;
  }
  if (summary != nullptr) *summary = kernel_counters{};
  out.clear();
  out.reserve(list.size());
  for (auto& c : list) {
    if (summary != nullptr) {
      const std::string_view n = c.name;
      const std::size_t dot = n.find('.');
      proc::assign_counter(*summary, n.substr(0, dot), n.substr(dot + 1), c.value);
    }
    out.emplace_back(std::move(c.name), c.value);
  }
  return {};
}

std::error_code collector::read_sysctl(std::string_view name,
                                       std::vector<std::int64_t>& values) noexcept {
  if (impl_->ns && !impl_->in_ns)
    return impl_->on_ns_thread_allocating([&] { return read_sysctl_here(name, values); });
  try {
    return read_sysctl_here(name, values);
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

std::error_code collector::read_sysctl_here(std::string_view name,
                                            std::vector<std::int64_t>& values) {
  values.clear();
  impl_->context = {};
  std::string path = "sys/";
  for (char c : name) path.push_back(c == '.' ? '/' : c);
  if (name.empty() || name.find("..") != std::string_view::npos || name.front() == '/')
    return std::make_error_code(std::errc::invalid_argument);
  std::string_view text;
  if (auto ec = impl_->sysctls.read(path, text)) {
    impl_->context = "sysctl";
    return ec;
  }
  // One or more integers separated by blanks (tcp_mem: three, ip_local_port_range: two).
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) ++p;
    if (p == end) break;
    std::int64_t v = 0;
    auto [q, ec] = std::from_chars(p, end, v);
    if (ec != std::errc{}) {
      impl_->context = "sysctl";
      return make_error_code(errc::parse_error);
    }
    values.push_back(v);
    p = q;
  }
  if (values.empty()) {
    impl_->context = "sysctl";
    return make_error_code(errc::parse_error);
  }
  return {};
}

process_owners::process_owners() : index_(std::make_unique<proc::process_index>()) {}
process_owners::process_owners(process_owners&&) noexcept = default;
process_owners& process_owners::operator=(process_owners&&) noexcept = default;
process_owners::~process_owners() = default;

std::error_code process_owners::scan(const std::string& proc_root, unsigned threads) {
  return index_->scan(proc_root, threads == 0 ? default_threads() : threads);
}

std::span<const process_ref> process_owners::owners(std::uint64_t inode,
                                                    std::vector<process_ref>& scratch) const {
  scratch.clear();
  for (const proc::socket_owner& o : index_->owners(inode))
    scratch.push_back({o.pid, o.fd, index_->comm(o.pid)});
  return scratch;
}

std::size_t process_owners::processes() const noexcept { return index_->processes(); }
std::size_t process_owners::unreadable() const noexcept { return index_->unreadable(); }

std::error_code collector::read_counters(kernel_counters& out) noexcept {
  if (impl_->ns && !impl_->in_ns)
    return impl_->on_ns_thread([&]() noexcept { return read_counters_(out); });
  return read_counters_(out);
}

std::error_code collector::read_counters_(kernel_counters& out) noexcept {
  impl_->context = {};
  std::string_view failed;
  if (auto ec = proc::read_kernel_counters(impl_->files, out, failed)) {
    impl_->context = failed;
    return ec;
  }
  return {};
}

#if defined(SSFAST_TEST_SEAMS)
void detail::inject_netlink_fault(const netlink_fault& f) noexcept { injected = f; }
#endif

}  // namespace ssfast
