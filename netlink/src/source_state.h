// SPDX-License-Identifier: Apache-2.0
// The netlink source's state, shared by its two files: source.cpp (counts, snapshots, the
// dump plans) and source_list.cpp (listings and filtered counts). Private to netlink/.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <new>
#include <optional>

#include "ssfast/core/derivation.h"
#include "ssfast/core/detail/worker_pool.h"
#include "ssfast/netlink/bytecode.h"
#include "ssfast/netlink/filter_bytecode.h"
#include "ssfast/netlink/source.h"

namespace ssfast::netlink {
namespace source_detail {

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

// One dump of the plan: protocol, family, and the step errors name.
struct inet_dump {
  std::uint16_t protocol;
  std::uint8_t family;
  dump_step step;
  bool (*wanted)(const count_scope&);
};

inline constexpr inet_dump tcp_dumps[] = {
    {IPPROTO_TCP, AF_INET, dump_step::tcp_ipv4, [](const count_scope& s) { return s.ipv4; }},
    {IPPROTO_TCP, AF_INET6, dump_step::tcp_ipv6, [](const count_scope& s) { return s.ipv6; }},
};
inline constexpr inet_dump udp_dumps[] = {
    {IPPROTO_UDP, AF_INET, dump_step::udp_ipv4, [](const count_scope& s) { return s.ipv4; }},
    {IPPROTO_UDP, AF_INET6, dump_step::udp_ipv6, [](const count_scope& s) { return s.ipv6; }},
};

inline constexpr inet_dump raw_dumps[] = {
    {IPPROTO_RAW, AF_INET, dump_step::raw_ipv4, [](const count_scope& s) { return s.ipv4; }},
    {IPPROTO_RAW, AF_INET6, dump_step::raw_ipv6, [](const count_scope& s) { return s.ipv6; }},
};

inline constexpr inet_dump mptcp_dumps[] = {
    {abi::ipproto_mptcp, AF_INET, dump_step::mptcp_ipv4,
     [](const count_scope& s) { return s.ipv4; }},
    {abi::ipproto_mptcp, AF_INET6, dump_step::mptcp_ipv6,
     [](const count_scope& s) { return s.ipv6; }},
};

inline constexpr std::uint32_t tcp_established_bit =
    1u << static_cast<unsigned>(tcp_state::established);

inline netlink::dump_request inet_request(const inet_dump& d, std::uint32_t states) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::inet;
  r.family = d.family;
  r.protocol = d.protocol;
  r.states = states;
  return r;
}

inline netlink::dump_request tcp_both_request(std::uint32_t states) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::inet_legacy;
  r.protocol = IPPROTO_TCP;
  r.states = states;
  return r;
}

inline netlink::dump_request unix_request(std::uint32_t show) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::unix_domain;
  r.states = netlink::all_states;
  r.unix_show = show;
  return r;
}

// The query's expression applied to UNIX sockets here: the kernel cannot match them by address
// (unix_diag has no bytecode). Every row passes a query without an expression. The one matcher
// for filtered counts and listings.
struct unix_matcher {
  const socket_filter* expression;
  std::uint8_t types;  // socket_query::unix_types: unix_diag cannot select by type either
  explicit unix_matcher(const socket_query& q) noexcept
      : expression(q.filter != nullptr && q.filter->has_expression() ? q.filter : nullptr),
        types(q.unix_types) {}
  // Whether rows must be parsed to judge (else a count reads the state bytes only).
  bool needs_rows() const noexcept { return expression != nullptr || types != 0; }
  bool operator()(const socket_row& row) const noexcept {
    return unix_type_listed(types, row) &&
           (expression == nullptr || matches_expression(*expression, row));
  }
};

// What the kernel does not judge for raw, packet and netlink rows: raw_diag_dump and the
// packet and netlink dumps ignore the request's states (packet and netlink sockets are all
// SS_CLOSE), and packet_diag cannot select a type or apply an expression.
struct other_matcher {
  std::uint32_t states;
  std::uint8_t packet_types;
  const socket_filter* expression;  // packet and netlink only: raw's is the kernel's bytecode
  explicit other_matcher(const socket_query& q) noexcept
      : states(q.states),
        packet_types(q.packet_types),
        expression(q.filter != nullptr && q.filter->has_expression() ? q.filter : nullptr) {}
  bool operator()(const socket_row& row) const noexcept {
    if ((states >> row.state & 1u) == 0 || !packet_type_listed(packet_types, row)) return false;
    const bool inet = row.family == AF_INET || row.family == AF_INET6;
    return inet || expression == nullptr || matches_expression(*expression, row);
  }
};

// One parallel TCP dump's inputs and results.
struct partition {
  std::array<std::byte, netlink::max_bytecode_size> bytecode{};
  std::size_t bytecode_size = 0;
  std::array<state_counts, 2> counts;
  netlink::key_histogram keys{};
  std::uint64_t repeats = 0;
  socket_table rows;  // a parallel listing's current datagram
  std::error_code error;
  dump_step failed = dump_step::none;
};

}  // namespace source_detail

