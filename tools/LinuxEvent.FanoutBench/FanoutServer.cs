using System.Net;
using LinuxEvent.Net;

namespace LinuxEvent.FanoutBench;

/// <summary>The pub/sub server: one loop, LoopStreams with a line codec, every published message written to every subscriber.</summary>
internal static class FanoutServer
{
    private static readonly object s_subscriber = new(), s_publisher = new();

    public static int Run(string[] args)
    {
        LoopModel? model = null;
        int port = 0;
        bool coalesce = true;
        for (int i = 0; i < args.Length; i++)
        {
            string V() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": model = V() switch { "reactor" => LoopModel.Reactor, "proactor" => LoopModel.Proactor, var m => throw new ArgumentException($"unknown model '{m}'") }; break;
                case "--port" or "-p": port = int.Parse(V(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--no-coalesce": coalesce = false; break;
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (model is null || port is <= 0 or > 65535) throw new ArgumentException("usage: server --model reactor|proactor --port P [--no-coalesce]");
        using var loop = model == LoopModel.Reactor ? Loop.CreateReactor(new ReactorOptions { CoalesceWrites = coalesce }) : (Loop)Loop.CreateProactor();
        var subscribers = new List<LoopStream>();
        // Messages are lines: the server decodes each publisher message and writes it to every subscriber, one
        // WriteMessage per message per subscriber: the shape where the reactor used to make one send(2) per write.
        var options = new LoopStreamOptions
        {
            FdKind = StreamFdKind.Socket, Codec = new LineCodec(maxLineLength: 64 * 1024, stripCarriageReturn: false),
            HighWatermark = 1 << 20, LowWatermark = 1 << 18, MaxQueuedBytes = 64 << 20,
        };
        long deliveries = 0;
        using var listener = Listener.Bind(loop, new IPEndPoint(IPAddress.Loopback, port), (_, connection) =>
        {
            var stream = connection.ToStream(loop, options);
            stream.OnMessage = (s, message) =>
            {
                if (s.Data is null)
                {
                    if (message.SequenceEqual("S"u8))
                    {
                        s.Data = s_subscriber;
                        subscribers.Add(s);
                        s.WriteMessage("K"u8);
                    }
                    else s.Data = s_publisher;
                    return;
                }
                if (!ReferenceEquals(s.Data, s_publisher)) return;
                foreach (var sub in subscribers) sub.WriteMessage(message);
                deliveries += subscribers.Count;
            };
            stream.OnClose = (s, _) => { if (ReferenceEquals(s.Data, s_subscriber)) subscribers.Remove(s); };
            stream.Start();
        });
        loop.Signal(15, (l, _) => l.Stop());
        loop.Signal(2, (l, _) => l.Stop());
        Console.Error.WriteLine($"fanout-server: {loop.Model.ToString().ToLowerInvariant()} ({loop.BackendName}{(model == LoopModel.Reactor ? coalesce ? ", coalescing" : ", no coalescing" : "")}) on 127.0.0.1:{port}");
        loop.Run();
        Console.Error.WriteLine($"fanout-server: exit deliveries={deliveries}");
        return 0;
    }
}
