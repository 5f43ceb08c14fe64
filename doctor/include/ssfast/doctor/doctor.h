// SPDX-License-Identifier: Apache-2.0
// `ssfast doctor`: the field notes' diagnosis (TIME_WAIT, ephemeral ports, SYN floods, accept
// queues, CLOSE_WAIT leaks, orphans, TCP memory, retransmissions, tcp_tw_recycle) as pure
// functions from evidence to findings, and their text and JSON reports. Gathering the
// evidence is ssfast/doctor/gather.h's; nothing here makes a syscall.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ssfast/core/export.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast {

/// The sysctls the diagnosis reads, as this network namespace sees them; absent when
/// unreadable or not on this kernel (tcp_tw_recycle is gone since Linux 4.12).
struct doctor_sysctls {
  std::optional<std::int64_t> tcp_max_tw_buckets, tcp_fin_timeout, tcp_tw_reuse, tcp_tw_recycle,
      tcp_syncookies, tcp_max_syn_backlog, tcp_max_orphans, tcp_synack_retries, somaxconn;
  std::optional<std::array<std::int64_t, 3>> tcp_mem;  ///< pages: min, pressure, max
  std::optional<std::array<std::int64_t, 2>> ip_local_port_range;
};

/// A count under a key: "10.0.0.1 -> 10.0.0.2:5432" 28000, "203.0.113.7" 900.
struct keyed_count {
  std::string key;
  std::uint64_t count = 0;
};

/// One TCP listener (one row; SO_REUSEPORT siblings are separate listeners, and share what
/// belongs to their address: the request sockets, which no dump can tell apart by sibling).
struct listener_evidence {
  std::string address;                   ///< "127.0.0.1:80", "[::]:443"
  std::uint8_t family = 0;               ///< AF_INET or AF_INET6 (0: not said), of `local`
  std::array<std::uint8_t, 16> local{};  ///< the address as the kernel gave it (IPv4: 4 bytes)
  std::uint16_t port = 0;
  std::uint32_t accept_queue = 0;  ///< Recv-Q: established, waiting for accept()
  std::uint32_t backlog = 0;       ///< Send-Q: min(listen() backlog, somaxconn) (netlink only)
  /// This listener's own drop counter (SK_MEMINFO_DROPS: tcp_listendrop() bumps it with
  /// ListenDrops), its change over the interval (the whole count for a listener that is new),
  /// and whether it was read (netlink with socket memory; never from /proc).
  std::uint64_t drops = 0, drops_delta = 0;
  bool drops_known = false;
  /// Of its address (this listener and its SO_REUSEPORT siblings, `siblings` in all): the
  /// request sockets (SYN_RECV) whose local address and port are its own, or, for a
  /// wildcard listener, those no listener of that exact address takes; the sum of the
  /// siblings' backlogs; the SYN-ACK retransmissions those requests made so far (each
  /// request's num_retrans); and their sources, largest first (at most 5), as a filter
  /// names them (an IPv4 client of a dual-stack listener as IPv4).
  std::uint64_t syn_recv = 0;
  std::uint64_t syn_backlog = 0;
  std::uint32_t siblings = 1;
  std::uint64_t synack_retrans = 0;
  std::uint64_t address_drops_delta = 0;  ///< the siblings' drops_delta, summed
  std::vector<keyed_count> syn_sources;
  std::string processes;  ///< "nginx(1234)", when readable
};

/// Which limit bounds a SYN queue (tcp_conn_request(), net/ipv4/tcp_input.c).
enum class syn_limit_kind : std::uint8_t {
  backlog,          ///< the listener's backlog: inet_csk_reqsk_queue_is_full()
  max_syn_backlog,  ///< tcp_syncookies=0: unproven SYNs drop past 3/4 of tcp_max_syn_backlog
  cookies_always,   ///< tcp_syncookies=2: every SYN is answered with a cookie, none queued
};
SSFAST_API std::string_view to_string(syn_limit_kind k) noexcept;

