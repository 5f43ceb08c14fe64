// SPDX-License-Identifier: Apache-2.0
// The collector: hands counts and listings to the netlink source (which plans and runs the
// dumps) or, when netlink is unavailable or refused, to the /proc reader; falls back once and
// says why; runs every call in its network namespace; reads counters and sysctls.
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "netns_thread.h"
#include "service_probe.h"
#include "ssfast/detail/test_seams.h"
#include "ssfast/netlink/events.h"
#include "ssfast/netlink/sock_diag.h"
#include "ssfast/netlink/source.h"
#include "ssfast/proc/counters.h"
#include "ssfast/proc/processes.h"
#include "ssfast/proc/socket_reader.h"
#include "ssfast/ssfast.h"
#include "ssfast_version.h"
#include "threads.h"

namespace ssfast {
namespace {

#if defined(SSFAST_TEST_SEAMS)
detail::netlink_fault injected;  // see ssfast/detail/test_seams.h
detail::netlink_fault injected_fault() noexcept { return injected; }
#else
// Release builds: nothing to inject, and the checks below fold away.
constexpr detail::netlink_fault injected_fault() noexcept { return {}; }
#endif

using detail::default_threads;

}  // namespace

struct collector::impl {
  std::unique_ptr<detail::netns_thread> ns;  // set: every call runs there (another namespace)
  bool in_ns = false;                        // true while a call runs on that thread
  detail::watched_process process;           // the namespace's process, named by its PID

  // Runs `f` in the collector's namespace: here, or on its thread there when not already on
  // it. The one round trip every call makes. bad_alloc becomes ENOMEM either way, since the
  // thread's entry point is noexcept and the public calls are.
  template <class F>
  std::error_code in_namespace(F&& f) noexcept {
    auto guarded = [&]() noexcept -> std::error_code {
      try {
        return f();
      } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
      }
    };
    if (process.exited()) {
      context = {step_kind::other, "process"};
      return errc::process_exited;
    }
    if (!ns || in_ns) return guarded();
    return ns->call([&]() noexcept {
      in_ns = true;
      const std::error_code ec = guarded();
      in_ns = false;
      return ec;
    });
  }

  std::optional<netlink::source> nl;  // empty: /proc answers
  proc::file_reader files;
  // Sysctls: <proc root>/sys, except in another namespace, where the net sysctls under
  // /proc/sys follow the namespace of the thread that opens them (there is no
  // /proc/thread-self/sys).
  proc::file_reader sysctls;
  source_choice choice;
  std::optional<fallback_info> fell_back;
  // What the last failed call was doing: a netlink dump (its dump_step's words), a file under
  // the proc root (named with the root the collector was given), or another step.
  enum class step_kind : std::uint8_t { none, dump, proc_file, other };
  struct step {
    step_kind kind = step_kind::none;
    std::string_view text;
  } context;
  // A /proc reader's failed file ("net/tcp6"); none named (a sink's error, ENOMEM): no file.
  static step file_step(std::string_view file) noexcept {
    return {file.empty() ? step_kind::other : step_kind::proc_file, file};
  }
  bool no_fallback = false;   // set by a call whose answer cannot be taken again from /proc
  std::uint64_t repeats = 0;  // what the last snapshot() or list() dropped as repeats
  // What the last count, snapshot() or list() from /proc left out as malformed, per file.
  std::array<std::uint64_t, proc::socket_file_count> malformed{};
  std::string shown_root;         // the proc root as the caller named it, for error_text()
  detail::service_memo services;  // the probe API's lock, filters and recent measurements

  impl(std::optional<netlink::sock_diag_socket> s, const collector_options& o)
      : files(o.proc_root),
        sysctls(o.proc_root == "/proc/thread-self" ? std::string("/proc") : o.proc_root),
        choice(o.source) {
    if (!s) return;
    netlink::source_options so;
    so.timeout = o.netlink_timeout;
    so.partitions = o.threads == 0 ? default_threads() : o.threads;
    so.adaptive = o.threads == 0;
    const detail::netlink_fault fault = injected_fault();
    so.fail_dumps_with = fault.at_dump ? fault.error : 0;
    so.hang_dumps = fault.hang;
    read_port_range(so);
    nl.emplace(std::move(*s), so);
  }

