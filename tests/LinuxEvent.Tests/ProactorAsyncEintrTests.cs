namespace LinuxEvent.Tests;

/// <summary>
/// Regression (found by the simulation, chat scenario on the proactor): io_uring may complete a receive or send with
/// -EINTR (a request interrupted before it transferred anything). The reactor's syscalls retry EINTR inside, so the
/// async API must not surface it on the proactor either: the example chat server dropped a healthy client because its
/// SendAsync threw EINTR on the proactor only.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.FakeProactors))]
public class ProactorAsyncEintrTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void AnInterruptedReceiveOrSendIsRetriedNotThrown()
    {
        using var loop = (ProactorLoop)backend.Create();
        var fake = loop.Fake!;
        var buffer = new byte[8];
        var receive = loop.ReceiveAsync(5, buffer).AsTask();
        var send = loop.SendAsync(5, "hello"u8.ToArray()).AsTask();
        fake.Fail(fake.Pending.Single(o => o.Kind == OperationKind.Receive), Errno.EINTR);
        fake.Fail(fake.Pending.Single(o => o.Kind == OperationKind.Send), Errno.EINTR);
        fake.RunUntilIdle();
        Assert.That(receive.IsCompleted || send.IsCompleted, Is.False, "EINTR is not an outcome: the operations were resubmitted");
        var retriedSend = fake.Pending.Single(o => o.Kind == OperationKind.Send);
        Assert.That(fake.GetWriteBuffer(retriedSend).Span.SequenceEqual("hello"u8), Is.True, "the same bytes, from the start");
        fake.CompleteReceive(fake.Pending.Single(o => o.Kind == OperationKind.Receive), "abc"u8);
        fake.Complete(retriedSend, 5);
        fake.RunUntilIdle();
        Assert.That(receive.Result, Is.EqualTo(3));
        Assert.That(send.Result, Is.EqualTo(5));
        Assert.That(loop.LiveOperationCount, Is.Zero);
    }

    [Test]
    public void AnInterruptedReceiveWhoseTokenFiredMeanwhileIsCancelled()
    {
        using var loop = (ProactorLoop)backend.Create();
        var fake = loop.Fake!;
        using var cts = new CancellationTokenSource();
        var receive = loop.ReceiveAsync(5, new byte[8], cts.Token).AsTask();
        fake.Fail(fake.Pending.Single(), Errno.EINTR);
        cts.Cancel();                                   // reaches the loop after the EINTR completion
        fake.RunUntilIdle();
        Assert.That(receive.IsCanceled, Is.True);
        Assert.That(loop.LiveOperationCount, Is.Zero, "not resubmitted");
    }

    [Test]
    public void OtherErrorsStillFail()
    {
        using var loop = (ProactorLoop)backend.Create();
        var fake = loop.Fake!;
        var receive = loop.ReceiveAsync(5, new byte[8]).AsTask();
        fake.Fail(fake.Pending.Single(), Errno.ECONNRESET);
        fake.RunUntilIdle();
        Assert.That(receive.Exception!.InnerException, Is.TypeOf<LinuxEventSocketException>().With.Property("Errno").EqualTo(Errno.ECONNRESET));
    }
}
