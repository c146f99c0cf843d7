using System.Diagnostics;
using LinuxEvent.Native;

namespace LinuxEvent.Tests;

/// <summary>
/// A watched fd closed while a duplicate keeps its file open leaves an epoll item nobody can remove by number; a
/// hang-up on it used to come back from every wait, a busy loop. The loop detects it and rebuilds its epoll set.
/// </summary>
[TestFixtureSource(typeof(Backends), nameof(Backends.RealReactors))]
public class ZombieRegistrationTests(Backend backend) : FdCheckedTest
{
    /// <summary>Iterations a loop runs in <paramref name="window"/> of wall time with 20 ms waits: a quiet loop runs
    /// about window/20 ms of them, a busy one thousands.</summary>
    private static int IterationsIn(Loop loop, TimeSpan window)
    {
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (sw.Elapsed < window) { loop.RunOnce(TimeSpan.FromMilliseconds(20)); n++; }
        return n;
    }

    [Test]
    public void ClosingAWatchedFdWhoseDuplicateStaysOpenDoesNotBusyLoop()
    {
        using var loop = (ReactorLoop)backend.Create();
        var errors = new List<Exception>();
        loop.UnhandledException = (_, e) => errors.Add(e);
        var (a, b) = Posix.SocketPair();
        int dup = Libc.Fcntl(a, Libc.F_DUPFD_CLOEXEC, 0);
        Assert.That(dup, Is.GreaterThanOrEqualTo(0));
        try
        {
            int reads = 0;
            var w = loop.Watch(a, WatchOptions.Read, _ => reads++, null);
            Posix.Close(a);                         // closed while watched; the duplicate keeps the file registered
            Posix.Close(b);                         // the peer hangs up: level-triggered EPOLLIN|EPOLLHUP from now on
            int iterations = IterationsIn(loop, TimeSpan.FromMilliseconds(400));
            Assert.That(iterations, Is.LessThan(200), "the loop must not spin on an item it cannot remove");
            Assert.That(w.IsActive, Is.False);
            Assert.That(errors.OfType<LinuxEventException>().Single().Message, Does.Contain("closed while still watched"));
            Assert.That(reads, Is.LessThan(5));
        }
        finally { Posix.Close(dup); }
    }

    [Test]
    public void CancellingAfterTheCloseDoesNotLeaveAZombieThatSpins()
    {
        using var loop = (ReactorLoop)backend.Create();
        var (a, b) = Posix.SocketPair();
        int dup = Libc.Fcntl(a, Libc.F_DUPFD_CLOEXEC, 0);
        try
        {
            var w = loop.Watch(a, WatchOptions.Read, _ => { }, null);
            Posix.Close(a);
            w.Cancel();                             // EPOLL_CTL_DEL by number fails (EBADF): the item stays in the set
            Posix.Close(b);
            int iterations = IterationsIn(loop, TimeSpan.FromMilliseconds(400));
            Assert.That(iterations, Is.LessThan(200), "stale reports for a cancelled watcher must not spin the loop");
            // The loop still works: a new watch on a fresh pair is served.
            var (c, d) = Posix.SocketPair();
            bool readable = false;
            using var w2 = loop.Watch(c, WatchOptions.Read, _ => readable = true, null);
            Posix.Write(d, "x"u8);
            loop.RunUntil(() => readable, TimeSpan.FromSeconds(5));
            w2.Cancel();
            Posix.Close(c);
            Posix.Close(d);
        }
        finally { Posix.Close(dup); }
    }
}
