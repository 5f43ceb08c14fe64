// SPDX-License-Identifier: Apache-2.0
// The probe API's state inside a collector: the lock its callers share, the filters of the
// last set of ports, and the last measurement of each port, for answers within a max_age.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "ssfast/core/filter.h"
#include "ssfast/core/service.h"

namespace ssfast {
class collector;
struct service_probe;
}  // namespace ssfast

namespace ssfast::detail {

struct service_memo {
  std::mutex lock;  // services() and service() callers, one at a time
  // The bytecode filter of a set of ports ("sport = :P or sport = :Q ..."), built when the set
  // changes.
  struct port_filter {
    std::vector<std::uint16_t> ports;
    std::optional<socket_filter> filter;
  };
  port_filter listening, established;
  std::vector<std::uint16_t> all, walked;  // this call's port sets; their capacity is kept
  // The last measurement of each port asked by service(), with ESTABLISHED or without.
  struct entry {
    std::uint16_t port = 0;  // 0: unused
    bool established = false;
    service_state state;
  };
  std::array<entry, 16> recent{};
  std::size_t next = 0;  // the entry a new port takes (round robin)
};

/// collector::services() under `m.lock`, which the caller holds.
std::error_code measure_services(collector& c, service_memo& m,
                                 std::span<const service_probe> probes,
                                 std::span<service_state> out) noexcept;

/// collector::service() under `m.lock`, which the caller holds.
std::error_code measure_service_within(collector& c, service_memo& m, std::uint16_t port,
                                       const service_rules& rules, service_state& out,
                                       std::chrono::nanoseconds max_age) noexcept;

}  // namespace ssfast::detail
