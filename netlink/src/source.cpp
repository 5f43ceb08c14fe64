// The netlink source: which dumps answer a count, a snapshot or a listing, and how: TCP in one
// walk for both families or per family, split over parallel port slices, the estimate's dump.
#include "ssfast/netlink/source.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <new>

#include "ssfast/netlink/bytecode.h"
#include "ssfast/netlink/filter_bytecode.h"
#include "worker_pool.h"

namespace ssfast::netlink {
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

// One parallel TCP dump's inputs and results.
struct partition {
  std::array<std::byte, netlink::max_bytecode_size> bytecode{};
  std::size_t bytecode_size = 0;
  std::array<state_counts, 2> counts;
  netlink::key_histogram keys{};
  std::uint64_t repeats = 0;
  socket_table rows;  // a parallel listing's current datagram
  std::error_code error;
  std::string_view failed;
};

}  // namespace

struct source::state {
  std::vector<sock_diag_socket> sockets;    // one per partition
  std::optional<detail::worker_pool> pool;  // started with the partitions
  source_options o;
  unsigned partitions = 1;         // dumps a split count may use
  bool partitions_opened = false;  // the sockets and threads for them exist
  bool one_walk = true;            // TCPDIAG_GETSOCK works here (else per-family dumps)
  key_histogram keys{};            // the last parallel count's port spread
  std::array<partition, max_partitions> parts;
  count_scope tcp_scope;  // for the parallel jobs
  std::uint32_t tcp_states = all_tcp_states;
  std::optional<std::uint64_t> last_tcp_total;  // the previous exact count's TCP sockets
  std::vector<std::byte> filter_code;           // the compiled expression of the last list()
  socket_table batch;                           // one datagram's rows, for list()'s sink
  row_sink* list_sink = nullptr;                // a parallel listing's sink, and its lock
  std::mutex sink_mutex;
  std::uint64_t last_repeats = 0;  // repeats the last snapshot or list dropped
  count_hints* hints = nullptr;    // during a count
  std::string_view context;

  state(sock_diag_socket first, const source_options& opts) : o(opts) {
    partitions = std::clamp(o.partitions, 1u, static_cast<unsigned>(max_partitions));
    // Room for every partition's socket now, so opening them later cannot throw.
    sockets.reserve(max_partitions);
    sockets.push_back(std::move(first));
  }

  // The partitions' sockets and threads, opened by the first count that splits (a small
  // table never needs them). Opened on the calling thread, which for another namespace is the
  // collector's thread there: each socket answers for the same namespace. Sockets that
  // cannot be opened (EMFILE) or threads that cannot start mean fewer partitions.
  void open_partitions() noexcept {
    partitions_opened = true;
    while (sockets.size() < partitions) {
      auto s = sock_diag_socket::open(o.timeout);
      if (!s) break;
      sockets.push_back(std::move(*s));  // capacity reserved: no allocation, no throw
    }
    if (sockets.size() > 1) {
      pool.emplace(sockets.size() - 1);
      sockets.erase(sockets.begin() + static_cast<std::ptrdiff_t>(pool->size() + 1), sockets.end());
    }
  }

  template <class F>
  std::error_code dump(netlink::sock_diag_socket& s, const netlink::dump_request& r,
                       F& f) noexcept {
    if (o.hang_dumps)
      for (;;) ::pause();  // test builds only: something that never answers
    if (o.fail_dumps_with != 0) return errno_code(o.fail_dumps_with);
    callback_sink sink(f);
    return s.dump(r, sink);
  }

  // Runs one dump through a fresh repeat_guard (a socket is repeated only within one walk),
  // handing `parse` each datagram and the guard; adds what the guard dropped to `repeats`.
  template <class Parse>
  std::error_code guarded_dump(netlink::sock_diag_socket& s, const netlink::dump_request& r,
                               Parse& parse, std::uint64_t& repeats) noexcept {
    repeat_guard guard;
    auto f = [&](const netlink::datagram& g, const netlink::reply_filter& rf) noexcept {
      return parse(g, rf, guard);
    };
    const std::error_code ec = dump(s, r, f);
    repeats += guard.dropped();
    return ec;
  }

