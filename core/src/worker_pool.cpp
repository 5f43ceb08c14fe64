// SPDX-License-Identifier: Apache-2.0
// The worker threads of every parallel loop.
#include "ssfast/core/detail/worker_pool.h"

namespace ssfast::detail {

worker_pool::worker_pool(std::size_t workers) noexcept {
  try {
    threads_.reserve(workers);
    for (std::size_t i = 0; i < workers; ++i) threads_.emplace_back([this, i] { loop(i); });
  } catch (const std::exception&) {
    // Out of threads or memory: run with the workers that did start.
  }
}

worker_pool::~worker_pool() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& t : threads_) t.join();
}

void worker_pool::run(std::size_t n, job fn, void* ctx, caller c) noexcept {
  n = n < width(c) ? n : width(c);
  if (n == 0) return;
  const std::size_t first = c == caller::works ? 1 : 0;
  {
    std::lock_guard lock(m_);
    fn_ = fn;
    ctx_ = ctx;
    first_ = first;
    active_ = n;
    pending_ = n - first;
    ++generation_;
  }
  if (n > first) start_.notify_all();
  if (first == 1) fn(ctx, 0);
  std::unique_lock lock(m_);
  done_.wait(lock, [this] { return pending_ == 0; });
}

// Worker `w` runs index first_ + w of each run that has one.
void worker_pool::loop(std::size_t w) noexcept {
  std::uint64_t seen = 0;
  for (;;) {
    job fn = nullptr;
    void* ctx = nullptr;
    std::size_t index = 0;
    {
      std::unique_lock lock(m_);
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      index = first_ + w;
      if (index >= active_) continue;  // not needed this run
      fn = fn_;
      ctx = ctx_;
    }
    fn(ctx, index);
    std::lock_guard lock(m_);
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace ssfast::detail
