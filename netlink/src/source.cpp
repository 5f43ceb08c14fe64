// SPDX-License-Identifier: Apache-2.0
// The netlink source: which dumps answer a count or a snapshot, and how: TCP in one walk for
// both families or per family, split over parallel port slices, the estimate's dump. The
// state and its plans are in source_state.h; listings in source_list.cpp.
#include "source_state.h"
#include "ssfast/core/derivation.h"

namespace ssfast::netlink {

void source::state::open_partitions() noexcept {
  split.opened = true;
  while (sockets.size() < split.wanted) {
    auto s = sock_diag_socket::open(o.timeout);
    if (!s) break;
    sockets.push_back(std::move(*s));  // capacity reserved: no allocation, no throw
  }
  if (sockets.size() > 1) {
    split.pool.emplace(sockets.size() - 1);
    sockets.erase(sockets.begin() + static_cast<std::ptrdiff_t>(split.pool->size() + 1),
                  sockets.end());
  }
}

std::error_code source::state::tcp_dumps_into(netlink::sock_diag_socket& s,
                                              const count_scope& scope, std::uint32_t states,
                                              std::span<const std::byte> bytecode,
                                              std::array<state_counts, 2>& counts,
                                              netlink::key_histogram* key_out,
                                              std::uint64_t& repeats, dump_step& failed) noexcept {
  auto parse = [&](const netlink::datagram& g, const netlink::reply_filter& f,
                   repeat_guard& guard) noexcept {
    return key_out != nullptr
               ? netlink::count_inet_keys(g, f, counts, *key_out, o.ephemeral_low, &guard)
               : netlink::count_inet(g, f, counts, &guard);
  };
  return tcp_walks(s, scope, states, bytecode, parse, repeats, failed);
}

void source::state::place_slices(std::size_t n) noexcept {
  std::array<std::uint16_t, netlink::max_partitions> first;
  netlink::split_key_space(split.keys, n, o.ephemeral_low, o.ephemeral_high, first);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t hi = i + 1 < n ? static_cast<std::uint16_t>(first[i + 1] - 1) : 65535;
    split.parts[i].bytecode_size =
        netlink::compile_key_range(first[i], hi, o.ephemeral_low, split.parts[i].bytecode);
  }
}

bool source::state::single_walk_unsupported(netlink::sock_diag_socket& s) noexcept {
  std::array<state_counts, 2> ignored;
  auto parse = [&](const netlink::datagram& g, const netlink::reply_filter& f) noexcept {
    return netlink::count_inet(g, f, ignored);
  };
  return dump(s, tcp_both_request(0), parse) == std::errc::invalid_argument;
}

void source::state::partition_job(void* ctx, std::size_t i) noexcept {
  auto* self = static_cast<state*>(ctx);
  partition& p = self->split.parts[i];
  p.counts = {};
  p.keys = {};
  p.repeats = 0;
  p.error = self->tcp_dumps_into(self->sockets[i], self->split.scope, self->split.states,
                                 {p.bytecode.data(), p.bytecode_size}, p.counts, &p.keys, p.repeats,
                                 p.failed);
}

bool source::state::worth_splitting() noexcept {
  if (!o.adaptive) return true;
  if (split.last_tcp_total) return *split.last_tcp_total >= parallel_min_sockets;
  const auto expected = hints != nullptr ? hints->expected_tcp_sockets() : std::nullopt;
  return !expected || *expected >= parallel_min_sockets;
}

std::error_code source::state::count_tcp(const count_scope& scope, std::uint32_t states,
                                         std::array<state_counts, 2>& out,
                                         std::uint64_t& repeats) noexcept {
  if (split.wanted > 1 && !split.opened && worth_splitting()) open_partitions();
  const std::size_t n = sockets.size();
  if (n == 1 || !worth_splitting()) {
    dump_step failed = dump_step::none;
    auto ec = tcp_dumps_into(sockets[0], scope, states, {}, out, nullptr, repeats, failed);
    if (ec)
      context = failed;
    else
      split.last_tcp_total = out[0].total() + out[1].total();
    return ec;
  }
  place_slices(n);
  split.scope = scope;
  split.states = states;
  split.pool->run(n, partition_job, this);
  for (std::size_t i = 0; i < n; ++i) {
    if (split.parts[i].error) {
      context = split.parts[i].failed;
      return split.parts[i].error;
    }
  }
  split.keys = {};
  for (std::size_t i = 0; i < n; ++i) {
    out[0] += split.parts[i].counts[0];
    out[1] += split.parts[i].counts[1];
    repeats += split.parts[i].repeats;
    for (std::size_t b = 0; b < split.keys.size(); ++b) split.keys[b] += split.parts[i].keys[b];
  }
  split.last_tcp_total = out[0].total() + out[1].total();
  return {};
}

std::error_code source::state::dump_all_but_established(const count_scope& scope,
                                                        std::array<state_counts, 2>& counts,
                                                        netlink::minisocket_counts& minisockets,
                                                        std::uint64_t& repeats) noexcept {
  return with_walk_fallback([&]() noexcept {
    counts = {};
    minisockets = {};
    repeats = 0;
    auto parse = [&](const netlink::datagram& g, const netlink::reply_filter& f,
                     repeat_guard& guard) noexcept {
      return netlink::count_inet_minisockets(g, f, counts, minisockets, &guard);
    };
    dump_step failed = dump_step::none;
    auto e = tcp_walks(sockets[0], scope, all_tcp_states & ~tcp_established_bit, {}, parse, repeats,
                       failed);
    context = e ? failed : dump_step::none;
    return e;
  });
}

