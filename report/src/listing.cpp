// Listings in ss's columns or JSON Lines.
#include "ssfast/core/kernel_abi.h"
#include "ssfast/report/listing.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "ssfast/core/addresses.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/report/json_writer.h"

namespace ssfast {
namespace {

using abi::af_inet;
using abi::af_inet6;
using abi::af_unix;
using abi::sock_dgram;
using abi::sock_seqpacket;
using abi::sock_stream;
constexpr std::uint8_t proto_tcp = abi::ipproto_tcp, proto_udp = abi::ipproto_udp;

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// "addr:port" as ss prints it numerically: IPv6 in brackets, port 0 of a peer as '*'.
void endpoint(std::string& out, const socket_row& r, bool local) {
  if (r.family == af_unix) {
    if (local) {
      // A path is bytes the socket's creator chose: escaped, so it cannot forge a line.
      if (r.path.empty()) {
        out.push_back('*');
      } else {
        append_printable(out, r.path);
      }
      out.push_back(' ');
      append_number(out, r.inode);
    } else {
      out += "* ";
      append_number(out, r.peer_inode);
    }
    return;
  }
  const address_bytes& a = local ? r.local_addr : r.peer_addr;
  const std::uint16_t port = local ? r.local_port : r.peer_port;
  // A dual-stack wildcard socket takes IPv4 too: ss prints it as "*".
  if (r.dual_stack && a == address_bytes{}) {
    out += "*:";
    if (!local && port == 0) {
      out.push_back('*');
    } else {
      append_number(out, port);
    }
    return;
  }
  append_endpoint(out, r.family, a, port, !local);
}

std::string_view timer_name(std::uint8_t t) noexcept {
  static constexpr std::array<std::string_view, 5> names = {"off", "on", "keepalive", "timewait",
                                                            "persist"};
  return t < names.size() ? names[t] : std::string_view("unknown");
}

// ss's print_ms_timer: "1min", "2.5sec", "200ms".
void append_ms(std::string& out, std::uint32_t ms) {
  const std::uint32_t minutes = ms / 60000, secs = ms / 1000 % 60;
  std::uint32_t msecs = ms % 1000;
  if (minutes > 0) {
    append_number(out, minutes);
    out += "min";
    msecs = 0;
    if (minutes > 9) return;
  }
  if (secs > 0) {
    append_number(out, secs);
    if (secs > 9) msecs = 0;
    out += msecs ? "." : "sec";
  }
  if (msecs > 0 || (minutes == 0 && secs == 0)) {
    char buf[4];
    buf[0] = static_cast<char>('0' + msecs / 100);
    buf[1] = static_cast<char>('0' + msecs / 10 % 10);
    buf[2] = static_cast<char>('0' + msecs % 10);
    out.append(buf, 3);
    out += "ms";
  }
}

struct cells {
  std::array<std::string, 6> c;  // netid, state, recv-q, send-q, local, peer
  std::string tail;              // process, extended, timers: not aligned
};

void make_cells(const socket_row& r, const listing_style& s, std::vector<process_ref>& scratch,
                cells& out) {
  for (auto& x : out.c) x.clear();
  out.tail.clear();
  out.c[0] = netid(r);
  out.c[1] = ss_state_name(r.state);
  append_number(out.c[2], r.recv_q);
  append_number(out.c[3], r.send_q);
  endpoint(out.c[4], r, true);
  endpoint(out.c[5], r, false);
  if (s.backlog_known && accept_queue_full(r)) out.tail = "accept-queue-full";
  if (s.owners != nullptr) {
    const auto owners = s.owners->owners(r.inode, scratch);
    if (!owners.empty()) {
      // ss's form: users:(("nginx",pid=123,fd=6),("nginx",pid=124,fd=6))
      if (!out.tail.empty()) out.tail.push_back(' ');
      out.tail += "users:(";
      for (std::size_t i = 0; i < owners.size(); ++i) {
        if (i > 0) out.tail.push_back(',');
        out.tail += "(\"";
        append_printable(out.tail, owners[i].comm, true);  // any user can name its process
        out.tail += "\",pid=";
        append_number(out.tail, owners[i].pid);
        out.tail += ",fd=";
        append_number(out.tail, static_cast<std::uint64_t>(owners[i].fd));
        out.tail.push_back(')');
      }
      out.tail.push_back(')');
    }
  }
  if (s.timers && r.family != af_unix && r.timer != 0) {
    if (!out.tail.empty()) out.tail.push_back(' ');
    out.tail += "timer:(";
    out.tail += timer_name(r.timer);
    out.tail.push_back(',');
    append_ms(out.tail, r.expires_ms);
    out.tail.push_back(',');
    append_number(out.tail, r.retrans);
    out.tail.push_back(')');
  }
  if (s.extended) {
    if (!out.tail.empty()) out.tail.push_back(' ');
    if (r.uid != 0) {
      out.tail += "uid:";
      append_number(out.tail, r.uid);
      out.tail.push_back(' ');
    }
    out.tail += "ino:";
    append_number(out.tail, r.inode);
    if (r.cookie != 0) {
      out.tail += " sk:";
      char buf[20];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, r.cookie, 16);
      out.tail.append(buf, end);
    }
  }
}

}  // namespace

bool accept_queue_full(const socket_row& r) noexcept {
  return r.state == static_cast<std::uint8_t>(tcp_state::listen) && r.recv_q > r.send_q;
}

