// socketpair: async send/receive between two tasks over a Unix socket pair, on both models.
//
//   dotnet run examples/socketpair.cs [-- --model reactor|proactor]  (without --model: reactor, then proactor)
//
// Two tasks run on one loop thread: a "client" sends numbered pings and waits for each pong, a "server" answers until
// it sees end-of-stream. SendAsync/ReceiveAsync are the same calls on both models: the reactor tries the syscall and
// awaits readiness on EAGAIN, the proactor submits the operation to io_uring. Every continuation resumes on the loop
// thread, so the tasks share state without locks. The client ends with shutdown(SHUT_WR): the server's receive returns
// 0 and it finishes too. The demo ends by itself; SIGINT/SIGTERM stop it early (exit 0).
#:project ../src/LinuxEvent/LinuxEvent.csproj
#:property PublishAot=false

using System.Text;
using LinuxEvent;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

LoopModel[] models;
switch (args)
{
    case []: models = [LoopModel.Reactor, LoopModel.Proactor]; break;
    case ["--model", "reactor"]: models = [LoopModel.Reactor]; break;
    case ["--model", "proactor"]: models = [LoopModel.Proactor]; break;
    default: Console.Error.WriteLine("usage: socketpair [--model reactor|proactor]"); return 2;
}

int failures = 0;
foreach (var model in models)
{
    using var loop = Loop.Create(model);
    Console.WriteLine($"== {model} loop ({loop.BackendName})");
    bool interrupted = false;
    loop.Signal(2, (l, _) => { interrupted = true; l.Stop(); });
    loop.Signal(15, (l, _) => { interrupted = true; l.Stop(); });
    var (clientFd, serverFd) = Posix.SocketPair(nonBlocking: true);
    int pongs = 0;
    try
    {
        loop.Run(async () =>
        {
            var server = loop.Spawn(async () =>
            {
                var buffer = new byte[256];
                int served = 0;
                while (true)
                {
                    int n = await loop.ReceiveAsync(serverFd, buffer);
                    if (n == 0) break;                                   // the client shut its side down
                    string request = Encoding.ASCII.GetString(buffer, 0, n);
                    await loop.SendAllAsync(serverFd, Encoding.ASCII.GetBytes(request.Replace("ping", "pong")));
                    served++;
                }
                Console.WriteLine($"server: end of stream after {served} requests");
            });

            var reply = new byte[256];
            for (int i = 1; i <= 5; i++)
            {
                await loop.SendAllAsync(clientFd, Encoding.ASCII.GetBytes($"ping {i}"));
                int n = await loop.ReceiveAsync(clientFd, reply);
                string answer = Encoding.ASCII.GetString(reply, 0, n);
                Console.WriteLine($"client: sent \"ping {i}\", got \"{answer}\"");
                if (answer == $"pong {i}") pongs++;
            }
            Posix.Shutdown(clientFd, 1);                                 // SHUT_WR: no more requests
            await server;
        });
    }
    finally
    {
        Posix.Close(clientFd);
        Posix.Close(serverFd);
    }
    if (interrupted) break;
    if (pongs != 5) failures++;
}
return failures == 0 ? 0 : 1;
