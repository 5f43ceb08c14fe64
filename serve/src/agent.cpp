// SPDX-License-Identifier: Apache-2.0
// The agent's answers: the agent-check line and the HTTP readiness status.
#include "ssfast/serve/agent.h"

#include <charconv>

namespace ssfast::serve {

std::string agent_reply(const service_state& s, std::int64_t age_ms) {
  const std::string age = "age " + std::to_string(age_ms < 0 ? 0 : age_ms) + " ms\n";
  switch (s.verdict) {
    case service_verdict::ready: return "up ready " + std::to_string(s.weight) + "% #" + age;
    case service_verdict::drain: return "up drain #" + std::string(s.reason_text()) + "; " + age;
    case service_verdict::down: break;
  }
  return "down #" + std::string(s.reason_text()) + "; " + age;
}

std::string_view agent_reply_unknown() noexcept { return "down #no measurement\n"; }

std::string agent_reply_unnamed(std::string_view sent) {
  if (!agent_send_port(sent)) return "down #agent-send must name a port\n";
  return "down #port " + std::to_string(*agent_send_port(sent)) + " is not served by this agent\n";
}

std::optional<std::uint16_t> agent_send_port(std::string_view sent) noexcept {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!sent.empty() && blank(sent.front())) sent.remove_prefix(1);
  while (!sent.empty() && blank(sent.back())) sent.remove_suffix(1);
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(sent.data(), sent.data() + sent.size(), v);
  if (sent.empty() || ec != std::errc{} || end != sent.data() + sent.size() || v == 0 ||
      v > 65535 || sent.front() == '+' || sent.front() == '-')
    return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

readiness readiness_of(const service_state& s, bool drain_as_404) {
  switch (s.verdict) {
    case service_verdict::ready: return {200, "ready " + std::to_string(s.weight) + "%\n", false};
    case service_verdict::drain:
      return {drain_as_404 ? 404 : 429, "drain: " + std::string(s.reason_text()) + "\n", true};
    case service_verdict::down: break;
  }
  return {503, "down: " + std::string(s.reason_text()) + "\n", false};
}

readiness readiness_unknown() { return {503, "down: no measurement\n", false}; }

}  // namespace ssfast::serve
