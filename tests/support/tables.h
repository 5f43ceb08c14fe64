// SPDX-License-Identifier: Apache-2.0
// A hand-built socket table (a full listener, connections over IPv4, IPv4-mapped IPv6 and IPv6,
// a UNIX socket) and a fixed owner lookup, for the tests of what reads tables: listings, top.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ssfast/core/addresses.h"
#include "ssfast/core/owners.h"
#include "ssfast/core/socket_table.h"

namespace ssfast::testing {

inline socket_row tcp(std::uint8_t family, const char* l, std::uint16_t lp, const char* p,
                      std::uint16_t pp, std::uint8_t state) {
  socket_row r;
  r.family = family;
  r.protocol = 6;
  r.sock_type = 1;
  r.state = state;
  if (family == 2) {
    parse_ipv4(l, r.local_addr);
    parse_ipv4(p, r.peer_addr);
  } else {
    parse_ipv6(l, r.local_addr);
    parse_ipv6(p, r.peer_addr);
  }
  r.local_port = lp;
  r.peer_port = pp;
  return r;
}

inline socket_table sample() {
  socket_table t;
  socket_row listener = tcp(2, "0.0.0.0", 443, "0.0.0.0", 0, 10);
  listener.recv_q = 129;  // past the backlog: full
  listener.send_q = 128;
  listener.inode = 1000;
  t.append(listener);
  t.append(tcp(2, "10.0.0.1", 443, "192.0.2.7", 50000, 1));
  t.append(tcp(2, "10.0.0.1", 443, "192.0.2.7", 50001, 1));
  t.append(tcp(10, "::ffff:10.0.0.1", 443, "::ffff:192.0.2.7", 50002, 6));
  t.append(tcp(10, "2001:db8::1", 443, "2001:db8::9", 40000, 1));
  socket_row u;
  u.family = 1;
  u.sock_type = 1;
  u.state = 10;
  u.path = "@control";
  u.inode = 77;
  t.append(u);
  return t;
}

/// Inode 1000 (the listener) is held by nginx, pids 10 and 11.
struct fake_owners final : owner_lookup {
  std::span<const process_ref> owners(std::uint64_t inode,
                                      std::vector<process_ref>& scratch) const override {
    scratch.clear();
    if (inode == 1000) {
      scratch.push_back({10, 3, "nginx"});
      scratch.push_back({11, 3, "nginx"});
    }
    return scratch;
  }
};

}  // namespace ssfast::testing
