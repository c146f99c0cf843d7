#!/usr/bin/env bash
# Smoke test of the example programs (examples/*.cs, .NET 10 file-based apps):
#   1. builds the library once, then every example (two at a time) into artifacts/examples/NAME/;
#   2. runs each demo to completion (they end by themselves) and requires exit code 0 and its expected output;
#   3. starts each server (chat-server, mini-redis, http-server) on both models on a free 127.0.0.1 port, talks to it
#      with a small bash /dev/tcp client, checks the replies, sends SIGTERM and requires exit code 0;
#   4. the same for the UDP server (statsd), with a python3 socket client (skipped when python3 is missing);
#   5. the same for the projects examples/EchoServer and examples/HostedChat (the latter also socket-activated by
#      ci/socket-activate.py, which needs python3; skipped without it);
#   6. tls-echo (examples/TlsEcho, both models), with openssl s_client as the client and a certificate made by openssl
#      at test time.
# Needs only the .NET SDK and bash (and python3 for the UDP and activation cases). Proactor cases are skipped (not
# failed) when io_uring is disabled by the kernel.
# Writes TestResults/smoke.counts as "<passed> <failed>" (read by ci/test.sh) and exits non-zero on any failure.
# Run alone:  ci/smoke-examples.sh [NAME...]   (default: every example)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/TestResults"
out="$root/artifacts/examples"
logs="$out/logs"
mkdir -p "$results" "$logs"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

passed=0 failed=0 skipped=0
started=$SECONDS
pass() { passed=$((passed + 1)); printf 'smoke: PASS %s\n' "$1"; }
fail() { failed=$((failed + 1)); printf 'smoke: FAIL %s: %s\n' "$1" "$2" >&2; }
skip() { skipped=$((skipped + 1)); printf 'smoke: SKIP %s: %s\n' "$1" "$2"; }
finish() {
  echo "$passed $failed" > "$results/smoke.counts"
  echo "smoke: $passed passed, $failed failed, $skipped skipped in $((SECONDS - started)) s (logs: ${logs#"$root"/})"
  [ "$failed" -eq 0 ]
  exit
}