/// A SYN queue's limit as the running kernel applies it: `slots` request sockets, past which
/// a SYN is answered with a cookie (tcp_syncookies=1) or dropped (0). The kernel's full test
/// is `>=` before Linux 6.13 and `>` since (stable 6.1 and 6.6 took the change), so a queue
/// holds `slots` or `slots + 1` at its limit: a judgement tolerates one either way.
struct syn_queue_limit {
  std::uint64_t slots = 0;
  syn_limit_kind by = syn_limit_kind::backlog;
};

/// The limit of one address's SYN queue: `backlog` summed over `siblings` SO_REUSEPORT
/// listeners (each queues on its own), under `s`'s tcp_syncookies (unknown: 1, the default)
/// and tcp_max_syn_backlog. No allocation.
SSFAST_API syn_queue_limit syn_queue_limit_of(std::uint64_t backlog, std::uint32_t siblings,
                                              const doctor_sysctls& s) noexcept;

/// Everything the diagnosis uses, sampled over `interval_s`.
struct doctor_evidence {
  double interval_s = 1;
  socket_summary sockets;  ///< at the end of the interval
  /// Every counter ("Tcp.RetransSegs", "TcpExt.ListenDrops", "TCP.orphan", ...) at the start
  /// and the end of the interval.
  std::map<std::string, std::int64_t> counters_before, counters_after;
  doctor_sysctls sysctls;
  bool backlog_known = true;  ///< false from /proc: listeners' Send-Q is not their backlog
  std::vector<listener_evidence> listeners;
  /// Connections per (local address, remote address:port) among sockets whose local port is
  /// in ip_local_port_range, largest first (at most 5).
  std::vector<keyed_count> ephemeral_groups;
  std::vector<keyed_count> syn_recv_sources;  ///< SYN_RECV per remote address, largest first
  /// Retransmissions so far of the SYN-ACKs of every request socket (num_retrans) and of the
  /// SYNs of every SYN_SENT socket (icsk_retransmits): TCPSynRetrans counts both alike
  /// (tcp_rtx_synack() and tcp_retransmit_timer()), these tell them apart.
  std::uint64_t synack_retrans = 0, syn_sent_retrans = 0;
  std::uint64_t syn_sent = 0;                     ///< SYN_SENT sockets
  std::uint64_t close_wait_persisting = 0;        ///< CLOSE_WAIT at both ends of the interval
  std::vector<keyed_count> close_wait_ports;      ///< CLOSE_WAIT per local port
  std::vector<keyed_count> close_wait_processes;  ///< CLOSE_WAIT per owning process
  std::uint64_t fin_wait2_orphaned = 0;  ///< FIN_WAIT2 no process holds (timed by fin_timeout)
  std::uint64_t fin_wait2_held = 0;      ///< FIN_WAIT2 still open in a process
  std::string kernel_release;            ///< uname -r
  /// Inputs that could not be read, and why: a sysctl by name ("net.ipv4.tcp_mem"),
  /// "counters" for the counter files, or a member above that only a listing of sockets by
  /// identity gives ("ephemeral_groups", "close_wait_persisting", "fin_wait2_orphaned": a
  /// recorded sample has none). A rule that needs one is not run, and says so.
  std::map<std::string, std::string> unreadable;
};

/// A rule the diagnosis could not run: what it needs that could not be read, and why.
struct rule_not_run {
  std::string id;     ///< the finding it would give: time_wait_buckets, ...
  std::string needs;  ///< "net.ipv4.tcp_max_tw_buckets", "TcpExt.ListenOverflows", ...
  std::string why;    ///< "Permission denied", "listen backlogs are not in /proc", ...
};

/// The rules whose inputs `e` lacks; diagnose() skips them. Allocates.
SSFAST_API std::vector<rule_not_run> rules_not_run(const doctor_evidence& e);

