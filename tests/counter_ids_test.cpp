// SPDX-License-Identifier: Apache-2.0
// The one table of counter identifiers: names as /proc gives them, and picking values by id.
#include "ssfast/core/counter_ids.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ssfast {
namespace {

TEST(CounterIds, EveryNameIsGroupDotFieldAndUnique) {
  std::set<std::string_view> seen;
  for (const auto& [id, name] : counter_names) {
    EXPECT_EQ(counter_name(id), name);
    const std::size_t dot = name.find('.');
    ASSERT_NE(dot, std::string_view::npos) << name;
    EXPECT_GT(dot, 0u) << name;
    EXPECT_LT(dot + 1, name.size()) << name;
    EXPECT_TRUE(seen.insert(name).second) << "named twice: " << name;
  }
}

// Levels and settings have a change, not a rate: sockstat's every field, and snmp's
// CurrEstab and settings; counters since the namespace was made are not gauges.
TEST(CounterIds, GaugesAreTheLevelsNotTheCounts) {
  for (std::string_view g : {"TCP.tw", "TCP.inuse", "TCP6.inuse", "sockets.used", "UDP.mem",
                             "FRAG.memory", "Tcp.CurrEstab", "Tcp.RtoMin", "Ip.Forwarding"})
    EXPECT_TRUE(counter_is_gauge(g)) << g;
  for (std::string_view c : {"Tcp.ActiveOpens", "TcpExt.ListenDrops", "TcpExt.TW", "Udp.InErrors",
                             "Ip6.InReceives", "TCPX.tw", "Tcp.CurrEstabX"})
    EXPECT_FALSE(counter_is_gauge(c)) << c;
}

TEST(CounterIds, PickReadsTheAskedValuesInOnePassAndLeavesMissingOnesUnset) {
  const std::vector<std::pair<std::string, std::int64_t>> all = {
      {"Tcp.ActiveOpens", 5},
      {"TcpExt.ListenDrops", 9},
      {"TcpExt.ListenOverflows", 7},
      {"TcpExt.ListenOverflowsX", 1}};  // a longer name is another counter
  const auto v = pick_counters(std::span<const std::pair<std::string, std::int64_t>>(all),
                               std::array{counter_id::listen_overflows, counter_id::tcp_in_segs,
                                          counter_id::tcp_active_opens});
  EXPECT_EQ(v[0], 7);
  EXPECT_FALSE(v[1].has_value()) << "absent: unset, not 0";
  EXPECT_EQ(v[2], 5);
}

}  // namespace
}  // namespace ssfast
