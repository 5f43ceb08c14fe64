// SPDX-License-Identifier: Apache-2.0
// `ssfast agent`: HAProxy's agent-check answer from the socket state of one service port.
// Pure functions: what the sockets say, then what HAProxy is told.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ssfast/core/export.h"
#include "ssfast/core/socket_table.h"

namespace ssfast::serve {

/// One listener's accept queue.
struct listener_queue {
  std::string address;             ///< "127.0.0.1:8600", "[::1]:8600"
  std::uint32_t accept_queue = 0;  ///< connections waiting for accept(): its Recv-Q
  std::uint32_t backlog = 0;       ///< its accept-queue limit: its Send-Q (netlink)
};

/// What the sockets on the service port say.
struct service_state {
  std::uint64_t listeners = 0;  ///< TCP listeners on the port (v4, v6, SO_REUSEPORT groups)
  /// The listener whose accept queue is fullest against its own backlog. Each listener has
  /// its own queue (an IPv4 and an IPv6 one on the same port, or SO_REUSEPORT siblings): a
  /// full one refuses connections however empty the others are, so they are never summed.
  std::optional<listener_queue> fullest;
  std::uint64_t established = 0;  ///< ESTABLISHED sockets with the port as local port
};

/// Reads `t` (TCP rows; other rows and other ports are ignored) for local port `port`.
SSFAST_API service_state measure_service(const socket_table& t, std::uint16_t port);

struct agent_rules {
  std::uint64_t max_established = 0;  ///< 0: no limit; else weight falls to 0 as it is reached
  double drain_queue = 0.9;           ///< drain when a listener's accept queue is past this
                                      ///< share of its own backlog (and not empty)
  bool backlog_known = true;  ///< false from /proc (no backlog there): the queue rule is off
};

/// The agent-check reply, one line ending in '\n' (HAProxy's agent-check protocol, words
/// separated by spaces, a description after '#'): "down #no listener on port P" when nothing
/// listens; "up drain #accept queue of ADDR: Q of backlog B" when one listener's queue has
/// filled past the rule's share of its backlog; "up drain" when ESTABLISHED reached the
/// limit; else "up ready W%" with W = 100 x (1 - established / max_established), at least 1
/// (100 without a limit). "up" and "ready" undo an earlier down or drain.
SSFAST_API std::string agent_reply(const service_state& s, const agent_rules& r,
                                   std::uint16_t port);

}  // namespace ssfast::serve
