// SPDX-License-Identifier: Apache-2.0
// Error codes for ssfast: protocol conditions in the ssfast category, errno values in
// std::system_category(), and a small std::expected-shaped result<T> for construction.
#pragma once

#include <cassert>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "ssfast/core/export.h"

namespace ssfast {

/// Conditions ssfast itself detects. Errno values are reported in std::system_category().
enum class errc {
  truncated = 1,            ///< a datagram or message was cut short (MSG_TRUNC, short header)
  bad_message,              ///< a message is malformed: length past the buffer, short payload, ...
  foreign_sender,           ///< a datagram came from a sender other than the kernel (port id != 0)
  portid_mismatch,          ///< a message carries another socket's port id
  seq_mismatch,             ///< a message carries another request's sequence number
  unexpected_message,       ///< a message type the dump does not produce
  dump_interrupted,         ///< the kernel flagged the dump inconsistent (NLM_F_DUMP_INTR)
  unexpected_eof,           ///< the socket returned end of data before NLMSG_DONE
  bad_state,                ///< a socket state outside 0..15
  backend_unavailable,      ///< no source could be opened
  parse_error,              ///< a /proc text file does not have the expected shape
  filter_too_large,         ///< a filter compiles to more bytecode than one request carries
  not_a_network_namespace,  ///< a namespace path names something else (a FIFO, a file, ...)
  bad_filter,               ///< a filter expression does not parse (C API; C++ callers get why)
  process_exited,           ///< the process whose namespace is watched (/proc/PID/ns/net) exited
  not_a_regular_file,       ///< a /proc file under --proc-root is a FIFO, a device, a directory
  not_procfs,               ///< /proc is not a proc filesystem (an empty tmpfs mounted over it)
  filter_needs_netlink,     ///< a dev, fwmark, cgroup or autobound condition asked of /proc
};

/// The last errc value; the C API's SSFAST_E* codes mirror 1..errc_last.
inline constexpr int errc_last = static_cast<int>(errc::filter_needs_netlink);

/// A static description of an ssfast::errc value ("unknown ssfast error" for others). No
/// allocation; thread-safe.
SSFAST_API const char* errc_message(int value) noexcept;

/// The ssfast error category ("ssfast"); messages are static strings.
SSFAST_API const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// An errno value as an error_code in the system category.
inline std::error_code errno_code(int e) noexcept { return {e, std::system_category()}; }

/// A value or an error, shaped like std::expected (which C++20 lacks). No allocation of its own.
template <class T>
class result {
 public:
  result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)  // NOLINT: implicit by design
      : v_(std::in_place_index<0>, std::move(value)) {}
  result(std::error_code ec) noexcept : v_(std::in_place_index<1>, ec) {}      // NOLINT
  result(errc e) noexcept : v_(std::in_place_index<1>, make_error_code(e)) {}  // NOLINT

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & noexcept {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && noexcept {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  const T& value() const& noexcept {
    assert(has_value());
    return std::get<0>(v_);
  }
  T& operator*() & noexcept { return value(); }
  T&& operator*() && noexcept { return std::move(*this).value(); }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }
  std::error_code error() const noexcept {
    return has_value() ? std::error_code{} : std::get<1>(v_);
  }

 private:
  std::variant<T, std::error_code> v_;
};

}  // namespace ssfast

template <>
struct std::is_error_code_enum<ssfast::errc> : std::true_type {};
