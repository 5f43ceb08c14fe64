// SPDX-License-Identifier: Apache-2.0
// Just enough HTTP/1.x for the exporter: parse one request head, build one response. Pure
// functions over buffers, so the exporter's edge cases are unit-tested without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ssfast/core/export.h"

namespace ssfast::serve {

struct http_request {
  std::string_view method, target, version;  ///< views into the buffer given to parse
  bool keep_alive = false;  ///< HTTP/1.1 unless "Connection: close"; HTTP/1.0 never
  std::size_t size = 0;     ///< bytes of the head, terminator included
  /// Prometheus's X-Prometheus-Scrape-Timeout-Seconds, when sent as a number of seconds > 0.
  double scrape_timeout = 0;
};

enum class http_parse { incomplete, complete, bad };

/// Parses the request head at the start of `in` (request line, headers, empty line; CRLF or
/// bare LF). A request with a body (Content-Length other than 0, or Transfer-Encoding) is
/// `bad`: /metrics takes none, and skipping an unread body would desynchronise the stream.
SSFAST_API http_parse parse_http_request(std::string_view in, http_request& out);

/// What begin_http_answer() did: the bytes of the input it used (0: the head is not complete
/// yet), and whether the request is left for the caller to route.
struct http_begin {
  std::size_t used = 0;
  bool route = false;
};

/// The start of every handler's answer to the head at the start of `in`: a malformed head or
/// one with a body gets a 400 and `close_after` (all of `in` used: the stream cannot be
/// trusted past it); a method other than GET and HEAD a 405 with "Allow: GET, HEAD" and
/// `extra_headers`; both in `head`. Otherwise `r` is the request, `close_after` is set from
/// its keep-alive, and route is true. Allocates only the answer it writes.
SSFAST_API http_begin begin_http_answer(std::string_view in, http_request& r, std::string& head,
                                        bool& close_after, std::string_view extra_headers = {});

/// The answer to a request head over the server's limit: 431 and the connection closed. Every
/// HTTP handler's too_large(). Allocates.
SSFAST_API std::string http_too_large();

/// The answer to a connection the server has no slot for: 503 with Retry-After: 1, `body`
/// and `extra_headers` (each line ending in CRLF). Allocates.
SSFAST_API std::string http_busy(std::string_view body, std::string_view extra_headers = {});

/// Whether a parsed request is a GET or HEAD of /metrics (a query string allowed): the one route
/// that costs a collection, so the exporter collects only for it.
SSFAST_API bool needs_metrics(const http_request& r) noexcept;

/// What a readiness request's target asks: "/ready" (the one service), "/ready/PORT" (decimal,
/// no leading zero), each
/// with an optional query where "drain=404" asks for a drain to be answered 404 (HAProxy's
/// http-check disable-on-404); anything else is `none`.
struct ready_target {
  enum kind_t : std::uint8_t { none, one_service, one_port } kind = none;
  std::uint16_t port = 0;  ///< with kind one_port: 1..65535
  bool drain_as_404 = false;
};
SSFAST_API ready_target parse_ready_target(std::string_view target) noexcept;

/// How a response goes out.
struct response_options {
  bool keep_alive = false;              ///< "Connection: keep-alive", else "close"
  bool head_only = false;               ///< the answer to HEAD: no body after the head
  std::string_view extra_headers = {};  ///< whole header lines, each ending "\r\n"
};

/// Appends a response head for a body of `body_size` bytes that the caller sends after it:
/// status line, Content-Type, Content-Length, Connection, the extra headers, the empty line.
SSFAST_API void http_response_head(std::string& out, int status, std::string_view content_type,
                                   std::size_t body_size, const response_options& o = {});

/// Appends a complete response: the head and the body (not with head_only).
SSFAST_API void http_response(std::string& out, int status, std::string_view content_type,
                              std::string_view body, const response_options& o = {});

/// "200 OK", "404 Not Found", ...: the reason phrase for the statuses the exporter uses.
SSFAST_API std::string_view http_reason(int status) noexcept;

}  // namespace ssfast::serve
