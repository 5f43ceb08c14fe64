// `ssfast agent`: HAProxy's agent-check answer from the socket state of one service port.
// Pure functions: what the sockets say, then what HAProxy is told.
#pragma once

#include <cstdint>
#include <string>

#include "ssfast/core/socket_table.h"

namespace ssfast::cli {

/// What the sockets on the service port say.
struct service_state {
  std::uint64_t listeners = 0;    ///< TCP listeners on the port (v4, v6, SO_REUSEPORT groups)
  std::uint64_t accept_queue = 0; ///< connections waiting for accept(): the listeners' Recv-Q
  std::uint64_t backlog = 0;      ///< the listeners' accept-queue limits (Send-Q)
  std::uint64_t established = 0;  ///< ESTABLISHED sockets with the port as local port
};

/// Sums `t` (TCP rows; other rows and other ports are ignored) for local port `port`.
service_state measure_service(const socket_table& t, std::uint16_t port) noexcept;

struct agent_rules {
  std::uint64_t max_established = 0;  ///< 0: no limit; else weight falls to 0 as it is reached
  double drain_queue = 0.9;           ///< drain when accept_queue > 0 and >= this x backlog
  bool backlog_known = true;  ///< false from /proc (no backlog there): the queue rule is off
};

/// The agent-check reply, one line ending in '\n' (HAProxy's agent-check protocol, words
/// separated by spaces): "down #no listener on port P" when nothing listens; "up drain" when
/// the accept queue has filled past the rule's share of the backlog or ESTABLISHED reached
/// the limit; else "up ready W%" with W = 100 x (1 - established / max_established), at
/// least 1 (100 without a limit). "up" and "ready" undo an earlier down or drain.
std::string agent_reply(const service_state& s, const agent_rules& r, std::uint16_t port);

}  // namespace ssfast::cli
