// SPDX-License-Identifier: Apache-2.0
// TCP states as the kernel numbers them (include/net/tcp_states.h) and their netstat names.
#pragma once

#include <cstdint>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast {

/// The kernel's TCP_* values. The state column and state_counts store these bytes unchanged.
enum class tcp_state : std::uint8_t {
  established = 1,
  syn_sent = 2,
  syn_recv = 3,
  fin_wait1 = 4,
  fin_wait2 = 5,
  time_wait = 6,
  close = 7,
  close_wait = 8,
  last_ack = 9,
  listen = 10,
  closing = 11,
  new_syn_recv = 12,    ///< request sockets; sock_diag and /proc report them as SYN_RECV
  bound_inactive = 13,  ///< kernels 6.8+, bound but unconnected; reported as CLOSE
};

/// Number of distinct state byte values ssfast accounts for (0..15).
inline constexpr std::size_t state_slots = 16;

/// The eleven states netstat names, in the kernel's order.
inline constexpr tcp_state netstat_states[] = {
    tcp_state::established, tcp_state::syn_sent,  tcp_state::syn_recv, tcp_state::fin_wait1,
    tcp_state::fin_wait2,   tcp_state::time_wait, tcp_state::close,    tcp_state::close_wait,
    tcp_state::last_ack,    tcp_state::listen,    tcp_state::closing};

/// netstat's name for a state byte ("ESTABLISHED", "SYN_RECV", ...). NEW_SYN_RECV reads as
/// SYN_RECV and BOUND_INACTIVE as CLOSE, as the kernel itself reports them; any other value
/// outside 1..11 gives an empty view. No allocation.
SSFAST_API std::string_view netstat_name(std::uint8_t state) noexcept;

/// The TCP_* value a person means by `name`, in any case and in netstat's (FIN_WAIT2), ss's
/// (FIN-WAIT-2, ESTAB, UNCONN), the filter's (fin-wait-2, listening, closed) or the kernel's
/// (TCP_FIN_WAIT2) spelling; 0 for none. No allocation.
SSFAST_API std::uint8_t parse_state_name(std::string_view name) noexcept;

/// The state netstat would show for a state byte: folds NEW_SYN_RECV into SYN_RECV and
/// BOUND_INACTIVE into CLOSE; other values are returned unchanged.
constexpr std::uint8_t netstat_fold(std::uint8_t state) noexcept {
  if (state == static_cast<std::uint8_t>(tcp_state::new_syn_recv))
    return static_cast<std::uint8_t>(tcp_state::syn_recv);
  if (state == static_cast<std::uint8_t>(tcp_state::bound_inactive))
    return static_cast<std::uint8_t>(tcp_state::close);
  return state;
}

}  // namespace ssfast
