#!/usr/bin/env bash
# Faults on the wire (issue 14, item 3): a bounded soak in a network namespace this script creates and removes.
#   1. namespace "le-soak-PID" with its loopback up; echo-server (callbacks) and mini-redis on both models start in it
#      and serve a short warm-up run without faults; then each one's open fds are counted (/proc/PID/fd): the baseline;
#   2. phase "loss": an nftables rule drops 3% of the packets leaving the namespace's loopback (numgen random mod 100
#      < 3); tools/LinuxEvent.FaultClient soak runs against all four servers at once for $SOAK_SECONDS s
#      (4 connections each, 4 requests in flight per connection, random sizes, every reply byte checked);
#   3. phase "10mbit": the rule is removed and a tbf qdisc limits the loopback to 10 Mbit/s; the same soak again;
#   4. each phase must actually have dropped packets (the rule's counter) or throttled them (tbf overlimits), every
#      client must pass, each server's fd count must come back to its baseline (bounded wait), and SIGTERM must then
#      end each server with exit code 0.
# Skips (visibly, and counted as skipped) when namespaces, nft or tc are unavailable; io_uring cases when it is
# disabled. Needs root. Bounded: about 30 s with the default SOAK_SECONDS=5; nothing is left behind (EXIT trap).
# Writes TestResults/soak.counts as "<passed> <failed> <skipped>" (read by ci/test.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/TestResults"
logs="$root/artifacts/faults/logs"
mkdir -p "$results" "$logs"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# shellcheck source=ci/fault-lib.sh
. ci/fault-lib.sh
seconds=${SOAK_SECONDS:-5}

started=$SECONDS
passed=0 failed=0 skipped=0
rm -f "$results/soak.counts"
finish() {
  echo "$passed $failed $skipped" > "$results/soak.counts"
  echo "soak: $passed passed, $failed failed, $skipped skipped in $((SECONDS - started)) s (logs: ${logs#"$root"/})"
  [ "$failed" -eq 0 ]
  exit
}
pass() { passed=$((passed + 1)); echo "soak: PASS $1"; }
fail() { failed=$((failed + 1)); echo "soak: FAIL $1: $2" >&2; }
skip() { skipped=$((skipped + 1)); echo "soak: SKIP $1: $2"; }

