// SPDX-License-Identifier: Apache-2.0
// What ss prints after a socket's addresses, decoded from the socket's netlink attributes:
// the order and the words of iproute2 6.1's ss.c (inet_show_sock, sock_details_print,
// tcp_show_info, tcp_stats_print, print_skmeminfo, unix_show_sock).
#include "socket_details.h"

#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/mptcp.h>
#include <linux/netlink.h>
#include <linux/packet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "ssfast/core/kernel_abi.h"
#include "ssfast/core/tcp_state.h"
#include "ssfast/report/escape.h"

namespace ssfast::report_detail {
namespace {

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// " label:value" in ss's printf formats, without printf: %u and %llu, %d; append_g is %g (six
// significant digits, trailing zeros dropped: std::to_chars's general format is printf's).
void num(std::string& out, std::string_view label, std::uint64_t v) {
  out += label;
  append_number(out, v);
}
void inum(std::string& out, std::string_view label, int v) {
  out += label;
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}
void append_g(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 6);
  out.append(buf, end);
}

// printf into `out`: the few formats (%g, %#x, %.1f) that ss's text needs exactly.
template <class... A>
void format(std::string& out, const char* fmt, A... args) {
  char buf[128];
  const int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0) out.append(buf, std::min<std::size_t>(static_cast<std::size_t>(n), sizeof buf - 1));
}

// ss's print_ms_timer: "1min", "2.5sec", "200ms", "9.092ms" (nine seconds and 92 ms).
void append_ms(std::string& out, std::uint32_t ms) {
  const std::uint32_t minutes = ms / 60000;
  std::uint32_t secs = ms / 1000 % 60, msecs = ms % 1000;
  if (minutes > 0) {
    msecs = 0;
    append_number(out, minutes);
    out += "min";
    if (minutes > 9) secs = 0;
  }
  if (secs > 0) {
    if (secs > 9) msecs = 0;
    append_number(out, secs);
    out += msecs ? "." : "sec";
  }
  if (msecs > 0) format(out, "%03ums", msecs);
}

// ss's sprint_bw: bits per second, %.3g and a unit (with -n as a plain %.0f).
void append_bw(std::string& out, double bw, bool numeric) {
  char buf[48];
  char* end = buf;
  const char* unit = "";
  if (numeric) {
    end = std::to_chars(buf, buf + sizeof buf, bw, std::chars_format::fixed, 0).ptr;
  } else {
    double v = bw;
    if (bw >= 1e12) {
      v = bw / 1e12, unit = "T";
    } else if (bw >= 1e9) {
      v = bw / 1e9, unit = "G";
    } else if (bw >= 1e6) {
      v = bw / 1e6, unit = "M";
    } else if (bw >= 1e3) {
      v = bw / 1e3, unit = "k";
    }
    end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, *unit ? 3 : 6).ptr;
  }
  out.append(buf, end);
  out += unit;
}

__extension__ using u128 = unsigned __int128;  // products of u64 fields: exact, no overflow

// Appends q (< 10^20) in decimal, with a point before its last `decimals` digits and the
// trailing zeros of the fraction dropped, as %g drops them.
void append_scaled(std::string& out, std::uint64_t q, int decimals) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, q);
  std::string_view d(digits, static_cast<std::size_t>(end - digits));
  const std::size_t dec = static_cast<std::size_t>(decimals);
  if (d.size() <= dec) {  // 0.00xyz
    out += "0.";
    out.append(dec - d.size(), '0');
    out += d;
  } else {
    out += d.substr(0, d.size() - dec);
    if (dec > 0) {
      out.push_back('.');
      out += d.substr(d.size() - dec);
    }
  }
  if (dec > 0) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
}

// num/den rounded to `decimals` places, half up; false on an exact tie (where printf rounds
// the double's binary value, which may lie on either side) or past 64 bits.
bool rounded(u128 num, u128 den, int decimals, std::uint64_t& q) {
  for (int k = 0; k < decimals; ++k) num *= 10;
  u128 v = num / den;
  const u128 r = num % den;
  if (2 * r == den) return false;
  if (2 * r > den) ++v;
  if (v > UINT64_MAX) return false;
  q = static_cast<std::uint64_t>(v);
  return true;
}

std::size_t digit_count(u128 v) {
  std::size_t n = 1;
  while (v >= 10) v /= 10, ++n;
  return n;
}

