using System.Net;
using System.Text;

namespace LinuxEvent.Simulation.Tests;

/// <summary>
/// The simulated network behaves like TCP as user code sees it: resets on both ends, a close with unread data resets
/// the peer, half-close, refused connects, a full backlog, backpressure from a reader that stopped, EMFILE on accept,
/// clock jumps, and leaks reported by name.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Fakes))]
public class SimulatedNetworkTests(Backend backend) : FdCheckedTest
{
    private Simulator Create(ulong seed = 1, FaultProfile? faults = null)
        => new(new SimulationOptions { Seed = seed, Model = backend.Model, Faults = faults ?? FaultProfile.None });

    /// <summary>A server host whose accepted connections become streams (handed to <paramref name="onStream"/>).</summary>
    private static List<LoopStream> Serve(SimHost server, int port, Action<LoopStream>? onStream = null, ListenerOptions? options = null)
    {
        var streams = new List<LoopStream>();
        server.Bind(port, (_, connection) =>
        {
            var s = connection.ToStream(server.Loop);
            streams.Add(s);
            onStream?.Invoke(s);
        }, options);
        return streams;
    }

    private static LoopStream? ConnectStream(SimHost client, IPEndPoint remote, List<Exception> errors)
    {
        LoopStream? stream = null;
        client.Connect(remote, r =>
        {
            if (r.Succeeded) stream = r.Connection.ToStream(client.Loop);
            else errors.Add(r.Error!);
        });
        return stream;
    }

    [Test]
    public void AResetReachesBothEndsAsEconnreset()
    {
        using var sim = Create(faults: new FaultProfile { Reset = 1 });
        var server = sim.CreateHost("server");
        Exception? serverError = null, clientError = null;
        Serve(server, 80, s => { s.OnData = (_, _) => { }; s.OnError = (_, e) => serverError = e; s.Start(); });
        var client = sim.CreateHost("client");
        LoopStream? stream = null;
        client.Connect(server.EndPoint(80), r =>
        {
            stream = r.Connection.ToStream(client.Loop);
            stream.OnData = (_, _) => { };
            stream.OnError = (_, e) => clientError = e;
            stream.Start();
            stream.Write("lost"u8);
        });
        Assert.That(sim.RunUntil(() => serverError is not null && clientError is not null, TimeSpan.FromSeconds(5), "both errors"), Is.True, sim.Failure);
        Assert.That(((ILinuxEventError)serverError!).Errno, Is.EqualTo(Errno.ECONNRESET));
        Assert.That(((ILinuxEventError)clientError!).Errno, Is.EqualTo(Errno.ECONNRESET));
        Assert.That(client.BytesLost, Is.EqualTo(4), "the segment the reset destroyed");
        Assert.That(sim.RunUntil(() => sim.OpenSocketCount == 1, TimeSpan.FromSeconds(5), "the streams to close"), Is.True, sim.Failure);
    }

    [Test]
    public void ClosingWithUnreadDataResetsThePeerWhoStillReadsWhatCameFirst()
    {
        using var sim = Create();
        var server = sim.CreateHost("server");
        var got = new StringBuilder();
        Exception? error = null;
        Serve(server, 80, s =>
        {
            s.OnData = (_, d) => got.Append(Encoding.ASCII.GetString(d));
            s.OnError = (_, e) => error = e;
            s.Start();
            s.Write("unread by the client"u8);
        });
        var client = sim.CreateHost("client");
        client.Connect(server.EndPoint(80), r => client.Loop.Spawn(async () =>
        {
            int fd = r.Connection.Fd;
            await client.Loop.SendAsync(fd, "before the close"u8.ToArray());
            await client.Loop.DelayAsync(TimeSpan.FromMilliseconds(50));    // the server's bytes arrive meanwhile, unread
            Posix.Close(fd);
        }));
        Assert.That(sim.RunUntil(() => error is not null, TimeSpan.FromSeconds(5), "the reset"), Is.True, sim.Failure);
        Assert.That(got.ToString(), Is.EqualTo("before the close"), "data sent before the reset is still read first");
        Assert.That(((ILinuxEventError)error!).Errno, Is.EqualTo(Errno.ECONNRESET));
        Assert.That(sim.Trace.Lines, Is.Empty, "lines are kept only when asked");
    }

