#!/usr/bin/env bash
# Builds the C baselines into OUTDIR (default: <repo>/artifacts/baselines/bin):
#   loadgen     verifying load generator (closed and open loop)      needs gcc
#   echo_epoll  epoll echo server                                      needs gcc
#   echo_uring  io_uring echo server                                   needs gcc and liburing-dev
# Each program builds on its own: one that cannot be built is reported and left out, the others still build.
# ci/bench.sh installs gcc and liburing-dev first when they are missing. Exit 1 only if nothing at all built.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../artifacts/baselines/bin}"
mkdir -p "$out"
cc="${CC:-gcc}"
cflags=(-O2 -g -std=gnu11 -Wall -Wextra)
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "tools/baselines/build.sh: no C compiler ($cc): C baselines not built" >&2
    exit 1
fi
built=0
build() {   # build NAME SOURCES... [-lLIB]
    local name=$1; shift
    if "$cc" "${cflags[@]}" -o "$out/$name.tmp" "$@"; then
        mv -f "$out/$name.tmp" "$out/$name"
        built=$((built + 1))
    else
        rm -f "$out/$name.tmp" "$out/$name"
        echo "tools/baselines/build.sh: $name did not build" >&2
    fi
}
build loadgen "$here/loadgen.c" "$here/histogram.c"
build echo_epoll "$here/echo_epoll.c" "$here/common.c"
if echo '#include <liburing.h>' | "$cc" -E -x c - >/dev/null 2>&1; then
    build echo_uring "$here/echo_uring.c" "$here/common.c" -luring
else
    rm -f "$out/echo_uring"
    echo "tools/baselines/build.sh: liburing.h not found (apt-get install liburing-dev): echo_uring not built" >&2
fi
[ "$built" -gt 0 ]
