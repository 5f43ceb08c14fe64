// Command-line parsing for the ssfast binary: argv in, a command or a one-line usage error out.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "ssfast/core/summary.h"

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
};

struct parse_result {
  options opts;
  std::string error;  ///< one line naming the offending argument; empty on success
};

/// Parses argv[1..]. Short options may be grouped (-s4j). Allocates only for the error text.
parse_result parse_args(std::span<const char* const> args);

/// The --help text.
std::string_view usage() noexcept;

}  // namespace ssfast::cli
