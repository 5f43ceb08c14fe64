// SPDX-License-Identifier: Apache-2.0
// Listings in ss's columns or JSON Lines.
#include "ssfast/report/listing.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <new>

#include "socket_details.h"
#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/report/escape.h"
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

// ss's cells for an inet socket's address ("127.0.0.1:", "[::1]:", "*:", with "%dev" for a
// socket bound to a device: the local address only) and port (a service name unless numeric,
// '*' for port 0), ss.c inet_addr_print and resolve_service.
void inet_address(std::string& out, const socket_row& r, bool local, const listing_style& s) {
  const address_bytes& a = local ? r.local_addr : r.peer_addr;
  const std::string_view host =
      s.resolve && s.names != nullptr && !(r.dual_stack && a == address_bytes{})
          ? s.names->host(r.family, a)
          : std::string_view();
  // A dual-stack wildcard socket takes IPv4 too: ss prints it as "*".
  if (r.dual_stack && a == address_bytes{}) {
    out.push_back('*');
  } else if (!host.empty()) {
    append_printable(out, host);  // a name from DNS is anyone's text
  } else if (r.family == af_inet6) {
    out.push_back('[');
    append_address(out, r.family, a);
    out.push_back(']');
  } else {
    append_address(out, r.family, a);
  }
  if (local && r.ifindex != 0) {
    out.push_back('%');
    if (s.names != nullptr) {
      append_printable(out, s.names->interface_name(r.ifindex));
    } else {
      out += "if";
      append_number(out, r.ifindex);
    }
  }
  out.push_back(':');
}

void inet_port(std::string& out, const socket_row& r, bool local, const listing_style& s) {
  const std::uint16_t port = local ? r.local_port : r.peer_port;
  if (port == 0) {
    out.push_back('*');
    return;
  }
  // A raw socket's port is the IP protocol it takes, named as ss.c resolve_service names it
  // (inet_proto_n2a).
  if (r.protocol == abi::ipproto_raw && !s.numeric && s.names != nullptr && port < 256) {
    append_printable(out, s.names->ip_protocol(static_cast<std::uint8_t>(port)));
    return;
  }
  if (!s.numeric && s.names != nullptr) {
    const std::string_view name = s.names->service(port, r.protocol);
    if (!name.empty()) {
      append_printable(out, name);
      return;
    }
  }
  append_number(out, port);
}

// iproute2's ll_proto_n2a names (lib/ll_proto.c), by ethertype: what ss prints for the
// protocol a packet socket takes; "[N]" for any other, or with -n.
std::string_view ethertype_name(std::uint16_t id) noexcept {
  static constexpr std::pair<std::uint16_t, std::string_view> names[] = {
      {0x0060, "loop"},      {0x0200, "pup"},      {0x0201, "pupat"},     {0x0800, "ip"},
      {0x0805, "x25"},       {0x0806, "arp"},      {0x08FF, "bpq"},       {0x0a00, "ieeepup"},
      {0x0a01, "ieeepupat"}, {0x6000, "dec"},      {0x6001, "dna_dl"},    {0x6002, "dna_rc"},
      {0x6003, "dna_rt"},    {0x6004, "lat"},      {0x6005, "diag"},      {0x6006, "cust"},
      {0x6007, "sca"},       {0x8035, "rarp"},     {0x809B, "atalk"},     {0x80F3, "aarp"},
      {0x8137, "ipx"},       {0x86DD, "ipv6"},     {0x8863, "ppp_disc"},  {0x8864, "ppp_ses"},
      {0x884C, "atmmpoa"},   {0x8884, "atmfate"},  {0x0001, "802_3"},     {0x0002, "ax25"},
      {0x0003, "all"},       {0x0004, "802_2"},    {0x0005, "snap"},      {0x0006, "ddcmp"},
      {0x0007, "wan_ppp"},   {0x0008, "ppp_mp"},   {0x0009, "localtalk"}, {0x000C, "can"},
      {0x0010, "ppptalk"},   {0x0011, "tr_802_2"}, {0x0015, "mobitex"},   {0x0016, "control"},
      {0x0017, "irda"},      {0x0018, "econet"},   {0x88CA, "tipc"},      {0x88A2, "aoe"},
      {0x8100, "802.1Q"},    {0x88A8, "802.1ad"},  {0x8847, "mpls_uc"},   {0x8848, "mpls_mc"},
      {0x6558, "teb"},       {0x88CC, "LLDP"}};
  for (const auto& [n, name] : names)
    if (n == id) return name;
  return {};
}

