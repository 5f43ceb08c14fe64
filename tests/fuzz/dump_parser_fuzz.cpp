// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: one datagram through every sock_diag parser. The reply filter is taken from
// the input's first header, so the fuzzer gets past the port id and sequence checks.
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cstring>

#include "ssfast/netlink/dump_parser.h"
#include "ssfast/report/listing.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ssfast;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  netlink::reply_filter f;
  if (size >= sizeof(nlmsghdr)) {
    nlmsghdr h;
    std::memcpy(&h, data, sizeof h);
    f.portid = h.nlmsg_pid;
    f.seq = h.nlmsg_seq;
  }
  const netlink::datagram d{bytes, 0};
  std::array<state_counts, 2> c;
  unix_counts u;
  socket_table t;
  // Invariant on every input: what is counted is exactly what was consumed.
  if (netlink::count_inet(d, f, c).sockets != c[0].total() + c[1].total()) __builtin_trap();
  if (netlink::count_unix(d, f, u).sockets != u.total()) __builtin_trap();
  // Minisockets are some of the sockets counted, never more.
  std::array<state_counts, 2> cm;
  netlink::minisocket_counts m;
  if (netlink::count_inet_minisockets(d, f, cm, m).sockets != cm[0].total() + cm[1].total() ||
      cm != c)
    __builtin_trap();
  for (std::size_t k = 0; k < 2; ++k)
    if (m.timewait[k] + m.request[k] > cm[k].total()) __builtin_trap();
  if (netlink::rows_inet(d, f, IPPROTO_TCP, t).sockets != t.size()) __builtin_trap();
  // Every row, attributes kept, through every detail a listing prints (-e -o -m -i --tos
  // --cgroup, text and JSON): attributes are decoded by the renderer, so they are fuzzed too.
  listing_style all;
  all.extended = all.timers = all.memory = all.tcp_info = all.tos = all.cgroup = true;
  all.numeric = false;
  std::string out;
  socket_table kept;
  kept.keep_attributes(true);
  if (netlink::rows_inet(d, f, IPPROTO_TCP, kept).sockets != kept.size()) __builtin_trap();
  render_listing_text(kept, all, out);
  render_listing_json(kept, all, out);
  t.clear();
  if (netlink::rows_unix(d, f, t).sockets != t.size()) __builtin_trap();
  kept.clear();
  if (netlink::rows_unix(d, f, kept).sockets != kept.size()) __builtin_trap();
  render_listing_text(kept, all, out);
  render_listing_json(kept, all, out);
  // Packet and netlink sockets, their attributes through -e, -b and -m.
  all.bpf = true;
  for (auto rows : {&netlink::rows_packet, &netlink::rows_netlink}) {
    t.clear();
    if (rows(d, f, t, nullptr).sockets != t.size()) __builtin_trap();
    kept.clear();
    if (rows(d, f, kept, nullptr).sockets != kept.size()) __builtin_trap();
    render_listing_text(kept, all, out);
    render_listing_json(kept, all, out);
  }
  return 0;
}
