// SPDX-License-Identifier: Apache-2.0
// Grouping sockets: group keys, their hash, and top's counts per key on a hand-built table.
#include "ssfast/core/grouping.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "ssfast/core/kernel_abi.h"
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

// The RTT histogram: four buckets per doubling, each value in its own bucket's range, and
// quantiles as the bucket holding the q-th sample.
TEST(RttHistogram, LogBucketsAndQuantiles) {
  for (std::uint32_t us : {1u, 3u, 4u, 5u, 7u, 8u, 100u, 1000u, 65535u, 1000000u, 4000000000u}) {
    const std::size_t b = rtt_histogram::bucket_of(us);
    ASSERT_LT(b, rtt_histogram::buckets);
    const double v = static_cast<double>(rtt_histogram::value_of(b));
    EXPECT_LE(std::abs(v - us) / us, 0.13) << us << " in bucket " << b << " reads " << v;
    if (us > 4) {
      EXPECT_GE(b, rtt_histogram::bucket_of(us - 1));
    }
  }
  rtt_histogram h;
  EXPECT_EQ(h.quantile(0.5), 0u);
  for (int i = 0; i < 98; ++i) h.add(1000);  // 1 ms
  h.add(50000);                              // two slow ones: 50 ms and 400 ms
  h.add(400000);
  EXPECT_EQ(h.quantile(0.5), rtt_histogram::value_of(rtt_histogram::bucket_of(1000)));
  EXPECT_EQ(h.quantile(0.99), rtt_histogram::value_of(rtt_histogram::bucket_of(50000)));
  EXPECT_EQ(h.quantile(1.0), rtt_histogram::value_of(rtt_histogram::bucket_of(400000)));
}

// A socket's tcp_info as INET_DIAG_INFO carries it: the fields --by reads at their offsets.
std::vector<std::uint8_t> tcp_info_attribute(std::uint32_t rtt_us, std::uint32_t total_retrans,
                                             std::uint64_t bytes_acked) {
  std::vector<std::uint8_t> a(4 + 232, 0);
  const std::uint16_t len = static_cast<std::uint16_t>(a.size()), type = abi::inet_diag_info;
  std::memcpy(a.data(), &len, 2);
  std::memcpy(a.data() + 2, &type, 2);
  std::memcpy(a.data() + 4 + abi::tcpi_rtt_offset, &rtt_us, 4);
  std::memcpy(a.data() + 4 + abi::tcpi_total_retrans_offset, &total_retrans, 4);
  std::memcpy(a.data() + 4 + abi::tcpi_bytes_acked_offset, &bytes_acked, 8);
  return a;
}

TEST(Top, RanksByATcpInfoFigureOrTheQueues) {
  socket_table t;
  t.keep_attributes(true);
  std::vector<std::vector<std::uint8_t>> infos;
  auto add = [&](const char* peer, std::uint32_t rtt, std::uint32_t retrans, std::uint32_t q) {
    socket_row r = testing::tcp(2, "10.0.0.1", 443, peer, 40000, 1);
    infos.push_back(tcp_info_attribute(rtt, retrans, 1000));
    r.attributes = infos.back();
    r.send_q = q;
    t.append(r);
  };
  add("192.0.2.1", 1000, 0, 10);
  add("192.0.2.1", 1000, 2, 0);
  add("192.0.2.2", 80000, 7, 5);
  socket_row tw = testing::tcp(2, "10.0.0.1", 443, "192.0.2.3", 40001, 6);  // no tcp_info
  tw.send_q = 100;
  t.append(tw);
  auto retrans = top_counts(t, top_key::raddr, 0, nullptr, top_metric::retrans);
  ASSERT_EQ(retrans.size(), 2u) << "TIME-WAIT carries no tcp_info: not counted";
  EXPECT_EQ(retrans[0].key, "192.0.2.2");
  EXPECT_EQ(retrans[0].count, 7u);
  EXPECT_EQ(retrans[1].count, 2u);
  EXPECT_EQ(retrans[1].sockets, 2u);
  const auto rtt = top_counts(t, top_key::raddr, 0, nullptr, top_metric::rtt);
  ASSERT_EQ(rtt.size(), 2u);
  EXPECT_EQ(rtt[0].key, "192.0.2.2") << "the slowest first";
  EXPECT_EQ(rtt[1].count, rtt_histogram::value_of(rtt_histogram::bucket_of(1000)));
  const auto acked = top_counts(t, top_key::lport, 0, nullptr, top_metric::bytes_acked);
  ASSERT_EQ(acked.size(), 1u);
  EXPECT_EQ(acked[0].key, "443");
  EXPECT_EQ(acked[0].count, 3000u);
  // Queues come from the rows themselves: the TIME-WAIT socket counts.
  const auto sendq = top_counts(t, top_key::raddr, 1, nullptr, top_metric::send_q);
  ASSERT_EQ(sendq.size(), 1u);
  EXPECT_EQ(sendq[0].key, "192.0.2.3");
  EXPECT_EQ(sendq[0].count, 100u);
  // States and processes key the same figures.
  const auto by_state = top_counts(t, top_key::state, 0, nullptr, top_metric::retrans);
  ASSERT_EQ(by_state.size(), 1u);
  EXPECT_EQ(by_state[0].key, "ESTABLISHED");
  EXPECT_EQ(by_state[0].count, 9u);
  top_metric m;
  EXPECT_TRUE(parse_top_metric("bytes_received", m));
  EXPECT_EQ(m, top_metric::bytes_received);
  EXPECT_FALSE(parse_top_metric("rtt ", m));
  EXPECT_TRUE(needs_tcp_info(top_metric::rtt));
  EXPECT_FALSE(needs_tcp_info(top_metric::recv_q));
}

// -s -i's grouping: per state, the sockets with tcp_info, their RTTs and retransmissions.
TEST(Top, TcpInfoByState) {
  socket_table t;
  t.keep_attributes(true);
  std::vector<std::vector<std::uint8_t>> infos;
  auto add = [&](std::uint8_t state, std::uint32_t rtt, std::uint32_t retrans) {
    socket_row r = testing::tcp(2, "10.0.0.1", 443, "192.0.2.1", 40000, state);
    infos.push_back(tcp_info_attribute(rtt, retrans, 0));
    r.attributes = infos.back();
    t.append(r);
  };
  add(1, 1000, 3);
  add(1, 3000, 0);
  add(10, 0, 0);                                                      // a listener: no RTT sample
  t.append(testing::tcp(2, "10.0.0.1", 443, "192.0.2.9", 40001, 6));  // TIME-WAIT: no tcp_info
  tcp_info_by_state g;
  ASSERT_FALSE(g.on_rows(t));
  const auto& est = g.states()[1];
  EXPECT_EQ(est.sockets, 2u);
  EXPECT_EQ(est.rtt.total, 2u);
  EXPECT_EQ(est.rtt_max_us, 3000u);
  EXPECT_EQ(est.total_retrans, 3u);
  EXPECT_EQ(est.retransmitting, 0u) << "tcpi_retrans is 0 in these";
  EXPECT_EQ(g.states()[10].sockets, 1u);
  EXPECT_EQ(g.states()[10].rtt.total, 0u);
  EXPECT_EQ(g.states()[6].sockets, 0u);
}

}  // namespace
}  // namespace ssfast
