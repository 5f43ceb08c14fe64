// SPDX-License-Identifier: Apache-2.0
#include "ssfast/core/derivation.h"

namespace ssfast {
namespace {

bool complete(const tcp_gauges& g) noexcept { return g.curr_estab && g.inuse[0] && g.inuse[1]; }

}  // namespace

derivation_result derive_established(const derivation_input& in) noexcept {
  using st = socket_summary::derivation_status;
  derivation_result r;
  if (!complete(in.before) || !complete(in.after)) return r;  // gauge_missing
  if (in.before != in.after) {
    r.status = st::gauges_moved;
    return r;
  }
  std::array<std::int64_t, 2> by_inuse{};
  bool below = false;
  for (std::size_t f = 0; f < 2; ++f) {
    by_inuse[f] = *in.after.inuse[f] - static_cast<std::int64_t>(in.full_other[f]);
    below |= by_inuse[f] < static_cast<std::int64_t>(in.at_least[f]);
  }
  const std::int64_t by_curr_estab =
      *in.after.curr_estab - static_cast<std::int64_t>(in.close_wait);
  if (below || by_inuse[0] < 0 || by_inuse[1] < 0 || by_curr_estab != by_inuse[0] + by_inuse[1]) {
    r.status = st::disagreed;
    return r;
  }
  r.status = st::taken;
  for (std::size_t f = 0; f < 2; ++f) r.established[f] = static_cast<std::uint64_t>(by_inuse[f]);
  return r;
}

bool derivation_backoff::should_try() noexcept {
  if (left_ == 0) return true;
  --left_;
  return false;
}

void derivation_backoff::record(socket_summary::derivation_status outcome) noexcept {
  using st = socket_summary::derivation_status;
  if (outcome == st::taken) {
    failures_ = 0;
    pause_ = 0;
    return;
  }
  if (outcome != st::gauges_moved && outcome != st::disagreed) return;
  if (++failures_ < patience) return;
  pause_ = pause_ == 0 ? 1 : (pause_ * 2 > longest_pause ? longest_pause : pause_ * 2);
  left_ = pause_;
}

}  // namespace ssfast
