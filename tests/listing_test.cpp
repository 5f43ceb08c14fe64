// SPDX-License-Identifier: Apache-2.0
// Listings (ss's columns, JSON Lines) on a hand-built table.
#include "ssfast/report/listing.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "ssfast/core/addresses.h"
#include "support/tables.h"

namespace ssfast {
namespace {

using testing::fake_owners;
using testing::sample;
using testing::tcp;

TEST(Listing, SsColumnsAlignedAndAddressesAsSsPrintsThem) {
  listing_style s;
  std::string out;
  render_listing_text(sample(), s, out);
  std::istringstream lines(out);
  std::string header, l1, l2, l3, l4, l5, l6;
  std::getline(lines, header);
  std::getline(lines, l1);
  std::getline(lines, l2);
  std::getline(lines, l3);
  std::getline(lines, l4);
  std::getline(lines, l5);
  std::getline(lines, l6);
  EXPECT_EQ(header.rfind("Netid State     Recv-Q Send-Q Local Address:Port", 0), 0u) << header;
  EXPECT_EQ(l1,
            "tcp   LISTEN    129    128    0.0.0.0:443           0.0.0.0:*                "
            "accept-queue-full");
  EXPECT_NE(l4.find("[::ffff:10.0.0.1]:443"), std::string::npos) << l4;
  EXPECT_NE(l4.find("TIME-WAIT"), std::string::npos);
  EXPECT_NE(l5.find("[2001:db8::1]:443"), std::string::npos) << l5;
  EXPECT_EQ(l6, "u_str LISTEN    0      0      @control 77           * 0");
  // Columns line up: every "Local Address:Port" cell starts at the same offset.
  const std::size_t col = header.find("Local");
  EXPECT_EQ(l2.find("10.0.0.1:443"), col);
  EXPECT_EQ(l5.find("[2001:db8::1]:443"), col);
}

TEST(Listing, OptionalColumnsAndTails) {
  listing_style s;
  s.netid = false;
  s.state = false;
  s.header = false;
  s.extended = true;
  fake_owners owners;
  s.owners = &owners;
  std::string out;
  render_listing_text(sample(), s, out);
  const std::string first = out.substr(0, out.find('\n'));
  EXPECT_EQ(first.rfind("129 128 0.0.0.0:443 ", 0), 0u) << "no header: cells set the widths";
  EXPECT_NE(first.find("accept-queue-full users:((\"nginx\",pid=10,fd=3),(\"nginx\",pid=11,fd=3)) "
                       "ino:1000"),
            std::string::npos)
      << first;
  EXPECT_EQ(out.find("Recv-Q"), std::string::npos) << "-H: no header";
}

// The writer a listing streams through: rows in batches, text measured per block.
struct written {
  std::string text;
  int writes = 0;
  listing_writer::write_fn fn() {
    return [this](std::string_view t) {
      text += t;
      ++writes;
      return std::error_code{};
    };
  }
};

TEST(ListingWriter, OneBlockIsExactlyTheWholeTableRendering) {
  listing_style s;
  std::string whole;
  render_listing_text(sample(), s, whole);
  written w;
  listing_writer out(s, listing_format::columns, w.fn());
  // Batches of one row, as datagrams may come.
  const socket_table t = sample();
  for (std::size_t i = 0; i < t.size(); ++i) {
    socket_table one;
    one.append(t.row(i));
    ASSERT_FALSE(out.on_rows(one));
  }
  EXPECT_EQ(w.text, "") << "nothing written before the block is measured";
  ASSERT_FALSE(out.finish());
  EXPECT_EQ(w.text, whole);
  EXPECT_EQ(out.rows(), 6u);
  EXPECT_TRUE(out.tcp_listener_seen());
}

TEST(ListingWriter, BlocksWidenColumnsAndNeverNarrowThem) {
  listing_style s;
  s.netid = false;
  s.state = false;
  socket_table t;
  // Narrow rows first, then wide ones, then narrow again, two rows to a block.
  t.append(tcp(2, "1.1.1.1", 1, "2.2.2.2", 2, 1));
  t.append(tcp(2, "1.1.1.1", 3, "2.2.2.2", 4, 1));
  t.append(tcp(10, "2001:db8:aaaa:bbbb::1", 44444, "2001:db8:cccc:dddd::2", 55555, 1));
  t.append(tcp(2, "1.1.1.1", 5, "2.2.2.2", 6, 1));
  t.append(tcp(2, "1.1.1.1", 7, "2.2.2.2", 8, 1));
  written w;
  listing_writer out(s, listing_format::columns, w.fn(), 2);
  ASSERT_FALSE(out.on_rows(t));
  ASSERT_FALSE(out.finish());
  std::istringstream lines(w.text);
  std::vector<std::string> l;
  for (std::string x; std::getline(lines, x);) l.push_back(x);
  ASSERT_EQ(l.size(), 6u) << w.text;
  EXPECT_EQ(l[0], "Recv-Q Send-Q Local Address:Port Peer Address:Port");
  // Block 1 (rows 1-2): the header's widths.
  EXPECT_EQ(l[1], "0      0      1.1.1.1:1          2.2.2.2:2");
  // Block 2 widens the address columns for the IPv6 row and the one after it...
  const std::size_t peer = l[3].find("[2001:db8:cccc:dddd::2]");
  ASSERT_NE(peer, std::string::npos);
  EXPECT_EQ(l[4].find("2.2.2.2:6"), peer);
  // ...and block 3 keeps them wide: columns never shrink back.
  EXPECT_EQ(l[5].find("2.2.2.2:8"), peer);
  // Every row once, in order.
  EXPECT_NE(l[2].find("1.1.1.1:3"), std::string::npos);
  EXPECT_EQ(out.rows(), 5u);
  EXPECT_FALSE(out.tcp_listener_seen());
}

TEST(ListingWriter, AWriteErrorStopsTheListing) {
  listing_style s;
  int calls = 0;
  listing_writer out(s, listing_format::json_lines, [&](std::string_view) {
    ++calls;
    return std::make_error_code(std::errc::broken_pipe);
  });
  // JSON Lines are written every 64 KiB: enough rows to reach it.
  socket_table big;
  for (int i = 0; i < 2000; ++i) big.append(tcp(2, "10.0.0.1", 443, "192.0.2.7", 1000, 1));
  EXPECT_EQ(out.on_rows(big), std::errc::broken_pipe);
  EXPECT_EQ(calls, 1) << "no write after the first failed";
}

TEST(Listing, JsonLines) {
  listing_style s;
  fake_owners owners;
  s.owners = &owners;
  s.timers = true;
  std::string out;
  render_listing_json(sample(), s, out);
  std::istringstream lines(out);
  std::string line;
  std::vector<nlohmann::json> rows;
  while (std::getline(lines, line)) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0]["proto"], "tcp");
  EXPECT_EQ(rows[0]["state"], "LISTEN");
  EXPECT_EQ(rows[0]["local_addr"], "0.0.0.0");
  EXPECT_EQ(rows[0]["local_port"], 443);
  EXPECT_EQ(rows[0]["accept_queue_full"], true);
  EXPECT_EQ(rows[0]["process"].size(), 2u);
  EXPECT_EQ(rows[0]["process"][0]["comm"], "nginx");
  EXPECT_EQ(rows[0]["process"][1]["pid"], 11);
  EXPECT_EQ(rows[3]["family"], "ipv6");
  EXPECT_EQ(rows[3]["peer_addr"], "::ffff:192.0.2.7");
  EXPECT_EQ(rows[3]["state"], "TIME_WAIT");
  EXPECT_EQ(rows[1]["timer"]["name"], "off");
  EXPECT_EQ(rows[5]["proto"], "unix");
  EXPECT_EQ(rows[5]["path"], "@control");
  EXPECT_TRUE(rows[5]["local_port"].is_null());
  for (const auto& r : rows)
    for (const char* k : {"proto", "state", "local_addr", "local_port", "peer_addr", "peer_port",
                          "recv_q", "send_q", "inode", "uid", "process"})
      EXPECT_TRUE(r.contains(k)) << k;
}

TEST(Listing, RetainKeepsOrderAndColumnsTogether) {
  socket_table t = sample();
  t.retain([](const socket_row& r) { return r.state != 1; });
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.state()[0], 10);
  EXPECT_EQ(t.local_port()[0], 443);
  EXPECT_EQ(t.state()[1], 6);
  EXPECT_EQ(t.path(2), "@control");
  EXPECT_EQ(t.count_states().total(), 3u) << "the padded state column shrank too";
}

}  // namespace
}  // namespace ssfast
