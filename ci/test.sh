#!/usr/bin/env bash
# Builds everything in Release and runs every test. Last line: "N passed, N failed, N skipped".
# Works on a fresh clone: it needs only the .NET SDK and gcc (both on this machine kind); anything else the
# tests use is installed here.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

need() { command -v "$1" >/dev/null 2>&1; }
if ! need gcc; then
  echo "ci/test.sh: installing gcc (the layout test compiles a C probe)"
  (apt-get update -qq && apt-get install -y -qq gcc libc6-dev) >/dev/null 2>&1 || echo "ci/test.sh: could not install gcc"
fi
if ! need dotnet; then
  echo "ci/test.sh: the .NET SDK (dotnet) is required" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! dotnet build LinuxEvent.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "ci/test.sh: build failed" >&2
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

results="$root/TestResults"
rm -rf "$results"
status=0
# --blame-hang bounds a hung test: the run is killed and reported instead of eating CI's time budget.
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  dotnet test "$proj" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" --blame-hang --blame-hang-timeout 5m || status=$?
done

if [ -x ci/smoke-examples.sh ]; then
  ci/smoke-examples.sh || status=$?
fi
# Failure cases a daemon meets (issue 14), on the examples built above: each writes TestResults/NAME.counts.
for check in graceful-stop soak-faults; do
  if [ -x "ci/$check.sh" ]; then "ci/$check.sh" || status=$?; fi
done

# The packed NuGet packages install into a fresh project and run (issue 6): one counted check.
pkg_passed=0; pkg_failed=0
if ci/package-smoke.sh > "$results/package-smoke.log" 2>&1; then pkg_passed=1; else pkg_failed=1; status=1; cat "$results/package-smoke.log"; fi
tail -3 "$results/package-smoke.log"

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  p=$(get passed); f=$(get failed); t=$(get total); e=$(get executed)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
smoke_failed=0
if [ -f "$results/smoke.counts" ]; then
  read -r sp sf < "$results/smoke.counts"
  passed=$((passed + sp)); failed=$((failed + sf)); smoke_failed=$sf
fi
for counts in graceful soak; do     # "<passed> <failed> <skipped>" from the failure-case checks
  if [ -f "$results/$counts.counts" ]; then
    read -r cp cf cs < "$results/$counts.counts"
    passed=$((passed + cp)); failed=$((failed + cf)); skipped=$((skipped + ${cs:-0}))
  fi
done
passed=$((passed + pkg_passed)); failed=$((failed + pkg_failed))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi   # the runner itself failed (crash, hang)
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ] && [ "$smoke_failed" -eq 0 ]
