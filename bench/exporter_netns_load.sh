#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The --all-netns exporter under the load issue 22 describes, measured in one run: K namespaces
# root made (a listener each), U namespaces an unprivileged user made with user namespaces of
# its own (8 listeners each, so they are the largest), and two named ones; then
#   - one scrape of `exporter --all-netns` and of `--netns-owner init`: its time, its status
#     counts, and whether the host's and the named namespaces have their series;
#   - 64 clients (16 source addresses, 4 each: under --max-per-peer) that each pipeline 178
#     scrapes and never read, held 15 s: the exporter's peak RSS (VmHWM), --all-netns and plain.
# Runs in a private network namespace of its own; needs root, perl and setpriv; removes every
# process and namespace it made.
#   bench/exporter_netns_load.sh PATH_TO_SSFAST [K [U]]     (default K=320, U=510)
set -euo pipefail
ssfast=$(realpath "${1:?usage: exporter_netns_load.sh PATH_TO_SSFAST [K [U]]}")
k=${2:-320}
u=${3:-510}
if [ "${SSFAST_LOAD_INSIDE:-}" != 1 ]; then
  exec env SSFAST_LOAD_INSIDE=1 unshare -n "$0" "$ssfast" "$k" "$u"
fi
ip link set lo up
work=$(mktemp -d)
names=("ssfast-load-a-$$" "ssfast-load-b-$$")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in "${names[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A process holding N listeners (port 0, any address: no interface needed) until killed.
holder='use Socket; my @k; for (1..$ARGV[0]) { socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
  bind($s, pack_sockaddr_in(0, INADDR_ANY)) or die; listen($s, 4) or die; push @k, $s }
  open(my $r, ">", $ARGV[1]) and close($r); sleep 600;'
hold() {  # hold READY-FILE N COMMAND...
  local ready=$1 n=$2
  shift 2
  "$@" perl -e "$holder" "$n" "$ready" &
  pids+=($!)
}
for n in "${names[@]}"; do ip netns add "$n"; done
for i in $(seq 1 "$k"); do hold "$work/r$i" 1 unshare -n; done
chmod 0777 "$work"
for i in $(seq 1 "$u"); do
  hold "$work/u$i" 8 setpriv --reuid=65534 --regid=65534 --clear-groups unshare -Urn
done
for _ in $(seq 1 600); do
  [ "$(find "$work" -name 'r*' -o -name 'u*' | wc -l)" -ge $((k + u)) ] && break
  sleep 0.1
done
echo "namespaces: $k root-made (1 listener), $u unprivileged (8 listeners), 2 named, this one"

scrape() {  # scrape PORT [HEADER]: the body on stdout, the seconds on stderr
  perl -MIO::Socket::INET -MTime::HiRes=time -e '
    my $t = time; my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or die;
    my $h = $ARGV[1] eq "" ? "" : "$ARGV[1]\r\n";
    print $c "GET /metrics HTTP/1.0\r\nHost: x\r\n$h\r\n"; local $/; my $r = <$c>;
    printf STDERR "%.3f (%s)", time - $t, $r =~ /^(\S+ \d+)/ ? $1 : "no answer"; $r =~ s/^.*?\r\n\r\n//s; print $r;' "$1" "${2:-}"
}
start() {  # start PORT ARGS...: an exporter; its pid in $started
  local port=$1
  shift
  "$ssfast" exporter --listen "127.0.0.1:$port" "$@" 2>>"$work/exporter.err" &
  started=$!
  pids+=("$started")
  for _ in $(seq 1 100); do
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null && { exec 3>&-; return; }
    sleep 0.05
  done
  echo "exporter on $port did not start: $(cat "$work/exporter.err")" >&2
  exit 1
}
own=$(stat -L -c %i /proc/self/ns/net)
named_inodes=$(for n in "${names[@]}"; do stat -L -c %i "/run/netns/$n"; done)
report() {  # report LABEL PORT [HEADER]
  local body took
  body=$(scrape "$2" "${3:-}" 2>"$work/took")
  took=$(cat "$work/took")
  local statuses
  statuses=$({ grep '^ssfast_netns_namespaces{' <<<"$body" ||
    echo "no namespace series (body: $(head -c 100 <<<"$body" | tr -d "\r\n"))"; } |
    sed 's/ssfast_netns_namespaces{status="\([a-z]*\)"} /\1=/' | tr '\n' ' ')
  local host=no named=0
  grep -q "^ssfast_netns_udp_sockets{netns=\"$own\"" <<<"$body" && host=yes
  for i in $named_inodes; do
    grep -q "netns=\"$i\"" <<<"$body" && named=$((named + 1))
  done
  echo "$1: ${took} s; $statuses; host series: $host; named with series: $named of 2"
}

start 19477 --all-netns
any=$started
start 19478 --all-netns --netns-owner init
start 19479
plain=$started
# The named namespaces hold no socket of their own: one listener each, from a process in them.
for n in "${names[@]}"; do hold "$work/n-$n" 1 ip netns exec "$n"; done
sleep 1
report "--all-netns (any)" 19477
report "--all-netns --netns-owner init" 19478
report "--all-netns, Prometheus timeout 0.6 s" 19477 "X-Prometheus-Scrape-Timeout-Seconds: 0.6"

flood() {  # flood PORT: 64 clients pipelining 178 scrapes each, never reading, for 15 s
  perl -MIO::Socket::INET -e '
    my @c; my $req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" x 178;
    for my $i (0..63) {
      my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]",
                                    LocalAddr => "127.0.1." . (1 + $i % 16)) or die "$!";
      $c->blocking(0); syswrite($c, $req); push @c, $c;
    }
    sleep 15;' "$1"
}
hwm() { awk '/^VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$1/status"; }
echo "peak RSS before the flood: --all-netns $(hwm "$any"), plain $(hwm "$plain")"
flood 19477 &
flood 19479 &
wait_flood() { sleep 3; report "  a well-behaved scrape during the flood (--all-netns)" 19477; }
wait_flood
sleep 13
echo "peak RSS after 64 pipelining clients: --all-netns $(hwm "$any"), plain $(hwm "$plain")"
