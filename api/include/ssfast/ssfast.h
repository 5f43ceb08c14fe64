// SPDX-License-Identifier: Apache-2.0
// ssfast: the library an embedder links. A collector opened once counts and lists the sockets
// of its network namespace many times, over netlink sock_diag.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ssfast/core/error.h"
#include "ssfast/core/export.h"
#include "ssfast/core/filter.h"
#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/names.h"
#include "ssfast/core/owners.h"
#include "ssfast/core/service.h"
#include "ssfast/core/socket_summary.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/core/state_counts.h"
#include "ssfast/core/tcp_state.h"

namespace ssfast::proc {
class process_index;
}

namespace ssfast {

/// Which source answered.
enum class source_kind : std::uint8_t { netlink, proc };

/// "netlink" or "proc".
SSFAST_API std::string_view to_string(source_kind s) noexcept;

/// The library's version, "MAJOR.MINOR.PATCH".
SSFAST_API std::string_view version() noexcept;

/// Which source a collector may use.
enum class source_choice : std::uint8_t {
  automatic,  ///< netlink; /proc when netlink is refused or missing (see collector::open)
  netlink,    ///< netlink only: its errors are returned
  proc,       ///< /proc/net files only
};

struct collector_options {
  source_choice source = source_choice::automatic;
  /// Where /proc is mounted: sockets and counters are read from <proc_root>/net/. For a host's
  /// /proc mounted elsewhere, <mount>/1 reads PID 1's network namespace.
  std::string proc_root = "/proc";
  /// Longest wait for one netlink datagram before a dump fails with ETIMEDOUT.
  std::chrono::milliseconds netlink_timeout{10000};
  /// Parallel TCP dumps (netlink): each on its own thread and socket, restricted by a kernel
  /// bytecode filter to a disjoint slice of the port space. 0: the number of CPUs this process
  /// may run on, at most 8, used only when the table is big enough to gain (8192 TCP sockets
  /// at the previous count, or in /proc/net/sockstat{,6} before the first): each dump walks
  /// the whole established hash. N: always N. 1: one dump, no filter. At most netlink
  /// max_partitions (16).
  unsigned threads = 0;
  /// Another network namespace to watch: a namespace file such as /run/netns/NAME (ip netns)
  /// or /proc/PID/ns/net. Empty: the caller's. The collector then does all its work on a
  /// thread of its own that has entered that namespace (setns needs CAP_SYS_ADMIN), and reads
  /// /proc through /proc/thread-self, which follows that thread's namespace. Named as
  /// /proc/PID/ns/net, the collector follows that process: once it has exited, every call
  /// fails errc::process_exited ("process PID exited"), see exit_fd().
  std::string netns;
};

/// Name lookups for parse_filter through the C library, as ss does them: services from
/// /etc/services (getservbyname_r, TCP then UDP), host names through NSS (getaddrinfo:
/// /etc/hosts, then DNS, which may take the resolver's timeout). Thread-safe.
SSFAST_API filter_resolver system_filter_resolver() noexcept;

/// The host's names for a listing, as ss prints them without -n: a port's service from the
/// C library (getservbyport_r: /etc/services), none for a port in the ephemeral range
/// (<proc_root>/sys/net/ipv4/ip_local_port_range, as ss.c is_ephemeral skips it); a cgroup
/// id's path under the cgroup2 mount (ids are the directories' inode numbers, kernfs), or
/// "unreachable:ID" (hex) when there is no cgroup2 mount or no such cgroup, as ss's
/// cg_id_to_path. Caches every answer. Not thread-safe.
class SSFAST_API system_names final : public name_lookup {
 public:
  explicit system_names(std::string proc_root = "/proc");
  system_names(system_names&&) noexcept;
  system_names& operator=(system_names&&) noexcept;
  ~system_names();
  std::string_view service(std::uint16_t port, std::uint16_t protocol) override;
  std::string_view cgroup_path(std::uint64_t id) override;
  std::string_view interface_name(std::uint32_t ifindex) override;
  /// getnameinfo with NI_NAMEREQD, once per address: /etc/hosts, then DNS, which may wait for
  /// the resolver's timeout on each address it cannot name.
  std::string_view host(std::uint8_t family, const std::array<std::uint8_t, 16>& a) override;
  /// getprotobynumber_r, once per protocol.
  std::string_view ip_protocol(std::uint8_t protocol) override;
  /// <proc root>/PID/stat's (comm), read each time (port ids are not stable names).
  std::string_view process_name(std::uint32_t pid) override;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

/// Destroys TCP and UDP sockets as ss -K does: SOCK_DESTROY with the identity a listing gave
/// (the kernel finds the socket by addresses, ports, bound device and cookie, so a socket that
/// has since gone, or a new one on the same addresses and ports, is not hit: ENOENT). Needs a
/// kernel built with CONFIG_INET_DIAG_DESTROY (else EOPNOTSUPP) and CAP_NET_ADMIN over the
/// socket's network namespace (else EPERM). The netlink socket is opened on first use, in the
/// calling thread's network namespace. Not thread-safe.
class SSFAST_API socket_destroyer {
 public:
  socket_destroyer();
  socket_destroyer(socket_destroyer&&) noexcept;
  socket_destroyer& operator=(socket_destroyer&&) noexcept;
  ~socket_destroyer();
  /// {} when the kernel destroyed it; else its errno (EINVAL: not a TCP or UDP row).
  std::error_code destroy(const socket_row& r) noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

/// Receives the sockets the kernel destroys (collector::follow_destroyed), as rows.
class destroy_sink : public row_sink {
 public:
  /// `events` sockets were freed and not reported: the receive queue overflowed.
  virtual void on_lost(std::uint64_t events) noexcept = 0;
  /// Asked after each batch and at least every 200 ms: false ends following, without error.
  virtual bool keep_following() noexcept = 0;

