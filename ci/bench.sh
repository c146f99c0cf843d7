#!/usr/bin/env bash
# The README's first command: builds what the echo comparison needs and runs it end to end.
#
#   ci/bench.sh [--quick] [any LinuxEvent.Compare option, e.g. --reps 5 --workloads a,lat90 --load both]
#
# 1. publishes (Release) examples/EchoServer, tools/SocketsEcho, tools/LinuxEvent.Load, tools/LinuxEvent.Compare and
#    tools/LinuxEvent.FileBench into artifacts/bin/;
# 2. builds the C baselines of tools/baselines (loadgen, echo_epoll, echo_uring) into artifacts/baselines/bin,
#    installing gcc and liburing-dev with apt-get when they are missing (and fio, the file workloads' C peer);
# 3. runs LinuxEvent.Compare: five servers (our reactor and proactor, C epoll, C liburing, .NET Sockets), server
#    pinned to CPU 0 and load generator to CPU 1; prints a summary that fits 100 columns and writes results.md,
#    chart.svg, results.json and raw.log to artifacts/bench/<timestamp>/.
# Nothing outside the checkout is used. Default: about 10 minutes of runs. --quick: at most 90 s of runs (+ the build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export LINUXEVENT_BENCH_COMMAND="ci/bench.sh $*"     # recorded in the reports

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {   # apt_install PKG...: as root, or with sudo when available
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then need sudo || return 1; sudo=sudo; fi
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null 2>&1
}
has_liburing() { echo '#include <liburing.h>' | gcc -E -x c - >/dev/null 2>&1; }
if ! need dotnet; then echo "ci/bench.sh: the .NET SDK (dotnet) is required" >&2; exit 1; fi
need taskset || echo "ci/bench.sh: taskset (util-linux) not found: runs will not be pinned" >&2

echo "ci/bench.sh: publishing echo-server, SocketsEcho, LinuxEvent.Load, LinuxEvent.Compare, LinuxEvent.FileBench (Release)"
publish() {   # publish PROJECT OUTDIR; retries once (another build may hold obj/ for a moment)
    dotnet publish "$1" -c Release -o "$2" -nologo -v quiet -clp:ErrorsOnly ||
        { sleep 3; dotnet publish "$1" -c Release -o "$2" -nologo -v quiet -clp:ErrorsOnly; }
}
publish examples/EchoServer/EchoServer.csproj artifacts/bin/echo-server
publish tools/SocketsEcho/SocketsEcho.csproj artifacts/bin/sockets-echo
publish tools/LinuxEvent.Load/LinuxEvent.Load.csproj artifacts/bin/load
publish tools/LinuxEvent.Compare/LinuxEvent.Compare.csproj artifacts/bin/compare
publish tools/LinuxEvent.FileBench/LinuxEvent.FileBench.csproj artifacts/bin/filebench
publish tools/LinuxEvent.FanoutBench/LinuxEvent.FanoutBench.csproj artifacts/bin/fanout     # --workloads fanout

echo "ci/bench.sh: building the C baselines (tools/baselines) into artifacts/baselines/bin"
if ! need gcc; then
    echo "ci/bench.sh: installing gcc"
    apt_install gcc libc6-dev || echo "ci/bench.sh: could not install gcc: C baselines skipped" >&2
fi
if need gcc && ! has_liburing; then
    echo "ci/bench.sh: installing liburing-dev"
    apt_install liburing-dev || echo "ci/bench.sh: could not install liburing-dev: C liburing skipped" >&2
fi
if ! need fio; then
    echo "ci/bench.sh: installing fio (the C peer of the file workloads: its io_uring engine)"
    apt_install fio || echo "ci/bench.sh: could not install fio: the file workloads have no C row" >&2
fi
tools/baselines/build.sh artifacts/baselines/bin || echo "ci/bench.sh: no C baseline built (the comparison says which are missing)" >&2

exec artifacts/bin/compare/LinuxEvent.Compare --repo "$root" "$@"
