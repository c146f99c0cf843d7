// accept-connect: a TCP listener and a client in one program, async, on both models.
//
//   dotnet run examples/accept-connect.cs [-- --model reactor|proactor]   (without --model: reactor, then proactor)
//
// The listener binds 127.0.0.1 port 0 (the kernel picks a free port; Posix.GetLocalEndPoint tells which). A server
// task accepts three connections with AcceptAsync and greets each; the client side creates a socket
// (Posix.CreateStreamSocket), ConnectAsync-s it, sends its name and reads the greeting. A connect to a port nobody
// listens on fails with ECONNREFUSED as a SocketException (ConnectionRefused, errno ECONNREFUSED). AcceptAsync/ConnectAsync are the same calls on both
// models (reactor: accept4/connect + readiness; proactor: io_uring accept/connect). The demo ends by itself;
// SIGINT/SIGTERM stop it early (exit 0).
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using System.Net;
using System.Net.Sockets;
using System.Text;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

LoopModel[] models;
switch (args)
{
    case []: models = [LoopModel.Reactor, LoopModel.Proactor]; break;
    case ["--model", "reactor"]: models = [LoopModel.Reactor]; break;
    case ["--model", "proactor"]: models = [LoopModel.Proactor]; break;
    default: Console.Error.WriteLine("usage: accept-connect [--model reactor|proactor]"); return 2;
}

const int Clients = 3;
int failures = 0;
foreach (var model in models)
{
    using var loop = Loop.Create(model);
    Console.WriteLine($"== {model} loop ({loop.BackendName})");
    bool interrupted = false;
    loop.Signal(2, (l, _) => { interrupted = true; l.Stop(); });
    loop.Signal(15, (l, _) => { interrupted = true; l.Stop(); });

    int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
    var endpoint = (IPEndPoint)Posix.GetLocalEndPoint(listener)!;
    Console.WriteLine($"listening on {endpoint}");
    int greeted = 0;
    try
    {
        loop.Run(async () =>
        {
            var server = loop.Spawn(async () =>
            {
                var buffer = new byte[128];
                for (int i = 0; i < Clients; i++)
                {
                    int fd = await loop.AcceptAsync(listener);
                    try
                    {
                        var peer = Posix.GetRemoteEndPoint(fd);
                        int n = await loop.ReceiveAsync(fd, buffer);
                        string name = Encoding.UTF8.GetString(buffer, 0, n);
                        Console.WriteLine($"server: accepted fd {fd} from {peer}: \"{name}\"");
                        await loop.SendAllAsync(fd, Encoding.UTF8.GetBytes($"hello, {name}"));
                    }
                    finally
                    {
                        Posix.Close(fd);
                    }
                }
            });

            for (int i = 1; i <= Clients; i++)
            {
                int fd = Posix.CreateStreamSocket(AddressFamily.InterNetwork);
                try
                {
                    await loop.ConnectAsync(fd, endpoint);
                    await loop.SendAllAsync(fd, Encoding.UTF8.GetBytes($"client {i}"));
                    var reply = new byte[128];
                    int total = 0, n;
                    while ((n = await loop.ReceiveAsync(fd, reply.AsMemory(total))) > 0) total += n;   // until the server closes
                    string text = Encoding.UTF8.GetString(reply, 0, total);
                    Console.WriteLine($"client {i}: connected from {Posix.GetLocalEndPoint(fd)}, got \"{text}\"");
                    if (text == $"hello, client {i}") greeted++;
                }
                finally
                {
                    Posix.Close(fd);
                }
            }
            await server;

            // Port 1 on loopback: nothing listens there, so the kernel refuses the connection.
            int refused = Posix.CreateStreamSocket(AddressFamily.InterNetwork);
            try
            {
                await loop.ConnectAsync(refused, new IPEndPoint(IPAddress.Loopback, 1));
                Console.WriteLine("connect to 127.0.0.1:1 unexpectedly succeeded");
            }
            catch (System.Net.Sockets.SocketException ex) when (ex is LinuxEventSocketException le && le.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionRefused)
            {
                Console.WriteLine($"connect to 127.0.0.1:1: {le.ErrnoName} ({ex.Message})");
            }
            finally
            {
                Posix.Close(refused);
            }
        });
    }
    finally
    {
        Posix.Close(listener);
    }
    if (interrupted) break;
    if (greeted != Clients) failures++;
}
return failures == 0 ? 0 : 1;