// printf("%.{sig}g", num/den) for num/den in [1, 10^sig) or 0 < num/den < 1 with few digits,
// computed exactly in integers: what ss prints for its doubles, without the cost of
// formatting one. False where the integers cannot say what printf would (a tie, a value that
// rounds up to 10^sig, or one that needs an exponent); the caller then formats the double.
bool append_significant(std::string& out, u128 num, u128 den, std::size_t sig) {
  if (den == 0 || num == 0) return false;
  const u128 whole = num / den;
  std::size_t decimals = 0;
  if (whole > 0) {
    const std::size_t d = digit_count(whole);
    if (d > sig) return false;  // exponent form
    decimals = sig - d;
  } else {
    // Below 1: %g keeps `sig` digits from the first significant one, fixed down to 1e-4.
    std::size_t zeros = 0;
    u128 n = num * 10;
    while (n < den && zeros < 4) n *= 10, ++zeros;
    if (zeros >= 4) return false;
    decimals = zeros + sig;
  }
  std::uint64_t q = 0;
  if (decimals > 18 || !rounded(num, den, static_cast<int>(decimals), q)) return false;
  if (whole > 0 && digit_count(q) > sig) return false;  // 999.96 -> 1000: printf says 1e+03
  append_scaled(out, q, static_cast<int>(decimals));
  return true;
}

}  // namespace

void append_ms_of_us(std::string& out, std::uint64_t us) {
  if (!append_significant(out, us, 1000, 6)) append_g(out, static_cast<double>(us) / 1000.0);
}

void append_rate(std::string& out, u128 num, u128 den, bool numeric) {
  const double bw = static_cast<double>(num) / static_cast<double>(den);
  if (numeric) {
    // Past 2^53 the double ss prints is not the integer: print the double.
    std::uint64_t q = 0;
    if (num / den >= (u128{1} << 53) || !rounded(num, den, 0, q)) return append_bw(out, bw, true);
    append_number(out, q);
    return;
  }
  static constexpr std::array<std::pair<std::uint64_t, const char*>, 4> units = {
      {{1000000000000ull, "T"}, {1000000000ull, "G"}, {1000000ull, "M"}, {1000ull, "k"}}};
  for (const auto& [scale, unit] : units) {
    if (num >= den * scale) {
      const std::size_t at = out.size();
      if (!append_significant(out, num, den * scale, 3)) {
        out.resize(at);
        return append_bw(out, bw, false);
      }
      out += unit;
      return;
    }
  }
  const std::size_t at = out.size();
  if (!append_significant(out, num, den, 6)) {
    out.resize(at);
    append_bw(out, bw, false);
  }
}

