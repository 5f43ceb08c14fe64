// SPDX-License-Identifier: Apache-2.0
// Listings in ss's columns or JSON Lines.
#include "ssfast/report/listing.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <new>

#include "ssfast/core/addresses.h"
#include "ssfast/core/kernel_abi.h"
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

constexpr std::array<std::string_view, 6> headers = {
    "Netid", "State", "Recv-Q", "Send-Q", "Local Address:Port", "Peer Address:Port"};

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

listing_writer::listing_writer(const listing_style& s, listing_format f, write_fn write,
                               std::size_t block_rows)
    : style_(s),
      json_(f == listing_format::json_lines),
      write_(std::move(write)),
      block_rows_(std::max<std::size_t>(block_rows, 1)) {
  if (style_.header)
    for (std::size_t k = 0; k < columns; ++k) width_[k] = headers[k].size();
}

listing_writer::~listing_writer() = default;

void listing_writer::add_row(const socket_row& r) {
  cells c;
  make_cells(r, style_, scratch_, c);
  for (std::size_t k = 0; k < columns; ++k) {
    width_[k] = std::max(width_[k], c.c[k].size());
    cells_ += c.c[k];
    ends_.push_back(static_cast<std::uint32_t>(cells_.size()));
  }
  cells_ += c.tail;
  ends_.push_back(static_cast<std::uint32_t>(cells_.size()));
}

void listing_writer::line(const std::array<std::string_view, columns>& cell,
                          std::string_view tail) {
  const bool show[columns] = {style_.netid, style_.state, true, true, true, true};
  const std::size_t start = out_.size();
  for (std::size_t k = 0; k < columns; ++k) {
    if (!show[k]) continue;
    if (out_.size() > start) out_.push_back(' ');
    out_ += cell[k];  // left-aligned, as ss prints every column
    out_.append(width_[k] - cell[k].size(), ' ');
  }
  if (!tail.empty()) {
    out_.push_back(' ');
    out_ += tail;
  }
  while (out_.size() > start && out_.back() == ' ') out_.pop_back();
  out_.push_back('\n');
}

std::error_code listing_writer::flush_block() {
  if (style_.header && !header_written_) line(headers, style_.owners != nullptr ? "Process" : "");
  header_written_ = true;
  const std::string_view all = cells_;
  std::uint32_t begin = 0;
  for (std::size_t i = 0; i < ends_.size(); i += columns + 1) {
    std::array<std::string_view, columns> cell;
    for (std::size_t k = 0; k < columns; ++k) {
      cell[k] = all.substr(begin, ends_[i + k] - begin);
      begin = ends_[i + k];
    }
    const std::string_view tail = all.substr(begin, ends_[i + columns] - begin);
    begin = ends_[i + columns];
    line(cell, tail);
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
      if (ends_.size() / (columns + 1) >= block_rows_)
        if (auto ec = flush_block()) return ec;
    }
    return {};
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

std::error_code listing_writer::finish() noexcept {
  try {
    if (!json_)
      if (auto ec = flush_block()) return ec;
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
  w.key("recv_q").value(std::uint64_t{r.recv_q});
  w.key("send_q").value(std::uint64_t{r.send_q});
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
    w.key("name").value(timer_name(r.timer));
    w.key("expires_ms").value(std::uint64_t{r.expires_ms});
    w.key("retrans").value(std::uint64_t{r.retrans});
    w.end_object();
  }
  if (style_.owners != nullptr) {
    w.key("process").begin_array();
    for (const process_ref& p : style_.owners->owners(r.inode, scratch_)) {
      w.begin_object();
      w.key("pid").value(std::uint64_t{p.pid});
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
