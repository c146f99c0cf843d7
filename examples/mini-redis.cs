#!/usr/bin/env dotnet
// mini-redis: a single-threaded RESP2 key/value server on LinuxEvent, one async task per connection; the same code
// runs on the reactor (epoll) and the proactor (io_uring) model.
//
//   dotnet run -c Release examples/mini-redis.cs -- --model reactor|proactor --port 6380
//   redis-cli -p 6380 set greeting hello ex 60;  redis-benchmark -p 6380 -t ping,set,get,incr -P 16 -q
//
// What it shows: Loop.Register (LoopFd) with AcceptAsync/ReceiveAsync/SendAsync on either model, Spawn per connection, a loop timer for active
// expiry, loop.NowNanoseconds for lazy expiry, graceful SIGINT/SIGTERM shutdown through loop.Signal (exit code 0).
//
// Commands: PING [msg], ECHO msg, SET key value [EX s|PX ms|KEEPTTL] [NX|XX], GET, DEL key.., EXISTS key..,
// INCR, EXPIRE key s, TTL, DBSIZE, FLUSHALL [ASYNC|SYNC], SELECT 0, QUIT, COMMAND [COUNT|INFO|DOCS],
// CONFIG GET (the two settings redis-benchmark asks for). Requests are RESP arrays of bulk strings or inline
// commands (`PING\r\n`). Pipelining: every complete command in the receive buffer is executed and the replies go
// out in one send. A protocol error gets a RESP error reply and that connection is closed; the server keeps serving.
//
// Hot path without allocations: commands are parsed in place on the receive buffer (byte spans, no strings), keys
// are looked up with a span-keyed alternate lookup of the Dictionary, and SET/INCR overwrite a value's bytes in
// place when the length is unchanged.
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:include Shared/ExampleServer.cs
#:include Shared/RedisServer.cs
#:include Shared/RedisServer.Protocol.cs
#:include Shared/RedisServer.Commands.cs
#:include Shared/RedisConnection.cs
#:include Shared/RedisEntry.cs
#:include Shared/RedisParseStatus.cs
#:include Shared/ByteKeyComparer.cs
#:property PublishAot=false
#:property TieredPGO=true
#:property ServerGarbageCollector=false
#:property ConcurrentGarbageCollection=false

using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

return ExampleServer.Run("mini-redis", args, defaultPort: 6380, static (loop, endpoint) =>
{
    // The server's logic lives in Shared/Redis*.cs, shared with the simulation's redis scenario (tools/LinuxEvent.Simulate),
    // which runs it over simulated networks under seeded faults. Here it gets a real socket and the signals.
    int listener = Posix.CreateTcpListener(endpoint, backlog: 1024);
    // SIGINT/SIGTERM end the accept loop; the subscriptions last as long as the loop (its Dispose cancels them).
    var stopping = new CancellationTokenSource();
    loop.Signal(2, (_, _) => stopping.Cancel());
    loop.Signal(15, (_, _) => stopping.Cancel());
    Console.Error.WriteLine($"mini-redis: {loop.Model.ToString().ToLowerInvariant()} ({loop.BackendName}) listening on {endpoint}");
    return new RedisServer(loop, Console.Error.WriteLine).RunAsync(listener, stopping.Token);
});

