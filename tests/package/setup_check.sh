#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What each script asks apt for, on a machine where every package is missing (a dpkg-query that
# knows no package; SSFAST_SETUP_DRY_RUN makes scripts/setup print its list instead of
# installing): ./scripts/run asks for the build-and-run set only, and its release tree is
# configured without tests or benchmarks, so it needs none of their packages.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin"
printf '#!/bin/sh\nexit 1\n' >"$work/bin/dpkg-query"
chmod +x "$work/bin/dpkg-query"
export PATH="$work/bin:$PATH" SSFAST_SETUP_DRY_RUN=1
fail() { echo "setup check: $*"; exit 1; }

run_set="g++ cmake ninja-build pkgconf libmnl-dev libboost-dev"
got=$("$src/scripts/setup" run | tr '\n' ' ' | sed 's/ $//')
[ "$got" = "$run_set" ] || fail "setup run asks for '$got', not '$run_set'"
test_list=$("$src/scripts/setup" test)
for p in $run_set libgtest-dev nlohmann-json3-dev clang-format-14 iproute2 net-tools prometheus \
         prometheus-alertmanager haproxy lintian tmux; do
  grep -qxF "$p" <<<"$test_list" || fail "setup test does not ask for $p"
done
for p in wrk; do
  if grep -qxF "$p" <<<"$test_list" || grep -qxF "$p" <<<"$got"; then
    fail "$p is for benchmarks, yet run or test asks for it"
  fi
done

# ./scripts/run --version: its setup step asks for the run set (said on stderr), and the
# release tree it builds configures no test and no benchmark.
out=$("$src/scripts/run" --version 2>"$work/run.err") || { cat "$work/run.err"; fail "scripts/run failed"; }
[ "${out%% *}" = ssfast ] || fail "scripts/run --version printed '$out'"
asked=$(grep -xE '[a-z0-9.+-]+' "$work/run.err" | tr '\n' ' ' | sed 's/ $//' || true)
[ "$asked" = "$run_set" ] || fail "scripts/run asked apt for '$asked'"
# The flags scripts/build gave that tree, configured afresh (a developer's old tree may keep
# cache entries from before): no test or benchmark package is looked for.
read -r -a flags <"$src/build/release/.ssfast-build-flags" || true  # no final newline
cmake -S "$src" -B "$work/tree" "${flags[@]}" >"$work/cmake.log" 2>&1 ||
  { cat "$work/cmake.log"; fail "the release flags do not configure"; }
cache="$work/tree/CMakeCache.txt"
grep -q '^SSFAST_BUILD_TESTS:BOOL=OFF' "$cache" && grep -q '^SSFAST_BUILD_BENCH:BOOL=OFF' "$cache" ||
  fail "the release tree builds tests or benchmarks"
if grep -qE '^(GTest_DIR|benchmark_DIR|nlohmann_json_DIR):PATH=' "$cache"; then
  fail "the release tree looked for a test or benchmark package"
fi
echo "setup check passed: run asks for $run_set"
