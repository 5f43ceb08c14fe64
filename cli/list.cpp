// SPDX-License-Identifier: Apache-2.0
// The listing (ssfast's default, ss's): sockets under a filter, as text or JSON Lines.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

#include "commands.h"
#include "ssfast/core/addresses.h"
#include "ssfast/report/escape.h"
#include "ssfast/report/listing.h"

namespace ssfast::cli {
namespace {

// A terminal's width, which ss spreads its columns over; 0 for a pipe or a file.
unsigned screen_width() {
  if (isatty(STDOUT_FILENO) == 0) return 0;
  winsize w{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &w) != 0) return 0;
  return w.ws_col;
}

// How the listing is drawn: ss's columns for what the options and the query ask.
listing_style style_of(const options& o, const socket_query& q, const process_owners& owners,
                       name_lookup& names, bool from_proc) {
  listing_style style;
  style.header = !o.no_header;
  // ss shows Netid when several of its tables can appear (UNIX is three: stream, datagram,
  // seqpacket), State when several states can.
  const int unix_tables = !o.scope.unix_domain ? 0
                          : o.unix_types == 0  ? 3
                                               : std::popcount(unsigned{o.unix_types});
  // ss's tables ssfast does not list but found empty: vsock is two (stream, datagram).
  int other_tables = 0;
  for (unsigned k = 0; k < static_cast<unsigned>(unlisted_table::count); ++k)
    if (o.unlisted >> k & 1u)
      other_tables += k == static_cast<unsigned>(unlisted_table::vsock) ? 2 : 1;
  const int packet_tables = !o.scope.packet       ? 0
                            : o.packet_types == 0 ? 2
                                                  : std::popcount(unsigned{o.packet_types});
  style.netid = o.scope.tcp + o.scope.udp + unix_tables + o.scope.raw + packet_tables +
                    o.scope.netlink + o.scope.mptcp + other_tables >
                1;
  style.state = (q.states & (q.states - 1)) != 0;
  style.extended = o.extended;
  style.timers = o.timers || o.extended;  // ss's -e sets show_options too
  style.memory = o.memory;
  style.tcp_info = o.tcp_info;
  style.tos = o.tos;
  style.cgroup = o.cgroup;
  style.inet_sockopt = o.inet_sockopt;
  style.bpf = o.bpf;
  style.oneline = o.oneline;
  style.numeric = o.numeric;
  style.resolve = o.resolve;
  style.screen_width = o.json ? 0 : screen_width();
  style.owners = o.processes ? &owners : nullptr;
  style.names = &names;
  // /proc shows a listener's Send-Q as 0, not its backlog: fullness is unknown there.
  style.backlog_known = !from_proc;
  return style;
}

// ss -K: each TCP and UDP socket the listing selects is destroyed (SOCK_DESTROY) and listed
// only if it was; one the kernel cannot destroy (EOPNOTSUPP) or that is already gone (ENOENT)
// is skipped, as ss skips it (ss.c show_one_inet_sock). Any other answer stops the listing.
// UNIX sockets are listed, not destroyed: there is no SOCK_DESTROY for them, and ss lists them.
struct killer {
  socket_destroyer destroyer;
  socket_table kept;
  std::error_code failed;
  std::string failed_socket;
  std::uint64_t destroyed = 0, unsupported = 0;

