// SPDX-License-Identifier: Apache-2.0
// The exporter's own series (how long a scrape took, scrapes, errors, collections), written by
// the same Prometheus writer as the socket series.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace ssfast
