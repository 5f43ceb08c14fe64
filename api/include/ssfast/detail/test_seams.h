// SPDX-License-Identifier: Apache-2.0
// Fault injection for ssfast's own tests: compiled in only with -DSSFAST_TEST_SEAMS=ON (the
// test build), never installed, and absent from release binaries and libssfast.
#pragma once

#include "ssfast/core/export.h"

namespace ssfast::detail {

/// Make netlink fail as a kernel or a policy would, to exercise the /proc fallback.
struct netlink_fault {
  int error = 0;         ///< errno to fail with; 0 injects nothing
  bool at_dump = false;  ///< fail each dump (as a missing diag module does) instead of open
  bool hang = false;     ///< each dump blocks forever instead (tests of hard timeouts)
};

#if defined(SSFAST_TEST_SEAMS)
/// Every collector opened after this call, on any thread, fails netlink as `f` says, until
/// it is called again with {}. Not synchronised: set it before opening. No allocation.
SSFAST_API void inject_netlink_fault(const netlink_fault& f) noexcept;
#endif

}  // namespace ssfast::detail
