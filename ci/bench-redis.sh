#!/usr/bin/env bash
# mini-redis vs redis-server (issue 7): the same redis-benchmark commands against each server, interleaved.
#   ci/bench-redis.sh [REPS=3]            (env: N1=200000 N16=2000000 WARMUP_N=2000000 PORT SRV_CPU=0 LOAD_CPU=1
#                                          PS: the -P values to run, default "1 16")
# Needs redis-server + redis-tools (apt-get install -y redis-server redis-tools) and the example built by
# `ci/smoke-examples.sh mini-redis` (artifacts/examples/mini-redis/bin). Server pinned to CPU 0, redis-benchmark to
# CPU 1; everything on 127.0.0.1. Each rep starts, in turn, redis-server (--save '' --appendonly no), mini-redis
# reactor and mini-redis proactor, warms each up for ~5 s, then runs what `redis-benchmark -t ping,set,get -c 50
# -P 1 -n N1` and `-P 16 -n N16` run, one command per invocation (ping_inline, ping_mbulk, set, get) so that the
# server's CPU time can be divided by that command's requests.
# Raw CSV lines (rep,server,P,command,requests/s,server CPU µs per request,loadavg1) go to
# artifacts/bench-redis/raw.csv; medians per server/P/command and the ratios mini-redis ÷ redis-server are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
n1=${N1:-200000} n16=${N16:-2000000}
srv_cpu=${SRV_CPU:-0} load_cpu=${LOAD_CPU:-1}
port=${PORT:-6399}
bin=artifacts/examples/mini-redis/bin/mini-redis.dll
out=artifacts/bench-redis
mkdir -p "$out"
raw="$out/raw.csv"
: > "$raw"
[ -f "$bin" ] || { echo "bench-redis: $bin missing; run ci/smoke-examples.sh mini-redis first" >&2; exit 2; }
command -v redis-benchmark > /dev/null || { echo "bench-redis: redis-benchmark not installed" >&2; exit 2; }

pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap cleanup EXIT

start_server() {
  case $1 in
    redis) taskset -c "$srv_cpu" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
             --protected-mode yes --daemonize no --loglevel warning > "$out/server-$1.log" 2>&1 & ;;
    reactor|proactor) taskset -c "$srv_cpu" dotnet "$bin" --model "$1" --port "$port" > "$out/server-$1.log" 2>&1 & ;;
  esac
  pid=$!
  for _ in $(seq 100); do
    if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then return 0; fi
    sleep 0.1
  done
  echo "bench-redis: $1 did not start (see $out/server-$1.log)" >&2; exit 1
}

echo "bench-redis: $(uptime)"
for rep in $(seq "$reps"); do
  for server in redis reactor proactor; do
    start_server "$server"
    # Warm-up, ~5 s, the same for every server: tiered JIT needs seconds before the .NET servers run optimised code
    # (perf of tools/nop-bench showed tier-0 code up to ~3 s after start).
    timeout 60 taskset -c "$load_cpu" redis-benchmark -p "$port" -t ping,set,get -c 50 -P 16 -n "${WARMUP_N:-2000000}" -q > /dev/null
    for p in ${PS:-1 16}; do
      n=$([ "$p" = 1 ] && echo "$n1" || echo "$n16")
      # One invocation per command (what -t ping,set,get runs one after the other), so that the server's CPU time
      # (utime+stime from /proc, all threads) can be divided by that command's requests.
      for t in ping_inline ping_mbulk set get; do
        load1=$(cut -d' ' -f1 /proc/loadavg)
        c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
        line=$(timeout 120 taskset -c "$load_cpu" redis-benchmark -p "$port" -t "$t" -c 50 -P "$p" -n "$n" --csv | tail -n +2 | tr -d '"')
        c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
        IFS=, read -r test rps _ <<< "$line"
        us=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN{printf "%.3f", c / hz * 1e6 / n}')
        echo "$rep,$server,$p,$test,$rps,$us,$load1" | tee -a "$raw"
      done
    done
    cleanup
    sleep 0.5
  done
done
echo "bench-redis: $(uptime)"

# Summary: median rps per (server, P, test), then the ratios against redis-server.
python3 - "$raw" <<'EOF'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
med = {}
cpu = {}
for rep, server, p, test, rps, us, _ in rows:
    med.setdefault((server, p, test), []).append(float(rps))
    cpu.setdefault((server, p, test), []).append(float(us))
tests = sorted({(p, t) for _, p, t in med}, key=lambda k: (int(k[0]), k[1]))
print(f"{'P':>3} {'command':<12} {'redis-server':>13} {'reactor':>13} {'proactor':>13} {'react/redis':>11} {'proact/redis':>12}  (medians of {len(med[next(iter(med))])} reps, requests/s)")
for p, t in tests:
    r = statistics.median(med.get(('redis', p, t), [0]))
    a = statistics.median(med.get(('reactor', p, t), [0]))
    b = statistics.median(med.get(('proactor', p, t), [0]))
    print(f"{p:>3} {t:<12} {r:>13,.0f} {a:>13,.0f} {b:>13,.0f} {a/r if r else 0:>11.2f} {b/r if r else 0:>12.2f}")
print()
print(f"{'P':>3} {'command':<12} {'redis µs/req':>13} {'reactor':>13} {'proactor':>13} {'react/redis':>11} {'proact/redis':>12}  (server CPU time per request, medians)")
for p, t in tests:
    r = statistics.median(cpu.get(('redis', p, t), [0]))
    a = statistics.median(cpu.get(('reactor', p, t), [0]))
    b = statistics.median(cpu.get(('proactor', p, t), [0]))
    print(f"{p:>3} {t:<12} {r:>13.3f} {a:>13.3f} {b:>13.3f} {a/r if r else 0:>11.2f} {b/r if r else 0:>12.2f}")
EOF
