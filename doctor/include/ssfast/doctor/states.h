// SPDX-License-Identifier: Apache-2.0
// The TCP state reference behind `ssfast states`: the eleven states, who holds each, how it is
// entered and left, and how long it lasts on Linux (RFC 9293 section 3.3.2 and Linux's
// behaviour).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast {

/// One row of the TCP state reference (RFC 9293 section 3.3.2 and Linux's behaviour).
struct state_reference {
  std::string_view name;     ///< netstat's name
  std::string_view side;     ///< who holds it
  std::string_view entered;  ///< how a socket gets there
  std::string_view left;     ///< how it leaves
  std::string_view lasts;    ///< how long, on Linux, and what bounds it
};

/// The eleven states, in the kernel's order.
SSFAST_API const std::array<state_reference, 11>& tcp_state_reference() noexcept;

/// Appends the reference: every state after a short introduction, or only the states in
/// `only` (TCP_* values 1..11, in that order). Allocates to grow `out`.
SSFAST_API void render_states_text(std::string& out, std::span<const std::uint8_t> only = {});
/// The same as a JSON array of {state, kernel_value, side, entered, left, lasts}.
SSFAST_API void render_states_json(std::string& out, std::span<const std::uint8_t> only = {});

}  // namespace ssfast
