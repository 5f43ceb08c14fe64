// SPDX-License-Identifier: Apache-2.0
// The sock_diag dump parser on recorded dumps (tests/data/*.nldump) and on malformed input
// built byte by byte: every fault is an error, never a silently different count.
#include "ssfast/netlink/dump_parser.h"

#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <climits>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "ssfast/netlink/request.h"
#include "support/dump_file.h"
#include "support/printers.h"
#include "support/scenario.h"

namespace ssfast::netlink {
namespace {

using testing::recorded_dump;

recorded_dump fixture(const char* name) {
  return testing::read_dump_file(std::string(SSFAST_TEST_DATA) + "/" + name + ".nldump");
}

reply_filter filter_of(const recorded_dump& d) { return {d.portid, d.seq, SOCK_DIAG_BY_FAMILY}; }

datagram dgram(const testing::recorded_datagram& g) { return {g.bytes, g.sender_portid}; }

// Replays a whole recorded inet dump; expects success and exactly one DONE, at the end.
std::array<state_counts, 2> replay_inet(const recorded_dump& d) {
  std::array<state_counts, 2> c;
  for (std::size_t i = 0; i < d.datagrams.size(); ++i) {
    const parse_status st = count_inet(dgram(d.datagrams[i]), filter_of(d), c);
    EXPECT_FALSE(st.error) << st.error.message();
    EXPECT_EQ(st.done, i + 1 == d.datagrams.size()) << "datagram " << i;
  }
  return c;
}

TEST(DumpParserReplay, TcpCountsMatchTheRecordedScenario) {
  const auto want = testing::expected_scenario();
  EXPECT_EQ(replay_inet(fixture("tcp4"))[0], want.tcp[0]);
  EXPECT_EQ(replay_inet(fixture("tcp6"))[1], want.tcp[1]);
  EXPECT_EQ(replay_inet(fixture("tcp4"))[1].total(), 0u) << "an IPv4 dump holds no IPv6";
}

// The minisockets of the recorded scenario (per family one TIME_WAIT, reported with timer 3,
// and one request socket, SYN_RECV), told apart as the rows' timers tell them; the counts are
// count_inet's.
TEST(DumpParserReplay, MinisocketsAreTheTimewaitAndRequestSockets) {
  for (const char* name : {"tcp4", "tcp6"}) {
    const recorded_dump d = fixture(name);
    const std::size_t f = name == std::string("tcp4") ? 0 : 1;
    std::array<state_counts, 2> c;
    minisocket_counts m;
    socket_table t;
    for (const auto& g : d.datagrams) {
      ASSERT_FALSE(count_inet_minisockets(dgram(g), filter_of(d), c, m).error);
      ASSERT_FALSE(rows_inet(dgram(g), filter_of(d), IPPROTO_TCP, t).error);
    }
    EXPECT_EQ(c, replay_inet(d)) << name;
    std::uint64_t timer3 = 0;
    for (std::size_t i = 0; i < t.size(); ++i) timer3 += t.row(i).timer == 3;
    EXPECT_EQ(m.timewait[f], timer3) << name;
    EXPECT_EQ(m.timewait[f], c[f][tcp_state::time_wait]) << name;
    EXPECT_EQ(m.request[f], c[f][tcp_state::syn_recv]) << name;
    EXPECT_EQ(m.timewait[1 - f] + m.request[1 - f], 0u) << name;
    EXPECT_GT(m.timewait[f] + m.request[f], 0u) << name;
  }
}

TEST(DumpParserReplay, UdpCountsMatchTheRecordedScenario) {
  const auto want = testing::expected_scenario();
  EXPECT_EQ(replay_inet(fixture("udp4"))[0], want.udp[0]);
  EXPECT_EQ(replay_inet(fixture("udp6"))[1], want.udp[1]);
}

TEST(DumpParserReplay, UnixCountsMatchTheRecordedScenario) {
  const auto want = testing::expected_scenario();
  for (const char* name : {"unix", "unix-rows"}) {
    const recorded_dump d = fixture(name);
    unix_counts u;
    for (const auto& g : d.datagrams) ASSERT_FALSE(count_unix(dgram(g), filter_of(d), u).error);
    EXPECT_EQ(u.by_type, want.unix_by_type) << name;
    EXPECT_EQ(u.states[tcp_state::listen], want.unix_listening) << name;
  }
}

TEST(DumpParserReplay, MultiDatagramDump) {
  const recorded_dump d = fixture("tcp4-many");
  ASSERT_GE(d.datagrams.size(), 3u);
  const auto c = replay_inet(d);
  EXPECT_EQ(c[0][tcp_state::established], 600u);
  EXPECT_EQ(c[0][tcp_state::listen], 1u);
  EXPECT_EQ(c[0].total(), 601u);
}

TEST(DumpParserReplay, InetRowsAgreeWithCounts) {
  const recorded_dump d = fixture("tcp4-many");
  socket_table t;
  std::uint32_t sockets = 0;
  for (const auto& g : d.datagrams) {
    const parse_status st = rows_inet(dgram(g), filter_of(d), IPPROTO_TCP, t);
    ASSERT_FALSE(st.error);
    sockets += st.sockets;
  }
  ASSERT_EQ(t.size(), 601u);
  EXPECT_EQ(sockets, 601u);
  EXPECT_EQ(t.count_states(), replay_inet(d)[0]);
  std::set<std::uint64_t> cookies;
  std::uint16_t listen_port = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const socket_row r = t.row(i);
    EXPECT_EQ(r.family, AF_INET);
    EXPECT_EQ(r.protocol, IPPROTO_TCP);
    EXPECT_EQ(r.local_addr[0], 127);
    EXPECT_EQ(r.local_addr[3], 1);
    EXPECT_EQ(r.local_addr[4], 0) << "IPv4 uses the first 4 bytes only";
    cookies.insert(r.cookie);
    if (r.state == static_cast<std::uint8_t>(tcp_state::listen)) {
      listen_port = r.local_port;
      EXPECT_EQ(r.send_q, 4096u) << "a listener's Send-Q is its backlog";
      EXPECT_NE(r.inode, 0u);
    }
  }
  EXPECT_EQ(cookies.size(), t.size()) << "socket cookies are unique";
  ASSERT_NE(listen_port, 0);
  // Half the established sockets are the server side: local port == the listener's.
  std::size_t server_side = 0;
  for (std::size_t i = 0; i < t.size(); ++i)
    if (t.state()[i] == 1 && t.local_port()[i] == listen_port) ++server_side;
  EXPECT_EQ(server_side, 300u);
}

TEST(DumpParserReplay, UnixRowsCarryNamesPeersAndBacklog) {
  const recorded_dump d = fixture("unix-rows");
  socket_table t;
  for (const auto& g : d.datagrams) ASSERT_FALSE(rows_unix(dgram(g), filter_of(d), t).error);
  ASSERT_EQ(t.size(), 10u);
  std::map<std::uint64_t, std::uint64_t> peer_of;
  for (std::size_t i = 0; i < t.size(); ++i) peer_of[t.inode()[i]] = t.peer_inode()[i];
  std::size_t listeners = 0, linked = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    EXPECT_EQ(t.family()[i], AF_UNIX);
    if (t.state()[i] == static_cast<std::uint8_t>(tcp_state::listen)) {
      ++listeners;
      EXPECT_EQ(t.path(i), "@ssfast-test-listener");
      EXPECT_EQ(t.send_q()[i], 8u) << "backlog";
    }
    // Pairs point at each other.
    const std::uint64_t peer = t.peer_inode()[i];
    if (peer != 0 && peer_of.count(peer) && peer_of[peer] == t.inode()[i]) ++linked;
  }
  EXPECT_EQ(listeners, 1u);
  EXPECT_GE(linked, 8u) << "stream, dgram and seqpacket pairs and the accepted connection";
}

