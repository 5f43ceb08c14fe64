// SPDX-License-Identifier: Apache-2.0
// The one worker pool and parallel_for: every item once, per-worker slots, and a caller that
// waits never runs a job.
#include "ssfast/core/detail/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ssfast::detail {
namespace {

TEST(WorkerPool, ParallelForRunsEveryItemOnceWithAWorkerSlotEach) {
  worker_pool pool(3);
  ASSERT_EQ(pool.size(), 3u);
  for (const auto c : {worker_pool::caller::works, worker_pool::caller::waits}) {
    for (const std::size_t items : {0u, 1u, 2u, 7u, 1000u}) {
      std::vector<std::atomic<int>> seen(items);
      std::vector<std::size_t> per_worker(pool.width(c), 0);
      std::atomic<bool> out_of_range{false};
      auto body = [&](std::size_t worker, std::size_t i) noexcept {
        if (worker >= per_worker.size()) {
          out_of_range = true;
          return;
        }
        ++per_worker[worker];  // a worker's slot is its own: no lock
        seen[i].fetch_add(1);
      };
      parallel_for(pool, items, c, body);
      EXPECT_FALSE(out_of_range);
      for (std::size_t i = 0; i < items; ++i) EXPECT_EQ(seen[i].load(), 1) << i;
      std::size_t total = 0;
      for (std::size_t n : per_worker) total += n;
      EXPECT_EQ(total, items);
    }
  }
}

TEST(WorkerPool, ACallerThatWaitsRunsNoJobAndOneThatWorksRunsIndexZero) {
  worker_pool pool(2);
  const std::thread::id me = std::this_thread::get_id();
  std::atomic<int> on_caller{0};
  std::atomic<int> ran{0};
  struct ctx_t {
    std::thread::id me;
    std::atomic<int>& on_caller;
    std::atomic<int>& ran;
  } ctx{me, on_caller, ran};
  auto job = [](void* p, std::size_t) noexcept {
    auto& c = *static_cast<ctx_t*>(p);
    if (std::this_thread::get_id() == c.me) ++c.on_caller;
    ++c.ran;
  };
  pool.run(5, job, &ctx, worker_pool::caller::waits);  // cut to the 2 workers
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(on_caller.load(), 0) << "a job would move the caller (setns)";
  ran = 0;
  pool.run(5, job, &ctx, worker_pool::caller::works);  // cut to 3: the caller and 2 workers
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(on_caller.load(), 1);
}

TEST(WorkerPool, NoWorkersStillRunsOnTheCaller) {
  worker_pool pool(0);
  std::size_t done = 0;
  auto body = [&](std::size_t worker, std::size_t) noexcept { done += worker == 0 ? 1 : 100; };
  parallel_for(pool, 4, worker_pool::caller::works, body);
  EXPECT_EQ(done, 4u);
  parallel_for(pool, 4, worker_pool::caller::waits, body);
  EXPECT_EQ(done, 4u) << "no thread to wait for: nothing runs (the caller says so)";
}

}  // namespace
}  // namespace ssfast::detail
