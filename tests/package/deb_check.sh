#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the .deb with scripts/package and checks it as an operator would meet it: its files
# and control data, lintian (no errors), systemd-analyze verify on the unit, the man page
# rendering cleanly, bash completion loading, `dpkg -i` (as root, where no ssfast package is
# installed; removed and purged after), and the unit's ExecStart line run the way the unit runs
# it (its settings file, an unprivileged user, no capabilities, no new privileges) in a private
# network namespace, then scraped; the history recorder's unit, its settings and its system user
# the same way, its day file read back by another user.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
chmod 0755 "$work"  # the unprivileged exporter below must reach the extracted binary
log="$work/steps.log"
installed=0
failed_line=?
trap 'failed_line=$LINENO' ERR
trap_user=0
trap 'rc=$?; [ "$installed" = 1 ] && dpkg -P ssfast >>"$log" 2>&1;
  if [ "$trap_user" = 1 ]; then userdel _ssfast >>"$log" 2>&1 || true;
    if getent group _ssfast >/dev/null; then groupdel _ssfast >>"$log" 2>&1 || true; fi; fi;
  if [ $rc -ne 0 ]; then echo "deb check failed at line $failed_line (exit $rc)";
  tail -n 40 "$log" 2>/dev/null; fi; rm -rf "$work"' EXIT
fail() { echo "deb check: $*"; exit 1; }

deb=$("$src/scripts/package" "$work/out" 2>>"$log" | tail -n 1)
[ -f "$deb" ] || fail "scripts/package printed no .deb path (got '$deb')"
case "$(basename "$deb")" in ssfast_*_"$(dpkg --print-architecture)".deb) ;;
  *) fail "unexpected package name $(basename "$deb")" ;; esac

# Contents and control data.
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for f in ./usr/bin/ssfast ./usr/share/man/man1/ssfast.1.gz \
         ./usr/share/bash-completion/completions/ssfast \
         ./lib/systemd/system/ssfast-exporter.service ./etc/default/ssfast-exporter \
         ./lib/systemd/system/ssfast-record.service ./etc/default/ssfast-record \
         ./usr/lib/sysusers.d/ssfast.conf \
         ./usr/share/doc/ssfast/copyright ./usr/share/doc/ssfast/changelog.Debian.gz \
         ./usr/share/ssfast/monitoring/alerts.yml ./usr/share/ssfast/monitoring/rules.yml \
         ./usr/share/ssfast/monitoring/dashboard.json \
         ./usr/share/ssfast/monitoring/alertmanager.example.yml; do
  grep -qxF "$f" <<<"$contents" || fail "missing $f"
done
if grep -E '^\./usr/(include|lib)/' <<<"$contents" | grep -vxE '\./usr/lib/(sysusers\.d/.*)?'; then
  fail "the command's package carries library files (they install with cmake --install)"
fi
depends=$(dpkg-deb -f "$deb" Depends)
grep -q 'libmnl0' <<<"$depends" && grep -q 'libc6' <<<"$depends" ||
  fail "Depends is '$depends', not libc6 and libmnl0"
for f in /etc/default/ssfast-exporter /etc/default/ssfast-record; do
  grep -qxF "$f" <<<"$(dpkg-deb -I "$deb" conffiles)" || fail "$f is not a conffile"
done

x="$work/root"
dpkg-deb -x "$deb" "$x"
"$x/usr/bin/ssfast" --version | grep -q '^ssfast ' || fail "the packaged binary does not run"
copyright="$x/usr/share/doc/ssfast/copyright"
grep -qx 'License: Apache-2.0' "$copyright" &&
  grep -qF '/usr/share/common-licenses/Apache-2.0' "$copyright" ||
  fail "the copyright file does not grant Apache-2.0 with a pointer to common-licenses"

# The monitoring files as installed: promtool checks the rules and runs every unit test there
# (the tests name the rules by a relative path), and the dashboard is there (monitoring_test
# checks its contents).
monitoring="$x/usr/share/ssfast/monitoring"
[ "$(cd "$monitoring/tests" && ls -- *.yml | wc -l)" -ge 3 ] || fail "the rules' unit tests are missing"
command -v promtool >/dev/null || fail "promtool is not installed (scripts/setup test installs it)"
out=$(promtool check rules "$monitoring/rules.yml" "$monitoring/alerts.yml" 2>&1) ||
  fail "promtool check rules on the packaged rules: $out"
