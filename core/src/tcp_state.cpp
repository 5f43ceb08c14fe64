// netstat names for the kernel's TCP state bytes.
#include "ssfast/core/tcp_state.h"

#include <array>

namespace ssfast {

std::string_view netstat_name(std::uint8_t state) noexcept {
  // The names netstat prints (net-tools netstat.c tcp_state[]), indexed by TCP_* value.
  static constexpr std::array<std::string_view, 12> names = {
      "",          "ESTABLISHED", "SYN_SENT",   "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
      "TIME_WAIT", "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING"};
  state = netstat_fold(state);
  return state < names.size() ? names[state] : std::string_view{};
}

}  // namespace ssfast
