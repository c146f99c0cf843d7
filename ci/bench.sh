#!/usr/bin/env bash
# The README's first command: builds what the echo comparison needs and runs it end to end.
#
#   ci/bench.sh [--quick] [any LinuxEvent.Compare option, e.g. --reps 5 --shapes a,b --load both]
#
# 1. publishes (Release) examples/EchoServer, tools/LinuxEvent.Load and tools/LinuxEvent.Compare into artifacts/bin/;
# 2. if the reference kit ../shared/peers exists beside the checkout, copies its sources to artifacts/peers/src and
#    builds them into artifacts/peers/bin (echoload, echo_epoll, echo_uring, EchoSockets), installing gcc and
#    liburing-dev with apt-get when missing; nothing is built inside ../shared;
# 3. runs LinuxEvent.Compare (server pinned to CPU 0, load to CPU 1): prints the table and writes Markdown + SVG
#    to artifacts/bench/<timestamp>/.
# Without ../shared/peers only our reactor and proactor servers run, under our C# load generator.
# Default: a few minutes. --quick: ~30 s of runs (plus the build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {   # apt_install PKG...: as root, or with sudo when available
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then need sudo || return 1; sudo=sudo; fi
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null 2>&1
}
if ! need dotnet; then echo "ci/bench.sh: the .NET SDK (dotnet) is required" >&2; exit 1; fi
need taskset || echo "ci/bench.sh: taskset (util-linux) not found: runs will not be pinned" >&2

echo "ci/bench.sh: publishing echo-server, LinuxEvent.Load, LinuxEvent.Compare (Release)"
publish() {   # publish PROJECT OUTDIR; retries once (another build may hold obj/ for a moment)
    dotnet publish "$1" -c Release -o "$2" -nologo -v quiet -clp:ErrorsOnly ||
        { sleep 3; dotnet publish "$1" -c Release -o "$2" -nologo -v quiet -clp:ErrorsOnly; }
}
publish examples/EchoServer/EchoServer.csproj artifacts/bin/echo-server
publish tools/LinuxEvent.Load/LinuxEvent.Load.csproj artifacts/bin/load
publish tools/LinuxEvent.Compare/LinuxEvent.Compare.csproj artifacts/bin/compare

peers="$root/../shared/peers"
if [ -d "$peers" ]; then
    src=artifacts/peers/src bin=artifacts/peers/bin
    same() {   # the copy in artifacts/peers/src is identical to ../shared/peers and every binary exists
        for f in echoload.c echo_epoll.c echo_uring.c; do cmp -s "$peers/$f" "$src/$f" || return 1; done
        diff -rq -x bin -x obj "$peers/EchoSockets" "$src/EchoSockets" >/dev/null 2>&1 || return 1
        for b in echoload echo_epoll echo_uring EchoSockets/EchoSockets; do [ -x "$bin/$b" ] || return 1; done
    }
    if same; then
        echo "ci/bench.sh: reference peers already built in artifacts/peers (sources unchanged)"
    else
        echo "ci/bench.sh: building the reference peers from $peers into artifacts/peers"
        rm -rf "$src"; mkdir -p "$src" "$bin"
        cp "$peers"/echoload.c "$peers"/echo_epoll.c "$peers"/echo_uring.c "$src"/
        cp -r "$peers"/EchoSockets "$src"/
        rm -rf "$src"/EchoSockets/bin "$src"/EchoSockets/obj
        # Stop MSBuild from importing this repository's Directory.Build.* into the peer project: build it as shipped.
        echo '<Project></Project>' > "$src"/Directory.Build.props
        echo '<Project></Project>' > "$src"/Directory.Build.targets
        need gcc || apt_install gcc libc6-dev || echo "ci/bench.sh: could not install gcc" >&2
        [ -f /usr/include/liburing.h ] || apt_install liburing-dev || echo "ci/bench.sh: could not install liburing-dev: C liburing skipped" >&2
        cflags=(-O2 -g -std=gnu11 -Wall -Wextra)
        if need gcc; then
            gcc "${cflags[@]}" -o "$bin"/echoload "$src"/echoload.c
            gcc "${cflags[@]}" -o "$bin"/echo_epoll "$src"/echo_epoll.c
            if [ -f /usr/include/liburing.h ]; then
                gcc "${cflags[@]}" -o "$bin"/echo_uring "$src"/echo_uring.c -luring || echo "ci/bench.sh: echo_uring did not build" >&2
            fi
        fi
        dotnet publish "$src"/EchoSockets/EchoSockets.csproj -c Release -o "$bin"/EchoSockets -nologo -v quiet ||
            echo "ci/bench.sh: EchoSockets did not build" >&2
    fi
else
    echo "ci/bench.sh: no ../shared/peers beside the checkout: comparing our reactor and proactor only (C# load generator)"
fi

exec artifacts/bin/compare/LinuxEvent.Compare --repo "$root" "$@"
