// SPDX-License-Identifier: Apache-2.0
// The /proc/net socket file parser on recorded files (tests/data/proc-scenario, proc-many) and
// on the awkward cases: every chunking, repeats across read() boundaries, sl past 9999,
// IPv4-mapped addresses, cut and malformed lines, empty tables.
#include "ssfast/proc/socket_files.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ssfast/core/error.h"
#include "support/printers.h"
#include "support/scenario.h"

namespace ssfast::proc {
namespace {

std::string data(const std::string& name) {
  std::ifstream in(std::string(SSFAST_TEST_DATA) + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().empty()) throw std::runtime_error("missing test data " + name);
  return s.str();
}

// Feeds `text` in reads of `chunk` bytes (0: one read).
template <class Parser>
std::error_code feed_all(Parser& p, std::string_view text, std::size_t chunk = 0) {
  if (chunk == 0) chunk = text.size() + 1;
  for (std::size_t off = 0; off < text.size(); off += chunk)
    if (auto ec = p.feed(text.substr(off, chunk))) return ec;
  return p.finish();
}

state_counts count_file(socket_file f, std::string_view text, file_stats* stats = nullptr,
                        std::size_t chunk = 0) {
  state_counts c;
  socket_file_parser p(f, c);
  EXPECT_FALSE(feed_all(p, text, chunk));
  if (stats != nullptr) *stats = p.stats();
  return c;
}

TEST(ProcSocketFiles, RecordedScenarioCountsExactly) {
  const auto want = testing::expected_scenario();
  EXPECT_EQ(count_file(socket_file::tcp, data("proc-scenario/tcp")), want.tcp[0]);
  EXPECT_EQ(count_file(socket_file::tcp6, data("proc-scenario/tcp6")), want.tcp[1]);
  EXPECT_EQ(count_file(socket_file::udp, data("proc-scenario/udp")), want.udp[0]);
  EXPECT_EQ(count_file(socket_file::udp6, data("proc-scenario/udp6")), want.udp[1]);
  unix_counts u;
  socket_file_parser p(u);
  ASSERT_FALSE(feed_all(p, data("proc-scenario/unix")));
  EXPECT_EQ(u.by_type, want.unix_by_type);
  EXPECT_EQ(u.states[tcp_state::listen], want.unix_listening);
  EXPECT_EQ(p.stats().skipped, 0u);
}

TEST(ProcSocketFiles, EveryChunkingGivesTheSameCounts) {
  for (const char* name : {"tcp", "udp6", "unix"}) {
    const std::string text = data(std::string("proc-scenario/") + name);
    const socket_file f = std::string(name) == "tcp"    ? socket_file::tcp
                          : std::string(name) == "udp6" ? socket_file::udp6
                                                        : socket_file::unix_domain;
    socket_table whole;
    socket_file_parser pw(f, whole);
    ASSERT_FALSE(feed_all(pw, text));
    for (std::size_t chunk = 1; chunk <= text.size(); chunk += (chunk < 200 ? 1 : 37)) {
      socket_table t;
      socket_file_parser p(f, t);
      ASSERT_FALSE(feed_all(p, text, chunk)) << name << " chunk " << chunk;
      ASSERT_EQ(t.size(), whole.size()) << name << " chunk " << chunk;
      ASSERT_EQ(p.stats().duplicates, 0u);
      ASSERT_EQ(p.stats().skipped, 0u);
      for (std::size_t i = 0; i < t.size(); ++i) {
        ASSERT_EQ(t.inode()[i], whole.inode()[i]);
        ASSERT_EQ(t.path(i), whole.path(i));
      }
    }
  }
}

TEST(ProcSocketFiles, RowsCarryWhatProcShows) {
  socket_table t;
  socket_file_parser p(socket_file::tcp, t);
  ASSERT_FALSE(feed_all(p, data("proc-many/tcp")));
  ASSERT_EQ(t.size(), 601u);
  EXPECT_EQ(t.count_states()[tcp_state::established], 600u);
  std::uint16_t listen_port = 0;
  std::size_t server_side = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t.state()[i] == static_cast<std::uint8_t>(tcp_state::listen))
      listen_port = t.local_port()[i];
  for (std::size_t i = 0; i < t.size(); ++i) {
    const socket_row r = t.row(i);
    ASSERT_EQ(r.family, AF_INET);
    ASSERT_EQ(r.protocol, 6);
    ASSERT_EQ(r.local_addr[0], 127);
    ASSERT_EQ(r.local_addr[3], 1);
    ASSERT_NE(r.inode, 0u);
    if (r.state == static_cast<std::uint8_t>(tcp_state::listen)) {
      EXPECT_EQ(r.send_q, 0u) << "/proc shows no backlog";
    } else if (r.local_port == listen_port) {
      ++server_side;
    }
  }
  EXPECT_EQ(server_side, 300u) << "the accepted half of the 300 pairs";
}

TEST(ProcSocketFiles, Ipv6AndMappedAddresses) {
  socket_table t;
  socket_file_parser p(socket_file::tcp6, t);
  ASSERT_FALSE(feed_all(p, data("proc-scenario/tcp6")));
  const address_bytes loopback6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const address_bytes mapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  std::size_t lo = 0, mp = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t.local_addr()[i] == loopback6) ++lo;
    if (t.local_addr()[i] == mapped) ++mp;
  }
  EXPECT_GT(lo, 20u);
  EXPECT_EQ(mp, 1u) << "the dual-stack listener's accepted IPv4 connection";
}

