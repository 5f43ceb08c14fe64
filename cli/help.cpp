// SPDX-License-Identifier: Apache-2.0
// The --help text: one section per command, shown all together or one at a time
// (`ssfast help top`, `ssfast top -h`).
#include <array>
#include <string>

#include "options.h"

namespace ssfast::cli {
namespace {

struct help_section {
  command cmd;
  std::string_view synopsis;  // after "ssfast "
  std::string_view body;
};

constexpr std::array<help_section, 11> sections = {{
    {command::list,
     "[-tuxw0MSdlaH46pTjeomiOnrKEb] [-f F] [-A Q] [-F FILE] [-D FILE] [--tos]\n"
     "                 [--cgroup] [--inet-sockopt] [--count N] [--format F] [FILTER]\n"
     "                 list sockets, as ss does",
     "Listing (the default; ss's flags):\n"
     "  -t, -u, -x      TCP, UDP, UNIX sockets; --tcp, --udp, --unix (none of the tables\n"
     "                  named: every one, as ss; with -4/-6 the inet ones)\n"
     "  -w, --raw       raw sockets (the port is the IP protocol taken: icmp, ipproto-255);\n"
     "                  from /proc/net/raw where the kernel has no raw_diag, as ss\n"
     "  -M, --mptcp     MPTCP connections (mptcp_diag); with -i, their mptcp_info\n"
     "  -0, --packet    packet sockets: PROTOCOL:INTERFACE (-f link); -b, --bpf their\n"
     "                  classic BPF filters\n"
     "  -l, -a          listening (and unconnected) sockets only; every state; --listening,\n"
     "                  --all\n"
     "  -4, -6          IPv4 or IPv6 only; --ipv4, --ipv6\n"
     "  -f FAMILY       inet (-4), inet6 (-6), unix (-x), link (-0), netlink, vsock, tipc,\n"
     "                  xdp; --family\n"
     "  -A QUERY        tables, comma-separated: inet (-t -u), tcp, udp, raw, mptcp, unix,\n"
     "                  unix_stream, unix_dgram, unix_seqpacket, packet, packet_raw,\n"
     "                  packet_dgram, netlink (PROTOCOL:PROCESS/PORTID), sctp, dccp, vsock,\n"
     "                  tipc, xdp, all; --query\n"
     "  -S, -d, --vsock, --tipc, --xdp  (--sctp, --dccp; --tipcinfo) tables ssfast does not\n"
     "                  list: asked of the kernel; empty where it has no diag for them, as in\n"
     "                  ss (stderr says so), refused where it has\n"
     "  -F FILE         the filter from FILE (- for stdin); --filter\n"
     "  -r, --resolve   host names for addresses (/etc/hosts, then DNS: a reverse lookup per\n"
     "                  address, which can wait for the resolver's timeout on each)\n"
     "  -K, --kill      destroy the TCP and UDP sockets listed (SOCK_DESTROY, as ss -K: needs\n"
     "                  CAP_NET_ADMIN and a kernel with CONFIG_INET_DIAG_DESTROY); those it\n"
     "                  cannot destroy or that are gone are skipped, UNIX sockets only listed\n"
     "  -E, --events    follow TCP and UDP sockets as the kernel destroys them, one row each\n"
     "                  (ss -E; the filter applies, not its states); --count N stops after N.\n"
     "                  Events the kernel drops (a full queue) are counted on stderr\n"
     "  -D FILE         write the kernel's raw TCP dump (IPv4's, then IPv6's) to FILE (- for\n"
     "                  stdout) instead of listing, as ss -D; TCPDIAG_FILE=FILE ss replays it.\n"
     "                  States, -4/-6, -m, -i, --tos apply; an expression is refused; --diag\n"
     "  -Z, -z          SELinux contexts (--context, --contexts): \"SELinux is not enabled.\"\n"
     "                  (exit 1) where it is off, as ss; refused where it is on (not shown yet)\n"
     "  -n, --numeric   ports as numbers (else service names from /etc/services, as ss;\n"
     "                  never DNS), -i's rates in bits/s\n"
     "  -H, --no-header no header line\n"
     "  -p, --processes processes holding each socket (one scan of /proc/*/fd; --threads N\n"
     "                  scans on N threads)\n"
     "  -T              -p per thread (tid=), as ss -T (its --threads is ssfast's worker count)\n"
     "  --threads N     a TCP listing without a filter is dumped over N port slices at once\n"
     "                  (default: CPUs, at most 8, once the table holds 8192 TCP sockets)\n"
     "  -o, --options   TCP timers; with -i, the TCP options (ts sack ecn...)\n"
     "  -e, --extended  as ss: uid, ino, sk, fwmark, cgroup, v6only, the shutdown marker;\n"
     "                  UNIX: the marker, the bound file's ino:/dev:, pending peers (implies -o)\n"
     "  -m, --memory    socket memory: skmem:(r,rb,t,tb,f,w,o,bl,d)\n"
     "  -i, --info      TCP internals (tcp_info): rtt, cwnd, retrans, bytes, rates, ...\n"
     "  -O, --oneline   -m and -i on the socket's line, not a second one\n"
     "  --tos           IPv4 TOS, IPv6 traffic class, class id\n"
     "  --cgroup        the socket's cgroup path\n"
     "  --inet-sockopt  inet socket options set (recverr, freebind, transparent, ...)\n"
     "  -j, --json      one JSON object per socket (JSON Lines); --format text|json\n"
     "  FILTER          ss's: [state STATE | exclude STATE]... [EXPRESSION], where\n"
     "                  EXPRESSION combines sport/dport OP [:]PORT, src/dst ADDR[/LEN][:PORT]\n"
     "                  (unix:PATTERN, or any ADDR after -x), dev IFACE, fwmark MARK[/MASK],\n"
     "                  cgroup PATH and autobound with and, or, not and parentheses; OP is\n"
     "                  = != < <= > >= (or eq ne lt le gt ge). STATE: established, syn-sent, "
     "syn-recv, fin-wait-1,\n"
     "                  fin-wait-2, time-wait, closed, close-wait, last-ack, listening,\n"
     "                  closing, all, connected, synchronized, bucket, big. The kernel applies\n"
     "                  it (INET_DIAG bytecode) to TCP and UDP.\n"},
    {command::summary,
     "-s [-tux46] [-j|--format F] [--textfile PATH] [--exact|--estimate]\n"
     "                 [--all-netns [--netns-owner init|any]]\n"
     "                 [--watch S [--count N] [--dir DIR]] [FILTER]",
     "Summary:\n"
     "  -s, --summary   one `STATE COUNT` line per TCP state (netstat names, largest first),\n"
     "                  totals per protocol and family, then the kernel's counters\n"
     "  FILTER          only the sockets it selects, every state unless it says otherwise\n"
     "                  (-s 'sport = :443'); the kernel applies it, so one service of a busy\n"
     "                  host costs the walk. Labelled in text and JSON (\"filter\"); not with\n"
     "                  Prometheus output, --estimate or --all-netns\n"
     "  -F FILE         the filter from FILE (- for stdin); --filter\n"
     "  -i, --info      then, per TCP state, the RTT's p50/p90/p99/max and the retransmissions\n"
     "                  (tcp_info of every TCP socket: a listing's cost; text and JSON only)\n"
     "                  ESTABLISHED is derived by default: every other TCP state is dumped\n"
     "                  between two reads of the kernel's gauges, and ESTABLISHED is taken\n"
     "                  when CurrEstab - CLOSE_WAIT and sockstat inuse - the other full\n"
     "                  sockets agree and the gauges held still; else every socket is walked\n"
     "                  (JSON \"method\": derived or walk; both exact)\n"
     "  --exact         always walk: one message per TCP socket\n"
     "  --estimate      dump every TCP state but ESTABLISHED and derive ESTABLISHED from\n"
     "                  /proc/net/snmp CurrEstab minus CLOSE_WAIT (labelled an estimate;\n"
     "                  counted exactly when the figures disagree)\n"
     "  --threads N     parallel TCP dumps over disjoint port slices (default: CPUs, at\n"
     "                  most 8, once the table holds 8192 TCP sockets; 1 = a single dump)\n"
     "  --format F      text, json (as -j) or prometheus (Prometheus text exposition)\n"
     "  --textfile PATH write the Prometheus text to PATH atomically (node_exporter's textfile\n"
     "                  collector); with --watch, every S seconds\n"
     "  --all-netns     every network namespace on the host, one row each (inode, ip netns\n"
     "                  name, lowest pid and comm, container, pod), and a total; ranked in\n"
     "                  tiers, largest first within each: 1 the host's, 2 ip netns names, 3\n"
     "                  owned by the initial user namespace (containers, pods), 4 owned by\n"
     "                  other user namespaces (any user can make those); counted in parallel,\n"
     "                  each thread entering one namespace (setns needs CAP_SYS_ADMIN; without\n"
     "                  it, /proc/PID/net of your own processes); exit 1 when a namespace could\n"
     "                  not be read (it is listed with its error); --format prometheus and\n"
     "                  --textfile label each namespace's series (at most 500, in rank)\n"
     "  --netns-owner O any (default) or init: leave out tier 4 (counted as excluded)\n"},
    {command::top,
     "top KEY [--by METRIC] [--limit N] [-tuxla46nj|--format F] [--threads N]\n"
     "                 [--watch S [--count N]] [FILTER]",
     "top: sockets per KEY, largest first, `COUNT KEY` lines (as sort | uniq -c | sort -nr)\n"
     "  KEY             raddr, laddr, lport, rport, state or process; every state unless a\n"
     "                  state filter says otherwise; netns: the network namespaces holding\n"
     "                  most sockets the filter selects (each counted in the kernel there,\n"
     "                  every namespace on the host; see -s --all-netns)\n"
     "  --by METRIC     rank by a figure summed over each key's sockets instead of their\n"
     "                  count: retrans (tcpi_total_retrans), retrans_out (tcpi_retrans),\n"
     "                  bytes_acked, bytes_received (tcp_info), send_q, recv_q (a listener's\n"
     "                  Recv-Q: its accept queue; listeners' Send-Q left out); rtt: the\n"
     "                  median and p99 RTT (ms) and the sockets, `P50 P99 SOCKETS KEY`, from a\n"
     "                  log histogram (4 buckets per doubling). tcp_info counts full TCP\n"
     "                  sockets only (not TIME-WAIT, SYN-RECV, UDP)\n"
     "  --limit N       the N largest (20); -n is numeric, as in ss\n"
     "  -f, -A, -F      ss's --family, --query and --filter FILE, as in a listing\n"
     "  --threads N     parallel TCP dumps, and the -p scan of process on N threads\n"
     "  --all-netns     KEY in every network namespace, each key prefixed by its namespace\n"
     "  --netns-owner O with --all-netns or netns: init leaves out namespaces owned by other\n"
     "                  user namespaces (see -s --all-netns); any (default) counts them\n"},
    {command::counters, "counters [-j|--format F] [--delta S] [PREFIX...]",
     "counters: every counter of /proc/net/snmp, netstat, snmp6, sockstat{,6} as Group.Field\n"
     "  PREFIX          only the counters whose name starts with it (case does not matter);\n"
     "                  one that matches nothing is an error\n"
     "  --delta S       the change over S seconds, and the rate per second\n"},
    {command::check,
     "check [--warn M=RANGE,...] [--crit M=RANGE,...] [--interval S] [--timeout S]\n"
     "                 [-tux46] [--exact|--estimate] [--threads N] [FILTER]",
     "check: a Nagios/Icinga plugin. `SSFAST OK|WARNING|CRITICAL|UNKNOWN - text | perfdata`,\n"
     "  exit 0/1/2/3. M: established, syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait,\n"
     "  close, close_wait, last_ack, listen, closing, tcp, udp, unix, orphan, tw, tcp_inuse,\n"
     "  tcp_mem, curr_estab; listen_queue (the fullest accept queue, % of its backlog) and\n"
     "  syn_queue (the fullest SYN queue, % of the limit the kernel applies, as the doctor\n"
     "  computes it), each naming its listener (they walk the established hash for the\n"
     "  half-open sockets); listen_overflows, listen_drops, syn_drops, syncookies_sent: per\n"
     "  second over --interval S (1), waited for only when a threshold names one. RANGE as\n"
     "  the plugin guidelines: 10 (alert outside 0..10), 10:, ~:10, 10:20, @10:20 (alert\n"
     "  inside). --timeout S: UNKNOWN after S seconds (10).\n"
     "  FILTER: judge only the sockets it selects (check --crit listen_queue=90 'sport = :443');\n"
     "  listen_drops is then the selected listeners' own drops; the kernel counters (orphan,\n"
     "  tw, ...) and the other rates are the namespace's, not metrics then.\n"},
    {command::exporter,
     "exporter [--listen ADDR:PORT] [--max-connections N] [--max-per-peer N]\n"
     "                    [--timeout S] [--max-listeners N] [--exact|--estimate]\n"
     "                    [--threads N]\n"
     "                    [-tux46] [--all-netns [--netns-owner init|any]\n"
     "                    [--scrape-deadline S]]",
     "exporter: serves /metrics (Prometheus text) over HTTP; loopback 127.0.0.1:9477 unless\n"
     "  --listen says otherwise (:PORT, no address: every address, as node_exporter); at most\n"
     "  N connections (64), at most --max-per-peer (16) from one address (IPv6: one /64); a\n"
     "  client may sit idle or take its answer for S seconds (10), and must send a request\n"
     "  head within 2 s of its first byte; past N a new client takes the place of the one that\n"
     "  waited longest for a request. One answer per connection at a time. Request heads over\n"
     "  8 KiB are refused. --all-netns: every network namespace's counts, labelled netns,\n"
     "  name, container, pod_uid (those with sockets, at most 500, in the rank of -s\n"
     "  --all-netns); --netns-owner init leaves out namespaces other user namespaces own (the\n"
     "  unit file's default); a collection stops counting after --scrape-deadline S (8; or\n"
     "  Prometheus's X-Prometheus-Scrape-Timeout-Seconds minus 0.5 when lower) and answers\n"
     "  with what it counted, the rest as ssfast_netns_namespaces{status=\"deadline\"}.\n"
     "  Each collection is the doctor's sample (one listing of TCP, request sockets and the\n"
     "  listeners' drop counters: it walks the established hash), judged by the doctor's\n"
     "  rules over the time since the previous one: ssfast_finding{id,severity,subject} 1 per\n"
     "  finding, and ssfast_listener_accept_queue, _backlog, _syn_recv, _syn_limit and\n"
     "  ssfast_listener_drops_total {family,address,port} for --max-listeners N (200; 0:\n"
     "  none) listeners in port order. Not with --estimate (counts only) or --all-netns.\n"
     "  -t -u -x -4 -6: the protocols and families counted; --threads N: parallel dumps.\n"},
    {command::agent,
     "agent (--service-port P | --service P[,max-established=N][,drain-queue=R])...\n"
     "                    [--max-established N] [--drain-queue R] [--listen ADDR:PORT]\n"
     "                    [--http-listen ADDR:PORT] [--max-age S] [--max-stale S]\n"
     "                    [--max-connections N] [--max-per-peer N] [--timeout S]",
     "agent: answers load balancers' health probes for the services on ports P (repeatable):\n"
     "  down when nothing listens on P; drain when one listener's accept queue holds R (0.9)\n"
     "  of its backlog or ESTABLISHED on P reaches N; else ready at W% as ESTABLISHED\n"
     "  approaches N (100 without N). --service sets one port's own N and R. HAProxy's\n"
     "  agent-check on --listen (127.0.0.1:9478; one line per connection: `up ready W%`,\n"
     "  `up drain`, `down`; with several services agent-send names the port). HTTP on\n"
     "  --http-listen: GET /ready/P (or /ready for one service) answers 200 ready, 429 drain\n"
     "  (404 with ?drain=404), 503 down. Measured every --max-age S (1) on a thread of its\n"
     "  own, so no answer waits for a dump; listeners only unless N is set (that walks the\n"
     "  established hash); no answer from a measurement older than --max-stale S (3 x\n"
     "  max-age): down, no measurement. Connections are bounded as the exporter's.\n"},
    {command::doctor,
     "doctor [-j|--format F] [--interval S] [--threads N]\n"
     "                 [--all-netns [--netns-owner init|any]] [FILTER]",
     "doctor: diagnoses TIME_WAIT and ephemeral-port exhaustion, SYN floods, full accept\n"
     "  queues, CLOSE_WAIT leaks, FIN_WAIT2 and orphans, TCP memory, retransmissions and\n"
     "  tcp_tw_recycle from the sockets, counters and sysctls over --interval S (1); each\n"
     "  finding with its evidence, why, and what to do. Exit 0 none, 1 warning, 2 critical,\n"
     "  3 could not diagnose. FILTER: judge only the sockets it selects (doctor 'sport =\n"
     "  :443': that service's listeners, SYN queue, CLOSE_WAIT); the counters and sysctls\n"
     "  are the namespace's. --all-netns: every network namespace (as -s --all-netns finds\n"
     "  them), all sampled within the one interval; a section for each with findings or\n"
     "  that could not be read (-j: one object per line, with its netns), then a count; the exit\n"
     "  status is the worst finding's. --netns-owner init leaves out other users' namespaces.\n"},
    {command::record,
     "record [--interval S] [--dir DIR] [--keep DAYS] [--max-listeners N]\n"
     "                 [--count N]",
     "record: a sample every --interval S (10, 1 to 3600) of TCP by state, UDP, UNIX, the\n"
     "  kernel's counters, the doctor's sysctls and the --max-listeners N (5) fullest\n"
     "  listeners, appended to one file per UTC day in --dir DIR (/var/lib/ssfast),\n"
     "  YYYY-MM-DD.ssr, each record checked (CRC-32C): a crash or a full disk never spoils\n"
     "  the records before; counters are stored as their change since the previous sample,\n"
     "  a counter that goes down as a reset. Files are 0644; those older than --keep DAYS (7)\n"
     "  are removed. Runs until stopped, or for --count N samples.\n"},
    {command::history,
     "history [--since T] [--until T] [--dir DIR | -f FILE] [-j|--format F]\n"
     "                 [STATE...]",
     "history: what record kept, as sar shows its files: a line per sample (local time), the\n"
     "  TCP states (the STATEs named, else those any sample had), UDP, UNIX, and the\n"
     "  counters as rates per second (- where not known: a run's first sample, a counter\n"
     "  reset), then Min, Average and Max lines; on a terminal also the doctor's flags per\n"
     "  sample (its rules on each interval; ! critical; the rules a sample cannot feed said\n"
     "  as not evaluated) and a sparkline per column. --since T, --until T: 03:00 (the last\n"
     "  03:00 past), -2h (s, m, d), 2026-12-04 03:00, 2026-12-04T03:00Z (UTC), now; today by\n"
     "  default. -f, --file FILE: a day file named directly (repeatable; every sample in it).\n"
     "  -j: JSON Lines shaped as -s -j, plus time, interval_s, rates and listeners; --format\n"
     "  csv.\n"
     "  Damaged records and an unfinished last one are passed over and said on stderr.\n"},
    {command::states, "states [-j|--format F] [STATE...]",
     "states: the TCP state table: who holds each state, how it is entered and left, and\n"
     "  how long it lasts on Linux. STATE in netstat's, ss's or the filter's spelling\n"
     "  (FIN_WAIT2, fin-wait-2, FIN-WAIT-2) shows that state only.\n"},
}};

constexpr std::string_view intro =
    "\n"
    "Read the sockets of this network namespace from the kernel's sock_diag interface, or\n"
    "from /proc/net where netlink is missing or refused. `ssfast help COMMAND` or\n"
    "`ssfast COMMAND -h` shows one command.\n";

// Shown with -s and top, and with the whole help.
constexpr std::string_view watch_options =
    "  --watch S       -s and top: report every S seconds (--count N reports, else until\n"
    "                  interrupted). On a terminal a full-screen view: counts, changes and\n"
    "                  history per state or key, rates, what the doctor would flag; keys q\n"
    "                  quit, space pause, t top, s summary (NO_COLOR: no colour). One line\n"
    "                  or object per report otherwise. Rates divide by the time measured\n"
    "                  between reports; reports missed while stopped are skipped\n";

// Shown with -s, and with the whole help.
constexpr std::string_view summary_watch_options =
    "  --dir DIR       -s --watch on a terminal: the summary's history starts from the last\n"
    "                  hour that ssfast record kept of this namespace in DIR (/var/lib/ssfast)\n";

// Shown with every command that reads sockets (all but states and help).
constexpr std::string_view reading_options =
    "  -N NAME         the network namespace `ip netns` calls NAME (/run/netns/NAME)\n"
    "  --netns PATH|PID  the namespace of that file, or of that process (/proc/PID/ns/net);\n"
    "                  entering one needs CAP_SYS_ADMIN. By PID, what runs on (a watch, a\n"
    "                  textfile, the exporter, the agent) stops when that process exits\n"
    "                  (exit 1)\n"
    "  --source SRC    auto (default): netlink, else /proc/net when netlink is missing or\n"
    "                  refused; netlink: netlink only; proc: /proc/net only\n"
    "  --proc-root DIR read sockets and counters from DIR/net/* (implies --source proc):\n"
    "                  a host's /proc mounted elsewhere; DIR/1 is its PID 1's namespace\n";

constexpr std::string_view help_options =
    "  -h, --help      this help;  -V, --version  the version\n";

constexpr std::string_view exit_status =
    "\n"
    "Exit status: 0 success, 1 the sockets could not be read (or, exporter and agent, the\n"
    "address could not be listened on), 2 bad usage or filter. check: 0 OK, 1 WARNING,\n"
    "2 CRITICAL, 3 UNKNOWN (including bad usage and the timeout), as plugins do. doctor:\n"
    "0 no finding, 1 warnings, 2 critical, 3 could not diagnose (including bad usage).\n";

}  // namespace

std::string usage(std::optional<command> c) {
  std::string out;
  for (const help_section& s : sections) {
    if (c && s.cmd != *c) continue;
    out += out.empty() ? "Usage: ssfast " : "       ssfast ";
    out += s.synopsis;
    out.push_back('\n');
  }
  if (out.empty()) return usage();  // help, version: every command
  out += intro;
  for (const help_section& s : sections) {
    if (c && s.cmd != *c) continue;
    out.push_back('\n');
    out += s.body;
  }
  out.push_back('\n');
  out += c ? "Also:\n" : "Every command:\n";
  if (!c || *c == command::summary || *c == command::top) out += watch_options;
  if (!c || *c == command::summary) out += summary_watch_options;
  if (!c || *c != command::states) out += reading_options;
  out += help_options;
  out += exit_status;
  return out;
}

}  // namespace ssfast::cli
