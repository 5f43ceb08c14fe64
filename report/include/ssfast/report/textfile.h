// SPDX-License-Identifier: Apache-2.0
// Writing a report where another program reads it: node_exporter's textfile collector.
#pragma once

#include <string>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast {

/// Replaces the file `path` with `data` so that a reader sees the old file or the new one,
/// never a part: a temporary with a random name in the same directory (not ending in .prom),
/// created O_EXCL|O_NOFOLLOW, mode 0644, fsync, rename over the target. A target that exists
/// and is not a regular file is refused. Returns an error line naming the path, empty on
/// success. Syscalls: open, write, fsync, rename (unlink on failure). Allocates.
SSFAST_API std::string write_file_atomically(const std::string& path, std::string_view data);

}  // namespace ssfast
