// Command-line parsing for the ssfast binary: argv in, a command or a one-line usage error out.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ssfast/core/summary.h"
#include "ssfast/ssfast.h"

namespace ssfast::cli {

/// Exit codes, documented in the README.
enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1,  ///< could not collect (netlink error, no source)
  exit_usage = 2,    ///< bad option or value
};

enum class command { none, summary, help, version };

struct options {
  command cmd = command::none;
  bool json = false;
  count_scope scope;
  source_choice source = source_choice::automatic;
  std::string proc_root = "/proc";
  unsigned threads = 0;  ///< 0: the library's default
  count_method method = count_method::exact;
};

struct parse_result {
  options opts;
  std::string error;  ///< one line naming the offending argument; empty on success
};

/// Parses argv[1..]. Short options may be grouped (-s4j). Allocates only for the error text.
parse_result parse_args(std::span<const char* const> args);

/// The test seam's environment variable: SSFAST_INJECT_NETLINK_FAILURE=open:ERRNO or
/// dump:ERRNO (ERRNO a name such as EACCES, or a number) makes netlink fail that way.
inline constexpr const char* fault_env = "SSFAST_INJECT_NETLINK_FAILURE";

/// Parses the seam's value; returns an error line, empty on success.
std::string parse_fault(std::string_view value, netlink_fault& out);

/// The --help text.
std::string_view usage() noexcept;

}  // namespace ssfast::cli
