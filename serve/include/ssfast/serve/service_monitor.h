// SPDX-License-Identifier: Apache-2.0
// The agent's shared measurements: a thread that measures every service each --max-age
// through the probe API, and answers that read the latest one without waiting for a dump.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/core/service.h"
#include "ssfast/ssfast.h"

namespace ssfast::serve {

/// One measurement of every service, immutable once published.
struct service_measurement {
  std::vector<service_state> services;  ///< in the order the monitor was given them
  std::int64_t measured_at_ns = 0;      ///< steady clock
  std::uint64_t sequence = 0;           ///< 1 for the first measurement, +1 for each after

  /// The state of `port`; null if it is not one of the services.
  const service_state* find(std::uint16_t port) const noexcept;
};

struct monitor_options {
  std::vector<service_probe> services;
  /// How often the services are measured: every answer within this window shares one
  /// measurement, and a change in the sockets shows in answers after at most this (plus the
  /// dump's own time).
  std::chrono::nanoseconds max_age = std::chrono::seconds(1);
  /// No answer is made from a measurement older than this (dumps failing, or slower than
  /// it): the service is then down, "no measurement".
  std::chrono::nanoseconds max_stale = std::chrono::seconds(3);
  /// Where a failed measurement is said (once per run of failures, and its recovery); the
  /// library never prints.
  std::function<void(std::string_view)> log;
};

/// Measures `o.services` through `c` (collector::services: listeners only unless a rule needs
/// ESTABLISHED) on a thread of its own, every max_age, publishing each measurement for
/// latest(). Answers never wait for a dump: a slow one delays only the next measurement.
class SSFAST_API service_monitor {
 public:
  /// `c` must outlive the monitor and is used by its thread alone once start() returns.
  service_monitor(collector& c, monitor_options o);
  service_monitor(const service_monitor&) = delete;
  service_monitor& operator=(const service_monitor&) = delete;
  /// Stops the thread (waits for a dump in progress).
  ~service_monitor();

  /// Measures once on the calling thread (so the first answer has a measurement), then starts
  /// the thread. The first measurement's error, if it failed (the thread is started anyway,
  /// and answers say "no measurement" until one succeeds).
  std::error_code start();

  /// The latest measurement; null before the first. Thread-safe; one lock and a reference
  /// count, no allocation.
  std::shared_ptr<const service_measurement> latest() const;

  /// Whether `m` is recent enough to answer from (at most max_stale old at `now_ns`).
  bool usable(const service_measurement& m, std::int64_t now_ns) const noexcept;

  const monitor_options& options() const noexcept;

  /// The steady clock in nanoseconds, as measured_at_ns holds it.
  static std::int64_t now_ns() noexcept;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace ssfast::serve