namespace {

std::uint32_t meminfo_at(std::span<const std::uint8_t> m, std::size_t i) noexcept {
  std::uint32_t v = 0;
  if ((i + 1) * 4 <= m.size()) std::memcpy(&v, m.data() + i * 4, 4);
  return v;
}

// ss's print_skmeminfo: skmem:(r,rb,t,tb,f,w,o[,bl][,d]), or inet's older mem:(r,w,f,t).
void append_memory(std::string& out, const socket_attributes& a) {
  if (a.skmeminfo.empty()) {
    if (a.meminfo.empty()) return;
    const auto m = attribute_as<inet_diag_meminfo>(a.meminfo);
    format(out, " mem:(r%u,w%u,f%u,t%u)", m.idiag_rmem, m.idiag_wmem, m.idiag_fmem, m.idiag_tmem);
    return;
  }
  const auto& m = a.skmeminfo;
  num(out, " skmem:(r", meminfo_at(m, SK_MEMINFO_RMEM_ALLOC));
  num(out, ",rb", meminfo_at(m, SK_MEMINFO_RCVBUF));
  num(out, ",t", meminfo_at(m, SK_MEMINFO_WMEM_ALLOC));
  num(out, ",tb", meminfo_at(m, SK_MEMINFO_SNDBUF));
  num(out, ",f", meminfo_at(m, SK_MEMINFO_FWD_ALLOC));
  num(out, ",w", meminfo_at(m, SK_MEMINFO_WMEM_QUEUED));
  num(out, ",o", meminfo_at(m, SK_MEMINFO_OPTMEM));
  if (m.size() >= (SK_MEMINFO_BACKLOG + 1) * 4) num(out, ",bl", meminfo_at(m, SK_MEMINFO_BACKLOG));
  if (m.size() >= (SK_MEMINFO_DROPS + 1) * 4) num(out, ",d", meminfo_at(m, SK_MEMINFO_DROPS));
  out.push_back(')');
}

// ss's tcp_show_info + tcp_stats_print for one socket's tcp_info.
void append_tcp_info(std::string& out, const socket_row& r, const socket_attributes& a,
                     const listing_style& s) {
  if (a.tcp_info.empty()) return;
  const auto i = attribute_as<tcp_info>(a.tcp_info);
  if (s.timers) {  // ss fills the options only with -o or -e (show_options)
    if (i.tcpi_options & TCPI_OPT_TIMESTAMPS) out += " ts";
    if (i.tcpi_options & TCPI_OPT_SACK) out += " sack";
    if (i.tcpi_options & TCPI_OPT_ECN) out += " ecn";
    if (i.tcpi_options & TCPI_OPT_ECN_SEEN) out += " ecnseen";
    if (i.tcpi_options & TCPI_OPT_SYN_DATA) out += " fastopen";
  }
  if (!a.congestion.empty()) {
    out.push_back(' ');
    append_printable(out, a.congestion);
  }
  if (i.tcpi_options & TCPI_OPT_WSCALE) {
    inum(out, " wscale:", i.tcpi_snd_wscale);
    inum(out, ",", i.tcpi_rcv_wscale);
  }
  if (i.tcpi_rto && i.tcpi_rto != 3000000) {
    out += " rto:";
    append_ms_of_us(out, i.tcpi_rto);
  }
  if (i.tcpi_backoff) num(out, " backoff:", unsigned{i.tcpi_backoff});
  if (i.tcpi_rtt) {
    out += " rtt:";
    append_ms_of_us(out, i.tcpi_rtt);
    out.push_back('/');
    if (i.tcpi_rttvar) {
      append_ms_of_us(out, i.tcpi_rttvar);
    } else {
      out.push_back('0');
    }
  }
  if (i.tcpi_ato) {
    out += " ato:";
    append_ms_of_us(out, i.tcpi_ato);
  }
  if (i.tcpi_snd_mss) inum(out, " mss:", static_cast<int>(i.tcpi_snd_mss));
  if (i.tcpi_pmtu) num(out, " pmtu:", i.tcpi_pmtu);
  if (i.tcpi_rcv_mss) inum(out, " rcvmss:", static_cast<int>(i.tcpi_rcv_mss));
  if (i.tcpi_advmss) inum(out, " advmss:", static_cast<int>(i.tcpi_advmss));
  if (i.tcpi_snd_cwnd) num(out, " cwnd:", i.tcpi_snd_cwnd);
  if (i.tcpi_snd_ssthresh < 0xFFFF && i.tcpi_snd_ssthresh)
    inum(out, " ssthresh:", static_cast<int>(i.tcpi_snd_ssthresh));
  if (i.tcpi_bytes_sent) num(out, " bytes_sent:", i.tcpi_bytes_sent);
  if (i.tcpi_bytes_retrans) num(out, " bytes_retrans:", i.tcpi_bytes_retrans);
  if (i.tcpi_bytes_acked) num(out, " bytes_acked:", i.tcpi_bytes_acked);
  if (i.tcpi_bytes_received) num(out, " bytes_received:", i.tcpi_bytes_received);
  if (i.tcpi_segs_out) num(out, " segs_out:", i.tcpi_segs_out);
  if (i.tcpi_segs_in) num(out, " segs_in:", i.tcpi_segs_in);
  if (i.tcpi_data_segs_out) num(out, " data_segs_out:", i.tcpi_data_segs_out);
  if (i.tcpi_data_segs_in) num(out, " data_segs_in:", i.tcpi_data_segs_in);
  if (!a.dctcp.empty()) {
    const auto d = attribute_as<tcp_dctcp_info>(a.dctcp);
    if (d.dctcp_enabled) {
      format(out, " dctcp:(ce_state:%u,alpha:%u,ab_ecn:%u,ab_tot:%u)", unsigned{d.dctcp_ce_state},
             d.dctcp_alpha, d.dctcp_ab_ecn, d.dctcp_ab_tot);
    } else {
      out += " dctcp:fallback_mode";
    }
  }
  if (!a.bbr.empty()) {
    const auto b = attribute_as<tcp_bbr_info>(a.bbr);
    const std::uint64_t bw = std::uint64_t{b.bbr_bw_hi} << 32 | b.bbr_bw_lo;
    out += " bbr:(bw:";
    append_rate(out, u128{bw} * 8, 1, s.numeric);
    format(out, "bps,mrtt:%g", b.bbr_min_rtt / 1000.0);
    if (b.bbr_pacing_gain) format(out, ",pacing_gain:%g", b.bbr_pacing_gain / 256.0);
    if (b.bbr_cwnd_gain) format(out, ",cwnd_gain:%g", b.bbr_cwnd_gain / 256.0);
    out.push_back(')');
  }
  // The send rate from cwnd and the smoothed RTT (Vegas's own RTT when it measures one).
  std::uint64_t rtt = i.tcpi_rtt;
  if (!a.vegas.empty()) {
    const auto v = attribute_as<tcpvegas_info>(a.vegas);
    if (v.tcpv_enabled && v.tcpv_rtt && v.tcpv_rtt != 0x7fffffff) rtt = v.tcpv_rtt;
  }
  if (rtt > 0 && i.tcpi_snd_mss && i.tcpi_snd_cwnd) {
    out += " send ";
    append_rate(out, u128{i.tcpi_snd_cwnd} * i.tcpi_snd_mss * 8000000u, static_cast<u128>(rtt),
                s.numeric);
    out += "bps";
  }
  if (i.tcpi_last_data_sent) num(out, " lastsnd:", i.tcpi_last_data_sent);
  if (i.tcpi_last_data_recv) num(out, " lastrcv:", i.tcpi_last_data_recv);
  if (i.tcpi_last_ack_recv) num(out, " lastack:", i.tcpi_last_ack_recv);
  if (i.tcpi_pacing_rate && i.tcpi_pacing_rate != ~0ULL) {
    out += " pacing_rate ";
    append_rate(out, u128{i.tcpi_pacing_rate} * 8, 1, s.numeric);
    out += "bps";
    if (i.tcpi_max_pacing_rate && i.tcpi_max_pacing_rate != ~0ULL) {
      out.push_back('/');
      append_rate(out, u128{i.tcpi_max_pacing_rate} * 8, 1, s.numeric);
      out += "bps";
    }
  }
  if (i.tcpi_delivery_rate) {
    out += " delivery_rate ";
    append_rate(out, u128{i.tcpi_delivery_rate} * 8, 1, s.numeric);
    out += "bps";
  }
  if (i.tcpi_delivered) num(out, " delivered:", i.tcpi_delivered);
  if (i.tcpi_delivered_ce) num(out, " delivered_ce:", i.tcpi_delivered_ce);
  if (i.tcpi_delivery_rate_app_limited) out += " app_limited";
  if (i.tcpi_busy_time) {
    num(out, " busy:", i.tcpi_busy_time / 1000);
    out += "ms";
    if (i.tcpi_rwnd_limited)
      format(out, " rwnd_limited:%llums(%.1f%%)", (unsigned long long)(i.tcpi_rwnd_limited / 1000),
             100.0 * double(i.tcpi_rwnd_limited) / double(i.tcpi_busy_time));
    if (i.tcpi_sndbuf_limited)
      format(out, " sndbuf_limited:%llums(%.1f%%)",
             (unsigned long long)(i.tcpi_sndbuf_limited / 1000),
             100.0 * double(i.tcpi_sndbuf_limited) / double(i.tcpi_busy_time));
  }
  if (i.tcpi_unacked) num(out, " unacked:", i.tcpi_unacked);
  if (i.tcpi_retrans || i.tcpi_total_retrans) {
    num(out, " retrans:", i.tcpi_retrans);
    num(out, "/", i.tcpi_total_retrans);
  }
  if (i.tcpi_lost) num(out, " lost:", i.tcpi_lost);
  // A listener's tcpi_sacked is its backlog (tcp_get_info), not SACKed segments.
  if (i.tcpi_sacked && r.state != static_cast<std::uint8_t>(tcp_state::listen))
    num(out, " sacked:", i.tcpi_sacked);
  if (i.tcpi_dsack_dups) num(out, " dsack_dups:", i.tcpi_dsack_dups);
  if (i.tcpi_fackets) num(out, " fackets:", i.tcpi_fackets);
  if (i.tcpi_reordering != 3) inum(out, " reordering:", static_cast<int>(i.tcpi_reordering));
  if (i.tcpi_reord_seen) inum(out, " reord_seen:", static_cast<int>(i.tcpi_reord_seen));
  if (i.tcpi_rcv_rtt) {
    out += " rcv_rtt:";
    append_ms_of_us(out, i.tcpi_rcv_rtt);
  }
  if (i.tcpi_rcv_space) inum(out, " rcv_space:", static_cast<int>(i.tcpi_rcv_space));
  if (i.tcpi_rcv_ssthresh) num(out, " rcv_ssthresh:", i.tcpi_rcv_ssthresh);
  if (i.tcpi_notsent_bytes) num(out, " notsent:", i.tcpi_notsent_bytes);
  if (i.tcpi_min_rtt && i.tcpi_min_rtt != ~0U) {
    out += " minrtt:";
    append_ms_of_us(out, i.tcpi_min_rtt);
  }
  if (i.tcpi_rcv_ooopack) num(out, " rcv_ooopack:", i.tcpi_rcv_ooopack);
  if (i.tcpi_snd_wnd) num(out, " snd_wnd:", i.tcpi_snd_wnd);
}

void append_users(std::string& out, const socket_row& r, const listing_style& s,
                  std::vector<process_ref>& scratch) {
  if (s.owners == nullptr) return;
  const auto owners = s.owners->owners(r.inode, scratch);
  if (owners.empty()) return;
  // ss's form: users:(("nginx",pid=123,fd=6),("nginx",pid=124,fd=6))
  out += " users:(";
  for (std::size_t k = 0; k < owners.size(); ++k) {
    if (k > 0) out.push_back(',');
    out += "(\"";
    append_printable(out, owners[k].comm, true);  // any user can name its process
    out += "\",pid=";
    append_number(out, owners[k].pid);
    if (owners[k].tid != 0) {  // ss -T
      out += ",tid=";
      append_number(out, owners[k].tid);
    }
    out += ",fd=";
    append_number(out, static_cast<std::uint64_t>(owners[k].fd));
    out.push_back(')');
  }
  out.push_back(')');
}

void append_shutdown(std::string& out, std::optional<std::uint8_t> mask) {
  // '<' while the socket may still receive, '>' while it may still send (SHUTDOWN_MASK bits:
  // RCV_SHUTDOWN 1, SEND_SHUTDOWN 2).
  if (!mask) return;
  out.push_back(' ');
  out.push_back((*mask & 1) ? '-' : '<');
  out.push_back('-');
  out.push_back((*mask & 2) ? '-' : '>');
}

void append_cgroup(std::string& out, const listing_style& s, std::uint64_t id) {
  out += " cgroup:";
  if (s.names != nullptr) {
    append_printable(out, s.names->cgroup_path(id));  // directory names are anyone's
  } else {
    format(out, "unreachable:%llx", (unsigned long long)id);
  }
}

// ss.c mptcp_stats_print (6.1): an MPTCP connection's INET_DIAG_INFO, struct mptcp_info (uapi
// linux/mptcp.h), each field when not zero; a shorter struct reads as zeros past its end.
void append_mptcp_info(std::string& out, const socket_attributes& a) {
  if (a.tcp_info.empty()) return;
  const auto i = attribute_as<mptcp_info>(a.tcp_info);
  if (i.mptcpi_subflows) format(out, " subflows:%d", i.mptcpi_subflows);
  if (i.mptcpi_add_addr_signal) format(out, " add_addr_signal:%d", i.mptcpi_add_addr_signal);
  if (i.mptcpi_add_addr_accepted) format(out, " add_addr_accepted:%d", i.mptcpi_add_addr_accepted);
  if (i.mptcpi_subflows_max) format(out, " subflows_max:%d", i.mptcpi_subflows_max);
  if (i.mptcpi_add_addr_signal_max)
    format(out, " add_addr_signal_max:%d", i.mptcpi_add_addr_signal_max);
  if (i.mptcpi_add_addr_accepted_max)
    format(out, " add_addr_accepted_max:%d", i.mptcpi_add_addr_accepted_max);
  if (i.mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK) out += " fallback";
  if (i.mptcpi_flags & MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED) out += " remote_key";
  if (i.mptcpi_token) format(out, " token:%x", i.mptcpi_token);
  if (i.mptcpi_write_seq) format(out, " write_seq:%llx", (unsigned long long)i.mptcpi_write_seq);
  if (i.mptcpi_snd_una) format(out, " snd_una:%llx", (unsigned long long)i.mptcpi_snd_una);
  if (i.mptcpi_rcv_nxt) format(out, " rcv_nxt:%llx", (unsigned long long)i.mptcpi_rcv_nxt);
}

// ss.c sock_details_print's head, for inet and packet sockets: uid (when not root), inode and
// the socket cookie as ss's sk:.
void append_sock_details(std::string& out, const socket_row& r) {
  if (r.uid != 0) num(out, " uid:", r.uid);
  out += " ino:";
  append_number(out, r.inode);
  out += " sk:";
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, r.cookie, 16).ptr);
}