    [Test]
    public void HalfCloseEndsOneDirectionAndTheOtherGoesOn()
    {
        using var sim = Create();
        var server = sim.CreateHost("server");
        bool serverSawEnd = false;
        Serve(server, 80, s =>
        {
            s.OnData = (_, _) => { };
            s.OnEnd = x =>
            {
                serverSawEnd = true;
                x.Write("reply after your FIN"u8);             // the other direction is still open
                x.CloseAfterDrain();
            };
            s.Start();
        });
        var client = sim.CreateHost("client");
        var got = new StringBuilder();
        bool clientEnded = false;
        client.Connect(server.EndPoint(80), r =>
        {
            var s = r.Connection.ToStream(client.Loop);
            s.OnData = (_, d) => got.Append(Encoding.ASCII.GetString(d));
            s.OnEnd = _ => clientEnded = true;
            s.Start();
            s.Write("request"u8);
            s.ShutdownWrite();                                  // shutdown(SHUT_WR) on the placeholder: the simulation sees it
        });
        Assert.That(sim.RunUntil(() => clientEnded, TimeSpan.FromSeconds(5), "the server's reply and EOF"), Is.True, sim.Failure);
        Assert.That(serverSawEnd, Is.True);
        Assert.That(got.ToString(), Is.EqualTo("reply after your FIN"));
    }

    [Test]
    public void ConnectingWhereNobodyListensIsRefused()
    {
        using var sim = Create();
        var client = sim.CreateHost("client");
        var errors = new List<Exception>();
        ConnectStream(client, new IPEndPoint(IPAddress.Parse("10.0.0.99"), 80), errors);
        Assert.That(sim.RunUntil(() => errors.Count == 1, TimeSpan.FromSeconds(5), "the refusal"), Is.True, sim.Failure);
        Assert.That(((ILinuxEventError)errors[0]).Errno, Is.EqualTo(Errno.ECONNREFUSED));
        Assert.That(sim.OpenSocketCount, Is.Zero, "the attempt closed its socket");
    }

