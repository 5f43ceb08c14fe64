// SPDX-License-Identifier: Apache-2.0
// The exporter's own series (how long a scrape took, scrapes, errors, collections), written by
// the same Prometheus writer as the socket series.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast {

/// What the exporter says of itself after each collection.
struct exporter_counts {
  double scrape_seconds = 0;      ///< how long this collection took
  std::uint64_t scrapes = 0;      ///< scrapes answered, this one included
  std::uint64_t errors = 0;       ///< scrapes whose collection failed
  std::uint64_t collections = 0;  ///< collections made; scrapes waiting together share one
};

/// Appends ssfast_scrape_duration_seconds (gauge, microseconds), ssfast_exporter_scrapes_total,
/// ssfast_exporter_scrape_errors_total and ssfast_exporter_collections_total, each with HELP
/// and TYPE. Allocates for `out`.
SSFAST_API void render_exporter_prometheus(const exporter_counts& c, std::string& out);

/// One listener address (SO_REUSEPORT siblings summed) as the exporter writes it.
struct listener_series {
  std::string_view family;   ///< "ipv4", "ipv6"
  std::string_view address;  ///< "0.0.0.0", "::", "127.0.0.1" (no brackets, no port)
  std::uint16_t port = 0;
  std::uint64_t accept_queue = 0, backlog = 0;  ///< the siblings' summed
  std::uint64_t syn_recv = 0;                   ///< request sockets
  std::uint64_t syn_limit = 0;                  ///< the SYN queue's limit as the kernel applies it
  std::uint64_t drops = 0;  ///< the siblings' own drop counters (SK_MEMINFO_DROPS), summed
};

/// Appends ssfast_listener_accept_queue, _backlog, _syn_recv, _syn_limit (gauges) and
/// ssfast_listener_drops_total (counter), labelled {family,address,port}, for the first
/// `max` of `l` (the caller orders them by port, so the set is stable), then
/// ssfast_listeners_omitted (gauge): how many were left out. Allocates for `out`.
SSFAST_API void render_listeners_prometheus(std::span<const listener_series> l, std::size_t max,
                                            std::string& out);

/// One finding of the doctor's rules, as a series.
struct finding_series {
  std::string_view id, severity, subject;
};

/// Appends ssfast_finding{id,severity,subject} 1 for each finding (the namespace's subject is
/// ""), and ssfast_findings_judged 1 (0 before the first interval: nothing judged yet, which
/// is not "nothing found"). Allocates for `out`.
SSFAST_API void render_findings_prometheus(std::span<const finding_series> f, bool judged,
                                           std::string& out);

/// Whether one of the doctor's rules ran over the last interval.
struct rule_series {
  std::string_view id;
  bool evaluated = false;  ///< false: an input it needs could not be read
};

/// Appends ssfast_rule_evaluated{id} (gauge): 1 for each rule that ran, 0 for one whose input
/// could not be read, so a finding that cannot appear (and the alert on it) is seen, not
/// silently missing. Nothing when `r` is empty (no interval judged yet). Allocates for `out`.
SSFAST_API void render_rules_prometheus(std::span<const rule_series> r, std::string& out);

}  // namespace ssfast
