// An echo server on Listener + LoopStream, for tests that run it as a child process.
//   ListenerEchoApp --model reactor|proactor --port P
// Prints "listener-echo: ... listening on 127.0.0.1:P" to stderr once it accepts, one line per accept error the
// listener reports (OnError), and exits 0 on SIGTERM after closing the listener and every connection.
using System.Net;
using LinuxEvent;
using LinuxEvent.Net;

string Arg(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{name} is required");
var model = Arg("--model") switch
{
    "reactor" => LoopModel.Reactor,
    "proactor" => LoopModel.Proactor,
    var m => throw new ArgumentException($"unknown model '{m}'"),
};
int port = int.Parse(Arg("--port"), System.Globalization.CultureInfo.InvariantCulture);

using var loop = Loop.Create(model);
var streams = new HashSet<LoopStream>();
var listener = Listener.Bind(loop, new IPEndPoint(IPAddress.Loopback, port), (_, connection) =>
{
    var stream = connection.ToStream(loop);
    stream.OnData = static (s, data) => s.Write(data);
    stream.OnClose = (s, _) => streams.Remove(s);
    streams.Add(stream);
    stream.Start();
});
listener.OnError = (_, ex) => Console.Error.WriteLine($"listener-echo: {ex.Message}");
loop.Signal(15, (l, _) =>
{
    listener.Dispose();
    foreach (var s in streams.ToArray()) s.Close();
    l.Stop();
});
Console.Error.WriteLine($"listener-echo: {model.ToString().ToLowerInvariant()} ({loop.BackendName}) listening on {listener.LocalEndPoint}");
loop.Run();
Console.Error.WriteLine($"listener-echo: stopped after {listener.AcceptedCount} connections");
return 0;