// iproute2's nl_proto_n2a names (lib/rt_names.c), by netlink protocol.
std::string_view netlink_protocol_name(std::uint16_t p) noexcept {
  static constexpr std::array<std::string_view, 22> names = {
      "rtnl",  "unused", "usersock",   "fw",        "tcpdiag", "nflog", "xfrm",   "selinux",
      "iscsi", "audit",  "fiblookup",  "connector", "nft",     "ip6fw", "dec-rt", "uevent",
      "genl",  "",       "scsi-trans", "ecryptfs",  "rdma",    "crypto"};
  return p < names.size() ? names[p] : std::string_view();
}

// ss.c packet_stats_print: "PROTO:IFACE" ('*' for ETH_P_ALL and for no interface), no peer.
void packet_cells(const socket_row& r, const listing_style& s, std::array<std::string, 9>& c) {
  if (r.local_port == abi::eth_p_all) {
    c[4] = "*";
  } else if (const std::string_view name =
                 s.numeric ? std::string_view() : ethertype_name(r.local_port);
             !name.empty()) {
    c[4] = name;
  } else {
    c[4] = "[";
    append_number(c[4], r.local_port);
    c[4].push_back(']');
  }
  c[4].push_back(':');
  if (r.ifindex == 0) {
    c[5] = "*";
  } else if (s.names != nullptr) {
    append_printable(c[5], s.names->interface_name(r.ifindex));
  } else {
    c[5] = "if";
    append_number(c[5], r.ifindex);
  }
  c[6] = "*";
}

// ss's int_to_str: a port id is the kernel's u32 printed as int.
void append_int(std::string& out, std::uint32_t v) {
  if (v > 0x7fffffffu) {
    out.push_back('-');
    append_number(out, 0x100000000ull - v);
  } else {
    append_number(out, v);
  }
}

// ss.c netlink_show_one: "PROTO:PROCESS/PID" ("kernel" for port id 0, the number when no
// process has that id or with -n), and the peer's "GROUP:PID" when connected.
void netlink_cells(const socket_row& r, const listing_style& s, std::array<std::string, 9>& c) {
  const netlink_ends e = netlink_ends_of(r);
  const std::string_view proto = s.numeric ? std::string_view() : netlink_protocol_name(r.protocol);
  if (proto.empty()) {
    append_number(c[4], r.protocol);
  } else {
    c[4] = proto;
  }
  c[4].push_back(':');
  if (s.numeric || e.portid > 0x7fffffffu) {
    append_int(c[5], e.portid);
  } else if (e.portid == 0) {
    c[5] = "kernel";
  } else if (const std::string_view comm =
                 s.names != nullptr ? s.names->process_name(e.portid) : std::string_view();
             !comm.empty()) {
    append_printable(c[5], comm);  // a command is anyone's text
    c[5].push_back('/');
    append_number(c[5], e.portid);
  } else {
    append_number(c[5], e.portid);
  }
  if (e.connected) {
    append_int(c[6], e.dst_group);
    c[6].push_back(':');
    append_int(c[7], e.dst_portid);
  } else {
    c[6] = "*";
  }
}

// ss's "%-6d": a queue left-aligned in six characters, inside the cell.
// ss prints the queues with %-6d: a value past INT_MAX (a destroyed UDP socket's wmem, -1 as
// the kernel's int) comes out negative, as there.
void queue_cell(std::string& out, std::uint32_t v) {
  const std::size_t start = out.size();
  if (v > 0x7fffffffu) {
    out.push_back('-');
    append_number(out, 0x100000000ull - v);
  } else {
    append_number(out, v);
  }
  if (out.size() - start < 6) out.append(6 - (out.size() - start), ' ');
}

constexpr std::array<std::string_view, 9> headers = {"Netid",         "State",          "Recv-Q",
                                                     "Send-Q",        "Local Address:", "Port",
                                                     "Peer Address:", "Port",           "Process"};
