// SPDX-License-Identifier: Apache-2.0
// The ss filter language: parsing, errors with positions, state sets, evaluation (with the
// kernel's IPv4-mapped rule), and address text.
#include "ssfast/core/filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ssfast/core/addresses.h"

namespace ssfast {
namespace {

filter_parse_result parse(std::initializer_list<std::string_view> args) {
  return parse_filter(std::vector<std::string_view>(args));
}

socket_filter must(std::initializer_list<std::string_view> args) {
  auto r = parse(args);
  EXPECT_TRUE(r.filter) << r.error;
  return r.filter ? *r.filter : socket_filter{};
}

socket_row v4(const char* laddr, std::uint16_t lport, const char* paddr, std::uint16_t pport) {
  socket_row r;
  r.family = 2;
  EXPECT_TRUE(parse_ipv4(laddr, r.local_addr));
  EXPECT_TRUE(parse_ipv4(paddr, r.peer_addr));
  r.local_port = lport;
  r.peer_port = pport;
  return r;
}

socket_row v6(const char* laddr, std::uint16_t lport, const char* paddr, std::uint16_t pport) {
  socket_row r;
  r.family = 10;
  EXPECT_TRUE(parse_ipv6(laddr, r.local_addr));
  EXPECT_TRUE(parse_ipv6(paddr, r.peer_addr));
  r.local_port = lport;
  r.peer_port = pport;
  return r;
}

TEST(FilterParse, StatesAndGroupsAsSs) {
  EXPECT_FALSE(must({}).states);
  EXPECT_EQ(must({"state", "established"}).states, 1u << 1);
  EXPECT_EQ(must({"state", "time-wait", "state", "syn-recv"}).states, (1u << 6) | (1u << 3));
  EXPECT_EQ(must({"state", "bucket"}).states, (1u << 3) | (1u << 6));
  EXPECT_EQ(must({"exclude", "listening"}).states, 0xFFEu & ~(1u << 10));
  EXPECT_EQ(must({"state", "connected"}).states, 0xFFEu & ~((1u << 7) | (1u << 10)));
  EXPECT_EQ(must({"state", "synchronized"}).states, 0xFFEu & ~((1u << 7) | (1u << 10) | (1u << 2)));
  EXPECT_EQ(must({"state", "big"}).states, 0xFFEu & ~((1u << 3) | (1u << 6)));
  EXPECT_EQ(must({"state", "all"}).states, 0xFFEu);
  EXPECT_EQ(state_set("closed"), 1u << 7);
  EXPECT_FALSE(state_set("establishd"));
}

TEST(FilterParse, ExpressionsAndPrecedence) {
  const socket_filter f =
      must({"sport", "=", ":443", "or", "dport", ">=", "1024", "and", "not", "dst", "10.0.0.0/8"});
  ASSERT_TRUE(f.root);
  // As ss's grammar (ssfilter.y), left to right: ((443 or >= 1024) and not 10/8).
  EXPECT_EQ(f.nodes[*f.root].what, filter_node::kind::and_);
  EXPECT_FALSE(matches_expression(f, v4("1.1.1.1", 443, "10.1.1.1", 5)));
  EXPECT_TRUE(matches_expression(f, v4("1.1.1.1", 443, "11.1.1.1", 5)));
  EXPECT_TRUE(matches_expression(f, v4("1.1.1.1", 80, "11.1.1.1", 5000)));
  EXPECT_FALSE(matches_expression(f, v4("1.1.1.1", 80, "10.1.1.1", 5000)));
  EXPECT_FALSE(matches_expression(f, v4("1.1.1.1", 80, "11.1.1.1", 1000)));
  // and then or: ((22 and dport 1) or dport 7).
  const socket_filter ao = must({"sport = :22 and dport = :1 or dport = :7"});
  EXPECT_TRUE(matches_expression(ao, v4("1.1.1.1", 5, "2.2.2.2", 7)));
  EXPECT_FALSE(matches_expression(ao, v4("1.1.1.1", 5, "2.2.2.2", 1)));
  // One argument or many: the same filter.
  const socket_filter g = must({"( sport = :22 or sport = :443 ) and dport != :5000"});
  EXPECT_TRUE(matches_expression(g, v4("1.1.1.1", 22, "2.2.2.2", 1)));
  EXPECT_FALSE(matches_expression(g, v4("1.1.1.1", 22, "2.2.2.2", 5000)));
  EXPECT_FALSE(matches_expression(g, v4("1.1.1.1", 23, "2.2.2.2", 1)));
  const socket_filter h = must({"sport", "gt", "1000", "&&", "sport", "lt", "2000"});
  EXPECT_TRUE(matches_expression(h, v4("1.1.1.1", 1500, "2.2.2.2", 1)));
  EXPECT_FALSE(matches_expression(h, v4("1.1.1.1", 1000, "2.2.2.2", 1)));
  EXPECT_FALSE(matches_expression(h, v4("1.1.1.1", 2000, "2.2.2.2", 1)));
  // Empty ranges never match; >= 0 always does.
  EXPECT_FALSE(matches_expression(must({"sport > 65535"}), v4("1.1.1.1", 65535, "2.2.2.2", 1)));
  EXPECT_FALSE(matches_expression(must({"sport < 0"}), v4("1.1.1.1", 0, "2.2.2.2", 1)));
}

TEST(FilterParse, HostsAndMappedAddresses) {
  const socket_filter net = must({"dst", "127.0.0.0/8"});
  EXPECT_TRUE(matches_expression(net, v4("1.1.1.1", 1, "127.5.6.7", 2)));
  EXPECT_FALSE(matches_expression(net, v4("1.1.1.1", 1, "128.0.0.1", 2)));
  // An IPv4 condition matches ::ffff:a.b.c.d, as the kernel's inet_diag_bc_run does.
  EXPECT_TRUE(matches_expression(net, v6("::1", 1, "::ffff:127.0.0.1", 2)));
  EXPECT_FALSE(matches_expression(net, v6("::1", 1, "::1", 2)));
  const socket_filter hp = must({"src", "[::1]:443"});
  EXPECT_TRUE(matches_expression(hp, v6("::1", 443, "::1", 2)));
  EXPECT_FALSE(matches_expression(hp, v6("::1", 444, "::1", 2)));
  EXPECT_FALSE(matches_expression(hp, v4("127.0.0.1", 443, "1.1.1.1", 2)));
  const socket_filter port_only = must({"src", ":443"});
  EXPECT_TRUE(matches_expression(port_only, v4("9.9.9.9", 443, "1.1.1.1", 2)));
  EXPECT_TRUE(matches_expression(port_only, v6("2001:db8::1", 443, "::1", 2)));
  const socket_filter v6net = must({"src", "[2001:db8::]/32"});
  EXPECT_TRUE(matches_expression(v6net, v6("2001:db8:1::5", 1, "::1", 2)));
  EXPECT_FALSE(matches_expression(v6net, v6("2001:db9::5", 1, "::1", 2)));
  EXPECT_TRUE(matches_expression(must({"dst", "10.1.2.3:80"}), v4("1.1.1.1", 1, "10.1.2.3", 80)));
  EXPECT_TRUE(matches_expression(must({"dst", "*"}), v4("1.1.1.1", 1, "10.1.2.3", 80)));
  // UNIX sockets have no ports or addresses.
  socket_row ux;
  ux.family = 1;
  EXPECT_FALSE(matches_expression(port_only, ux));
  EXPECT_TRUE(matches_expression(must({}), ux));
}

TEST(FilterParse, ErrorsNameTheTokenAndPosition) {
  EXPECT_EQ(parse({"sport", "=", ":https"}).error,
            "filter: ':https' is not a port number (0..65535; service names are not looked up) "
            "at position 9");
  EXPECT_EQ(parse({"state", "establishd"}).error,
            "filter: unknown state 'establishd' at position 7");
  EXPECT_EQ(parse({"(", "sport", "=", "1"}).error, "filter: expected ')' at the end (position 12)");
  EXPECT_EQ(parse({"sport", "=", "1", ")"}).error, "filter: unexpected ')' at position 11");
  EXPECT_EQ(parse({"dst", "300.1.1.1"}).error,
            "filter: '300.1.1.1' is not an address: bad IPv4 address at position 5");
  EXPECT_EQ(parse({"dst", "10.0.0.0/33"}).error,
            "filter: '10.0.0.0/33' is not an address: bad prefix length '33' at position 5");
  EXPECT_EQ(parse({"frobnicate"}).error,
            "filter: unknown condition 'frobnicate' (expected sport, dport, src, dst, dev, fwmark, "
            "cgroup, autobound, not or '(') "
            "at position 1");
  EXPECT_EQ(parse({"sport", "=", "1", "state", "listening"}).error,
            "filter: 'state' must come before the expression at position 11");
  EXPECT_EQ(parse({"sport"}).error, "filter: expected a port at the end (position 6)");
  std::string deep(100, '(');
  EXPECT_NE(parse({deep}).error.find("nesting deeper than 64"), std::string::npos);
  // Long runs of one operator are fine (built balanced); switching and/or at every term 600
  // times is refused before evaluation could recurse that deep.
  std::string long_chain = "sport = 1";
  for (int i = 0; i < 3000; ++i) long_chain += " or sport = 1";
  EXPECT_TRUE(parse({long_chain}).filter) << parse({long_chain}).error;
  std::string zigzag = "sport = 1";
  for (int i = 0; i < 600; ++i) zigzag += i % 2 ? " or sport = 1" : " and sport = 1";
  EXPECT_NE(parse({zigzag}).error.find("more than 512 levels"), std::string::npos);
}

// ssfilter.y, rule by rule: each form ss accepts, with ss's meaning.
TEST(FilterParse, EveryFormOfSsGrammar) {
  const socket_row r = v4("10.0.0.1", 22, "10.0.0.2", 50312);
  // eq is optional, and '=' '==' 'eq' are one token, for ports and for hosts alike.
  for (const char* text : {"dport = 50312", "dport 50312", "dport == :50312", "dport eq 50312",
                           "src = 10.0.0.1", "src 10.0.0.1", "src == 10.0.0.1", "src eq 10.0.0.1",
                           "dst = 10.0.0.2:50312", "dst 10.0.0.0/24"})
    EXPECT_TRUE(matches_expression(must({text}), r)) << text;
  // Comparisons in every spelling: GEQ (>= ge geq), LEQ (<= le leq), '>' (gt), '<' (lt),
  // NEQ (!= ne neq).
  for (const char* text :
       {"sport >= 22", "sport ge 22", "sport geq 22", "sport <= 22", "sport le 22", "sport leq 22",
        "sport > 21", "sport gt 21", "sport < 23", "sport lt 23", "sport != 23", "sport ne 23",
        "sport neq 23", "dport > :50311", "sport = *", "sport = :*"})
    EXPECT_TRUE(matches_expression(must({text}), r)) << text;
  for (const char* text : {"sport geq 23", "sport leq 21", "sport neq 22", "sport != *"})
    EXPECT_FALSE(matches_expression(must({text}), r)) << text;
  // '!' and 'not' bind to the next expression only; '(' exprlist ')'.
  EXPECT_TRUE(matches_expression(must({"! sport = 1 and dport = 50312"}), r));
  EXPECT_TRUE(matches_expression(must({"not ( sport = 1 or dport = 1 )"}), r));
  EXPECT_TRUE(matches_expression(must({"( src 0.0.0.0 or src 10.0.0.1 ) and dst 10.0.0.2"}), r));
  EXPECT_TRUE(matches_expression(must({"src 10.0.0.1 and sport = 22 and ( dport = 50312 )"}), r));
  // dev, fwmark and cgroup take eq (optional) or NEQ; autobound stands alone. Only the kernel
  // can judge them for an inet socket; a parse without names takes numbers only.
  for (const char* text : {"dev = 3", "dev 0x3", "dev != 3", "dev neq 4", "fwmark = 0x31",
                           "fwmark 49", "fwmark 061", "fwmark ne 0x30/0xf0", "autobound"}) {
    const socket_filter f = must({text});
    EXPECT_TRUE(needs_kernel_judgement(f)) << text;
  }
  EXPECT_FALSE(needs_kernel_judgement(must({"sport = 22 or dst 10.0.0.2"})));
  EXPECT_EQ(parse({"dev = eth0"}).error,
            "filter: 'eth0' is not an interface (no interface of that name, not an index) at "
            "position 7");
  EXPECT_EQ(parse({"fwmark 0x1/0x"}).error,
            "filter: '0x1/0x' is not a mark (MARK or MARK/MASK, numbers up to 0xffffffff) at "
            "position 8");
  EXPECT_NE(parse({"fwmark 4294967296"}).error.find("'4294967296' is not a mark"),
            std::string::npos);
  EXPECT_EQ(parse({"cgroup /system.slice"}).error,
            "filter: '/system.slice': cgroup paths are not looked up at position 8");
  EXPECT_EQ(parse({"dev ="}).error, "filter: expected an interface at the end (position 6)");
  {
    const socket_filter f = must({"fwmark ne 0x30/0xf0"});
    ASSERT_EQ(f.nodes.size(), 2u);
    EXPECT_EQ(f.nodes[0].what, filter_node::kind::mark);
    EXPECT_EQ(f.nodes[0].value, 0x30u);
    EXPECT_EQ(f.nodes[0].mask, 0xf0u);
    EXPECT_EQ(f.nodes[1].what, filter_node::kind::not_);
    EXPECT_EQ(must({"fwmark 061"}).nodes[0].value, 49u);
    EXPECT_EQ(must({"fwmark 7"}).nodes[0].mask, 0xffffffffu);
  }
  // A device condition reads the row's bound interface; an inet row is judged unmarked, in no
  // cgroup and bound explicitly (the kernel's bytecode judges them for real).
  socket_row bound = r;
  bound.ifindex = 3;
  EXPECT_TRUE(matches_expression(must({"dev 3"}), bound));
  EXPECT_FALSE(matches_expression(must({"dev 3"}), r));
  EXPECT_TRUE(matches_expression(must({"dev 0"}), r));
  EXPECT_TRUE(matches_expression(must({"fwmark 0/0x1"}), r));
  EXPECT_FALSE(matches_expression(must({"fwmark 1"}), r));
  EXPECT_FALSE(matches_expression(must({"autobound"}), r));  // 22: not in 1024-4999
  EXPECT_TRUE(matches_expression(must({"autobound"}), v4("10.0.0.1", 4000, "10.0.0.2", 80)));
  EXPECT_NE(parse({"sport > *"}).error.find("goes with = or != only"), std::string::npos);
}

// Names: services and hosts through the caller's resolver; ss's address-family prefixes.
std::int32_t fake_service(std::string_view n) {
  return n == "https" ? 443 : n == "ambiguous" ? -2 : -1;
}
std::vector<std::pair<std::uint8_t, address_bytes>> fake_host(std::string_view n) {
  std::vector<std::pair<std::uint8_t, address_bytes>> out;
  if (n != "db.example") return out;
  address_bytes a{}, b{};
  parse_ipv4("10.0.0.2", a);
  parse_ipv6("2001:db8::2", b);
  out.push_back({2, a});
  out.push_back({10, b});
  return out;
}

TEST(FilterParse, NamesAndFamilyPrefixes) {
  const filter_resolver names{&fake_service, &fake_host};
  auto with_names = [&](std::string_view text) {
    auto r = parse_filter({&text, 1}, names);
    EXPECT_TRUE(r.filter) << text << ": " << r.error;
    return r.filter ? *r.filter : socket_filter{};
  };
  auto error_with_names = [&](std::string_view text) {
    return parse_filter({&text, 1}, names).error;
  };
  EXPECT_TRUE(matches_expression(with_names("dport = :https"), v4("1.1.1.1", 5, "2.2.2.2", 443)));
  EXPECT_TRUE(matches_expression(with_names("dst *:https"), v4("1.1.1.1", 5, "2.2.2.2", 443)));
  EXPECT_EQ(error_with_names("sport ambiguous"),
            "filter: 'ambiguous' names a different port for TCP and UDP at position 7");
  EXPECT_EQ(error_with_names("sport = :nosuch"),
            "filter: ':nosuch' is not a port number (0..65535) or a known service name at "
            "position 9");
  // A host name: any of its addresses, with the port if given.
  const socket_filter db = with_names("dst db.example:80");
  EXPECT_TRUE(matches_expression(db, v4("1.1.1.1", 5, "10.0.0.2", 80)));
  EXPECT_TRUE(matches_expression(db, v6("::1", 5, "2001:db8::2", 80)));
  EXPECT_FALSE(matches_expression(db, v4("1.1.1.1", 5, "10.0.0.3", 80)));
  EXPECT_FALSE(matches_expression(db, v4("1.1.1.1", 5, "10.0.0.2", 81)));
  EXPECT_EQ(error_with_names("dst nosuch.example"),
            "filter: 'nosuch.example' is not an address and its name does not resolve at "
            "position 5");
  EXPECT_EQ(parse({"dst", "db.example"}).error,
            "filter: 'db.example' is not an address: host names are not looked up at position 5");
  // inet: and inet6: narrow the condition and the listing to one family.
  const socket_filter v4only = with_names("dst inet:db.example");
  EXPECT_EQ(v4only.family, std::optional<std::uint8_t>(2));
  EXPECT_FALSE(matches_expression(v4only, v6("::1", 5, "2001:db8::2", 80)));
  EXPECT_TRUE(matches_expression(v4only, v4("1.1.1.1", 5, "10.0.0.2", 80)));
  const socket_filter any6 = with_names("src inet6:*");
  EXPECT_EQ(any6.family, std::optional<std::uint8_t>(10));
  EXPECT_TRUE(matches_expression(any6, v6("2001:db8::9", 5, "::1", 80)));
  EXPECT_FALSE(matches_expression(any6, v4("1.1.1.1", 5, "10.0.0.2", 80)));
  EXPECT_TRUE(
      matches_expression(with_names("src inet:127.0.0.1:22"), v4("127.0.0.1", 22, "1.1.1.1", 1)));
  EXPECT_EQ(error_with_names("src inet:[::1]"),
            "filter: 'inet:[::1]' is not an address of that family at position 5");
  for (const char* other : {"link:", "netlink:", "vsock:"})
    EXPECT_EQ(error_with_names(std::string("dst ") + other + "x"),
              "filter: '" + std::string(other) +
                  "' addresses are not supported by ssfast at "
                  "position 5");
}

// UNIX sockets as ss's run_ssfilter judges them: names as case-insensitive fnmatch patterns
// (unix:PATTERN, or any address after -x), autobound when unnamed or named by autobind, no
// device, mark 0, no cgroup, and no peer name over netlink.
socket_row unix_socket(std::string_view path) {
  socket_row r;
  r.family = 1;
  r.sock_type = 1;
  r.path = path;
  return r;
}

std::uint32_t fake_interface(std::string_view n) { return n == "lo" ? 1 : 0; }
std::uint64_t fake_cgroup(std::string_view p) { return p == "/system.slice" ? 77 : 0; }

TEST(FilterParse, UnixNamesAndSocketConditions) {
  const socket_filter run = must({"src unix:/run/*.SOCK"});
  EXPECT_EQ(run.family, std::optional<std::uint8_t>(1));
  EXPECT_TRUE(matches_expression(run, unix_socket("/run/docker.sock")));
  EXPECT_FALSE(matches_expression(run, unix_socket("/var/run/docker.sock")));
  EXPECT_FALSE(matches_expression(run, unix_socket("")));
  EXPECT_FALSE(matches_expression(run, v4("1.1.1.1", 5, "2.2.2.2", 443)));
  // With ss -x's preferred family, a plain address is a pattern too.
  const std::string_view text = "src @ssfast*";
  const auto x = parse_filter({&text, 1}, {}, 1);
  ASSERT_TRUE(x.filter) << x.error;
  EXPECT_TRUE(matches_expression(*x.filter, unix_socket("@ssfast-test")));
  EXPECT_FALSE(matches_expression(*x.filter, unix_socket("@other")));
  // ss 6.1 knows no peer's name over netlink: dst matches the empty name.
  EXPECT_TRUE(matches_expression(must({"dst unix:*"}), unix_socket("/run/a.sock")));
  EXPECT_FALSE(matches_expression(must({"dst unix:/run/*"}), unix_socket("/run/a.sock")));
  // autobound: unnamed, or "@" and five hex digits (unix_autobind).
  const socket_filter autobound = must({"autobound"});
  EXPECT_TRUE(matches_expression(autobound, unix_socket("")));
  EXPECT_TRUE(matches_expression(autobound, unix_socket("@0a1f3")));
  EXPECT_FALSE(matches_expression(autobound, unix_socket("@0a1f")));
  EXPECT_FALSE(matches_expression(autobound, unix_socket("@0A1F3")));
  EXPECT_FALSE(matches_expression(autobound, unix_socket("/run/a.sock")));
  EXPECT_TRUE(matches_expression(must({"dev 0 and fwmark 0"}), unix_socket("/a")));
  EXPECT_FALSE(matches_expression(must({"dev 1"}), unix_socket("/a")));
  EXPECT_FALSE(matches_expression(must({"fwmark 1/0x1"}), unix_socket("/a")));
  // Interface names and cgroup paths through the resolver.
  filter_resolver names;
  names.interface = &fake_interface;
  names.cgroup = &fake_cgroup;
  names.ephemeral_range = [](std::uint16_t& lo, std::uint16_t& hi) {
    lo = 40000;
    hi = 50000;
    return true;
  };
  auto with_names = [&](std::string_view t) {
    auto p = parse_filter({&t, 1}, names);
    EXPECT_TRUE(p.filter) << t << ": " << p.error;
    return p.filter ? *p.filter : socket_filter{};
  };
  EXPECT_EQ(with_names("dev lo").nodes[0].value, 1u);
  EXPECT_EQ(with_names("dev 7").nodes[0].value, 7u);  // not a name: an index, as ss
  EXPECT_EQ(with_names("cgroup = /system.slice").nodes[0].value, 77u);
  EXPECT_FALSE(matches_expression(with_names("cgroup /system.slice"), unix_socket("/a")));
  const filter_node ab = with_names("autobound").nodes[0];
  EXPECT_EQ(ab.lo, 40000);
  EXPECT_EQ(ab.hi, 50000);
  EXPECT_EQ(must({"autobound"}).nodes[0].lo, 1024);  // ss's fallback range
  const std::string_view bad = "cgroup /nope";
  EXPECT_EQ(parse_filter({&bad, 1}, names).error,
            "filter: '/nope' is not a cgroup (a directory under the cgroup2 mount) at position 8");
}

TEST(Addresses, ParseAndPrintRoundTrip) {
  for (const char* text : {"::", "::1", "1::", "2001:db8::1", "2001:db8:0:1:1:1:1:1", "fe80::1:2",
                           "::ffff:127.0.0.1", "1:0:0:2::3"}) {
    address_bytes a;
    ASSERT_TRUE(parse_ipv6(text, a)) << text;
    std::string out;
    append_address(out, 10, a);
    EXPECT_EQ(out, text);
  }
  address_bytes a;
  ASSERT_TRUE(parse_ipv6("2001:DB8:0:0:1:0:0:1", a));
  std::string out;
  append_address(out, 10, a);
  EXPECT_EQ(out, "2001:db8::1:0:0:1") << "the first of equal zero runs, lower case";
  for (const char* bad :
       {":::", "1:2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::", "::1.2.3", "1:"}) {
    EXPECT_FALSE(parse_ipv6(bad, a)) << bad;
  }
  ASSERT_TRUE(parse_ipv4("192.0.2.33", a));
  out.clear();
  append_address(out, 2, a);
  EXPECT_EQ(out, "192.0.2.33");
  for (const char* bad : {"1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", ""})
    EXPECT_FALSE(parse_ipv4(bad, a)) << bad;
}

// ss's default states, as iproute2 6.1's ss.c computes them (filter_db_set, filter_af_set).
TEST(SsDefaultStates, AsSsComputesThem) {
  constexpr auto bit = [](int s) { return 1u << s; };
  const std::uint32_t conn = 0xFFEu & ~(bit(10) | bit(7) | bit(6) | bit(3));
  auto states = [](listing_selection s) { return ss_default_states(s); };
  EXPECT_EQ(states({}), conn) << "plain ss: connected sockets of every table";
  EXPECT_EQ(states({.tcp = true}), conn) << "ss -t: connected, not TIME_WAIT or SYN_RECV";
  EXPECT_EQ(states({.udp = true}), bit(1)) << "ss -u: established only";
  EXPECT_EQ(states({.unix_domain = true}), conn);
  EXPECT_EQ(states({.tcp = true, .udp = true}), conn);
  EXPECT_EQ(states({.listening = true, .tcp = true}), bit(10) | bit(7));
  EXPECT_EQ(states({.all = true, .udp = true}), 0xFFEu);
  EXPECT_EQ(states({.all = true, .listening = true}), 0xFFEu) << "with both, every state";
  EXPECT_EQ(states({.raw = true}), bit(1)) << "ss -w: established, as UDP";
  EXPECT_EQ(states({.packet = true}), bit(7)) << "ss -0: every packet socket is UNCONN";
  EXPECT_EQ(states({.netlink = true}), bit(7));
  EXPECT_EQ(states({.mptcp = true}), conn) << "ss -M: connected, as TCP";
  EXPECT_EQ(states({.tcp = true, .packet = true}), conn | bit(7));
  EXPECT_EQ(states({.listening = true, .packet = true}), bit(10) | bit(7));
}

}  // namespace
}  // namespace ssfast
