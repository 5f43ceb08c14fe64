// SPDX-License-Identifier: Apache-2.0
// IP address text: parsing and printing as ss does, without the C library's resolver headers.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"
#include "ssfast/core/socket_table.h"

namespace ssfast {

/// Dotted quad into the first 4 bytes of `out` (network order); the rest zeroed.
SSFAST_API bool parse_ipv4(std::string_view s, address_bytes& out) noexcept;

/// RFC 4291 text (with "::" and an optional dotted-quad tail) into `out`.
SSFAST_API bool parse_ipv6(std::string_view s, address_bytes& out) noexcept;

/// ::ffff:a.b.c.d
constexpr bool is_v4_mapped(const address_bytes& a) noexcept {
  for (int i = 0; i < 10; ++i)
    if (a[static_cast<std::size_t>(i)] != 0) return false;
  return a[10] == 0xFF && a[11] == 0xFF;
}

/// Appends the address as text: IPv4 dotted quad; IPv6 in RFC 5952 form (lower case, the
/// longest run of two or more zero groups as "::", a mapped IPv4 tail as a dotted quad).
/// `family` is AF_INET (2) or AF_INET6 (10).
SSFAST_API void append_address(std::string& out, std::uint8_t family, const address_bytes& a);

/// Whether the first `bits` bits of `a` and `b` agree: the kernel's bitstring_match
/// (net/ipv4/inet_diag.c), which both the bytecode interpreter and the filter evaluator use.
/// No allocation.
SSFAST_API bool prefix_match(const std::uint8_t* a, const std::uint8_t* b, unsigned bits) noexcept;

/// Appends "addr:port" as ss prints it numerically: IPv6 in brackets ("[::1]:22"), and with
/// `zero_port_as_star` port 0 as '*' (a peer that has none). No allocation beyond `out`.
SSFAST_API void append_endpoint(std::string& out, std::uint8_t family, const address_bytes& a,
                                std::uint16_t port, bool zero_port_as_star);

/// The same into a fixed buffer, NUL-terminated (cut short if it does not fit; 48 bytes hold
/// any): returns the characters written. No allocation.
SSFAST_API std::size_t format_endpoint(std::span<char> out, std::uint8_t family,
                                       const address_bytes& a, std::uint16_t port) noexcept;

/// "127.0.0.1:80", "[::1]:443": an address and port as ss prints an endpoint.
SSFAST_API std::string endpoint_text(std::uint8_t family, const address_bytes& a,
                                     std::uint16_t port);

}  // namespace ssfast
