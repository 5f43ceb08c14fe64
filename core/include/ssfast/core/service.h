// SPDX-License-Identifier: Apache-2.0
// What a load balancer's probe asks of one service port, and the answer: its listeners, the
// fullest accept queue, ESTABLISHED, and the verdict (ready with a weight, drain, down) under
// an operator's rules. Pure and allocation-free: the probe API (api/), the agent-check and
// HTTP readiness answers (serve/) judge by these functions alone.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

enum class service_verdict : std::uint8_t {
  ready,  ///< take connections, at `weight` percent
  drain,  ///< keep the connections it has, send no new ones
  down,   ///< nothing listens, or nothing is known
};

/// "ready", "drain", "down". Static storage.
SSFAST_API std::string_view to_string(service_verdict v) noexcept;

/// An operator's rules for one service.
struct service_rules {
  /// 0: no limit, and no walk of the established hash. Else the weight falls to 1% as
  /// ESTABLISHED on the port approaches it, and the service drains once it is reached.
  std::uint64_t max_established = 0;
  /// Drain when a listener's accept queue holds at least this share of its own backlog (and
  /// is not empty). 0 < drain_queue <= 1.
  double drain_queue = 0.9;
  /// false where the source shows no backlog (/proc): the queue rule is then off.
  bool backlog_known = true;
};

/// Whether judging by `r` needs ESTABLISHED counted, which costs a walk of the whole
/// established hash (listeners alone cost a walk of the listening hash: inet_diag_dump_icsk
/// skips the established one when idiag_states holds only TCPF_LISTEN).
constexpr bool needs_established(const service_rules& r) noexcept { return r.max_established != 0; }

/// One listener's accept queue.
struct service_listener {
  std::uint8_t family = 0;  ///< AF_INET (2) or AF_INET6 (10)
  address_bytes address{};
  std::uint32_t accept_queue = 0;  ///< connections waiting for accept(): its Recv-Q
  std::uint32_t backlog = 0;       ///< its accept-queue limit: its Send-Q (netlink)
};

/// What the sockets of one service port say, and the verdict on them. Fixed size: no
/// allocation to fill, copy or judge it.
struct service_state {
  std::uint16_t port = 0;
  std::uint64_t listeners = 0;  ///< TCP listeners on the port (v4, v6, SO_REUSEPORT siblings)
  /// The listener whose accept queue is fullest against its own backlog (when listeners > 0).
  /// Each has its own queue: a full one refuses connections however empty the others are,
  /// so they are never summed.
  service_listener fullest;
  std::uint64_t established = 0;  ///< ESTABLISHED with the port as local port, if counted
  bool established_counted = false;
  /// Whether the source showed the listeners' backlogs (netlink does, /proc does not): false,
  /// the queue rule was off.
  bool backlog_known = true;
  service_verdict verdict = service_verdict::down;
  std::uint8_t weight = 0;  ///< 1..100 when ready, else 0
  /// Why, for a person (NUL-terminated; empty when ready): "no listener on port 8080",
  /// "accept queue of 127.0.0.1:8080: 5 of backlog 4", "ESTABLISHED 20000 of
  /// max-established 20000".
  std::array<char, 128> reason{};
  /// When it was measured: the steady clock (CLOCK_MONOTONIC) in nanoseconds; 0: never.
  std::int64_t measured_at_ns = 0;

  std::string_view reason_text() const noexcept { return reason.data(); }
};

/// Clears `s` for a new measurement of `port`.
SSFAST_API void begin_service(service_state& s, std::uint16_t port) noexcept;

/// Adds row `i` of `t` to `s` if it is a TCP listener or an ESTABLISHED socket with `s.port`
/// as local port (anything else is ignored). For a listener, Recv-Q and Send-Q are its
/// queue and backlog (kernel tcp_diag.c, tcp_diag_get_info: idiag_rqueue = sk_ack_backlog,
/// idiag_wqueue = sk_max_ack_backlog).
SSFAST_API void add_service_socket(service_state& s, const socket_table& t, std::size_t i) noexcept;

/// Every row of `t` through add_service_socket, after begin_service(s, port); ESTABLISHED
/// counts as counted.
SSFAST_API void measure_service(const socket_table& t, std::uint16_t port,
                                service_state& s) noexcept;

/// Sets verdict, weight, reason and backlog_known by `r`, in this order: no listener: down; one
/// listener's accept queue at drain_queue of its backlog (with backlog_known): drain; ESTABLISHED
/// at max_established: drain; else ready at W = 100 x (1 - ESTABLISHED / max_established), rounded
/// up, at least 1 (100 without a limit). A limit with ESTABLISHED not counted is judged as if none
/// were there: the caller counts when needs_established(r).
SSFAST_API void judge_service(service_state& s, const service_rules& r) noexcept;

}  // namespace ssfast
