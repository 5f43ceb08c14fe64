// SPDX-License-Identifier: Apache-2.0
// netstat names for the kernel's TCP state bytes.
#include "ssfast/core/tcp_state.h"

#include <array>
#include <utility>

namespace ssfast {

std::string_view netstat_name(std::uint8_t state) noexcept {
  // The names netstat prints (net-tools netstat.c tcp_state[]), indexed by TCP_* value.
  static constexpr std::array<std::string_view, 12> names = {
      "",          "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
      "TIME_WAIT", "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING"};
  state = netstat_fold(state);
  return state < names.size() ? names[state] : std::string_view{};
}

std::uint8_t parse_state_name(std::string_view name) noexcept {
  // Compared upper case with '-' and '_' dropped, so every spelling of a name meets.
  char key[24];
  std::size_t n = 0;
  for (char c : name) {
    if (c == '-' || c == '_') continue;
    if (n == sizeof key) return 0;
    key[n++] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  std::string_view k(key, n);
  if (k.starts_with("TCP") && k != "TCP") k.remove_prefix(3);
  static constexpr std::pair<std::string_view, std::uint8_t> names[] = {
      {"ESTABLISHED", 1}, {"ESTAB", 1},    {"SYNSENT", 2}, {"SYNRECV", 3},    {"FINWAIT1", 4},
      {"FINWAIT2", 5},    {"TIMEWAIT", 6}, {"CLOSE", 7},   {"CLOSED", 7},     {"UNCONN", 7},
      {"CLOSEWAIT", 8},   {"LASTACK", 9},  {"LISTEN", 10}, {"LISTENING", 10}, {"CLOSING", 11}};
  for (const auto& [s, v] : names)
    if (k == s) return v;
  return 0;
}

}  // namespace ssfast
