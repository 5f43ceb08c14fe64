// SPDX-License-Identifier: Apache-2.0
// Compiling a socket_filter expression into INET_DIAG bytecode, so the kernel drops the
// sockets that do not match before building their messages.
#pragma once

#include <cstddef>
#include <span>
#include <system_error>
#include <vector>

#include "ssfast/core/error.h"
#include "ssfast/core/filter.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/netlink/bytecode.h"
#include "ssfast/netlink/request.h"

namespace ssfast::netlink {

/// Largest program compile_filter produces: what one request's attribute carries.
inline constexpr std::size_t max_filter_bytecode = max_request_bytecode;

/// Deepest expression tree compile_filter takes (parse_filter never builds deeper).
inline constexpr std::size_t max_filter_depth = 512;

/// Compiles f's expression. An empty result means "every socket" (no expression, or one that
/// always holds). Blocks are laid out so that running off a block's end means true and jumping
/// 4 bytes past it means false; AND, OR (through a JMP) and NOT (a JMP) keep every "no" target
/// on the chain of "yes" jumps, as the kernel's audit requires. Allocates `out`. Errors:
/// errc::filter_too_large past max_filter_bytecode (a jump offset would not fit either) or
/// max_filter_depth.
std::error_code compile_filter(const socket_filter& f, std::vector<std::byte>& out);

}  // namespace ssfast::netlink