  std::error_code destroy(const socket_table& batch, const socket_table*& out) noexcept {
    try {
      kept.clear();
      kept.keep_attributes(batch.keeps_attributes());
      for (std::size_t i = 0; i < batch.size(); ++i) {
        const socket_row r = batch.row(i);
        if (r.family == abi::af_unix) {
          kept.append(r);
          continue;
        }
        const std::error_code ec = destroyer.destroy(r);
        if (!ec) {
          ++destroyed;
          kept.append(r);
        } else if (ec == std::errc::operation_not_supported) {
          ++unsupported;
        } else if (ec != std::errc::no_such_file_or_directory) {
          failed = ec;
          failed_socket = endpoint_text(r.family, r.local_addr, r.local_port) + " -> " +
                          endpoint_text(r.family, r.peer_addr, r.peer_port);
          return ec;
        }
      }
      out = &kept;
      return {};
    } catch (const std::bad_alloc&) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
  }
};

// ss -E: each socket the kernel destroys, a row written as it arrives (flushed: a pipe or a
// file sees it at once). SIGINT, SIGTERM and a hung-up terminal end it as they end ss; a reader
// that left ends it at the next write.
int run_events(collector& c, const options& o, const socket_query& q, name_lookup& names) {
  process_owners no_owners;
  bool write_failed = false;
  listing_writer out(style_of(o, q, no_owners, names, false),
                     o.json ? listing_format::json_lines : listing_format::columns,
                     [&](std::string_view text) {
                       if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
                           std::fflush(stdout) == 0)
                         return std::error_code{};
                       write_failed = true;
                       return std::make_error_code(std::errc::io_error);
                     });
  struct follower final : destroy_sink {
    listing_writer& out;
    const bool counting;  // --count given
    std::uint64_t left;   // --count: rows still wanted
    socket_table kept;
    follower(listing_writer& w, std::uint64_t count) : out(w), counting(count > 0), left(count) {
      kept.keep_attributes(true);
    }
    std::error_code on_rows(const socket_table& batch) noexcept override {
      const socket_table* rows = &batch;
      if (left > 0 && batch.size() > left) {  // only as many as --count still wants
        try {
          kept.clear();
          for (std::size_t i = 0; i < left; ++i) kept.append(batch.row(i));
        } catch (const std::bad_alloc&) {
          return std::make_error_code(std::errc::not_enough_memory);
        }
        rows = &kept;
      }
      if (left > 0) left -= rows->size();
      if (auto ec = out.on_rows(*rows)) return ec;
      return out.flush();
    }
    void on_lost(std::uint64_t events) noexcept override {
      std::fprintf(stderr,
                   "ssfast: warning: -E: %llu destroy event%s lost (the kernel found the receive "
                   "queue full); following goes on\n",
                   static_cast<unsigned long long>(events), events == 1 ? "" : "s");
    }
    bool keep_following() noexcept override { return !counting || left > 0; }
  } follow(out, o.count);
  const std::error_code ec = c.follow_destroyed(q, follow);
  if (write_failed) return fail(exit_failure, "cannot write the output");
  if (ec) return fail(exit_failure, "-E: " + c.error_text(ec));
  return exit_ok;
}

// ss -D: the TCP dump's datagrams as received, to a file or standard output, for
// TCPDIAG_FILE to replay; nothing is listed.
int run_diag(collector& c, const options& o, const socket_query& q) {
  if (q.filter != nullptr && q.filter->has_expression())
    return fail(exit_usage,
                "option '-D' writes the whole TCP dump of the states asked for: an expression "
                "is refused (ss -D dumps before it reads one)");
  const bool to_stdout = o.diag_file == "-";
  const int fd = to_stdout
                     ? STDOUT_FILENO
                     : ::open(o.diag_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    std::string line = "-D: cannot open ";
    append_printable(line, o.diag_file);
    return fail(exit_failure, line + ": " + std::strerror(errno));
  }
  const std::error_code ec = c.raw_tcp_dump(q, [&](std::span<const std::byte> bytes) {
    const auto* p = reinterpret_cast<const char*>(bytes.data());
    std::size_t left = bytes.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::error_code(errno != 0 ? errno : EIO, std::generic_category());
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    return std::error_code{};
  });
  const bool closed = to_stdout || ::close(fd) == 0;
  if (ec) return fail(exit_failure, "-D: " + c.error_text(ec));
  if (!closed) return fail(exit_failure, std::string("-D: ") + std::strerror(errno));
  return exit_ok;
}

// ss's tables ssfast does not list: the kernel is asked whether it has their socket
// diagnostics. Where it has not (ENOENT: no sctp_diag, dccp_diag, vsock_diag, tipc_diag or
// xsk_diag, as ss also finds), the table is empty, as ss shows it, and stderr says why; where
// it has, they would hold sockets ssfast cannot show: refused, exit 2. Returns an exit code,
// or -1 to go on.
int check_unlisted_tables(collector& c, const options& o) {
  struct table {
    unlisted_table id;
    std::uint8_t family, protocol;
    const char *name, *module;
  };
  static constexpr table tables[] = {
      {unlisted_table::sctp, AF_INET, IPPROTO_SCTP, "SCTP", "sctp_diag"},
      {unlisted_table::dccp, AF_INET, IPPROTO_DCCP, "DCCP", "dccp_diag"},
      {unlisted_table::vsock, AF_VSOCK, 0, "vsock", "vsock_diag"},
      {unlisted_table::tipc, AF_TIPC, 0, "TIPC", "tipc_diag"},
      {unlisted_table::xdp, AF_XDP, 0, "XDP", "xsk_diag"},
  };
  for (const table& t : tables) {
    if ((o.unlisted >> static_cast<unsigned>(t.id) & 1u) == 0) continue;
    const std::error_code ec = c.probe_diag(t.family, t.protocol);
    if (ec == std::errc::no_such_file_or_directory) {
      std::fprintf(stderr,
                   "ssfast: note: this kernel has no %s socket diagnostics (%s): no %s socket "
                   "to list\n",
                   t.name, t.module, t.name);
      continue;
    }
    // A dump, EINVAL (a handler refusing the probe's request) or a reply ssfast does not parse
    // all say the kernel has the table; other errors (no netlink, EPERM) that it was not asked.
    const bool answered =
        !ec || ec == std::errc::invalid_argument || ec.category() != std::system_category();
    if (!answered)
      return fail(exit_failure, std::string("cannot ask the kernel whether it has ") + t.name +
                                    " sockets (" + t.module + "): " + ec.message() +
                                    "; ssfast does not list them yet");
    return fail(exit_usage, std::string("ssfast does not list ") + t.name +
                                " sockets yet, and this kernel has them (" + t.module + ")");
  }
  return -1;
}

}  // namespace