using namespace source_detail;  // a private header, included by the source's two files only

// The parallel port slices: how many a split count may use, the pool that runs them (opened by
// the first count that splits), where the slices fall, each one's inputs and results, and the
// one sink a parallel listing hands rows to. Their sockets are source::state::sockets[1..].
struct partition_plan {
  unsigned wanted = 1;                      // dumps a split count may use
  bool opened = false;                      // the sockets and threads for them exist
  std::optional<detail::worker_pool> pool;  // started with the partitions
  key_histogram keys{};                     // the last parallel count's port spread
  std::array<partition, max_partitions> parts;
  count_scope scope;  // the current split run's, for the jobs
  std::uint32_t states = all_tcp_states;
  std::uint8_t ext = 0;                         // idiag_ext bits of a parallel listing
  std::optional<std::uint64_t> last_tcp_total;  // the previous exact count's TCP sockets
  row_sink* sink = nullptr;                     // a parallel listing's sink, and its lock
  std::mutex sink_mutex;
};

// Test builds only (the collector's seams set these options): every dump blocks forever or
// fails with an errno before anything is sent. Kept out of the dump plans.
inline std::error_code dump_seam(const source_options& o) noexcept {
  if (o.hang_dumps)
    for (;;) ::pause();  // something that never answers
  return o.fail_dumps_with != 0 ? errno_code(o.fail_dumps_with) : std::error_code{};
}

struct source::state {
  source_options o;
  std::vector<sock_diag_socket> sockets;  // [0] for every dump; the rest, one per partition
  partition_plan split;                   // the parallel port slices of TCP
  bool one_walk = true;                   // TCPDIAG_GETSOCK works here (else per-family dumps)
  derivation_backoff backoff;             // whether count_method::derived tries, under churn
  std::vector<std::byte> filter_code;     // the compiled expression of the last list()
  // The last two expressions compiled, with their bytecode: a probe asking the same questions
  // again (the agent alternates a listeners' and an ESTABLISHED filter) compiles nothing and
  // allocates nothing. Compared by value, so a caller's filter changed in place is compiled.
  struct compiled_filter {
    std::optional<socket_filter> filter;
    std::vector<std::byte> code;
  };
  std::array<compiled_filter, 2> compiled;
  std::size_t compiled_next = 0;   // the slot the next new expression takes
  socket_table batch;              // one datagram's rows, for list()'s sink
  std::uint64_t last_repeats = 0;  // repeats the last snapshot or list dropped
  count_hints* hints = nullptr;    // during a count
  dump_step context = dump_step::none;

  state(sock_diag_socket first, const source_options& opts) : o(opts) {
    split.wanted = std::clamp(o.partitions, 1u, static_cast<unsigned>(max_partitions));
    // Room for every partition's socket now, so opening them later cannot throw.
    sockets.reserve(max_partitions);
    sockets.push_back(std::move(first));
  }

  // The partitions' sockets and threads, opened by the first count that splits (a small
  // table never needs them). Opened on the calling thread, which for another namespace is the
  // collector's thread there: each socket answers for the same namespace. Sockets that
  // cannot be opened (EMFILE) or threads that cannot start mean fewer partitions.
  void open_partitions() noexcept;