// Builds datagrams message by message.
class builder {
 public:
  builder& msg(std::uint16_t type, const void* payload, std::size_t n, std::uint32_t seq = 7,
               std::uint32_t pid = 99, std::uint16_t flags = NLM_F_MULTI) {
    nlmsghdr h{};
    h.nlmsg_len = static_cast<std::uint32_t>(NLMSG_HDRLEN + n);
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    h.nlmsg_pid = pid;
    append(&h, sizeof h);
    append(payload, n);
    bytes.resize(NLMSG_ALIGN(bytes.size()));
    return *this;
  }
  builder& inet(std::uint8_t family, std::uint8_t state, std::uint32_t seq = 7,
                std::uint32_t pid = 99, std::uint64_t cookie = 0) {
    inet_diag_msg m{};
    m.idiag_family = family;
    m.idiag_state = state;
    // sock_diag_save_cookie(): low word first.
    m.id.idiag_cookie[0] = static_cast<std::uint32_t>(cookie);
    m.id.idiag_cookie[1] = static_cast<std::uint32_t>(cookie >> 32);
    return msg(SOCK_DIAG_BY_FAMILY, &m, sizeof m, seq, pid);
  }
  // An ESTABLISHED IPv4 socket with this cookie.
  builder& sock(std::uint64_t cookie) { return inet(AF_INET, 1, 7, 99, cookie); }
  builder& done(int err = 0) { return msg(NLMSG_DONE, &err, sizeof err); }
  builder& error(int err) {
    nlmsgerr e{};
    e.error = err;
    return msg(NLMSG_ERROR, &e, sizeof e);
  }
  void append(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  std::vector<std::byte> bytes;
};

constexpr reply_filter ours{99, 7, SOCK_DIAG_BY_FAMILY};

parse_status count(const std::vector<std::byte>& b, std::uint32_t sender = 0,
                   std::array<state_counts, 2>* out = nullptr) {
  std::array<state_counts, 2> c;
  const parse_status st = count_inet({b, sender}, ours, out ? *out : c);
  return st;
}

TEST(DumpParserMalformed, WellFormedSyntheticDump) {
  builder b;
  b.inet(AF_INET, 1).inet(AF_INET6, 10).inet(AF_INET, 6).msg(NLMSG_NOOP, nullptr, 0).done();
  std::array<state_counts, 2> c;
  const parse_status st = count(b.bytes, 0, &c);
  ASSERT_FALSE(st.error) << st.error.message();
  EXPECT_TRUE(st.done);
  EXPECT_EQ(st.sockets, 3u);
  EXPECT_EQ(c[0][tcp_state::established], 1u);
  EXPECT_EQ(c[0][tcp_state::time_wait], 1u);
  EXPECT_EQ(c[1][tcp_state::listen], 1u);
}

// A listener's INET_DIAG_SKMEMINFO: SK_MEMINFO_DROPS lands in the row; an array cut before
// it is malformed, never read past.
TEST(DumpParserMalformed, SocketMemoryCarriesTheDropCounter) {
  auto listener_with = [](std::size_t entries) {
    struct {
      inet_diag_msg m{};
      nlattr a{};
      std::uint32_t mem[SK_MEMINFO_VARS]{};
    } p;
    p.m.idiag_family = AF_INET;
    p.m.idiag_state = 10;
    p.a.nla_type = INET_DIAG_SKMEMINFO;
    p.a.nla_len = static_cast<std::uint16_t>(sizeof(nlattr) + entries * sizeof(std::uint32_t));
    p.mem[SK_MEMINFO_DROPS] = 1570;
    builder b;
    b.msg(SOCK_DIAG_BY_FAMILY, &p, sizeof p.m + p.a.nla_len).done();
    return b.bytes;
  };
  socket_table t;
  const auto whole = listener_with(SK_MEMINFO_VARS);
  parse_status st = rows_inet({whole, 0}, ours, IPPROTO_TCP, t);
  ASSERT_FALSE(st.error) << st.error.message();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.drops()[0], 1570u);
  t.clear();
  const auto cut = listener_with(SK_MEMINFO_DROPS);
  st = rows_inet({cut, 0}, ours, IPPROTO_TCP, t);
  EXPECT_TRUE(st.error);
  EXPECT_EQ(t.size(), 0u);
}

