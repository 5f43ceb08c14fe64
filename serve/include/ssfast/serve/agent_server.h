// SPDX-License-Identifier: Apache-2.0
// `ssfast agent`'s connection handlers for serve(): HAProxy's agent-check and HTTP readiness
// (Kubernetes, Consul, Envoy, HAProxy httpchk, cloud load balancers), both answering from a
// service_monitor's latest measurement, so no answer waits for a dump.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/serve/agent.h"
#include "ssfast/serve/server.h"
#include "ssfast/serve/service_monitor.h"

namespace ssfast::serve {

/// HAProxy's agent-check: with one service, the answer goes out as the connection opens
/// (HAProxy sends nothing unless agent-send says so); with several, the agent-send line names
/// the port: up to 64 bytes, until a line end or 200 ms, then the answer. A measurement older
/// than max_stale answers "down #no measurement". Not thread-safe: one server thread.
class SSFAST_API agent_check_handler final : public connection_handler {
 public:
  /// `m` must outlive the handler.
  explicit agent_check_handler(const service_monitor& m);

  void on_open(answer& out) override;
  std::size_t on_input(std::string_view in, answer& out) override;
  double quiet_after() const noexcept override;
  bool on_quiet(std::string_view in, answer& out) override;
  std::string too_large() override;
  std::string busy() override;

  /// The most an agent-send line may hold.
  static constexpr std::size_t max_agent_send = 64;

 private:
  void reply(std::string_view sent, answer& out);
  const service_monitor& m_;
};

/// HTTP readiness: GET or HEAD /ready/PORT (or /ready with exactly one service) answers 200
/// "ready W%", 429 "drain: REASON" (404 with ?drain=404), 503 "down: REASON" or "down: no
/// measurement", with Cache-Control: no-store, X-Ssfast-Age-Ms and, for a drain,
/// x-envoy-degraded; 404 for another path or a port not served, 405 for another method, 400 for
/// a malformed request. HTTP/1.0 without Host is accepted; HTTP/1.1 keeps the connection.
/// Not thread-safe: one server thread.
class SSFAST_API readiness_handler final : public connection_handler {
 public:
  /// `m` must outlive the handler.
  explicit readiness_handler(const service_monitor& m);

  void on_open(answer& out) override;
  std::size_t on_input(std::string_view in, answer& out) override;
  std::string too_large() override;
  std::string busy() override;

 private:
  const service_monitor& m_;
};

}  // namespace ssfast::serve