constexpr std::string_view tcp_header =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n";

std::string tcp_line(int sl, const char* local, const char* state, unsigned inode) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%4d: %s 0100007F:D431 %s 00000010:00000020 00:00000000 00000000  1000        0 "
                "%u 1 0000000000000000 20 4 30 10 -1\n",
                sl, local, state, inode);
  return buf;
}

TEST(ProcSocketFiles, FieldsDecodeAndSlWidensPast9999) {
  const std::string text = std::string(tcp_header) + tcp_line(9999, "0100007F:0050", "01", 11) +
                           tcp_line(10000, "0A000001:01BB", "0A", 12) +
                           tcp_line(123456, "0100007F:0051", "06", 0);
  socket_table t;
  socket_file_parser p(socket_file::tcp, t);
  ASSERT_FALSE(feed_all(p, text));
  ASSERT_EQ(t.size(), 3u);
  const socket_row a = t.row(0), b = t.row(1), c = t.row(2);
  EXPECT_EQ(a.local_addr, (address_bytes{127, 0, 0, 1}));
  EXPECT_EQ(a.local_port, 80);
  EXPECT_EQ(a.peer_addr, (address_bytes{127, 0, 0, 1}));
  EXPECT_EQ(a.peer_port, 0xD431);
  EXPECT_EQ(a.state, 1);
  EXPECT_EQ(a.send_q, 0x10u) << "tx_queue";
  EXPECT_EQ(a.recv_q, 0x20u) << "rx_queue";
  EXPECT_EQ(a.uid, 1000u);
  EXPECT_EQ(a.inode, 11u);
  EXPECT_EQ(b.local_addr, (address_bytes{1, 0, 0, 10}));
  EXPECT_EQ(b.local_port, 443);
  EXPECT_EQ(b.state, 10);
  EXPECT_EQ(c.state, 6);
  EXPECT_EQ(c.inode, 0u) << "TIME_WAIT";
}

TEST(ProcSocketFiles, RepeatsAtReadBoundariesAreDroppedOnce) {
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) {
    char addr[32];
    std::snprintf(addr, sizeof addr, "0100007F:%04X", 1000 + i);
    lines.push_back(tcp_line(i, addr, "01", 500u + static_cast<unsigned>(i)));
  }
  // Read 1: header + rows 0..19. Read 2 repeats rows 18 and 19 (seq_file resuming one bucket
  // position early), then rows 20..39.
  std::string read1(tcp_header), read2;
  for (int i = 0; i < 20; ++i) read1 += lines[static_cast<std::size_t>(i)];
  for (int i = 18; i < 40; ++i) read2 += lines[static_cast<std::size_t>(i)];
  state_counts c;
  socket_file_parser p(socket_file::tcp, c);
  ASSERT_FALSE(p.feed(read1));
  ASSERT_FALSE(p.feed(read2));
  ASSERT_FALSE(p.finish());
  EXPECT_EQ(c[tcp_state::established], 40u);
  EXPECT_EQ(p.stats().duplicates, 2u);
  EXPECT_EQ(p.stats().rows, 40u);

  // The same rows inside one read are two sockets' worth of text, not a resume artefact.
  std::string one_read(tcp_header);
  one_read += lines[0] + lines[0];
  state_counts c2;
  socket_file_parser p2(socket_file::tcp, c2);
  ASSERT_FALSE(feed_all(p2, one_read));
  EXPECT_EQ(c2.total(), 2u);

  // The read ends mid-line: that line belongs to the first read, and its repeat opening the
  // second read is still caught.
  std::string split(tcp_header);
  for (int i = 0; i < 19; ++i) split += lines[static_cast<std::size_t>(i)];
  split += lines[19].substr(0, 50);
  const std::string rest = lines[19].substr(50) + lines[19] + lines[20];
  state_counts c3;
  socket_file_parser p3(socket_file::tcp, c3);
  ASSERT_FALSE(p3.feed(split));
  ASSERT_FALSE(p3.feed(rest));
  ASSERT_FALSE(p3.finish());
  EXPECT_EQ(c3.total(), 21u);
  EXPECT_EQ(p3.stats().duplicates, 1u);
}

