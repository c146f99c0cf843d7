#!/usr/bin/env bash
# Packs every package (LinuxEvent, LinuxEvent.Net, LinuxEvent.Hosting, LinuxEvent.AspNetCore, LinuxEvent.Simulation),
# checks each .nupkg (its own README, the assembly, its XML docs, SourceLink repository metadata, the dependency on the
# core) and its .snupkg (the PDB), then consumes them from fresh projects, as a new user would, with warnings as errors:
#   quickstart  the README's "Quick start" code, pasted verbatim into `dotnet new console` (LinuxEvent.Net): built,
#               run on both models, a line echo checked with a client, SIGTERM must end it with exit code 0;
#   core        ci/package-smoke/core: timers and a TCP echo on both models, and a simulated echo (LinuxEvent.Simulation);
#   hosted      ci/package-smoke/hosted: a Generic Host daemon (LinuxEvent.Hosting) serving a line echo on two loops,
#               checked with a client; SIGTERM with a client connected: it is told "bye", and the exit code is 0;
#   web         ci/package-smoke/web: `dotnet new web` with builder.WebHost.UseLinuxEvent() (LinuxEvent.AspNetCore), a
#               minimal API answering GET and POST through curl; SIGTERM must end it with exit code 0.
# Packages restore from the folder they were packed into plus the configured feed, into a private NUGET_PACKAGES folder
# (the shared cache may hold an older build under the same version). The four projects build in parallel.
# Prints PASS/FAIL lines; exit code 0 on success. Proactor runs are skipped when io_uring is disabled.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out="$root/artifacts/packages"
rm -rf "$out"
started=$SECONDS
packages=(LinuxEvent LinuxEvent.Net LinuxEvent.Hosting LinuxEvent.AspNetCore LinuxEvent.Simulation)
fail() { echo "FAIL: $*"; exit 1; }

# ---------------------------------------------------------------- pack and inspect
# ci/test.sh has just built the solution in Release: it sets PACKAGE_SMOKE_NO_BUILD=1 and the packs reuse that build.
no_build=()
[ "${PACKAGE_SMOKE_NO_BUILD:-0}" = 1 ] && no_build=(--no-build)
for pkg in "${packages[@]}"; do
  dotnet pack "src/$pkg/$pkg.csproj" -c Release -o "$out" -nologo -v quiet -clp:ErrorsOnly "${no_build[@]}" || fail "dotnet pack $pkg"
done
listing() { python3 -c "import zipfile,sys;print('\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))" "$1"; }
entry() { python3 -c "import zipfile,sys;sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())" "$1" "$2"; }
for pkg in "${packages[@]}"; do
  nupkg="$out/$pkg.0.1.0.nupkg" snupkg="$out/$pkg.0.1.0.snupkg"
  [ -f "$nupkg" ] || fail "$nupkg missing"
  [ -f "$snupkg" ] || fail "$pkg has no symbol package ($snupkg)"
  files=$(listing "$nupkg")
  for want in README.md "lib/net10.0/$pkg.dll" "lib/net10.0/$pkg.xml"; do
    grep -qx "$want" <<<"$files" || fail "$pkg package lacks $want"
  done
  [ "$(entry "$nupkg" README.md | head -1)" = "# $pkg" ] || fail "$pkg package's README.md is not its own (first line: $(entry "$nupkg" README.md | head -1))"
  grep -qx "lib/net10.0/$pkg.pdb" <<<"$(listing "$snupkg")" || fail "$pkg symbol package lacks lib/net10.0/$pkg.pdb"
  nuspec=$(entry "$nupkg" "$pkg.nuspec")
  grep -q '<repository type="git"' <<<"$nuspec" || fail "$pkg nuspec has no <repository type=\"git\"> (SourceLink metadata)"
  grep -q '<license type="expression">MIT</license>' <<<"$nuspec" || fail "$pkg nuspec has no MIT licence expression"
  if [ "$pkg" != LinuxEvent ]; then
    grep -q '<dependency id="LinuxEvent" version="0.1.0"' <<<"$nuspec" || fail "$pkg does not depend on LinuxEvent 0.1.0"
  fi
  echo "PASS: $pkg: README, assembly, XML docs, symbols ($(du -k "$snupkg" | cut -f1) KiB snupkg), repository metadata"
done
echo "package-smoke: packed and checked in $((SECONDS - started)) s"

# ---------------------------------------------------------------- fresh projects
scratch=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
export NUGET_PACKAGES="$scratch/nuget-packages"
cat > "$scratch/nuget.config" <<CFG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="linuxevent-local" value="$out" />
  </packageSources>
