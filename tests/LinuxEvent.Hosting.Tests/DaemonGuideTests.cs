using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;

namespace LinuxEvent.Hosting.Tests;

/// <summary>
/// The code of docs/daemon-guide.md. Every ```csharp block of the guide is one fragment here, between
/// <c>// GUIDE-BEGIN name</c> and <c>// GUIDE-END</c>: this file compiles them, some tests run them, and
/// <see cref="EveryCodeBlockOfTheGuideIsAFragmentCompiledHere"/> fails when the guide and this file differ.
/// </summary>
public class DaemonGuideTests : FdCheckedTest
{
    // Never called: compiled only (HostedLoopsTests, DrainTests and the HostedChat example run this shape of host).
    private static void HostedMain(string[] args)
    {
        // GUIDE-BEGIN hosted-main
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddLoopService<LineService>();          // one instance per loop, on the loop's thread
        builder.Services.AddLinuxEventLoops(o =>
        {
            o.Model = LoopModel.Reactor;                          // or LoopModel.Proactor (io_uring)
            o.DrainTimeout = TimeSpan.FromSeconds(10);            // how long connections get to finish at shutdown
        });
        builder.Build().Run();                                    // SIGTERM or Ctrl+C: a graceful stop, exit code 0
        // GUIDE-END
    }

    // GUIDE-BEGIN line-service
    sealed class LineService(HostedLoop loop) : ILoopService
    {
        private static readonly LoopStreamOptions Lines = new() { Codec = new LineCodec(maxLineLength: 4096) };
        private readonly HashSet<LoopStream> _open = [];

        public void Start() => loop.Listen(new IPEndPoint(IPAddress.Any, 7000), OnAccept);  // closed first at shutdown

        private void OnAccept(Listener listener, SocketConnection connection)
        {
            var stream = connection.ToStream(loop.Loop, Lines);
            stream.OnMessage = static (s, line) => { if (!s.WriteMessage(line)) s.PauseRead(); };
            stream.OnDrain = static s => s.ResumeRead();
            stream.OnClose = (s, _) => _open.Remove(s);
            _open.Add(stream);
            loop.TrackConnection(stream);                        // the drain waits for it to close
            stream.Start();
        }

        // The host is stopping: listeners are closed already. Say goodbye; each stream closes once its goodbye is sent.
        public ValueTask StopAsync(CancellationToken cancellationToken)
        {
            foreach (var s in _open.ToArray())
            {
                s.WriteMessage("server shutting down"u8);
                s.CloseAfterDrain();
            }
            return ValueTask.CompletedTask;
        }
    }
    // GUIDE-END

    /// <summary>The standalone shutdown fragment, as a method the tests call with SIGUSR2 in place of SIGTERM.</summary>
    private static void StandaloneServer(Loop loop, IPEndPoint endpoint, PosixSignal stopSignal, Action<EndPoint> listening)
    {
        var lines = new LoopStreamOptions { Codec = new LineCodec() };
        var shutdownSignal = stopSignal;
        // GUIDE-BEGIN standalone-shutdown
        var open = new HashSet<LoopStream>();
        Listener? listener = null;
        listener = Listener.Bind(loop, endpoint, (_, connection) =>
        {
            var stream = connection.ToStream(loop, lines);
            stream.OnMessage = static (s, line) => s.WriteMessage(line);
            stream.OnClose = (s, _) =>
            {
                open.Remove(s);
                if (listener is null && open.Count == 0) loop.Stop();      // draining, and the last one is gone
            };
            open.Add(stream);
            stream.Start();
        });
        using var shutdown = loop.Signal(shutdownSignal, (l, _) =>
        {
            listener?.Dispose();                                           // 1. no new connections
            listener = null;
            foreach (var s in open.ToArray())                              // 2. finish: goodbye, then close once sent
            {
                s.WriteMessage("server shutting down"u8);
                s.CloseAfterDrain();
            }
            if (open.Count == 0) l.Stop();
            l.After(TimeSpan.FromSeconds(10), static l => l.Stop());       // 3. the drain's deadline
        });
        // GUIDE-END
        listening(listener.LocalEndPoint!);
        loop.Run();
        listener?.Dispose();
    }

    // GUIDE-BEGIN backpressure
    static void Relay(LoopStream from, LoopStream to)
    {
        from.OnData = (_, data) =>
        {
            if (!to.Write(data)) from.PauseRead();     // queued, but `to` is over its high watermark: stop reading
        };
        to.OnDrain = _ => from.ResumeRead();          // `to` fell to its low watermark: read again
    }
    // GUIDE-END

    // GUIDE-BEGIN options-with
    static readonly LoopStreamOptions Defaults = new() { Codec = new LineCodec(maxLineLength: 4096) };
    static readonly LoopStreamOptions BulkClients = Defaults with { HighWatermark = 1 << 20, LowWatermark = 256 << 10 };
    // GUIDE-END

    // GUIDE-BEGIN idle-timeout
    static void CloseWhenIdle(Loop loop, LoopStream stream, TimeSpan idle)
    {
        var timer = loop.After(idle, _ => stream.Close());       // no message for `idle`: close
        stream.OnMessage = (s, line) =>
        {
            timer.Restart(idle);                                  // each message pushes the deadline back
            s.WriteMessage(line);
        };
        stream.OnClose = (_, _) => timer.Cancel();
    }
    // GUIDE-END

