namespace LinuxEvent.Tests;

/// <summary>Rules that only the reactor's persistent registration has, on epoll and on the fake.</summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.Reactors))]
public class LoopFdReactorTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ARegisteredFdHasOneEdgeTriggeredRegistrationAndRefusesOtherOwners()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            var fd = loop.Register(a);
            if (loop.Fake is { } fake)
            {
                Assert.That(fake.TryGetInterest(a, out var interest), Is.True);
                Assert.That(interest, Is.EqualTo(WatchOptions.Read | WatchOptions.Write | WatchOptions.EdgeTriggered));
            }
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Register(a))!.Message, Does.Contain("already registered"));
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Watch(a, WatchOptions.Read, _ => { }, null))!.Message, Does.Contain("Loop.Register"));
            Assert.Throws<InvalidOperationException>(() => loop.Unwatch(a));
            fd.Dispose();
            var w = loop.Watch(a, WatchOptions.Read, _ => { }, null);     // free again
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Register(a))!.Message, Does.Contain("Watcher"));
            w.Cancel();
            if (loop.Fake is { } f2) Assert.That(f2.TryGetInterest(a, out _), Is.False, "disposing removed the registration");
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }

    [Test]
    public void WaitReadableOnARegisteredFdSeesDataThatIsAlreadyThere()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        try
        {
            using var fd = loop.Register(a);
            bool immediate = false;
            loop.Run(async () =>
            {
                // Consume the registration's first edge so that no edge is outstanding, then make data arrive.
                var t = fd.ReceiveAsync(new byte[1]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                Posix.Write(b, "xy"u8);
                loop.Fake?.Inject(a, Readiness.Readable);
                await t;                                         // full read of 1 byte: "y" is still queued
                var wait = loop.WaitReadableAsync(a);
                immediate = wait.IsCompleted;
                await wait;
            });
            Assert.That(immediate, Is.True, "the level was checked, not only future edges");
        }
        finally { Posix.Close(a); Posix.Close(b); }
    }
}
