// SPDX-License-Identifier: Apache-2.0
// Port-partition bytecode: every program passes the kernel's audit rules, and every (sport,
// dport) pair is accepted by exactly one partition: the one holding its key.
#include "ssfast/netlink/bytecode.h"

#include <gtest/gtest.h>
#include <linux/inet_diag.h>

#include <cstring>
#include <set>
#include <vector>

namespace ssfast::netlink {
namespace {

struct program {
  std::array<std::byte, max_bytecode_size> bytes{};
  std::size_t size = 0;
  std::span<const std::byte> view() const { return {bytes.data(), size}; }
};

program compile(std::uint16_t lo, std::uint16_t hi, std::uint16_t low) {
  program p;
  p.size = compile_key_range(lo, hi, low, p.bytes);
  return p;
}

std::vector<std::uint16_t> interesting_ports(std::uint16_t low,
                                             const std::array<std::uint16_t, max_partitions>& first,
                                             std::size_t parts) {
  std::set<std::uint16_t> s = {0, 1, 2, 80, 443, 1023, 1024, 65534, 65535};
  auto around = [&](int p) {
    for (int d = -1; d <= 1; ++d)
      if (p + d >= 0 && p + d <= 65535) s.insert(static_cast<std::uint16_t>(p + d));
  };
  around(low);
  for (std::size_t i = 0; i < parts; ++i) around(first[i]);
  for (int p = 0; p <= 65535; p += 997) s.insert(static_cast<std::uint16_t>(p));
  return {s.begin(), s.end()};
}

TEST(Bytecode, CompiledProgramsPassTheKernelAudit) {
  for (std::uint16_t low : std::initializer_list<std::uint16_t>{1, 1024, 32768, 60999, 65535}) {
    for (auto [lo, hi] : std::vector<std::pair<std::uint16_t, std::uint16_t>>{
             {0, 65535}, {0, 0}, {0, 40000}, {40001, 65535}, {1000, 1000}}) {
      const program p = compile(lo, hi, low);
      ASSERT_GT(p.size, 0u);
      ASSERT_LE(p.size, 52u);
      EXPECT_TRUE(audit_bytecode(p.view())) << lo << ".." << hi << " L=" << low;
    }
  }
  std::array<std::byte, 16> small;
  EXPECT_EQ(compile_key_range(100, 40000, 1024, small), 0u) << "52 bytes do not fit in 16";
  std::array<std::byte, 64> buf;
  EXPECT_EQ(compile_key_range(5, 4, 1024, buf), 0u) << "empty range";
  EXPECT_EQ(compile_key_range(0, 4, 0, buf), 0u) << "ephemeral_low 0";
}

TEST(Bytecode, EverySocketFallsInExactlyTheOnePartitionOfItsKey) {
  for (std::uint16_t low : std::initializer_list<std::uint16_t>{1024, 32768, 49152}) {
    for (std::size_t parts : {1u, 2u, 3u, 7u, 16u}) {
      key_histogram none{};
      std::array<std::uint16_t, max_partitions> first;
      split_key_space(none, parts, low, 60999, first);
      std::vector<program> progs;
      for (std::size_t i = 0; i < parts; ++i) {
        const auto hi = i + 1 < parts ? static_cast<std::uint16_t>(first[i + 1] - 1) : 65535;
        progs.push_back(compile(first[i], static_cast<std::uint16_t>(hi), low));
        ASSERT_TRUE(audit_bytecode(progs.back().view()));
      }
      const auto ports = interesting_ports(low, first, parts);
      for (std::uint16_t sport : ports) {
        for (std::uint16_t dport : ports) {
          const std::uint16_t key = partition_key(sport, dport, low);
          std::size_t accepted = 0, which = 0;
          for (std::size_t i = 0; i < parts; ++i) {
            if (run_bytecode(progs[i].view(), sport, dport)) {
              ++accepted;
              which = i;
            }
          }
          ASSERT_EQ(accepted, 1u) << sport << "->" << dport << " parts " << parts;
          const std::size_t want =
              static_cast<std::size_t>(std::upper_bound(first.begin(), first.begin() + parts, key) -
                                       first.begin()) -
              1;
          ASSERT_EQ(which, want) << sport << "->" << dport;
        }
      }
    }
  }
}

TEST(Bytecode, OpenBoundsMakeShorterPrograms) {
  // A two-way split of the ephemeral range: 4 and 3 comparisons plus the JMP, not 6.
  EXPECT_EQ(compile(0, 46883, 32768).size, 4 * 8 + 4u);
  EXPECT_EQ(compile(46884, 65535, 32768).size, 3 * 8 + 4u);
  // A range below L: only the server-side term.
  EXPECT_EQ(compile(0, 1000, 32768).size, 2 * 8u);
  EXPECT_EQ(compile(100, 1000, 32768).size, 3 * 8u);
  EXPECT_EQ(compile(100, 40000, 32768).size, 52u) << "both terms, all bounds";
}

TEST(Bytecode, AuditRejectsWhatTheKernelRejects) {
  program p = compile(100, 40000, 1024);
  // A "no" jump that lands off the chain of "yes" jumps (valid_cc): at offset 12, the port
  // operand of the comparison at 8, instead of the op at 28.
  inet_diag_bc_op op;
  std::memcpy(&op, p.bytes.data(), sizeof op);
  op.no = 12;
  program bad = p;
  std::memcpy(bad.bytes.data(), &op, sizeof op);
  EXPECT_FALSE(audit_bytecode(bad.view()));
  // A "yes" shorter than a port comparison.
  bad = p;
  op = {INET_DIAG_BC_S_GE, 4, 28};
  std::memcpy(bad.bytes.data(), &op, sizeof op);
  EXPECT_FALSE(audit_bytecode(bad.view()));
  // An unknown code, a truncated program, a length not a multiple of 4.
  bad = p;
  op = {200, 8, 28};
  std::memcpy(bad.bytes.data(), &op, sizeof op);
  EXPECT_FALSE(audit_bytecode(bad.view()));
  ASSERT_EQ(p.size, 52u);
  EXPECT_FALSE(audit_bytecode(p.view().first(48)));
  EXPECT_FALSE(audit_bytecode(p.view().first(50)));
  EXPECT_TRUE(audit_bytecode(p.view()));
}

TEST(SplitKeySpace, EvenlyOverTheEphemeralRangeWithoutHistory) {
  key_histogram none{};
  std::array<std::uint16_t, max_partitions> first;
  split_key_space(none, 2, 32768, 60999, first);
  EXPECT_EQ(first[0], 0);
  EXPECT_EQ(first[1], 32768 + (60999 - 32768 + 1) / 2);
  split_key_space(none, 1, 32768, 60999, first);
  EXPECT_EQ(first[0], 0);
}

TEST(SplitKeySpace, QuantilesOfThePreviousSnapshot) {
  key_histogram h{};
  h[0] = 10;      // listeners
  h[0x90] = 500;  // keys 36864..37119
  h[0xC0] = 500;  // keys 49152..49407
  std::array<std::uint16_t, max_partitions> first;
  split_key_space(h, 2, 32768, 60999, first);
  EXPECT_EQ(first[0], 0);
  EXPECT_GT(first[1], 0x90FF);
  EXPECT_LE(first[1], 0xC000) << "between the two clusters";
  // Everything in one bin: starts stay strictly increasing, every range non-empty.
  key_histogram one{};
  one[0x80] = 1000;
  split_key_space(one, 4, 32768, 60999, first);
  for (std::size_t i = 1; i < 4; ++i) EXPECT_GT(first[i], first[i - 1]);
}

}  // namespace
}  // namespace ssfast::netlink