servers=(chat-server mini-redis http-server)
udp_servers=(statsd)
if [ $# -gt 0 ]; then
  names=()
  for n in "$@"; do [ "$n" = echo-server ] || [ "$n" = hosted-chat ] || [ "$n" = tls-echo ] || names+=("$n"); done    # projects, handled below
else
  names=()
  for f in examples/*.cs; do names+=("$(basename "$f" .cs)"); done
fi

uring=1
if [ -r /proc/sys/kernel/io_uring_disabled ] && [ "$(cat /proc/sys/kernel/io_uring_disabled)" != 0 ]; then uring=0; fi

# ---------------------------------------------------------------- build
if ! dotnet build src/LinuxEvent/LinuxEvent.csproj -c Release -nologo -v q -clp:ErrorsOnly > "$logs/build-LinuxEvent.log" 2>&1; then
  fail build-LinuxEvent "see $logs/build-LinuxEvent.log"
  for n in "${names[@]}"; do fail "build $n" "library build failed"; done
  finish
fi
lib="src/LinuxEvent/bin/Release/net10.0"
# Examples on LinuxEvent.Net (the servers, statsd) need its assembly too; built here once, like the core.
if ! dotnet build src/LinuxEvent.Net/LinuxEvent.Net.csproj -c Release -nologo -v q -clp:ErrorsOnly > "$logs/build-LinuxEvent.Net.log" 2>&1; then
  fail build-LinuxEvent.Net "see $logs/build-LinuxEvent.Net.log"
fi
netlib="src/LinuxEvent.Net/bin/Release/net10.0"
# The library is built above: BuildProjectReferences=false keeps the parallel builds off its obj/ dir. With -o the
# reference then resolves to a LinuxEvent.dll inside the -o folder that nobody built, so copy the built one there.
build_one() {
  rm -rf "$out/$1/bin"
  dotnet build "examples/$1.cs" -c Release -nologo -v q -clp:ErrorsOnly -p:BuildProjectReferences=false \
    -o "$out/$1/bin" > "$logs/build-$1.log" 2>&1 && cp "$lib"/LinuxEvent.dll "$lib"/LinuxEvent.pdb "$out/$1/bin/" \
    && { ! grep -q '^#:project .*LinuxEvent.Net.csproj' "examples/$1.cs" || cp "$netlib"/LinuxEvent.Net.dll "$netlib"/LinuxEvent.Net.pdb "$out/$1/bin/"; }
}
declare -A built
pids=() pending=()
for n in "${names[@]}"; do
  [ -f "examples/$n.cs" ] || { fail "build $n" "examples/$n.cs not found"; continue; }
  build_one "$n" & pids+=($!); pending+=("$n")
  if [ ${#pids[@]} -ge 2 ]; then
    if wait "${pids[0]}"; then built[${pending[0]}]=1; pass "build ${pending[0]}"; else fail "build ${pending[0]}" "see $logs/build-${pending[0]}.log"; fi
    pids=("${pids[@]:1}") pending=("${pending[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  if wait "${pids[$i]}"; then built[${pending[$i]}]=1; pass "build ${pending[$i]}"; else fail "build ${pending[$i]}" "see $logs/build-${pending[$i]}.log"; fi
done
echo "smoke: builds done after $((SECONDS - started)) s"

# ---------------------------------------------------------------- demos
# name -> text its output must contain
declare -A expect=(
  [timers]="Every(25 ms) tick 4"
  [pipe-watch]="end of file after 1048576 bytes"
  [signals]="SIGUSR2: done"
  [post]="all workers done"
  [pid-exit]="exit code=3"
  [proactor-timeout]="round 2: deadline settled Cancelled"
  [proactor-file]="Hello, io_uring!"
  [socketpair]="end of stream after 5 requests"
  [accept-connect]="ECONNREFUSED"
  [splice-proxy]="identical: True"
)
proactor_only=" proactor-timeout proactor-file splice-proxy "

run_demo() {
  local n=$1 log="$logs/run-$1.log" args=()
  if [ $uring -eq 0 ]; then
    if [[ $proactor_only == *" $n "* ]]; then skip "run $n" "io_uring is disabled"; return; fi
    args=(--model reactor)
  fi
  local t0=$SECONDS
  timeout 60 dotnet "$out/$n/bin/$n.dll" "${args[@]}" > "$log" 2>&1
  local rc=$?
  if [ $rc -ne 0 ]; then fail "run $n" "exit code $rc (see $log)"; return; fi
  if [ -n "${expect[$n]:-}" ] && ! grep -qF -- "${expect[$n]}" "$log"; then fail "run $n" "output lacks '${expect[$n]}' (see $log)"; return; fi
  pass "run $n ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- servers
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# Waits until PID listens on PORT (a probe connection; the servers tolerate it). 0 = listening.
wait_listening() {
  local pid=$1 port=$2
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || return 1
    if (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

# Sends $2 to 127.0.0.1:$1 and prints everything received until the server closes (at most 5 s).
exchange() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1; printf "%b" "$1" >&3; cat <&3' "$1" "$2"
}

check_mini_redis() {
  local port=$1 got
  got=$(exchange "$port" 'PING\r\n*3\r\n$3\r\nSET\r\n$5\r\nsmoke\r\n$2\r\nok\r\n*2\r\n$3\r\nGET\r\n$5\r\nsmoke\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\nQUIT\r\n') || true
  [ "$got" = $'+PONG\r\n+OK\r\n$2\r\nok\r\n:1\r\n+OK\r' ] || { echo "pipelined commands: got $(printf %q "$got")"; return 1; }
  got=$(exchange "$port" '*1\r\n$x\r\n') || true
  [[ $got == "-ERR Protocol error"* ]] || { echo "malformed RESP: got $(printf %q "$got")"; return 1; }
  got=$(exchange "$port" '*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n') || true
  [ "$got" = $'+PONG\r\n+OK\r' ] || { echo "after a protocol error: got $(printf %q "$got")"; return 1; }
}

check_http_server() {
  local port=$1 got
  got=$(exchange "$port" 'GET /plaintext HTTP/1.1\r\nHost: smoke\r\n\r\nGET /json HTTP/1.1\r\nHost: smoke\r\nConnection: close\r\n\r\n') || true
  [ "$(grep -o 'HTTP/1.1 200 OK' <<< "$got" | wc -l)" = 2 ] && grep -qF 'Hello, World!HTTP/1.1 200 OK' <<< "$got" \
    && grep -qF '{"message":"Hello, World!"}' <<< "$got" && grep -q '^Date: ' <<< "$got" \
    || { echo "pipelined GETs: got $(printf %q "$got")"; return 1; }
  got=$(exchange "$port" 'NOT A REQUEST\r\n\r\n') || true
  grep -q '^HTTP/1.1 400 Bad Request' <<< "$got" || { echo "malformed request: got $(printf %q "$got")"; return 1; }
}

check_chat_server() {
  local port=$1
  timeout 10 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" 4<>"/dev/tcp/127.0.0.1/$0" || exit 1
    expect() { local fd=$1 want=$2 line; while IFS= read -r -t 5 line <&"$fd"; do [[ $line == *"$want"* ]] && return 0; done; echo "no \"$want\" on fd $fd"; exit 1; }
    expect 3 "What is your name?"; printf "alice\n" >&3; expect 3 "Hello alice!"
    expect 4 "What is your name?"; printf "bob\r\n" >&4; expect 4 "Hello bob! Also here: alice."
    expect 3 "* bob joined"
    printf "hi bob\n" >&3; expect 4 "alice : hi bob"
    printf "hello alice\r\n" >&4; expect 3 "bob : hello alice"
    exec 4>&-; expect 3 "* bob left"' "$port"
}

run_server() {
  local n=$1 model=$2 name="$1 --model $2" log="$logs/run-$1-$2.log" port pid rc t0=$SECONDS
  if [ "$model" = proactor ] && [ $uring -eq 0 ]; then skip "$name" "io_uring is disabled"; return; fi
  port=$(free_port) || { fail "$name" "no free port"; return; }
  dotnet "$out/$n/bin/$n.dll" --model "$model" --port "$port" > "$log" 2>&1 &
  pid=$!
  if ! wait_listening "$pid" "$port"; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    fail "$name" "did not listen on $port (see $log)"; return
  fi
  local why
  why=$("check_${n//-/_}" "$port" 2>&1)
  local ok=$?
  kill -TERM "$pid" 2>/dev/null
  # SIGTERM must end the server cleanly; a server still alive after 20 s is killed and fails.
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  if [ $ok -ne 0 ]; then fail "$name" "$why (see $log)"; return; fi
  if [ $rc -ne 0 ]; then fail "$name" "exit code $rc after SIGTERM (see $log)"; return; fi
  pass "$name ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- UDP servers
# Sends metric datagrams and queries with python's socket module (each query retried on a 1 s timeout, at most 5 times,
# so the client is bounded), then waits for the flush line in the server's log.
check_statsd() {
  local port=$1 log=$2
  python3 - "$port" <<'PY' || return 1
import socket, sys
addr = ("127.0.0.1", int(sys.argv[1]))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
for d in [b"logins:1|c\nlogins:2|c\nrtt:10|ms\r\nrtt:20|ms", b"temp:21.5|g", b"temp:19|g", b"not a metric", b"clicks:1|c|@0.5", b"bad:x|c"]:
    s.sendto(d, addr)
def query(q):
    # Replies name the metric, so a late reply to an earlier (retried) query is recognised and skipped.
    mine = (lambda r: "\n" in r) if q == b"?" else (lambda r: r.startswith(q[1:].decode() + ":"))
    for _ in range(5):
        s.sendto(q, addr)
        try:
            while True:
                r = s.recv(65536).decode()
                if mine(r):
                    return r
        except socket.timeout:
            pass
    sys.exit("no answer to %r" % q)
want = {b"?logins": "logins:3|c", b"?clicks": "clicks:2|c", b"?temp": "temp:19|g", b"?rtt": "rtt:15|ms",
        b"?_bad": "_bad:2|c", b"?nosuch": "nosuch:unknown", b"?": "clicks:2|c\nlogins:3|c\nrtt:15|ms\ntemp:19|g\n_bad:2|c"}
bad = []
for q, w in want.items():
    got = query(q)
    if got != w:
        bad.append("%r: got %r, want %r" % (q, got, w))
if bad:
    sys.exit("; ".join(bad))
PY
  # The per-interval line: one datagram carried logins 1 and 2, so whatever the interval boundaries, one flush has both.
  for _ in $(seq 50); do grep -q '^flush [0-9]*:.* logins=3/c' "$log" && return 0; sleep 0.1; done
  echo "no flush line with logins=3/c in the log"; return 1
}

run_udp_server() {
  local n=$1 model=$2 name="$1 --model $2" log="$logs/run-$1-$2.log" port pid rc t0=$SECONDS
  if [ "$model" = proactor ] && [ $uring -eq 0 ]; then skip "$name" "io_uring is disabled"; return; fi
  if ! command -v python3 >/dev/null 2>&1; then skip "$name" "python3 is not installed"; return; fi
  port=$(free_port) || { fail "$name" "no free port"; return; }
  dotnet "$out/$n/bin/$n.dll" --model "$model" --port "$port" --interval-ms 200 > "$log" 2>&1 &
  pid=$!
  local up=0
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    if grep -q '^statsd: listening on udp' "$log"; then up=1; break; fi
    sleep 0.1
  done
  if [ $up -eq 0 ]; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    fail "$name" "did not start (see $log)"; return
  fi
  local why ok
  why=$("check_${n//-/_}" "$port" "$log" 2>&1); ok=$?
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  if [ $ok -ne 0 ]; then fail "$name" "$why (see $log)"; return; fi
  if [ $rc -ne 0 ]; then fail "$name" "exit code $rc after SIGTERM (see $log)"; return; fi
  pass "$name ($((SECONDS - t0)) s)"
}

for n in "${names[@]}"; do
  [ -n "${built[$n]:-}" ] || continue
  if [[ " ${udp_servers[*]} " == *" $n "* ]]; then
    run_udp_server "$n" reactor
    run_udp_server "$n" proactor
  elif [[ " ${servers[*]} " == *" $n "* ]]; then
    run_server "$n" reactor
    run_server "$n" proactor
  else
    run_demo "$n"
  fi
done

# ---------------------------------------------------------------- echo-server (examples/EchoServer, a project)
# Both models x both styles: echo a payload through it, then SIGTERM must end it with exit code 0.
run_echo_server() {
  local model=$1 style=$2 name="echo-server --model $1 --style $2" log="$logs/run-echo-server-$1-$2.log" port pid rc got t0=$SECONDS
  if [ "$model" = proactor ] && [ $uring -eq 0 ]; then skip "$name" "io_uring is disabled"; return; fi
  port=$(free_port) || { fail "$name" "no free port"; return; }
  dotnet "$echo_dll" --model "$model" --port "$port" --style "$style" > "$log" 2>&1 &
  pid=$!
  if ! wait_listening "$pid" "$port"; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    fail "$name" "did not listen on $port (see $log)"; return
  fi
  got=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1; printf "echo-smoke-payload" >&3; head -c 18 <&3' "$port" 2>&1)
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  if [ "$got" != "echo-smoke-payload" ]; then fail "$name" "echoed '$got' (see $log)"; return; fi
  if [ $rc -ne 0 ]; then fail "$name" "exit code $rc after SIGTERM (see $log)"; return; fi
  pass "$name ($((SECONDS - t0)) s)"
}

if [ $# -eq 0 ] || [[ " $* " == *" echo-server "* ]]; then
  echo_dll="$root/examples/EchoServer/bin/Release/net10.0/echo-server.dll"
  if [ ! -f "$echo_dll" ]; then
    dotnet build examples/EchoServer/EchoServer.csproj -c Release -nologo -v quiet > "$logs/build-echo-server.log" 2>&1 \
      || fail "build echo-server" "see $logs/build-echo-server.log"
  fi
  if [ -f "$echo_dll" ]; then
    for model in reactor proactor; do
      for style in callbacks async; do run_echo_server "$model" "$style"; done
    done
  fi
fi
# ---------------------------------------------------------------- hosted-chat (examples/HostedChat, LinuxEvent.Hosting)
# The chat server as a Generic Host daemon on two loops, on both models: (1) on a port, the same chat check as
# chat-server, SIGTERM must end it with exit code 0; (2) socket-activated by ci/socket-activate.py (fd 3, LISTEN_PID,
# a NOTIFY_SOCKET it records): READY=1 before the check, a client still connected at SIGTERM is told the server is
# shutting down and sees EOF, STOPPING=1 is sent and the exit code is 0.
run_hosted_chat() {
  local model=$1 name="hosted-chat --model $1" log="$logs/run-hosted-chat-$1.log" port pid rc why ok t0=$SECONDS
  if [ "$model" = proactor ] && [ $uring -eq 0 ]; then skip "$name" "io_uring is disabled"; return; fi
  port=$(free_port) || { fail "$name" "no free port"; return; }
  dotnet "$chat_dll" --model "$model" --loops 2 --port "$port" > "$log" 2>&1 &
  pid=$!
  if ! wait_listening "$pid" "$port"; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    fail "$name" "did not listen on $port (see $log)"; return
  fi
  why=$(check_chat_server "$port" 2>&1); ok=$?
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  if [ $ok -ne 0 ]; then fail "$name" "$why (see $log)"; return; fi
  if [ $rc -ne 0 ]; then fail "$name" "exit code $rc after SIGTERM (see $log)"; return; fi
  pass "$name ($((SECONDS - t0)) s)"
}

run_hosted_chat_activated() {
  local model=$1 name="hosted-chat --model $1 (socket-activated)" log="$logs/run-hosted-chat-activated-$1.log"
  local notes="$logs/notify-hosted-chat-$1.log" port pid rc why ok t0=$SECONDS
  if [ "$model" = proactor ] && [ $uring -eq 0 ]; then skip "$name" "io_uring is disabled"; return; fi
  command -v python3 > /dev/null || { skip "$name" "python3 (the launcher) is not installed"; return; }
  port=$(free_port) || { fail "$name" "no free port"; return; }
  : > "$notes"
  python3 ci/socket-activate.py --listen "127.0.0.1:$port" --name chat --notify-log "$notes" --watchdog-usec 2000000 \
    -- dotnet "$chat_dll" --model "$model" --loops 2 --port 1 > "$log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do grep -q ' READY=1$' "$notes" && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if ! grep -q ' READY=1$' "$notes"; then
    kill -TERM "$pid" 2>/dev/null; sleep 1; kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    fail "$name" "no READY=1 (see $log and $notes)"; return
  fi
  why=$(check_chat_server "$port" 2>&1); ok=$?
  # A client still connected at SIGTERM: it gets the goodbye line, then EOF, and the server exits 0.
  why2=$(timeout 30 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    expect() { local want=$1 line; while IFS= read -r -t 10 line <&3; do [[ $line == *"$want"* ]] && return 0; done; echo "no \"$want\""; exit 1; }
    expect "What is your name?"; printf "carol\n" >&3; expect "Hello carol!"
    kill -TERM "$1"
    expect "* server shutting down"
    if IFS= read -r -t 10 line <&3; then echo "more after goodbye: $line"; exit 1; fi' "$port" "$pid" 2>&1)
  local ok2=$?
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  if [ $ok -ne 0 ]; then fail "$name" "$why (see $log)"; return; fi
  if [ $ok2 -ne 0 ]; then fail "$name" "graceful stop: $why2 (see $log)"; return; fi
  if [ $rc -ne 0 ]; then fail "$name" "exit code $rc after SIGTERM (see $log)"; return; fi
  grep -q "Socket activation: fd 3 'chat'" "$log" || { fail "$name" "the activated socket was not used (see $log)"; return; }
  grep -q ' STOPPING=1$' "$notes" || { fail "$name" "no STOPPING=1 (see $notes)"; return; }
  grep -q ' WATCHDOG=1$' "$notes" || { fail "$name" "no WATCHDOG=1 (see $notes)"; return; }
  pass "$name ($((SECONDS - t0)) s)"
}

if [ $# -eq 0 ] || [[ " $* " == *" hosted-chat "* ]]; then
  chat_dll="$root/examples/HostedChat/bin/Release/net10.0/hosted-chat.dll"
  if dotnet build examples/HostedChat/HostedChat.csproj -c Release -nologo -v quiet > "$logs/build-hosted-chat.log" 2>&1 && [ -f "$chat_dll" ]; then
    pass "build hosted-chat"
    for model in reactor proactor; do
      run_hosted_chat "$model"
      run_hosted_chat_activated "$model"
    done
  else
    fail "build hosted-chat" "see $logs/build-hosted-chat.log"
  fi
fi
# ---------------------------------------------------------------- tls-echo (examples/TlsEcho, a project)
# Both models: a certificate made now by openssl, two lines through `openssl s_client` (verifying the certificate),
# close_notify when its stdin ends, then SIGTERM must end the server with exit code 0.
run_tls_echo() {
  local model=$1 name="tls-echo --model $1" log="$logs/run-tls-echo-$1.log" port pid rc got t0=$SECONDS
  if [ "$model" = proactor ] && [ $uring -eq 0 ]; then skip "$name" "io_uring is disabled"; return; fi
  port=$(free_port) || { fail "$name" "no free port"; return; }
  dotnet "$tls_dll" --model "$model" --port "$port" --cert "$tls_dir/cert.pem" --key "$tls_dir/key.pem" > "$log" 2>&1 &
  pid=$!
  if ! wait_listening "$pid" "$port"; then
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    fail "$name" "did not listen on $port (see $log)"; return
  fi
  # -quiet implies -ign_eof; -no_ign_eof makes s_client send close_notify when its input ends (after the echo is back).
  got=$( (printf 'hello over tls\nsecond line\n'; sleep 1) | timeout 15 openssl s_client -connect "127.0.0.1:$port" -quiet -no_ign_eof \
    -verify_return_error -CAfile "$tls_dir/cert.pem" -servername localhost 2>> "$log")
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"; rc=$?
  if [ "$got" != $'hello over tls\nsecond line' ]; then fail "$name" "echoed $(printf %q "$got") (see $log)"; return; fi
  if [ $rc -ne 0 ]; then fail "$name" "exit code $rc after SIGTERM (see $log)"; return; fi
  pass "$name ($((SECONDS - t0)) s)"
}

if [ $# -eq 0 ] || [[ " $* " == *" tls-echo "* ]]; then
  if ! command -v openssl > /dev/null; then
    (apt-get update -qq && apt-get install -y -qq openssl) > /dev/null 2>&1 || true
  fi
  tls_dll="$root/examples/TlsEcho/bin/Release/net10.0/tls-echo.dll"
  dotnet build examples/TlsEcho/TlsEcho.csproj -c Release -nologo -v quiet > "$logs/build-tls-echo.log" 2>&1 \
    || fail "build tls-echo" "see $logs/build-tls-echo.log"
  if ! command -v openssl > /dev/null; then
    fail "tls-echo" "openssl is not installed and could not be installed"
  elif [ -f "$tls_dll" ]; then
    tls_dir=$(mktemp -d)
    if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost \
         -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$tls_dir/key.pem" -out "$tls_dir/cert.pem" > "$logs/openssl-req.log" 2>&1; then
      for model in reactor proactor; do run_tls_echo "$model"; done
    else
      fail "tls-echo" "openssl req failed (see $logs/openssl-req.log)"
    fi
    rm -rf "$tls_dir"
  fi
fi
finish