    private static async Task<int> ReadWithDeadline(Loop loop, int socket, byte[] buffer)
    {
        // GUIDE-BEGIN async-timeout
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5), loop.TimeProvider);
        int n = await loop.ReceiveAsync(socket, buffer, deadline.Token);  // OperationCanceledException after 5 s
        // GUIDE-END
        return n;
    }

    private static void HostedSignal(HostedLoop hostedLoop, Action reload)
    {
        // GUIDE-BEGIN hosted-signal
        hostedLoop.RegisterSignal(PosixSignal.SIGHUP, (h, _) => reload());     // runs on h.Loop's thread
        // GUIDE-END
    }

    [Test]
    public void TheIdleTimeoutClosesASilentConnectionOnTheVirtualClock()
    {
        // GUIDE-BEGIN fake-clock-test
        using var loop = Loop.CreateReactor(new ReactorOptions { Backend = ReactorBackend.Fake });
        var wall = Stopwatch.StartNew();
        var (a, b) = Posix.SocketPair();
        var stream = new LoopStream(loop, a, Defaults);
        CloseWhenIdle(loop, stream, TimeSpan.FromMinutes(5));
        stream.Start();
        loop.Run(async () => await Task.Delay(TimeSpan.FromMinutes(4), loop.TimeProvider));
        Assert.That(stream.IsClosed, Is.False);                    // 4 virtual minutes: still open
        loop.Run(async () => await Task.Delay(TimeSpan.FromMinutes(2), loop.TimeProvider));
        Assert.That(stream.IsClosed, Is.True);                     // 6: closed, and no real time passed
        Assert.That(wall.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Posix.Close(b);
        // GUIDE-END
    }

    [Test]
    public void TheStandaloneServerSaysGoodbyeAndStopsOnTheSignal()
    {
        using var loop = Loop.CreateReactor();
        EndPoint? bound = null;
        using var up = new ManualResetEventSlim();
        var server = new Thread(() => StandaloneServer(loop, new IPEndPoint(IPAddress.Loopback, 0), (PosixSignal)12,
            ep => { bound = ep; up.Set(); }));
        server.Start();
        Assert.That(up.Wait(TimeSpan.FromSeconds(10)), Is.True);
        using var client = new System.Net.Sockets.TcpClient();
        client.Connect((IPEndPoint)bound!);
        using var reader = new StreamReader(client.GetStream());
        client.GetStream().Write("ping\n"u8);
        Assert.That(reader.ReadLine(), Is.EqualTo("ping"));
        Posix.Kill(Posix.GetProcessId(), 12);                      // SIGUSR2 stands in for SIGTERM
        Assert.That(reader.ReadLine(), Is.EqualTo("server shutting down"));
        Assert.That(reader.ReadLine(), Is.Null, "then EOF");
        Assert.That(server.Join(TimeSpan.FromSeconds(10)), Is.True, "the loop stopped once the last connection closed");
    }

    [Test]
    public void TheRelayPausesTheSourceWhileTheSinkIsOverItsHighWatermark()
    {
        using var loop = Loop.CreateReactor();
        var (src, srcPeer) = Posix.SocketPair();
        var (dst, dstPeer) = Posix.SocketPair();
        var small = LoopStreamOptions.Default with { HighWatermark = 4096, LowWatermark = 1024 };
        var from = new LoopStream(loop, src, small);
        var to = new LoopStream(loop, dst, small);
        Relay(from, to);
        Relay(to, from);                                           // a proxy relays both ways
        from.Start();
        to.Start();
        var chunk = new byte[64 * 1024];
        // Nobody reads dstPeer: the kernel's buffers fill, then `to` queues past its high watermark and pauses `from`.
        loop.RunUntil(() =>
        {
            Posix.TryWrite(srcPeer, chunk);
            return from.IsReadPaused;
        }, TimeSpan.FromSeconds(10));
        Assert.That(to.IsWriteBlocked, Is.True);
        var sink = new byte[64 * 1024];
        loop.RunUntil(() =>
        {
            Posix.TryRead(dstPeer, sink);
            return !from.IsReadPaused;
        }, TimeSpan.FromSeconds(10));
        Assert.That(to.IsWriteBlocked, Is.False, "drained to the low watermark, and reading resumed");
        from.Close();
        to.Close();
        Posix.Close(srcPeer);
        Posix.Close(dstPeer);
    }

    [Test]
    public void EveryCodeBlockOfTheGuideIsAFragmentCompiledHere()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "docs", "daemon-guide.md"))) root = Path.GetDirectoryName(root)!;
        string source = File.ReadAllText(Path.Combine(root, "tests", "LinuxEvent.Hosting.Tests", "DaemonGuideTests.cs"));
        // A marker is a line of its own: "// GUIDE-BEGIN name" ... "// GUIDE-END".
        var fragments = Regex.Matches(source, @"^[ \t]*// GUIDE-BEGIN \S+[ \t]*\r?\n(.*?)^[ \t]*// GUIDE-END[ \t]*$",
                RegexOptions.Multiline | RegexOptions.Singleline)
            .Select(m => Lines(m.Groups[1].Value)).ToList();
        string guide = File.ReadAllText(Path.Combine(root, "docs", "daemon-guide.md"));
        var blocks = new List<string[]>();
        for (int at = guide.IndexOf("```csharp\n", StringComparison.Ordinal); at >= 0;
             at = guide.IndexOf("```csharp\n", at + 1, StringComparison.Ordinal))
            blocks.Add(Lines(guide[(at + 10)..guide.IndexOf("```", at + 10, StringComparison.Ordinal)]));
        Assert.That(blocks, Has.Count.EqualTo(fragments.Count), "one guide block per fragment");
        for (int i = 0; i < blocks.Count; i++)
            Assert.That(blocks[i], Is.EqualTo(fragments[i]), $"guide block {i + 1} differs from fragment {i + 1}");

        static string[] Lines(string text) => text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
    }
}
