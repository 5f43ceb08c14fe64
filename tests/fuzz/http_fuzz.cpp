// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the exporter's and the agent's HTTP request-head parser, the readiness
// target and the agent-send line, which face the network. Whatever the head parser accepts must
// be a head that lies inside the input, parses the same when cut to its own size or followed
// by more bytes (pipelining), and never reads past the buffer.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ssfast/serve/agent.h"
#include "ssfast/serve/http.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::string_view part, std::string_view whole, std::size_t size) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + size;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ssfast::serve;
  // A copy of exactly `size` bytes, so ASan sees any read past the end.
  const std::string buf(reinterpret_cast<const char*>(data), size);
  const std::string_view in(buf);
  // The input as an agent-send line: a port is digits alone, and says what it is.
  if (const auto port = agent_send_port(in)) {
    check(*port != 0 && in.find(std::to_string(*port)) != std::string_view::npos);
  }
  check(agent_reply_unnamed(in).starts_with("down #"));
  http_request r;
  const http_parse p = parse_http_request(in, r);
  if (p != http_parse::complete) return 0;
  check(r.size > 0 && r.size <= in.size());
  check(!r.method.empty() && inside(r.method, in, r.size));
  check(inside(r.target, in, r.size) && inside(r.version, in, r.size));
  // The head delimits itself: alone, or with the next request after it, it reads the same.
  for (std::string_view tail : {std::string_view{}, std::string_view("GET / HTTP/1.1\r\n"),
                                std::string_view("\r\n\r\n\0\xff", 6)}) {
    const std::string again = std::string(in.substr(0, r.size)) + std::string(tail);
    http_request r2;
    check(parse_http_request(again, r2) == http_parse::complete);
    check(r2.size == r.size && r2.method == r.method && r2.target == r.target &&
          r2.version == r.version && r2.keep_alive == r.keep_alive);
  }
  // A readiness target: a port only from "/ready/DIGITS", in range.
  const ready_target t = parse_ready_target(r.target);
  check(t.kind != ready_target::one_port ||
        (t.port != 0 && r.target.starts_with("/ready/" + std::to_string(t.port))));
  check(t.kind != ready_target::one_service || r.target.starts_with("/ready"));
  // The routing and a response for whatever was asked: no crash, a complete message.
  std::string out;
  http_response(out, needs_metrics(r) ? 200 : 404, "text/plain", r.target,
                {.keep_alive = r.keep_alive, .head_only = r.method == "HEAD"});
  check(out.starts_with("HTTP/1.1 ") && out.find("\r\n\r\n") != std::string::npos);
  return 0;
}
