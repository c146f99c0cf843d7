#!/usr/bin/env bash
# Syscalls per message of an awaited reactor ping-pong, by fd number vs through a LoopFd registration
# (docs/benchmarks-micro.md, "Awaited recv/send ping-pong"). Needs strace (apt-get install -y strace).
#   tools/syscall-count/run.sh [ROUND_TRIPS=100000]
set -euo pipefail
cd "$(dirname "$0")"
rounds=${1:-100000}
dotnet build pingpong.cs -c Release > /dev/null
dll=$(dotnet build pingpong.cs -c Release -getProperty:TargetPath 2>/dev/null || true)
[ -f "$dll" ] || { echo "syscall-count: could not locate the built pingpong.dll" >&2; exit 2; }
for run in "fd-number tcp" "registered tcp" "registered unix"; do
  set -- $run
  strace -f -c -e trace=recvfrom,sendto,epoll_pwait2,epoll_pwait,epoll_wait,epoll_ctl dotnet "$dll" "$1" "$rounds" "$2" 2>&1 \
    | grep -E "round trips|recvfrom|sendto|epoll|total"
done