  // The namespace's ephemeral range places the default split points; any value is correct.
  void read_port_range(netlink::source_options& so) noexcept {
    std::string_view text;
    if (sysctls.read("sys/net/ipv4/ip_local_port_range", text)) return;
    unsigned lo = 0, hi = 0;
    const char* p = text.data();
    const char* end = text.data() + text.size();
    auto [p1, e1] = std::from_chars(p, end, lo);
    while (p1 < end && (*p1 == ' ' || *p1 == '\t')) ++p1;
    auto [p2, e2] = std::from_chars(p1, end, hi);
    (void)p2;
    if (e1 == std::errc{} && e2 == std::errc{} && lo >= 1 && lo <= hi && hi <= 65535) {
      so.ephemeral_low = static_cast<std::uint16_t>(lo);
      so.ephemeral_high = static_cast<std::uint16_t>(hi);
    }
  }

  // What the netlink source asks of /proc while it plans a count.
  struct proc_hints final : netlink::count_hints {
    proc::file_reader& files;
    explicit proc_hints(proc::file_reader& f) : files(f) {}

    // sockstat TCP inuse + tw, sockstat6 TCP6 inuse (SYN_RECV not included, close enough).
    std::optional<std::uint64_t> expected_tcp_sockets() noexcept override {
      std::uint64_t expected = 0;
      auto visit = [](void* ctx, std::string_view g, std::string_view n, std::int64_t v) {
        if ((g == "TCP" && (n == "inuse" || n == "tw")) || (g == "TCP6" && n == "inuse"))
          *static_cast<std::uint64_t*>(ctx) += static_cast<std::uint64_t>(v < 0 ? 0 : v);
      };
      std::string_view text;
      if (files.read("net/sockstat", text) || proc::parse_sockstat(text, visit, &expected))
        return std::nullopt;
      if (!files.read("net/sockstat6", text))  // absent without IPv6
        (void)proc::parse_sockstat(text, visit, &expected);
      return expected;
    }

    // CurrEstab, and TCP inuse from sockstat and TCP6 inuse from sockstat6 (absent without
    // IPv6, which then has no socket: 0).
    tcp_gauges gauges() noexcept override {
      tcp_gauges g;
      g.curr_estab = curr_estab();
      struct seen {
        std::optional<std::int64_t>* v4;
        std::optional<std::int64_t>* v6;
      } ctx{&g.inuse[0], &g.inuse[1]};
      auto visit = [](void* c, std::string_view grp, std::string_view n, std::int64_t v) {
        auto* s = static_cast<seen*>(c);
        if (n != "inuse") return;
        if (grp == "TCP") *s->v4 = v;
        if (grp == "TCP6") *s->v6 = v;
      };
      std::string_view text;
      if (!files.read("net/sockstat", text)) (void)proc::parse_sockstat(text, visit, &ctx);
      if (const std::error_code ec = files.read("net/sockstat6", text); !ec)
        (void)proc::parse_sockstat(text, visit, &ctx);
      else if (ec == std::errc::no_such_file_or_directory)
        g.inuse[1] = 0;
      return g;
    }

    // CurrEstab from <proc root>/net/snmp.
    std::optional<std::int64_t> curr_estab() noexcept override {
      std::string_view text;
      if (files.read("net/snmp", text)) return std::nullopt;
      std::optional<std::int64_t> v;
      auto visit = [](void* ctx, std::string_view g, std::string_view n, std::int64_t value) {
        if (g == "Tcp" && n == "CurrEstab") *static_cast<std::optional<std::int64_t>*>(ctx) = value;
      };
      if (proc::parse_snmp(text, visit, &v)) return std::nullopt;
      return v;
    }
  };