 protected:
  ~destroy_sink() = default;
};

/// Why a collector answers from /proc although netlink was allowed.
struct fallback_info {
  std::error_code error;  ///< what netlink said
  std::string_view step;  ///< where: "opening the sock_diag socket", "TCP/IPv4 dump", ...
};

/// The errors after which source_choice::automatic falls back to /proc: sock_diag missing
/// (EPROTONOSUPPORT, EAFNOSUPPORT, ENOENT for a missing diag module, EOPNOTSUPP) or refused
/// (EACCES, EPERM: seccomp, LSM policies).
SSFAST_API bool falls_back_on(std::error_code ec) noexcept;

/// Counts and lists sockets. Owns one sock_diag socket with its 32 KiB receive buffer and one
/// file buffer, reused by every call, plus, once a count finds a table worth splitting, a
/// socket and a buffer per further partition and a thread to run each (see threads());
/// answers for the network namespace of the thread that opened it. Every call is noexcept and
/// reports failures (ENOMEM included) as an error_code. Movable; not thread-safe (use one
/// collector per thread).
/// A /proc socket file and the malformed lines a call left out of it.
struct malformed_file {
  std::string path;  ///< under the proc root the collector was given: "/proc/net/tcp"
  std::uint64_t lines = 0;
};

/// One service a probe asks about: its port and the rules it is judged by.
struct service_probe {
  std::uint16_t port = 0;
  service_rules rules;
};

class SSFAST_API collector {
 public:
  /// Opens one sock_diag socket (unless the source is proc) and allocates its buffers; starts
  /// no thread (with `netns`, one thread that stays in that namespace). Needs no privilege. With
  /// source_choice::automatic, a socket that cannot be opened for one of the reasons
  /// falls_back_on() accepts makes the collector use /proc. Errors: the socket()/bind() errno
  /// otherwise.
  static result<collector> open(const collector_options& options = {}) noexcept;

  collector(collector&&) noexcept;
  collector& operator=(collector&&) noexcept;
  ~collector();

  /// Counts sockets per state, protocol and family over `scope`, reading only each message's
  /// family and state bytes (and, with several threads, its ports). TCP: one hash walk for both
  /// families (TCPDIAG_GETSOCK) split over threads() parallel dumps, each filtered by bytecode
  /// to its slice of the ports, slices placed by the previous count's port spread; UDP per
  /// family and UNIX once, on the calling thread. Request sockets (SYN_RECV) and TIME_WAIT
  /// minisockets count. No allocation once open; one sendto and ~n/300 recvmsg per dump. From
  /// /proc: one file per protocol and family, about one read() per 27 sockets. With
  /// source_choice::automatic, a dump failing as falls_back_on() describes switches this
  /// collector to /proc for good and counts again. On error `out` is incomplete and
  /// error_context() names the dump or file that failed.
  std::error_code count(socket_summary& out, const count_scope& scope = {},
                        count_method method = count_method::exact) noexcept;

