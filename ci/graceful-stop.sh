#!/usr/bin/env bash
# Graceful stop under load (issue 14, item 5): on SIGTERM, requests already received get their replies before the
# server exits 0. For echo-server (both styles), mini-redis and http-server, on both models:
#   1. start the server on a free 127.0.0.1 port;
#   2. tools/LinuxEvent.FaultClient graceful: 8 connections keep 8 requests each in flight (every reply byte checked);
#      after 300 ms it sends SIGTERM to the server and probes the port (every ~0.25 ms) until a connect is refused;
#   3. pass when every request fully sent before the last successful probe began (so before the listening socket
#      closed) got its complete, correct reply, some request was in flight at SIGTERM, the server closed every
#      connection, and it exited with code 0 within 20 s.
# Needs the examples built by ci/smoke-examples.sh (artifacts/examples/) and the solution built (the client, echo-server);
# builds what is missing. Proactor cases are skipped (not failed) when io_uring is disabled.
# Writes TestResults/graceful.counts as "<passed> <failed> <skipped>" (read by ci/test.sh).
# Run alone:  ci/graceful-stop.sh [SERVER...]   (echo-server echo-server-async mini-redis http-server; default all)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/TestResults"
logs="$root/artifacts/faults/logs"
mkdir -p "$results" "$logs"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# shellcheck source=ci/fault-lib.sh
. ci/fault-lib.sh

started=$SECONDS
passed=0 failed=0 skipped=0
finish() {
  echo "$passed $failed $skipped" > "$results/graceful.counts"
  echo "graceful: $passed passed, $failed failed, $skipped skipped in $((SECONDS - started)) s (logs: ${logs#"$root"/})"
  [ "$failed" -eq 0 ]
  exit
}
trap 'fault_kill_all' EXIT

rm -f "$results/graceful.counts"
fault_build || { failed=1; echo "graceful: FAIL build (see $logs)" >&2; finish; }

# name -> protocol of the client
declare -A proto=([echo-server]=echo [echo-server-async]=echo [mini-redis]=redis [http-server]=http)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(echo-server echo-server-async mini-redis http-server)

run_case() {
  local name=$1 model=$2 label="$1 --model $2" log="$logs/graceful-$1-$2.log" port pid rc out
  if [ "$model" = proactor ] && [ "$FAULT_URING" -eq 0 ]; then skipped=$((skipped + 1)); echo "graceful: SKIP $label: io_uring is disabled"; return; fi
  port=$(fault_free_port) || { failed=$((failed + 1)); echo "graceful: FAIL $label: no free port" >&2; return; }
  fault_start_server "$name" "$model" "$port" "$log" || { failed=$((failed + 1)); echo "graceful: FAIL $label: did not listen (see $log)" >&2; return; }
  pid=$FAULT_PID
  out=$(timeout 60 dotnet "$FAULT_CLIENT" graceful --protocol "${proto[$name]}" --port "$port" --server-pid "$pid" \
    --connections 8 --depth 8 --warmup-ms 300 --timeout-s 15 2>&1)
  local ok=$?
  echo "$out" >> "$log"
  fault_wait_exit "$pid" 20; rc=$?
  if [ $ok -ne 0 ]; then failed=$((failed + 1)); echo "graceful: FAIL $label: $(grep -m3 'faultclient:' <<< "$out" | tr '\n' ' ') (see $log)" >&2; return; fi
  if [ $rc -ne 0 ]; then failed=$((failed + 1)); echo "graceful: FAIL $label: exit code $rc after SIGTERM (see $log)" >&2; return; fi
  passed=$((passed + 1))
  echo "graceful: PASS $label: $(sed -n 's/^faultclient: graceful protocol=[a-z]* //p' <<< "$out" | grep -o 'in_flight_at_sigterm=[0-9]* due=[0-9]* due_answered=[0-9]*')"
}

for n in "${names[@]}"; do
  [ -n "${proto[$n]:-}" ] || { failed=$((failed + 1)); echo "graceful: FAIL unknown server '$n'" >&2; continue; }
  for model in reactor proactor; do run_case "$n" "$model"; done
done
finish