</configuration>
CFG
# new_project TEMPLATE NAME PACKAGE...: `dotnet new`, package references (restored once, at build), the program.
new_project() {
  local template=$1 name=$2; shift 2
  (cd "$scratch" && dotnet new "$template" -n "$name" -o "$name" > /dev/null) || fail "dotnet new $template $name"
  for p in "$@"; do (cd "$scratch/$name" && dotnet add package "$p" --version 0.1.0 --no-restore > /dev/null) || fail "dotnet add package $p"; done
}
new_project console quickstart LinuxEvent.Net
# The README's quick start, exactly as shown: the first csharp block under "## Quick start".
python3 - "$root/README.md" > "$scratch/quickstart/Program.cs" <<'PY' || fail "no C# block under '## Quick start' in README.md"
import sys
text = open(sys.argv[1]).read()
section = text.index("## Quick start")
start = text.index("```csharp\n", section) + len("```csharp\n")
sys.stdout.write(text[start:text.index("```", start)])
PY
new_project console core LinuxEvent LinuxEvent.Net LinuxEvent.Simulation
cp ci/package-smoke/core/Program.cs "$scratch/core/Program.cs"
new_project console hosted LinuxEvent.Hosting
(cd "$scratch/hosted" && dotnet add package Microsoft.Extensions.Hosting --version 11.0.0 --no-restore > /dev/null) || fail "dotnet add package Microsoft.Extensions.Hosting"
cp ci/package-smoke/hosted/Program.cs "$scratch/hosted/Program.cs"
new_project web web LinuxEvent.AspNetCore
cp ci/package-smoke/web/Program.cs "$scratch/web/Program.cs"

# Warnings are errors, as in a project that enables them: the README code must build clean (CA1416 included).
# NU1603 (the feed served a nearby patch version of a transitive dependency) is about this machine's feed, not the code.
build() {
  dotnet build "$scratch/$1" -c Release -nologo -p:TreatWarningsAsErrors=true -p:WarningsNotAsErrors=NU1603 > "$scratch/build-$1.log" 2>&1
}
for app in quickstart core hosted web; do build "$app" & pids+=($!); done
i=0
for app in quickstart core hosted web; do
  if ! wait "${pids[$i]}"; then cat "$scratch/build-$app.log"; fail "build of the $app project"; fi
  warnings=$(grep -c ': warning ' "$scratch/build-$app.log" || true)
  echo "PASS: $app builds from the packages ($warnings warning lines)"
  i=$((i + 1))
done
pids=()
echo "package-smoke: projects built after $((SECONDS - started)) s"

uring=1
if [ -r /proc/sys/kernel/io_uring_disabled ] && [ "$(cat /proc/sys/kernel/io_uring_disabled)" != 0 ]; then uring=0; fi
models=(reactor proactor)
[ $uring -eq 1 ] || { models=(reactor); echo "SKIP: proactor runs (io_uring is disabled)"; }

