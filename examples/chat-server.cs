#!/usr/bin/env dotnet
// chat-server: a line-based TCP chat room on LinuxEvent; one async reader per client plus a writer that drains the
// client's outbound queue, the same code on the reactor (epoll) and the proactor (io_uring) model.
//
//   dotnet run examples/chat-server.cs -- --model reactor|proactor --port 7000
//   nc 127.0.0.1 7000        (or: telnet 127.0.0.1 7000)
//
// The server asks each client for a name (unique, 1-32 visible characters), then relays every line the client sends
// to every other client as "name : line". Joins and departures are announced as "* name joined" / "* name left".
// Lines end with LF or CRLF; replies use CRLF so telnet and nc both display them well. Text is relayed as bytes
// (UTF-8 passes through untouched). A client that does not read fast enough (more than 1 MiB queued for it) is
// disconnected, so one stuck client cannot make the server buffer without bound. SIGINT/SIGTERM tell everyone the
// server is going away, close every connection and exit 0.
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:include Shared/ExampleServer.cs
#:include Shared/ChatRoom.cs
#:include Shared/ChatMember.cs
#:property PublishAot=false

using System.Net;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

return ExampleServer.Run("chat-server", args, defaultPort: 7000, static (loop, endpoint) =>
{
    // The room's logic lives in Shared/ChatRoom.cs, shared with the simulation's chat scenario (tools/LinuxEvent.Simulate),
    // which runs it over simulated networks under seeded faults. Here it gets a real socket and the signals.
    int listener = Posix.CreateTcpListener(endpoint);
    // SIGINT/SIGTERM end the accept loop; the subscriptions last as long as the loop (its Dispose cancels them).
    var stopping = new CancellationTokenSource();
    loop.Signal(2, (_, _) => stopping.Cancel());
    loop.Signal(15, (_, _) => stopping.Cancel());
    Console.Error.WriteLine($"chat-server: {loop.Model.ToString().ToLowerInvariant()} ({loop.BackendName}) listening on {endpoint}");
    return new ChatRoom(loop, Console.Error.WriteLine).RunAsync(listener, stopping.Token);
});