// What ss prints before a cell when the line has begun, and which cells it right-aligns.
constexpr std::array<std::string_view, 9> ldelim = {"", " ", " ", " ", " ", "", " ", "", ""};
constexpr std::array<bool, 9> align_right = {false, false, false, false, true,
                                             false, true,  false, false};

void make_cells(const socket_row& r, const listing_style& s, std::vector<process_ref>& scratch,
                std::array<std::string, 9>& c) {
  for (auto& x : c) x.clear();
  c[0] = netid(r);
  c[1] = ss_state_name(r.state);
  queue_cell(c[2], r.recv_q);
  queue_cell(c[3], r.send_q);
  if (r.family == af_unix) {
    // ss.c unix_stats_print: the name (or '*') and the inode, then '*' and the peer's inode.
    // A path is bytes the socket's creator chose: escaped, so it cannot forge a line.
    if (r.path.empty()) {
      c[4] = "* ";
    } else {
      append_printable(c[4], r.path);
      c[4].push_back(' ');
    }
    append_number(c[5], r.inode);
    c[6] = "* ";
    append_number(c[7], r.peer_inode);
  } else if (r.family == abi::af_packet) {
    packet_cells(r, s, c);
  } else if (r.family == abi::af_netlink) {
    netlink_cells(r, s, c);
  } else {
    inet_address(c[4], r, true, s);
    inet_port(c[5], r, true, s);
    inet_address(c[6], r, false, s);
    inet_port(c[7], r, false, s);
  }
  report_detail::append_socket_details(c[8], r, s, scratch);
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
  if (r.family == abi::af_packet) return r.sock_type == abi::sock_raw ? "p_raw" : "p_dgr";
  if (r.family == abi::af_netlink) return "nl";
  return r.protocol == proto_tcp            ? "tcp"
         : r.protocol == proto_udp          ? "udp"
         : r.protocol == abi::ipproto_raw   ? "raw"
         : r.protocol == abi::ipproto_mptcp ? "mptcp"
                                            : "???";
}

std::string_view ss_state_name(std::uint8_t state) noexcept {
  static constexpr std::array<std::string_view, 12> names = {
      "UNKNOWN",   "ESTAB",  "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
      "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING"};
  state = netstat_fold(state);
  return state < names.size() ? names[state] : std::string_view("UNKNOWN");
}

listing_writer::listing_writer(const listing_style& s, listing_format f, write_fn write,
                               std::size_t block_rows)
    : style_(s),
      json_(f == listing_format::json_lines),
      write_(std::move(write)),
      block_rows_(std::max<std::size_t>(block_rows, 1)) {
  if (style_.header)
    for (std::size_t k = 0; k < columns; ++k) measure(k, headers[k].size());
}

listing_writer::~listing_writer() = default;

void listing_writer::measure(std::size_t column, std::size_t length) noexcept {
  max_len_[column] = std::max(max_len_[column], length);
}

// ss.c render_calc_width: each shown column as wide as its longest cell plus its delimiter
// (not the first's); on a terminal, the spare width spread over the columns of each screen
// line, the rightmost first for the remainder.
void listing_writer::compute_widths() noexcept {
  const std::array<bool, columns> shown = {style_.netid, style_.state, true, true, true,
                                           true,         true,         true, true};
  const std::size_t screen = style_.screen_width;
  bool first = true;
  for (std::size_t k = 0; k < columns; ++k) {
    width_[k] = 0;
    if (!shown[k]) continue;
    width_[k] = max_len_[k] + (!first && max_len_[k] > 0 ? ldelim[k].size() : 0);
    if (screen > 0) width_[k] = std::min(width_[k], screen);
    if (width_[k] > 0) first = false;
  }
  if (screen == 0) return;
  std::size_t len = 0, linecols = 0, line_start = 0;
  for (std::size_t k = 0; k < columns; ++k) {
    if (width_[k] == 0) continue;
    ++linecols;
    len += width_[k];
    bool last = true;
    for (std::size_t j = k + 1; j < columns; ++j) last = last && width_[j] == 0;
    if (!last && len < screen) continue;
    std::size_t end = k;  // the line's last column
    if (len > screen && linecols > 1) {
      len -= width_[k];
      --linecols;
      end = k - 1;
    }
    if (len < screen) {
      const std::size_t pad = screen - len, spacing = pad / linecols;
      std::size_t rem = pad % linecols;
      for (std::size_t j = end + 1; j-- > line_start;) {
        if (width_[j] == 0) continue;
        width_[j] += spacing;
        if (rem > 0) {
          ++width_[j];
          --rem;
        }
      }
    }
    k = end;
    line_start = end + 1;
    len = 0;
    linecols = 0;
  }
}