  /// Counts the sockets `q` selects (its scope, states and expression) per state, protocol
  /// and family: the summary of one service ("sport = :443") rather than of the host. Over
  /// netlink the kernel applies the states and the expression (idiag_states, bytecode), so a
  /// socket that does not match costs only the hash walk and one that matches its message, of
  /// which only the state byte is read: probing one port of a 200k-socket host costs the walk.
  /// One dump per table, no port slices. UNIX sockets, which the kernel cannot match by
  /// address, are listed and matched here when the query has an expression; /proc is read whole
  /// and matched here. No allocation once warm (the filter compiles into a reused buffer).
  /// Errors as count(), and errc::filter_too_large.
  std::error_code count(socket_summary& out, const socket_query& q) noexcept;

  /// Parallel TCP dumps a count may use (1 with the /proc source). Their sockets (one 32 KiB
  /// buffer each) and threads are opened by the first count that splits: with
  /// collector_options::threads 0, when the table has at least 8192 TCP sockets; with N, at
  /// the first count. Opened on the calling thread, so call count() from the namespace the
  /// collector was opened in. Fewer if descriptors or threads run out then.
  unsigned threads() const noexcept;

  /// Replaces `out`'s rows with every socket in `scope`, one row per netlink message. Allocates
  /// only as `out` grows past its capacity. Errors as count(), plus ENOMEM.
  std::error_code snapshot(socket_table& out, const count_scope& scope = {}) noexcept;

  /// Replaces `out`'s rows with the sockets `q` selects. Over netlink the state mask and the
  /// expression go to the kernel (idiag_states, INET_DIAG_REQ_BYTECODE), so sockets that do not
  /// match cost only the hash walk; TCP is one walk for both families. UNIX sockets (which the
  /// kernel cannot filter by address) and the /proc source are filtered here with the same
  /// semantics. Allocates as `out` grows and to compile the filter. Errors as snapshot(), and
  /// errc::filter_too_large for a filter whose bytecode one request cannot carry (checked
  /// before anything is sent).
  std::error_code list(socket_table& out, const socket_query& q) noexcept;

  /// As list(), handing the sockets to `sink` a batch at a time as they are parsed (over
  /// netlink, one datagram's rows: a listing of any size in memory that does not grow with it;
  /// from /proc, whose files are read whole, once). TCP without an expression, in a table
  /// big enough to split (as count() decides), is dumped over the parallel port slices: the
  /// sink is then called from the collector's dump threads, never two calls at once, and the
  /// slices' batches interleave (ss promises no order either). Otherwise it is called on the
  /// calling thread (with another namespace, the collector's thread there). A sink's error stops
  /// the dump and is returned; once rows have been handed over, a netlink failure is returned
  /// rather than answered from /proc.
  std::error_code list(const socket_query& q, row_sink& sink) noexcept;

  /// ss -E: follows the sockets the kernel frees, from the SKNLGRP_*_DESTROY groups of the
  /// query's families and protocols (TCP and UDP only: the kernel sends nothing else), and
  /// hands each to `sink` (one event per batch) if the query's expression selects it, judged
  /// as ss judges it (netid, addresses, ports, bound device; no mark or cgroup is sent).
  /// The state set is not applied: a freed socket is in TCP_CLOSE, mostly. Rows carry the
  /// event's attributes (INET_DIAG_INFO for TCP), no inode and no uid. Runs until the sink's
  /// keep_following() says no or its on_rows() fails (that error is returned), the watched
  /// process exits (errc::process_exited), or the socket fails. EINVAL for a query with no
  /// TCP or UDP in it. Netlink only, whatever the collector's source.
  std::error_code follow_destroyed(const socket_query& q, destroy_sink& sink) noexcept;

  /// ss -D: the raw replies of the TCP dumps `q` asks for (its states, families and idiag_ext;
  /// no expression: ss -D dumps before parsing one), IPv4's and then IPv6's, each ending with
  /// its NLMSG_DONE, as ss -D writes them for `TCPDIAG_FILE=FILE ss` to replay. `out` gets
  /// each datagram's bytes as received; its error stops the dump and is returned. Netlink only,
  /// whatever the collector's source; EINVAL for a query without TCP.
  std::error_code raw_tcp_dump(
      const socket_query& q,
      const std::function<std::error_code(std::span<const std::byte>)>& out) noexcept;

