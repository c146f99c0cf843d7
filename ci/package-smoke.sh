#!/usr/bin/env bash
# Packs LinuxEvent, LinuxEvent.Net, LinuxEvent.Hosting and LinuxEvent.Simulation (each checked for its README and XML
# docs), installs LinuxEvent, LinuxEvent.Net and LinuxEvent.Simulation from a local folder source into a fresh console
# project and runs a timer + echo round trip on both models, and a simulated echo. Prints PASS/FAIL; exit code 0 on success.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/artifacts/packages"
rm -rf "$out"
dotnet pack src/LinuxEvent/LinuxEvent.csproj -c Release -o "$out" -nologo -v quiet
dotnet pack src/LinuxEvent.Net/LinuxEvent.Net.csproj -c Release -o "$out" -nologo -v quiet
dotnet pack src/LinuxEvent.Hosting/LinuxEvent.Hosting.csproj -c Release -o "$out" -nologo -v quiet
dotnet pack src/LinuxEvent.Simulation/LinuxEvent.Simulation.csproj -c Release -o "$out" -nologo -v quiet
for pkg in LinuxEvent LinuxEvent.Net LinuxEvent.Hosting LinuxEvent.Simulation; do
  nupkg="$out/$pkg.0.1.0.nupkg"
  [ -f "$nupkg" ] || { echo "FAIL: $nupkg missing"; exit 1; }
  # The package must carry the README, the XML docs and the license expression.
  listing=$(unzip -l "$nupkg" 2>/dev/null || python3 -c "import zipfile,sys;print('\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))" "$nupkg")
  for want in README.md "lib/net10.0/$pkg.dll" "lib/net10.0/$pkg.xml"; do
    grep -q "$want" <<<"$listing" || { echo "FAIL: $pkg package lacks $want"; exit 1; }
  done
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# A private packages folder: the shared NuGet cache may hold an older build under the same version (0.1.0), which
# restore would take instead of the packages just packed.
export NUGET_PACKAGES="$scratch/nuget-packages"
cd "$scratch"
dotnet new console -n PkgSmoke -o app --force >/dev/null
cd app
cat > nuget.config <<CFG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local" value="$out" />
  </packageSources>
</configuration>
CFG
dotnet add package LinuxEvent --version 0.1.0 >/dev/null
dotnet add package LinuxEvent.Net --version 0.1.0 >/dev/null
dotnet add package LinuxEvent.Simulation --version 0.1.0 >/dev/null
cp "$root/ci/package-smoke/Program.cs" Program.cs
if timeout 120 dotnet run -c Release -p:TreatWarningsAsErrors=false -p:NoWarn=CA1416; then
  echo "PASS: packages install and run"
else
  echo "FAIL: package smoke program failed"
  exit 1
fi
