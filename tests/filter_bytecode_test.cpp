// SPDX-License-Identifier: Apache-2.0
// Compiled filters: the kernel's audit accepts every program, and the bytecode interpreter
// (inet_diag_bc_run's rules) agrees with the userspace evaluator on random filters and sockets,
// IPv4-mapped addresses included.
#include "ssfast/netlink/filter_bytecode.h"

#include <gtest/gtest.h>

#include <random>

#include "ssfast/core/addresses.h"
#include "ssfast/core/filter.h"
#include "ssfast/netlink/bytecode.h"

namespace ssfast::netlink {
namespace {

struct generator {
  std::mt19937 rng{12345};
  std::uint32_t pick(std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); }

  // A small pool, so conditions and sockets often meet.
  static constexpr std::uint16_t ports[] = {0, 1, 22, 80, 443, 1023, 1024, 32768, 50000, 65535};
  address_bytes address(std::uint8_t family) {
    static const char* v4s[] = {"127.0.0.1", "10.0.0.1", "10.200.3.4", "192.168.1.1", "0.0.0.0"};
    static const char* v6s[] = {
        "::1", "2001:db8::1", "2001:db8:ffff::2", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::"};
    address_bytes a;
    if (family == 2)
      parse_ipv4(v4s[pick(5)], a);
    else
      parse_ipv6(v6s[pick(6)], a);
    return a;
  }

  std::uint16_t node(socket_filter& f, int depth) {
    filter_node n;
    const std::uint32_t k = depth >= 4 ? pick(2) : pick(6);
    n.on = pick(2) ? filter_node::side::src : filter_node::side::dst;
    if (k == 5) {  // a condition on the socket itself
      const std::uint32_t which = pick(4);
      n.what = which == 0   ? filter_node::kind::device
               : which == 1 ? filter_node::kind::mark
               : which == 2 ? filter_node::kind::cgroup
                            : filter_node::kind::autobound;
      n.value = pick(3);
      n.mask = pick(2) ? 0xffffffffu : 0x2u;
      n.lo = 1024;
      n.hi = 50000;
    } else if (k == 0) {
      n.what = filter_node::kind::port_range;
      n.lo = ports[pick(10)];
      n.hi = ports[pick(10)];  // sometimes lo > hi: an empty range
    } else if (k == 1) {
      n.what = filter_node::kind::host;
      const std::uint32_t fam = pick(3);
      n.family = fam == 0 ? 0 : fam == 1 ? 2 : 10;
      n.port = pick(2) ? -1 : ports[pick(10)];
      if (n.family != 0) {
        n.addr = address(n.family);
        n.prefix_len = static_cast<std::uint8_t>(pick(n.family == 2 ? 33 : 129));
      }
    } else {
      n.what = k == 2   ? filter_node::kind::and_
               : k == 3 ? filter_node::kind::or_
                        : filter_node::kind::not_;
      n.a = node(f, depth + 1);
      if (k != 4) n.b = node(f, depth + 1);
    }
    f.nodes.push_back(n);
    return static_cast<std::uint16_t>(f.nodes.size() - 1);
  }

  socket_row socket() {
    socket_row r;
    r.family = pick(2) ? 2 : 10;
    r.local_addr = address(r.family);
    r.peer_addr = address(r.family);
    r.local_port = ports[pick(10)];
    r.peer_port = ports[pick(10)];
    r.ifindex = pick(3);
    return r;
  }
};

TEST(FilterBytecode, AgreesWithTheEvaluatorOnRandomFiltersAndSockets) {
  generator g;
  std::size_t programs = 0, both = 0, neither = 0;
  for (int i = 0; i < 3000; ++i) {
    socket_filter f;
    f.root = g.node(f, 0);
    std::vector<std::byte> code;
    ASSERT_FALSE(compile_filter(f, code));
    if (!code.empty()) {
      ++programs;
      ASSERT_TRUE(audit_bytecode(code)) << "program " << i;
    }
    for (int j = 0; j < 40; ++j) {
      const socket_row r = g.socket();
      const bool want = matches_expression(f, r);
      // The evaluator judges an inet row unmarked, in no cgroup, autobound by its port alone:
      // an entry with mark 0, cgroup 0 and no bind lock.
      bytecode_entry e{r.family, r.local_addr, r.peer_addr, r.local_port, r.peer_port};
      e.ifindex = r.ifindex;
      e.port_locked = false;
      const bool got = code.empty() || run_bytecode(code, e);
      ASSERT_EQ(got, want) << "program " << i << " socket " << j;
      (want ? both : neither) += 1;
    }
  }
  EXPECT_GT(programs, 2500u);
  EXPECT_GT(both, 10000u) << "both outcomes must be common for this to test anything";
  EXPECT_GT(neither, 10000u);
}

TEST(FilterBytecode, ParsedFiltersCompile) {
  for (const char* text : {"sport = :443", "dport >= 1024 and dport <= 2048",
                           "not ( src 10.0.0.0/8 or dst [2001:db8::]/32 )", "src :22",
                           "dst 127.0.0.1:80 or dst ::ffff:127.0.0.1"}) {
    const std::string_view arg = text;
    auto r = parse_filter({&arg, 1});
    ASSERT_TRUE(r.filter) << r.error;
    std::vector<std::byte> code;
    ASSERT_FALSE(compile_filter(*r.filter, code));
    EXPECT_FALSE(code.empty());
    EXPECT_TRUE(audit_bytecode(code)) << text;
  }
  // Always true: no program at all.
  const std::string_view all = "sport >= 0";
  auto r = parse_filter({&all, 1});
  std::vector<std::byte> code{std::byte{1}};
  ASSERT_FALSE(compile_filter(*r.filter, code));
  EXPECT_TRUE(code.empty());
}

// DEV_COND, MARK_COND, CGROUP_COND and AUTO as inet_diag_bc_run judges them, with the operand
// after the op (unaligned for the cgroup id), and as inet_diag_bc_audit checks them.
TEST(FilterBytecode, ConditionsOnTheSocketItself) {
  auto program = [](std::string_view text) {
    auto r = parse_filter({&text, 1});
    EXPECT_TRUE(r.filter) << r.error;
    std::vector<std::byte> code;
    EXPECT_FALSE(compile_filter(*r.filter, code));
    EXPECT_TRUE(audit_bytecode(code)) << text;
    return code;
  };
  bytecode_entry e;
  e.sport = 40000;
  e.ifindex = 2;
  e.mark = 0x31;
  e.cgroup = 0x1122334455667788ull;
  e.port_locked = false;
  EXPECT_TRUE(run_bytecode(program("dev 2"), e));
  EXPECT_FALSE(run_bytecode(program("dev 3"), e));
  EXPECT_TRUE(run_bytecode(program("dev != 3"), e));
  EXPECT_TRUE(run_bytecode(program("fwmark 0x31"), e));
  EXPECT_TRUE(run_bytecode(program("fwmark 0x30/0xf0"), e));
  EXPECT_FALSE(run_bytecode(program("fwmark 0x30"), e));
  // The autobound program also asks for an ephemeral local port, as ss checks again.
  EXPECT_FALSE(run_bytecode(program("autobound"), e));  // 1024-4999 without a resolver
  e.sport = 4000;
  EXPECT_TRUE(run_bytecode(program("autobound"), e));
  e.port_locked = true;
  EXPECT_FALSE(run_bytecode(program("autobound"), e));
  EXPECT_TRUE(run_bytecode(program("not autobound and dev 2 and fwmark 49"), e));
  socket_filter f;
  filter_node cg;
  cg.what = filter_node::kind::cgroup;
  cg.value = 0x1122334455667788ull;
  f.nodes.push_back(cg);
  f.root = 0;
  std::vector<std::byte> code;
  ASSERT_FALSE(compile_filter(f, code));
  EXPECT_EQ(code.size(), 12u);  // op and the u64, packed as ss sends it
  EXPECT_TRUE(audit_bytecode(code));
  EXPECT_TRUE(run_bytecode(code, e));
  e.cgroup = 1;
  EXPECT_FALSE(run_bytecode(code, e));
  // An operand cut short is refused, as valid_markcond and valid_cgroupcond refuse it.
  code.resize(8);
  EXPECT_FALSE(audit_bytecode(code));
}

TEST(FilterBytecode, TooLongIsAnError) {
  // 2,047 IPv6 host conditions (28 bytes each, 4 per JMP) fit the 65528 bytes one request
  // carries; 2,048 do not.
  auto filter_of = [](int terms) {
    std::string text = "dst [2001:db8::1]/128:80";
    for (int i = 1; i < terms; ++i) text += " or dst [2001:db8::1]/128:80";
    const std::string_view arg = text;
    auto r = parse_filter({&arg, 1});
    EXPECT_TRUE(r.filter) << r.error;
    return std::move(*r.filter);
  };
  std::vector<std::byte> code;
  ASSERT_FALSE(compile_filter(filter_of(2047), code));
  EXPECT_EQ(code.size(), 2047u * 28 + 2046u * 4);
  EXPECT_TRUE(audit_bytecode(code));
  EXPECT_EQ(compile_filter(filter_of(2048), code), ssfast::errc::filter_too_large);
  // A hand-built chain deeper than max_filter_depth is refused, not recursed into.
  socket_filter f;
  filter_node leaf;
  leaf.what = filter_node::kind::port_range;
  leaf.hi = 80;
  f.nodes.push_back(leaf);
  std::uint16_t root = 0;
  for (int i = 0; i < 5000; ++i) {
    filter_node n;
    n.what = filter_node::kind::not_;
    n.a = root;
    f.nodes.push_back(n);
    root = static_cast<std::uint16_t>(f.nodes.size() - 1);
  }
  f.root = root;
  EXPECT_EQ(compile_filter(f, code), ssfast::errc::filter_too_large);
}

}  // namespace
}  // namespace ssfast::netlink
