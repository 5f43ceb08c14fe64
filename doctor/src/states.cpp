// SPDX-License-Identifier: Apache-2.0
// The TCP state reference behind `ssfast states`: who holds each state, how it is entered and
// left, how long it lasts on Linux.
#include "ssfast/doctor/states.h"

#include "rules.h"
#include "ssfast/report/json_writer.h"

namespace ssfast {

using doctor_rules::wrap;

const std::array<state_reference, 11>& tcp_state_reference() noexcept {
  static const std::array<state_reference, 11> table = {{
      {"ESTABLISHED", "both sides",
       "the handshake completes: the client on receiving SYN-ACK, the server on receiving the "
       "final ACK (the connection then waits in the listener's accept queue until accept())",
       "this side closes first and sends FIN (FIN_WAIT1), or the peer's FIN arrives "
       "(CLOSE_WAIT)",
       "as long as the connection; no timer ends it (keepalive, after tcp_keepalive_time, only "
       "probes an idle peer)"},
      {"SYN_SENT", "the client", "connect() sent a SYN",
       "SYN-ACK arrives (ESTABLISHED); an RST (refused) or running out of SYN retries ends it",
       "until answered: tcp_syn_retries (6: about 127 s) bounds it"},
      {"SYN_RECV", "the server",
       "a listener answered a SYN with SYN-ACK: a request socket in its SYN queue",
       "the client's ACK completes the handshake (ESTABLISHED, into the accept queue), or the "
       "SYN-ACK retries run out",
       "one round trip normally; tcp_synack_retries (5: about 63 s) bounds it. Spoofed SYNs "
       "never complete: a flood fills the SYN queue (syncookies answer for a full one)"},
      {"FIN_WAIT1", "the side that closes first", "close() or shutdown() queued a FIN",
       "the FIN is acknowledged (FIN_WAIT2), the peer's FIN arrives first (CLOSING), or both "
       "at once (TIME_WAIT)",
       "until the FIN, sent after any unsent data, is acknowledged; tcp_orphan_retries bounds it "
       "once the process has closed the socket"},
      {"FIN_WAIT2", "the side that closes first", "its FIN was acknowledged",
       "the peer's FIN arrives (TIME_WAIT)",
       "until the peer closes: tcp_fin_timeout (60 s) once the process has closed the socket, "
       "indefinitely while it still holds it (after shutdown())"},
      {"TIME_WAIT", "the side that closes first",
       "both FINs were exchanged and this side sent the last ACK", "its timer expires",
       "60 s, fixed in Linux (TCP_TIMEWAIT_LEN): late segments of the old connection cannot "
       "reach a new one with the same ports. A ~200-byte minisocket, no process or "
       "descriptor; tcp_max_tw_buckets caps how many"},
      {"CLOSE", "neither", "a socket not yet connected or listening, or one fully closed",
       "connect() or listen()",
       "sock_diag and /proc list almost none: a bound-only socket is in no table they walk"},
      {"CLOSE_WAIT", "the side that receives the first FIN",
       "the peer's FIN arrived: reads return end of stream",
       "the application calls close(), which sends this side's FIN (LAST_ACK)",
       "until the application closes: no timer; a count that stays up is a leak in the "
       "application"},
      {"LAST_ACK", "the side that closes second", "close() after CLOSE_WAIT sent this side's FIN",
       "the peer acknowledges the FIN; the socket is gone",
       "one round trip, or the FIN's retransmissions if the peer has vanished"},
      {"LISTEN", "the server", "listen()", "close()",
       "until closed; Recv-Q is its accept queue, Send-Q its backlog (the accept queue's and "
       "the SYN queue's limit, capped at net.core.somaxconn)"},
      {"CLOSING", "both sides, closing at once",
       "in FIN_WAIT1, the peer's FIN arrived before the ACK of this side's FIN (simultaneous "
       "close)",
       "this side's FIN is acknowledged (TIME_WAIT)",
       "a round trip; rare, except when the peer vanished after sending its FIN"},
  }};
  return table;
}

namespace {

// The rows asked for, in the order asked: every row for an empty selection.
template <class F>
void for_each_state(std::span<const std::uint8_t> only, F&& f) {
  const auto& table = tcp_state_reference();
  if (only.empty()) {
    for (std::size_t i = 0; i < table.size(); ++i) f(table[i], static_cast<std::uint8_t>(i + 1));
    return;
  }
  for (std::uint8_t v : only)
    if (v >= 1 && v <= table.size()) f(table[v - 1u], v);
}

}  // namespace

void render_states_text(std::string& out, std::span<const std::uint8_t> only) {
  if (only.empty())
    out +=
        "The TCP states as netstat names them (ss: ESTAB, SYN-SENT, ...), in the kernel's "
        "order.\n"
        "A connection's two ends are in different states while it closes: the side that "
        "closes\n"
        "first goes FIN_WAIT1, FIN_WAIT2, TIME_WAIT; the other CLOSE_WAIT, LAST_ACK.\n";
  bool first = true;
  for_each_state(only, [&](const state_reference& s, std::uint8_t) {
    // A single state's entry needs no blank line before it.
    if (!(first && !only.empty())) out.push_back('\n');
    first = false;
    out += std::string(s.name) + " (held by " + std::string(s.side) + ")\n";
    out += "  entered  " + wrap(s.entered, 11, 100) + "\n";
    out += "  left     " + wrap(s.left, 11, 100) + "\n";
    out += "  lasts    " + wrap(s.lasts, 11, 100) + "\n";
  });
}

void render_states_json(std::string& out, std::span<const std::uint8_t> only) {
  json_writer w(out);
  w.begin_array();
  for_each_state(only, [&](const state_reference& s, std::uint8_t value) {
    w.begin_object();
    w.key("state").value(s.name);
    w.key("kernel_value").value(static_cast<std::uint64_t>(value));
    w.key("side").value(s.side);
    w.key("entered").value(s.entered);
    w.key("left").value(s.left);
    w.key("lasts").value(s.lasts);
    w.end_object();
  });
  w.end_array();
  out.push_back('\n');
}

}  // namespace ssfast