  // Runs `from_netlink` while the collector uses netlink; on an error that allows it, switches
  // to /proc for good. Then `from_proc` if /proc is the source.
  template <class Netlink, class Proc>
  std::error_code answer(Netlink&& from_netlink, Proc&& from_proc) noexcept {
    malformed = {};
    if (nl) {
      const std::error_code ec = from_netlink();
      context = ec ? step{step_kind::dump, netlink::to_string(nl->context())} : step{};
      const bool may_fall_back = !std::exchange(no_fallback, false);
      if (!ec || choice != source_choice::automatic || !falls_back_on(ec) || !may_fall_back)
        return ec;
      fell_back = fallback_info{ec, context.text};
      nl.reset();
    }
    std::string_view failed;
    const std::error_code ec = from_proc(failed);
    context = ec ? file_step(failed) : step{};
    return ec;
  }

  std::error_code count(socket_summary& out, const count_scope& scope,
                        count_method method) noexcept {
    auto reset = [&] {
      out = socket_summary{};
      out.scope = scope;
    };
    return answer(
        [&]() noexcept {
          reset();
          proc_hints hints(files);
          return nl->count(out, scope, method, hints);
        },
        [&](std::string_view& failed) noexcept {
          reset();
          if (method == count_method::estimate)
            out.estimate = socket_summary::estimate_status::needs_netlink;
          if (method == count_method::derived)
            out.derivation = socket_summary::derivation_status::needs_netlink;
          proc::file_stats stats;
          const auto ec = proc::count_sockets(files, scope, out, stats, failed);
          malformed = stats.skipped_in;
          out.skipped_lines = stats.skipped;
          out.duplicate_rows = stats.duplicates;
          return ec;
        });
  }

  // A filter /proc cannot judge for the inet sockets the query lists.
  static bool proc_cannot_judge(const socket_query& q) noexcept {
    return q.filter != nullptr && (q.scope.tcp || q.scope.udp || q.scope.raw) &&
           needs_kernel_judgement(*q.filter);
  }

  // Whether a /proc row is one the query selects (netlink asks the kernel instead).
  static bool selected(const socket_query& q, const socket_row& row) noexcept {
    return (q.states >> netstat_fold(row.state) & 1u) != 0 && unix_type_listed(q.unix_types, row) &&
           packet_type_listed(q.packet_types, row) &&
           (q.filter == nullptr || matches_expression(*q.filter, row));
  }

  // One socket of a listing into a summary's histograms.
  static void add_row(socket_summary& s, const socket_row& r) noexcept {
    if (r.family != AF_UNIX && r.protocol != IPPROTO_TCP && r.protocol != IPPROTO_UDP) return;
    if (r.family == AF_UNIX) {
      ++s.unix_domain.by_type[r.sock_type < s.unix_domain.by_type.size() ? r.sock_type : 0];
      ++s.unix_domain.states[r.state];
      return;
    }
    auto& table = r.protocol == IPPROTO_TCP ? s.tcp : s.udp;
    ++table[r.family == AF_INET6 ? 1 : 0][r.state];
  }

  std::error_code count(socket_summary& out, const socket_query& q) noexcept {
    auto reset = [&] {
      out = socket_summary{};
      out.scope = q.scope;
    };
    return answer(
        [&]() noexcept {
          reset();
          return nl->count(out, q);
        },
        [&](std::string_view& failed) noexcept -> std::error_code {
          reset();
          if (proc_cannot_judge(q)) return make_error_code(errc::filter_needs_netlink);
          proc::file_stats stats;
          socket_table t;
          const std::error_code ec = proc::snapshot_sockets(files, q.scope, t, stats, failed);
          malformed = stats.skipped_in;
          if (ec) return ec;
          for (std::size_t i = 0; i < t.size(); ++i) {
            const socket_row row = t.row(i);
            if (selected(q, row)) add_row(out, row);
          }
          out.skipped_lines = stats.skipped;
          out.duplicate_rows = stats.duplicates;
          return std::error_code{};
        });
  }

