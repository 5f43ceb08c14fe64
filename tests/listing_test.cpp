// SPDX-License-Identifier: Apache-2.0
// Listings (ss's columns, JSON Lines) on a hand-built table.
#include "ssfast/report/listing.h"

#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

#include <array>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../report/src/socket_details.h"
#include "ssfast/core/addresses.h"
#include "support/tables.h"

namespace ssfast {
namespace {

using testing::fake_owners;
using testing::sample;
using testing::tcp;

// ss 6.1's compact form (stdout not a terminal), byte for byte: addresses right-aligned up to
// their ':' (or, for UNIX sockets, ' '), ports left-aligned after it, queues as "%-6d", and a
// Process column, header included, padded like every other left-aligned column.
TEST(Listing, SsColumnsAlignedAndAddressesAsSsPrintsThem) {
  listing_style s;
  std::string out;
  render_listing_text(sample(), s, out);
  EXPECT_EQ(
      out,
      "Netid State     Recv-Q Send-Q     Local Address:Port       Peer Address:Port Process\n"
      "tcp   LISTEN    129    128              0.0.0.0:443             0.0.0.0:*           \n"
      "tcp   ESTAB     0      0               10.0.0.1:443           192.0.2.7:50000       \n"
      "tcp   ESTAB     0      0               10.0.0.1:443           192.0.2.7:50001       \n"
      "tcp   TIME-WAIT 0      0      [::ffff:10.0.0.1]:443  [::ffff:192.0.2.7]:50002       \n"
      "tcp   ESTAB     0      0          [2001:db8::1]:443       [2001:db8::9]:40000       \n"
      "u_str LISTEN    0      0               @control 77                    * 0           \n");
  // Our own judgement (accept queue past the backlog) stays out of ss's columns.
  EXPECT_EQ(out.find("accept-queue-full"), std::string::npos);
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
  // No header: the cells alone set the widths; then the users, then -e's uid/ino/sk.
  EXPECT_EQ(first,
            "129    128              0.0.0.0:443            0.0.0.0:*     "
            "users:((\"nginx\",pid=10,fd=3),(\"nginx\",pid=11,fd=3)) ino:1000 sk:0");
  EXPECT_EQ(out.find("Recv-Q"), std::string::npos) << "-H: no header";
}

// On a terminal ss spreads the spare width over the columns, the rightmost first for the
// remainder (render_calc_width), so every line is as wide as the screen.
TEST(Listing, ATerminalsWidthIsSpreadOverTheColumns) {
  listing_style s;
  s.screen_width = 100;
  std::string out;
  render_listing_text(sample(), s, out);
  std::istringstream lines(out);
  std::vector<std::string> l;
  for (std::string x; std::getline(lines, x);) l.push_back(x);
  ASSERT_EQ(l.size(), 7u);
  for (const auto& x : l) EXPECT_EQ(x.size(), 100u) << x;
  // 84 measured columns, 16 to spread over 9: one each, and one more for the rightmost seven.
  EXPECT_EQ(l[0].substr(0, 40), "Netid  State      Recv-Q   Send-Q       ") << l[0];
  // Narrower than the cells: nothing is cut, columns keep their measured widths.
  s.screen_width = 40;
  out.clear();
  render_listing_text(sample(), s, out);
  EXPECT_NE(out.find("[::ffff:192.0.2.7]:50002"), std::string::npos) << out;
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
  // The Port column is as wide as "Port": the header runs on into "Process", as ss's does.
  EXPECT_EQ(l[0], "Recv-Q Send-Q Local Address:Port Peer Address:PortProcess");
  // Block 1 (rows 1-2): the header's widths.
  EXPECT_EQ(l[1], "0      0            1.1.1.1:1         2.2.2.2:2          ");
  // Block 2 widens the address columns for the IPv6 row and the one after it...
  // (addresses are right-aligned: their ':' lines up).
  const std::size_t peer = l[3].find("::2]:") + 4;
  ASSERT_NE(peer, std::string::npos + 4);
  EXPECT_EQ(l[4].find("2.2.2.2:6") + 7, peer);
  // ...and block 3 keeps them wide: columns never shrink back.
  EXPECT_EQ(l[5].find("2.2.2.2:8") + 7, peer);
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

// Netlink attributes as the kernel lays them out: u16 length (header included), u16 type,
// the payload, padded to 4 bytes.
struct attribute_bytes {
  std::vector<std::uint8_t> bytes;
  attribute_bytes& add(std::uint16_t type, const void* payload, std::uint16_t size) {
    const std::uint16_t len = static_cast<std::uint16_t>(4 + size);
    const std::size_t at = bytes.size();
    bytes.resize(at + ((len + 3u) & ~3u));
    std::memcpy(bytes.data() + at, &len, 2);
    std::memcpy(bytes.data() + at + 2, &type, 2);
    std::memcpy(bytes.data() + at + 4, payload, size);
    return *this;
  }
  template <class T>
  attribute_bytes& add(std::uint16_t type, T v) {
    return add(type, &v, sizeof v);
  }
};

// A table keeps a row's attributes only when asked, beside its path, through retain().
TEST(SocketTable, KeepsAttributesOnlyWhenAsked) {
  const std::vector<std::uint8_t> attrs = {8, 0, 8, 0, 3, 0, 0, 0};
  const socket_table source = sample();
  socket_row u = source.row(5);  // the UNIX listener, path "@control" (a view into `source`)
  u.attributes = attrs;
  socket_table plain;
  plain.append(u);
  EXPECT_TRUE(plain.row(0).attributes.empty());
  socket_table kept;
  kept.keep_attributes(true);
  kept.append(tcp(2, "10.0.0.1", 1, "10.0.0.2", 2, 1));
  kept.append(u);
  kept.append(u);
  ASSERT_EQ(kept.row(1).attributes.size(), attrs.size());
  EXPECT_TRUE(std::equal(attrs.begin(), attrs.end(), kept.row(1).attributes.begin()));
  EXPECT_EQ(kept.row(1).path, "@control");
  EXPECT_TRUE(kept.row(0).attributes.empty());
  kept.retain([](const socket_row& r) { return r.family == 1; });
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept.row(1).attributes.size(), attrs.size());
  EXPECT_EQ(kept.row(1).path, "@control");
}

// -e's fields come from the attributes, in ss's order and words; a malformed attribute (a
// length past the end) ends the decoding without a crash or a made-up value.
TEST(Listing, ExtendedFieldsFromTheAttributes) {
  attribute_bytes a;
  a.add<std::uint8_t>(INET_DIAG_SHUTDOWN, 1)  // receive side shut: "-->"
      .add<std::uint8_t>(INET_DIAG_SKV6ONLY, 0)
      .add<std::uint32_t>(INET_DIAG_MARK, 0x2a)
      .add<std::uint64_t>(INET_DIAG_CGROUP_ID, 0x1234)
      .add<std::uint8_t>(INET_DIAG_TOS, 0x10);
  socket_row r = tcp(10, "2001:db8::1", 443, "2001:db8::9", 40000, 1);
  r.inode = 5;
  r.cookie = 0xabc;
  r.uid = 33;
  r.attributes = a.bytes;
  socket_table t;
  t.keep_attributes(true);
  t.append(r);
  listing_style s;
  s.header = false;
  s.extended = true;
  s.tos = true;
  std::string out;
  render_listing_text(t, s, out);
  EXPECT_NE(out.find(" uid:33 ino:5 sk:abc fwmark:0x2a cgroup:unreachable:1234 v6only:0 --> "
                     "tos:0x10\n"),
            std::string::npos)
      << out;
  std::string json;
  render_listing_json(t, s, json);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["shutdown"]["receive"], false);
  EXPECT_EQ(j["shutdown"]["send"], true);
  EXPECT_EQ(j["fwmark"], 0x2a);
  EXPECT_EQ(j["cgroup_id"], 0x1234);
  EXPECT_EQ(j["v6only"], false);
  EXPECT_EQ(j["tos"], 0x10);
  // Cut the last attribute short: the ones before it still count, it does not.
  std::vector<std::uint8_t> cut = a.bytes;
  cut.resize(cut.size() - 4);
  r.attributes = cut;
  t.clear();
  t.append(r);
  out.clear();
  render_listing_text(t, s, out);
  EXPECT_NE(out.find("v6only:0 -->"), std::string::npos) << out;
  EXPECT_EQ(out.find("tos:"), std::string::npos) << out;
}

// -m and -i: skmem and tcp_info as ss prints them, on a second line unless -O.
TEST(Listing, MemoryAndTcpInfoAsSsPrintsThem) {
  std::array<std::uint32_t, SK_MEMINFO_VARS> mem{};
  mem[SK_MEMINFO_RCVBUF] = 131072;
  mem[SK_MEMINFO_SNDBUF] = 16384;
  mem[SK_MEMINFO_DROPS] = 7;
  tcp_info info{};
  info.tcpi_rtt = 1500;  // 1.5 ms
  info.tcpi_rttvar = 750;
  info.tcpi_snd_mss = 1000;
  info.tcpi_snd_cwnd = 10;
  info.tcpi_snd_ssthresh = 0x7fffffff;  // "infinite": not printed
  info.tcpi_reordering = 3;
  info.tcpi_retrans = 1;
  info.tcpi_total_retrans = 4;
  info.tcpi_bytes_acked = 12345;
  info.tcpi_delivery_rate = 1000000;  // bytes/s: 8 Mbps
  attribute_bytes a;
  a.add(INET_DIAG_SKMEMINFO, mem.data(), sizeof mem)
      .add(INET_DIAG_INFO, &info, sizeof info)
      .add(INET_DIAG_CONG, "cubic", 6);
  socket_row r = tcp(2, "10.0.0.1", 443, "10.0.0.2", 50000, 1);
  r.attributes = a.bytes;
  socket_table t;
  t.keep_attributes(true);
  t.append(r);
  listing_style s;
  s.header = false;
  s.memory = s.tcp_info = true;
  s.numeric = false;  // rates as ss's sprint_bw writes them without -n
  std::string out;
  render_listing_text(t, s, out);
  EXPECT_NE(out.find("\n\t skmem:(r0,rb131072,t0,tb16384,f0,w0,o0,bl0,d7) cubic rtt:1.5/0.75 "
                     "mss:1000 cwnd:10 bytes_acked:12345 send 53.3Mbps delivery_rate 8Mbps "
                     "retrans:1/4\n"),
            std::string::npos)
      << out;
  s.oneline = true;
  s.numeric = true;
  out.clear();
  render_listing_text(t, s, out);
  EXPECT_EQ(out.find('\t'), std::string::npos) << out;
  EXPECT_NE(out.find(" send 53333333bps delivery_rate 8000000bps"), std::string::npos) << out;
  std::string json;
  render_listing_json(t, s, json);
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["skmem"]["drops"], 7);
  EXPECT_EQ(j["tcp_info"]["rtt_us"], 1500);
  EXPECT_EQ(j["tcp_info"]["total_retrans"], 4);
  EXPECT_EQ(j["tcp_info"]["congestion"], "cubic");
}

