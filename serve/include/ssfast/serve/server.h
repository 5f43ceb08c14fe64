// SPDX-License-Identifier: Apache-2.0
// A small poll(2) TCP server for the exporter and the agent: bounded connections, bounded
// requests, a deadline on every connection. Single-threaded: one collector serves all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast::serve {

struct server_options {
  std::string listen;  ///< ADDR:PORT; [v6]:PORT; :PORT means every address (as node_exporter)
  std::size_t max_connections = 64;
  double timeout = 10;  ///< seconds a connection may take per request (idle included)
  std::size_t max_request = 8192;
  /// Where the server says what it did: "listening on ADDR:PORT" (the real port when given 0)
  /// once ready, or why it could not listen or poll. The library never prints.
  std::function<void(std::string_view)> log;
};

/// What the server does with each connection.
class SSFAST_API connection_handler {
 public:
  /// Once per wake-up of the server, before the connections that woke it are served:
  /// requests served after it all arrived before it.
  virtual void on_round() {}
  /// A new connection: may answer at once (the agent does).
  virtual void on_open(std::string& out, bool& close_after) = 0;
  /// Buffered input: returns how many bytes make a complete request (0: not yet), appending
  /// the response to `out`.
  virtual std::size_t on_input(std::string_view in, std::string& out, bool& close_after) = 0;
  /// The answer to a request over max_request bytes, or to a connection over the limit.
  virtual std::string too_large() = 0;
  virtual std::string busy() = 0;

 protected:
  ~connection_handler() = default;
};

/// Listens and serves until killed, one connection at a time per poll(2) round, each bounded by
/// `o`. Returns an exit code if it cannot: 2 for an --listen that is not an address, 1 if it
/// cannot listen there (said through o.log).
SSFAST_API int serve(const server_options& o, connection_handler& h);

/// Splits "ADDR:PORT" / "[ADDR]:PORT" / ":PORT"; false with a reason on error.
SSFAST_API bool parse_listen(std::string_view s, std::string& addr, std::uint16_t& port,
                             std::string& err);

}  // namespace ssfast::serve