    [Test]
    public void AFullBacklogDropsTheSynAndTheClientRetriesASecondLater()
    {
        using var sim = Create();
        var server = sim.CreateHost("server");
        int listener = server.Listen(80, backlog: 1);            // nobody accepts yet
        var client = sim.CreateHost("client");
        int connected = 0;
        for (int i = 0; i < 2; i++) client.Connect(server.EndPoint(80), r => { Assert.That(r.Succeeded, Is.True); Posix.Close(r.Connection.Fd); connected++; });
        Assert.That(sim.RunUntil(() => connected == 1, TimeSpan.FromSeconds(1), "the first connect"), Is.True, sim.Failure);
        var firstAt = sim.Elapsed;
        server.Spawn(async () =>
        {
            for (int i = 0; i < 2; i++) Posix.Close(await server.Loop.AcceptAsync(listener));
            Posix.Close(listener);
        });
        Assert.That(sim.RunUntil(() => connected == 2, TimeSpan.FromSeconds(5), "the second connect"), Is.True, sim.Failure);
        Assert.That(sim.Elapsed - firstAt, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9)), "a SYN retransmission later");
        Assert.That(sim.RunUntil(() => sim.OpenSocketCount == 0, TimeSpan.FromSeconds(5), "everything closed"), Is.True, sim.Failure);
    }

    [Test]
    public void AReaderThatStopsBacksUpTheWriterAndNothingIsLost()
    {
        using var sim = Create();
        var server = sim.CreateHost("server");
        var received = new MemoryStream();
        var streams = Serve(server, 80, s => { s.OnData = (_, d) => received.Write(d); s.Start(); s.PauseRead(); });
        var client = sim.CreateHost("client");
        LoopStream? writer = null;
        var payload = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();
        client.Connect(server.EndPoint(80), r =>
        {
            writer = r.Connection.ToStream(client.Loop);
            writer.Write(payload);
        });
        Assert.That(sim.RunUntil(() => writer is { IsWriteBlocked: true } && streams.Count == 1, TimeSpan.FromSeconds(5), "backpressure"), Is.True, sim.Failure);
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.That(writer!.QueuedBytes, Is.GreaterThan(200_000), "a stopped reader holds at most its buffers");
        server.Post(_ => streams[0].ResumeRead());
        Assert.That(sim.RunUntil(() => received.Length == payload.Length, TimeSpan.FromSeconds(30), "every byte"), Is.True, sim.Failure);
        Assert.That(received.ToArray(), Is.EqualTo(payload), "in order, intact");
    }

    [Test]
    public void EmfileOnAcceptBacksOffAndEveryClientGetsIn()
    {
        using var sim = Create(seed: 3, faults: new FaultProfile { AcceptEmfile = 0.5 });
        var server = sim.CreateHost("server");
        int emfile = 0;
        var streams = new List<LoopStream>();
        var listener = server.Bind(80, (_, c) => streams.Add(c.ToStream(server.Loop)),
            new ListenerOptions { ResourceErrorBackoff = TimeSpan.FromMilliseconds(20) });
        listener.OnError = (_, e) => { if (e.Errno == Errno.EMFILE) emfile++; };
        var errors = new List<Exception>();
        for (int i = 0; i < 8; i++) ConnectStream(sim.CreateHost("c" + i), server.EndPoint(80), errors);
        Assert.That(sim.RunUntil(() => streams.Count == 8, TimeSpan.FromSeconds(10), "every accept"), Is.True, sim.Failure);
        Assert.That(emfile, Is.GreaterThan(0));
        Assert.That(errors, Is.Empty);
    }

    [Test]
    public void AClockJumpMakesTimersFireLateAllAtOnce()
    {
        using var sim = Create(faults: new FaultProfile { ClockJump = 1, MaxClockJump = TimeSpan.FromSeconds(3) });
        var host = sim.CreateHost("host");
        TimeSpan? firedAt = null;
        host.Post(loop => loop.After(TimeSpan.FromMilliseconds(10), _ => firedAt = sim.Elapsed));
        Assert.That(sim.RunUntil(() => firedAt is not null, TimeSpan.FromSeconds(10), "the timer"), Is.True, sim.Failure);
        Assert.That(firedAt, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(10)));
        Assert.That(sim.Trace.LineCount, Is.GreaterThan(0));
    }

    [Test]
    public void ASocketTheServerForgetsToCloseIsReportedByName()
    {
        using var sim = Create();
        var server = sim.CreateHost("server");
        int listener = server.Listen(80);
        int leaked = -1;
        server.Spawn(async () => leaked = await server.Loop.AcceptAsync(listener));
        var client = sim.CreateHost("client");
        bool done = false;
        client.Connect(server.EndPoint(80), r => { Posix.Close(r.Connection.Fd); done = true; });
        Assert.That(sim.RunUntil(() => done && leaked >= 0, TimeSpan.FromSeconds(5), "the exchange"), Is.True, sim.Failure);
        Posix.Close(listener);
        Assert.That(sim.RunUntil(() => sim.OpenSocketCount == 0, TimeSpan.FromSeconds(2), "everything closed"), Is.False);
        Assert.That(sim.Failure, Does.Contain($"{sim.SocketName(leaked)} on server (connected"));
        Assert.Throws<SimulationFailedException>(sim.ThrowIfFailed);
    }
}
