#!/usr/bin/env bash
# Builds the nop round-trip pair into artifacts/bin/nop-bench: nop_loop (C, gcc -O2 -luring) and nop-loop (C#).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=artifacts/bin/nop-bench
mkdir -p "$out"
if [ ! -f /usr/include/liburing.h ]; then
    sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y -qq liburing-dev >/dev/null
fi
gcc -O2 -g -std=gnu11 -Wall -Wextra -o "$out/nop_loop" tools/nop-bench/nop_loop.c -luring
dotnet publish tools/nop-bench/NopLoop/NopLoop.csproj -c Release -o "$out/csharp" -nologo -v quiet -clp:ErrorsOnly
echo "built $out/nop_loop and $out/csharp/nop-loop"