  /// Whether the kernel has socket diagnostics for `family` (and, for AF_INET, `protocol`):
  /// ENOENT when it has none (no sctp_diag, vsock_diag, ...: sock_diag_rcv_msg and
  /// inet_diag_lock_handler find no handler), {} or another error when it has. Netlink only.
  std::error_code probe_diag(std::uint8_t family, std::uint8_t protocol) noexcept;

  /// The probe API: measures and judges the TCP services `probes` name, into `out` (one state
  /// per probe, in order): each port's listeners and its fullest accept queue from one dump of
  /// the listening hash (idiag_states TCPF_LISTEN and the ports as bytecode: inet_diag_dump_icsk
  /// then never walks the established hash), and, only for the probes whose rules need it
  /// (needs_established), ESTABLISHED on their ports from one walk of the established hash.
  /// Then judge_service() with each probe's rules (from /proc, which shows no backlog, the
  /// queue rule is off: backlog_known false). measured_at_ns is the steady clock's time of the
  /// measurement. Allocates only when the set of ports differs from the last call's (the filter
  /// is built again) or a batch outgrows its buffer; none once warm. Calls to services() and
  /// service() from several threads at once are serialized by a lock inside; no other call
  /// may run concurrently with them. EINVAL if `out` is shorter than `probes` or a port is 0;
  /// errors as list().
  std::error_code services(std::span<const service_probe> probes,
                           std::span<service_state> out) noexcept;

  /// One service, as services(), answered from the last measurement of that port (with
  /// ESTABLISHED if the rules need it) when it is at most `max_age` old: concurrent health
  /// checks within the window share one dump. Judged by `rules` each time. Safe for concurrent
  /// callers (as services()); no allocation once warm (16 ports are remembered).
  std::error_code service(std::uint16_t port, const service_rules& rules, service_state& out,
                          std::chrono::nanoseconds max_age = {}) noexcept;

  /// Sockets the last snapshot() or list() left out because the kernel's dump reported them twice
  /// (the same socket cookie within 16 sockets: inet_diag resumes by hash position, and an
  /// insertion ahead of it repeats sockets). Counts report theirs in
  /// socket_summary::repeats_dropped.
  std::uint64_t repeats_dropped() const noexcept;

  /// The socket files of /proc whose lines the last count(), snapshot() or list() left out as
  /// malformed (neither counted nor listed: every use of a line judges it by the same fields),
  /// each with how many; empty when netlink answered or every line was whole. A caller says
  /// it (the CLI: one stderr line per file); it is no error. Allocates.
  std::vector<malformed_file> malformed_lines() const;

  /// Reads the kernel's counters (/proc/net/sockstat, sockstat6, snmp). Errors: the errno of a
  /// file that cannot be read, errc::parse_error for one that cannot be parsed; see
  /// error_context(). No allocation once warm.
  std::error_code read_counters(kernel_counters& out) noexcept;

  /// Reads every kernel counter (net/snmp, netstat, snmp6, sockstat, sockstat6) as
  /// "Group.Field" = value, in file order. Allocates. Errors as read_counters(), and ENOMEM.
  std::error_code read_all_counters(
      std::vector<std::pair<std::string, std::int64_t>>& out) noexcept;
  /// The same, also filling `summary` (what read_counters() gives) from the same reads: one
  /// pass over the files instead of two when both are wanted.
  std::error_code read_all_counters(std::vector<std::pair<std::string, std::int64_t>>& out,
                                    kernel_counters& summary) noexcept;

  /// Reads a sysctl of this collector's network namespace by its name under /proc/sys,
  /// slashes or dots ("net.ipv4.tcp_max_tw_buckets", "net/core/somaxconn"), as the integers it
  /// holds (tcp_mem has three, ip_local_port_range two). From <proc_root>/sys; for another
  /// namespace, /proc/sys opened on the collector's thread there, since net sysctls follow
  /// the opener's namespace. (Under a --proc-root mount they therefore show the namespace
  /// ssfast runs in, not the mounted host's.) Errors: the open()/read() errno (ENOENT: not on
  /// this kernel), errc::parse_error for text that is not integers, EINVAL for a bad name,
  /// ENOMEM. Allocates.
  std::error_code read_sysctl(std::string_view name, std::vector<std::int64_t>& values) noexcept;