  // TCP through `parse` (datagram, reply filter, guard), one dump for both families or one
  // per family, with an optional bytecode filter.
  template <class Parse>
  std::error_code tcp_walks(netlink::sock_diag_socket& s, const count_scope& scope,
                            std::uint32_t states, std::span<const std::byte> bytecode, Parse& parse,
                            std::uint64_t& repeats, std::string_view& failed) noexcept {
    if (one_walk && scope.ipv4 && scope.ipv6) {
      netlink::dump_request r = tcp_both_request(states);
      r.bytecode = bytecode;
      failed = tcp_both_name;
      return guarded_dump(s, r, parse, repeats);
    }
    for (const inet_dump& d : tcp_dumps) {
      if (!d.wanted(scope)) continue;
      netlink::dump_request r = inet_request(d, states);
      r.bytecode = bytecode;
      failed = d.name;
      if (auto ec = guarded_dump(s, r, parse, repeats)) return ec;
    }
    return {};
  }

  // TCP into counts[family], one dump or one per family, with an optional bytecode filter.
  std::error_code tcp_dumps_into(netlink::sock_diag_socket& s, const count_scope& scope,
                                 std::uint32_t states, std::span<const std::byte> bytecode,
                                 std::array<state_counts, 2>& counts,
                                 netlink::key_histogram* key_out, std::uint64_t& repeats,
                                 std::string_view& failed) noexcept {
    auto parse = [&](const netlink::datagram& g, const netlink::reply_filter& f,
                     repeat_guard& guard) noexcept {
      return key_out != nullptr
                 ? netlink::count_inet_keys(g, f, counts, *key_out, o.ephemeral_low, &guard)
                 : netlink::count_inet(g, f, counts, &guard);
    };
    return tcp_walks(s, scope, states, bytecode, parse, repeats, failed);
  }

