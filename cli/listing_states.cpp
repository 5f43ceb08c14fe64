// SPDX-License-Identifier: Apache-2.0
// The states a listing shows when no state filter says otherwise, as ss computes them.
#include "options.h"
#include "ssfast/core/kernel_abi.h"

namespace ssfast::cli {

std::uint32_t listing_states(const options& o, const socket_filter& f) noexcept {
  constexpr std::uint32_t all = abi::tcp_all_states;
  constexpr auto bit = [](tcp_state s) { return 1u << static_cast<unsigned>(s); };
  if (f.states) return *f.states;
  // A summary or a check counts every state its filter does not exclude.
  if (o.all || o.cmd == command::top || o.cmd == command::summary || o.cmd == command::check)
    return all;
  if (o.listening) return bit(tcp_state::listen) | bit(tcp_state::close);
  // iproute2 ss.c: one mask for every protocol listed. -t and -u add their table's default
  // (filter_db_set: TCP SS_CONN, UDP ESTABLISHED); -x, -4 and -6 add their family's
  // (filter_af_set: SS_CONN). With none of them, connected sockets of every table: plain
  // `ss` (iproute2 6.1) shows no unconnected UDP or UNIX datagram socket.
  const std::uint32_t conn = all & ~(bit(tcp_state::listen) | bit(tcp_state::close) |
                                     bit(tcp_state::time_wait) | bit(tcp_state::syn_recv));
  if (!o.tcp && !o.udp && !o.unix_domain) return conn;
  std::uint32_t s = 0;
  if (o.tcp || o.unix_domain) s |= conn;
  if (o.udp) s |= bit(tcp_state::established);
  return s;
}

}  // namespace ssfast::cli
