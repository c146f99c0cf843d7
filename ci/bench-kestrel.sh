#!/usr/bin/env bash
# Kestrel on the LinuxEvent transport vs Kestrel's default sockets transport (issue 13): the same app
# (tools/KestrelBench: /plaintext and a 4 KB /json), the same wrk command, interleaved in one run.
#   ci/bench-kestrel.sh [REPS=3] [SECS=5]
# Server pinned to CPU ${SRV_CPU:-0} (so Environment.ProcessorCount = 1: one loop, and the thread pool on that CPU too),
# wrk to CPU ${LOAD_CPU:-1}; everything on 127.0.0.1. Servers, each started fresh per rep and warmed up for ${WARMUP:-5} s:
#   sockets            Kestrel defaults (SocketTransportFactory)
#   sockets-inline     sockets with UnsafePreferInlineScheduling
#   reactor, proactor  LinuxEvent transport, application on the thread pool (the default)
#   reactor-inline, proactor-inline   LinuxEvent transport with UnsafePreferInlineScheduling (app on the loop thread)
# Per server and path: `wrk -t1 -c50 -d${SECS}s --latency http://127.0.0.1:P/{plaintext,json}`. Raw lines
# (rep,server,path,requests/s,server CPU µs per request,p99 ms,loadavg1) go to artifacts/bench-kestrel/raw.csv;
# medians and ratios to sockets (and inline to sockets-inline) are printed at the end. Needs wrk (apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3} secs=${2:-5}
srv_cpu=${SRV_CPU:-0} load_cpu=${LOAD_CPU:-1}
port=${PORT:-8097}
servers=${SERVERS:-"sockets sockets-inline reactor proactor reactor-inline proactor-inline"}
out=artifacts/bench-kestrel
dll=tools/KestrelBench/bin/Release/net10.0/KestrelBench.dll
mkdir -p "$out"
raw="$out/raw.csv"
: > "$raw"
command -v wrk > /dev/null || { echo "bench-kestrel: wrk not installed (apt-get install -y wrk)" >&2; exit 2; }
dotnet build tools/KestrelBench -c Release -nologo -v q -clp:ErrorsOnly > "$out/build.log" 2>&1 \
  || { echo "bench-kestrel: build failed (see $out/build.log)" >&2; exit 2; }

pid=
cleanup() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi; pid=; }
trap cleanup EXIT

start_server() {
  local args=()
  case $1 in
    sockets) args=(--transport sockets) ;;
    sockets-inline) args=(--transport sockets --inline) ;;
    reactor|proactor) args=(--transport linuxevent --model "$1") ;;
    reactor-inline|proactor-inline) args=(--transport linuxevent --model "${1%-inline}" --inline) ;;
  esac
  taskset -c "$srv_cpu" dotnet "$dll" "${args[@]}" --urls "http://127.0.0.1:$port" > "$out/server-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    if curl -sf -m 1 "http://127.0.0.1:$port/plaintext" 2>/dev/null | grep -q 'Hello, World!'; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench-kestrel: $1 did not start (see $out/server-$1.log)" >&2; exit 1
}

run_wrk() {  # path -> prints "rps us_per_req p99_ms"
  local c0 c1 o rps reqs p99
  c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  o=$(timeout $((secs + 30)) taskset -c "$load_cpu" wrk -t1 -c50 -d"${secs}s" --latency "http://127.0.0.1:$port/$1")
  c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  printf '%s\n' "$o" > "$out/wrk-$rep-$server-$1.txt"
  rps=$(awk '/^Requests\/sec:/{print $2}' <<< "$o")
  reqs=$(awk '/requests in/{print $1}' <<< "$o")
  p99=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) sub(/ms/,"",v); else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<< "$o")
  if grep -q 'Non-2xx\|Socket errors' <<< "$o"; then echo "bench-kestrel: $server $1: $(grep 'Non-2xx\|Socket errors' <<< "$o")" >&2; fi
  awk -v r="$rps" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" -v p="$p99" \
    'BEGIN{printf "%s %.2f %s\n", r, c / hz * 1e6 / n, p}'
}

echo "bench-kestrel: $(uptime)"
for rep in $(seq "$reps"); do
  for server in $servers; do
    start_server "$server"
    timeout 30 taskset -c "$load_cpu" wrk -t1 -c50 -d"${WARMUP:-5}s" "http://127.0.0.1:$port/plaintext" > /dev/null
    timeout 30 taskset -c "$load_cpu" wrk -t1 -c50 -d2s "http://127.0.0.1:$port/json" > /dev/null
    for path in plaintext json; do
      load1=$(cut -d' ' -f1 /proc/loadavg)
      read -r rps us p99 <<< "$(run_wrk "$path")"
      echo "$rep,$server,$path,$rps,$us,$p99,$load1" | tee -a "$raw"
    done
    cleanup
    sleep 0.5
  done
done
echo "bench-kestrel: $(uptime)"

python3 - "$raw" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
v = {}
for rep, server, path, rps, us, p99, _ in rows:
    v.setdefault((server, path), []).append((float(rps), float(us), float(p99)))
med = lambda s, p, i: statistics.median(x[i] for x in v[(s, p)])
servers = list(dict.fromkeys(r[1] for r in rows))
print(f"{'path':<10} {'server':<16} {'req/s':>10} {'µs/req':>8} {'p99 ms':>7} {'÷ sockets':>10} {'µs ÷ sockets':>13}  (medians of {len(rows) // max(1, len(v))})")
for path in ('plaintext', 'json'):
    for s in servers:
        if (s, path) not in v: continue
        base = 'sockets-inline' if s.endswith('-inline') and ('sockets-inline', path) in v else 'sockets'
        r, u, p = med(s, path, 0), med(s, path, 1), med(s, path, 2)
        ratio = f"{r / med(base, path, 0):.2f}" if (base, path) in v and s != base else "–"
        uratio = f"{u / med(base, path, 1):.2f}" if (base, path) in v and s != base else "–"
        print(f"{path:<10} {s:<16} {r:>10,.0f} {u:>8.1f} {p:>7.2f} {ratio:>10} {uratio:>13}" + (f"  (vs {base})" if s != base and base != 'sockets' else ""))
PY
