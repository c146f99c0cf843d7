#!/usr/bin/env dotnet
#:project ../../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false
// Async ping-pong (loopback TCP, or a unix socketpair), by fd number or through LoopFd, for `strace -c` syscall
// counts per message. Usage: pingpong fd-number|registered ROUND_TRIPS [tcp|unix]
using LinuxEvent;
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
bool registered = args[0] == "registered";
int rounds = int.Parse(args[1]);
using var loop = Loop.CreateReactor();
bool tcp = args.Length < 3 || args[2] == "tcp";
var (a, b) = tcp ? Posix.LoopbackTcpPair() : Posix.SocketPair();
LoopFd? ra = registered ? loop.Register(a) : null, rb = registered ? loop.Register(b) : null;
var bufA = new byte[4096]; var bufB = new byte[4096];
ValueTask<int> Send(int fd, LoopFd? r, ReadOnlyMemory<byte> buf) => r is not null ? r.SendAsync(buf) : loop.SendAsync(fd, buf);
ValueTask<int> Recv(int fd, LoopFd? r, byte[] buf) => r is not null ? r.ReceiveAsync(buf) : loop.ReceiveAsync(fd, buf);
loop.Run(async () =>
{
    var echo = loop.Spawn(async () =>
    {
        for (int i = 0; i < rounds; i++) { int n = await Recv(b, rb, bufB); if (n != 64) throw new InvalidDataException("short"); await Send(b, rb, bufB.AsMemory(0, 64)); }
    });
    for (int i = 0; i < rounds; i++) { await Send(a, ra, bufA.AsMemory(0, 64)); await Recv(a, ra, bufA); }
    await echo;
});
ra?.Dispose(); rb?.Dispose();
Posix.Close(a); Posix.Close(b);
Console.WriteLine($"{(registered ? "registered" : "fd-number")} over {(tcp ? "loopback TCP" : "a unix socketpair")}: {rounds} round trips = {2 * rounds} messages");
