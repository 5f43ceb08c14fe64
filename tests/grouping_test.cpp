// SPDX-License-Identifier: Apache-2.0
// Grouping sockets: group keys, their hash, and top's counts per key on a hand-built table.
#include "ssfast/core/grouping.h"

#include <gtest/gtest.h>

#include <set>

#include "support/tables.h"

namespace ssfast {
namespace {

using testing::fake_owners;
using testing::sample;

TEST(GroupKey, PutAndReadBackInKeyOrder) {
  address_bytes a{};
  ASSERT_TRUE(parse_ipv6("2001:db8::9", a));
  endpoint_group k{10};
  EXPECT_EQ(put(k, put(k, 1, a), 443), 19u);
  EXPECT_EQ(address_at(&k[1]), a);
  EXPECT_EQ(port_at(&k[17]), 443);
  endpoint_group lower{10};
  put(lower, put(lower, 1, a), 80);
  EXPECT_LT(lower, k) << "ports in network order: keys compare as the numbers do";
}

TEST(GroupKey, CountsEveryDistinctKeyApart) {
  group_counts<19> g;
  std::set<std::size_t> hashes;
  address_bytes a{};
  for (std::uint16_t port = 0; port < 2000; ++port) {
    for (std::uint8_t last = 0; last < 4; ++last) {
      a[15] = last;
      endpoint_group k{2};
      put(k, put(k, 1, a), port);
      ++g[k];
      ++g[k];
      hashes.insert(group_key_hash{}(k));
    }
  }
  EXPECT_EQ(g.size(), 8000u);
  for (const auto& [k, count] : g) EXPECT_EQ(count, 2u);
  EXPECT_GT(hashes.size(), 7990u) << "the hash tells nearly every key apart";
}

TEST(Top, CountsLargestFirstWithMappedAddressesFolded) {
  const socket_table t = sample();
  const auto r = top_counts(t, top_key::raddr, 0, nullptr);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].key, "192.0.2.7");
  EXPECT_EQ(r[0].count, 3u) << "the IPv4-mapped peer counts with its IPv4 address";
  EXPECT_EQ(r[1].key, "0.0.0.0");  // equal counts in key order: IPv4 before IPv6
  EXPECT_EQ(r[2].key, "2001:db8::9");
  const auto ports = top_counts(t, top_key::lport, 1, nullptr);
  ASSERT_EQ(ports.size(), 1u);
  EXPECT_EQ(ports[0].key, "443");
  EXPECT_EQ(ports[0].count, 5u) << "UNIX sockets have no port";
  const auto states = top_counts(t, top_key::state, 0, nullptr);
  EXPECT_EQ(states[0].key, "ESTABLISHED");
  EXPECT_EQ(states[0].count, 3u);
  EXPECT_EQ(states[1].key, "LISTEN");
  EXPECT_EQ(states[1].count, 2u);
  fake_owners owners;
  const auto procs = top_counts(t, top_key::process, 0, &owners);
  ASSERT_EQ(procs.size(), 3u);
  EXPECT_EQ(procs[0].key, "-");
  EXPECT_EQ(procs[0].count, 5u) << "sockets with no known owner";
  EXPECT_EQ(procs[1].key, "10/nginx");
  EXPECT_EQ(procs[2].key, "11/nginx");
  top_key k;
  EXPECT_TRUE(parse_top_key("rport", k));
  EXPECT_EQ(k, top_key::rport);
  EXPECT_FALSE(parse_top_key("ip", k));
}

}  // namespace
}  // namespace ssfast