  std::error_code snapshot(socket_table& out, const count_scope& scope) noexcept {
    repeats = 0;
    return answer(
        [&]() noexcept {
          out.clear();
          const std::error_code ec = nl->snapshot(out, scope);
          repeats = nl->repeats();
          return ec;
        },
        [&](std::string_view& failed) noexcept {
          out.clear();
          proc::file_stats stats;
          const std::error_code ec = proc::snapshot_sockets(files, scope, out, stats, failed);
          malformed = stats.skipped_in;
          return ec;
        });
  }

  // A listing: TCP, UDP and UNIX sockets from the chosen source, then each other table asked
  // for (raw, packet, netlink, MPTCP) on its own, since a kernel may lack one table's diag module
  // (raw_diag is often not built): netlink answers ENOENT for that table alone, which is then
  // read from /proc, as ss does (ss.c raw_show).
  std::error_code list(const socket_query& q, row_sink& sink) noexcept {
    const count_scope& sc = q.scope;
    if (!sc.raw && !sc.packet && !sc.netlink && !sc.mptcp) return list_main(q, sink);
    socket_query main = q;
    main.scope.raw = main.scope.packet = main.scope.netlink = main.scope.mptcp = false;
    std::uint64_t dropped = 0;
    if (sc.tcp || sc.udp || sc.unix_domain) {
      if (auto ec = list_main(main, sink)) return ec;
      dropped = repeats;
    }
    socket_query one = q;
    one.scope.tcp = one.scope.udp = one.scope.unix_domain = false;
    for (int table = 0; table < 4; ++table) {
      one.scope.raw = table == 0 && sc.raw;
      one.scope.packet = table == 1 && sc.packet;
      one.scope.netlink = table == 2 && sc.netlink;
      one.scope.mptcp = table == 3 && sc.mptcp;
      if (!one.scope.raw && !one.scope.packet && !one.scope.netlink && !one.scope.mptcp) continue;
      if (auto ec = list_other_table(one, sink)) return ec;
      // netlink_diag reports every socket bound to a multicast group twice, whatever the churn
      // (its mc_list walk skips sk_hashed() sockets, which netlink's rhashtable never makes
      // them): those are listed once and are not news worth a note.
      if (!one.scope.netlink) dropped += repeats;
    }
    repeats = dropped;
    return {};
  }

  // One of the other tables: from netlink unless the kernel has no diag module for it (ENOENT)
  // or /proc is the source.
  std::error_code list_other_table(const socket_query& q, row_sink& sink) noexcept {
    repeats = 0;
    malformed = {};
    if (nl) {
      proc_hints hints(files);
      const std::error_code ec = nl->list(sink, q, hints);
      repeats = nl->repeats();
      context = ec ? step{step_kind::dump, netlink::to_string(nl->context())} : step{};
      if (ec != std::errc::no_such_file_or_directory) return ec;
      // No mptcp_diag: no MPTCP socket can be listed, from netlink or /proc (ss lists none).
      if (q.scope.mptcp) {
        context = {};
        return {};
      }
      if (choice != source_choice::automatic) return ec;
    }
    if (proc_cannot_judge(q)) return make_error_code(errc::filter_needs_netlink);
    std::string_view failed;
    const std::error_code ec = proc_rows(q, sink, failed);
    context = ec ? file_step(failed) : step{};
    return ec;
  }

  // The rows of `q` read from /proc, selected here, handed to `sink` in one batch.
  std::error_code proc_rows(const socket_query& q, row_sink& sink,
                            std::string_view& failed) noexcept {
    proc::file_stats stats;
    try {
      // /proc's files are read whole, so this path holds the table (the degraded source;
      // netlink streams).
      socket_table t;
      const std::error_code ec = proc::snapshot_sockets(files, q.scope, t, stats, failed);
      malformed = stats.skipped_in;
      if (ec) return ec;
      t.retain([&](const socket_row& row) { return selected(q, row); });
      return t.empty() ? std::error_code{} : sink.on_rows(t);
    } catch (const std::bad_alloc&) {
      return std::make_error_code(std::errc::not_enough_memory);
    }
  }

