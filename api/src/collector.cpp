// The collector: runs one sock_diag dump per protocol and family asked for, into counts or
// table rows.
#include <netinet/in.h>
#include <sys/socket.h>

#include <new>

#include "ssfast/netlink/sock_diag.h"
#include "ssfast/proc/counters.h"
#include "ssfast/ssfast.h"
#include "ssfast_version.h"

namespace ssfast {
namespace {

struct inet_count_sink final : netlink::datagram_sink {
  std::array<state_counts, 2>& counts;
  explicit inet_count_sink(std::array<state_counts, 2>& c) : counts(c) {}
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& f) noexcept override {
    return netlink::count_inet(d, f, counts);
  }
};

struct unix_count_sink final : netlink::datagram_sink {
  unix_counts& counts;
  explicit unix_count_sink(unix_counts& c) : counts(c) {}
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& f) noexcept override {
    return netlink::count_unix(d, f, counts);
  }
};

struct inet_rows_sink final : netlink::datagram_sink {
  socket_table& table;
  std::uint8_t protocol;
  inet_rows_sink(socket_table& t, std::uint8_t p) : table(t), protocol(p) {}
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& f) noexcept override {
    return netlink::rows_inet(d, f, protocol, table);
  }
};

struct unix_rows_sink final : netlink::datagram_sink {
  socket_table& table;
  explicit unix_rows_sink(socket_table& t) : table(t) {}
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& f) noexcept override {
    return netlink::rows_unix(d, f, table);
  }
};

// One inet dump of the plan: protocol, family, and the name used in error messages.
struct inet_dump {
  std::uint8_t protocol;
  std::uint8_t family;
  std::uint32_t states;
  std::string_view name;
  bool (*wanted)(const count_scope&);
};

constexpr inet_dump inet_dumps[] = {
    {IPPROTO_TCP, AF_INET, netlink::all_tcp_states, "TCP/IPv4 dump",
     [](const count_scope& s) { return s.tcp && s.ipv4; }},
    {IPPROTO_TCP, AF_INET6, netlink::all_tcp_states, "TCP/IPv6 dump",
     [](const count_scope& s) { return s.tcp && s.ipv6; }},
    {IPPROTO_UDP, AF_INET, netlink::all_states, "UDP/IPv4 dump",
     [](const count_scope& s) { return s.udp && s.ipv4; }},
    {IPPROTO_UDP, AF_INET6, netlink::all_states, "UDP/IPv6 dump",
     [](const count_scope& s) { return s.udp && s.ipv6; }},
};

constexpr std::string_view unix_dump_name = "UNIX dump";

netlink::dump_request inet_request(const inet_dump& d) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::inet;
  r.family = d.family;
  r.protocol = d.protocol;
  r.states = d.states;
  return r;
}

netlink::dump_request unix_request(std::uint32_t show) noexcept {
  netlink::dump_request r;
  r.what = netlink::dump_request::kind::unix_domain;
  r.states = netlink::all_states;
  r.unix_show = show;
  return r;
}

}  // namespace

struct collector::impl {
  netlink::sock_diag_socket socket;
  proc::file_reader files;
  std::string_view context;

  impl(netlink::sock_diag_socket s, std::string proc_root)
      : socket(std::move(s)), files(std::move(proc_root)) {}
};

std::string_view to_string(source_kind s) noexcept {
  return s == source_kind::netlink ? "netlink" : "proc";
}

std::string_view version() noexcept { return SSFAST_VERSION_STRING; }

result<collector> collector::open(const collector_options& options) noexcept {
  auto sock = netlink::sock_diag_socket::open(options.netlink_timeout);
  if (!sock) return sock.error();
  try {
    return collector(std::make_unique<impl>(std::move(*sock), options.proc_root));
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

collector::collector(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
collector::collector(collector&&) noexcept = default;
collector& collector::operator=(collector&&) noexcept = default;
collector::~collector() = default;

source_kind collector::source() const noexcept { return source_kind::netlink; }

std::string_view collector::error_context() const noexcept { return impl_->context; }

std::error_code collector::count(socket_summary& out, const count_scope& scope) noexcept {
  out = socket_summary{};
  out.scope = scope;
  impl_->context = {};
  for (const inet_dump& d : inet_dumps) {
    if (!d.wanted(scope)) continue;
    auto& counts = d.protocol == IPPROTO_TCP ? out.tcp : out.udp;
    inet_count_sink sink(counts);
    if (auto ec = impl_->socket.dump(inet_request(d), sink)) {
      impl_->context = d.name;
      return ec;
    }
  }
  if (scope.unix_domain) {
    unix_count_sink sink(out.unix_domain);
    if (auto ec = impl_->socket.dump(unix_request(0), sink)) {
      impl_->context = unix_dump_name;
      return ec;
    }
  }
  return {};
}

std::error_code collector::snapshot(socket_table& out, const count_scope& scope) noexcept {
  out.clear();
  impl_->context = {};
  for (const inet_dump& d : inet_dumps) {
    if (!d.wanted(scope)) continue;
    inet_rows_sink sink(out, d.protocol);
    if (auto ec = impl_->socket.dump(inet_request(d), sink)) {
      impl_->context = d.name;
      return ec;
    }
  }
  if (scope.unix_domain) {
    unix_rows_sink sink(out);
    if (auto ec = impl_->socket.dump(unix_request(netlink::unix_show_rows), sink)) {
      impl_->context = unix_dump_name;
      return ec;
    }
  }
  return {};
}

std::error_code collector::read_counters(kernel_counters& out) noexcept {
  impl_->context = {};
  std::string_view failed;
  if (auto ec = proc::read_kernel_counters(impl_->files, out, failed)) {
    impl_->context = failed;
    return ec;
  }
  return {};
}

}  // namespace ssfast