// ss.c packet_show_ring: struct packet_diag_ring's fields (uapi linux/packet_diag.h).
void append_ring(std::string& out, const char* name, std::span<const std::uint8_t> ring,
                 bool oneline) {
  const auto g = attribute_as<packet_diag_ring>(ring);
  format(out, "%s%s(", oneline ? " " : "\n\t", name);
  format(out, "blk_size:%d,blk_nr:%d,frm_size:%d,frm_nr:%d,tmo:%d,features:0x%x)",
         static_cast<int>(g.pdr_block_size), static_cast<int>(g.pdr_block_nr),
         static_cast<int>(g.pdr_frame_size), static_cast<int>(g.pdr_frame_nr),
         static_cast<int>(g.pdr_retire_tmo), g.pdr_features);
}

// ss.c packet_show_sock: -e's sock_details_print and PACKET_DIAG_INFO, rings and fanout; -b's
// filter; -m's skmem.
void append_packet_details(std::string& out, const socket_row& r, const socket_attributes& a,
                           const listing_style& s) {
  const char* nl = s.oneline ? " " : "\n\t";
  if (s.extended) {
    append_sock_details(out, r);
    if (!a.packet_info.empty()) {
      const auto i = attribute_as<packet_diag_info>(a.packet_info);
      format(out, "%sver:%d cpy_thresh:%d flags( ", nl, static_cast<int>(i.pdi_version),
             static_cast<int>(i.pdi_copy_thresh));
      if (i.pdi_flags & PDI_RUNNING) out += "running";
      if (i.pdi_flags & PDI_AUXDATA) out += " auxdata";
      if (i.pdi_flags & PDI_ORIGDEV) out += " origdev";
      if (i.pdi_flags & PDI_VNETHDR) out += " vnethdr";
      if (i.pdi_flags & PDI_LOSS) out += " loss";
      if (i.pdi_flags == 0) out += "0";
      out += " )";
    }
    if (!a.rx_ring.empty()) append_ring(out, "ring_rx", a.rx_ring, s.oneline);
    if (!a.tx_ring.empty()) append_ring(out, "ring_tx", a.tx_ring, s.oneline);
    if (a.fanout) {
      static constexpr std::array<std::string_view, 6> types = {"hash", "lb",     "cpu",
                                                                "roll", "random", "qm"};
      const unsigned type = *a.fanout >> 16 & 0xffff;
      format(out, "%sfanout(id:%d,type:", nl, static_cast<int>(*a.fanout & 0xffff));
      if (type < types.size()) {
        out += types[type];
      } else {
        format(out, "0x%x", type);
      }
      out.push_back(')');
    }
  }
  if (s.bpf && a.bpf) {
    const std::size_t n = a.bpf->size() / sizeof(sock_filter);
    format(out, "%sbpf filter (%d): ", nl, static_cast<int>(n));
    for (std::size_t k = 0; k < n; ++k) {
      const auto f = attribute_as<sock_filter>(a.bpf->subspan(k * sizeof(sock_filter)));
      format(out, " 0x%02x %u %u %u,", unsigned{f.code}, unsigned{f.jt}, unsigned{f.jf}, f.k);
    }
  }
  if (s.memory) append_memory(out, a);
}

}  // namespace