int run_list(collector& c, const options& o) {
  // ss -Z and -z: SELinux contexts. Where SELinux is off (no selinuxfs), ss's own answer.
  if (o.selinux) {
    if (access("/sys/fs/selinux/enforce", F_OK) != 0)
      return fail(exit_failure, "SELinux is not enabled.");
    return fail(exit_failure, "-Z, -z: SELinux contexts are not shown by ssfast yet");
  }
  socket_filter f;
  socket_query q;
  std::string err;
  if (!build_query(o, f, q, err)) return fail(exit_usage, err);
  if (o.unlisted != 0)
    if (const int code = check_unlisted_tables(c, o); code >= 0) return code;
  q.show.memory = o.memory;
  q.show.tcp_info = o.tcp_info;
  q.show.tos = o.tos;
  q.show.extended = o.extended || o.cgroup || o.inet_sockopt;
  q.show.bpf = o.bpf;
  system_names names(o.proc_root);
  if (o.events) return run_events(c, o, q, names);
  if (!o.diag_file.empty()) return run_diag(c, o, q);
  process_owners owners;
  if (o.processes && !scan_owners(o, owners)) return exit_failure;
  killer destroyer;
  // Standard output, written as the listing is drawn.
  bool write_failed = false;
  listing_writer out(style_of(o, q, owners, names, c.source() == source_kind::proc),
                     o.json ? listing_format::json_lines : listing_format::columns,
                     [&](std::string_view text) {
                       if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size())
                         return std::error_code{};
                       write_failed = true;
                       return std::make_error_code(std::errc::io_error);
                     });
  // Which source answers is settled when the first rows arrive: a collector that falls back
  // to /proc does so before handing over any row (collector::list).
  struct source_aware final : row_sink {
    collector& c;
    listing_writer& out;
    killer* kill;
    source_aware(collector& col, listing_writer& w, killer* k) : c(col), out(w), kill(k) {}
    std::error_code on_rows(const socket_table& batch) noexcept override {
      out.set_backlog_known(c.source() != source_kind::proc);
      if (kill == nullptr) return out.on_rows(batch);
      const socket_table* gone = nullptr;
      if (auto ec = kill->destroy(batch, gone)) return ec;
      return out.on_rows(*gone);
    }
  } sink(c, out, o.kill ? &destroyer : nullptr);
  std::error_code ec = c.list(q, sink);
  if (!ec) ec = out.finish();
  if (write_failed) return fail(exit_failure, "cannot write the output");
  if (o.kill && destroyer.failed) {
    std::string line = "-K: cannot destroy ";
    append_printable(line, destroyer.failed_socket);
    line += ": " + destroyer.failed.message();
    if (destroyer.failed == std::errc::operation_not_permitted ||
        destroyer.failed == std::errc::permission_denied)
      line += " (needs CAP_NET_ADMIN over the socket's network namespace)";
    return fail(exit_failure, line);
  }
  if (ec) return list_failed(c, ec);
  if (o.kill && destroyer.unsupported > 0 && destroyer.destroyed == 0)
    std::fprintf(stderr,
                 "ssfast: note: -K: the kernel destroyed none of %llu sockets (EOPNOTSUPP: built "
                 "without CONFIG_INET_DIAG_DESTROY, or a protocol it cannot destroy)\n",
                 static_cast<unsigned long long>(destroyer.unsupported));
  say_malformed(c);
  // Standard output holds the header and the rows, as ss writes them, so ss parsers (jc
  // --ss), `wc -l` and awk read it as they read ss; what is said about the listing goes to
  // stderr: a fallback to /proc always, a chosen /proc when TCP listeners were shown (their
  // Send-Q is 0 there, not the backlog, and JSON's accept_queue_full is null). The kernel's drop
  // counters are the doctor's, check's and counters' to say.
  if (c.source() == source_kind::proc && (c.fallback() || out.tcp_listener_seen()))
    std::fprintf(stderr,
                 "ssfast: note: source: proc%s; a listener's Send-Q there is 0, not its "
                 "backlog\n",
                 c.fallback() ? (" (netlink unavailable: " + c.fallback_text() + ")").c_str() : "");
  if (c.repeats_dropped() > 0)
    std::fprintf(stderr,
                 "ssfast: note: %llu sockets the kernel's dump reported twice were listed "
                 "once\n",
                 static_cast<unsigned long long>(c.repeats_dropped()));
  return write_out("");
}

}  // namespace ssfast::cli
