using System.Net;
using System.Net.Sockets;
using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// Operations of the proactor model, written once for io_uring and the fake. Where the outcome depends on the world
/// (bytes arriving, a refused connection), the real backend gets real I/O and the fake gets the same outcome scripted.
/// Every test ends with no fd leaked and LiveOperationCount == 0.
/// </summary>
[TestFixtureSource(typeof(UringTiers), nameof(UringTiers.Proactors))]
public partial class ProactorContractTests(Backend backend) : FdCheckedTest
{
    private ProactorLoop _loop = null!;
    private bool Fake => backend.IsFake;
    private FakeCompletions F => _loop.Fake!;

    [SetUp]
    public void CreateLoop() => _loop = (ProactorLoop)backend.Create();

    [TearDown]
    public void DisposeLoop()
    {
        if (!_loop.IsDisposed)
        {
            Assert.That(_loop.LiveOperationCount, Is.Zero, "every operation settled");
            _loop.Dispose();
        }
    }

    private static byte[] A(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>Runs until the operations settled and their callbacks ran (the fake settles at script time and
    /// runs callbacks at the next dispatch).</summary>
    private void RunUntilSettled(params Operation[] ops)
    {
        _loop.RunUntil(() => ops.All(o => o.IsSettled), TimeSpan.FromSeconds(10));
        if (Fake) F.RunUntilIdle(); else _loop.RunOnce(TimeSpan.Zero);
    }

    [Test]
    public void ReadGetsTheBytesThenZeroAtEof()
    {
        var (r, w) = Posix.Pipe();
        try
        {
            var buf = new byte[16];
            int calls = 0;
            var op = _loop.Read(r, buf, -1, _ => calls++);
            Assert.That(op.State, Is.EqualTo(OperationState.Pending));
            Assert.That(op.Kind, Is.EqualTo(OperationKind.Read));
            if (Fake) F.CompleteRead(op, A("abc")); else Posix.Write(w, A("abc"));
            RunUntilSettled(op);
            Assert.That((op.State, op.Result, calls), Is.EqualTo((OperationState.Completed, 3, 1)));
            Assert.That(Encoding.ASCII.GetString(buf, 0, 3), Is.EqualTo("abc"));

            Posix.Close(w); w = -1;
            var eof = _loop.Read(r, buf, -1);
            if (Fake) F.CompleteRead(eof, ReadOnlySpan<byte>.Empty);
            RunUntilSettled(eof);
            Assert.That((eof.State, eof.Result), Is.EqualTo((OperationState.Completed, 0)));
        }
        finally { Posix.Close(r); if (w >= 0) Posix.Close(w); }
    }

    [Test]
    public void WriteAtAnOffsetAndAtTheCurrentPosition()
    {
        string path = Path.GetTempFileName();
        try
        {
            using var fh = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
            int fd = (int)fh.DangerousGetHandle();
            var first = _loop.Write(fd, A("hello world"), 0);
            if (Fake) F.Complete(first, 11);
            RunUntilSettled(first);
            var patch = _loop.Write(fd, A("W"), 6);
            if (Fake) F.Complete(patch, 1);
            RunUntilSettled(patch);
            Assert.That((first.Result, patch.Result), Is.EqualTo((11, 1)));
            if (!Fake) Assert.That(File.ReadAllText(path), Is.EqualTo("hello World"));
            Assert.Throws<ArgumentOutOfRangeException>(() => _loop.Write(fd, A("x"), -2));
        }
        finally { File.Delete(path); }
    }

    [Test]
    public void PartialWriteReportsTheBytesActuallyWritten()
    {
        var (a, b) = Posix.SocketPair();
        try
        {
            Posix.SetSocketOption(a, 1, 7, 4096);      // SOL_SOCKET, SO_SNDBUF: a small buffer forces a short send
            var big = new byte[1 << 20];
            var op = _loop.Send(a, big);
            if (Fake) F.Complete(op, 12345);
            RunUntilSettled(op);
            Assert.That(op.State, Is.EqualTo(OperationState.Completed));
            Assert.That(op.Result, Is.GreaterThan(0).And.LessThan(big.Length));
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void ConnectionRefusedIsAFailedOperationWithErrno()
    {
        // A port that nobody listens on: bind a listener, note the port, close it.
        int probe = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(probe)!;
        Posix.Close(probe);
        int s = Posix.StartTcpConnect(new IPEndPoint(IPAddress.Loopback, 9), out _) is var tmp && tmp >= 0 ? tmp : -1;
        if (s >= 0) Posix.Close(s);
        using var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        int fd = (int)sock.Handle;
        var op = _loop.Connect(fd, ep);
        if (Fake) F.Fail(op, 111);
        RunUntilSettled(op);
        Assert.That(op.State, Is.EqualTo(OperationState.Failed));
        Assert.That(op.Error!.Name, Is.EqualTo("ECONNREFUSED"));
        Assert.That(op.Error.Errno, Is.EqualTo(111));
        Assert.That(op.Error.Message, Is.EqualTo("Connection refused"));
        var ex = Assert.Throws<LinuxEventSocketException>(() => op.GetResultOrThrow());
        Assert.That(ex!.ErrnoName, Is.EqualTo("ECONNREFUSED"));
        Assert.That(ex.SocketErrorCode, Is.EqualTo(System.Net.Sockets.SocketError.ConnectionRefused));
    }

    [Test]
    public void SendToAClosedPeerIsEpipeNotSigpipe()
    {
        var (a, b) = Posix.SocketPair();
        Posix.Close(b);
        try
        {
            var op = _loop.Send(a, A("into the void"));
            if (Fake) F.Fail(op, 32);
            RunUntilSettled(op);
            Assert.That(op.Error!.Name, Is.EqualTo("EPIPE"));
        }
        finally { Posix.Close(a); }
    }

    [Test]
    public void ReceiveAfterAPeerResetIsEconnreset()
    {
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(listener)!;
        int client = Posix.StartTcpConnect(ep, out _);
        int server = -1;
        try
        {
            _loop.RunUntil(() => (server = Posix.TryAccept(listener)) >= 0 || server != -11);
            Assert.That(server, Is.GreaterThanOrEqualTo(0));
            var op = _loop.Receive(client, new byte[16]);
            // SO_LINGER {on, 0} then close: the kernel sends RST instead of FIN.
            using (var s = new Socket(new SafeSocketHandle((nint)server, ownsHandle: true)))
            {
                s.LingerState = new LingerOption(true, 0);
            }
            server = -1;
            if (Fake) F.Fail(op, 104);
            RunUntilSettled(op);
            Assert.That(op.Error?.Name, Is.EqualTo("ECONNRESET"));
        }
        finally
        {
            Posix.Close(client);
            Posix.Close(listener);
            if (server >= 0) Posix.Close(server);
        }
    }

    [Test]
    public void ReadOnAClosedFdIsEbadf()
    {
        var (r, w) = Posix.Pipe();
        Posix.Close(r);
        Posix.Close(w);
        var op = _loop.Read(r, new byte[4], -1);
        if (Fake) F.Fail(op, 9);
        RunUntilSettled(op);
        Assert.That(op.Error!.Name, Is.EqualTo("EBADF"));
    }

    [Test]
    public void CancelBeforeSettleGivesCancelledOnceAndCancelAfterSettleIsFalse()
    {
        var (r, w) = Posix.Pipe();
        try
        {
            int calls = 0;
            var op = _loop.Read(r, new byte[4], -1, _ => calls++);
            Assert.That(op.Cancel(), Is.True);
            Assert.That(op.Cancel(), Is.False, "a second cancel is a no-op");
            Assert.That(calls, Is.Zero, "callbacks never run inline");
            RunUntilSettled(op);
            _loop.RunOnce(TimeSpan.FromMilliseconds(1));
            Assert.That((op.State, calls), Is.EqualTo((OperationState.Cancelled, 1)));
            Assert.That(op.Cancel(), Is.False);
            Assert.Throws<OperationCanceledException>(() => op.GetResultOrThrow());
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void CancelFromInsideAnotherOperationsCallbackStillRunsTheVictimsCallback()
    {
        var (r, w) = Posix.Pipe();
        try
        {
            var log = new List<string>();
            var victim = _loop.Read(r, new byte[4], -1, o => log.Add("victim:" + o.State));
            var killer = _loop.Timeout(TimeSpan.FromMilliseconds(1), o => { log.Add("killer"); victim.Cancel(); });
            RunUntilSettled(killer, victim);
            _loop.RunOnce(TimeSpan.FromMilliseconds(1));
            Assert.That(log, Is.EqualTo(new[] { "killer", "victim:Cancelled" }));
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void CancelRacingACompletionYieldsExactlyOneCallbackAndNoLostData()
    {
        var (a, b) = Posix.SocketPair();
        try
        {
            var buf = new byte[8];
            int calls = 0;
            var op = _loop.Receive(a, buf, _ => calls++);
            if (Fake) F.CompleteReceive(op, A("data")); else Posix.Write(b, A("data"));
            bool requested = op.Cancel();      // the data may already be there: no guarantee which wins
            RunUntilSettled(op);
            _loop.RunOnce(TimeSpan.FromMilliseconds(1));
            Assert.That(calls, Is.EqualTo(1));
            if (op.State == OperationState.Completed) Assert.That(Encoding.ASCII.GetString(buf, 0, op.Result), Is.EqualTo("data"));
            else
            {
                Assert.That(op.State, Is.EqualTo(OperationState.Cancelled));
                Assert.That(requested, Is.True);
                if (!Fake) Assert.That(Posix.TryReceive(a, buf), Is.EqualTo(4), "the bytes are still in the socket");
            }
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void DisposeWithOperationsInFlightSettlesThemAsCancelled()
    {
        var (r, w) = Posix.Pipe();
        try
        {
            var states = new List<OperationState>();
            var ops = Enumerable.Range(0, 4).Select(_ => _loop.Read(r, new byte[4], -1, o => states.Add(o.State))).ToArray();
            var t = _loop.Timeout(TimeSpan.FromHours(1), o => states.Add(o.State));
            _loop.RunOnce(TimeSpan.Zero);      // submitted to the kernel
            _loop.Dispose();
            Assert.That(states, Has.Count.EqualTo(5));
            Assert.That(states, Is.All.EqualTo(OperationState.Cancelled));
            Assert.That(_loop.LiveOperationCount, Is.Zero);
            Assert.Throws<ObjectDisposedException>(() => _loop.Nop());
            Assert.Throws<ObjectDisposedException>(() => _loop.Read(r, new byte[1], -1));
        }
        finally { Posix.Close(r); Posix.Close(w); }
    }

    [Test]
    public void CloseAfterCancelSettlesTheOperationsOnTheFdThenCloses()
    {
        var (a, b) = Posix.SocketPair();
        try
        {
            var recv = _loop.Receive(a, new byte[8]);
            var close = _loop.CloseAfterCancel(a);
            if (Fake) F.Complete(close, 0);
            RunUntilSettled(recv, close);
            Assert.That(recv.State, Is.EqualTo(OperationState.Cancelled));
            Assert.That(close.State, Is.EqualTo(OperationState.Completed));
            if (!Fake) Assert.That(Posix.IsOpen(a), Is.False);
            else Posix.Close(a);
        }
        finally { Posix.Close(b); }
    }

    [Test]
    public void ClosingAnFdWithAPendingReceiveNeverHangsTheLoop()
    {
        var (a, b) = Posix.SocketPair();
        var recv = _loop.Receive(a, new byte[8]);
        _loop.RunOnce(TimeSpan.Zero);
        Posix.Close(a);          // io_uring keeps its own file reference: the receive stays pending until cancelled
        var (r2, w2) = Posix.Pipe();         // may reuse a's number: the pending receive must never touch it
        try
        {
            Posix.Write(w2, A("new file"));
            Posix.Close(b);      // the peer goes away: the receive completes (EOF) or stays pending until cancel
            _loop.RunOnce(TimeSpan.FromMilliseconds(20));
            if (!recv.IsSettled) { recv.Cancel(); RunUntilSettled(recv); }
            Assert.That(recv.State, Is.AnyOf(OperationState.Completed, OperationState.Cancelled));
            if (recv.State == OperationState.Completed) Assert.That(recv.Result, Is.Zero, "EOF of the old socket, never bytes of the new pipe");
            Assert.That(Posix.TryRead(r2, new byte[16]), Is.EqualTo(8), "the new file's data is untouched");
        }
        finally { Posix.Close(r2); Posix.Close(w2); }
    }

    [Test]
    public void TimeoutExpiryIsSuccessAndEqualDeadlinesCompleteInSubmissionOrder()
    {
        var order = new List<int>();
        var ops = new List<Operation>();
        for (int i = 0; i < 10; i++)
        {
            int id = i;
            ops.Add(_loop.Timeout(TimeSpan.FromMilliseconds(5), _ => order.Add(id)));
        }
        RunUntilSettled(ops.ToArray());
        Assert.That(ops.Select(o => (o.State, o.Result)), Is.All.EqualTo((OperationState.Completed, 0)));
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 10)));
    }

    [Test]
    public void TimeoutsAndTimersInterleaveByDeadline()
    {
        var order = new List<string>();
        _loop.Timeout(TimeSpan.FromMilliseconds(30), _ => order.Add("op30"));
        _loop.After(TimeSpan.FromMilliseconds(10), _ => order.Add("timer10"));
        _loop.Timeout(TimeSpan.FromMilliseconds(20), _ => order.Add("op20"));
        _loop.RunUntil(() => order.Count == 3);
        if (Fake) Assert.That(order, Is.EqualTo(new[] { "timer10", "op20", "op30" }));
        else
        {
            // On a real clock, completions that arrive in one kernel wait are dispatched before that iteration's due
            // timers, so a stalled machine may see op20 before timer10; the operations keep their own order.
            Assert.That(order.IndexOf("op20"), Is.LessThan(order.IndexOf("op30")));
            Assert.That(order, Is.EquivalentTo(new[] { "timer10", "op20", "op30" }));
        }
    }

    [Test]
    public void TenThousandOperationsInFlightOnAnEightEntryRingAllCompleteOnce()
    {
        _loop.Dispose();
        _loop = (ProactorLoop)(backend.IsFake
            ? Loop.CreateProactor(new ProactorOptions { Backend = ProactorBackend.Fake, QueueDepth = 8 })
            : Loop.CreateProactor(new ProactorOptions { QueueDepth = 8 }));
        var hits = new int[10_000];
        for (int i = 0; i < hits.Length; i++)
        {
            var op = _loop.Nop(o => hits[(int)o.Data!]++);
            op.Data = i;
        }
        Assert.That(_loop.LiveOperationCount, Is.EqualTo(10_000));
        _loop.RunUntil(() => _loop.LiveOperationCount == 0, TimeSpan.FromSeconds(20));
        Assert.That(hits, Is.All.EqualTo(1));
    }

    [Test]
    public void CallbacksNeverRunInlineFromTheSubmittingCall()
    {
        int calls = 0;
        var op = _loop.Nop(_ => calls++);
        Assert.That(calls, Is.Zero);
        Assert.That(op.State, Is.EqualTo(OperationState.Pending).Or.EqualTo(OperationState.Completed));
        RunUntilSettled(op);
        _loop.RunOnce(TimeSpan.Zero);
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public void AcceptConnectShutdownRoundTrip()
    {
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(listener)!;
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        int accepted = -1;
        try
        {
            var accept = _loop.Accept(listener);
            var connect = _loop.Connect((int)client.Handle, ep);
            if (Fake)
            {
                var (x, y) = Posix.SocketPair();
                Posix.Close(y);
                F.Complete(accept, x);
                F.Complete(connect, 0);
            }
            RunUntilSettled(accept, connect);
            Assert.That(connect.State, Is.EqualTo(OperationState.Completed));
            accepted = accept.GetResultOrThrow();
            Assert.That(Posix.IsOpen(accepted), Is.True);
            var shut = _loop.Shutdown(accepted, SocketShutdown.Send);
            if (Fake) F.Complete(shut, 0);
            RunUntilSettled(shut);
            Assert.That(shut.State, Is.EqualTo(OperationState.Completed));
            if (!Fake) Assert.That(client.Receive(new byte[4]), Is.Zero, "the peer sees EOF after the half-close");
        }
        finally
        {
            Posix.Close(listener);
            if (accepted >= 0) Posix.Close(accepted);
        }
    }

    [Test]
    public void ConnectionsArrivingBeforeAnyoneAcceptsAreQueued()
    {
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(listener)!;
        var clients = Enumerable.Range(0, 3).Select(_ => Posix.StartTcpConnect(ep, out _)).ToArray();
        var fds = new List<int>();
        try
        {
            var accepts = Enumerable.Range(0, 3).Select(_ => _loop.Accept(listener, o => fds.Add(o.Result))).ToArray();
            if (Fake) foreach (var a in accepts) { var (x, y) = Posix.SocketPair(); Posix.Close(y); F.Complete(a, x); }
            RunUntilSettled(accepts);
            _loop.RunUntil(() => fds.Count == 3);
            Assert.That(accepts.Select(a => a.State), Is.All.EqualTo(OperationState.Completed));
            Assert.That(fds.Distinct().Count(), Is.EqualTo(3));
        }
        finally
        {
            foreach (var c in clients) Posix.Close(c);
            foreach (var f in fds) Posix.Close(f);
            Posix.Close(listener);
        }
    }

    [Test]
    public void MultishotAcceptDeliversEachConnectionAndEndsWithExactlyOneFinalCallback()
    {
        int listener = Posix.CreateTcpListener(new IPEndPoint(IPAddress.Loopback, 0));
        var ep = (IPEndPoint)Posix.GetLocalEndPoint(listener)!;
        var accepted = new List<int>();
        int finals = 0;
        int[] clients = Array.Empty<int>();
        try
        {
            var op = _loop.AcceptMultishot(listener, (_, fd) => accepted.Add(fd), _ => finals++);
            clients = Enumerable.Range(0, 2).Select(_ => Posix.StartTcpConnect(ep, out _)).ToArray();
            if (Fake) for (int i = 0; i < 2; i++) { var (x, y) = Posix.SocketPair(); Posix.Close(y); F.DeliverAccepted(op, x); }
            _loop.RunUntil(() => accepted.Count == 2);
            Assert.That(op.State, Is.EqualTo(OperationState.Pending), "the stream stays armed");
            op.Cancel();
            RunUntilSettled(op);
            _loop.RunOnce(TimeSpan.FromMilliseconds(1));
            Assert.That((op.State, finals), Is.EqualTo((OperationState.Cancelled, 1)));
        }
        finally
        {
            foreach (var c in clients) Posix.Close(c);
            foreach (var f in accepted) Posix.Close(f);
            Posix.Close(listener);
        }
    }

    [Test]
    public void MultishotReceiveRearmsAfterEnobufsAndLosesNothing()
    {
        var (a, b) = Posix.SocketPair();
        using var pool = _loop.CreateBufferPool(2, 16);
        var got = new StringBuilder();
        int finals = 0;
        try
        {
            var op = _loop.ReceiveMultishot(a, pool, (_, data) => got.Append(Encoding.ASCII.GetString(data)), _ => finals++);
            string message = string.Concat(Enumerable.Range(0, 20).Select(i => $"<{i:D2}>"));   // 80 bytes > 2 x 16
            if (Fake) for (int i = 0; i < message.Length; i += 16) F.DeliverReceived(op, A(message.Substring(i, Math.Min(16, message.Length - i))));
            else Posix.Write(b, A(message));
            _loop.RunUntil(() => got.Length == message.Length);
            Assert.That(got.ToString(), Is.EqualTo(message));
            Assert.That(op.State, Is.EqualTo(OperationState.Pending));
            // EOF ends the stream: exactly one final callback.
            if (Fake) F.Complete(op, 0); else Posix.Close(b);
            RunUntilSettled(op);
            _loop.RunOnce(TimeSpan.FromMilliseconds(1));
            Assert.That((op.State, op.Result, finals), Is.EqualTo((OperationState.Completed, 0, 1)));
        }
        finally
        {
            Posix.Close(a);
            if (Posix.IsOpen(b) && Fake) Posix.Close(b);
        }
    }
}
