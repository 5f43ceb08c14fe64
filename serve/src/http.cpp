// SPDX-License-Identifier: Apache-2.0
// A strict, small HTTP/1.x request-head parser (RFC 9112 section 2-3) for the exporter.
#include "ssfast/serve/http.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace ssfast::serve {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto low = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return low(x) == low(y);
         });
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Does a comma-separated header value hold `token` (Connection: keep-alive, Upgrade)?
bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

bool is_tchar(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 9110 5.5: a field value holds no CR, LF or NUL, and of the other controls only HTAB;
// RFC 9112 2.2: a bare CR anywhere in the head is invalid. Checked on every line of the head
// (the request line's parts are stricter still), after its line ending is taken off.
bool has_forbidden_control(std::string_view line) noexcept {
  return std::any_of(line.begin(), line.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7F;
  });
}

}  // namespace

http_parse parse_http_request(std::string_view in, http_request& out) {
  out = http_request{};
  // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line.
  std::size_t pos = 0;
  while (pos < in.size() && (in[pos] == '\r' || in[pos] == '\n') && pos < 4) ++pos;
  // The end of the head: an empty line, CRLF or bare LF.
  std::size_t end = std::string_view::npos, line_start = pos;
  for (std::size_t i = pos; i < in.size(); ++i) {
    if (in[i] != '\n') continue;
    std::string_view line = in.substr(line_start, i - line_start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty() && line_start != pos) {
      end = i + 1;
      break;
    }
    line_start = i + 1;
  }
  if (end == std::string_view::npos) {
    // Bytes no request line can begin with: say so now rather than wait for the limit.
    for (std::size_t i = pos; i < in.size() && in[i] != ' ' && in[i] != '\r' && in[i] != '\n'; ++i)
      if (!is_tchar(in[i])) return http_parse::bad;
    return http_parse::incomplete;
  }
  out.size = end;
  std::string_view head = in.substr(pos, end - pos);
  auto next_line = [&head]() {
    const std::size_t nl = head.find('\n');
    std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
  };
  // Request line: method SP request-target SP HTTP-version, single spaces.
  const std::string_view request_line = next_line();
  if (has_forbidden_control(request_line)) return http_parse::bad;
  const std::size_t sp1 = request_line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1) return http_parse::bad;
  out.method = request_line.substr(0, sp1);
  out.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.version = request_line.substr(sp2 + 1);
  if (!std::all_of(out.method.begin(), out.method.end(), is_tchar)) return http_parse::bad;
  if (out.target.find_first_of(" \t") != std::string_view::npos) return http_parse::bad;
  if (out.version != "HTTP/1.1" && out.version != "HTTP/1.0") return http_parse::bad;
  bool keep_alive = out.version == "HTTP/1.1";
  for (std::string_view line = next_line(); !line.empty(); line = next_line()) {
    if (has_forbidden_control(line)) return http_parse::bad;
    const std::size_t colon = line.find(':');
    // RFC 9112 5.1: no whitespace between the field name and the colon.
    if (colon == 0 || colon == std::string_view::npos) return http_parse::bad;
    const std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_tchar)) return http_parse::bad;
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      if (value != "0") return http_parse::bad;
    } else if (iequals(name, "Transfer-Encoding")) {
      return http_parse::bad;
    } else if (iequals(name, "Connection")) {
      if (has_token(value, "close")) keep_alive = false;
      // HTTP/1.0 keep-alive is an old extension; Prometheus speaks 1.1.
    } else if (iequals(name, "X-Prometheus-Scrape-Timeout-Seconds")) {
      // Anything but a plain positive number is not Prometheus's: ignored, not refused.
      double t = 0;
      const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
      if (ec == std::errc{} && p == value.data() + value.size() && std::isfinite(t) && t > 0)
        out.scrape_timeout = t;
    }
  }
  out.keep_alive = keep_alive;
  return http_parse::complete;
}

http_begin begin_http_answer(std::string_view in, http_request& r, std::string& head,
                             bool& close_after, std::string_view extra_headers) {
  constexpr std::string_view text = "text/plain; charset=utf-8";
  switch (parse_http_request(in, r)) {
    case http_parse::incomplete: return {};
    case http_parse::bad:
      http_response(head, 400, text, "ssfast: malformed request or a request body\n");
      close_after = true;
      return {in.size(), false};
    case http_parse::complete: break;
  }
  close_after = !r.keep_alive;
  if (r.method == "GET" || r.method == "HEAD") return {r.size, true};
  const std::string allow = "Allow: GET, HEAD\r\n" + std::string(extra_headers);
  http_response(head, 405, text, "ssfast: only GET and HEAD\n",
                {.keep_alive = r.keep_alive, .extra_headers = allow});
  return {r.size, false};
}

std::string http_too_large() {
  std::string out;
  http_response(out, 431, "text/plain; charset=utf-8", "ssfast: request over 8 KiB\n");
  return out;
}

std::string http_busy(std::string_view body, std::string_view extra_headers) {
  std::string out;
  const std::string headers = "Retry-After: 1\r\n" + std::string(extra_headers);
  http_response(out, 503, "text/plain; charset=utf-8", body, {.extra_headers = headers});
  return out;
}

bool needs_metrics(const http_request& r) noexcept {
  const std::string_view path = r.target.substr(0, r.target.find('?'));
  return (r.method == "GET" || r.method == "HEAD") && path == "/metrics";
}

ready_target parse_ready_target(std::string_view target) noexcept {
  ready_target t;
  const std::size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    if (query.substr(0, amp) == "drain=404") t.drain_as_404 = true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  if (path == "/ready") {
    t.kind = ready_target::one_service;
    return t;
  }
  if (!path.starts_with("/ready/")) return t;
  path.remove_prefix(7);
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(path.data(), path.data() + path.size(), v);
  if (path.empty() || path.size() > 5 || path.front() == '0' || ec != std::errc{} ||
      end != path.data() + path.size() || v > 65535)
    return t;
  t.kind = ready_target::one_port;
  t.port = static_cast<std::uint16_t>(v);
  return t;
}

std::string_view http_reason(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

void http_response_head(std::string& out, int status, std::string_view content_type,
                        std::size_t body_size, const response_options& o) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out.push_back(' ');
  out += http_reason(status);
  out += "\r\nContent-Type: ";
  out += content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(body_size);
  out += o.keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
  out += o.extra_headers;
  out += "\r\n";
}

void http_response(std::string& out, int status, std::string_view content_type,
                   std::string_view body, const response_options& o) {
  http_response_head(out, status, content_type, body.size(), o);
  if (!o.head_only) out += body;
}

}  // namespace ssfast::serve
