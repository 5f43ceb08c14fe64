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
  if (!s.numeric && s.names != nullptr) {
    const std::string_view name = s.names->service(port, r.protocol);
    if (!name.empty()) {
      append_printable(out, name);
      return;
    }
  }
  append_number(out, port);
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
  return r.protocol == proto_tcp ? "tcp" : r.protocol == proto_udp ? "udp" : "???";
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
  if (style_.timers && !unix_domain) {
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