TEST(ProcSocketFiles, EmptyTableAndMissingHeader) {
  file_stats st;
  EXPECT_EQ(count_file(socket_file::tcp, tcp_header, &st).total(), 0u);
  EXPECT_EQ(st.rows, 0u);
  state_counts c;
  socket_file_parser empty(socket_file::tcp, c);
  EXPECT_EQ(empty.finish(), errc::parse_error) << "not even a header";
  socket_file_parser wrong(socket_file::tcp, c);
  EXPECT_EQ(wrong.feed("Num       RefCount Protocol\n"), errc::parse_error);
  unix_counts u;
  socket_file_parser wrong_unix(u);
  EXPECT_EQ(wrong_unix.feed(tcp_header), errc::parse_error);
}

TEST(ProcSocketFiles, CutAndMalformedLinesAreSkippedAndCounted) {
  std::string text(tcp_header);
  text += tcp_line(0, "0100007F:0050", "01", 1);
  text += tcp_line(1, "0100007F:0051", "0G", 2);  // not hex
  text += tcp_line(2, "0100007F:0052", "1F", 3);  // a state past 15
  text += "   3: garbage\n";
  text += tcp_line(4, "0100007F-0053", "01", 5);  // a separator out of place
  text += std::string(600, 'x') + "\n";           // longer than any real line
  text += tcp_line(5, "0100007F:0054", "0A", 6);
  text += tcp_line(6, "0100007F:0055", "01", 7).substr(0, 60);  // cut short, no newline
  for (std::size_t chunk : {std::size_t{0}, std::size_t{7}, std::size_t{100}}) {
    file_stats st;
    const state_counts c = count_file(socket_file::tcp, text, &st, chunk);
    EXPECT_EQ(c[tcp_state::established], 1u) << chunk;
    EXPECT_EQ(c[tcp_state::listen], 1u) << chunk;
    EXPECT_EQ(c.total(), 2u) << chunk;
    EXPECT_EQ(st.skipped, 6u) << chunk;
  }
  // Rows skip the same lines.
  socket_table t;
  socket_file_parser p(socket_file::tcp, t);
  ASSERT_FALSE(feed_all(p, text));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(p.stats().skipped, 6u);
}

TEST(ProcSocketFiles, UnixStatesTypesAndPaths) {
  const std::string text =
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 100 /run/a b.sock\n"
      "0000000000000000: 00000003 00000000 00000000 0001 03 101\n"
      "0000000000000000: 00000002 00000000 00000000 0002 01 102 @abstract@name\n"
      "0000000000000000: 00000002 00000000 00000000 0005 02 103\n"
      "0000000000000000: 00000002 00000000 00000000 0002 04 104\n";
  socket_table t;
  socket_file_parser p(socket_file::unix_domain, t);
  ASSERT_FALSE(feed_all(p, text));
  ASSERT_EQ(t.size(), 5u);
  EXPECT_EQ(t.state()[0], 10) << "__SO_ACCEPTCON: LISTEN";
  EXPECT_EQ(t.path(0), "/run/a b.sock");
  EXPECT_EQ(t.sock_type()[0], SOCK_STREAM);
  EXPECT_EQ(t.state()[1], 1) << "SS_CONNECTED";
  EXPECT_EQ(t.path(1), "");
  EXPECT_EQ(t.state()[2], 7) << "SS_UNCONNECTED";
  EXPECT_EQ(t.path(2), "@abstract@name");
  EXPECT_EQ(t.state()[3], 1) << "SS_CONNECTING: an embryo, sk_state ESTABLISHED";
  EXPECT_EQ(t.sock_type()[3], SOCK_SEQPACKET);
  EXPECT_EQ(t.state()[4], 7) << "SS_DISCONNECTING";
  EXPECT_EQ(t.inode()[4], 104u);
  unix_counts u;
  socket_file_parser pc(u);
  ASSERT_FALSE(feed_all(pc, text));
  EXPECT_EQ(u.by_type[SOCK_STREAM], 2u);
  EXPECT_EQ(u.by_type[SOCK_DGRAM], 2u);
  EXPECT_EQ(u.states[tcp_state::listen], 1u);
  EXPECT_EQ(u.states[tcp_state::established], 2u);
}