std::string_view netid(const socket_row& r) noexcept {
  if (r.family == af_unix) {
    return r.sock_type == sock_stream      ? "u_str"
           : r.sock_type == sock_dgram     ? "u_dgr"
           : r.sock_type == sock_seqpacket ? "u_seq"
                                           : "u_???";
  }
  return r.protocol == proto_tcp ? "tcp" : r.protocol == proto_udp ? "udp" : "???";
}

std::string_view ss_state_name(std::uint8_t state) noexcept {
  static constexpr std::array<std::string_view, 12> names = {
      "UNKNOWN",   "ESTAB",  "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
      "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING"};
  state = netstat_fold(state);
  return state < names.size() ? names[state] : std::string_view("UNKNOWN");
}

void render_listing_text(const socket_table& t, const listing_style& s, std::string& out) {
  static constexpr std::array<std::string_view, 6> headers = {
      "Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"};
  const bool show[6] = {s.netid, s.state, true, true, true, true};
  // Widths first (one pass), then the lines (a second): no per-row storage.
  std::array<std::size_t, 6> width{};
  for (std::size_t k = 0; k < 6; ++k)
    if (s.header) width[k] = headers[k].size();
  std::vector<process_ref> scratch;
  cells c;
  listing_style no_tail = s;
  no_tail.owners = nullptr;
  no_tail.extended = no_tail.timers = false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    make_cells(t.row(i), no_tail, scratch, c);
    for (std::size_t k = 0; k < 6; ++k) width[k] = std::max(width[k], c.c[k].size());
  }
  auto line = [&](const std::array<std::string_view, 6>& cell, std::string_view tail) {
    std::size_t start = out.size();
    for (std::size_t k = 0; k < 6; ++k) {
      if (!show[k]) continue;
      if (out.size() > start) out.push_back(' ');
      out += cell[k];  // left-aligned, as ss prints every column
      out.append(width[k] - cell[k].size(), ' ');
    }
    if (!tail.empty()) {
      out.push_back(' ');
      out += tail;
    }
    while (out.size() > start && out.back() == ' ') out.pop_back();
    out.push_back('\n');
  };
  if (s.header) line(headers, s.owners != nullptr ? "Process" : "");
  for (std::size_t i = 0; i < t.size(); ++i) {
    make_cells(t.row(i), s, scratch, c);
    line({c.c[0], c.c[1], c.c[2], c.c[3], c.c[4], c.c[5]}, c.tail);
  }
}

void render_listing_json(const socket_table& t, const listing_style& s, std::string& out) {
  std::vector<process_ref> scratch;
  std::string addr;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const socket_row r = t.row(i);
    json_writer w(out);
    w.begin_object();
    const bool unix_domain = r.family == af_unix;
    w.key("proto").value(unix_domain               ? std::string_view("unix")
                         : r.protocol == proto_tcp ? std::string_view("tcp")
                                                   : std::string_view("udp"));
    if (unix_domain) w.key("type").value(netid(r));
    w.key("family").value(unix_domain           ? std::string_view("unix")
                          : r.family == af_inet ? std::string_view("ipv4")
                                                : std::string_view("ipv6"));
    const std::string_view name = netstat_name(r.state);
    w.key("state").value(name.empty() ? std::string_view("UNKNOWN") : name);
    if (unix_domain) {
      w.key("local_addr").value(r.path);
      w.key("local_port").null();
      w.key("peer_addr").null();
      w.key("peer_port").null();
      w.key("path").value(r.path);
      w.key("peer_inode").value(r.peer_inode);
    } else {
      addr.clear();
      append_address(addr, r.family, r.local_addr);
      w.key("local_addr").value(addr);
      w.key("local_port").value(std::uint64_t{r.local_port});
      addr.clear();
      append_address(addr, r.family, r.peer_addr);
      w.key("peer_addr").value(addr);
      w.key("peer_port").value(std::uint64_t{r.peer_port});
    }
    w.key("recv_q").value(std::uint64_t{r.recv_q});
    w.key("send_q").value(std::uint64_t{r.send_q});
    if (r.state == static_cast<std::uint8_t>(tcp_state::listen)) {
      w.key("accept_queue_full");
      if (s.backlog_known) {
        w.value(accept_queue_full(r));
      } else {
        w.null();  // /proc: Send-Q is not the backlog, so fullness is unknown
      }
    }
    w.key("inode").value(r.inode);
    w.key("uid").value(std::uint64_t{r.uid});
    if (s.extended) w.key("cookie").value(r.cookie);
    if (s.timers && !unix_domain) {
      w.key("timer").begin_object();
      w.key("name").value(timer_name(r.timer));
      w.key("expires_ms").value(std::uint64_t{r.expires_ms});
      w.key("retrans").value(std::uint64_t{r.retrans});
      w.end_object();
    }
    if (s.owners != nullptr) {
      w.key("process").begin_array();
      for (const process_ref& p : s.owners->owners(r.inode, scratch)) {
        w.begin_object();
        w.key("pid").value(std::uint64_t{p.pid});
        w.key("comm").value(p.comm);
        w.key("fd").value(std::int64_t{p.fd});
        w.end_object();
      }
      w.end_array();
    }
    w.end_object();
    out.push_back('\n');
  }
}

}  // namespace ssfast