/// How many rules the diagnosis has (every finding id is one).
SSFAST_API std::size_t doctor_rule_count() noexcept;

/// The id of rule `i` (below doctor_rule_count(), else ""): the `id` of its findings, the
/// `id` label of the exporter's ssfast_finding, the one alert of monitoring/alerts.yml.
SSFAST_API std::string_view doctor_rule_id(std::size_t i) noexcept;

enum class severity : std::uint8_t { info, warning, critical };
SSFAST_API std::string_view to_string(severity s) noexcept;

/// One value of a finding's evidence: a count, a measure (a rate or share, one decimal, with
/// its unit) or text (addresses, process names, lists, "unknown"). Kept typed so that a
/// renderer never parses a number back out of text: in JSON a count is an integer, a measure
/// without a unit a number, one with a unit ("12.5/s", "80.0%") a string as people read it,
/// and text always a string (a process named "123" stays a name).
struct evidence_value {
  enum class kind : std::uint8_t { count, measure, text };
  kind type = kind::text;
  std::int64_t count = 0;
  double measure = 0;     ///< rounded to one decimal
  std::string_view unit;  ///< measure: "/s", "%" or empty (static storage)
  std::string text;

  evidence_value() = default;
  evidence_value(std::string s) : text(std::move(s)) {}
  evidence_value(const char* s) : text(s) {}
  evidence_value(std::int64_t v) : type(kind::count), count(v) {}
  evidence_value(std::uint64_t v)
      : type(kind::count), count(static_cast<std::int64_t>(v > INT64_MAX ? INT64_MAX : v)) {}
  evidence_value(std::uint32_t v) : evidence_value(std::uint64_t{v}) {}
};

/// The value as the text report shows it: "25", "12.5/s", "80.0%", or the text.
SSFAST_API std::string to_text(const evidence_value& v);

struct finding {
  std::string id;  ///< stable: time_wait_buckets, ephemeral_ports, syn_flood, ...
  severity level = severity::info;
  /// What it is about: a listener ("127.0.0.1:80") for a finding per listener, else empty
  /// (the namespace). One finding per (id, subject).
  std::string subject;
  /// The TCP state whose sockets it is about (the row a live view marks): SYN_RECV for a SYN
  /// flood, LISTEN for accept queues, ...; none for counters alone (memory, retransmissions).
  std::optional<tcp_state> state;
  std::string summary;  ///< one line with the numbers
  /// What the rule read, in order: name and value, numbers kept as numbers until rendered.
  std::vector<std::pair<std::string, evidence_value>> evidence;
  std::string why;                  ///< who holds the state and why it lingers
  std::vector<std::string> advice;  ///< commands with current and suggested values, or advice
};

/// The thresholds, documented in the README; every finding below fires on its own numbers.
SSFAST_API std::vector<finding> diagnose(const doctor_evidence& e);

/// 0: nothing of warning or worse; 1: warnings; 2: critical; 3 when no rule could run.
SSFAST_API int doctor_exit_code(const std::vector<finding>& f,
                                const std::vector<rule_not_run>& not_run = {}) noexcept;

/// People's report: a header line, then each finding (worst first) with evidence, why and
/// what to do, then each rule that could not run and why; "no findings" only when every
/// rule ran.
/// `filter`: the filter the sockets were selected by, as typed, when there was one (said).
SSFAST_API void render_findings_text(const std::vector<finding>& f, const doctor_evidence& e,
                                     std::string_view source, std::string& out,
                                     std::string_view filter = {});
/// {"source":..,["filter":..,]"interval_s":..,"exit_code":..,"findings":[{"id","severity","subject","state","summary",
/// "evidence":{..},"why","advice":[..]}],"not_run":[{"id","needs","why"}]}
SSFAST_API void render_findings_json(const std::vector<finding>& f, const doctor_evidence& e,
                                     std::string_view source, std::string& out,
                                     std::string_view filter = {});

}  // namespace ssfast
