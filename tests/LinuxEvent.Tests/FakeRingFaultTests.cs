namespace LinuxEvent.Tests;

/// <summary>
/// The io_uring conditions the fake proactor can now stage: a provided-buffer ring that runs dry (ENOBUFS), a full
/// completion queue (completions held back, and a multishot request ended by the overflow), and what each pending
/// operation carries (the bytes of a send, the room of a receive, the address of a connect).
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class FakeRingFaultTests(Backend backend) : FdCheckedTest
{
    private ProactorLoop _loop = null!;
    private FakeCompletions F => _loop.Fake!;

    [SetUp]
    public void CreateLoop() => _loop = (ProactorLoop)backend.Create();

    [TearDown]
    public void DisposeLoop()
    {
        Assert.That(_loop.LiveOperationCount, Is.Zero, "every operation settled");
        _loop.Dispose();
    }

    [Test]
    public void EnobufsOnAMultishotReceiveIsInvisibleLikeOnIoUring()
    {
        using var pool = _loop.CreateBufferPool(4, 16);
        var submitted = new List<Operation>();
        F.Submitted = submitted.Add;
        var chunks = new List<string>();
        int ends = 0;
        var op = _loop.ReceiveMultishot(7, pool, (_, data) => chunks.Add(System.Text.Encoding.ASCII.GetString(data)), _ => ends++);
        F.DeliverReceived(op, "one"u8);
        F.RunUntilIdle();
        F.FailNoBuffers(op);                               // the ring ran dry: the kernel ends the request...
        F.RunUntilIdle();
        Assert.That(op.State, Is.EqualTo(OperationState.Pending), "...and the loop re-arms it");
        Assert.That(ends, Is.Zero);
        Assert.That(submitted, Is.EqualTo(new[] { op, op }), "the re-arm is seen as a submission");
        F.DeliverReceived(op, "two"u8);
        F.RunUntilIdle();
        Assert.That(chunks, Is.EqualTo(new[] { "one", "two" }));

        F.CancelMode = FakeCancelMode.Scripted;
        op.Cancel();
        F.FailNoBuffers(op);                               // ENOBUFS after a cancel request ends it as cancelled
        F.RunUntilIdle();
        Assert.That(op.State, Is.EqualTo(OperationState.Cancelled));
        Assert.That(ends, Is.EqualTo(1));
        Assert.Throws<ArgumentException>(() => F.FailNoBuffers(_loop.Receive(7, new byte[1])));
        F.CancelMode = FakeCancelMode.Immediate;
        foreach (var o in F.Pending.ToArray()) F.Fail(o, 9);
        F.RunUntilIdle();
    }

    [Test]
    public void AFullCompletionQueueHoldsCompletionsBackInOrderAndLosesNone()
    {
        F.CompletionQueueCapacity = 2;
        var order = new List<int>();
        var ops = Enumerable.Range(0, 5).Select(i => _loop.Receive(7, new byte[4], _ => order.Add(i))).ToArray();
        foreach (var op in ops) F.Complete(op, 1);
        Assert.That(_loop.RunOnce(TimeSpan.Zero), Is.EqualTo(2));
        Assert.That(_loop.RunOnce(TimeSpan.Zero), Is.EqualTo(2));
        Assert.That(_loop.RunOnce(TimeSpan.Zero), Is.EqualTo(1));
        Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.CompletionQueueCapacity = -1);
    }

    [Test]
    public void AnOverflowEndsAMultishotReceiveAfterItsDataAndTheLoopReArmsIt()
    {
        using var pool = _loop.CreateBufferPool(4, 16);
        var chunks = new List<string>();
        int ends = 0;
        var op = _loop.ReceiveMultishot(7, pool, (_, data) => chunks.Add(System.Text.Encoding.ASCII.GetString(data)), _ => ends++);
        F.DeliverReceived(op, "last"u8);
        F.OverflowMultishot(op);                           // the final CQE carried data but no F_MORE
        F.RunUntilIdle();
        Assert.That(chunks, Is.EqualTo(new[] { "last" }));
        Assert.That(op.State, Is.EqualTo(OperationState.Pending), "re-armed");
        Assert.That(ends, Is.Zero);
        op.Cancel();
        F.RunUntilIdle();
        Assert.That(ends, Is.EqualTo(1));
    }

    [Test]
    public void AnOverflowEndsAMultishotAcceptAfterItsConnectionAsCompleted()
    {
        var accepted = new List<int>();
        Operation? ended = null;
        var op = _loop.AcceptMultishot(1000, (_, fd) => accepted.Add(fd), o => ended = o);
        var (x, y) = Posix.SocketPair();
        F.DeliverAccepted(op, x);
        F.OverflowMultishot(op);
        Assert.That(op.State, Is.EqualTo(OperationState.Pending), "applied at dispatch, after the connection");
        F.RunUntilIdle();
        Assert.That(accepted, Is.EqualTo(new[] { x }), "the connection is handed out, not closed as stale");
        Assert.That(ended, Is.SameAs(op));
        Assert.That(op.State, Is.EqualTo(OperationState.Completed));
        Assert.That(op.Result, Is.Zero);
        Assert.Throws<ArgumentException>(() => F.OverflowMultishot(_loop.Receive(7, new byte[1])));
        F.Fail(F.Pending.Single(), 9);
        F.RunUntilIdle();
        Posix.Close(x);
        Posix.Close(y);
    }

    [Test]
    public void TheScriptSeesWhatEachPendingOperationCarries()
    {
        var send = _loop.Send(7, "+PONG\r\n"u8.ToArray());
        var write = _loop.Write(8, new byte[] { 1, 2, 3 }, -1);
        var receive = _loop.Receive(7, new byte[64]);
        var connect = _loop.Connect(9, new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.0.0.2"), 6379));
        var shutdown = _loop.Shutdown(9, System.Net.Sockets.SocketShutdown.Send);
        Assert.That(F.GetWriteBuffer(send).Span.SequenceEqual("+PONG\r\n"u8), Is.True);
        Assert.That(F.GetWriteBuffer(write).ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(F.GetBufferLength(receive), Is.EqualTo(64));
        Assert.That(F.GetBufferLength(send), Is.EqualTo(7));
        Assert.That(F.GetConnectAddress(connect), Is.EqualTo(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.0.0.2"), 6379)));
        Assert.That(F.GetShutdownDirection(shutdown), Is.EqualTo(System.Net.Sockets.SocketShutdown.Send));
        Assert.Throws<ArgumentException>(() => F.GetWriteBuffer(receive));
        Assert.Throws<ArgumentException>(() => F.GetBufferLength(connect));
        Assert.Throws<ArgumentException>(() => F.GetConnectAddress(send));
        Assert.Throws<ArgumentException>(() => F.GetShutdownDirection(send));
        F.Complete(send, 7);
        F.RunUntilIdle();
        Assert.Throws<InvalidOperationException>(() => F.GetWriteBuffer(send), "settled: its buffer is the owner's again");
        foreach (var o in F.Pending.ToArray()) F.Fail(o, 9);
        F.RunUntilIdle();
    }
}
