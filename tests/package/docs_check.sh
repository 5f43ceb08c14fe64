#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keeps the manual and the bash completion in step with the binary: every long option and
# every command `ssfast --help` names is in ssfast(1) and in the completion, and every
# section the manual promises is there.
#   tests/package/docs_check.sh PATH_TO_SSFAST
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
ssfast=${1:?usage: docs_check.sh PATH_TO_SSFAST}
man_text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$src/packaging/ssfast.1")
completion=$(cat "$src/packaging/ssfast.bash-completion")
help=$("$ssfast" --help)
bad=0
for opt in $(grep -oE -- '--[a-z][a-z0-9-]+' <<<"$help" | sort -u); do
  grep -qF -- "$opt" <<<"$man_text" || { echo "ssfast(1) does not mention $opt"; bad=1; }
  grep -qF -- "$opt" <<<"$completion" || { echo "the completion does not offer $opt"; bad=1; }
done
for cmd in top counters check exporter agent doctor states help; do
  grep -q "^\.B ssfast $cmd\|^\.B $cmd\|^\.BI \"$cmd " "$src/packaging/ssfast.1" ||
    { echo "ssfast(1) has no entry for the command $cmd"; bad=1; }
  grep -qw "$cmd" <<<"$completion" || { echo "the completion does not offer $cmd"; bad=1; }
done
for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS FILTER "EXIT STATUS" PRIVILEGES FILES; do
  grep -q "^\.SH \"\?$section\"\?$" "$src/packaging/ssfast.1" ||
    { echo "ssfast(1) has no $section section"; bad=1; }
done
for state in established syn-sent syn-recv fin-wait-1 fin-wait-2 time-wait closed close-wait \
             last-ack listening closing connected synchronized bucket big; do
  grep -qF "$state" <<<"$man_text" || { echo "ssfast(1) does not name the state $state"; bad=1; }
  grep -qF "$state" <<<"$completion" || { echo "the completion does not offer $state"; bad=1; }
done
[ "$bad" = 0 ] && echo "ssfast(1) and the completion cover --help"
exit "$bad"