void listing_writer::add_row(const socket_row& r) {
  std::array<std::string, columns>& c = row_cells_;  // reused: no allocation per row
  make_cells(r, style_, scratch_, c);
  measure(columns - 1, unmeasured_);  // the previous row's details: a row follows them
  unmeasured_ = c[columns - 1].size();
  for (std::size_t k = 0; k < columns; ++k) {
    if (k + 1 < columns) measure(k, c[k].size());
    cells_ += c[k];
    ends_.push_back(static_cast<std::uint32_t>(cells_.size()));
  }
}

// ss.c render: a delimiter before each cell but the line's first, right-aligned cells padded
// on the left and the others on the right, to their column's width.
void listing_writer::line(const std::array<std::string_view, columns>& cell) {
  const std::array<bool, columns> shown = {style_.netid, style_.state, true, true, true,
                                           true,         true,         true, true};
  bool started = false;
  for (std::size_t k = 0; k < columns; ++k) {
    if (!shown[k]) continue;
    std::size_t printed = 0;
    if (started) {
      out_ += ldelim[k];
      printed = ldelim[k].size();
    }
    started = true;
    if (width_[k] > 0 && align_right[k] && width_[k] > cell[k].size() + printed) {
      const std::size_t pad = width_[k] - cell[k].size() - printed;
      out_.append(pad, ' ');
      printed += pad;
    }
    out_ += cell[k];
    printed += cell[k].size();
    if (width_[k] > 0 && !align_right[k] && width_[k] > printed)
      out_.append(width_[k] - printed, ' ');
  }
  out_.push_back('\n');
}

std::error_code listing_writer::flush_block(bool last) {
  if (!last) measure(columns - 1, unmeasured_);
  compute_widths();
  if (style_.header && !header_written_) {
    std::array<std::string_view, columns> h;
    std::copy(headers.begin(), headers.end(), h.begin());
    line(h);
  }
  header_written_ = true;
  const std::string_view all = cells_;
  std::uint32_t begin = 0;
  for (std::size_t i = 0; i < ends_.size(); i += columns) {
    std::array<std::string_view, columns> cell;
    for (std::size_t k = 0; k < columns; ++k) {
      cell[k] = all.substr(begin, ends_[i + k] - begin);
      begin = ends_[i + k];
    }
    line(cell);
    if (out_.size() >= write_size)
      if (auto ec = drain()) return ec;
  }
  cells_.clear();
  ends_.clear();
  return {};
}

std::error_code listing_writer::drain() {
  if (out_.empty()) return {};
  const std::error_code ec = write_(out_);
  out_.clear();
  return ec;
}