// A destroy event (sock_diag_broadcast_destroy): port id 0, sequence 0, and the protocol in
// INET_DIAG_PROTOCOL, which rows_inet reads when asked for protocol 0; without it the message
// is malformed.
TEST(DumpParserMalformed, DestroyEventsNameTheirProtocol) {
  auto event = [](bool with_protocol, std::uint8_t protocol) {
    struct {
      inet_diag_msg m{};
      nlattr a{};
      std::uint8_t proto[4]{};
    } p;
    p.m.idiag_family = AF_INET6;
    p.m.idiag_state = 7;
    p.m.id.idiag_sport = htons(53);
    p.a.nla_type = INET_DIAG_PROTOCOL;
    p.a.nla_len = sizeof(nlattr) + 1;
    p.proto[0] = protocol;
    builder b;
    b.msg(SOCK_DIAG_BY_FAMILY, &p, with_protocol ? sizeof p : sizeof p.m, 0, 0, 0);
    return b.bytes;
  };
  const reply_filter broadcast{0, 0, SOCK_DIAG_BY_FAMILY};
  socket_table t;
  const auto udp = event(true, IPPROTO_UDP);
  parse_status st = rows_inet({udp, 0}, broadcast, 0, t);
  ASSERT_FALSE(st.error) << st.error.message();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t.row(0).protocol, IPPROTO_UDP);
  EXPECT_EQ(t.row(0).sock_type, SOCK_DGRAM);
  EXPECT_EQ(t.row(0).local_port, 53);
  EXPECT_TRUE(t.row(0).dual_stack) << "no INET_DIAG_SKV6ONLY: IPV6_V6ONLY off, as ss assumes";
  t.clear();
  const auto bare = event(false, 0);
  st = rows_inet({bare, 0}, broadcast, 0, t);
  EXPECT_EQ(st.error, errc::bad_message);
  EXPECT_EQ(t.size(), 0u);
  // A dump's caller names the protocol; the attribute is then not needed.
  st = rows_inet({bare, 0}, broadcast, IPPROTO_TCP, t);
  EXPECT_FALSE(st.error);
}

TEST(DumpParserMalformed, ForeignSenderIsRejected) {
  builder b;
  b.inet(AF_INET, 1).done();
  EXPECT_EQ(count(b.bytes, 4242).error, errc::foreign_sender);
}

TEST(DumpParserMalformed, WrongSequenceNumberIsRejected) {
  builder b;
  b.inet(AF_INET, 1).inet(AF_INET, 1, /*seq=*/8);
  EXPECT_EQ(count(b.bytes).error, errc::seq_mismatch);
}

TEST(DumpParserMalformed, WrongPortIdIsRejected) {
  builder b;
  b.inet(AF_INET, 1, 7, /*pid=*/100);
  EXPECT_EQ(count(b.bytes).error, errc::portid_mismatch);
}

TEST(DumpParserMalformed, TruncatedHeaderIsRejected) {
  builder b;
  b.inet(AF_INET, 1);
  b.bytes.resize(b.bytes.size() + 10);  // 10 bytes: less than a netlink header
  EXPECT_EQ(count(b.bytes).error, errc::truncated);
}

TEST(DumpParserMalformed, LengthPastTheBufferIsRejected) {
  builder b;
  b.inet(AF_INET, 1);
  b.bytes.resize(b.bytes.size() - 8);  // the message claims 8 bytes more than arrived
  EXPECT_EQ(count(b.bytes).error, errc::bad_message);
}

TEST(DumpParserMalformed, LengthBelowTheHeaderIsRejected) {
  builder b;
  b.inet(AF_INET, 1);
  nlmsghdr h{};
  std::memcpy(&h, b.bytes.data(), sizeof h);
  h.nlmsg_len = 8;  // would loop forever if trusted
  std::memcpy(b.bytes.data(), &h, sizeof h);
  EXPECT_EQ(count(b.bytes).error, errc::bad_message);
}

TEST(DumpParserMalformed, ShortSocketPayloadIsRejected) {
  builder b;
  inet_diag_msg m{};
  m.idiag_family = AF_INET;
  b.msg(SOCK_DIAG_BY_FAMILY, &m, sizeof m - 4);
  EXPECT_EQ(count(b.bytes).error, errc::bad_message);
}

TEST(DumpParserMalformed, ErrnoInsideDoneIsReported) {
  builder b;
  b.inet(AF_INET, 1).done(-ENOENT);
  const parse_status st = count(b.bytes);
  EXPECT_EQ(st.error, std::errc::no_such_file_or_directory) << st.error.message();
  EXPECT_FALSE(st.done);
}