  /// The source that answers count() and snapshot().
  source_kind source() const noexcept;

  /// Why the collector fell back to /proc; null if it did not.
  const fallback_info* fallback() const noexcept;

  /// The same as one line ("opening the sock_diag socket: Protocol not supported"); empty if
  /// it did not fall back. Allocates.
  std::string fallback_text() const;

  /// What the last failed call was doing ("TCP/IPv6 dump", "net/snmp", ...); empty after
  /// success. Static storage.
  std::string_view error_context() const noexcept;

  /// Watching /proc/PID/ns/net (collector_options::netns): a descriptor that polls readable
  /// once PID has exited, when every call fails errc::process_exited; a server or a --watch
  /// loop polls it to stop at once. -1 otherwise (or on a kernel without pidfd_open, 5.3).
  int exit_fd() const noexcept;

  /// One line for a person: what failed and why, "TCP/IPv6 dump: Permission denied" or, for
  /// a file, its path under the proc root this collector was given ("/host/proc/net/snmp: No
  /// such file or directory"). Allocates.
  std::string error_text(std::error_code ec) const;

 private:
  struct impl;
  explicit collector(std::unique_ptr<impl> p) noexcept;
  static result<collector> open_here(const collector_options& options) noexcept;
  std::unique_ptr<impl> impl_;
};

/// What one summary counts: the whole namespace in `scope` by `method`, or what `query` selects.
struct summary_request {
  count_scope scope;
  count_method method = count_method::exact;
  /// Set: count only the sockets it selects (collector::count with a query; `scope` and
  /// `method` are then unused).
  const socket_query* query = nullptr;
  /// Also read every kernel counter by name (what Prometheus carries), in the same pass.
  bool every_counter = false;
  /// Set: the sockets were already counted (the doctor's sample lists them anyway): no
  /// count is made, these are the summary's. Must outlive the call.
  const socket_summary* counted = nullptr;
};

/// One summary as collected: what `ssfast -s`, its --textfile and the exporter's /metrics
/// report, before any of them writes it.
struct summary_data {
  socket_summary sockets;
  /// The counters -s prints beside the sockets; unset when they could not be read, with
  /// `counters_error` saying why.
  std::optional<kernel_counters> counters;
  std::string counters_error;
  /// With summary_request::every_counter: every counter, "Group.Field" = value, in file order.
  std::vector<std::pair<std::string, std::int64_t>> every_counter;
  source_kind source = source_kind::netlink;
  std::string fallback_reason;  ///< collector::fallback_text(): why /proc answered, else empty
};

/// Counts through `c` as `r` asks and reads the kernel counters beside: the one collection
/// behind every summary report. Counters that cannot be read leave the result success (they are
/// context, not the answer); a count that fails returns its error with `error` set to
/// collector::error_text(). Allocates; syscalls as collector::count and read_all_counters.
SSFAST_API std::error_code collect_summary(collector& c, const summary_request& r,
                                           summary_data& out, std::string& error);

/// Which processes hold which sockets (ss -p): one scan of /proc/[pid]/fd, then O(1) lookups
/// by socket inode. Usable as the owner_lookup of the listing renderers.
class SSFAST_API process_owners final : public owner_lookup {
 public:
  process_owners();
  process_owners(process_owners&&) noexcept;
  process_owners& operator=(process_owners&&) noexcept;
  ~process_owners();

  /// Scans <proc_root>/[pid]/fd on `threads` threads (0: the CPUs, at most 8): readlinkat of
  /// each descriptor, no stat; then each owner's comm. Allocates the index. Without privilege
  /// other users' processes cannot be read: unreadable() counts them. Errors: <proc_root>
  /// unreadable; errc::not_procfs when "/proc" is not a proc filesystem.
  /// With `per_thread` (ss -T), each thread's table is read and each owner names its thread.
  std::error_code scan(const std::string& proc_root = "/proc", unsigned threads = 0,
                       bool per_thread = false);

  std::span<const process_ref> owners(std::uint64_t inode,
                                      std::vector<process_ref>& scratch) const override;
  /// Processes seen, and those whose descriptors could not be read.
  std::size_t processes() const noexcept;
  std::size_t unreadable() const noexcept;

 private:
  std::unique_ptr<proc::process_index> index_;
};

}  // namespace ssfast