  template <class F>
  std::error_code dump(netlink::sock_diag_socket& s, const netlink::dump_request& r,
                       F& f) noexcept {
    if (auto ec = dump_seam(o)) return ec;
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
  // per family, with an optional bytecode filter and idiag_ext bits (`ext`).
  template <class Parse>
  std::error_code tcp_walks(netlink::sock_diag_socket& s, const count_scope& scope,
                            std::uint32_t states, std::span<const std::byte> bytecode, Parse& parse,
                            std::uint64_t& repeats, dump_step& failed,
                            std::uint8_t ext = 0) noexcept {
    if (one_walk && scope.ipv4 && scope.ipv6) {
      netlink::dump_request r = tcp_both_request(states);
      r.bytecode = bytecode;
      r.inet_ext = ext;
      failed = dump_step::tcp_both;
      return guarded_dump(s, r, parse, repeats);
    }
    for (const inet_dump& d : tcp_dumps) {
      if (!d.wanted(scope)) continue;
      netlink::dump_request r = inet_request(d, states);
      r.bytecode = bytecode;
      r.inet_ext = ext;
      failed = d.step;
      if (auto ec = guarded_dump(s, r, parse, repeats)) return ec;
    }
    return {};
  }

  // TCP into counts[family], one dump or one per family, with an optional bytecode filter.
  std::error_code tcp_dumps_into(netlink::sock_diag_socket& s, const count_scope& scope,
                                 std::uint32_t states, std::span<const std::byte> bytecode,
                                 std::array<state_counts, 2>& counts,
                                 netlink::key_histogram* key_out, std::uint64_t& repeats,
                                 dump_step& failed) noexcept;

  // A parallel listing's slice: its rows, parsed on its own thread, handed to the one sink
  // under a lock (datagram by datagram, so slices interleave in whole datagrams).
  static void list_partition_job(void* ctx, std::size_t i) noexcept;

  // The port slices of the split: from the previous parallel count's spread, else even.
  void place_slices(std::size_t n) noexcept;

  // A TCP listing without an expression over parallel port slices, when the table is worth
  // splitting: the kernel builds each slice's messages on its own core. Returns false (having
  // done nothing) when it is not; else the error of the first slice that failed.
  bool list_tcp_parallel(row_sink& sink, const count_scope& scope, std::uint32_t states,
                         std::uint8_t ext, std::error_code& ec) noexcept;

  // A single-walk request failed with EINVAL: either this kernel has no TCPDIAG_GETSOCK, or it
  // refused something else in the request (a filter's bytecode, which inet_diag_bc_audit
  // checks before any dump). A bare request asking for no state (which walks nothing) tells
  // which; only the first turns the single walk off, so a bad filter never changes how later
  // dumps are made.
  bool single_walk_unsupported(netlink::sock_diag_socket& s) noexcept;

  static void partition_job(void* ctx, std::size_t i) noexcept;

  // Whether this count should split: the caller chose a thread count, or the previous
  // count, else the kernel's own counters (sockstat, through the hints), found a table worth
  // it. Unknown: split, as for a big host.
  bool worth_splitting() noexcept;

  // Exact TCP counts: one dump, or one per socket in parallel over disjoint port slices.
  std::error_code count_tcp(const count_scope& scope, std::uint32_t states,
                            std::array<state_counts, 2>& out, std::uint64_t& repeats) noexcept;

  // Runs `attempt`, which dumps TCP in one walk while one_walk holds and sets `context` to
  // the dump that failed. If the single-walk request was refused (EINVAL) and a bare probe
  // says this kernel has no TCPDIAG_GETSOCK, the single walk is off for good and `attempt`
  // runs again, per family. The one place that decides it, for counts, estimates and lists.
  template <class Attempt>
  std::error_code with_walk_fallback(Attempt&& attempt) noexcept {
    std::error_code ec = attempt();
    if (ec == std::errc::invalid_argument && context == dump_step::tcp_both && one_walk &&
        single_walk_unsupported(sockets[0])) {
      one_walk = false;
      ec = attempt();
    }
    return ec;
  }

  // TCP in every state but ESTABLISHED, minisockets told apart: the walk without the messages
  // that cost (one walk: splitting a dump that builds almost no messages only adds walks).
  std::error_code dump_all_but_established(const count_scope& scope,
                                           std::array<state_counts, 2>& counts,
                                           netlink::minisocket_counts& minisockets,
                                           std::uint64_t& repeats) noexcept;

  // Every state but ESTABLISHED, then ESTABLISHED = CurrEstab - CLOSE_WAIT. The walk without
  // the messages that cost (one walk: splitting a dump that builds almost no messages only
  // adds walks). Returns whether the figures held (else the caller counts exactly).
  std::error_code count_estimate(socket_summary& out, const count_scope& scope,
                                 bool& estimated) noexcept;

  // Every state but ESTABLISHED between two reads of the gauges, then ESTABLISHED twice:
  // CurrEstab - CLOSE_WAIT, and per family inuse - the full sockets dumped. Fills `out.tcp`
  // and says taken when the gauges held still and both agree; else the caller walks.
  std::error_code count_derived(socket_summary& out, const count_scope& scope,
                                bool& taken) noexcept;

  std::error_code count_netlink(socket_summary& out, const count_scope& scope,
                                count_method method) noexcept;

  std::error_code snapshot_netlink(socket_table& out, const count_scope& scope) noexcept;
  // UDP per family into out.udp (and its repeats), states and optional bytecode as given.
  std::error_code count_udp(socket_summary& out, const count_scope& scope, std::uint32_t states,
                            std::span<const std::byte> bytecode) noexcept;

  // Parses one datagram into `batch`, keeps what `keep` accepts, and hands the rows to the
  // sink: a listing holds one datagram's rows at a time.
  template <class Parse, class Keep>
  parse_status rows_to(row_sink& sink, Parse&& parse, Keep&& keep) noexcept;

  // The query's expression as kernel bytecode in filter_code (empty without one).
  std::error_code compile_query(const socket_query& q) noexcept;

  // The sockets a query selects, counted: states and expression go to the kernel, so a
  // socket that does not match costs only the walk, one that does its message, whose state
  // byte is all that is read. One dump (no port slices: their bytecode would have to be
  // joined to the query's, and a selective query's cost is the walk). UNIX sockets, which the
  // kernel cannot match by address, are listed and matched here when there is an expression.
  std::error_code count_selected(socket_summary& out, const socket_query& q) noexcept;

  std::error_code list_netlink(row_sink& sink, const socket_query& q) noexcept;
  std::error_code list_other_tables(row_sink& sink, const socket_query& q) noexcept;
};

}  // namespace ssfast::netlink
