#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds and installs ssfast (Release, no tests) into a temporary prefix, then builds and runs
# out-of-tree consumers against it: a C probe through pkg-config (compiled by hand, as a C user
# would), the C++ probe through find_package with the shared and with the static library. Also
# checks the shared library's SONAME and that it exports the API and nothing internal.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
log="$work/steps.log"
# On failure, say which line failed and show what the quiet steps printed.
failed_line=?
trap 'failed_line=$LINENO' ERR
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "package check failed at line $failed_line (exit $rc)";
  tail -n 60 "$log" 2>/dev/null; fi; rm -rf "$work"' EXIT
prefix="$work/prefix"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)

# Configured for the default prefix and installed elsewhere with --prefix, as packagers do: the
# installed files must point at where they are, not where the build was configured for.
cmake -S "$src" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DSSFAST_BUILD_TESTS=OFF -DSSFAST_BUILD_BENCH=OFF >>"$log" 2>&1
cmake --build "$work/build" --parallel "$(nproc)" >>"$log" 2>&1
cmake --install "$work/build" --prefix "$prefix" >>"$log" 2>&1
configured=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$work/build/CMakeCache.txt")
if grep -rl --fixed-strings "$configured" "$prefix"/lib*/pkgconfig "$prefix"/lib*/cmake; then
  echo "installed package files name the configured prefix $configured"; exit 1
fi
cmp -s "$src/LICENSE" "$prefix/share/doc/ssfast/LICENSE" ||
  { echo "the license is not installed as share/doc/ssfast/LICENSE"; exit 1; }
lib=$(ls "$prefix"/lib*/libssfast.so.0.* | head -n 1)
libdir=$(dirname "$lib")

# The SONAME carries the major version; only the API is exported.
soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libssfast.so.0" ] || { echo "SONAME is '$soname'"; exit 1; }
exported=$(nm -DC --defined-only "$lib" | awk '$2 == "T" || $2 == "W"' | cut -d' ' -f3-)
# Never `producer | grep -q` under pipefail: grep -q exits at the first match, the producer
# may then die of SIGPIPE, and the pipeline fails at random. Match on captured text instead.
grep -q '^ssfast_count$' <<<"$exported" || { echo "ssfast_count is not exported"; exit 1; }
grep -q 'ssfast::collector::open' <<<"$exported" || { echo "collector::open is not exported"; exit 1; }
if grep -E 'ssfast::(netlink|proc|detail)::' <<<"$exported"; then
  echo "internal symbols are exported"; exit 1
fi
# Test seams stay out of what is shipped: no header, no symbol, no environment hook.
[ ! -e "$prefix/include/ssfast/detail" ] || { echo "ssfast/detail is installed"; exit 1; }
if grep -rl --fixed-strings -e SSFAST_INJECT_NETLINK_FAILURE -e inject_netlink_fault \
    "$prefix/bin/ssfast" "$prefix"/lib*/libssfast.*; then
  echo "a release artifact carries the test seam"; exit 1
fi

export PKG_CONFIG_PATH="$libdir/pkgconfig"
pc_prefix=$(cd "$(pkg-config --variable=prefix ssfast)" && pwd -P)
[ "$pc_prefix" = "$(cd "$prefix" && pwd -P)" ] || { echo "ssfast.pc prefix is $pc_prefix"; exit 1; }
incdir=$(pkg-config --cflags-only-I ssfast | sed 's/^ *-I//; s/ *$//')
[ -f "$incdir/ssfast/ssfast_c.h" ] || { echo "pkg-config --cflags: $incdir has no ssfast_c.h"; exit 1; }
# C, by hand, through pkg-config: strict C11 with every warning an error.
cc -std=c11 -Wall -Wextra -Werror "$src/examples/probe.c" $(pkg-config --cflags --libs ssfast) \
  -o "$work/probe_c"
LD_LIBRARY_PATH="$libdir" "$work/probe_c" 100000 100000
probe_libs=$(ldd "$work/probe_c")
grep -q 'libssfast.so.0 =>' <<<"$probe_libs" || { echo "probe_c does not use libssfast.so.0"; exit 1; }
# The probe API's example: port 1 has no listener here, so it is down (exit 2), said why.
cc -std=c11 -Wall -Wextra -Werror "$src/examples/service_probe.c" \
  $(pkg-config --cflags --libs ssfast) -o "$work/service_probe"
rc=0
said=$(LD_LIBRARY_PATH="$libdir" "$work/service_probe" 1 100) || rc=$?
[ "$rc" = 2 ] && [ "$said" = "down: no listener on port 1" ] ||
  { echo "service_probe 1 said '$said', exit $rc"; exit 1; }

# C++ through find_package, shared and static.
for static in OFF ON; do
  cmake -S "$src/examples" -B "$work/examples-$static" "${generator[@]}" \
    -DCMAKE_PREFIX_PATH="$prefix" -DSSFAST_STATIC=$static >>"$log" 2>&1
  cmake --build "$work/examples-$static" >>"$log" 2>&1
  LD_LIBRARY_PATH="$libdir" "$work/examples-$static/probe_cpp" 2
done
static_libs=$(ldd "$work/examples-ON/probe_cpp")
if grep -q libssfast <<<"$static_libs"; then
  echo "the static build still needs libssfast.so"; exit 1
fi
echo "package check passed: $soname, $(echo "$exported" | wc -l) exported functions"