std::string_view timer_name(std::uint8_t t) noexcept {
  static constexpr std::array<std::string_view, 6> names = {"off",      "on",      "keepalive",
                                                            "timewait", "persist", "unknown"};
  return names[std::min<std::size_t>(t, 5)];
}

void append_socket_details(std::string& out, const socket_row& r, const listing_style& s,
                           std::vector<process_ref>& scratch) {
  append_users(out, r, s, scratch);
  if (!s.timers && !s.extended && !s.memory && !s.tcp_info && !s.tos && !s.cgroup &&
      !s.inet_sockopt && !s.bpf)
    return;
  const socket_attributes a = decode_attributes(r);
  if (r.family == abi::af_packet) {
    append_packet_details(out, r, a, s);
    return;
  }
  if (r.family == abi::af_netlink) {  // ss.c netlink_show_one, netlink_show_sock
    // ss passes 0 for the kernel addresses netlink_diag does not send.
    if (s.extended) format(out, " sk=0 cb=0 groups=0x%08x", a.groups.value_or(0));
    if (s.memory && !a.skmeminfo.empty()) {
      out.push_back('\t');
      append_memory(out, a);
    }
    return;
  }
  if (r.family == abi::af_unix) {  // ss.c unix_show_sock
    if (s.memory) append_memory(out, a);
    if (s.extended) {
      append_shutdown(out, a.shutdown);
      if (a.vfs_ino) {
        format(out, " ino:%u dev:%u/%u", *a.vfs_ino, major(a.vfs_dev), minor(a.vfs_dev));
      }
      if (a.icons) {
        out += " peers:";
        for (std::size_t k = 0; k + 4 <= a.icons->size(); k += 4)
          format(out, " %u", attribute_as<std::uint32_t>(a.icons->subspan(k, 4)));
      }
    }
    return;
  }
  // ss.c inet_show_sock
  if (s.timers && r.timer != 0) {
    out += " timer:(";
    out += timer_name(r.timer);
    out.push_back(',');
    append_ms(out, r.expires_ms);
    out.push_back(',');
    append_number(out, r.retrans);
    out.push_back(')');
  }
  // ss reads datagram sockets from /proc with dgram_show_line, which prints no details: such a
  // row (no cookie: netlink always sends one, sock_gen_cookie is never 0) has none here either.
  const bool proc_datagram = r.protocol != abi::ipproto_tcp && r.cookie == 0;
  if (s.extended && !proc_datagram) {  // sock_details_print, then v6only and the shutdown marker
    append_sock_details(out, r);
    if (a.mark != 0) format(out, " fwmark:0x%x", a.mark);
    if (a.cgroup_id != 0) append_cgroup(out, s, a.cgroup_id);
    if (r.family == abi::af_inet6 && a.v6only) num(out, " v6only:", *a.v6only);
    append_shutdown(out, a.shutdown);
  }
  if (s.tos) {
    if (a.tos) format(out, " tos:%#x", unsigned{*a.tos});
    if (a.tclass) format(out, " tclass:%#x", unsigned{*a.tclass});
    if (a.class_id) format(out, " class_id:%#x", *a.class_id);
  }
  if (s.cgroup && a.cgroup_id != 0) append_cgroup(out, s, a.cgroup_id);
  if (s.inet_sockopt && a.sockopt) {
    out += s.oneline ? " inet-sockopt: (" : "\n\tinet-sockopt: (";
    for (std::size_t k = 0; k < abi::inet_sockopt_count; ++k)
      if (*a.sockopt >> abi::inet_sockopt_bits[k] & 1u) {
        out.push_back(' ');
        out += abi::inet_sockopt_names[k];
      }
    out.push_back(')');
  }
  if (s.memory || (s.tcp_info && r.protocol != abi::ipproto_udp)) {
    if (!s.oneline) out += "\n\t";
    append_memory(out, a);
    if (r.protocol == abi::ipproto_mptcp) {
      append_mptcp_info(out, a);
    } else {
      append_tcp_info(out, r, a, s);
    }
  }
}

