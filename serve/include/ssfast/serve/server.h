// SPDX-License-Identifier: Apache-2.0
// A small poll(2) TCP server for the exporter and the agent: bounded connections, bounded
// requests, a deadline on every connection. Single-threaded: one collector serves all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ssfast/core/export.h"

namespace ssfast::serve {

struct server_options {
  std::string listen;  ///< ADDR:PORT; [v6]:PORT; :PORT means every address (as node_exporter)
  /// Connections served at once. Past it a new connection takes the place of the one that has
  /// waited longest without sending a complete request (a slow or idle client); when every
  /// connection is busy with an answer, the new one is told busy() and closed. The soft
  /// RLIMIT_NOFILE is raised (up to the hard one) to fit it, or it is lowered, said via log.
  std::size_t max_connections = 64;
  /// Connections at once from one peer address (IPv6: one /64); more are closed unanswered,
  /// so one host cannot take every slot.
  std::size_t max_per_peer = 16;
  double timeout = 10;  ///< seconds a connection may sit idle, or take to take an answer
  /// Seconds from a request's first byte to its complete head: a client that trickles its
  /// request (slowloris) is cut off here, whatever `timeout` allows.
  double head_timeout = 2;
  std::size_t max_request = 8192;
  /// A descriptor that ends the server when it polls readable (collector::exit_fd(): the
  /// process whose namespace is served has exited): serve() says `stop_reason` through log
  /// and returns 1. -1: none.
  int stop_fd = -1;
  std::string stop_reason;
  /// Where the server says what it did: "listening on ADDR:PORT" (the real port when given 0)
  /// once ready, why it could not listen or poll, and a connection limit it had to lower. The
  /// library never prints.
  std::function<void(std::string_view)> log;
};

/// One answer to send: its head (or the whole of a small answer), then the body, which answers
/// made from one collection share rather than copy. A connection holds one answer at a time.
struct answer {
  std::string head;
  std::shared_ptr<const std::string> body;  ///< null: nothing after the head
  bool close_after = false;                 ///< close the connection once it is sent

  std::size_t size() const noexcept { return head.size() + (body ? body->size() : 0); }
};

/// What the server does with each connection.
class SSFAST_API connection_handler {
 public:
  /// Once per wake-up of the server, before the connections that woke it are served:
  /// requests served after it all arrived before it.
  virtual void on_round() {}
  /// A new connection: may answer at once (the agent does).
  virtual void on_open(answer& out) = 0;
  /// Seconds a new connection may take to send a complete request before on_quiet() is asked
  /// for an answer; 0: no such limit (the server's timeouts apply, and the connection is
  /// closed at them unanswered).
  virtual double quiet_after() const noexcept { return 0; }
  /// The connection sent no complete request within quiet_after() (`in` is what it sent, at
  /// most max_request bytes): an answer in `out` and true, or false to close it unanswered.
  virtual bool on_quiet(std::string_view in, answer& out) {
    (void)in;
    (void)out;
    return false;
  }
  /// Buffered input: returns how many bytes make the first complete request (0: not yet),
  /// its answer in `out`. One request at a time: the next buffered one is handed over only
  /// once this answer is sent, so pipelined requests from a client that never reads cost one
  /// answer, not one each.
  virtual std::size_t on_input(std::string_view in, answer& out) = 0;
  /// The answer to a request over max_request bytes, or to a connection over the limit.
  virtual std::string too_large() = 0;
  virtual std::string busy() = 0;

 protected:
  ~connection_handler() = default;
};

/// Listens on o.listen and serves until killed, one connection at a time per poll(2) round, each
/// bounded by `o`: memory per connection is one request head, one answer's head and a share of a
/// body. Returns an exit code if it cannot: 2 for an --listen that is not an address, 1 if it
/// cannot listen there (said through o.log).
SSFAST_API int serve(const server_options& o, connection_handler& h);

/// One address served, and what serves it.
struct endpoint {
  std::string listen;  ///< as server_options::listen
  connection_handler* handler = nullptr;
};

/// As serve(o, h), on several addresses at once (o.listen unused), each with its handler, in
/// one poll loop: the connection limits count every endpoint's connections together.
SSFAST_API int serve(const server_options& o, const std::vector<endpoint>& endpoints);

/// Splits "ADDR:PORT" / "[ADDR]:PORT" / ":PORT"; false with a reason on error.
SSFAST_API bool parse_listen(std::string_view s, std::string& addr, std::uint16_t& port,
                             std::string& err);

}  // namespace ssfast::serve
