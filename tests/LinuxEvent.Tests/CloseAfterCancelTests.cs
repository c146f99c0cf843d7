namespace LinuxEvent.Tests;

/// <summary>CloseAfterCancel cancels every operation that names the fd, also a splice writing into it.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Proactors))]
public class CloseAfterCancelTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ASpliceWhoseOutputIsTheClosedFdIsCancelled()
    {
        var (pr, pw) = Posix.Pipe();
        var (a, b) = Posix.SocketPair();
        try
        {
            using var loop = (ProactorLoop)backend.Create();
            // The pipe is empty, so the splice into socket a blocks until cancelled.
            var splice = loop.Splice(pr, a, 4096);
            var close = loop.CloseAfterCancel(a);
            if (loop.Fake is { } fake) fake.Complete(close, 0);
            loop.RunUntil(() => splice.IsSettled && close.IsSettled, TimeSpan.FromSeconds(5));
            Assert.That(splice.State, Is.EqualTo(OperationState.Cancelled), "the splice writing into the closed fd is cancelled");
            if (loop.Fake is null) Assert.That(close.State, Is.EqualTo(OperationState.Completed));
            else Posix.Close(a);
        }
        finally
        {
            Posix.Close(pr);
            Posix.Close(pw);
            Posix.Close(b);
        }
    }
}
