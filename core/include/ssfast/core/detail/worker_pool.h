// SPDX-License-Identifier: Apache-2.0
// The one parallel loop of ssfast: a fixed set of threads that run indexed jobs on request, and
// parallel_for over it. Used by the netlink source's port-slice dumps, the namespaces of
// --all-netns and the /proc/PID/fd scan of -p. Threads start once; a run allocates nothing.
// Not installed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace ssfast::detail {

class worker_pool {
 public:
  using job = void (*)(void* ctx, std::size_t index) noexcept;

  /// Whether the calling thread runs jobs too (index 0), or only waits: a caller that must not
  /// run them, because a job moves its thread (setns into a namespace).
  enum class caller : std::uint8_t { works, waits };

  /// Starts up to `workers` threads; fewer if the system refuses more (see size()).
  explicit worker_pool(std::size_t workers) noexcept;
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;
  ~worker_pool();

  /// Threads started.
  std::size_t size() const noexcept { return threads_.size(); }

  /// Threads a run may use: size() + 1 when the caller works, size() when it waits.
  std::size_t width(caller c) const noexcept { return size() + (c == caller::works ? 1 : 0); }

  /// Runs fn(ctx, i) for every i in [0, n), n <= width(c) (more are cut to it): with
  /// caller::works index 0 on the calling thread and the others on the workers, with
  /// caller::waits all on the workers. Returns when all are done.
  void run(std::size_t n, job fn, void* ctx, caller c = caller::works) noexcept;

 private:
  void loop(std::size_t index) noexcept;

  std::mutex m_;
  std::condition_variable start_, done_;
  std::uint64_t generation_ = 0;
  std::size_t first_ = 0;    // the first index the workers take: 1 when the caller works
  std::size_t active_ = 0;   // jobs in the current run
  std::size_t pending_ = 0;  // worker jobs not yet finished
  job fn_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

/// Runs body(worker, item) for every item in [0, items) on `pool` (and the calling thread,
/// with caller::works): each worker takes the next item from a shared cursor, so one slow item
/// holds up only its worker. `worker` is in [0, pool.width(c)): the index of a per-worker
/// result slot. `body` must not throw. Allocates nothing.
template <class Body>
void parallel_for(worker_pool& pool, std::size_t items, worker_pool::caller c,
                  Body& body) noexcept {
  struct context {
    Body& body;
    std::size_t items;
    std::atomic<std::size_t> next{0};
  } ctx{body, items};
  const std::size_t width = pool.width(c);
  pool.run(
      width < items ? width : items,
      [](void* p, std::size_t worker) noexcept {
        auto& x = *static_cast<context*>(p);
        for (std::size_t i; (i = x.next.fetch_add(1, std::memory_order_relaxed)) < x.items;)
          x.body(worker, i);
      },
      &ctx, c);
}

}  // namespace ssfast::detail