TEST(DumpParserMalformed, ErrnoOutsideTheKernelsRangeIsMalformed) {
  // Found by the fuzzer: -INT_MIN overflows. The kernel's errnos are 1..4095 (MAX_ERRNO).
  for (int err : {INT_MIN, -4096}) {
    builder done;
    done.done(err);
    EXPECT_EQ(count(done.bytes).error, errc::bad_message) << err;
    builder error;
    error.error(err);
    EXPECT_EQ(count(error.bytes).error, errc::bad_message) << err;
  }
  builder max;
  max.done(-4095);
  EXPECT_EQ(count(max.bytes).error, (std::error_code{4095, std::system_category()}));
}

TEST(DumpParserMalformed, ShortDoneIsRejected) {
  builder b;
  b.msg(NLMSG_DONE, nullptr, 0);
  EXPECT_EQ(count(b.bytes).error, errc::bad_message);
}

TEST(DumpParserMalformed, NetlinkErrorIsReported) {
  builder b;
  b.error(-EINVAL);
  EXPECT_EQ(count(b.bytes).error, std::errc::invalid_argument);
  builder ack;
  ack.error(0);
  EXPECT_EQ(count(ack.bytes).error, errc::unexpected_message) << "a dump does not ask for ACKs";
}

TEST(DumpParserMalformed, InterruptedDumpIsAnError) {
  builder b;
  inet_diag_msg m{};
  m.idiag_family = AF_INET;
  m.idiag_state = 1;
  b.msg(SOCK_DIAG_BY_FAMILY, &m, sizeof m, 7, 99, NLM_F_MULTI | NLM_F_DUMP_INTR);
  EXPECT_EQ(count(b.bytes).error, errc::dump_interrupted);
}

TEST(DumpParserMalformed, UnknownFamilyAndStateAreRejected) {
  builder fam;
  fam.inet(AF_UNIX, 1);
  EXPECT_EQ(count(fam.bytes).error, errc::bad_message);
  builder st;
  st.inet(AF_INET, 16);
  EXPECT_EQ(count(st.bytes).error, errc::bad_state);
  builder ok;
  ok.inet(AF_INET, 15).done();  // inside 0..15: counted, shown by the renderer as STATE_15
  std::array<state_counts, 2> c;
  EXPECT_FALSE(count(ok.bytes, 0, &c).error);
  EXPECT_EQ(c[0][15], 1u);
}

TEST(DumpParserMalformed, UnexpectedMessageTypeIsRejected) {
  builder b;
  inet_diag_msg m{};
  b.msg(TCPDIAG_GETSOCK, &m, sizeof m);
  EXPECT_EQ(count(b.bytes).error, errc::unexpected_message);
}

TEST(DumpParserMalformed, NothingMayFollowDone) {
  builder b;
  b.done().inet(AF_INET, 1);
  EXPECT_EQ(count(b.bytes).error, errc::bad_message);
}

TEST(DumpParserMalformed, UnixAttributePastTheMessageIsRejected) {
  builder b;
  struct {
    unix_diag_msg m;
    nlattr a;
    char name[8];
  } p{};
  p.m.udiag_family = AF_UNIX;
  p.m.udiag_type = SOCK_STREAM;
  p.m.udiag_state = 10;
  p.a.nla_type = UNIX_DIAG_NAME;
  p.a.nla_len = sizeof(nlattr) + 64;  // claims more than the message holds
  b.msg(SOCK_DIAG_BY_FAMILY, &p, sizeof p);
  socket_table t;
  EXPECT_EQ(rows_unix({b.bytes, 0}, ours, t).error, errc::bad_message);
  EXPECT_EQ(t.size(), 0u);
  // The counting path reads no attributes, so the same message counts.
  unix_counts u;
  EXPECT_FALSE(count_unix({b.bytes, 0}, ours, u).error);
  EXPECT_EQ(u.by_type[SOCK_STREAM], 1u);
}

TEST(DumpParserMalformed, UnixNameLongerThanSunPathIsRejected) {
  builder b;
  struct {
    unix_diag_msg m;
    nlattr a;
    char name[120];
  } p{};
  p.m.udiag_family = AF_UNIX;
  p.m.udiag_type = SOCK_STREAM;
  p.a.nla_type = UNIX_DIAG_NAME;
  p.a.nla_len = sizeof(nlattr) + sizeof p.name;
  b.msg(SOCK_DIAG_BY_FAMILY, &p, sizeof p);
  socket_table t;
  EXPECT_EQ(rows_unix({b.bytes, 0}, ours, t).error, errc::bad_message);
}

// Builds a unix_diag message with a name attribute.
std::vector<std::byte> unix_with_name(std::string_view name) {
  builder b;
  std::vector<std::byte> p(sizeof(unix_diag_msg) + NLA_ALIGN(sizeof(nlattr) + name.size()));
  unix_diag_msg m{};
  m.udiag_family = AF_UNIX;
  m.udiag_type = SOCK_STREAM;
  m.udiag_state = 10;
  m.udiag_ino = 42;
  std::memcpy(p.data(), &m, sizeof m);
  nlattr a{};
  a.nla_type = UNIX_DIAG_NAME;
  a.nla_len = static_cast<std::uint16_t>(sizeof(nlattr) + name.size());
  std::memcpy(p.data() + sizeof m, &a, sizeof a);
  std::memcpy(p.data() + sizeof m + sizeof a, name.data(), name.size());
  b.msg(SOCK_DIAG_BY_FAMILY, p.data(), p.size());
  return b.bytes;
}

