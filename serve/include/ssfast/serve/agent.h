// SPDX-License-Identifier: Apache-2.0
// `ssfast agent`'s answers from a service's judged state (core's service_state): HAProxy's
// agent-check line and the HTTP readiness status. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/core/service.h"

namespace ssfast::serve {

/// The agent-check reply, one line ending in '\n' (HAProxy's agent-check protocol, words
/// separated by spaces, a description after '#'): "up ready W% #age A ms", "up drain #REASON;
/// age A ms", "down #REASON; age A ms" for s.verdict (see judge_service), A being how old the
/// measurement is. "up" and "ready" undo an earlier down or drain.
SSFAST_API std::string agent_reply(const service_state& s, std::int64_t age_ms);

/// The reply when no measurement is recent enough to answer from (older than --max-stale, or
/// none yet): "down #no measurement\n".
SSFAST_API std::string_view agent_reply_unknown() noexcept;

/// The reply to several services when HAProxy's agent-send named none of them:
/// "down #agent-send must name a port\n" (or "… is not a port of this agent" for a port not
/// served).
SSFAST_API std::string agent_reply_unnamed(std::string_view sent);

/// The port an agent-send string names: decimal digits, with blanks and a line end around
/// them; nothing else.
SSFAST_API std::optional<std::uint16_t> agent_send_port(std::string_view sent) noexcept;

/// An HTTP readiness answer: 200 "ready W%", 429 "drain: REASON" (Consul's warning; not ready to
/// Kubernetes and cloud load balancers), or with `drain_as_404` 404 (HAProxy's http-check
/// disable-on-404), 503 "down: REASON". The body ends in '\n'. A drain also sets
/// `degraded` (the x-envoy-degraded header).
struct readiness {
  int status = 503;
  std::string body;
  bool degraded = false;
};
SSFAST_API readiness readiness_of(const service_state& s, bool drain_as_404);

/// 503 "down: no measurement".
SSFAST_API readiness readiness_unknown();

}  // namespace ssfast::serve
