// SPDX-License-Identifier: Apache-2.0
// The netlink source's listings and filtered counts: a query's states and expression as
// kernel bytecode, rows handed to a row_sink a datagram at a time, TCP over the parallel port
// slices when there is no expression.
#include "source_state.h"

namespace ssfast::netlink {

void source::state::list_partition_job(void* ctx, std::size_t i) noexcept {
  auto* self = static_cast<state*>(ctx);
  partition& p = self->split.parts[i];
  p.repeats = 0;
  auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                  repeat_guard& guard) noexcept {
    p.rows.clear();
    parse_status st = netlink::rows_inet(g, r, IPPROTO_TCP, p.rows, &guard);
    if (!st.error && !p.rows.empty()) {
      const std::lock_guard<std::mutex> lock(self->split.sink_mutex);
      st.error = self->split.sink->on_rows(p.rows);
    }
    return st;
  };
  p.error = self->tcp_walks(self->sockets[i], self->split.scope, self->split.states,
                            {p.bytecode.data(), p.bytecode_size}, rows, p.repeats, p.failed,
                            self->split.ext);
}

bool source::state::list_tcp_parallel(row_sink& sink, const count_scope& scope,
                                      std::uint32_t states, std::uint8_t ext,
                                      std::error_code& ec) noexcept {
  if (split.wanted > 1 && !split.opened && worth_splitting()) open_partitions();
  const std::size_t n = sockets.size();
  if (n == 1 || !worth_splitting()) return false;
  place_slices(n);
  split.scope = scope;
  split.states = states;
  split.ext = ext;
  split.sink = &sink;
  split.pool->run(n, list_partition_job, this);
  split.sink = nullptr;
  ec = {};
  for (std::size_t i = 0; i < n; ++i) {
    last_repeats += split.parts[i].repeats;
    if (split.parts[i].error && !ec) {
      ec = split.parts[i].error;
      context = split.parts[i].failed;
    }
  }
  return true;
}

template <class Parse, class Keep>
parse_status source::state::rows_to(row_sink& sink, Parse&& parse, Keep&& keep) noexcept {
  batch.clear();
  parse_status st = parse(batch);
  if (!st.error && !batch.empty()) {
    batch.retain(keep);
    if (!batch.empty()) st.error = sink.on_rows(batch);
  }
  return st;
}

std::error_code source::state::compile_query(const socket_query& q) noexcept {
  try {
    if (q.filter != nullptr) {
      for (const compiled_filter& c : compiled)
        if (c.filter && *c.filter == *q.filter) {
          filter_code.assign(c.code.begin(), c.code.end());  // into its capacity
          return {};
        }
      if (auto ec = netlink::compile_filter(*q.filter, filter_code)) {
        context = dump_step::filter;
        return ec;
      }
      compiled_filter& slot = compiled[compiled_next++ % compiled.size()];
      slot.filter = *q.filter;
      slot.code = filter_code;
    } else {
      filter_code.clear();
    }
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  return {};
}

std::error_code source::state::count_selected(socket_summary& out, const socket_query& q) noexcept {
  context = dump_step::none;
  if (auto ec = compile_query(q)) return ec;
  const count_scope& sc = q.scope;
  if (sc.tcp && (q.states & all_tcp_states) != 0) {
    std::uint64_t repeats = 0;
    if (auto ec = with_walk_fallback([&]() noexcept {
          out.tcp = {};
          repeats = 0;
          dump_step failed = dump_step::none;
          auto e = tcp_dumps_into(sockets[0], sc, q.states & all_tcp_states, filter_code, out.tcp,
                                  nullptr, repeats, failed);
          context = e ? failed : dump_step::none;
          return e;
        }))
      return ec;
    out.repeats_dropped += repeats;
  }
  if (sc.udp)
    if (auto ec = count_udp(out, sc, q.states, filter_code)) return ec;

  if (sc.unix_domain) {
    const unix_matcher keep{q};
    auto count = [&](const datagram& g, const reply_filter& r, repeat_guard& guard) noexcept {
      if (!keep.needs_rows()) return count_unix(g, r, out.unix_domain, &guard);
      batch.clear();
      parse_status st = rows_unix(g, r, batch, &guard);
      if (st.error) return st;
      batch.retain(keep);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const std::uint8_t type = batch.sock_type()[i];
        ++out.unix_domain.by_type[type < 8 ? type : 0];
        ++out.unix_domain.states[batch.state()[i]];
      }
      return st;
    };
    dump_request r = unix_request(keep.needs_rows() ? unix_show_rows : 0);
    r.states = q.states;
    if (auto ec = guarded_dump(sockets[0], r, count, out.repeats_dropped)) {
      context = dump_step::unix_domain;
      return ec;
    }
  }
  return {};
}

namespace {}  // namespace

