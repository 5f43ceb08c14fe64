// SPDX-License-Identifier: Apache-2.0
// The agent's measuring thread.
#include "ssfast/serve/service_monitor.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace ssfast::serve {

const service_state* service_measurement::find(std::uint16_t port) const noexcept {
  for (const service_state& s : services)
    if (s.port == port) return &s;
  return nullptr;
}

struct service_monitor::state {
  collector& c;
  monitor_options o;
  mutable std::mutex lock;  // guards latest, stop
  std::condition_variable wake;
  std::shared_ptr<const service_measurement> latest;
  bool stop = false;
  std::uint64_t sequence = 0;
  bool failing = false;  // the last measurement failed (said once)
  std::thread thread;

  state(collector& col, monitor_options opts) : c(col), o(std::move(opts)) {}

  std::error_code measure() {
    auto m = std::make_shared<service_measurement>();
    m->services.resize(o.services.size());
    const std::error_code ec = c.services(o.services, m->services);
    if (ec) {
      if (!failing && o.log) o.log("agent: measuring failed: " + c.error_text(ec));
      failing = true;
      return ec;
    }
    if (failing && o.log) o.log("agent: measuring again");
    failing = false;
    m->measured_at_ns = m->services.empty() ? now_ns() : m->services.front().measured_at_ns;
    m->sequence = ++sequence;
    std::lock_guard<std::mutex> hold(lock);
    latest = std::move(m);
    return {};
  }

  void run() {
    auto next = std::chrono::steady_clock::now();
    for (;;) {
      next += o.max_age;
      {
        std::unique_lock<std::mutex> hold(lock);
        if (wake.wait_until(hold, next, [&] { return stop; })) return;
      }
      measure();
      // A dump slower than max_age: the next one starts at once, not in a burst to catch up.
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now;
    }
  }
};

service_monitor::service_monitor(collector& c, monitor_options o)
    : s_(std::make_unique<state>(c, std::move(o))) {}

service_monitor::~service_monitor() {
  {
    std::lock_guard<std::mutex> hold(s_->lock);
    s_->stop = true;
  }
  s_->wake.notify_all();
  if (s_->thread.joinable()) s_->thread.join();
}

std::error_code service_monitor::start() {
  const std::error_code ec = s_->measure();
  s_->thread = std::thread([this] { s_->run(); });
  return ec;
}

std::shared_ptr<const service_measurement> service_monitor::latest() const {
  std::lock_guard<std::mutex> hold(s_->lock);
  return s_->latest;
}

bool service_monitor::usable(const service_measurement& m, std::int64_t now) const noexcept {
  return now - m.measured_at_ns <= s_->o.max_stale.count();
}

const monitor_options& service_monitor::options() const noexcept { return s_->o; }

std::int64_t service_monitor::now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace ssfast::serve