  std::error_code list_main(const socket_query& q, row_sink& sink) noexcept {
    // Once rows reached the sink, falling back to /proc would hand them over twice: a
    // failure after that point is returned as it is.
    struct counting_sink final : row_sink {
      row_sink& to;
      bool delivered = false;
      explicit counting_sink(row_sink& s) : to(s) {}
      std::error_code on_rows(const socket_table& batch) noexcept override {
        delivered = true;
        return to.on_rows(batch);
      }
    } counted(sink);
    repeats = 0;
    return answer(
        [&]() noexcept {
          proc_hints hints(files);
          const std::error_code ec = nl->list(counted, q, hints);
          repeats = nl->repeats();
          no_fallback = counted.delivered;
          return ec;
        },
        [&](std::string_view& failed) noexcept -> std::error_code {
          if (proc_cannot_judge(q)) return make_error_code(errc::filter_needs_netlink);
          return proc_rows(q, sink, failed);
        });
  }

  std::error_code list(socket_table& out, const socket_query& q) noexcept {
    struct append_sink final : row_sink {
      socket_table& out;
      explicit append_sink(socket_table& t) : out(t) {}
      std::error_code on_rows(const socket_table& batch) noexcept override {
        try {
          for (std::size_t i = 0; i < batch.size(); ++i) out.append(batch.row(i));
        } catch (const std::bad_alloc&) {
          return std::make_error_code(std::errc::not_enough_memory);
        }
        return {};
      }
    } append(out);
    out.clear();
    return list(q, append);
  }

  std::error_code read_counters(kernel_counters& out) noexcept {
    context = {};
    std::string_view failed;
    if (auto ec = proc::read_kernel_counters(files, out, failed)) {
      context = file_step(failed);
      return ec;
    }
    return {};
  }

  std::error_code read_all_counters(std::vector<std::pair<std::string, std::int64_t>>& out,
                                    kernel_counters* summary) {
    context = {};
    std::vector<proc::named_counter> list;
    std::string_view failed;
    if (auto ec = proc::read_all_counters(files, list, failed)) {
      context = file_step(failed);
      return ec;
    }
    if (summary != nullptr) *summary = kernel_counters{};
    out.clear();
    out.reserve(list.size());
    for (auto& c : list) {
      if (summary != nullptr) {
        const std::string_view n = c.name;
        const std::size_t dot = n.find('.');
        proc::assign_counter(*summary, n.substr(0, dot), n.substr(dot + 1), c.value);
      }
      out.emplace_back(std::move(c.name), c.value);
    }
    return {};
  }

  std::error_code read_sysctl(std::string_view name, std::vector<std::int64_t>& values) {
    values.clear();
    context = {};
    std::string path = "sys/";
    for (char c : name) path.push_back(c == '.' ? '/' : c);
    if (name.empty() || name.find("..") != std::string_view::npos || name.front() == '/')
      return std::make_error_code(std::errc::invalid_argument);
    std::string_view text;
    if (auto ec = sysctls.read(path, text)) {
      context = {step_kind::other, "sysctl"};
      return ec;
    }
    // One or more integers separated by blanks (tcp_mem: three, ip_local_port_range: two).
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
      while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) ++p;
      if (p == end) break;
      std::int64_t v = 0;
      auto [q, ec] = std::from_chars(p, end, v);
      if (ec != std::errc{}) break;
      values.push_back(v);
      p = q;
    }
    if (p != end || values.empty()) {
      context = {step_kind::other, "sysctl"};
      return make_error_code(errc::parse_error);
    }
    return {};
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
    case EOPNOTSUPP: return true;
    default: return false;
  }
}

std::string_view to_string(source_kind s) noexcept {
  return s == source_kind::netlink ? "netlink" : "proc";
}

std::string_view version() noexcept { return SSFAST_VERSION_STRING; }

