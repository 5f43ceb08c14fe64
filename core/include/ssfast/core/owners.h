// SPDX-License-Identifier: Apache-2.0
// Who holds a socket: the interface a listing asks for a socket inode's owning processes (ss
// -p), filled by the api's /proc/[pid]/fd scan.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ssfast/core/export.h"

namespace ssfast {

/// One process holding a socket.
struct process_ref {
  std::uint32_t pid = 0;
  std::int32_t fd = -1;
  std::string_view comm;  ///< empty if unknown
  std::uint32_t tid = 0;  ///< the thread (ss -T); 0: the process as a whole
};

/// Supplies the processes holding a socket inode; `scratch` may be used for storage.
class SSFAST_API owner_lookup {
 public:
  virtual std::span<const process_ref> owners(std::uint64_t inode,
                                              std::vector<process_ref>& scratch) const = 0;

 protected:
  ~owner_lookup() = default;
};

}  // namespace ssfast