std::error_code source::state::count_estimate(socket_summary& out, const count_scope& scope,
                                              bool& estimated) noexcept {
  estimated = false;
  if (!(scope.ipv4 && scope.ipv6)) {
    out.estimate = socket_summary::estimate_status::needs_both_families;
    return {};
  }
  std::array<state_counts, 2> counts;
  netlink::minisocket_counts minisockets;
  std::uint64_t repeats = 0;
  if (auto ec = dump_all_but_established(scope, counts, minisockets, repeats)) return ec;
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

// Every state but ESTABLISHED between two reads of the gauges; derive_established()
// (ssfast/core/derivation.h, where the kernel functions behind it are cited) says whether the
// derivation stands.
std::error_code source::state::count_derived(socket_summary& out, const count_scope& scope,
                                             bool& taken) noexcept {
  using st = socket_summary::derivation_status;
  taken = false;
  if (!(scope.ipv4 && scope.ipv6)) {
    out.derivation = st::needs_both_families;
    return {};
  }
  if (!backoff.should_try()) {
    out.derivation = st::backed_off;
    return {};
  }
  derivation_input in;
  in.before = hints != nullptr ? hints->gauges() : tcp_gauges{};
  if (!(in.before.curr_estab && in.before.inuse[0] && in.before.inuse[1])) {
    out.derivation = st::gauge_missing;  // no dump wasted
    out.gauges = in.before;
    return {};
  }
  std::array<state_counts, 2> counts;
  netlink::minisocket_counts minisockets;
  std::uint64_t repeats = 0;
  if (auto ec = dump_all_but_established(scope, counts, minisockets, repeats)) return ec;
  in.after = hints->gauges();
  for (std::size_t f = 0; f < 2; ++f)
    in.full_other[f] = counts[f].total() - minisockets.timewait[f] - minisockets.request[f];
  in.close_wait = counts[0][tcp_state::close_wait] + counts[1][tcp_state::close_wait];
  const derivation_result r = derive_established(in);
  backoff.record(r.status);
  out.gauges = in.after;
  out.derivation = r.status;
  if (r.status != st::taken) return {};
  out.tcp = counts;
  for (std::size_t f = 0; f < 2; ++f)
    out.tcp[f][static_cast<std::size_t>(tcp_state::established)] = r.established[f];
  out.repeats_dropped += repeats;
  taken = true;
  return {};
}

std::error_code source::state::count_netlink(socket_summary& out, const count_scope& scope,
                                             count_method method) noexcept {
  context = dump_step::none;
  if (scope.tcp) {
    bool answered = false;
    if (method == count_method::estimate) {
      if (auto ec = count_estimate(out, scope, answered)) return ec;
    } else if (method == count_method::derived) {
      if (auto ec = count_derived(out, scope, answered)) return ec;
    }
    if (!answered) {
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
  if (scope.udp)
    if (auto ec = count_udp(out, scope, all_states, {})) return ec;
  if (scope.unix_domain) {
    auto f = [&](const datagram& g, const reply_filter& r, repeat_guard& guard) noexcept {
      return count_unix(g, r, out.unix_domain, &guard);
    };
    if (auto ec = guarded_dump(sockets[0], unix_request(0), f, out.repeats_dropped)) {
      context = dump_step::unix_domain;
      return ec;
    }
  }
  return {};
}

std::error_code source::state::count_udp(socket_summary& out, const count_scope& scope,
                                         std::uint32_t states,
                                         std::span<const std::byte> bytecode) noexcept {
  for (const inet_dump& d : udp_dumps) {
    if (!d.wanted(scope)) continue;
    auto f = [&](const datagram& g, const reply_filter& r, repeat_guard& guard) noexcept {
      return count_inet(g, r, out.udp, &guard);
    };
    dump_request r = inet_request(d, states);
    r.bytecode = bytecode;
    if (auto ec = guarded_dump(sockets[0], r, f, out.repeats_dropped)) {
      context = d.step;
      return ec;
    }
  }
  return {};
}

std::error_code source::state::snapshot_netlink(socket_table& out,
                                                const count_scope& scope) noexcept {
  context = dump_step::none;
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
        context = d.step;
        return ec;
      }
    }
  }
  if (scope.unix_domain) {
    auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                 repeat_guard& guard) noexcept { return netlink::rows_unix(g, r, out, &guard); };
    if (auto ec =
            guarded_dump(sockets[0], unix_request(netlink::unix_show_rows), f, last_repeats)) {
      context = dump_step::unix_domain;
      return ec;
    }
  }
  return {};
}

std::string_view to_string(dump_step s) noexcept {
  switch (s) {
    case dump_step::none: return {};
    case dump_step::filter: return "filter";
    case dump_step::tcp_both: return "TCP dump";
    case dump_step::tcp_ipv4: return "TCP/IPv4 dump";
    case dump_step::tcp_ipv6: return "TCP/IPv6 dump";
    case dump_step::udp_ipv4: return "UDP/IPv4 dump";
    case dump_step::udp_ipv6: return "UDP/IPv6 dump";
    case dump_step::unix_domain: return "UNIX dump";
    case dump_step::raw_ipv4: return "RAW/IPv4 dump";
    case dump_step::raw_ipv6: return "RAW/IPv6 dump";
    case dump_step::packet: return "packet socket dump";
    case dump_step::netlink: return "netlink socket dump";
    case dump_step::mptcp_ipv4: return "MPTCP/IPv4 dump";
    case dump_step::mptcp_ipv6: return "MPTCP/IPv6 dump";
  }
  return {};
}

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

std::error_code source::snapshot(socket_table& out, const count_scope& scope) noexcept {
  const std::error_code ec = s_->snapshot_netlink(out, scope);
  context_ = s_->context;
  return ec;
}

unsigned source::threads() const noexcept {
  return s_->split.opened ? static_cast<unsigned>(s_->sockets.size()) : s_->split.wanted;
}

}  // namespace ssfast::netlink