// The integer formatting of ss's doubles says what printf says, over a wide sweep: %g of
// microseconds as milliseconds, and sprint_bw's %.3g with its units (and -n's %.0f).
__extension__ using u128 = unsigned __int128;

TEST(Listing, NumbersAsPrintfPrintsThem) {
  auto printf_g = [](double v, const char* fmt) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, v);
    return std::string(buf);
  };
  auto sprint_bw = [&](double bw, bool numeric) {
    if (numeric) return printf_g(bw, "%.0f");
    if (bw >= 1e12) return printf_g(bw / 1e12, "%.3g") + "T";
    if (bw >= 1e9) return printf_g(bw / 1e9, "%.3g") + "G";
    if (bw >= 1e6) return printf_g(bw / 1e6, "%.3g") + "M";
    if (bw >= 1e3) return printf_g(bw / 1e3, "%.3g") + "k";
    return printf_g(bw, "%g");
  };
  std::uint64_t x = 88172645463325252ull;  // xorshift64: a fixed, wide sweep
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int k = 0; k < 200000; ++k) {
    const std::uint64_t us = next() >> (next() % 64);
    if (us == 0) continue;
    std::string got;
    report_detail::append_ms_of_us(got, us);
    ASSERT_EQ(got, printf_g(static_cast<double>(us) / 1000.0, "%g")) << us;
    // A send rate: cwnd * mss * 8e6 / rtt, as ss computes it in doubles.
    const std::uint64_t cwnd = next() % 100000 + 1, mss = next() % 65536 + 1,
                        rtt = next() % 10000000 + 1;
    const double send = double(cwnd) * double(mss) * 8000000. / double(rtt);
    for (bool numeric : {false, true}) {
      got.clear();
      report_detail::append_rate(got, u128{cwnd} * mss * 8000000u, rtt, numeric);
      ASSERT_EQ(got, sprint_bw(send, numeric)) << cwnd << " " << mss << " " << rtt;
      const std::uint64_t rate = next() >> (next() % 64);
      got.clear();
      report_detail::append_rate(got, u128{rate} * 8, 1, numeric);
      ASSERT_EQ(got, sprint_bw(static_cast<double>(rate) * 8., numeric)) << rate;
    }
  }
}

}  // namespace
}  // namespace ssfast