result<collector> collector::open(const collector_options& options) noexcept {
  if (options.netns.empty()) return open_here(options);
  detail::watched_process process = detail::watched_process::of(options.netns);
  std::unique_ptr<detail::netns_thread> ns;
  if (auto ec = detail::netns_thread::start(options.netns, ns)) return ec;
  // Exited before its namespace file was open: that file may be a newer process's (PID reuse).
  if (process.exited()) return errc::process_exited;
  // In that thread, /proc/net would still show the process's own namespace (it follows the
  // main thread); /proc/thread-self/net follows the calling thread.
  collector_options o;
  try {
    o = options;
  } catch (const std::bad_alloc&) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  if (o.proc_root == "/proc") o.proc_root = "/proc/thread-self";
  struct ctx {
    const collector_options& o;
    std::optional<result<collector>> r;
  } c{o, std::nullopt};
  ns->run(
      [](void* p) noexcept {
        auto* x = static_cast<ctx*>(p);
        x->r.emplace(open_here(x->o));
      },
      &c);
  if (*c.r) {
    (*c.r)->impl_->ns = std::move(ns);
    (*c.r)->impl_->process = std::move(process);
    // Error lines name the root the caller gave, not the thread-self one used inside.
    (*c.r)->impl_->shown_root.swap(o.proc_root);
    if (options.proc_root == "/proc") (*c.r)->impl_->shown_root.resize(5);
  }
  return std::move(*c.r);
}

