#!/usr/bin/env bash
# TLS echo: LinuxEvent (Listener + LoopStream.AsStream + SslStream, reactor and proactor) vs .NET Sockets + SslStream
# (issue 13). Both TLS 1.3 with TLS_AES_128_GCM_SHA256 only; the same load generator (tools/TlsBench load: .NET
# Sockets + SslStream clients, one message in flight per connection). Interleaved, fresh server per rep.
#   ci/bench-tls.sh [REPS=3] [SECS=5]
# Server pinned to CPU ${SRV_CPU:-0}, load to CPU ${LOAD_CPU:-1}; 127.0.0.1 only. Shapes: a = 50 conns x 64 B,
# b = 10 conns x 16 KiB. Each run is preceded by a 2 s warm-up run of the same shape (JIT tiers, TLS session setup).
# Raw lines (rep,server,shape,msgs/s,server CPU µs per message,loadavg1) go to artifacts/bench-tls/raw.csv; medians and
# ratios to sockets are printed at the end. Server CPU per message is utime+stime of the server process over the
# measured run (handshakes of the run's connections included) divided by the messages echoed.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3} secs=${2:-5}
srv_cpu=${SRV_CPU:-0} load_cpu=${LOAD_CPU:-1}
port=${PORT:-8096}
servers=${SERVERS:-"sockets reactor proactor"}
out=artifacts/bench-tls
dll=tools/TlsBench/bin/Release/net10.0/TlsBench.dll
mkdir -p "$out"
raw="$out/raw.csv"
: > "$raw"
dotnet build tools/TlsBench -c Release -nologo -v q -clp:ErrorsOnly > "$out/build.log" 2>&1 \
  || { echo "bench-tls: build failed (see $out/build.log)" >&2; exit 2; }

pid=
cleanup() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi; pid=; }
trap cleanup EXIT

start_server() {
  taskset -c "$srv_cpu" dotnet "$dll" server --impl "$1" --port "$port" > "$out/server-$1.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    if (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench-tls: $1 did not start (see $out/server-$1.log)" >&2; exit 1
}

load() {  # conns size seconds -> the load line
  timeout $(( ${3%.*} + 60 )) taskset -c "$load_cpu" dotnet "$dll" load --port "$port" --conns "$1" --size "$2" --seconds "$3"
}

echo "bench-tls: $(uptime)"
for rep in $(seq "$reps"); do
  for server in $servers; do
    start_server "$server"
    for shape in a b; do
      if [ $shape = a ]; then conns=50 size=64; else conns=10 size=16384; fi
      load "$conns" "$size" 2 > /dev/null
      load1=$(cut -d' ' -f1 /proc/loadavg)
      c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
      line=$(load "$conns" "$size" "$secs")
      c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
      printf '%s\n' "$line" > "$out/load-$rep-$server-$shape.txt"
      rate=$(sed -n 's/.* msgs\/s=\([0-9]*\).*/\1/p' <<< "$line")
      msgs=$(sed -n 's/.* msgs=\([0-9]*\) .*/\1/p' <<< "$line")
      us=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$msgs" 'BEGIN{printf "%.2f", c / hz * 1e6 / n}')
      echo "$rep,$server,$shape,$rate,$us,$load1" | tee -a "$raw"
    done
    cleanup
    sleep 0.5
  done
done
echo "bench-tls: $(uptime)"

python3 - "$raw" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
v = {}
for rep, server, shape, rate, us, _ in rows:
    v.setdefault((server, shape), []).append((float(rate), float(us)))
med = lambda s, sh, i: statistics.median(x[i] for x in v[(s, sh)])
servers = list(dict.fromkeys(r[1] for r in rows))
names = {'a': '50 conns x 64 B', 'b': '10 conns x 16 KiB'}
print(f"{'shape':<18} {'server':<9} {'msgs/s':>9} {'µs/msg':>8} {'msgs/s ÷ sockets':>17} {'µs/msg ÷ sockets':>17}")
for sh in ('a', 'b'):
    for s in servers:
        if (s, sh) not in v: continue
        r, u = med(s, sh, 0), med(s, sh, 1)
        rr = f"{r / med('sockets', sh, 0):.2f}" if s != 'sockets' and ('sockets', sh) in v else '–'
        ur = f"{u / med('sockets', sh, 1):.2f}" if s != 'sockets' and ('sockets', sh) in v else '–'
        print(f"{names[sh]:<18} {s:<9} {r:>9,.0f} {u:>8.1f} {rr:>17} {ur:>17}")
PY