// raw and raw6 (udp's layout, the protocol in the port column), packet and netlink, as the
// kernel prints them (raw_sock_seq_show, packet_seq_show, netlink_seq_show).
TEST(ProcSocketFiles, RawPacketAndNetlinkRows) {
  const std::string raw =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode ref pointer drops\n"
      "   4: 00000000:00FF 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        "
      "0 17249 2 0000000035ba0155 0\n"
      "   6: 0100007F:0006 0200007F:0000 01 00000000:00000010 00:00000000 00000000  1000        "
      "0 17250 2 0000000035ba0156 0\n";
  socket_table t;
  socket_file_parser p(socket_file::raw, t);
  ASSERT_FALSE(feed_all(p, raw));
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.protocol()[0], IPPROTO_RAW);
  EXPECT_EQ(t.sock_type()[0], SOCK_RAW);
  EXPECT_EQ(t.local_port()[0], 255) << "the IP protocol the socket takes";
  EXPECT_EQ(t.state()[0], 7);
  EXPECT_EQ(t.local_port()[1], IPPROTO_TCP);
  EXPECT_EQ(t.state()[1], 1);
  EXPECT_EQ(t.recv_q()[1], 16u);
  EXPECT_EQ(t.uid()[1], 1000u);
  const std::string raw6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "  123: 00000000000000000000000000000000:003A 00000000000000000000000000000000:0000 07 "
      "00000000:00000000 00:00000000 00000000     0        0 17248 2 000000004ecb11a1 0\n";
  t.clear();
  socket_file_parser p6(socket_file::raw6, t);
  ASSERT_FALSE(feed_all(p6, raw6));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.family()[0], AF_INET6);
  EXPECT_EQ(t.local_port()[0], 58);
  EXPECT_TRUE(t.dual_stack()[0]) << "/proc says nothing of IPV6_V6ONLY: ss prints '*'";

  const std::string packet =
      "sk               RefCnt Type Proto  Iface R Rmem   User   Inode\n"
      "00000000c45ffe30 3      3    0003   0     1 3332   0      17251 \n"
      "0000000059ce5333 3      2    0800   1     1 1666   1000   17252 \n"
      "0000000017c9ff8a 2      3    zz00   0     0 0      0      17253 \n";
  t.clear();
  socket_file_parser pp(socket_file::packet, t);
  ASSERT_FALSE(feed_all(pp, packet));
  EXPECT_EQ(pp.stats().skipped, 1u) << "a protocol that is not hex";
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.family()[0], AF_PACKET);
  EXPECT_EQ(t.sock_type()[0], SOCK_RAW);
  EXPECT_EQ(t.local_port()[0], 3);
  EXPECT_EQ(t.recv_q()[0], 3332u);
  EXPECT_EQ(t.sock_type()[1], SOCK_DGRAM);
  EXPECT_EQ(t.local_port()[1], 0x0800);
  EXPECT_EQ(t.ifindex()[1], 1u);
  EXPECT_EQ(t.uid()[1], 1000u);
  EXPECT_EQ(t.inode()[1], 17252u);

  const std::string netlink =
      "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    "
      "Inode\n"
      "00000000100a46ac 0   4993       00000001 0        0        0     2        0        17254   "
      "\n"
      "00000000ecff6229 4   3067405620 00000000 832      0        0     2        0        17159   "
      "\n"
      "00000000ecff6229 4   -5         00000000 832      0        0     2        0        17160   "
      "\n";
  t.clear();
  socket_file_parser pn(socket_file::netlink, t);
  ASSERT_FALSE(feed_all(pn, netlink));
  EXPECT_EQ(pn.stats().skipped, 1u) << "the port id is %u";
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t.family()[0], AF_NETLINK);
  EXPECT_EQ(t.protocol()[0], 0);
  EXPECT_EQ(netlink_ends_of(t.row(0)).portid, 4993u);
  EXPECT_FALSE(netlink_ends_of(t.row(0)).connected) << "/proc shows no peer";
  EXPECT_EQ(t.protocol()[1], 4);
  EXPECT_EQ(netlink_ends_of(t.row(1)).portid, 3067405620u);
  EXPECT_EQ(t.recv_q()[1], 832u);
  // Each file's header is its own.
  t.clear();
  socket_file_parser wrong(socket_file::netlink, t);
  EXPECT_TRUE(feed_all(wrong, packet));
}

}  // namespace
}  // namespace ssfast::proc