# A port below the kernel's ephemeral range: one inside it may be the local end of some client connection (or of its
# TIME_WAIT) even though nothing listens there, and bind then fails with EADDRINUSE (seen after the test suites).
free_port() {
  local p low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$low" -gt 12000 ] || low=12000
  for _ in $(seq 50); do
    p=$((10000 + RANDOM % (low - 10000)))
    (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  fail "no free port"
}
# start NAME LOG READY-TEXT COMMAND...: starts a server in the background and waits (bounded) for READY-TEXT in its log.
start() {
  local name=$1 log=$2 ready=$3; shift 3
  "$@" > "$log" 2>&1 &
  server=$!
  pids=("$server")
  for _ in $(seq 300); do
    grep -q "$ready" "$log" 2>/dev/null && return 0   # the background shell may not have opened it yet
    kill -0 "$server" 2>/dev/null || { cat "$log"; fail "$name exited before it was ready"; }
    sleep 0.1
  done
  cat "$log"; fail "$name was not ready within 30 s"
}
# stop NAME LOG [signalled]: SIGTERM (not again when the caller already sent it: a second SIGTERM that arrives after
# the host has released its handler takes the default action, exit 143), then the exit code must be 0 within 20 s.
stop() {
  local name=$1 log=$2 rc
  [ "${3:-}" = signalled ] || kill -TERM "$server"
  for _ in $(seq 200); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$server" 2>/dev/null || true
  rc=0; wait "$server" || rc=$?
  pids=()
  [ "$rc" -eq 0 ] || { cat "$log"; fail "$name exited with $rc after SIGTERM"; }
}
# echo_lines PORT: two lines, CRLF and LF, come back as lines; "quit" ends the connection (quickstart only).
line_exchange() {
  timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1; printf "$1" >&3; cat <&3' "$1" "$2"
}

# ---------------------------------------------------------------- quickstart (the README's code)
for model in "${models[@]}"; do
  if [ "$model" = proactor ]; then
    sed -i 's/Loop.Create(LoopModel.Reactor)/Loop.Create(LoopModel.Proactor)/' "$scratch/quickstart/Program.cs"
    grep -q 'LoopModel.Proactor)' "$scratch/quickstart/Program.cs" || fail "the quick start no longer creates its loop with Loop.Create(LoopModel.Reactor)"
    build quickstart || { cat "$scratch/build-quickstart.log"; fail "build of the quickstart project (proactor)"; }
  fi
  port=$(free_port) log="$scratch/run-quickstart-$model.log"
  start "quickstart ($model)" "$log" "echoing lines on" dotnet "$scratch/quickstart/bin/Release/net10.0/quickstart.dll" "$port"
  got=$(line_exchange "$port" 'hello\r\nworld\nquit\n') || true
  [ "$got" = $'hello\nworld' ] || fail "quickstart ($model) echoed $(printf %q "$got")"
  stop "quickstart ($model)" "$log"
  echo "PASS: the README's quick start, pasted into a new project, echoes lines and exits 0 on SIGTERM ($model, $(head -1 "$log" | sed 's/.*(\(.*\)).*/\1/'))"
done

# ---------------------------------------------------------------- core (timers, echo, simulation)
timeout 120 dotnet "$scratch/core/bin/Release/net10.0/core.dll" > "$scratch/run-core.log" 2>&1 || { cat "$scratch/run-core.log"; fail "core program"; }
cat "$scratch/run-core.log"
echo "PASS: LinuxEvent, LinuxEvent.Net and LinuxEvent.Simulation install and run"

# ---------------------------------------------------------------- hosted (LinuxEvent.Hosting)
for model in "${models[@]}"; do
  port=$(free_port) log="$scratch/run-hosted-$model.log"
  start "hosted ($model)" "$log" "hosted: started" dotnet "$scratch/hosted/bin/Release/net10.0/hosted.dll" "$port" "$model"
  # One client: a line echoed, then SIGTERM while it is connected; it must get "bye" and then EOF.
  got=$(timeout 20 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "ping\n" >&3; IFS= read -r -t 5 line <&3; echo "$line"
    kill -TERM "$1"
    cat <&3' "$port" "$server") || true
  [ "$got" = $'ping\nbye' ] || { cat "$log"; fail "hosted ($model): the client saw $(printf %q "$got")"; }
  stop "hosted ($model)" "$log" signalled
  grep -q "hosted: stopped" "$log" || { cat "$log"; fail "hosted ($model) did not return from Run"; }
  echo "PASS: a Generic Host app on LinuxEvent.Hosting echoes, drains on SIGTERM and exits 0 ($model)"
done

# ---------------------------------------------------------------- web (LinuxEvent.AspNetCore)
command -v curl > /dev/null || (apt-get update -qq && apt-get install -y -qq curl) > /dev/null 2>&1 || true
command -v curl > /dev/null || fail "curl is not installed and could not be installed"
for model in "${models[@]}"; do
  port=$(free_port) log="$scratch/run-web-$model.log"
  start "web ($model)" "$log" "web: transport=" dotnet "$scratch/web/bin/Release/net10.0/web.dll" "http://127.0.0.1:$port" "$model"
  grep -q "web: transport=LinuxEventTransportFactory" "$log" || { cat "$log"; fail "web ($model): Kestrel did not use the LinuxEvent transport"; }
  got=$(curl -sS -m 10 "http://127.0.0.1:$port/hello") || true
  [ "$got" = "Hello from the loops" ] || { cat "$log"; fail "web ($model): GET /hello gave $(printf %q "$got")"; }
  got=$(curl -sS -m 10 --data-binary "a request body" "http://127.0.0.1:$port/echo") || true
  [ "$got" = "a request body" ] || { cat "$log"; fail "web ($model): POST /echo gave $(printf %q "$got")"; }
  stop "web ($model)" "$log"
  echo "PASS: an ASP.NET Core minimal API on builder.WebHost.UseLinuxEvent() answers curl and exits 0 on SIGTERM ($model)"
done
echo "PASS: every package installs and runs from a fresh project ($((SECONDS - started)) s)"