ns="le-soak-$$"
cleanup() {
  fault_kill_all
  ip netns del "$ns" 2> /dev/null
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- what this machine offers
if ! command -v nft > /dev/null || ! command -v tc > /dev/null || ! command -v ip > /dev/null; then
  echo "soak: installing iproute2 and nftables"
  (apt-get update -qq && apt-get install -y -qq iproute2 nftables) > "$logs/apt.log" 2>&1 || true
fi
why=""
if [ "$(id -u)" != 0 ]; then why="needs root (network namespaces, nftables, tc)"
elif ! command -v nft > /dev/null || ! command -v tc > /dev/null || ! command -v ip > /dev/null; then why="ip, nft or tc is not installed"
elif ! ip netns add "$ns" 2> "$logs/netns.log"; then why="cannot create a network namespace: $(head -1 "$logs/netns.log")"
elif ! ip netns exec "$ns" ip link set lo up 2>> "$logs/netns.log"; then why="cannot bring up the namespace's loopback"
fi
if [ -n "$why" ]; then
  skip "faults on the wire (all cases)" "$why"
  finish
fi
nsx() { ip netns exec "$ns" "$@"; }

fault_build || { fail build "see $logs"; finish; }

# ---------------------------------------------------------------- servers
declare -A proto=([echo-server]=echo [mini-redis]=redis)
cases=() ports=() pids=() base=()
port=21000
for name in echo-server mini-redis; do
  for model in reactor proactor; do
    label="$name --model $model"
    if [ "$model" = proactor ] && [ "$FAULT_URING" -eq 0 ]; then skip "$label" "io_uring is disabled"; continue; fi
    port=$((port + 1))
    if ! fault_start_server "$name" "$model" "$port" "$logs/soak-$name-$model.log" ip netns exec "$ns"; then
      fail "$label" "did not listen (see $logs/soak-$name-$model.log)"; continue
    fi
    cases+=("$name $model"); ports+=("$port"); pids+=("$FAULT_PID")
  done
done
declare -A bad=()
echo "soak: ${#cases[@]} servers listening in namespace $ns after $((SECONDS - started)) s"

# soak PHASE: one client per server, all at once; a failing client marks its case.
soak() {
  local phase=$1 i cpids=()
  for i in "${!cases[@]}"; do
    set -- ${cases[$i]}
    nsx timeout $((${seconds%.*} + 60)) dotnet "$FAULT_CLIENT" soak --protocol "${proto[$1]}" --port "${ports[$i]}" \
      --connections 4 --depth 4 --seconds "$seconds" --seed $((i + 1)) --timeout-s 30 > "$logs/soak-$1-$2-$phase.client.log" 2>&1 &
    cpids+=($!)
  done
  for i in "${!cpids[@]}"; do
    set -- ${cases[$i]}
    if wait "${cpids[$i]}"; then
      echo "soak: $phase: $1 --model $2: $(tail -1 "$logs/soak-$1-$2-$phase.client.log" | sed 's/^faultclient: soak //')"
    else
      bad[$i]="$phase: $(grep -m2 'faultclient:' "$logs/soak-$1-$2-$phase.client.log" | tr '\n' ' ')"
    fi
  done
}

if [ ${#cases[@]} -gt 0 ]; then
  # Warm-up without faults, then the baseline: the runtime loads some assemblies (each an open fd) on first use.
  seconds_soak=$seconds seconds=0.5
  soak warmup
  seconds=$seconds_soak
  for i in "${!cases[@]}"; do
    base[$i]=$(fault_fd_count "${pids[$i]}")
    set -- ${cases[$i]}
    fault_fd_list "${pids[$i]}" > "$logs/soak-$1-$2.fds-before"
  done

  # Phase 1: 3% loss on the namespace's loopback.
  nsx nft -f - <<'NFT'
table inet le_soak {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "lo" numgen random mod 100 < 3 counter drop
  }
}
NFT
  soak loss
  dropped=$(nsx nft list table inet le_soak | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
  nsx nft delete table inet le_soak
  echo "soak: loss phase dropped ${dropped:-0} packets (at $((SECONDS - started)) s)"
  if [ "${dropped:-0}" -eq 0 ]; then for i in "${!cases[@]}"; do bad[$i]="${bad[$i]:-}no packet was dropped in the loss phase"; done; fi

  # Phase 2: 10 Mbit/s (tbf). The burst must hold a whole loopback GSO packet (64 KiB).
  nsx tc qdisc add dev lo root tbf rate 10mbit burst 96kb latency 200ms
  soak 10mbit
  overlimits=$(nsx tc -s qdisc show dev lo | sed -n 's/.*overlimits \([0-9]*\).*/\1/p' | head -1)
  nsx tc qdisc del dev lo root
  echo "soak: 10mbit phase: tbf overlimits ${overlimits:-0} (at $((SECONDS - started)) s)"
  if [ "${overlimits:-0}" -eq 0 ]; then for i in "${!cases[@]}"; do bad[$i]="${bad[$i]:-}the 10 Mbit/s limit never applied"; done; fi

  # Every connection is closed: each server's fd count returns to its baseline (bounded wait), then SIGTERM.
  for i in "${!cases[@]}"; do
    set -- ${cases[$i]}
    n=-1
    for _ in $(seq 50); do n=$(fault_fd_count "${pids[$i]}"); [ "$n" -le "${base[$i]}" ] && break; sleep 0.1; done
    if [ "$n" -gt "${base[$i]}" ]; then
      fault_fd_list "${pids[$i]}" > "$logs/soak-$1-$2.fds-after"
      bad[$i]="${bad[$i]:-}$n fds open after the soak, ${base[$i]} before (lists: $logs/soak-$1-$2.fds-*)"
    fi
    kill -TERM "${pids[$i]}" 2> /dev/null
  done
  for i in "${!cases[@]}"; do
    set -- ${cases[$i]}
    fault_wait_exit "${pids[$i]}" 20; rc=$?
    [ $rc -eq 0 ] || bad[$i]="${bad[$i]:-}exit code $rc after SIGTERM"
    if [ -n "${bad[$i]:-}" ]; then fail "$1 --model $2" "${bad[$i]} (see $logs/soak-$1-$2*.log)"
    else pass "$1 --model $2 (fds back to ${base[$i]})"; fi
  done
fi
finish
