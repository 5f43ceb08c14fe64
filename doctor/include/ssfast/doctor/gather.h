// SPDX-License-Identifier: Apache-2.0
// Gathering the evidence `ssfast doctor` diagnoses (ssfast/doctor/doctor.h): counters over an
// interval, the TCP table's groupings, listeners, sysctls, and owners where they matter.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "ssfast/doctor/doctor.h"
#include "ssfast/ssfast.h"

namespace ssfast {

struct doctor_options {
  double interval_s = 1;            ///< between the two samples of counters and CLOSE_WAIT
  bool processes = true;            ///< name the owners of leaking or backed-up sockets
  std::string proc_root = "/proc";  ///< where /proc/[pid]/fd is, for the owners
  /// The sockets to judge (one service: "sport = :443"); null: every socket. Counters and
  /// sysctls stay the namespace's. Must outlive the gathering.
  const socket_query* filter = nullptr;
  /// The protocols counted beside TCP (which is always listed), for the socket summary.
  count_scope scope;
  /// How a doctor_sampler counts ESTABLISHED. automatic: once a sample finds at least
  /// derive_min_established ESTABLISHED sockets, fewer than half of them on a local port of
  /// ip_local_port_range (a server's inbound connections), the next samples list only the
  /// others and those on ephemeral ports, and derive the total from the kernel's gauges as
  /// `ssfast -s` does (falling back to an exact count when the gauges moved). always: from the
  /// first sample; never: list every socket each time. While derivations fail (churn), the
  /// deriving samples list every socket instead, as derivation_backoff says.
  enum class established_way : std::uint8_t { automatic, always, never };
  established_way established = established_way::automatic;
  static constexpr std::uint64_t derive_min_established = 8192;
};

/// Samples everything diagnose() needs from `c`'s namespace: all counters, then the
/// CLOSE_WAIT sockets; after the interval all counters again, the socket summary, every TCP
/// socket (one listing, grouped here: listeners with their queues and SYN_RECV, ephemeral
/// ports per (local address, remote address:port), SYN_RECV sources, CLOSE_WAIT still there,
/// FIN_WAIT2 orphaned or held), the sysctls, and, when a CLOSE_WAIT leak or a full accept
/// queue shows, one scan of /proc/[pid]/fd for the owners. Costs two counter reads, a count
/// and two listings (the second of every TCP socket: about 1.5 us per socket), plus the
/// interval. Errors: the collector's, with its error_context(). Allocates.
SSFAST_API std::error_code gather_doctor_evidence(collector& c, const doctor_options& o,
                                                  doctor_evidence& out);

/// Evidence from consecutive samples, for what reports again and again (the live view, the
/// --watch lines): each sample() is one full sample as gather_doctor_evidence() ends with,
/// and, from the second on, the evidence over the time since the previous sample (measured,
/// in interval_s), so the same rules judge it. Keeps the previous sample's counters,
/// CLOSE_WAIT ids (memory follows the CLOSE_WAIT count) and listeners' drop counters.
class SSFAST_API doctor_sampler {
 public:
  explicit doctor_sampler(const doctor_options& o);
  doctor_sampler(const doctor_sampler&) = delete;
  doctor_sampler& operator=(const doctor_sampler&) = delete;
  ~doctor_sampler();
  /// Samples `c`'s namespace into `out`; `ready` is false on the first sample (no interval
  /// yet: nothing to judge). Costs a counter read, a count of UDP and UNIX in scope and one
  /// listing of TCP (or, deriving ESTABLISHED, see doctor_options::established, a listing of
  /// every other state, one of the ESTABLISHED sockets on ephemeral local ports, and a
  /// counter read; out.sockets.derivation says how it went). Errors: the collector's.
  /// Allocates.
  std::error_code sample(collector& c, doctor_evidence& out, bool& ready);

 private:
  struct state;
  std::unique_ptr<state> s_;
};

/// Every TCP listener `filter` selects (all when null) with its accept queue, backlog, drop
/// counter and SYN queue (request sockets, their sources and SYN-ACK retransmissions), as
/// gather_doctor_evidence() fills doctor_evidence::listeners; drops_delta is the whole
/// counter (there is no interval). One listing of LISTEN and SYN_RECV sockets: the listening
/// hash, and the established hash for the request sockets (a walk of it, few messages).
/// Errors: the collector's. Allocates.
SSFAST_API std::error_code gather_listeners(collector& c, const socket_query* filter,
                                            std::vector<listener_evidence>& out);
/// The same; without `request_sockets` only LISTEN sockets are listed (the listening hash, no
/// walk of the established hash), and each listener's syn_recv is 0: not measured.
SSFAST_API std::error_code gather_listeners(collector& c, const socket_query* filter,
                                            std::vector<listener_evidence>& out,
                                            bool request_sockets);

/// The sysctls the doctor reads (doctor_sysctls), as `c`'s namespace shows them; each that
/// cannot be read stays empty and is named in `unreadable` with why. Allocates.
SSFAST_API void read_doctor_sysctls(collector& c, doctor_sysctls& out,
                                    std::map<std::string, std::string>& unreadable);

}  // namespace ssfast
