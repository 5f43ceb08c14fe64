// SPDX-License-Identifier: Apache-2.0
// ESTABLISHED derived from the kernel's gauges around a dump of every other TCP state: the one
// rule behind count_method::derived (ssfast -s, check, record, --all-netns) and the doctor's
// deriving sample.
#pragma once

#include <array>
#include <cstdint>

#include "ssfast/core/export.h"
#include "ssfast/core/socket_summary.h"

namespace ssfast {

/// What a derivation reads: the gauges before and after a dump of every TCP state but
/// ESTABLISHED, and what that dump held.
struct derivation_input {
  tcp_gauges before, after;
  /// Per family (0 IPv4, 1 IPv6): the full sockets the dump reported, that is every socket but
  /// the timewait minisockets (reported with timer 3) and the request sockets (SYN_RECV).
  std::array<std::uint64_t, 2> full_other{};
  std::uint64_t close_wait = 0;  ///< CLOSE_WAIT sockets the dump reported, both families
  /// Per family: ESTABLISHED sockets seen anyway (a listing of some of them): a lower bound.
  std::array<std::uint64_t, 2> at_least{};
};

struct derivation_result {
  socket_summary::derivation_status status = socket_summary::derivation_status::gauge_missing;
  std::array<std::uint64_t, 2> established{};  ///< per family, when taken
};

/// Why the two derivations are exact when nothing changes state during the dump, and agree:
/// - tcp_set_state() (net/ipv4/tcp.c) moves TCP_MIB_CURRESTAB up on entry into ESTABLISHED
///   and down on leaving ESTABLISHED or CLOSE_WAIT for any state but CLOSE_WAIT: CurrEstab is
///   ESTABLISHED + CLOSE_WAIT of the namespace.
/// - sockstat's TCP inuse (sock_prot_inuse_get(net, &tcp_prot); TCP6 for tcpv6_prot) moves up
///   when a full socket is hashed (inet_hash() for a listener, inet_ehash_nolisten() for every
///   other state) and down in inet_unhash(); timewait and request minisockets are hashed
///   without it. A socket's family and protocol go together (an AF_INET6 socket with a mapped
///   peer stays tcpv6_prot), so per family inuse is the full sockets a dump reports in it.
/// A dump reports every hashed socket of the namespace (inet_diag_dump_icsk(): the listening
/// hash for LISTEN, the established hash for the rest), so with the gauges unchanged across
/// it, ESTABLISHED = CurrEstab - CLOSE_WAIT = sum over families of (inuse - full sockets).
/// The two share only the dump's CLOSE_WAIT: a dump that misses or repeats a socket of any
/// other state, a full socket counted as a minisocket (a Fast Open child in SYN_RECV) or a
/// gauge a kernel counts otherwise makes them differ. So: gauge_missing unless every gauge
/// was read both times; gauges_moved unless they are the same; disagreed unless the two agree
/// (and each family's reaches at_least); else taken, ESTABLISHED per family from inuse.
/// No allocation.
SSFAST_API derivation_result derive_established(const derivation_input& in) noexcept;

/// Whether a collector that counts again and again (the exporter, record, --watch, an
/// embedder's loop) should try the derivation this time. A try that fails (gauges_moved or
/// disagreed: sockets changed state during its dump) costs its dump of every other state on
/// top of the walk that answers. The dump is the cheap part (~0.26x the walk at 228k sockets,
/// docs/performance.md), so trying pays while fewer than ~3 tries in 4 fail; churn that makes
/// them fail in a row makes it lose. After `patience` failures in a row the next counts walk
/// without trying: 1, then 2, 4, ... up to `longest_pause` counts between single tries, and
/// one derivation taken starts over. Other outcomes (a gauge missing, one family asked) say
/// nothing of churn and leave it as it is. No allocation; not thread-safe: the netlink source
/// keeps one (so each collector has its own), and so does each doctor_sampler.
class SSFAST_API derivation_backoff {
 public:
  static constexpr unsigned patience = 3;
  static constexpr unsigned longest_pause = 16;

  /// True: derive this time. False: walk at once (a count of the pause is used up).
  bool should_try() noexcept;
  /// What the try that should_try() allowed came to.
  void record(socket_summary::derivation_status outcome) noexcept;

 private:
  unsigned failures_ = 0;  // failed tries in a row
  unsigned pause_ = 0;     // the length of the pause that follows the next failure
  unsigned left_ = 0;      // counts still to walk without trying
};

}  // namespace ssfast
