// The collector: runs one sock_diag dump per protocol and family asked for, into counts or
// table rows.
#include <netinet/in.h>
#include <sys/socket.h>

#include <new>
#include <optional>

#include "ssfast/netlink/sock_diag.h"
#include "ssfast/proc/counters.h"
#include "ssfast/proc/socket_reader.h"
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
  std::optional<netlink::sock_diag_socket> socket;  // empty when answering from /proc
  proc::file_reader files;
  source_choice choice;
  netlink_fault fault;
  std::optional<fallback_info> fell_back;
  std::string_view context;

  impl(std::optional<netlink::sock_diag_socket> s, const collector_options& o)
      : socket(std::move(s)),
        files(o.proc_root),
        choice(o.source),
        fault(o.inject_netlink_failure) {}

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
      if (auto ec = dump(inet_request(d), f)) {
        context = d.name;
        return ec;
      }
    }
    if (scope.unix_domain) {
      auto f = [&](const netlink::datagram& g, const netlink::reply_filter& r) noexcept {
        return parse(g, r, static_cast<const inet_dump*>(nullptr));
      };
      if (auto ec = dump(unix_request(unix_show), f)) {
        context = unix_dump_name;
        return ec;
      }
    }
    return {};
  }

  template <class F>
  std::error_code dump(const netlink::dump_request& r, F& f) noexcept {
    if (fault.at_dump && fault.error != 0) return errno_code(fault.error);
    callback_sink sink(f);
    return socket->dump(r, sink);
  }

  // Runs `from_netlink` while the collector uses netlink; on an error that allows it, switches
  // to /proc for good. Then `from_proc` if /proc is the source.
  template <class Netlink, class Proc>
  std::error_code answer(Netlink&& from_netlink, Proc&& from_proc) noexcept {
    if (socket) {
      const std::error_code ec = from_netlink();
      if (!ec || choice != source_choice::automatic || !falls_back_on(ec)) return ec;
      fell_back = fallback_info{ec, context};
      socket.reset();
    }
    std::string_view failed;
    const std::error_code ec = from_proc(failed);
    context = ec ? failed : std::string_view{};
    return ec;
  }
};

bool falls_back_on(std::error_code ec) noexcept {
  if (ec.category() != std::system_category()) return false;
  switch (ec.value()) {
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
    case EACCES:
    case EPERM:
    case ENOENT:
    case EOPNOTSUPP:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(source_kind s) noexcept {
  return s == source_kind::netlink ? "netlink" : "proc";
}

std::string_view version() noexcept { return SSFAST_VERSION_STRING; }

result<collector> collector::open(const collector_options& options) noexcept {
  std::optional<netlink::sock_diag_socket> socket;
  std::optional<fallback_info> fell_back;
  if (options.source != source_choice::proc) {
    const netlink_fault& fault = options.inject_netlink_failure;
    auto s = fault.error != 0 && !fault.at_dump
                 ? result<netlink::sock_diag_socket>(errno_code(fault.error))
                 : netlink::sock_diag_socket::open(options.netlink_timeout);
    if (s) {
      socket.emplace(std::move(*s));
    } else if (options.source == source_choice::automatic && falls_back_on(s.error())) {
      fell_back = fallback_info{s.error(), "opening the sock_diag socket"};
    } else {
      return s.error();
    }
  }
  try {
    auto p = std::make_unique<impl>(std::move(socket), options);
    p->fell_back = fell_back;
    return collector(std::move(p));
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
}

collector::collector(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
collector::collector(collector&&) noexcept = default;
collector& collector::operator=(collector&&) noexcept = default;
collector::~collector() = default;

source_kind collector::source() const noexcept {
  return impl_->socket ? source_kind::netlink : source_kind::proc;
}

const fallback_info* collector::fallback() const noexcept {
  return impl_->fell_back ? &*impl_->fell_back : nullptr;
}

std::string_view collector::error_context() const noexcept { return impl_->context; }

std::error_code collector::count(socket_summary& out, const count_scope& scope) noexcept {
  auto reset = [&] {
    out = socket_summary{};
    out.scope = scope;
  };
  return impl_->answer(
      [&]() noexcept {
        reset();
        return impl_->run(scope, 0,
                          [&](const netlink::datagram& g, const netlink::reply_filter& f,
                              const inet_dump* d) noexcept {
                            if (d == nullptr) return netlink::count_unix(g, f, out.unix_domain);
                            return netlink::count_inet(
                                g, f, d->protocol == IPPROTO_TCP ? out.tcp : out.udp);
                          });
      },
      [&](std::string_view& failed) noexcept {
        reset();
        proc::file_stats stats;
        const auto ec = proc::count_sockets(impl_->files, scope, out, stats, failed);
        out.skipped_lines = stats.skipped;
        out.duplicate_rows = stats.duplicates;
        return ec;
      });
}

std::error_code collector::snapshot(socket_table& out, const count_scope& scope) noexcept {
  return impl_->answer(
      [&]() noexcept {
        out.clear();
        return impl_->run(scope, netlink::unix_show_rows,
                          [&](const netlink::datagram& g, const netlink::reply_filter& f,
                              const inet_dump* d) noexcept {
                            if (d == nullptr) return netlink::rows_unix(g, f, out);
                            return netlink::rows_inet(g, f, d->protocol, out);
                          });
      },
      [&](std::string_view& failed) noexcept {
        out.clear();
        proc::file_stats stats;
        return proc::snapshot_sockets(impl_->files, scope, out, stats, failed);
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
