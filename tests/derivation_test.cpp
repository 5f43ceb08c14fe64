// SPDX-License-Identifier: Apache-2.0
// The derivation of ESTABLISHED from the gauges (ssfast/core/derivation.h) on figures made by
// hand: taken only when every gauge was read twice, held still, and both derivations agree.
#include "ssfast/core/derivation.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace ssfast {
namespace {

using st = socket_summary::derivation_status;

// A namespace of 100 IPv4 and 40 IPv6 ESTABLISHED, 3 CLOSE_WAIT (2 IPv4, 1 IPv6), and 5 + 2
// other full sockets (listeners, FIN_WAIT1, ...), as the gauges and the dump would say.
derivation_input quiet() {
  derivation_input in;
  in.before.curr_estab = 100 + 40 + 3;
  in.before.inuse = {100 + 2 + 5, 40 + 1 + 2};
  in.after = in.before;
  in.full_other = {2 + 5, 1 + 2};
  in.close_wait = 3;
  return in;
}

TEST(Derivation, TakenWhenTheGaugesHeldStillAndAgree) {
  const derivation_result r = derive_established(quiet());
  EXPECT_EQ(r.status, st::taken);
  EXPECT_EQ(r.established[0], 100u);
  EXPECT_EQ(r.established[1], 40u);
  derivation_input none = quiet();
  none.before.curr_estab = none.after.curr_estab = 3;
  none.before.inuse = none.after.inuse = {7, 3};
  const derivation_result z = derive_established(none);
  EXPECT_EQ(z.status, st::taken) << "no ESTABLISHED at all is a count too";
  EXPECT_EQ(z.established[0] + z.established[1], 0u);
}

TEST(Derivation, EachGaugeMissingEitherTime) {
  for (int which = 0; which < 6; ++which) {
    derivation_input in = quiet();
    tcp_gauges& g = which < 3 ? in.before : in.after;
    if (which % 3 == 0) g.curr_estab.reset();
    if (which % 3 == 1) g.inuse[0].reset();
    if (which % 3 == 2) g.inuse[1].reset();
    EXPECT_EQ(derive_established(in).status, st::gauge_missing) << which;
  }
}

TEST(Derivation, AnyGaugeThatMovedWalks) {
  for (int which = 0; which < 3; ++which) {
    derivation_input in = quiet();
    // Moved consistently (one more ESTABLISHED in both): still not taken, the dump lies
    // between two different moments.
    if (which == 0) *in.after.curr_estab += 1;
    if (which == 1) *in.after.inuse[0] += 1;
    if (which == 2) *in.after.inuse[1] -= 1;
    EXPECT_EQ(derive_established(in).status, st::gauges_moved) << which;
  }
  derivation_input both = quiet();
  *both.after.curr_estab += 1;
  *both.after.inuse[0] += 1;
  EXPECT_EQ(derive_established(both).status, st::gauges_moved);
}

TEST(Derivation, DisagreementWalks) {
  // The dump missed a full socket of another state (one fewer in full_other): inuse's
  // derivation says one more ESTABLISHED than CurrEstab's.
  derivation_input missed = quiet();
  missed.full_other[0] -= 1;
  EXPECT_EQ(derive_established(missed).status, st::disagreed);
  // It repeated one.
  derivation_input repeated = quiet();
  repeated.full_other[1] += 1;
  EXPECT_EQ(derive_established(repeated).status, st::disagreed);
  // It missed a CLOSE_WAIT: both derivations move together (the walk's own error), taken.
  derivation_input cw = quiet();
  cw.close_wait -= 1;
  cw.full_other[0] -= 1;
  const derivation_result r = derive_established(cw);
  EXPECT_EQ(r.status, st::taken);
  EXPECT_EQ(r.established[0], 101u);
  // More full sockets dumped than inuse holds in a family, even when the sums agree
  // (IPv6: 43 - 100 = -57; 100 - 57 = 43 = CurrEstab - CLOSE_WAIT): never negative.
  derivation_input over = quiet();
  over.full_other[1] = 100;
  over.before.curr_estab = over.after.curr_estab = 3 + 43;
  EXPECT_EQ(derive_established(over).status, st::disagreed);
  // Fewer ESTABLISHED derived than a listing saw.
  derivation_input seen = quiet();
  seen.at_least = {100, 41};
  EXPECT_EQ(derive_established(seen).status, st::disagreed);
  seen.at_least = {100, 40};
  EXPECT_EQ(derive_established(seen).status, st::taken);
}

// The back-off as a string of outcomes: 'm' gauges_moved, 'd' disagreed, 't' taken, 'x' a
// gauge missing; what the back-off answers is written down count by count: 'T' tried, '-' not.
std::string drive(derivation_backoff& b, std::string_view outcomes) {
  std::string asked;
  for (const char o : outcomes) {
    while (!b.should_try()) asked += '-';
    asked += 'T';
    b.record(o == 'm'   ? st::gauges_moved
             : o == 'd' ? st::disagreed
             : o == 't' ? st::taken
                        : st::gauge_missing);
  }
  return asked;
}

TEST(DerivationBackoff, FailuresInARowPauseTheTriesLongerEachTime) {
  derivation_backoff b;
  EXPECT_EQ(drive(b, "mm"), "TT") << "fewer than patience in a row: no pause";
  // The third in a row: a pause of 1, then 2, 4, 8, 16, 16 between single tries.
  EXPECT_EQ(drive(b, "mdmmmmm"), "T-T--T----T--------T----------------T----------------T");
  // One taken (after the pause the last failure left) starts over: failures must pile up
  // again before any pause.
  EXPECT_EQ(drive(b, "tmmm"), std::string(16, '-') + "TTTT");
  EXPECT_EQ(drive(b, "m"), "-T") << "the third of the new run paused";
}

TEST(DerivationBackoff, OutcomesThatSayNothingOfChurnLeaveItAsItIs) {
  derivation_backoff b;
  EXPECT_EQ(drive(b, "mxmxx"), "TTTTT") << "a missing gauge neither counts nor resets";
  EXPECT_EQ(drive(b, "mx"), "T-T");
  for (int i = 0; i < 40; ++i) b.record(st::gauges_moved);  // recorded without asking: bounded
  int skipped = 0;
  while (!b.should_try()) ++skipped;
  EXPECT_EQ(skipped, static_cast<int>(derivation_backoff::longest_pause));
  for (const st s :
       {st::not_requested, st::needs_both_families, st::needs_netlink, st::backed_off}) {
    derivation_backoff q;
    for (int i = 0; i < 5; ++i) q.record(s);
    EXPECT_TRUE(q.should_try()) << static_cast<int>(s);
  }
}

}  // namespace
}  // namespace ssfast