result<collector> collector::open_here(const collector_options& options) noexcept {
  std::optional<netlink::sock_diag_socket> socket;
  std::optional<fallback_info> fell_back;
  try {
    if (options.source != source_choice::proc) {
      // One socket, opened here on the caller's thread, so it answers for the caller's
      // network namespace whichever thread later reads it. The partitions' sockets wait for
      // a table worth splitting (open_partitions).
      const detail::netlink_fault fault = injected_fault();
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
    auto p = std::make_unique<impl>(std::move(socket), options);
    p->fell_back = fell_back;
    p->shown_root = options.proc_root;
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
  return impl_->nl ? source_kind::netlink : source_kind::proc;
}

unsigned collector::threads() const noexcept { return impl_->nl ? impl_->nl->threads() : 1; }

const fallback_info* collector::fallback() const noexcept {
  return impl_->fell_back ? &*impl_->fell_back : nullptr;
}

std::string collector::fallback_text() const {
  const fallback_info* f = fallback();
  return f ? std::string(f->step) + ": " + f->error.message() : std::string();
}

std::string_view collector::error_context() const noexcept { return impl_->context.text; }

int collector::exit_fd() const noexcept { return impl_->process.fd(); }

std::string collector::error_text(std::error_code ec) const {
  if (ec == errc::process_exited && impl_->process.pid() > 0)
    return "process " + std::to_string(impl_->process.pid()) + " exited";
  const impl::step& w = impl_->context;
  std::string out = w.kind == impl::step_kind::proc_file
                        ? impl_->shown_root + "/" + std::string(w.text)
                        : std::string(w.text);
  return out + ": " + ec.message();
}

std::error_code collector::count(socket_summary& out, const count_scope& scope,
                                 count_method method) noexcept {
  return impl_->in_namespace([&]() noexcept { return impl_->count(out, scope, method); });
}

std::error_code collector::count(socket_summary& out, const socket_query& q) noexcept {
  return impl_->in_namespace([&]() noexcept { return impl_->count(out, q); });
}

std::error_code collector::snapshot(socket_table& out, const count_scope& scope) noexcept {
  return impl_->in_namespace([&]() noexcept { return impl_->snapshot(out, scope); });
}

std::error_code collector::list(socket_table& out, const socket_query& q) noexcept {
  return impl_->in_namespace([&]() noexcept { return impl_->list(out, q); });
}

std::error_code collector::list(const socket_query& q, row_sink& sink) noexcept {
  return impl_->in_namespace([&]() noexcept { return impl_->list(q, sink); });
}

std::error_code collector::services(std::span<const service_probe> probes,
                                    std::span<service_state> out) noexcept {
  std::lock_guard<std::mutex> hold(impl_->services.lock);
  return detail::measure_services(*this, impl_->services, probes, out);
}

std::error_code collector::service(std::uint16_t port, const service_rules& rules,
                                   service_state& out, std::chrono::nanoseconds max_age) noexcept {
  if (port == 0) return std::make_error_code(std::errc::invalid_argument);
  std::lock_guard<std::mutex> hold(impl_->services.lock);
  return detail::measure_service_within(*this, impl_->services, port, rules, out, max_age);
}

std::error_code collector::probe_diag(std::uint8_t family, std::uint8_t protocol) noexcept {
  return impl_->in_namespace([&]() noexcept -> std::error_code {
    auto s = netlink::sock_diag_socket::open();
    if (!s) {
      impl_->context = {impl::step_kind::other, "opening the sock_diag socket"};
      return s.error();
    }
    struct skip final : netlink::datagram_sink {
      netlink::parse_status on_datagram(const netlink::datagram& d,
                                        const netlink::reply_filter& f) noexcept override {
        return netlink::skip_sockets(d, f);
      }
    } sink;
    netlink::dump_request r;
    r.what = netlink::dump_request::kind::probe;
    r.family = family;
    r.protocol = protocol;
    r.states = 0;
    return s->dump(r, sink);
  });
}

std::error_code collector::raw_tcp_dump(
    const socket_query& q,
    const std::function<std::error_code(std::span<const std::byte>)>& out) noexcept {
  if (!q.scope.tcp || !(q.scope.ipv4 || q.scope.ipv6))
    return std::make_error_code(std::errc::invalid_argument);
  return impl_->in_namespace([&]() noexcept -> std::error_code {
    auto s = netlink::sock_diag_socket::open();
    if (!s) {
      impl_->context = {impl::step_kind::other, "opening the sock_diag socket"};
      return s.error();
    }
    // Each datagram as received, then checked as a dump (port id, sequence, NLMSG_DONE, the
    // kernel's errno) by counting it.
    struct copy final : netlink::datagram_sink {
      const std::function<std::error_code(std::span<const std::byte>)>& out;
      explicit copy(const std::function<std::error_code(std::span<const std::byte>)>& o) : out(o) {}
      netlink::parse_status on_datagram(const netlink::datagram& d,
                                        const netlink::reply_filter& f) noexcept override {
        std::array<state_counts, 2> ignored;
        netlink::parse_status st = netlink::count_inet(d, f, ignored);
        if (!st.error) st.error = out(d.bytes);
        return st;
      }
    } sink(out);
    for (const auto& [family, wanted] : {std::pair{std::uint8_t{AF_INET}, q.scope.ipv4},
                                         std::pair{std::uint8_t{AF_INET6}, q.scope.ipv6}}) {
      if (!wanted) continue;
      netlink::dump_request r;
      r.what = netlink::dump_request::kind::inet;
      r.family = family;
      r.protocol = IPPROTO_TCP;
      // ss sends SS_ALL, with bit 0, for every state.
      r.states = (q.states & abi::tcp_all_states) == abi::tcp_all_states
                     ? netlink::all_tcp_states
                     : q.states & abi::tcp_all_states;
      r.inet_ext = netlink::inet_ext_of(q);
      if (auto ec = s->dump(r, sink)) {
        impl_->context = {impl::step_kind::dump,
                          family == AF_INET ? "TCP/IPv4 dump" : "TCP/IPv6 dump"};
        return ec;
      }
    }
    return {};
  });
}

std::error_code collector::follow_destroyed(const socket_query& q, destroy_sink& sink) noexcept {
  const count_scope& s = q.scope;
  netlink::destroy_groups g;
  g.tcp4 = s.tcp && s.ipv4;
  g.udp4 = s.udp && s.ipv4;
  g.tcp6 = s.tcp && s.ipv6;
  g.udp6 = s.udp && s.ipv6;
  if (!g.any()) return std::make_error_code(std::errc::invalid_argument);
  // Opened in the namespace (its thread, with another one): the groups are per namespace.
  std::optional<netlink::sock_diag_events> events;
  if (auto ec = impl_->in_namespace([&]() noexcept -> std::error_code {
        auto e = netlink::sock_diag_events::open(g);
        if (!e) return e.error();
        events.emplace(std::move(*e));
        return {};
      })) {
    impl_->context = {impl::step_kind::other, "joining the sock_diag destroy groups"};
    return ec;
  }
  // Each event's row is parsed here and judged as ss's run_ssfilter judges it.
  struct parse final : netlink::datagram_sink {
    const socket_query& q;
    destroy_sink& out;
    socket_table rows;
    parse(const socket_query& query, destroy_sink& s) : q(query), out(s) {
      rows.keep_attributes(true);
    }
    netlink::parse_status on_datagram(const netlink::datagram& d,
                                      const netlink::reply_filter& f) noexcept override {
      rows.clear();
      netlink::parse_status st = netlink::rows_inet(d, f, 0, rows);
      if (st.error) return st;
      rows.retain([&](const socket_row& r) {
        const bool v6 = r.family == AF_INET6;
        const bool tcp = r.protocol == IPPROTO_TCP;
        return (v6 ? q.scope.ipv6 : q.scope.ipv4) && (tcp ? q.scope.tcp : q.scope.udp) &&
               (q.filter == nullptr || matches_expression(*q.filter, r));
      });
      if (!rows.empty()) st.error = out.on_rows(rows);
      return st;
    }
  } p(q, sink);
  while (sink.keep_following()) {
    if (impl_->process.exited()) {
      impl_->context = {impl::step_kind::other, "process"};
      return errc::process_exited;
    }
    const netlink::events_status st = events->wait(p, std::chrono::milliseconds(200));
    if (st.lost > 0) sink.on_lost(st.lost);
    if (st.error) {
      impl_->context = {impl::step_kind::other, "destroy events"};
      return st.error;
    }
  }
  return {};
}

std::uint64_t collector::repeats_dropped() const noexcept { return impl_->nl ? impl_->repeats : 0; }

std::vector<malformed_file> collector::malformed_lines() const {
  std::vector<malformed_file> out;
  for (std::size_t i = 0; i < impl_->malformed.size(); ++i)
    if (impl_->malformed[i] > 0)
      out.push_back({impl_->shown_root + "/" +
                         std::string(proc::file_name(static_cast<proc::socket_file>(i))),
                     impl_->malformed[i]});
  return out;
}

std::error_code collector::read_counters(kernel_counters& out) noexcept {
  return impl_->in_namespace([&]() noexcept { return impl_->read_counters(out); });
}

std::error_code collector::read_all_counters(
    std::vector<std::pair<std::string, std::int64_t>>& out) noexcept {
  return impl_->in_namespace([&] { return impl_->read_all_counters(out, nullptr); });
}

std::error_code collector::read_all_counters(std::vector<std::pair<std::string, std::int64_t>>& out,
                                             kernel_counters& summary) noexcept {
  return impl_->in_namespace([&] { return impl_->read_all_counters(out, &summary); });
}

std::error_code collector::read_sysctl(std::string_view name,
                                       std::vector<std::int64_t>& values) noexcept {
  return impl_->in_namespace([&] { return impl_->read_sysctl(name, values); });
}

process_owners::process_owners() : index_(std::make_unique<proc::process_index>()) {}
process_owners::process_owners(process_owners&&) noexcept = default;
process_owners& process_owners::operator=(process_owners&&) noexcept = default;
process_owners::~process_owners() = default;

std::error_code process_owners::scan(const std::string& proc_root, unsigned threads,
                                     bool per_thread) {
  if (auto ec = detail::check_proc_root(proc_root)) return ec;
  return index_->scan(proc_root, threads == 0 ? default_threads() : threads, per_thread);
}

std::span<const process_ref> process_owners::owners(std::uint64_t inode,
                                                    std::vector<process_ref>& scratch) const {
  scratch.clear();
  for (const proc::socket_owner& o : index_->owners(inode))
    scratch.push_back({o.pid, o.fd, index_->comm(o.tid != 0 ? o.tid : o.pid), o.tid});
  return scratch;
}

std::size_t process_owners::processes() const noexcept { return index_->processes(); }
std::size_t process_owners::unreadable() const noexcept { return index_->unreadable(); }

#if defined(SSFAST_TEST_SEAMS)
void detail::inject_netlink_fault(const netlink_fault& f) noexcept { injected = f; }
#endif

}  // namespace ssfast
