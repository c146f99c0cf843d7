#!/usr/bin/env bash
# Nop round trips: C liburing loop vs LinuxEvent's proactor loop, interleaved, each pinned to CPU ${CPU:-0}.
#   tools/nop-bench/run.sh [REPS=3] [SECS=3]      (run build.sh first; WARMUP=seconds before each window, default 6)
# The warm-up must cover tiered JIT: the C# loop never blocks, and perf showed its hot path still running tier-0
# (QuickJitted) code ~3 s after start, so a 1 s warm-up measured mostly unoptimised code.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3} secs=${2:-3} cpu=${CPU:-0} warmup=${WARMUP:-6}
bin=artifacts/bin/nop-bench
for rep in $(seq "$reps"); do
    for b in 1 32; do
        echo "rep=$rep $(taskset -c "$cpu" "$bin/nop_loop" -b "$b" -t "$secs" -w "$warmup" -f plain)"
        echo "rep=$rep $(taskset -c "$cpu" "$bin/nop_loop" -b "$b" -t "$secs" -w "$warmup" -f defer)"
        echo "rep=$rep $(taskset -c "$cpu" "$bin/csharp/nop-loop" -b "$b" -t "$secs" -w "$warmup")"
    done
done