TEST(DumpParserUnixNames, ShownAsProcNetUnixShowsThem) {
  // A pathname arrives with its terminating NUL; an abstract name starts with NUL and may hold
  // more; /proc/net/unix shows neither terminator and '@' for every NUL of an abstract name.
  const std::pair<std::string_view, std::string_view> cases[] = {
      {std::string_view("/run/x.sock\0", 12), "/run/x.sock"},
      {std::string_view("\0abs\0tract", 10), "@abs@tract"},
      {std::string_view("\0", 1), "@"},
  };
  for (const auto& [wire_name, shown] : cases) {
    socket_table t;
    ASSERT_FALSE(rows_unix({unix_with_name(wire_name), 0}, ours, t).error);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t.path(0), shown);
    EXPECT_EQ(t.inode()[0], 42u);
  }
}

// Every prefix of a real datagram: an error, or (cut on a message boundary) the messages
// before the cut. Never a crash (ASan watches), never a count from a partial message.
TEST(DumpParserMalformed, EveryTruncationOfARealDatagram) {
  const recorded_dump d = fixture("tcp4");
  const auto& full = d.datagrams.front().bytes;
  std::set<std::size_t> boundaries = {0};
  for (std::size_t off = 0; off < full.size();) {
    nlmsghdr h{};
    std::memcpy(&h, full.data() + off, sizeof h);
    off += NLMSG_ALIGN(h.nlmsg_len);
    boundaries.insert(off);
  }
  for (std::size_t n = 0; n <= full.size(); ++n) {
    std::vector<std::byte> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    std::array<state_counts, 2> c;
    const parse_status st = count_inet({cut, 0}, filter_of(d), c);
    if (boundaries.count(n)) {
      EXPECT_FALSE(st.error) << "cut at a boundary, " << n;
      EXPECT_EQ(c[0].total(), st.sockets);
    } else {
      EXPECT_TRUE(st.error) << "cut inside a message at " << n;
    }
  }
}

// Random corruption of real datagrams: any outcome but a crash or an out-of-bounds read.
TEST(DumpParserMalformed, RandomCorruptionNeverCrashes) {
  std::mt19937 rng(1);
  for (const char* name : {"tcp4", "unix-rows", "tcp4-many"}) {
    const recorded_dump d = fixture(name);
    for (const auto& g : d.datagrams) {
      for (int round = 0; round < 300; ++round) {
        std::vector<std::byte> b = g.bytes;
        for (int k = 0; k < 4; ++k) b[rng() % b.size()] = static_cast<std::byte>(rng());
        std::array<state_counts, 2> c;
        unix_counts u;
        socket_table ti, tu;
        const datagram dg{b, 0};
        // Whatever the outcome, what was counted is exactly what was consumed.
        const parse_status a = count_inet(dg, filter_of(d), c);
        ASSERT_EQ(c[0].total() + c[1].total(), a.sockets);
        const parse_status bu = count_unix(dg, filter_of(d), u);
        ASSERT_EQ(u.total(), bu.sockets);
        const parse_status ri = rows_inet(dg, filter_of(d), IPPROTO_TCP, ti);
        ASSERT_EQ(ti.size(), ri.sockets);
        const parse_status ru = rows_unix(dg, filter_of(d), tu);
        ASSERT_EQ(tu.size(), ru.sockets);
      }
    }
  }
}

