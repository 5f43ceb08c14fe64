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

// Hands each datagram to a callable: (datagram, reply_filter) -> parse_status.
template <class F>
struct callback_sink final : netlink::datagram_sink {
  F& f;
  explicit callback_sink(F& fn) : f(fn) {}
  netlink::parse_status on_datagram(const netlink::datagram& d,
                                    const netlink::reply_filter& r) noexcept override {
    return f(d, r);
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

  // Runs every dump `scope` asks for, feeding each datagram to parse(datagram, filter, dump),
  // where dump is the inet dump in progress or null for the UNIX one.
  template <class Parse>
  std::error_code run(const count_scope& scope, std::uint32_t unix_show, Parse&& parse) noexcept {
    context = {};
    for (const inet_dump& d : inet_dumps) {
      if (!d.wanted(scope)) continue;
      auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
        return parse(g, r, &d);
      };
      callback_sink sink(f);
      if (auto ec = socket.dump(inet_request(d), sink)) {
        context = d.name;
        return ec;
      }
    }
    if (scope.unix_domain) {
      auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
        return parse(g, r, static_cast<const inet_dump*>(nullptr));
      };
      callback_sink sink(f);
      if (auto ec = socket.dump(unix_request(unix_show), sink)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }
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
  return impl_->run(
      scope, 0,
      [&](const netlink::datagram& g, const netlink::reply_filter& f, const inet_dump* d) noexcept {
        if (d == nullptr) return netlink::count_unix(g, f, out.unix_domain);
        return netlink::count_inet(g, f, d->protocol == IPPROTO_TCP ? out.tcp : out.udp);
      });
}

std::error_code collector::snapshot(socket_table& out, const count_scope& scope) noexcept {
  out.clear();
  return impl_->run(
      scope, netlink::unix_show_rows,
      [&](const netlink::datagram& g, const netlink::reply_filter& f, const inet_dump* d) noexcept {
        if (d == nullptr) return netlink::rows_unix(g, f, out);
        return netlink::rows_inet(g, f, d->protocol, out);
      });
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