std::error_code source::state::list_netlink(row_sink& sink, const socket_query& q) noexcept {
  context = dump_step::none;
  last_repeats = 0;
  // Rows keep their attributes only when the listing shows what they carry.
  batch.keep_attributes(q.show.any());
  for (partition& p : split.parts) p.rows.keep_attributes(q.show.any());
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
    const std::uint8_t ext = inet_ext_of(q);
    // A refused single walk (EINVAL) sent no row: the kernel audits the request, bytecode
    // included, before it dumps. So the retry per family cannot repeat rows.
    const std::error_code ec = with_walk_fallback([&]() noexcept -> std::error_code {
      // Without an expression a big table is split over port slices (with one, the kernel
      // filters a single walk: the slices' bytecode and the query's are not joined).
      std::error_code split_ec;
      if (filter_code.empty() && list_tcp_parallel(sink, sc, states, ext, split_ec))
        return split_ec;
      dump_step failed = dump_step::none;
      const auto e =
          tcp_walks(sockets[0], sc, states, filter_code, rows, last_repeats, failed, ext);
      context = e ? failed : dump_step::none;
      return e;
    });
    if (ec) return ec;
  }
  if (sc.udp) {
    for (const inet_dump& d : udp_dumps) {
      if (!d.wanted(sc)) continue;
      auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                      repeat_guard& guard) noexcept {
        return rows_to(
            sink, [&](socket_table& t) { return netlink::rows_inet(g, r, IPPROTO_UDP, t, &guard); },
            every);
      };
      netlink::dump_request r = inet_request(d, q.states);
      r.inet_ext = inet_ext_of(q);
      r.bytecode = filter_code;
      if (auto ec = guarded_dump(sockets[0], r, rows, last_repeats)) {
        context = d.step;
        return ec;
      }
    }
  }
  if (sc.unix_domain) {
    const unix_matcher keep{q};
    auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                    repeat_guard& guard) noexcept {
      return rows_to(
          sink, [&](socket_table& t) { return netlink::rows_unix(g, r, t, &guard); }, keep);
    };
    netlink::dump_request r =
        unix_request(netlink::unix_show_rows | (q.show.extended ? netlink::unix_show_details : 0) |
                     (q.show.memory ? netlink::unix_show_memory : 0));
    r.states = q.states;
    if (auto ec = guarded_dump(sockets[0], r, rows, last_repeats)) {
      context = dump_step::unix_domain;
      return ec;
    }
  }
  return list_other_tables(sink, q);
}

// Raw, MPTCP, packet and netlink sockets, each table its dumps (ss.c raw_show, mptcp_show,
// packet_show_netlink, netlink_show_netlink). A kernel without mptcp_diag answers ENOENT too. A
// kernel without raw_diag ends the raw dump with ENOENT in its NLMSG_DONE (inet_diag_lock_handler
// finds no handler for IPPROTO_RAW): returned as it is, with the step, for the caller to read
// /proc/net/raw instead.
std::error_code source::state::list_other_tables(row_sink& sink, const socket_query& q) noexcept {
  const count_scope& sc = q.scope;
  const other_matcher keep{q};
  for (const auto& dumps :
       {std::span<const inet_dump>(raw_dumps), std::span<const inet_dump>(mptcp_dumps)}) {
    if (!(dumps[0].protocol == IPPROTO_RAW ? sc.raw : sc.mptcp)) continue;
    for (const inet_dump& d : dumps) {
      if (!d.wanted(sc)) continue;
      auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                      repeat_guard& guard) noexcept {
        return rows_to(
            sink, [&](socket_table& t) { return netlink::rows_inet(g, r, d.protocol, t, &guard); },
            keep);
      };
      netlink::dump_request r = inet_request(d, q.states);
      r.inet_ext = inet_ext_of(q);
      // raw_diag's and mptcp_diag's sk_diag_dump run it (inet_diag_bc_sk).
      r.bytecode = filter_code;
      if (auto ec = guarded_dump(sockets[0], r, rows, last_repeats)) {
        context = d.step;
        return ec;
      }
    }
  }
  // Packet and netlink sockets: one dump each, every socket, parsed by their own rows_*.
  struct family_dump {
    bool wanted;
    netlink::dump_request::kind what;
    std::uint32_t show;
    parse_status (*parse)(const datagram&, const reply_filter&, socket_table&, repeat_guard*);
    dump_step step;
  };
  const family_dump family_dumps[] = {
      {sc.packet, netlink::dump_request::kind::packet, netlink::packet_show_rows,
       &netlink::rows_packet, dump_step::packet},
      {sc.netlink, netlink::dump_request::kind::netlink, netlink::netlink_show_rows,
       &netlink::rows_netlink, dump_step::netlink},
  };
  for (const family_dump& d : family_dumps) {
    if (!d.wanted) continue;
    auto rows = [&](const netlink::datagram& g, const netlink::reply_filter& r,
                    repeat_guard& guard) noexcept {
      return rows_to(
          sink, [&](socket_table& t) { return d.parse(g, r, t, &guard); }, keep);
    };
    netlink::dump_request r;
    r.what = d.what;
    r.show = d.show;
    if (auto ec = guarded_dump(sockets[0], r, rows, last_repeats)) {
      context = d.step;
      return ec;
    }
  }
  return {};
}

std::error_code source::count(socket_summary& out, const socket_query& q) noexcept {
  const std::error_code ec = s_->count_selected(out, q);
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

}  // namespace ssfast::netlink