TEST(RequestBuilder, LaysOutAnInetDiagRequest) {
  dump_request r;
  r.family = AF_INET6;
  r.protocol = IPPROTO_TCP;
  r.states = all_tcp_states;
  std::array<std::byte, max_request_head> buf;
  const request_layout n = build_request(r, 1234, buf);
  ASSERT_EQ(n.head, NLMSG_HDRLEN + sizeof(inet_diag_req_v2));
  EXPECT_EQ(n.total, n.head);
  nlmsghdr h{};
  std::memcpy(&h, buf.data(), sizeof h);
  EXPECT_EQ(h.nlmsg_len, n.total);
  EXPECT_EQ(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(h.nlmsg_seq, 1234u);
  inet_diag_req_v2 req{};
  std::memcpy(&req, buf.data() + NLMSG_HDRLEN, sizeof req);
  EXPECT_EQ(req.sdiag_family, AF_INET6);
  EXPECT_EQ(req.sdiag_protocol, IPPROTO_TCP);
  EXPECT_EQ(req.idiag_ext, 0) << "counting asks for no extensions";
  EXPECT_EQ(req.idiag_states, 0xfffu);
  std::array<std::byte, 16> small;
  EXPECT_EQ(build_request(r, 1, small).head, 0u);
}

// The bytecode is not copied into the head: the head ends with the attribute's header and the
// message length counts the bytecode, up to the 16-bit attribute length's limit.
TEST(RequestBuilder, CarriesBytecodeOfAnySizeTheAttributeAllows) {
  for (const std::size_t size : {std::size_t{8}, std::size_t{112}, std::size_t{4000},
                                 std::size_t{60000}, max_request_bytecode}) {
    std::vector<std::byte> code(size, std::byte{0x5A});
    dump_request r;
    r.what = dump_request::kind::inet_legacy;
    r.protocol = IPPROTO_TCP;
    r.bytecode = code;
    std::array<std::byte, max_request_head> buf;
    const request_layout n = build_request(r, 7, buf);
    ASSERT_EQ(n.head, NLMSG_HDRLEN + sizeof(inet_diag_req) + sizeof(nlattr)) << size;
    EXPECT_EQ(n.total, n.head + size);
    nlmsghdr h{};
    std::memcpy(&h, buf.data(), sizeof h);
    EXPECT_EQ(h.nlmsg_len, n.total);
    EXPECT_EQ(h.nlmsg_type, TCPDIAG_GETSOCK);
    nlattr a{};
    std::memcpy(&a, buf.data() + n.head - sizeof a, sizeof a);
    EXPECT_EQ(a.nla_type, INET_DIAG_REQ_BYTECODE);
    EXPECT_EQ(a.nla_len, sizeof a + size);
  }
  // Past the attribute's limit, or not whole ops: refused, nothing to send.
  for (const std::size_t size : {max_request_bytecode + 4, std::size_t{10}}) {
    std::vector<std::byte> code(size);
    dump_request r;
    r.bytecode = code;
    std::array<std::byte, max_request_head> buf;
    EXPECT_EQ(build_request(r, 7, buf).head, 0u) << size;
  }
}

TEST(RequestBuilder, LaysOutAUnixDiagRequest) {
  dump_request r;
  r.what = dump_request::kind::unix_domain;
  r.unix_show = unix_show_rows;
  std::array<std::byte, max_request_head> buf;
  const request_layout n = build_request(r, 5, buf);
  ASSERT_EQ(n.head, NLMSG_HDRLEN + sizeof(unix_diag_req));
  unix_diag_req req{};
  std::memcpy(&req, buf.data() + NLMSG_HDRLEN, sizeof req);
  EXPECT_EQ(req.sdiag_family, AF_UNIX);
  EXPECT_EQ(req.udiag_states, 0xffffffffu);
  EXPECT_EQ(req.udiag_show, static_cast<std::uint32_t>(UDIAG_SHOW_NAME | UDIAG_SHOW_PEER |
                                                       UDIAG_SHOW_RQLEN | UDIAG_SHOW_UID));
}

// ss -K's request: SOCK_DESTROY with an acknowledgement, and the socket's identity as the
// dump gave it (network-order ports, IPv4 in the first word, the cookie low word first).
TEST(RequestBuilder, LaysOutASockDestroyRequest) {
  socket_row r;
  r.family = AF_INET;
  r.protocol = IPPROTO_TCP;
  r.local_addr = {127, 0, 0, 1};
  r.peer_addr = {10, 1, 2, 3};
  r.local_port = 443;
  r.peer_port = 50000;
  r.ifindex = 7;
  r.cookie = 0x1122334455667788ull;
  std::array<std::byte, destroy_request_size> buf;
  ASSERT_EQ(build_destroy(r, 9, buf), sizeof(nlmsghdr) + sizeof(inet_diag_req_v2));
  nlmsghdr h{};
  std::memcpy(&h, buf.data(), sizeof h);
  EXPECT_EQ(h.nlmsg_type, SOCK_DESTROY);
  EXPECT_EQ(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(h.nlmsg_seq, 9u);
  EXPECT_EQ(h.nlmsg_len, buf.size());
  inet_diag_req_v2 req{};
  std::memcpy(&req, buf.data() + NLMSG_HDRLEN, sizeof req);
  EXPECT_EQ(req.sdiag_family, AF_INET);
  EXPECT_EQ(req.sdiag_protocol, IPPROTO_TCP);
  EXPECT_EQ(req.id.idiag_sport, htons(443));
  EXPECT_EQ(req.id.idiag_dport, htons(50000));
  EXPECT_EQ(std::memcmp(req.id.idiag_src, r.local_addr.data(), 4), 0);
  EXPECT_EQ(req.id.idiag_src[1], 0u) << "IPv4 uses the first word only";
  EXPECT_EQ(std::memcmp(req.id.idiag_dst, r.peer_addr.data(), 4), 0);
  EXPECT_EQ(req.id.idiag_if, 7u);
  EXPECT_EQ(req.id.idiag_cookie[0], 0x55667788u);
  EXPECT_EQ(req.id.idiag_cookie[1], 0x11223344u);
  // Neither a UNIX socket nor a short buffer makes a request.
  socket_row u;
  u.family = AF_UNIX;
  EXPECT_EQ(build_destroy(u, 1, buf), 0u);
  std::array<std::byte, 8> small;
  EXPECT_EQ(build_destroy(r, 1, small), 0u);
}

// inet_diag resumes a dump by bucket and position (KERNEL-NOTES); an insertion at the head
// of a chain ahead of the resume point hands the sockets before it out again, in order, at the
// start of the next batch. Here: a dump of 40 sockets in two datagrams, the second opening
// with the first's last socket (one insertion before the datagram boundary), and two sockets
// repeated at a 16-socket batch boundary inside it (two insertions).
std::vector<std::vector<std::byte>> resumed_dump() {
  builder first, second;
  for (std::uint64_t c = 1; c <= 20; ++c) first.sock(0x1000 + c);
  second.sock(0x1000 + 20);  // the boundary repeat
  for (std::uint64_t c = 21; c <= 36; ++c) second.sock(0x1000 + c);
  second.sock(0x1000 + 35).sock(0x1000 + 36);  // two insertions, the batch resumed two early
  for (std::uint64_t c = 37; c <= 40; ++c) second.sock(0x1000 + c);
  second.done();
  return {first.bytes, second.bytes};
}

TEST(DumpRepeats, ARepeatAtADatagramBoundaryIsCountedOnce) {
  const auto dump = resumed_dump();
  std::array<state_counts, 2> plain, guarded;
  repeat_guard guard;
  std::uint32_t repeats = 0;
  for (const auto& g : dump) {
    ASSERT_FALSE(count_inet({g, 0}, ours, plain).error);
    const parse_status st = count_inet({g, 0}, ours, guarded, &guard);
    ASSERT_FALSE(st.error) << st.error.message();
    repeats += st.repeats;
  }
  // Without the guard the dump says 43 sockets: what a count above the truth looks like.
  EXPECT_EQ(plain[0][tcp_state::established], 43u);
  EXPECT_EQ(guarded[0][tcp_state::established], 40u);
  EXPECT_EQ(repeats, 3u);
  EXPECT_EQ(guard.dropped(), 3u);
}

TEST(DumpRepeats, ListingsAndPortKeysDropTheSameRepeats) {
  const auto dump = resumed_dump();
  socket_table t;
  repeat_guard rows_guard, keys_guard;
  std::array<state_counts, 2> c;
  std::array<std::uint64_t, 256> keys{};
  for (const auto& g : dump) {
    ASSERT_FALSE(rows_inet({g, 0}, ours, IPPROTO_TCP, t, &rows_guard).error);
    ASSERT_FALSE(count_inet_keys({g, 0}, ours, c, keys, 32768, &keys_guard).error);
  }
  ASSERT_EQ(t.size(), 40u);
  std::set<std::uint64_t> cookies(t.cookie().begin(), t.cookie().end());
  EXPECT_EQ(cookies.size(), 40u) << "each socket once";
  EXPECT_EQ(rows_guard.dropped(), 3u);
  std::uint64_t keyed = 0;
  for (auto k : keys) keyed += k;
  EXPECT_EQ(keyed, 40u);
}

TEST(DumpRepeats, UnixDumpsAreGuardedToo) {
  builder b;
  for (std::uint32_t c : {7u, 8u, 9u, 9u, 10u}) {
    unix_diag_msg m{};
    m.udiag_family = AF_UNIX;
    m.udiag_type = SOCK_STREAM;
    m.udiag_state = 1;
    m.udiag_ino = c;
    m.udiag_cookie[0] = c;
    b.msg(SOCK_DIAG_BY_FAMILY, &m, sizeof m);
  }
  b.done();
  unix_counts u;
  repeat_guard guard;
  const parse_status st = count_unix({b.bytes, 0}, ours, u, &guard);
  ASSERT_FALSE(st.error);
  EXPECT_EQ(st.sockets, 5u);
  EXPECT_EQ(st.repeats, 1u);
  EXPECT_EQ(u.total(), 4u);
  socket_table t;
  repeat_guard rows_guard;
  ASSERT_FALSE(rows_unix({b.bytes, 0}, ours, t, &rows_guard).error);
  EXPECT_EQ(t.size(), 4u);
}

TEST(DumpRepeats, WhatTheGuardCannotKnow) {
  // No cookies (a dump recorded or built without them): nothing is a repeat.
  builder none;
  for (int i = 0; i < 5; ++i) none.inet(AF_INET, 1);
  none.done();
  std::array<state_counts, 2> c;
  repeat_guard guard;
  ASSERT_FALSE(count_inet({none.bytes, 0}, ours, c, &guard).error);
  EXPECT_EQ(c[0][tcp_state::established], 5u);
  // A socket handed out again further back than the window (more insertions into one chain
  // between two batches than it holds) is counted again: the documented limit.
  builder far;
  for (std::uint64_t k = 1; k <= repeat_guard::window + 1; ++k) far.sock(k);
  far.sock(1).done();
  std::array<state_counts, 2> f;
  repeat_guard far_guard;
  ASSERT_FALSE(count_inet({far.bytes, 0}, ours, f, &far_guard).error);
  EXPECT_EQ(f[0][tcp_state::established], repeat_guard::window + 2);
  EXPECT_EQ(far_guard.dropped(), 0u);
  // Within the window, whatever the distance.
  builder near;
  for (std::uint64_t k = 1; k <= repeat_guard::window; ++k) near.sock(k);
  near.sock(1).done();
  repeat_guard near_guard;
  std::array<state_counts, 2> n;
  ASSERT_FALSE(count_inet({near.bytes, 0}, ours, n, &near_guard).error);
  EXPECT_EQ(n[0][tcp_state::established], repeat_guard::window);
}

// packet_diag rows: the protocol as bound (host order), the interface, uid and Recv-Q from the
// attributes the request asks for; a meminfo too short for RMEM_ALLOC is malformed.
TEST(DumpParserOtherTables, PacketRowsCarryProtocolInterfaceAndQueue) {
  auto packet = [](std::uint16_t len_meminfo) {
    struct {
      packet_diag_msg m{};
      nlattr info_a{};
      packet_diag_info info{};
      nlattr uid_a{};
      std::uint32_t uid = 0;
      nlattr mem_a{};
      std::uint32_t mem[SK_MEMINFO_VARS]{};
    } p;
    p.m.pdiag_family = AF_PACKET;
    p.m.pdiag_type = SOCK_DGRAM;
    p.m.pdiag_num = ETH_P_IP;
    p.m.pdiag_ino = 4242;
    p.m.pdiag_cookie[0] = 7;
    p.info_a = {static_cast<std::uint16_t>(sizeof(nlattr) + sizeof p.info), PACKET_DIAG_INFO};
    p.info.pdi_index = 3;
    p.uid_a = {static_cast<std::uint16_t>(sizeof(nlattr) + 4), PACKET_DIAG_UID};
    p.uid = 1000;
    p.mem_a = {static_cast<std::uint16_t>(sizeof(nlattr) + len_meminfo), PACKET_DIAG_MEMINFO};
    p.mem[SK_MEMINFO_RMEM_ALLOC] = 1666;
    builder b;
    b.msg(SOCK_DIAG_BY_FAMILY, &p, sizeof p - sizeof p.mem + len_meminfo).done();
    return b.bytes;
  };
  socket_table t;
  const auto whole = packet(SK_MEMINFO_VARS * 4);
  parse_status st = rows_packet({whole, 0}, ours, t);
  ASSERT_FALSE(st.error) << st.error.message();
  EXPECT_TRUE(st.done);
  ASSERT_EQ(t.size(), 1u);
  const socket_row r = t.row(0);
  EXPECT_EQ(r.family, AF_PACKET);
  EXPECT_EQ(r.sock_type, SOCK_DGRAM);
  EXPECT_EQ(r.state, static_cast<std::uint8_t>(tcp_state::close));
  EXPECT_EQ(r.local_port, ETH_P_IP);
  EXPECT_EQ(r.ifindex, 3u);
  EXPECT_EQ(r.uid, 1000u);
  EXPECT_EQ(r.recv_q, 1666u);
  EXPECT_EQ(r.inode, 4242u);
  EXPECT_EQ(r.cookie, 7u);
  t.clear();
  const auto cut = packet(SK_MEMINFO_RMEM_ALLOC * 4);
  st = rows_packet({cut, 0}, ours, t);
  EXPECT_EQ(st.error, errc::bad_message);
  EXPECT_EQ(t.size(), 0u);
}

// netlink_diag rows: protocol, the port ids (a connected socket's peer too), queues.
TEST(DumpParserOtherTables, NetlinkRowsCarryPortIdsAndQueues) {
  struct {
    netlink_diag_msg m{};
    nlattr mem_a{};
    std::uint32_t mem[SK_MEMINFO_VARS]{};
  } p;
  p.m.ndiag_family = AF_NETLINK;
  p.m.ndiag_type = SOCK_DGRAM;
  p.m.ndiag_protocol = NETLINK_ROUTE;
  p.m.ndiag_state = 1;            // NETLINK_CONNECTED
  p.m.ndiag_portid = 0xb6d4a434;  // an autobound id: negative as int
  p.m.ndiag_dst_portid = 0;
  p.m.ndiag_dst_group = 5;
  p.m.ndiag_ino = 99;
  p.m.ndiag_cookie[0] = 3;
  p.mem_a = {static_cast<std::uint16_t>(sizeof(nlattr) + sizeof p.mem), NETLINK_DIAG_MEMINFO};
  p.mem[SK_MEMINFO_RMEM_ALLOC] = 4352;
  p.mem[SK_MEMINFO_WMEM_ALLOC] = 12;
  builder b;
  b.msg(SOCK_DIAG_BY_FAMILY, &p, sizeof p).done();
  socket_table t;
  const parse_status st = rows_netlink({b.bytes, 0}, ours, t);
  ASSERT_FALSE(st.error) << st.error.message();
  ASSERT_EQ(t.size(), 1u);
  const socket_row r = t.row(0);
  EXPECT_EQ(r.family, AF_NETLINK);
  EXPECT_EQ(r.protocol, NETLINK_ROUTE);
  EXPECT_EQ(r.recv_q, 4352u);
  EXPECT_EQ(r.send_q, 12u);
  const netlink_ends e = netlink_ends_of(r);
  EXPECT_EQ(e.portid, 0xb6d4a434u);
  EXPECT_TRUE(e.connected);
  EXPECT_EQ(e.dst_portid, 0u);
  EXPECT_EQ(e.dst_group, 5u);
  // A message of another family is not a netlink socket's.
  p.m.ndiag_family = AF_UNIX;
  builder bad;
  bad.msg(SOCK_DIAG_BY_FAMILY, &p, sizeof p).done();
  EXPECT_EQ(rows_netlink({bad.bytes, 0}, ours, t).error, errc::bad_message);
}

// The requests ss sends for packet and netlink sockets (ss.c packet_show_netlink,
// netlink_show_netlink).
TEST(RequestBuilder, LaysOutPacketAndNetlinkRequests) {
  std::array<std::byte, max_request_head> buf;
  dump_request r;
  r.what = dump_request::kind::packet;
  r.show = packet_show_rows;
  request_layout n = build_request(r, 9, buf);
  ASSERT_EQ(n.head, NLMSG_HDRLEN + sizeof(packet_diag_req));
  packet_diag_req pr{};
  std::memcpy(&pr, buf.data() + NLMSG_HDRLEN, sizeof pr);
  EXPECT_EQ(pr.sdiag_family, AF_PACKET);
  EXPECT_EQ(pr.pdiag_show,
            static_cast<std::uint32_t>(PACKET_SHOW_INFO | PACKET_SHOW_MEMINFO | PACKET_SHOW_FILTER |
                                       PACKET_SHOW_RING_CFG | PACKET_SHOW_FANOUT));
  r.what = dump_request::kind::netlink;
  r.show = netlink_show_rows;
  n = build_request(r, 9, buf);
  ASSERT_EQ(n.head, NLMSG_HDRLEN + sizeof(netlink_diag_req));
  netlink_diag_req nr{};
  std::memcpy(&nr, buf.data() + NLMSG_HDRLEN, sizeof nr);
  EXPECT_EQ(nr.sdiag_family, AF_NETLINK);
  EXPECT_EQ(nr.sdiag_protocol, NDIAG_PROTO_ALL);
  EXPECT_EQ(nr.ndiag_show, static_cast<std::uint32_t>(NDIAG_SHOW_GROUPS | NDIAG_SHOW_MEMINFO));
  // Bytecode is inet_diag's alone: a packet request carries none.
  const std::array<std::byte, 4> code{};
  r.what = dump_request::kind::packet;
  r.bytecode = code;
  n = build_request(r, 9, buf);
  EXPECT_EQ(n.total, n.head);
}

}  // namespace
}  // namespace ssfast::netlink
