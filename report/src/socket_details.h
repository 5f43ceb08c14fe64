// SPDX-License-Identifier: Apache-2.0
// A socket's netlink attributes (socket_row::attributes) decoded into what ss prints after
// the addresses: -e, -m, -i, --tos and --cgroup, in ss's words and order, and as JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ssfast/core/socket_attributes.h"
#include "ssfast/core/socket_table.h"
#include "ssfast/report/json_writer.h"
#include "ssfast/report/listing.h"

namespace ssfast::report_detail {

/// printf("%g", us / 1000.0): ss's microseconds as milliseconds (rtt, rto, ato, minrtt), in
/// integers where they say exactly what printf says, else through the double.
void append_ms_of_us(std::string& out, std::uint64_t us);

/// ss's sprint_bw of num/den bits per second ("%.3g" and k, M, G or T; with `numeric`
/// "%.0f"), as append_ms_of_us: exact integers, the double where they cannot tell.
__extension__ void append_rate(std::string& out, unsigned __int128 num, unsigned __int128 den,
                               bool numeric);

/// ss's timer names: off, on, keepalive, timewait, persist, unknown.
std::string_view timer_name(std::uint8_t timer) noexcept;

/// Appends what ss prints after a socket's addresses (its Process column): users:(...) with
/// owners, timer:(...) with timers, then -e's fields, --tos, --cgroup, and -m/-i (on a second
/// line starting "\n\t" unless oneline). Every item starts with a space, as in ss.
void append_socket_details(std::string& out, const socket_row& r, const listing_style& s,
                           std::vector<process_ref>& scratch);

/// The same facts as JSON members of the row's object (the caller has opened it).
void json_socket_details(json_writer& w, const socket_row& r, const listing_style& s);

}  // namespace ssfast::report_detail