out=$(cd "$monitoring/tests" && promtool test rules ./*.yml 2>&1) ||
  fail "promtool test rules on the packaged tests: $out"
command -v amtool >/dev/null || fail "amtool is not installed (scripts/setup test installs it)"
out=$(amtool check-config "$monitoring/alertmanager.example.yml" 2>&1) ||
  fail "amtool check-config on the packaged Alertmanager example: $out"
grep -q '^  "uid": "ssfast-sockets",$' "$monitoring/dashboard.json" ||
  fail "the packaged dashboard is not the ssfast dashboard"

# lintian: no errors (warnings are reported, not fatal).
command -v lintian >/dev/null || fail "lintian is not installed (scripts/setup test installs it)"
lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[ -z "$lint" ] || echo "lintian: $lint"
if grep -q '^E: ' <<<"$lint"; then fail "lintian reports errors"; fi

# The unit: verified against the packaged binary (a copy whose ExecStart names where it is).
unit="$work/ssfast-exporter.service"
sed "s|/usr/bin/ssfast|$x/usr/bin/ssfast|" "$x/lib/systemd/system/ssfast-exporter.service" >"$unit"
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify says: $out"
fi
for d in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes \
         'RestrictAddressFamilies=AF_NETLINK AF_INET AF_INET6 AF_UNIX' \
         EnvironmentFile=-/etc/default/ssfast-exporter; do
  grep -qxF "$d" "$unit" || fail "the unit lacks $d"
done
grep -q '^WantedBy=multi-user.target' "$unit" || fail "the unit has no [Install] target"

# The recorder's unit: verified the same way; a static user (a DynamicUser's state directory
# is hidden from the other users `ssfast history` is for), files 0644 in /var/lib/ssfast.
record_unit="$work/ssfast-record.service"
sed "s|/usr/bin/ssfast|$x/usr/bin/ssfast|" "$x/lib/systemd/system/ssfast-record.service" \
  >"$record_unit"
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify --man=no "$record_unit" 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify says: $out"
fi
for d in User=_ssfast Group=_ssfast StateDirectory=ssfast StateDirectoryMode=0755 UMask=0022 \
         NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes CapabilityBoundingSet= \
         'RestrictAddressFamilies=AF_NETLINK AF_UNIX' \
         EnvironmentFile=-/etc/default/ssfast-record; do
  grep -qxF "$d" "$record_unit" || fail "the recorder's unit lacks $d"
done
! grep -q '^DynamicUser' "$record_unit" || fail "the recorder's unit has a DynamicUser"
grep -q '^WantedBy=multi-user.target' "$record_unit" || fail "the recorder's unit has no [Install]"
# The sysusers.d file makes the user it names, as systemd-sysusers reads it, in a scratch root.
if command -v systemd-sysusers >/dev/null; then
  mkdir -p "$work/sysroot/etc"
  systemd-sysusers --root "$work/sysroot" "$x/usr/lib/sysusers.d/ssfast.conf" >>"$log" 2>&1 ||
    fail "systemd-sysusers rejects the packaged sysusers.d file"
  grep -qE '^_ssfast:x:[0-9]+:[0-9]+:[^:]*:/nonexistent:/usr/sbin/nologin$' \
    "$work/sysroot/etc/passwd" || fail "sysusers.d made no _ssfast system user: $(cat "$work/sysroot/etc/passwd")"
  grep -q '^_ssfast:' "$work/sysroot/etc/group" || fail "sysusers.d made no _ssfast group"
fi

# The man page renders without warnings; the completion loads and completes.
command -v man >/dev/null || fail "man is not installed (scripts/setup test installs man-db)"
warnings=$(MANWIDTH=100 man --warnings -l "$x/usr/share/man/man1/ssfast.1.gz" 2>&1 >/dev/null)
[ -z "$warnings" ] || fail "man page warnings: $warnings"
MANWIDTH=100 man -l "$x/usr/share/man/man1/ssfast.1.gz" 2>/dev/null | grep -q '^EXIT STATUS' ||
  fail "the man page does not render"
[ -f /usr/share/bash-completion/bash_completion ] ||
  fail "bash-completion is not installed (scripts/setup test installs it)"
# complete WORDS...: what the packaged completion offers for the last word.
complete_words() {
  bash -c '. /usr/share/bash-completion/bash_completion; . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    _ssfast; echo "${COMPREPLY[*]}"' _ "$x/usr/share/bash-completion/completions/ssfast" "$@"
}
[ "$(complete_words ssfast top "")" = "raddr laddr lport rport state process netns" ] ||
  fail "completion after 'ssfast top': $(complete_words ssfast top "")"
[ "$(complete_words ssfast -tan state fin-w)" = "fin-wait-1 fin-wait-2" ] ||
  fail "completion of a state: $(complete_words ssfast -tan state fin-w)"
[ "$(complete_words ssfast agent --serv)" = "--service-port --service" ] ||
  fail "completion of an agent option: $(complete_words ssfast agent --serv)"
[ "$(complete_words ssfast agent --http)" = "--http-listen" ] ||
  fail "completion of an agent option: $(complete_words ssfast agent --http)"
[ "$(complete_words ssfast --format "")" = "text json prometheus csv" ] ||
  fail "completion of --format: $(complete_words ssfast --format "")"

# dpkg -i, where that changes nothing of someone else's.
if [ "$(id -u)" -eq 0 ] &&
   [ "$(dpkg-query -W -f='${Status}' ssfast 2>/dev/null)" != "install ok installed" ]; then
  # The recorder's user is made by the package and kept on purge (Debian's way); one this test
  # made is removed after, so the host is left as it was.
  getent passwd _ssfast >/dev/null || trap_user=1
  dpkg -i "$deb" >>"$log" 2>&1 || fail "dpkg -i failed"
  installed=1
  user=$(getent passwd _ssfast) || fail "dpkg -i made no _ssfast user"
  uid=$(cut -d: -f3 <<<"$user")
  [ "$uid" -lt 1000 ] && [ "$(cut -d: -f7 <<<"$user")" = /usr/sbin/nologin ] ||
    fail "_ssfast is not a system user without a shell: $user"
  [ "$(/usr/bin/ssfast --version)" = "$("$x/usr/bin/ssfast" --version)" ] ||
    fail "the installed ssfast is not the packaged one"
  if command -v man >/dev/null && command -v mandb >/dev/null; then
    man -w ssfast >/dev/null 2>&1 || fail "man ssfast finds no page after dpkg -i"
  fi
  dpkg -P ssfast >>"$log" 2>&1 || fail "dpkg -P failed"
  installed=0
  [ ! -e /usr/bin/ssfast ] || fail "/usr/bin/ssfast left after purge"
  [ ! -e /lib/systemd/system/ssfast-record.service ] && [ ! -e /etc/default/ssfast-record ] ||
    fail "the recorder's unit or settings left after purge"
else
  echo "dpkg -i not tried: not root, or an ssfast package is already installed"
fi

# The units' ExecStart, as the units run them: their settings files' flags, an unprivileged
# user, no capabilities, no new privileges (systemd's sandbox itself needs systemd as PID 1).
if unshare -n true 2>/dev/null && command -v setpriv >/dev/null; then
  exec_start=$(sed -n 's/^ExecStart=//p' "$record_unit")
  args=$(. "$x/etc/default/ssfast-record"; echo "$SSFAST_RECORD_ARGS")
  command=${exec_start//\$SSFAST_RECORD_ARGS/$args}
  case "$command" in "$x/usr/bin/ssfast record --interval 10 --keep 7 --max-listeners 5") ;;
    *) fail "unexpected recorder ExecStart with the default flags: $command" ;; esac
  # StateDirectory=ssfast as systemd makes it (owned by the user, 0755), standing in for
  # /var/lib/ssfast; two samples a second apart instead of ten.
  state="$work/state"
  install -d -m 0755 -o 65534 -g 65534 "$state"
  tracer=()
  command -v strace >/dev/null && tracer=(strace -f -qq -e trace=socket -o "$work/record.trace")
  unshare -n bash -c 'ip link set lo up; umask 0022
    exec "${@:2}" setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs \
      --inh-caps=-all --bounding-set=-all $1 --interval 1 --count 2 --dir '"$state" \
    _ "$command" "${tracer[@]}" 2>"$work/record.err" ||
    fail "the recorder as its unit runs it failed: $(cat "$work/record.err")"
  [ ! -s "$work/record.err" ] || fail "the recorder said: $(cat "$work/record.err")"
  day=$(ls "$state")
  [[ "$day" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\.ssr$ ]] || fail "the recorder wrote '$day'"
  [ "$(stat -c '%a %u' "$state/$day")" = "644 65534" ] ||
    fail "the day file is $(stat -c '%a %u' "$state/$day"), not 0644 and the recorder's"
  # Another unprivileged user reads it (the reason for 0644 and a static user).
  samples=$(setpriv --reuid=65533 --regid=65533 --clear-groups \
    "$x/usr/bin/ssfast" history -f "$state/$day" -j 2>&1) ||
    fail "another user cannot read the recorded day: $samples"
  [ "$(wc -l <<<"$samples")" = 2 ] || fail "history read $(wc -l <<<"$samples") samples, not 2"
  grep -q '"source":"netlink"' <<<"$samples" || fail "the unprivileged recorder did not use netlink"
  # RestrictAddressFamilies=AF_NETLINK AF_UNIX holds: no other family is asked for.
  if [ -f "$work/record.trace" ]; then
    families=$(grep -o 'socket(AF_[A-Z0-9]*' "$work/record.trace" | sort -u | sed 's/socket(//' | xargs)
    [ -n "$families" ] || fail "strace saw no socket(2) from the recorder"
    for f in $families; do
      case "$f" in AF_NETLINK | AF_UNIX) ;; *) fail "the recorder opens $f sockets" ;; esac
    done
  fi
fi
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
args=$(. "$x/etc/default/ssfast-exporter"; echo "$SSFAST_EXPORTER_ARGS")
command=${exec_start//\$SSFAST_EXPORTER_ARGS/$args}
case "$command" in "$x/usr/bin/ssfast exporter --listen 127.0.0.1:9477 --netns-owner init") ;;
  *) fail "unexpected ExecStart with the default flags: $command" ;; esac
if ! unshare -n true 2>/dev/null || ! command -v setpriv >/dev/null; then
  echo "no private network namespace or no setpriv here: the ExecStart run is skipped"
  exit 0
fi
scrape=$(unshare -n bash -c '
  ip link set lo up
  setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --inh-caps=-all \
    --bounding-set=-all $1 2>"$2/exporter.err" &
  pid=$!
  for _ in $(seq 1 100); do
    if { exec 3<>/dev/tcp/127.0.0.1/9477; } 2>/dev/null; then
      printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
      cat <&3
      break
    fi
    sleep 0.05
  done
  # A second scrape: the first interval judged, every rule said to have run or not.
  sleep 0.3
  exec 3<>/dev/tcp/127.0.0.1/9477
  printf "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
  echo "--- second scrape"
  cat <&3
  kill $pid; wait $pid 2>/dev/null || true' _ "$command" "$work")
head -n 1 <<<"$scrape" | grep -q '^HTTP/1.[01] 200 ' ||
  fail "the exporter answered '$(head -n 1 <<<"$scrape")' ($(cat "$work/exporter.err"))"
grep -q '^ssfast_source_info{source="netlink"} 1' <<<"$scrape" ||
  fail "the unprivileged exporter did not count through netlink"
grep -q '^ssfast_tcp_sockets{family="ipv4",state="listen"} 1' <<<"$scrape" ||
  fail "the exporter's own listener is not counted"
# Sandboxed as its unit runs it, the exporter still reads what the doctor's rules need: every
# rule ran but the two whose sysctls only the host's namespace shows (this is a private one).
second=$(sed -n '/^--- second scrape$/,$p' <<<"$scrape")
grep -q '^ssfast_findings_judged 1' <<<"$second" || fail "the second scrape judged nothing"
blind=$(sed -n 's/^ssfast_rule_evaluated{id="\([a-z0-9_]*\)"} 0$/\1/p' <<<"$second" | sort | xargs)
[ "$blind" = "orphans_limit tcp_memory" ] ||
  fail "rules not evaluated by the sandboxed exporter: '$blind' (want orphans_limit tcp_memory)"
[ "$(grep -c '^ssfast_rule_evaluated{id="[a-z0-9_]*"} 1$' <<<"$second")" -ge 8 ] ||
  fail "the sandboxed exporter evaluated fewer than 8 rules: $(grep ssfast_rule_evaluated <<<"$second")"
echo "deb check passed: $(basename "$deb")"
