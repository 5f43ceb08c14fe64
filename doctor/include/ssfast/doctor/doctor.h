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

namespace ssfast {

/// The sysctls the diagnosis reads, as this network namespace sees them; absent when
/// unreadable or not on this kernel (tcp_tw_recycle is gone since Linux 4.12).
struct doctor_sysctls {
  std::optional<std::int64_t> tcp_max_tw_buckets, tcp_fin_timeout, tcp_tw_reuse, tcp_tw_recycle,
      tcp_syncookies, tcp_max_syn_backlog, tcp_max_orphans, tcp_synack_retries, somaxconn;
  std::optional<std::array<std::int64_t, 3>> tcp_mem;  ///< pages: min, pressure, max
  std::optional<std::array<std::int64_t, 2>> ip_local_port_range;
};

/// One TCP listener (one row; SO_REUSEPORT siblings are separate listeners).
struct listener_evidence {
  std::string address;  ///< "127.0.0.1:80", "[::]:443"
  std::uint16_t port = 0;
  std::uint32_t accept_queue = 0;  ///< Recv-Q: established, waiting for accept()
  std::uint32_t backlog = 0;       ///< Send-Q: the accept queue's limit (netlink only)
  /// Request sockets (SYN_RECV) this listener holds: those whose local address and port are
  /// its own, or, for a wildcard listener, those no listener of that exact address takes.
  /// SO_REUSEPORT siblings of one address share theirs, as they share syn_backlog.
  std::uint64_t syn_recv = 0;
  std::uint64_t syn_backlog = 0;  ///< the SYN queue's limit: the backlogs of this address
  std::string processes;          ///< "nginx(1234)", when readable
};

/// A count under a key: "10.0.0.1 -> 10.0.0.2:5432" 28000, "203.0.113.7" 900.
struct keyed_count {
  std::string key;
  std::uint64_t count = 0;
};

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
  std::vector<keyed_count> syn_recv_sources;      ///< SYN_RECV per remote address, largest first
  std::uint64_t close_wait_persisting = 0;        ///< CLOSE_WAIT at both ends of the interval
  std::vector<keyed_count> close_wait_ports;      ///< CLOSE_WAIT per local port
  std::vector<keyed_count> close_wait_processes;  ///< CLOSE_WAIT per owning process
  std::uint64_t fin_wait2_orphaned = 0;  ///< FIN_WAIT2 no process holds (timed by fin_timeout)
  std::uint64_t fin_wait2_held = 0;      ///< FIN_WAIT2 still open in a process
  std::string kernel_release;            ///< uname -r
  /// Inputs that could not be read, and why: a sysctl by name ("net.ipv4.tcp_mem"), or
  /// "counters" for the counter files. A rule that needs one is not run, and says so.
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
SSFAST_API void render_findings_text(const std::vector<finding>& f, const doctor_evidence& e,
                                     std::string_view source, std::string& out);
/// {"source":..,"interval_s":..,"exit_code":..,"findings":[{"id","severity","summary",
/// "evidence":{..},"why","advice":[..]}],"not_run":[{"id","needs","why"}]}
SSFAST_API void render_findings_json(const std::vector<finding>& f, const doctor_evidence& e,
                                     std::string_view source, std::string& out);

}  // namespace ssfast
