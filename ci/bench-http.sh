#!/usr/bin/env bash
# http-server vs a minimal ASP.NET Core (Kestrel) plaintext app (issue 7): the same wrk command against each, interleaved.
#   ci/bench-http.sh [REPS=3] [SECS=5]
# Needs wrk (apt-get install -y wrk), examples/http-server built by `ci/smoke-examples.sh http-server`
# (artifacts/examples/http-server/bin) and tools/KestrelPlaintext (built here, Release). Server pinned to CPU
# ${SRV_CPU:-0}, wrk to CPU ${LOAD_CPU:-1}; everything on 127.0.0.1. Each rep runs, per server (kestrel, http-server
# reactor, http-server proactor), `wrk -t1 -c50 -d${SECS}s http://127.0.0.1:P/plaintext` and the same with
# ci/wrk-pipeline.lua (16 requests per write). Raw lines (rep,server,variant,requests/s,server CPU µs per request,
# p99 ms,loadavg1) go to artifacts/bench-http/raw.csv; medians and ratios (ours ÷ Kestrel) are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3} secs=${2:-5}
srv_cpu=${SRV_CPU:-0} load_cpu=${LOAD_CPU:-1}
port=${PORT:-8099}
ours=artifacts/examples/http-server/bin/http-server.dll
kestrel=tools/KestrelPlaintext/bin/Release/net10.0/KestrelPlaintext.dll
out=artifacts/bench-http
mkdir -p "$out"
raw="$out/raw.csv"
: > "$raw"
[ -f "$ours" ] || { echo "bench-http: $ours missing; run ci/smoke-examples.sh http-server first" >&2; exit 2; }
command -v wrk > /dev/null || { echo "bench-http: wrk not installed" >&2; exit 2; }
dotnet build tools/KestrelPlaintext -c Release -nologo -v q -clp:ErrorsOnly > "$out/build-kestrel.log" 2>&1 \
  || { echo "bench-http: KestrelPlaintext build failed (see $out/build-kestrel.log)" >&2; exit 2; }
url="http://127.0.0.1:$port/plaintext"

pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap cleanup EXIT

start_server() {
  case $1 in
    kestrel) taskset -c "$srv_cpu" dotnet "$kestrel" --urls "http://127.0.0.1:$port" > "$out/server-$1.log" 2>&1 & ;;
    reactor|proactor) taskset -c "$srv_cpu" dotnet "$ours" --model "$1" --port "$port" > "$out/server-$1.log" 2>&1 & ;;
  esac
  pid=$!
  for _ in $(seq 100); do
    if curl -sf -m 1 "$url" 2>/dev/null | grep -q 'Hello, World!'; then return 0; fi
    sleep 0.1
  done
  echo "bench-http: $1 did not start (see $out/server-$1.log)" >&2; exit 1
}

# wrk -d is the bound of each run; timeout is a backstop.
run_wrk() {  # variant -> prints "rps us_per_req p99_ms"
  local script=() c0 c1 o rps reqs p99
  [ "$1" = pipeline16 ] && script=(-s ci/wrk-pipeline.lua)
  c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  o=$(timeout $((secs + 30)) taskset -c "$load_cpu" wrk -t1 -c50 -d"${secs}s" --latency "${script[@]}" "$url")
  c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  printf '%s\n' "$o" > "$out/wrk-$rep-$server-$1.txt"
  rps=$(awk '/^Requests\/sec:/{print $2}' <<< "$o")
  reqs=$(awk '/requests in/{print $1}' <<< "$o")
  p99=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) sub(/ms/,"",v); else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<< "$o")
  if grep -q 'Non-2xx\|Socket errors' <<< "$o"; then echo "bench-http: $(grep 'Non-2xx\|Socket errors' <<< "$o")" >&2; fi
  awk -v r="$rps" -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" -v p="$p99" \
    'BEGIN{printf "%s %.3f %s\n", r, c / hz * 1e6 / n, p}'
}

echo "bench-http: $(uptime)"
for rep in $(seq "$reps"); do
  for server in kestrel reactor proactor; do
    start_server "$server"
    # Warm-up, the same for every server: tiered JIT needs seconds before .NET code is optimised (perf of
    # tools/nop-bench showed tier-0 code up to ~3 s after start).
    timeout 30 taskset -c "$load_cpu" wrk -t1 -c50 -d"${WARMUP:-5}s" "$url" > /dev/null
    for variant in plain pipeline16; do
      load1=$(cut -d' ' -f1 /proc/loadavg)
      read -r rps us p99 <<< "$(run_wrk "$variant")"
      echo "$rep,$server,$variant,$rps,$us,$p99,$load1" | tee -a "$raw"
    done
    cleanup
    sleep 0.5
  done
done
echo "bench-http: $(uptime)"

python3 - "$raw" <<'EOF'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
v = {}
for rep, server, variant, rps, us, p99, _ in rows:
    v.setdefault((server, variant), []).append((float(rps), float(us), float(p99)))
med = lambda server, variant, i: statistics.median(x[i] for x in v[(server, variant)])
n = len(next(iter(v.values())))
print(f"{'variant':<11} {'kestrel rps':>12} {'reactor':>12} {'proactor':>12} {'react/k':>8} {'proact/k':>9}   {'µs/req k/r/p':>20}   {'p99 ms k/r/p':>18}  (medians of {n})")
for variant in ('plain', 'pipeline16'):
    if ('kestrel', variant) not in v: continue
    k, r, p = (med(s, variant, 0) for s in ('kestrel', 'reactor', 'proactor'))
    ku, ru, pu = (med(s, variant, 1) for s in ('kestrel', 'reactor', 'proactor'))
    kl, rl, pl = (med(s, variant, 2) for s in ('kestrel', 'reactor', 'proactor'))
    # wrk 4.1 prints 0.00us percentiles for some pipelined runs (its latency is per batch there): no p99 for them.
    lat = f"{kl:>6.2f}/{rl:>5.2f}/{pl:>5.2f}" if variant == 'plain' else f"{'n/a':>18}"
    print(f"{variant:<11} {k:>12,.0f} {r:>12,.0f} {p:>12,.0f} {r/k:>8.2f} {p/k:>9.2f}   {ku:>6.2f}/{ru:>5.2f}/{pu:>5.2f}   {lat}")
EOF
