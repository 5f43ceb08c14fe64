// SPDX-License-Identifier: Apache-2.0
// Live test fixture: a private network namespace holding the all-states scenario, and helpers
// to compare with an oracle at a quiet moment.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "ssfast/ssfast.h"
#include "support/printers.h"
#include "support/scenario.h"

namespace ssfast {

using testing::scenario_counts;

inline constexpr int nobody = 65534;

inline bool matches(const socket_summary& s, const scenario_counts& want) {
  return s.tcp == want.tcp && s.udp == want.udp && s.unix_domain.by_type == want.unix_by_type &&
         s.unix_domain.states[tcp_state::listen] == want.unix_listening;
}

// Fails the test for each process it started and left running (killed now, so nothing of one
// test runs on into the next); every live fixture's TearDown calls it last.
inline void expect_no_leftover_processes() {
  for (const std::string& p : testing::end_leftover_processes())
    ADD_FAILURE() << "the test left a process running (killed now): " << p;
}

class LiveNamespace : public ::testing::Test {
 protected:
  void TearDown() override { expect_no_leftover_processes(); }

  void SetUp() override {
    const std::string why = testing::enter_private_netns();
    if (!why.empty()) GTEST_SKIP() << "live test skipped: " << why;
    want_ = testing::build_scenario(fds_);
    auto c = collector::open();
    ASSERT_TRUE(c) << c.error().message();
    collector_.emplace(std::move(*c));
    // Orphaned sockets (the TIME_WAIT pair's peer in LAST_ACK) finish on the next packet;
    // wait, bounded, for the namespace to reach the built state (the bound is generous for a
    // loaded host: the loop ends as soon as the state is reached).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
      ASSERT_FALSE(collector_->count(got_)) << collector_->error_context();
      if (matches(got_, want_)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } while (std::chrono::steady_clock::now() < deadline);
  }

  testing::fd_set_guard fds_;
  scenario_counts want_;
  std::optional<collector> collector_;
  socket_summary got_;
};

// What one side has that the other lacks, for a failure message (multisets of strings or of
// word vectors; otherwise nothing).
template <class T>
std::string describe_difference(const T& ours, const T& theirs) {
  if constexpr (requires(const T& t) {
                  t.count(*t.begin());
                  std::string() + *t.begin();
                }) {
    std::string out;
    for (const auto& w : ours)
      if (theirs.count(w) < ours.count(w)) out += "\n  only ssfast: " + w;
    for (const auto& w : theirs)
      if (ours.count(w) < theirs.count(w)) out += "\n  only oracle: " + w;
    return out;
  } else if constexpr (requires(const T& t) {
                         t.count(*t.begin());
                         t.begin()->begin();
                         std::string() + t.begin()->front();
                       }) {
    std::string out;
    auto line = [](const auto& words) {
      std::string l;
      for (const auto& w : words) l += (l.empty() ? "" : " ") + w;
      return l;
    };
    for (const auto& w : ours)
      if (theirs.count(w) < ours.count(w)) out += "\n  only ssfast: " + line(w);
    for (const auto& w : theirs)
      if (ours.count(w) < theirs.count(w)) out += "\n  only oracle: " + line(w);
    return out;
  } else {
    return {};
  }
}

// Compares `ours` with `oracle` at a quiet moment. Sockets with data stuck behind a zero window
// still move now and then (the receiver compacts its full buffer and opens a few hundred bytes
// of window), so two separate reads may legitimately differ in a queue. Read ours, the oracle,
// ours again; compare only when our two reads agree, retrying (bounded) until they do. Even
// then the oracle's read may fall on a moment ours did not see: a CLOSING socket's
// retransmitted FIN acked just then makes lastack 0, which ss (and ssfast) leave out. So a
// difference must be seen at `differing_reads` quiet moments in a row to fail: one that is
// real (a field never printed, a wrong state) is there every time.
template <class Ours, class Oracle>
void expect_equal_when_quiet(Ours ours, Oracle oracle, const char* what) {
  constexpr int differing_reads = 3;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int differed = 0;
  for (int attempt = 0; std::chrono::steady_clock::now() < deadline; ++attempt) {
    const auto before = ours();
    const auto theirs = oracle();
    const auto after = ours();
    if (before == after) {
      if (theirs == before) return;
      if (++differed == differing_reads) {
        ADD_FAILURE() << what << " (" << differed << " quiet reads in a row, attempt " << attempt
                      << ")" << describe_difference(before, theirs);
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << what << ": the sockets never held still for two reads in 20 s";
}

inline std::uint64_t json_state(const nlohmann::json& states, tcp_state s) {
  return states.at(std::string(netstat_name(static_cast<std::uint8_t>(s)))).get<std::uint64_t>();
}

}  // namespace ssfast
