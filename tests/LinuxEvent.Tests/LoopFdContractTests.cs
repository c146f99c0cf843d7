using System.Text;

namespace LinuxEvent.Tests;

/// <summary>
/// <see cref="LoopFd"/> (Loop.Register) contract, written once and run on every backend. Bytes reach the registered
/// end through <see cref="Wire"/>, the backend's own way of delivering them.
/// </summary>
[TestFixtureSource(typeof(UringTiers), nameof(UringTiers.AllWithRegisteredFiles))]
public class LoopFdContractTests(Backend backend) : FdCheckedTest
{
    [Test]
    public void ReceiveAndSendThroughARegistrationLookLikeBlockingCode()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        var got = new List<string>();
        using var fd = loop.Register(wire.Local);
        loop.Run(async () =>
        {
            var buf = new byte[64];
            for (int round = 0; round < 3; round++)
            {
                // Each receive parks first (nothing there yet), then gets a short read; the next one must still wake.
                var receive = loop.Spawn(async () => { int n = await fd.ReceiveAsync(buf); got.Add(Encoding.ASCII.GetString(buf, 0, n)); });
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                wire.Deliver("msg" + round);
                await receive;
                var send = fd.SendAsync(Encoding.ASCII.GetBytes("ack" + round));
                if (loop is ProactorLoop { Fake: { } fake })     // the fake moves no bytes: its script completes the send
                    fake.Complete(fake.Pending.First(o => o.Kind == OperationKind.Send && o.FileDescriptor == wire.Local), 4);
                Assert.That(await send, Is.EqualTo(4));
                if (loop is not ProactorLoop { Fake: not null }) Assert.That(wire.ReadRemote(), Is.EqualTo("ack" + round));
            }
        });
        Assert.That(fd.IsDisposed, Is.False);
        Assert.That(got, Is.EqualTo(new[] { "msg0", "msg1", "msg2" }));
    }

    [Test]
    public void ASecondPendingOperationOnTheSameSideFailsClearly()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        using var fd = loop.Register(wire.Local);
        InvalidOperationException? second = null;
        string first = "";
        loop.Run(async () =>
        {
            var buf = new byte[16];
            var pending = fd.ReceiveAsync(buf).AsTask();
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            try { await fd.ReceiveAsync(new byte[16]); }
            catch (InvalidOperationException e) { second = e; }
            wire.Deliver("one");
            first = Encoding.ASCII.GetString(buf, 0, await pending);
        });
        Assert.That(second?.Message, Does.Contain("read-side").And.Contain($"fd {wire.Local}"));
        Assert.That(first, Is.EqualTo("one"), "the first receive was not disturbed");
    }

    [Test]
    public void DisposeFailsThePendingReceiveWithObjectDisposedAndClosesAnOwnedFd()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        Exception? pendingError = null;
        try
        {
            var fd = loop.Register(local, ownsFd: true);
            loop.Run(async () =>
            {
                var pending = fd.ReceiveAsync(new byte[16]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                fd.Dispose();
                try { await pending; } catch (Exception e) { pendingError = e; }
            });
            Assert.That(pendingError, Is.InstanceOf<ObjectDisposedException>());
            Assert.That(Posix.IsOpen(local), Is.False, "the owned fd was closed");
            Assert.That(fd.IsDisposed, Is.True);
            var after = Assert.Throws<ObjectDisposedException>(() => fd.ReceiveAsync(new byte[4]));
            Assert.That(after!.Message, Does.Contain("LoopFd.ReceiveAsync"));
            fd.Dispose();                                      // idempotent: closes nothing twice
            if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero);
        }
        finally { Posix.Close(remote); }
    }

    [Test]
    public void AFdThatIsNotOwnedStaysOpenAndCanBeRegisteredAgain()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        loop.Register(wire.Local).Dispose();
        Assert.That(Posix.IsOpen(wire.Local), Is.True);
        using var again = loop.Register(wire.Local);
        string got = "";
        loop.Run(async () =>
        {
            var buf = new byte[8];
            var t = loop.Spawn(async () => got = Encoding.ASCII.GetString(buf, 0, await again.ReceiveAsync(buf)));
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            wire.Deliver("back");
            await t;
        });
        Assert.That(got, Is.EqualTo("back"));
    }

    [Test]
    public void ACancelledReceiveLeavesTheRegistrationUsable()
    {
        using var loop = backend.Create();
        using var wire = new Wire(loop);
        using var fd = loop.Register(wire.Local);
        using var cts = new CancellationTokenSource();
        Exception? cancelled = null;
        string later = "";
        loop.Run(async () =>
        {
            var pending = fd.ReceiveAsync(new byte[8], cts.Token).AsTask();
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            cts.Cancel();
            try { await pending; } catch (Exception e) { cancelled = e; }
            var buf = new byte[8];
            var t = loop.Spawn(async () => later = Encoding.ASCII.GetString(buf, 0, await fd.ReceiveAsync(buf)));
            await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            wire.Deliver("late");
            await t;
        });
        Assert.That(cancelled, Is.InstanceOf<OperationCanceledException>());
        Assert.That(later, Is.EqualTo("late"));
    }

    [Test]
    public void DisposingTheLoopFailsPendingOperationsAndClosesOwnedFds()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        Task<int>? pending = null;
        LoopFd? fd = null;
        try
        {
            fd = loop.Register(a, ownsFd: true);
            loop.Run(async () =>
            {
                pending = fd.ReceiveAsync(new byte[8]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
            });
            loop.Dispose();
            Assert.That(pending!.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>(), "same outcome on every backend");
            Assert.That(fd.IsDisposed, Is.True);
            Assert.That(Posix.IsOpen(a), Is.False, "the owned fd was closed with the loop");
            var (r, w) = Posix.Pipe();                     // takes the number just released
            fd.Dispose();                                  // must not close it again
            Assert.That(Posix.IsOpen(r) && Posix.IsOpen(w), Is.True, "a later Dispose closed nothing more");
            Posix.Close(r);
            Posix.Close(w);
        }
        finally
        {
            loop.Dispose();
            Posix.Close(b);
        }
    }

    [Test]
    public void FdNumberCallsOnARegisteredFdShareItsRegistration()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        try
        {
            var fd = loop.Register(local);
            Assert.That(Assert.Throws<InvalidOperationException>(() => loop.Register(local))!.Message, Does.Contain("already registered"));
            Exception? second = null, pendingError = null;
            loop.Run(async () =>
            {
                var pending = loop.ReceiveAsync(local, new byte[8]).AsTask();     // by number, on a registered fd
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                try { await fd.ReceiveAsync(new byte[8]); } catch (Exception e) { second = e; }
                fd.Dispose();                                                     // must settle the fd-number receive too
                try { await pending; } catch (Exception e) { pendingError = e; }
            });
            Assert.That(second, Is.InstanceOf<InvalidOperationException>(), "one read-side operation at a time, across both APIs");
            Assert.That(pendingError, Is.InstanceOf<ObjectDisposedException>());
            if (loop is ProactorLoop p) Assert.That(p.LiveOperationCount, Is.Zero);
        }
        finally { Posix.Close(local); Posix.Close(remote); }
    }

    [Test]
    public void DisposingAfterTheLoopsDisposalWasRequestedInTheSameIterationWorks()
    {
        var loop = backend.Create();
        var (a, b) = Posix.SocketPair();
        Task<int>? pending = null;
        Exception? disposeError = null;
        LoopFd? fd = null;
        try
        {
            fd = loop.Register(a, ownsFd: true);
            loop.Run(async () =>
            {
                pending = fd.ReceiveAsync(new byte[8]).AsTask();
                await loop.DelayAsync(TimeSpan.FromMilliseconds(1));
                loop.Dispose();                            // requested: the loop disposes when this iteration ends
                try { fd.Dispose(); } catch (Exception e) { disposeError = e; }
            });
            Assert.That(disposeError, Is.Null, "LoopFd.Dispose stays valid once the loop's disposal is requested");
            Assert.That(fd.IsDisposed, Is.True);
            Assert.That(Posix.IsOpen(a), Is.False, "the owned fd was closed");
            Assert.That(pending!.Exception?.InnerException, Is.InstanceOf<ObjectDisposedException>());
        }
        finally
        {
            loop.Dispose();
            Posix.Close(b);
        }
    }

    [Test]
    public void RegisterRefusesBadArgumentsWithoutTakingOwnership()
    {
        using var loop = backend.Create();
        var (local, remote) = Posix.SocketPair();
        Posix.Close(remote);                                   // a closed fd number
        Assert.Throws<ArgumentOutOfRangeException>(() => loop.Register(-1));
        var ex = Assert.Throws<LinuxEventException>(() => loop.Register(remote, ownsFd: true));
        Assert.That(ex!.ErrnoName, Is.EqualTo("EBADF"));
        Assert.That(ex.Call, Does.Contain("Register"));
        Assert.That(Posix.IsOpen(remote), Is.False);
        Posix.Close(local);
    }
}