void json_socket_details(json_writer& w, const socket_row& r, const listing_style& s) {
  const socket_attributes a = decode_attributes(r);
  if (s.extended || s.cgroup) {
    if (a.shutdown) {
      w.key("shutdown").begin_object();
      w.key("receive").value((*a.shutdown & 1) == 0);
      w.key("send").value((*a.shutdown & 2) == 0);
      w.end_object();
    }
    if (a.v6only) w.key("v6only").value(*a.v6only != 0);
    if (a.mark != 0) w.key("fwmark").value(std::uint64_t{a.mark});
    if (a.cgroup_id != 0) {
      w.key("cgroup_id").value(a.cgroup_id);
      if (s.names != nullptr) w.key("cgroup").value(s.names->cgroup_path(a.cgroup_id));
    }
    if (a.vfs_ino) {
      w.key("vfs").begin_object();
      w.key("inode").value(std::uint64_t{*a.vfs_ino});
      w.key("dev_major").value(std::uint64_t{major(a.vfs_dev)});
      w.key("dev_minor").value(std::uint64_t{minor(a.vfs_dev)});
      w.end_object();
    }
    if (a.icons) {
      w.key("pending_peers").begin_array();
      for (std::size_t k = 0; k + 4 <= a.icons->size(); k += 4)
        w.value(std::uint64_t{attribute_as<std::uint32_t>(a.icons->subspan(k, 4))});
      w.end_array();
    }
  }
  if (s.inet_sockopt && a.sockopt) {
    w.key("inet_sockopt").begin_array();
    for (std::size_t k = 0; k < abi::inet_sockopt_count; ++k)
      if (*a.sockopt >> abi::inet_sockopt_bits[k] & 1u) w.value(abi::inet_sockopt_names[k]);
    w.end_array();
  }
  if (s.tos) {
    if (a.tos) w.key("tos").value(std::uint64_t{*a.tos});
    if (a.tclass) w.key("tclass").value(std::uint64_t{*a.tclass});
    if (a.class_id) w.key("class_id").value(std::uint64_t{*a.class_id});
  }
  if (s.memory && !a.skmeminfo.empty()) {
    static constexpr std::array<std::pair<std::string_view, int>, 9> fields = {{
        {"rmem_alloc", SK_MEMINFO_RMEM_ALLOC},
        {"rcvbuf", SK_MEMINFO_RCVBUF},
        {"wmem_alloc", SK_MEMINFO_WMEM_ALLOC},
        {"sndbuf", SK_MEMINFO_SNDBUF},
        {"fwd_alloc", SK_MEMINFO_FWD_ALLOC},
        {"wmem_queued", SK_MEMINFO_WMEM_QUEUED},
        {"optmem", SK_MEMINFO_OPTMEM},
        {"backlog", SK_MEMINFO_BACKLOG},
        {"drops", SK_MEMINFO_DROPS},
    }};
    w.key("skmem").begin_object();
    for (const auto& [name, at] : fields)
      if (a.skmeminfo.size() >= static_cast<std::size_t>(at + 1) * 4)
        w.key(name).value(std::uint64_t{meminfo_at(a.skmeminfo, static_cast<std::size_t>(at))});
    w.end_object();
  }
  if (s.tcp_info && !a.tcp_info.empty()) {
    const auto i = attribute_as<tcp_info>(a.tcp_info);
    w.key("tcp_info").begin_object();
    if (!a.congestion.empty()) w.key("congestion").value(a.congestion);
    w.key("rto_us").value(std::uint64_t{i.tcpi_rto});
    w.key("rtt_us").value(std::uint64_t{i.tcpi_rtt});
    w.key("rttvar_us").value(std::uint64_t{i.tcpi_rttvar});
    w.key("min_rtt_us").value(std::uint64_t{i.tcpi_min_rtt == ~0U ? 0 : i.tcpi_min_rtt});
    w.key("snd_mss").value(std::uint64_t{i.tcpi_snd_mss});
    w.key("rcv_mss").value(std::uint64_t{i.tcpi_rcv_mss});
    w.key("cwnd").value(std::uint64_t{i.tcpi_snd_cwnd});
    w.key("ssthresh").value(std::uint64_t{i.tcpi_snd_ssthresh < 0xFFFF ? i.tcpi_snd_ssthresh : 0});
    w.key("retrans").value(std::uint64_t{i.tcpi_retrans});
    w.key("total_retrans").value(std::uint64_t{i.tcpi_total_retrans});
    w.key("lost").value(std::uint64_t{i.tcpi_lost});
    w.key("unacked").value(std::uint64_t{i.tcpi_unacked});
    w.key("bytes_sent").value(std::uint64_t{i.tcpi_bytes_sent});
    w.key("bytes_retrans").value(std::uint64_t{i.tcpi_bytes_retrans});
    w.key("bytes_acked").value(std::uint64_t{i.tcpi_bytes_acked});
    w.key("bytes_received").value(std::uint64_t{i.tcpi_bytes_received});
    w.key("segs_out").value(std::uint64_t{i.tcpi_segs_out});
    w.key("segs_in").value(std::uint64_t{i.tcpi_segs_in});
    w.key("delivered").value(std::uint64_t{i.tcpi_delivered});
    w.key("delivery_rate_bps").value(std::uint64_t{i.tcpi_delivery_rate} * 8);
    w.key("pacing_rate_bps")
        .value(i.tcpi_pacing_rate == ~0ULL ? std::uint64_t{0}
                                           : std::uint64_t{i.tcpi_pacing_rate} * 8);
    w.key("app_limited").value(i.tcpi_delivery_rate_app_limited != 0);
    w.key("last_data_sent_ms").value(std::uint64_t{i.tcpi_last_data_sent});
    w.key("last_data_recv_ms").value(std::uint64_t{i.tcpi_last_data_recv});
    w.key("last_ack_recv_ms").value(std::uint64_t{i.tcpi_last_ack_recv});
    w.key("notsent_bytes").value(std::uint64_t{i.tcpi_notsent_bytes});
    w.key("rcv_space").value(std::uint64_t{i.tcpi_rcv_space});
    w.key("reordering").value(std::uint64_t{i.tcpi_reordering});
    w.key("rcv_ooopack").value(std::uint64_t{i.tcpi_rcv_ooopack});
    w.key("snd_wnd").value(std::uint64_t{i.tcpi_snd_wnd});
    w.key("busy_time_us").value(std::uint64_t{i.tcpi_busy_time});
    w.key("rwnd_limited_us").value(std::uint64_t{i.tcpi_rwnd_limited});
    w.key("sndbuf_limited_us").value(std::uint64_t{i.tcpi_sndbuf_limited});
    w.end_object();
  }
}

}  // namespace ssfast::report_detail
