# Helpers shared by ci/graceful-stop.sh and ci/soak-faults.sh (sourced, not run). Expects $root and $logs.

FAULT_URING=1
if [ -r /proc/sys/kernel/io_uring_disabled ] && [ "$(cat /proc/sys/kernel/io_uring_disabled)" != 0 ]; then FAULT_URING=0; fi
FAULT_CLIENT="$root/tools/LinuxEvent.FaultClient/bin/Release/net10.0/LinuxEvent.FaultClient.dll"
FAULT_ECHO="$root/examples/EchoServer/bin/Release/net10.0/echo-server.dll"
FAULT_PIDS=()

# Builds what the checks run, unless it is already built and newer than its sources: the client, echo-server, and the
# file-based mini-redis and http-server (as ci/smoke-examples.sh builds them, into artifacts/examples/NAME/bin).
fault_build() {
  local lib="$root/src/LinuxEvent/bin/Release/net10.0" n
  if [ ! -f "$FAULT_CLIENT" ] || [ -n "$(find "$root/tools/LinuxEvent.FaultClient" -name '*.cs' -newer "$FAULT_CLIENT" -print -quit)" ]; then
    dotnet build "$root/tools/LinuxEvent.FaultClient/LinuxEvent.FaultClient.csproj" -c Release -nologo -v q -clp:ErrorsOnly > "$logs/build-fault-client.log" 2>&1 || return 1
  fi
  if [ ! -f "$FAULT_ECHO" ] || [ -n "$(find "$root/examples/EchoServer" "$root/src/LinuxEvent" -name '*.cs' -newer "$FAULT_ECHO" -print -quit)" ]; then
    dotnet build "$root/examples/EchoServer/EchoServer.csproj" -c Release -nologo -v q -clp:ErrorsOnly > "$logs/build-echo-server.log" 2>&1 || return 1
  fi
  for n in mini-redis http-server; do
    local dll="$root/artifacts/examples/$n/bin/$n.dll"
    if [ -f "$dll" ] && [ -z "$(find "$root/examples/$n.cs" "$root/examples/Shared" "$root/src/LinuxEvent" "$root/src/LinuxEvent.Net" -name '*.cs' -newer "$dll" -print -quit)" ]; then continue; fi
    # As ci/smoke-examples.sh: the libraries first, then the example without rebuilding them, then copy them next to it.
    { dotnet build "$root/src/LinuxEvent.Net/LinuxEvent.Net.csproj" -c Release -nologo -v q -clp:ErrorsOnly \
      && rm -rf "$root/artifacts/examples/$n/bin" \
      && dotnet build "$root/examples/$n.cs" -c Release -nologo -v q -clp:ErrorsOnly -p:BuildProjectReferences=false -o "$root/artifacts/examples/$n/bin" \
      && cp "$lib"/LinuxEvent.dll "$root/src/LinuxEvent.Net/bin/Release/net10.0"/LinuxEvent.Net.dll "$root/artifacts/examples/$n/bin/"; } > "$logs/build-$n.log" 2>&1 || return 1
  done
}

fault_free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 30000))
    (exec 9<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# fault_start_server NAME MODEL PORT LOG [PREFIX...]: starts the server in the background (behind PREFIX, e.g.
# "ip netns exec NS"), sets FAULT_PID, and waits (at most 20 s) for its "listening on" line. 0 = listening.
fault_start_server() {
  local name=$1 model=$2 port=$3 log=$4; shift 4
  local cmd
  case $name in
    echo-server) cmd=(dotnet "$FAULT_ECHO" --style callbacks) ;;
    echo-server-async) cmd=(dotnet "$FAULT_ECHO" --style async) ;;
    *) cmd=(dotnet "$root/artifacts/examples/$name/bin/$name.dll") ;;
  esac
  : > "$log"
  "$@" "${cmd[@]}" --model "$model" --port "$port" >> "$log" 2>&1 &
  FAULT_PID=$!
  FAULT_PIDS+=("$FAULT_PID")
  for _ in $(seq 200); do
    grep -q 'listening on' "$log" && return 0
    kill -0 "$FAULT_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$FAULT_PID" 2>/dev/null; wait "$FAULT_PID" 2>/dev/null
  return 1
}

# fault_wait_exit PID SECONDS: waits for the server to exit (killing it after SECONDS) and returns its exit code
# (137 when it had to be killed).
fault_wait_exit() {
  local pid=$1 limit=$(( $2 * 10 ))
  for _ in $(seq "$limit"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"
}

# fault_fd_count PID: open fds of the process, except the assemblies the runtime maps (it loads some lazily, e.g.
# System.Threading.ThreadPool.dll when tiered compilation first queues work, and keeps their fds: not the server's).
fault_fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null | grep -vc '\.dll$'; }

# fault_fd_list PID: what fault_fd_count counts, one target per line (for the logs).
fault_fd_list() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%f %l\n' 2>/dev/null | grep -v '\.dll$' | sort -n; }

# On exit (also on failure or interrupt): no server is left behind.
fault_kill_all() {
  local p
  for p in "${FAULT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  return 0
}