std::error_code listing_writer::on_rows(const socket_table& batch) noexcept {
  try {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const socket_row r = batch.row(i);
      tcp_listener_ = tcp_listener_ || (r.protocol == proto_tcp &&
                                        r.state == static_cast<std::uint8_t>(tcp_state::listen));
      ++rows_;
      if (json_) {
        json_row(r);
        if (out_.size() >= write_size)
          if (auto ec = drain()) return ec;
        continue;
      }
      add_row(r);
      if (ends_.size() / columns >= block_rows_)
        if (auto ec = flush_block(false)) return ec;
    }
    return {};
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

std::error_code listing_writer::flush() noexcept {
  try {
    if (!json_ && !ends_.empty()) {
      if (auto ec = flush_block(true)) return ec;
      unmeasured_ = 0;  // ss's render() dropped that cell unmeasured; no later row measures it
    }
    return drain();
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

std::error_code listing_writer::finish() noexcept {
  try {
    if (!json_)
      if (auto ec = flush_block(true)) return ec;
    return drain();
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

void render_listing_text(const socket_table& t, const listing_style& s, std::string& out) {
  // One block: every column as wide as its widest cell over the whole table.
  listing_writer w(
      s, listing_format::columns,
      [&](std::string_view text) {
        out += text;
        return std::error_code{};
      },
      SIZE_MAX);
  if (auto ec = w.on_rows(t); ec || (ec = w.finish())) throw std::bad_alloc();
}

void listing_writer::json_row(const socket_row& r) {
  json_writer w(out_);
  w.begin_object();
  const bool unix_domain = r.family == af_unix;
  const bool packet = r.family == abi::af_packet, nl = r.family == abi::af_netlink;
  w.key("proto").value(unix_domain                        ? std::string_view("unix")
                       : packet                           ? std::string_view("packet")
                       : nl                               ? std::string_view("netlink")
                       : r.protocol == proto_tcp          ? std::string_view("tcp")
                       : r.protocol == abi::ipproto_raw   ? std::string_view("raw")
                       : r.protocol == abi::ipproto_mptcp ? std::string_view("mptcp")
                                                          : std::string_view("udp"));
  if (unix_domain || packet) w.key("type").value(netid(r));
  w.key("family").value(unix_domain           ? std::string_view("unix")
                        : packet              ? std::string_view("packet")
                        : nl                  ? std::string_view("netlink")
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
  } else if (packet) {
    // The protocol the socket takes (an ethertype) and its interface, numbers as the kernel's.
    w.key("ethertype").value(std::uint64_t{r.local_port});
    w.key("ifindex").value(std::uint64_t{r.ifindex});
  } else if (nl) {
    const netlink_ends e = netlink_ends_of(r);
    w.key("netlink_protocol").value(std::uint64_t{r.protocol});
    w.key("portid").value(std::int64_t{static_cast<std::int32_t>(e.portid)});
    w.key("connected").value(e.connected);
    if (e.connected) {
      w.key("dst_portid").value(std::int64_t{static_cast<std::int32_t>(e.dst_portid)});
      w.key("dst_group").value(std::uint64_t{e.dst_group});
    }
  } else {
    addr_.clear();
    append_address(addr_, r.family, r.local_addr);
    w.key("local_addr").value(addr_);
    w.key("local_port").value(std::uint64_t{r.local_port});
    addr_.clear();
    append_address(addr_, r.family, r.peer_addr);
    w.key("peer_addr").value(addr_);
    w.key("peer_port").value(std::uint64_t{r.peer_port});
  }
  // As the text (ss's %d): the kernel's int, so a destroyed UDP socket's wmem is -1.
  w.key("recv_q").value(std::int64_t{static_cast<std::int32_t>(r.recv_q)});
  w.key("send_q").value(std::int64_t{static_cast<std::int32_t>(r.send_q)});
  if (r.state == static_cast<std::uint8_t>(tcp_state::listen)) {
    w.key("accept_queue_full");
    if (style_.backlog_known) {
      w.value(accept_queue_full(r));
    } else {
      w.null();  // /proc: Send-Q is not the backlog, so fullness is unknown
    }
  }
  w.key("inode").value(r.inode);
  w.key("uid").value(std::uint64_t{r.uid});
  if (style_.extended) w.key("cookie").value(r.cookie);
  if (style_.timers && !unix_domain && !packet && !nl) {
    w.key("timer").begin_object();
    w.key("name").value(report_detail::timer_name(r.timer));
    w.key("expires_ms").value(std::uint64_t{r.expires_ms});
    w.key("retrans").value(std::uint64_t{r.retrans});
    w.end_object();
  }
  report_detail::json_socket_details(w, r, style_);
  if (style_.owners != nullptr) {
    w.key("process").begin_array();
    for (const process_ref& p : style_.owners->owners(r.inode, scratch_)) {
      w.begin_object();
      w.key("pid").value(std::uint64_t{p.pid});
      if (p.tid != 0) w.key("tid").value(std::uint64_t{p.tid});
      w.key("comm").value(p.comm);
      w.key("fd").value(std::int64_t{p.fd});
      w.end_object();
    }
    w.end_array();
  }
  w.end_object();
  out_.push_back('\n');
}

void render_listing_json(const socket_table& t, const listing_style& s, std::string& out) {
  listing_writer w(s, listing_format::json_lines, [&](std::string_view text) {
    out += text;
    return std::error_code{};
  });
  if (auto ec = w.on_rows(t); ec || (ec = w.finish())) throw std::bad_alloc();
}

}  // namespace ssfast
