// SPDX-License-Identifier: Apache-2.0
// Writing a report where another program reads it: node_exporter's textfile collector.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast {

/// Replaces the file `path` with `data` so that a reader sees the old file or the new one,
/// never a part: an unnamed file (O_TMPFILE) in the same directory, mode 0644, written and
/// fsync'd, then linked at a random temporary name (PATH.tmp.<16 hex>, not ending in .prom)
/// and renamed over the target; where O_TMPFILE is unsupported, a temporary of that name
/// created O_EXCL|O_NOFOLLOW. A target that exists and is not a regular file is refused.
/// Returns an error line naming the path, empty on success. Allocates.
SSFAST_API std::string write_file_atomically(const std::string& path, std::string_view data);

/// Removes what a writer of `path` left behind (killed between its link and its rename, or an
/// older ssfast killed while it wrote): PATH.tmp.<16 hex> files that are regular and owned by
/// the effective uid; a link, or a file of another user, is left alone. Returns how many.
SSFAST_API std::size_t remove_stale_temporaries(const std::string& path);

}  // namespace ssfast