  // A parallel listing's slice: its rows, parsed on its own thread, handed to the one sink
  // under a lock (datagram by datagram, so slices interleave in whole datagrams).
  static void list_partition_job(void* ctx, std::size_t i) noexcept {
    auto* self = static_cast<state*>(ctx);
    partition& p = self->parts[i];
    p.repeats = 0;
    auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                    repeat_guard& guard) noexcept {
      p.rows.clear();
      parse_status st = netlink::rows_inet(g, r, IPPROTO_TCP, p.rows, &guard);
      if (!st.error && !p.rows.empty()) {
        const std::lock_guard<std::mutex> lock(self->sink_mutex);
        st.error = self->list_sink->on_rows(p.rows);
      }
      return st;
    };
    p.error = self->tcp_walks(self->sockets[i], self->tcp_scope, self->tcp_states,
                              {p.bytecode.data(), p.bytecode_size}, rows, p.repeats, p.failed);
  }

  // The port slices of the split: from the previous parallel count's spread, else even.
  void place_slices(std::size_t n) noexcept {
    std::array<std::uint16_t, netlink::max_partitions> first;
    netlink::split_key_space(keys, n, o.ephemeral_low, o.ephemeral_high, first);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint16_t hi = i + 1 < n ? static_cast<std::uint16_t>(first[i + 1] - 1) : 65535;
      parts[i].bytecode_size =
          netlink::compile_key_range(first[i], hi, o.ephemeral_low, parts[i].bytecode);
    }
  }

  // A TCP listing without an expression over parallel port slices, when the table is worth
  // splitting: the kernel builds each slice's messages on its own core. Returns false (having
  // done nothing) when it is not; else the error of the first slice that failed.
  bool list_tcp_parallel(row_sink& sink, const count_scope& scope, std::uint32_t states,
                         std::error_code& ec) noexcept {
    if (partitions > 1 && !partitions_opened && worth_splitting()) open_partitions();
    const std::size_t n = sockets.size();
    if (n == 1 || !worth_splitting()) return false;
    place_slices(n);
    tcp_scope = scope;
    tcp_states = states;
    list_sink = &sink;
    pool->run(n, list_partition_job, this);
    list_sink = nullptr;
    ec = {};
    for (std::size_t i = 0; i < n; ++i) {
      last_repeats += parts[i].repeats;
      if (parts[i].error && !ec) {
        ec = parts[i].error;
        context = parts[i].failed;
      }
    }
    return true;
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
    auto* self = static_cast<state*>(ctx);
    partition& p = self->parts[i];
    p.counts = {};
    p.keys = {};
    p.repeats = 0;
    p.error = self->tcp_dumps_into(self->sockets[i], self->tcp_scope, self->tcp_states,
                                   {p.bytecode.data(), p.bytecode_size}, p.counts, &p.keys,
                                   p.repeats, p.failed);
  }

  // Whether this count should split: the caller chose a thread count, or the previous
  // count, else the kernel's own counters (sockstat, through the hints), found a table worth
  // it. Unknown: split, as for a big host.
  bool worth_splitting() noexcept {
    if (!o.adaptive) return true;
    if (last_tcp_total) return *last_tcp_total >= parallel_min_sockets;
    const auto expected = hints != nullptr ? hints->expected_tcp_sockets() : std::nullopt;
    return !expected || *expected >= parallel_min_sockets;
  }

  // Exact TCP counts: one dump, or one per socket in parallel over disjoint port slices.
  std::error_code count_tcp(const count_scope& scope, std::uint32_t states,
                            std::array<state_counts, 2>& out, std::uint64_t& repeats) noexcept {
    if (partitions > 1 && !partitions_opened && worth_splitting()) open_partitions();
    const std::size_t n = sockets.size();
    if (n == 1 || !worth_splitting()) {
      std::string_view failed;
      auto ec = tcp_dumps_into(sockets[0], scope, states, {}, out, nullptr, repeats, failed);
      if (ec)
        context = failed;
      else
        last_tcp_total = out[0].total() + out[1].total();
      return ec;
    }
    place_slices(n);
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
      repeats += parts[i].repeats;
      for (std::size_t b = 0; b < keys.size(); ++b) keys[b] += parts[i].keys[b];
    }
    last_tcp_total = out[0].total() + out[1].total();
    return {};
  }

  // Runs `attempt`, which dumps TCP in one walk while one_walk holds and sets `context` to
  // the dump that failed. If the single-walk request was refused (EINVAL) and a bare probe
  // says this kernel has no TCPDIAG_GETSOCK, the single walk is off for good and `attempt`
  // runs again, per family. The one place that decides it, for counts, estimates and lists.
  template <class Attempt>
  std::error_code with_walk_fallback(Attempt&& attempt) noexcept {
    std::error_code ec = attempt();
    if (ec == std::errc::invalid_argument && context == tcp_both_name && one_walk &&
        single_walk_unsupported(sockets[0])) {
      one_walk = false;
      ec = attempt();
    }
    return ec;
  }

  // Every state but ESTABLISHED, then ESTABLISHED = CurrEstab - CLOSE_WAIT. The walk without
  // the messages that cost (one walk: splitting a dump that builds almost no messages only
  // adds walks). Returns whether the figures held (else the caller counts exactly).
  std::error_code count_estimate(socket_summary& out, const count_scope& scope,
                                 bool& estimated) noexcept {
    estimated = false;
    if (!(scope.ipv4 && scope.ipv6)) {
      out.estimate = socket_summary::estimate_status::needs_both_families;
      return {};
    }
    std::array<state_counts, 2> counts;
    std::uint64_t repeats = 0;
    if (auto ec = with_walk_fallback([&]() noexcept {
          counts = {};
          repeats = 0;
          std::string_view failed;
          auto e = tcp_dumps_into(sockets[0], scope, all_tcp_states & ~tcp_established_bit, {},
                                  counts, nullptr, repeats, failed);
          context = e ? failed : std::string_view{};
          return e;
        }))
      return ec;
    const auto ce = hints != nullptr ? hints->curr_estab() : std::nullopt;
    const std::uint64_t close_wait =
        counts[0][tcp_state::close_wait] + counts[1][tcp_state::close_wait];
    if (!ce) {
      out.estimate = socket_summary::estimate_status::counter_missing;
    } else if (*ce < 0 || static_cast<std::uint64_t>(*ce) < close_wait) {
      out.estimate = socket_summary::estimate_status::inconsistent;
      out.curr_estab = *ce;
    } else {
      out.tcp = counts;
      out.repeats_dropped += repeats;
      out.estimate = socket_summary::estimate_status::estimated;
      out.curr_estab = *ce;
      out.established_estimate = static_cast<std::uint64_t>(*ce) - close_wait;
      estimated = true;
    }
    return {};
  }

  std::error_code count_netlink(socket_summary& out, const count_scope& scope,
                                count_method method) noexcept {
    context = {};
    if (scope.tcp) {
      bool estimated = false;
      if (method == count_method::estimate) {
        if (auto ec = count_estimate(out, scope, estimated)) return ec;
      }
      if (!estimated) {
        std::uint64_t repeats = 0;
        if (auto ec = with_walk_fallback([&]() noexcept {
              out.tcp = {};
              repeats = 0;
              return count_tcp(scope, all_tcp_states, out.tcp, repeats);
            }))
          return ec;
        out.repeats_dropped += repeats;
      }
    }
    if (scope.udp) {
      for (const inet_dump& d : udp_dumps) {
        if (!d.wanted(scope)) continue;
        auto f = [&](const datagram& g, const reply_filter& r, repeat_guard& guard) noexcept {
          return count_inet(g, r, out.udp, &guard);
        };
        if (auto ec =
                guarded_dump(sockets[0], inet_request(d, all_states), f, out.repeats_dropped)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (scope.unix_domain) {
      auto f = [&](const datagram& g, const reply_filter& r, repeat_guard& guard) noexcept {
        return count_unix(g, r, out.unix_domain, &guard);
      };
      if (auto ec = guarded_dump(sockets[0], unix_request(0), f, out.repeats_dropped)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }

  std::error_code snapshot_netlink(socket_table& out, const count_scope& scope) noexcept {
    context = {};
    last_repeats = 0;
    for (const auto* list : {&tcp_dumps, &udp_dumps}) {
      if (list == &tcp_dumps ? !scope.tcp : !scope.udp) continue;
      for (const inet_dump& d : *list) {
        if (!d.wanted(scope)) continue;
        auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                     repeat_guard& guard) noexcept {
          return netlink::rows_inet(g, r, d.protocol, out, &guard);
        };
        const std::uint32_t states =
            d.protocol == IPPROTO_TCP ? netlink::all_tcp_states : netlink::all_states;
        if (auto ec = guarded_dump(sockets[0], inet_request(d, states), f, last_repeats)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (scope.unix_domain) {
      auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                   repeat_guard& guard) noexcept { return netlink::rows_unix(g, r, out, &guard); };
      if (auto ec =
              guarded_dump(sockets[0], unix_request(netlink::unix_show_rows), f, last_repeats)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }

  // Parses one datagram into `batch`, keeps what `keep` accepts, and hands the rows to the
  // sink: a listing holds one datagram's rows at a time.
  template <class Parse, class Keep>
  parse_status rows_to(row_sink& sink, Parse&& parse, Keep&& keep) noexcept {
    batch.clear();
    parse_status st = parse(batch);
    if (!st.error && !batch.empty()) {
      batch.retain(keep);
      if (!batch.empty()) st.error = sink.on_rows(batch);
    }
    return st;
  }

  // The query's expression as kernel bytecode in filter_code (empty without one).
  std::error_code compile_query(const socket_query& q) noexcept {
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
    return {};
  }

  // The sockets a query selects, counted: states and expression go to the kernel, so a
  // socket that does not match costs only the walk, one that does its message, whose state
  // byte is all that is read. One dump (no port slices: their bytecode would have to be
  // joined to the query's, and a selective query's cost is the walk). UNIX sockets, which the
  // kernel cannot match by address, are listed and matched here when there is an expression.
  std::error_code count_selected(socket_summary& out, const socket_query& q) noexcept {
    context = {};
    if (auto ec = compile_query(q)) return ec;
    const count_scope& sc = q.scope;
    if (sc.tcp && (q.states & all_tcp_states) != 0) {
      std::uint64_t repeats = 0;
      if (auto ec = with_walk_fallback([&]() noexcept {
            out.tcp = {};
            repeats = 0;
            std::string_view failed;
            auto e = tcp_dumps_into(sockets[0], sc, q.states & all_tcp_states, filter_code, out.tcp,
                                    nullptr, repeats, failed);
            context = e ? failed : std::string_view{};
            return e;
          }))
        return ec;
      out.repeats_dropped += repeats;
    }
    if (sc.udp) {
      for (const inet_dump& d : udp_dumps) {
        if (!d.wanted(sc)) continue;
        auto f = [&](const datagram& g, const reply_filter& r, repeat_guard& guard) noexcept {
          return count_inet(g, r, out.udp, &guard);
        };
        dump_request r = inet_request(d, q.states);
        r.bytecode = filter_code;
        if (auto ec = guarded_dump(sockets[0], r, f, out.repeats_dropped)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (sc.unix_domain) {
      const bool expression = q.filter != nullptr && q.filter->has_expression();
      auto count = [&](const datagram& g, const reply_filter& r, repeat_guard& guard) noexcept {
        if (!expression) return count_unix(g, r, out.unix_domain, &guard);
        batch.clear();
        parse_status st = rows_unix(g, r, batch, &guard);
        for (std::size_t i = 0; i < batch.size() && !st.error; ++i) {
          const socket_row row = batch.row(i);
          if (!matches_expression(*q.filter, row)) continue;
          ++out.unix_domain.by_type[row.sock_type < 8 ? row.sock_type : 0];
          ++out.unix_domain.states[row.state];
        }
        return st;
      };
      dump_request r = unix_request(expression ? unix_show_rows : 0);
      r.states = q.states;
      if (auto ec = guarded_dump(sockets[0], r, count, out.repeats_dropped)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }

  std::error_code list_netlink(row_sink& sink, const socket_query& q) noexcept {
    context = {};
    last_repeats = 0;
    if (auto ec = compile_query(q)) return ec;
    const count_scope& sc = q.scope;
    auto every = [](const socket_row&) { return true; };
    if (sc.tcp && (q.states & netlink::all_tcp_states) != 0) {
      auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                      repeat_guard& guard) noexcept {
        return rows_to(
            sink, [&](socket_table& t) { return netlink::rows_inet(g, r, IPPROTO_TCP, t, &guard); },
            every);
      };
      const std::uint32_t states = q.states & netlink::all_tcp_states;
      // A refused single walk (EINVAL) sent no row: the kernel audits the request, bytecode
      // included, before it dumps. So the retry per family cannot repeat rows.
      const std::error_code ec = with_walk_fallback([&]() noexcept -> std::error_code {
        // Without an expression a big table is split over port slices (with one, the kernel
        // filters a single walk: the slices' bytecode and the query's are not joined).
        std::error_code split_ec;
        if (filter_code.empty() && list_tcp_parallel(sink, sc, states, split_ec)) return split_ec;
        if (one_walk && sc.ipv4 && sc.ipv6) {
          dump_request r = tcp_both_request(states);
          r.bytecode = filter_code;
          const auto e = guarded_dump(sockets[0], r, rows, last_repeats);
          context = e ? tcp_both_name : std::string_view{};
          return e;
        }
        for (const inet_dump& d : tcp_dumps) {
          if (!d.wanted(sc)) continue;
          dump_request r = inet_request(d, states);
          r.bytecode = filter_code;
          if (auto e = guarded_dump(sockets[0], r, rows, last_repeats)) {
            context = d.name;
            return e;
          }
        }
        return {};
      });
      if (ec) return ec;
    }
    if (sc.udp) {
      for (const inet_dump& d : udp_dumps) {
        if (!d.wanted(sc)) continue;
        auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                        repeat_guard& guard) noexcept {
          return rows_to(
              sink,
              [&](socket_table& t) { return netlink::rows_inet(g, r, IPPROTO_UDP, t, &guard); },
              every);
        };
        netlink::dump_request r = inet_request(d, q.states);
        r.bytecode = filter_code;
        if (auto ec = guarded_dump(sockets[0], r, rows, last_repeats)) {
          context = d.name;
          return ec;
        }
      }
    }
    if (sc.unix_domain) {
      // The kernel cannot apply an address expression to UNIX sockets: it is applied here.
      const bool expression = q.filter != nullptr && q.filter->has_expression();
      auto keep = [&](const socket_row& row) {
        return !expression || matches_expression(*q.filter, row);
      };
      auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                      repeat_guard& guard) noexcept {
        return rows_to(
            sink, [&](socket_table& t) { return netlink::rows_unix(g, r, t, &guard); }, keep);
      };
      netlink::dump_request r = unix_request(netlink::unix_show_rows);
      r.states = q.states;
      if (auto ec = guarded_dump(sockets[0], r, rows, last_repeats)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }
};

source::source(sock_diag_socket first, const source_options& o)
    : s_(std::make_unique<state>(std::move(first), o)) {}
source::~source() = default;

std::error_code source::count(socket_summary& out, const count_scope& scope, count_method method,
                              count_hints& hints) noexcept {
  s_->hints = &hints;
  const std::error_code ec = s_->count_netlink(out, scope, method);
  s_->hints = nullptr;
  context_ = s_->context;
  return ec;
}

std::error_code source::count(socket_summary& out, const socket_query& q) noexcept {
  const std::error_code ec = s_->count_selected(out, q);
  context_ = s_->context;
  return ec;
}

std::error_code source::snapshot(socket_table& out, const count_scope& scope) noexcept {
  const std::error_code ec = s_->snapshot_netlink(out, scope);
  context_ = s_->context;
  return ec;
}

std::error_code source::list(row_sink& sink, const socket_query& q, count_hints& hints) noexcept {
  s_->hints = &hints;
  const std::error_code ec = s_->list_netlink(sink, q);
  s_->hints = nullptr;
  context_ = s_->context;
  return ec;
}

std::uint64_t source::repeats() const noexcept { return s_->last_repeats; }

unsigned source::threads() const noexcept {
  return s_->partitions_opened ? static_cast<unsigned>(s_->sockets.size()) : s_->partitions;
}

}  // namespace ssfast::netlink
