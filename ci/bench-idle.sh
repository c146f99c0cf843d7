#!/usr/bin/env bash
# Idle-connection density (issue 14): server RSS growth per idle TCP connection, for the example servers on both models
# and the .NET Sockets echo beside them.
#
#   ci/bench-idle.sh [any LinuxEvent.IdleBench option, e.g. --connections 15000 --servers mini-redis --models proactor]
#
# 1. builds the example servers (chat-server, mini-redis, http-server) into artifacts/examples/NAME/bin, the echo
#    server (examples/EchoServer), the .NET Sockets echo (tools/SocketsEcho) and tools/LinuxEvent.IdleBench, in Release
#    (nothing outside the checkout is needed);
# 2. runs LinuxEvent.IdleBench: per server, model and count (default 10,000 and 15,000), a warm-up (3 rounds of 500
#    connections), the RSS, N idle connections from a separate client process (a process may hold at most 20,000 fds
#    here) that each do one request/response, the RSS again once it has settled.
# About 1 minute per measurement on the 2-CPU VM (use --repeat 3 for medians). Prints one line per measurement and a
# Markdown table at the end: bytes per connection, and the marginal cost with the 100,000-connection estimate.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out=artifacts/examples
mkdir -p "$out/logs"

echo "ci/bench-idle.sh: building the library, the servers and the tool (Release)"
dotnet build src/LinuxEvent.Net/LinuxEvent.Net.csproj -c Release -nologo -v q -clp:ErrorsOnly
for n in chat-server mini-redis http-server; do
    rm -rf "$out/$n/bin"
    # The libraries are built above; BuildProjectReferences=false keeps this build off their obj/ dirs, so copy them in.
    dotnet build "examples/$n.cs" -c Release -nologo -v q -clp:ErrorsOnly -p:BuildProjectReferences=false -o "$out/$n/bin" \
        > "$out/logs/build-$n.log" 2>&1 || { cat "$out/logs/build-$n.log"; exit 1; }
    cp src/LinuxEvent.Net/bin/Release/net10.0/LinuxEvent*.dll "$out/$n/bin/"
done
dotnet build examples/EchoServer/EchoServer.csproj -c Release -nologo -v q -clp:ErrorsOnly
dotnet build tools/SocketsEcho/SocketsEcho.csproj -c Release -nologo -v q -clp:ErrorsOnly
dotnet build tools/LinuxEvent.IdleBench/LinuxEvent.IdleBench.csproj -c Release -nologo -v q -clp:ErrorsOnly

exec dotnet tools/LinuxEvent.IdleBench/bin/Release/net10.0/LinuxEvent.IdleBench.dll --repo "$root" "$@"
